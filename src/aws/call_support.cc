#include "aws/call_support.h"

#include <string>
#include <utility>

namespace hivemind::aws {

std::string find_tag(const Tags& tags, std::string_view key) {
  for (const Tag& tag : tags) {
    if (tag.key == key) return tag.value;
  }
  return {};
}

Filter tag_filter(std::string_view key, std::vector<std::string> values) {
  return Filter{"tag:" + std::string(key), std::move(values)};
}

Filter tag_key_filter(std::string_view key) { return Filter{"tag-key", {std::string(key)}}; }

namespace calls {
namespace {

// A page token that comes back unchanged would loop forever; AWS never does
// that, so it is reported as a malformed response.
AwsError repeated_token_error(const ServiceSpec& service, std::string_view action, const std::string& token) {
  AwsError error;
  error.kind = ErrorKind::kParse;
  error.service = std::string(service.id);
  error.operation = std::string(action);
  error.code = kParseMalformedResponse;
  error.message = "the response returned the same page token twice (" + token + "), so paging stopped";
  return error;
}

}  // namespace

void append_list(QueryParams& params, std::string_view prefix, const std::vector<std::string>& items) {
  for (std::size_t i = 0; i < items.size(); ++i) {
    params.emplace_back(std::string(prefix) + "." + std::to_string(i + 1), items[i]);
  }
}

void append_filters(QueryParams& params, const std::vector<Filter>& filters) {
  for (std::size_t i = 0; i < filters.size(); ++i) {
    std::string prefix = "Filter." + std::to_string(i + 1);
    params.emplace_back(prefix + ".Name", filters[i].name);
    append_list(params, prefix + ".Value", filters[i].values);
  }
}

void append_tag_specification(QueryParams& params, int index, std::string_view resource_type, const Tags& tags) {
  if (tags.empty()) return;
  std::string prefix = "TagSpecification." + std::to_string(index);
  params.emplace_back(prefix + ".ResourceType", std::string(resource_type));
  for (std::size_t i = 0; i < tags.size(); ++i) {
    std::string tag_prefix = prefix + ".Tag." + std::to_string(i + 1);
    params.emplace_back(tag_prefix + ".Key", tags[i].key);
    params.emplace_back(tag_prefix + ".Value", tags[i].value);
  }
}

void append_member_tags(QueryParams& params, std::string_view prefix, const Tags& tags) {
  for (std::size_t i = 0; i < tags.size(); ++i) {
    std::string tag_prefix = std::string(prefix) + ".member." + std::to_string(i + 1);
    params.emplace_back(tag_prefix + ".Key", tags[i].key);
    params.emplace_back(tag_prefix + ".Value", tags[i].value);
  }
}

std::string text(pugi::xml_node node, const char* child) { return node.child(child).text().as_string(); }

int int_value(pugi::xml_node node, const char* child, int fallback) {
  return node.child(child).text().as_int(fallback);
}

bool bool_value(pugi::xml_node node, const char* child) { return node.child(child).text().as_bool(false); }

Tags ec2_tags(pugi::xml_node parent) {
  Tags tags;
  for (pugi::xml_node item : parent.child("tagSet").children("item")) {
    tags.push_back(Tag{text(item, "key"), text(item, "value")});
  }
  return tags;
}

Tags member_tags(pugi::xml_node list) {
  Tags tags;
  for (pugi::xml_node member : list.children("member")) {
    tags.push_back(Tag{text(member, "Key"), text(member, "Value")});
  }
  return tags;
}

std::vector<std::string> string_list(pugi::xml_node list) {
  std::vector<std::string> items;
  for (pugi::xml_node child : list.children()) {
    std::string_view name = child.name();
    if (name == "member" || name == "item") items.emplace_back(child.text().as_string());
  }
  return items;
}

nlohmann::json tags_as_map(const Tags& tags) {
  nlohmann::json map = nlohmann::json::object();
  for (const Tag& tag : tags) map[tag.key] = tag.value;
  return map;
}

nlohmann::json tags_as_list(const Tags& tags) {
  nlohmann::json list = nlohmann::json::array();
  for (const Tag& tag : tags) list.push_back({{"Key", tag.key}, {"Value", tag.value}});
  return list;
}

Tags tags_from_list(const nlohmann::json& list) {
  Tags tags;
  if (!list.is_array()) return tags;
  for (const nlohmann::json& item : list) tags.push_back(Tag{json_string(item, "Key"), json_string(item, "Value")});
  return tags;
}

std::string json_string(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return {};
  auto found = object.find(key);
  if (found == object.end() || !found->is_string()) return {};
  return found->get<std::string>();
}

AwsResult<Unit> query_pages(AwsClient& client, const ServiceSpec& service, std::string_view action, QueryParams params,
                            std::string_view token_param, const char* token_path,
                            const std::function<void(pugi::xml_node)>& on_page) {
  const std::size_t base_size = params.size();
  std::string token;
  while (true) {
    params.resize(base_size);
    if (!token.empty()) params.emplace_back(std::string(token_param), token);

    AwsResult<XmlResponse> page = client.query(service, action, params);
    if (!page.ok()) return fail(std::move(page).error());
    on_page(page->result);

    std::string next = text(page->result, token_path);
    if (next.empty()) return ok_unit();
    if (next == token) return fail(repeated_token_error(service, action, next));
    token = std::move(next);
  }
}

AwsResult<Unit> json_pages(AwsClient& client, const ServiceSpec& service, std::string_view operation,
                           nlohmann::json body, const char* token_field,
                           const std::function<void(const nlohmann::json&)>& on_page) {
  std::string token;
  while (true) {
    if (token.empty()) {
      body.erase(token_field);
    } else {
      body[token_field] = token;
    }

    AwsResult<JsonResponse> page = client.json(service, operation, body);
    if (!page.ok()) return fail(std::move(page).error());
    on_page(page->body);

    std::string next = json_string(page->body, token_field);
    if (next.empty()) return ok_unit();
    if (next == token) return fail(repeated_token_error(service, operation, next));
    token = std::move(next);
  }
}

AwsResult<Unit> query_status(AwsClient& client, const ServiceSpec& service, std::string_view action,
                             const QueryParams& params) {
  AwsResult<XmlResponse> response = client.query(service, action, params);
  if (!response.ok()) return fail(std::move(response).error());
  return ok_unit();
}

AwsResult<Unit> json_status(AwsClient& client, const ServiceSpec& service, std::string_view operation,
                            const nlohmann::json& body) {
  AwsResult<JsonResponse> response = client.json(service, operation, body);
  if (!response.ok()) return fail(std::move(response).error());
  return ok_unit();
}

}  // namespace calls
}  // namespace hivemind::aws
