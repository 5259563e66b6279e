#pragma once

// Typed Resource Groups Tagging call: every resource of the region that
// carries given tags, whatever its service. HiveMind's teardown uses it to
// find what a deployment created. Follows PaginationToken to the last page.

#include <string>
#include <vector>

#include "aws/call_support.h"
#include "aws/client.h"

namespace hivemind::aws::tagging {

// Matches resources whose tag `key` has one of `values`, or any value when
// `values` is empty.
struct TagFilter {
  std::string key;
  std::vector<std::string> values;
};

struct TaggedResource {
  std::string arn;
  Tags tags;
};

// Resources matching every filter. `resource_types` narrows the search, e.g.
// {"ec2:instance", "elasticloadbalancing:loadbalancer", "rds:db"}.
// `page_size` 0 lets AWS choose (otherwise ResourcesPerPage, 1 to 100).
AwsResult<std::vector<TaggedResource>> get_resources(AwsClient& client, const std::vector<TagFilter>& filters,
                                                     const std::vector<std::string>& resource_types = {},
                                                     int page_size = 0);

}  // namespace hivemind::aws::tagging
