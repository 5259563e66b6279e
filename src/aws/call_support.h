#pragma once

// Pieces shared by the typed calls (ec2.h, elbv2.h, rds.h, ...): tags, EC2
// filters, flattening lists into query parameters, reading response fields,
// and the loops that follow a paginated API to its last page.

#include <functional>
#include <nlohmann/json.hpp>
#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "aws/client.h"

namespace hivemind::aws {

struct Tag {
  std::string key;
  std::string value;

  friend bool operator==(const Tag&, const Tag&) = default;
};
using Tags = std::vector<Tag>;

// Returns the value of tag `key`, or an empty string when it is absent.
std::string find_tag(const Tags& tags, std::string_view key);

// One EC2 Describe filter: Filter.N.Name with values Filter.N.Value.M.
struct Filter {
  std::string name;
  std::vector<std::string> values;
};

// Matches resources whose tag `key` has one of `values` ("tag:<key>").
Filter tag_filter(std::string_view key, std::vector<std::string> values);
// Matches resources that carry tag `key` with any value ("tag-key").
Filter tag_key_filter(std::string_view key);

namespace calls {

// Appends <prefix>.1, <prefix>.2, ... for each item (EC2 and query lists).
void append_list(QueryParams& params, std::string_view prefix, const std::vector<std::string>& items);
void append_filters(QueryParams& params, const std::vector<Filter>& filters);
// Appends TagSpecification.<index>.ResourceType and its Tag.N.Key/Value.
void append_tag_specification(QueryParams& params, int index, std::string_view resource_type, const Tags& tags);
// Appends <prefix>.member.N.Key/Value (ELBv2, RDS, CloudWatch).
void append_member_tags(QueryParams& params, std::string_view prefix, const Tags& tags);

std::string text(pugi::xml_node node, const char* child);
int int_value(pugi::xml_node node, const char* child, int fallback = 0);
bool bool_value(pugi::xml_node node, const char* child);
// Reads EC2's <tagSet><item><key/><value/></item></tagSet>.
Tags ec2_tags(pugi::xml_node parent);
// Reads <member><Key/><Value/></member> children of `list`.
Tags member_tags(pugi::xml_node list);
// Reads the text of each <member> (query) or <item> (EC2) child of `list`.
std::vector<std::string> string_list(pugi::xml_node list);

// {"key": "value", ...}: the tags shape of CloudWatch Logs.
nlohmann::json tags_as_map(const Tags& tags);
// [{"Key": ..., "Value": ...}]: the tags shape of SSM, Cost Explorer, etc.
nlohmann::json tags_as_list(const Tags& tags);
Tags tags_from_list(const nlohmann::json& list);

std::string json_string(const nlohmann::json& object, const char* key);

// Sends `action` again and again, passing the previous response's token in
// `token_param`, until the response at `token_path` (a child of the result
// element, e.g. "nextToken" or "NextMarker") is empty. `on_page` reads each
// page's result element.
AwsResult<Unit> query_pages(AwsClient& client, const ServiceSpec& service, std::string_view action, QueryParams params,
                            std::string_view token_param, const char* token_path,
                            const std::function<void(pugi::xml_node)>& on_page);

// The same loop for JSON 1.1 services: the token is the body member
// `token_field` both ways ("NextToken", "nextToken", "PaginationToken"...).
AwsResult<Unit> json_pages(AwsClient& client, const ServiceSpec& service, std::string_view operation,
                           nlohmann::json body, const char* token_field,
                           const std::function<void(const nlohmann::json&)>& on_page);

// Sends `action` and drops the response body: for calls that return nothing
// HiveMind reads.
AwsResult<Unit> query_status(AwsClient& client, const ServiceSpec& service, std::string_view action,
                             const QueryParams& params);
AwsResult<Unit> json_status(AwsClient& client, const ServiceSpec& service, std::string_view operation,
                            const nlohmann::json& body);

}  // namespace calls
}  // namespace hivemind::aws
