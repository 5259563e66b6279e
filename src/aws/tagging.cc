#include "aws/tagging.h"

#include <utility>

namespace hivemind::aws::tagging {

AwsResult<std::vector<TaggedResource>> get_resources(AwsClient& client, const std::vector<TagFilter>& filters,
                                                     const std::vector<std::string>& resource_types, int page_size) {
  nlohmann::json body = nlohmann::json::object();
  nlohmann::json tag_filters = nlohmann::json::array();
  for (const TagFilter& filter : filters) {
    nlohmann::json item{{"Key", filter.key}};
    if (!filter.values.empty()) item["Values"] = filter.values;
    tag_filters.push_back(std::move(item));
  }
  if (!tag_filters.empty()) body["TagFilters"] = std::move(tag_filters);
  if (!resource_types.empty()) body["ResourceTypeFilters"] = resource_types;
  if (page_size > 0) body["ResourcesPerPage"] = page_size;

  std::vector<TaggedResource> resources;
  AwsResult<Unit> paged = calls::json_pages(
      client, tagging_service(), "GetResources", std::move(body), "PaginationToken", [&](const nlohmann::json& page) {
        for (const nlohmann::json& item : page.value("ResourceTagMappingList", nlohmann::json::array())) {
          resources.push_back(TaggedResource{calls::json_string(item, "ResourceARN"),
                                             calls::tags_from_list(item.value("Tags", nlohmann::json::array()))});
        }
      });
  if (!paged.ok()) return fail(std::move(paged).error());
  return resources;
}

}  // namespace hivemind::aws::tagging
