#include "infra/context.h"

#include <fmt/format.h>

#include <algorithm>
#include <thread>

#include "aws/ec2.h"
#include "common/log.h"

namespace hivemind::infra {

std::chrono::seconds WaitPolicy::timeout_for(ResourceKind kind) const {
  auto found = timeouts.find(kind);
  return found == timeouts.end() ? default_timeout : found->second;
}

InfraContext::InfraContext(aws::AwsClient& client, state::Store& store, PlanInputs inputs, Plan plan,
                           std::filesystem::path deployment_dir)
    : client_(client),
      store_(store),
      inputs_(std::move(inputs)),
      plan_(std::move(plan)),
      deployment_dir_(std::move(deployment_dir)) {}

void InfraContext::emit(ResourceEvent event) const {
  if (on_event) on_event(event);
}

Result<std::string> InfraContext::physical_id(const std::string& logical_name) const {
  Result<std::optional<state::Resource>> found = store_.find_resource(inputs_.deployment_id, logical_name);
  if (!found) return fail(found.error());
  if (!found->has_value() || (*found)->status != state::ResourceStatus::created || (*found)->physical_id.empty()) {
    return fail(
        make_error("infra.dependency_missing",
                   fmt::format("Resource {} of deployment {} is not created yet.", logical_name, inputs_.deployment_id),
                   "Run `hivemind retry` to create it first."));
  }
  return (*found)->physical_id;
}

Result<nlohmann::json> InfraContext::attributes(const std::string& logical_name) const {
  Result<std::optional<state::Resource>> found = store_.find_resource(inputs_.deployment_id, logical_name);
  if (!found) return fail(found.error());
  if (!found->has_value()) return nlohmann::json::object();
  nlohmann::json parsed = nlohmann::json::parse((*found)->attributes_json, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return nlohmann::json::object();
  return parsed;
}

Result<std::vector<std::string>> InfraContext::zones() {
  std::lock_guard lock(mutex_);
  if (zones_) return *zones_;

  aws::AwsResult<std::vector<aws::ec2::AvailabilityZone>> listed = aws::ec2::describe_availability_zones(client_);
  if (!listed) return fail(listed.error().to_error());
  std::vector<std::string> names;
  for (const aws::ec2::AvailabilityZone& zone : *listed) {
    if (zone.state == "available" || zone.state.empty()) names.push_back(zone.name);
  }
  std::sort(names.begin(), names.end());
  if (names.size() < 2) {
    return fail(make_error("infra.not_enough_zones",
                           fmt::format("Region {} has {} available availability zone(s); a load balancer needs two.",
                                       inputs_.region, names.size()),
                           "Deploy to a region with at least two availability zones, e.g. --region us-east-1."));
  }
  names.resize(2);
  zones_ = names;
  return names;
}

void InfraContext::record_failure(ResourceFailure failure) {
  std::lock_guard lock(mutex_);
  failures_.push_back(std::move(failure));
}

std::vector<ResourceFailure> InfraContext::failures() const {
  std::lock_guard lock(mutex_);
  return failures_;
}

std::optional<ResourceFailure> InfraContext::last_failure(const std::string& resource) const {
  std::lock_guard lock(mutex_);
  for (auto it = failures_.rbegin(); it != failures_.rend(); ++it) {
    if (it->resource == resource) return *it;
  }
  return std::nullopt;
}

Status InfraContext::wait_until(const std::string& resource, ResourceKind kind, const std::string& what,
                                const std::function<Result<bool>()>& probe) {
  auto started = std::chrono::steady_clock::now();
  auto deadline = started + wait.timeout_for(kind);
  std::chrono::milliseconds delay = wait.first_delay;

  while (true) {
    Result<bool> done = probe();
    if (!done) return fail(done.error());
    if (*done) return ok_unit();

    auto now = std::chrono::steady_clock::now();
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - started);
    if (now >= deadline) {
      return fail(make_error("infra.wait_timed_out",
                             fmt::format("Timed out after {}s waiting for {} {} to {}.", elapsed.count() / 1000,
                                         kind_name(kind), resource, what),
                             "Check the resource in the AWS console, then run `hivemind retry` to wait again."));
    }
    emit({ResourceEvent::Kind::kWaiting, resource, kind_name(kind), "",
          fmt::format("waiting for {} {} to {}", kind_name(kind), resource, what), elapsed});
    if (cancel != nullptr && cancel->load()) {
      return fail(make_error("infra.cancelled", fmt::format("Cancelled while waiting for {}.", resource)));
    }
    if (wait.sleep) {
      wait.sleep(delay);
    } else {
      std::this_thread::sleep_for(delay);
    }
    delay = std::min(delay * 2, wait.max_delay);
  }
}

Error record_aws_failure(InfraContext& context, const std::string& resource, const aws::AwsError& error) {
  Error generic = error.to_error();
  bool ambiguous = error.kind == aws::ErrorKind::kTransport || error.http_status >= 500;
  context.record_failure({resource, error.iam_action(), error.request_id, generic, ambiguous});
  log::get("provisioner")
      ->warn("{} failed: {} {} ({}) request id {}", resource, error.iam_action(), error.code, error.message,
             error.request_id);
  return generic;
}

}  // namespace hivemind::infra
