#pragma once

// Shared helpers of the state tests: a store in a temporary folder, and a
// deployment record with every field set.

#include <gtest/gtest.h>

#include <memory>

#include "state/store.h"
#include "support/temp_dir.h"

namespace hivemind::state::testing {

inline Deployment sample_deployment(const std::string& app = "shop") {
  Deployment d;
  d.id = make_deployment_id(app);
  d.app_name = app;
  d.description = "web shop with a database";
  d.source = "/src/" + app;
  d.version = "1a2b3c4d-dirty";
  d.region = "eu-west-1";
  d.endpoint_kind = EndpointKind::sandbox;
  d.status = DeploymentStatus::pending;
  d.retry_count = 1;
  d.max_retries = 5;
  d.created_at = TimePoint(std::chrono::milliseconds(1'700'000'000'123));
  d.options_json = R"({"instance_type":"t3.micro"})";
  return d;
}

inline std::unique_ptr<Store> open_store(const std::filesystem::path& dir, std::int64_t max_page_count = 0) {
  StoreOptions options;
  options.state_dir = dir;
  options.max_page_count = max_page_count;
  auto store = Store::open(options);
  EXPECT_TRUE(store.ok()) << store.error().describe();
  return store.ok() ? std::move(store).value() : nullptr;
}

}  // namespace hivemind::state::testing
