// Deploy timing: provisions and tears down the web-with-database plan against
// moto_server behind FaultProxy, whose latency profile makes instances, load
// balancers and DB instances take AWS-like times to become ready or go away,
// scaled down. Reports the wall time of a parallel walk (8 workers) against
// the critical path of the plan (its longest chain of per-resource times) and
// against a sequential walk (1 worker), and the number of AWS API calls.
//
// Usage: deploy_bench [scale]   (default 0.02: a DB instance takes ~8.4 s)
// The waiter's backoff (WaitPolicy) is scaled by the same factor, so that the
// number of polls is the one a real deployment would make.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "infra/provisioner.h"
#include "state/store.h"
#include "support/fault_proxy.h"
#include "support/moto_server.h"
#include "support/temp_dir.h"

namespace {

using namespace hivemind;
namespace support = hivemind::testing;
using Milliseconds = std::chrono::milliseconds;

struct RunFigures {
  double wall_seconds = 0;
  double critical_path_seconds = 0;  // longest chain of measured per-resource times
  int calls = 0;
  bool ok = false;
};

struct DeployFigures {
  RunFigures provision;
  RunFigures teardown;
};

infra::PlanInputs web_with_database(const std::string& deployment_id) {
  infra::PlanInputs inputs;
  inputs.deployment_id = deployment_id;
  inputs.app_name = "shop";
  inputs.region = "us-east-1";
  inputs.web_service = true;
  inputs.app_port = 3000;
  inputs.database = "postgres";
  inputs.runtime = "node";
  inputs.ssh_cidr = "203.0.113.7/32";
  return inputs;
}

// The longest chain of `durations` where each name finishes after everything
// that `before(name)` lists. Iterates to a fixed point, which a graph of a few
// dozen nodes reaches in as many rounds as its depth.
double longest_chain(const std::map<std::string, double>& durations,
                     const std::function<std::vector<std::string>(const std::string&)>& before) {
  std::map<std::string, double> finish;
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto& [name, duration] : durations) {
      double start = 0;
      for (const std::string& earlier : before(name)) start = std::max(start, finish[earlier]);
      if (finish[name] < start + duration) finish[name] = start + duration, changed = true;
    }
  }
  double longest = 0;
  for (const auto& [name, end] : finish) longest = std::max(longest, end);
  return longest;
}

// Records the elapsed time of each resource's final event.
class DurationRecorder {
 public:
  void operator()(const infra::ResourceEvent& event) {
    using Kind = infra::ResourceEvent::Kind;
    if (event.kind != Kind::kCreated && event.kind != Kind::kAdopted && event.kind != Kind::kDeleted &&
        event.kind != Kind::kAlreadyGone) {
      return;
    }
    std::lock_guard lock(mutex_);
    seconds_[event.resource] = std::chrono::duration<double>(event.elapsed).count();
  }
  std::map<std::string, double> take() {
    std::lock_guard lock(mutex_);
    return std::exchange(seconds_, {});
  }

 private:
  std::mutex mutex_;
  std::map<std::string, double> seconds_;  // guarded by mutex_
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

DeployFigures deploy_once(support::MotoServer& moto, double scale, std::size_t workers) {
  DeployFigures figures;
  moto.reset();
  support::FaultOptions options;
  options.latency.scale = scale;
  support::FaultProxy proxy(moto.endpoint(), options);
  aws::ClientConfig config = moto.client_config();
  const std::string url = proxy.endpoint();
  config.endpoint_for = [url](const aws::ServiceSpec&) { return url; };
  auto client = moto.make_client(config);

  support::TempDir state_dir;
  state::StoreOptions store_options;
  store_options.state_dir = state_dir.path();
  auto store = state::Store::open(store_options);
  if (!store.ok()) return figures;
  const std::string id = "hm-shop-bench0";
  state::Deployment deployment{};
  deployment.id = id;
  deployment.app_name = "shop";
  deployment.region = "us-east-1";
  deployment.created_at = std::chrono::system_clock::now();
  if (!(*store)->create_deployment(deployment).ok()) return figures;

  infra::PlanInputs inputs = web_with_database(id);
  auto plan = infra::build_plan(inputs);
  infra::InfraContext context(*client, **store, inputs, *plan, state_dir.path() / id);
  context.max_workers = workers;
  context.skip_final_snapshot = true;
  context.wait.first_delay = Milliseconds(static_cast<long>(context.wait.first_delay.count() * scale));
  context.wait.max_delay = Milliseconds(static_cast<long>(context.wait.max_delay.count() * scale));
  DurationRecorder recorder;
  context.on_event = [&recorder](const infra::ResourceEvent& event) { recorder(event); };

  // Provision.
  auto started = std::chrono::steady_clock::now();
  int calls_before = proxy.request_count();
  auto provisioned = infra::provision(context);
  figures.provision.wall_seconds = seconds_since(started);
  figures.provision.calls = proxy.request_count() - calls_before;
  figures.provision.ok = provisioned.ok() && provisioned->ok();
  std::map<std::string, std::vector<std::string>> depends_on;
  for (const infra::ResourceSpec& spec : plan->resources) depends_on[spec.name] = spec.depends_on;
  figures.provision.critical_path_seconds =
      longest_chain(recorder.take(), [&](const std::string& name) { return depends_on[name]; });

  // Teardown: a resource is deleted after every resource whose dependencies list it.
  auto resources = (*store)->resources(id);
  graph::Graph order = infra::teardown_graph(resources.ok() ? *resources : std::vector<state::Resource>{});
  started = std::chrono::steady_clock::now();
  calls_before = proxy.request_count();
  auto removed = infra::teardown_recorded(context);
  figures.teardown.wall_seconds = seconds_since(started);
  figures.teardown.calls = proxy.request_count() - calls_before;
  figures.teardown.ok = removed.ok() && removed->ok();
  std::map<std::string, double> durations = recorder.take();
  figures.teardown.critical_path_seconds = longest_chain(durations, [&](const std::string& name) {
    std::vector<std::string> earlier;
    for (const auto& [other, unused] : durations) {
      for (const std::string& dependency : order.dependencies_of(other)) {
        if (dependency == name) earlier.push_back(other);
      }
    }
    return earlier;
  });
  return figures;
}

void print_run(const char* label, const RunFigures& parallel, const RunFigures& sequential) {
  std::printf("%-9s parallel %6.2f s  critical path %6.2f s  sequential %6.2f s  ", label, parallel.wall_seconds,
              parallel.critical_path_seconds, sequential.wall_seconds);
  std::printf("parallel/critical %.2f  sequential/parallel %.2f  calls %d (sequential %d)%s\n",
              parallel.wall_seconds / parallel.critical_path_seconds, sequential.wall_seconds / parallel.wall_seconds,
              parallel.calls, sequential.calls, parallel.ok && sequential.ok ? "" : "  FAILED");
}

}  // namespace

int main(int argc, char** argv) {
  setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
  const double scale = argc > 1 ? std::atof(argv[1]) : 0.02;
  auto moto = support::MotoServer::start();
  if (moto == nullptr) {
    std::fprintf(stderr, "moto_server did not start; is it installed and on PATH?\n");
    return 1;
  }

  std::printf("latency scale %.3f\n", scale);
  DeployFigures parallel = deploy_once(*moto, scale, 8);
  DeployFigures sequential = deploy_once(*moto, scale, 1);
  print_run("provision", parallel.provision, sequential.provision);
  print_run("teardown", parallel.teardown, sequential.teardown);
  return parallel.provision.ok && parallel.teardown.ok && sequential.provision.ok && sequential.teardown.ok ? 0 : 1;
}
