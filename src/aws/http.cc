#include "aws/http.h"
