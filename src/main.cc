#include "cli/app.h"

int main(int argc, char** argv) { return hivemind::cli::run(argc, argv); }
