#pragma once

#include <string>

namespace hivemind::infra {

// Returns the AWS console page of a resource, for a user who must look at or
// delete it by hand, or an empty string for a kind with no known page.
// `kind` is as kind_name() spells it, e.g. "ec2:vpc".
std::string console_url(const std::string& kind, const std::string& physical_id, const std::string& region);

}  // namespace hivemind::infra
