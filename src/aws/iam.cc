#include "aws/iam.h"

#include <algorithm>
#include <utility>

#include "aws/call_support.h"

namespace hivemind::aws {
namespace {

constexpr ServiceSpec kIam{"iam", "iam", "iam", "2010-05-08", Protocol::kQuery, "", "iam", "iam"};

// NOTE: IAM documents no limit on ActionNames; chunks of 50 keep each
// request small and are an assumption, not a documented maximum.
constexpr std::size_t kActionsPerCall = 50;

}  // namespace

const ServiceSpec& iam_service() { return kIam; }

namespace iam {

AwsResult<std::vector<ActionDecision>> simulate_principal_policy(AwsClient& client, const std::string& principal_arn,
                                                                 const std::vector<std::string>& actions) {
  std::vector<ActionDecision> decisions;
  for (std::size_t first = 0; first < actions.size(); first += kActionsPerCall) {
    QueryParams params{{"PolicySourceArn", principal_arn}};
    std::vector<std::string> chunk(
        actions.begin() + static_cast<std::ptrdiff_t>(first),
        actions.begin() + static_cast<std::ptrdiff_t>(std::min(actions.size(), first + kActionsPerCall)));
    calls::append_list(params, "ActionNames.member", chunk);

    AwsResult<Unit> paged =
        calls::query_pages(client, iam_service(), "SimulatePrincipalPolicy", std::move(params), "Marker", "Marker",
                           [&](pugi::xml_node page) {
                             for (pugi::xml_node member : page.child("EvaluationResults").children("member")) {
                               decisions.push_back(ActionDecision{calls::text(member, "EvalActionName"),
                                                                  calls::text(member, "EvalDecision")});
                             }
                           });
    if (!paged.ok()) return fail(std::move(paged).error());
  }
  return decisions;
}

std::string principal_from_caller_arn(const std::string& caller_arn) {
  // arn:aws:sts::<account>:assumed-role/<role>/<session>
  const std::string marker = ":assumed-role/";
  std::size_t at = caller_arn.find(marker);
  if (caller_arn.rfind("arn:", 0) != 0 || at == std::string::npos) return caller_arn;

  std::string prefix = caller_arn.substr(0, at);  // arn:<partition>:sts::<account>
  std::string rest = caller_arn.substr(at + marker.size());
  std::string role = rest.substr(0, rest.find('/'));
  std::size_t sts = prefix.find(":sts:");
  if (sts == std::string::npos) return caller_arn;
  return prefix.substr(0, sts) + ":iam:" + prefix.substr(sts + 5) + ":role/" + role;
}

}  // namespace iam
}  // namespace hivemind::aws
