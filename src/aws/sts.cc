#include "aws/sts.h"

#include <utility>

#include "aws/call_support.h"

namespace hivemind::aws::sts {

AwsResult<CallerIdentity> get_caller_identity(AwsClient& client) {
  AwsResult<XmlResponse> response = client.query(sts_service(), "GetCallerIdentity", {});
  if (!response.ok()) return fail(std::move(response).error());
  const pugi::xml_node result = response->result;
  return CallerIdentity{calls::text(result, "Account"), calls::text(result, "Arn"), calls::text(result, "UserId")};
}

}  // namespace hivemind::aws::sts
