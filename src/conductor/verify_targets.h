#pragma once

// What the secure and verify stages need from a provisioned deployment: the
// recorded resources, the addresses to check, an SSH session to the host and
// the database password. In the sandbox every address comes from the address
// map; a resource the map lacks is an error, never a fallback to moto's.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "common/result.h"
#include "common/secret.h"
#include "conductor/stage_context.h"
#include "remote/session.h"

namespace hivemind::conductor {

struct RecordedResource {
  std::string physical_id;
  nlohmann::json attributes;
};

// Returns the created resource of that logical name, or nothing when the
// plan has none (e.g. no database) or it was never created.
Result<std::optional<RecordedResource>> find_recorded(const StageContext& context, const std::string& logical_name);

struct Address {
  std::string host;
  std::uint16_t port = 0;
  std::string user;  // SSH only
};

Result<Address> instance_ssh_address(const StageContext& context, const RecordedResource& instance);
// The address serving the app on the instance itself.
Result<Address> instance_app_address(const StageContext& context, const RecordedResource& instance, int app_port);
Result<Address> load_balancer_address(const StageContext& context, const RecordedResource& balancer,
                                      std::uint16_t listener_port);
Result<Address> database_address(const StageContext& context, const RecordedResource& database);

// Connects to the instance with the deployment's key, trusting the host key
// recorded by the deploy stage (or recording it on first use).
Result<remote::Session> connect_instance(StageContext& context, const RecordedResource& instance);

// Reads the database master password from the SSM parameter the database
// resource names.
Result<Secret> read_database_password(StageContext& context, const RecordedResource& database);

// The rule ids listed under "allow_rules" in the deployment's options JSON.
std::set<std::string> allowed_rules(const StageContext& context);

}  // namespace hivemind::conductor
