#include "aws/ssm.h"

#include <string>
#include <utility>

namespace hivemind::aws::ssm {
namespace {

using nlohmann::json;

Parameter parse_parameter(const json& item) {
  Parameter parameter;
  parameter.name = calls::json_string(item, "Name");
  parameter.type = calls::json_string(item, "Type");
  parameter.value = Secret(calls::json_string(item, "Value"));
  parameter.version = item.value("Version", 0LL);
  parameter.arn = calls::json_string(item, "ARN");
  return parameter;
}

AwsResult<long long> send_put(AwsClient& client, const PutParameterRequest& request, bool overwrite) {
  json body{{"Name", request.name}, {"Value", request.value.reveal()}, {"Type", request.type}};
  if (!request.description.empty()) body["Description"] = request.description;
  if (overwrite) {
    body["Overwrite"] = true;
  } else if (!request.tags.empty()) {
    body["Tags"] = calls::tags_as_list(request.tags);
  }

  AwsResult<JsonResponse> response = client.json(ssm_service(), "PutParameter", body);
  if (!response.ok()) return fail(std::move(response).error());
  return response->body.value("Version", 0LL);
}

}  // namespace

AwsResult<long long> put_parameter(AwsClient& client, const PutParameterRequest& request) {
  // Creating first keeps the tags on a new parameter, because AWS accepts
  // Tags only without Overwrite.
  AwsResult<long long> created = send_put(client, request, false);
  if (created.ok() || !request.overwrite || created.error().code != "ParameterAlreadyExists") return created;
  return send_put(client, request, true);
}

AwsResult<Parameter> get_parameter(AwsClient& client, const std::string& name, bool with_decryption) {
  AwsResult<JsonResponse> response =
      client.json(ssm_service(), "GetParameter", {{"Name", name}, {"WithDecryption", with_decryption}});
  if (!response.ok()) return fail(std::move(response).error());
  return parse_parameter(response->body.value("Parameter", json::object()));
}

AwsResult<Unit> delete_parameter(AwsClient& client, const std::string& name) {
  return calls::json_status(client, ssm_service(), "DeleteParameter", {{"Name", name}});
}

AwsResult<std::vector<Parameter>> get_parameters_by_path(AwsClient& client, const std::string& path, bool recursive,
                                                         bool with_decryption, int page_size) {
  json body{{"Path", path}, {"Recursive", recursive}, {"WithDecryption", with_decryption}};
  if (page_size > 0) body["MaxResults"] = page_size;

  std::vector<Parameter> parameters;
  AwsResult<Unit> paged = calls::json_pages(client, ssm_service(), "GetParametersByPath", std::move(body), "NextToken",
                                            [&](const json& page) {
                                              for (const json& item : page.value("Parameters", json::array())) {
                                                parameters.push_back(parse_parameter(item));
                                              }
                                            });
  if (!paged.ok()) return fail(std::move(paged).error());
  return parameters;
}

AwsResult<std::string> latest_al2023_ami(AwsClient& client) {
  AwsResult<Parameter> parameter = get_parameter(client, kAl2023AmiParameter, false);
  if (!parameter.ok()) return fail(std::move(parameter).error());
  return parameter->value.reveal();
}

}  // namespace hivemind::aws::ssm
