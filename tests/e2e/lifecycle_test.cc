// Lifecycle checks of failed deployments in the sandbox. A failure in each
// stage in turn is cleaned up automatically to zero tagged resources, and
// its state and log remain. With --no-auto-cleanup, a fixed deployment
// resumes at the failed stage and creates no duplicate resource.
//
// Stages with a cause a user can really hit run through the `hivemind`
// binary. The others run the Conductor in this process against the same
// sandbox, with the fault placed through its composition (ConductorSetup):
// a transport that denies one AWS action, a deploy stage with a short listen
// wait, or a stage replaced by one that fails.

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <memory>

#include "aws/curl_transport.h"
#include "common/log.h"
#include "conductor/conductor.h"
#include "conductor/stage_deploy.h"
#include "conductor/stages.h"
#include "sandbox/reconciler.h"
#include "state/store.h"
#include "support/sandbox_session.h"

namespace hivemind::testing {
namespace {

namespace fs = std::filesystem;
using state::StageName;
using namespace std::chrono_literals;

constexpr const char* kPackageJson =
    R"({"name": "@NAME@", "version": "1.0.0", "private": true, "scripts": {"start": "node server.js"@BUILD@}})";

// A Node app with no dependencies, so that its build needs no registry.
std::map<std::string, std::string> node_app(const std::string& name, bool listens, const std::string& build = {}) {
  std::string package = kPackageJson;
  package.replace(package.find("@NAME@"), 6, name);
  package.replace(package.find("@BUILD@"), 7, build.empty() ? "" : R"(, "build": ")" + build + "\"");
  std::string server = listens ? "const http = require('http');\n"
                                 "const port = process.env.PORT || 3000;\n"
                                 "http.createServer((request, response) => response.end('ok')).listen(port, () => {\n"
                                 "  console.log(`listening on ${port}`);\n"
                                 "});\n"
                               : "// Reads its port like a web app but never listens on it.\n"
                                 "const port = process.env.PORT || 3000;\n"
                                 "console.log(`starting, but never listening on ${port}`);\n"
                                 "setInterval(() => {}, 60000);\n";
  return {{"package.json", package}, {"server.js", server}};
}

// Returns AccessDenied for every call of one AWS action, as AWS does for a
// principal that lacks the permission. Every other call goes to curl.
class DenyingTransport : public aws::HttpTransport {
 public:
  explicit DenyingTransport(std::string action) : action_(std::move(action)) {}

  Result<aws::HttpResponse, aws::TransportError> send(const aws::HttpRequest& request,
                                                      const aws::TransportOptions& options) override {
    if (!is_denied(request.body)) return curl_.send(request, options);
    aws::HttpResponse denied;
    denied.status = 403;
    denied.body =
        "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not "
        "authorized to perform: elasticloadbalancing:" +
        action_ + "</Message></Error><RequestId>e2e-denied-request</RequestId></ErrorResponse>";
    return denied;
  }

 private:
  // True for a query-protocol body whose Action parameter is action_.
  bool is_denied(const std::string& body) const {
    std::string parameter = "Action=" + action_;
    size_t found = body.find(parameter);
    if (found == std::string::npos || (found > 0 && body[found - 1] != '&')) return false;
    size_t end = found + parameter.size();
    return end == body.size() || body[end] == '&';
  }

  std::string action_;
  aws::CurlTransport curl_;
};

Status injected_failure(conductor::StageContext& context) {
  return fail(make_error("test.injected", "Injected failure in deployment " + context.deployment.id + "."));
}

class LifecycleTest : public SharedSandboxTest {
 protected:
  // The setup the CLI builds for a sandbox target, for a Conductor in this
  // process; tests replace parts of it.
  conductor::ConductorSetup conductor_setup() {
    sandbox::SandboxSettings settings;
    settings.moto_endpoint = sandbox().moto_endpoint();
    conductor::ConductorSetup setup;
    setup.state_dir = sandbox().state_dir();
    setup.target = conductor::Target::kSandbox;
    setup.client_config = sandbox::sandbox_client_config(settings);
    setup.stages = conductor::available_stages();
    setup.stop_app = conductor::stop_app;
    setup.command_line = "lifecycle_test";
    fs::path state_dir = sandbox().state_dir();
    setup.on_event = [state_dir](const conductor::ConductorEvent& event) {
      if (event.kind != conductor::ConductorEvent::Kind::kDeploymentCreated) return;
      fs::path log = state_dir / event.text / "logs" / "hivemind.log";
      fs::create_directories(log.parent_path());
      log::configure(log, spdlog::level::info, false);
    };
    return setup;
  }

  // A deploy stage that gives up on an app that does not listen after 5 s
  // rather than the product's 90 s.
  static conductor::StageFunction quick_deploy() {
    return [](conductor::StageContext& context) {
      conductor::DeploySettings settings;
      settings.listen = 5s;
      return conductor::run_deploy_with(context, settings);
    };
  }

  // Deploys `repository` through a Conductor made from `setup`; returns the
  // deployment id, or an empty string after a failed assertion.
  std::string deploy_in_process(conductor::ConductorSetup setup, const fs::path& repository, bool auto_cleanup = true) {
    auto conductor = conductor::Conductor::open(std::move(setup));
    EXPECT_TRUE(conductor) << conductor.error().describe();
    if (!conductor) return {};
    conductor::DeployOptions options;
    options.source = repository.string();
    options.auto_cleanup = auto_cleanup;
    Result<state::Deployment> deployment = (*conductor)->deploy(options);
    EXPECT_TRUE(deployment) << deployment.error().describe();
    return deployment ? deployment->id : std::string();
  }

  Result<fs::path> repository(const std::string& name, const std::map<std::string, std::string>& files) {
    return make_repository(sandbox().work_dir(), name, files);
  }

  // What `status <id> --json` reports.
  nlohmann::json status_of(const std::string& id) {
    CliRun status = sandbox().hivemind({"status", id, "--json"}, 30s);
    EXPECT_EQ(status.exit_code, 0) << status.describe();
    return status.json();
  }

  // The checks of a failed deployment after automatic cleanup: status
  // rolled_back with the failing stage and its failure recorded, nothing
  // tagged with the deployment left in AWS, the log still on disk.
  void expect_cleaned_up(const std::string& id, const std::string& stage) {
    ASSERT_FALSE(id.empty());
    nlohmann::json status = status_of(id);
    EXPECT_EQ(status.value("status", ""), "rolled_back") << status.dump(2);
    EXPECT_EQ(status.value("failed_stage", ""), stage) << status.dump(2);
    ASSERT_TRUE(status.contains("failure")) << status.dump(2);
    EXPECT_FALSE(status["failure"].value("message", "").empty()) << status.dump(2);
    EXPECT_EQ(sandbox().count_tagged(id), 0) << status.dump(2);
    for (const nlohmann::json& resource : status["resources"]) {
      std::string state = resource.value("status", "");
      EXPECT_TRUE(state == "deleted" || state == "create_failed") << resource.dump();
    }

    // A Conductor in this process logs through a buffered file sink.
    log::get("conductor")->flush();
    std::error_code error;
    EXPECT_GT(fs::file_size(sandbox().deployment_log(id), error), 0u) << sandbox().deployment_log(id);
  }
};

// analyze: a repository with no application in it.
TEST_F(LifecycleTest, AnalyzeFailureOnRepoWithoutApp) {
  auto repo = repository("notes-only", {{"README.md", "Meeting notes, no code.\n"}});
  ASSERT_TRUE(repo) << repo.error().describe();

  CliRun run = sandbox().deploy(*repo);

  EXPECT_EQ(run.exit_code, 1) << run.describe();
  expect_cleaned_up(run.json().value("id", ""), "analyze");
}

// build: the app's own build script fails.
TEST_F(LifecycleTest, BuildFailureOnFailingBuildScript) {
  auto repo = repository("broken-build", node_app("broken-build", true, "echo the build broke >&2; exit 3"));
  ASSERT_TRUE(repo) << repo.error().describe();

  CliRun run = sandbox().deploy(*repo);

  EXPECT_EQ(run.exit_code, 1) << run.describe();
  std::string id = run.json().value("id", "");
  expect_cleaned_up(id, "build");
  EXPECT_NE(status_of(id)["failure"].value("message", "").find("the build broke"), std::string::npos);
}

// provision: the credentials lack elasticloadbalancing:CreateLoadBalancer,
// so the network, the database and the rest exist when it fails.
TEST_F(LifecycleTest, ProvisionFailureOnDeniedAction) {
  auto repo = copy_example("node-express-postgres", sandbox().work_dir() / "provision");
  ASSERT_TRUE(repo) << repo.error().describe();
  conductor::ConductorSetup setup = conductor_setup();
  setup.transport = std::make_shared<DenyingTransport>("CreateLoadBalancer");

  std::string id = deploy_in_process(std::move(setup), *repo);

  expect_cleaned_up(id, "provision");
  nlohmann::json failure = status_of(id)["failure"];
  EXPECT_EQ(failure.value("aws_request_id", ""), "e2e-denied-request") << failure.dump();
  EXPECT_NE(failure.value("action", "").find("CreateLoadBalancer"), std::string::npos) << failure.dump();
}

// deploy: the app starts but never listens on its port.
TEST_F(LifecycleTest, DeployFailureWhenAppNeverListens) {
  auto repo = repository("never-listens", node_app("never-listens", false));
  ASSERT_TRUE(repo) << repo.error().describe();
  conductor::ConductorSetup setup = conductor_setup();
  setup.stages[StageName::deploy] = quick_deploy();

  std::string id = deploy_in_process(std::move(setup), *repo);

  expect_cleaned_up(id, "deploy");
}

// secure: SSH opened to the whole internet, which the Sheriff's rules forbid.
TEST_F(LifecycleTest, SecureFailureOnSshOpenToWorld) {
  auto repo = repository("open-ssh", node_app("open-ssh", true));
  ASSERT_TRUE(repo) << repo.error().describe();

  CliRun run = sandbox().deploy(*repo, {"--ssh-cidr", "0.0.0.0/0"});

  EXPECT_EQ(run.exit_code, 1) << run.describe();
  expect_cleaned_up(run.json().value("id", ""), "secure");
}

// verify: the app goes down right after the deploy stage started it.
TEST_F(LifecycleTest, VerifyFailureWhenAppStopsAfterDeploy) {
  auto repo = repository("stops-early", node_app("stops-early", true));
  ASSERT_TRUE(repo) << repo.error().describe();
  conductor::ConductorSetup setup = conductor_setup();
  setup.stages[StageName::deploy] = [](conductor::StageContext& context) -> Status {
    Status deployed = conductor::run_deploy(context);
    if (!deployed) return deployed;
    return conductor::stop_app(context);
  };

  std::string id = deploy_in_process(std::move(setup), *repo);

  expect_cleaned_up(id, "verify");
  EXPECT_NE(status_of(id)["failure"].value("message", "").find("refused"), std::string::npos);
}

// monitor: no cause outside HiveMind makes it fail in the sandbox, so the
// stage is replaced.
TEST_F(LifecycleTest, MonitorFailureIsCleanedUp) {
  auto repo = repository("monitor-fails", node_app("monitor-fails", true));
  ASSERT_TRUE(repo) << repo.error().describe();
  conductor::ConductorSetup setup = conductor_setup();
  setup.stages[StageName::monitor] = injected_failure;

  std::string id = deploy_in_process(std::move(setup), *repo);

  expect_cleaned_up(id, "monitor");
}

// report: the last stage, after the dashboard, alarms, database and load
// balancer all exist.
TEST_F(LifecycleTest, ReportFailureIsCleanedUp) {
  auto repo = copy_example("node-express-postgres", sandbox().work_dir() / "report");
  ASSERT_TRUE(repo) << repo.error().describe();
  conductor::ConductorSetup setup = conductor_setup();
  setup.stages[StageName::report] = injected_failure;

  std::string id = deploy_in_process(std::move(setup), *repo);

  expect_cleaned_up(id, "report");
}

// --no-auto-cleanup keeps the resources; after the app is fixed, `retry`
// resumes at the deploy stage and creates nothing twice.
TEST_F(LifecycleTest, RetryResumesAtFailedStageWithoutDuplicates) {
  auto repo = repository("fixed-later", node_app("fixed-later", false));
  ASSERT_TRUE(repo) << repo.error().describe();
  conductor::ConductorSetup setup = conductor_setup();
  setup.stages[StageName::deploy] = quick_deploy();
  std::string id = deploy_in_process(std::move(setup), *repo, false);
  ASSERT_FALSE(id.empty());
  nlohmann::json failed = status_of(id);
  ASSERT_EQ(failed.value("status", ""), "failed") << failed.dump(2);
  ASSERT_EQ(failed.value("failed_stage", ""), "deploy") << failed.dump(2);
  auto before = sandbox().tagged_resources(id);
  ASSERT_TRUE(before) << before.error().describe();
  ASSERT_EQ((*before)["ec2:instance"], 1);

  // Fix the app, then resume the way a user does.
  for (const auto& [path, content] : node_app("fixed-later", true)) {
    std::ofstream(*repo / path, std::ios::binary) << content;
  }
  ASSERT_TRUE(commit_all(*repo, "Listen on the port"));
  CliRun retry = sandbox().hivemind({"retry", id, "--json"}, 5min);

  ASSERT_EQ(retry.exit_code, 0) << retry.describe();
  nlohmann::json deployed = status_of(id);
  EXPECT_EQ(deployed.value("status", ""), "deployed") << deployed.dump(2);
  EXPECT_EQ(deployed.value("retry_count", 0), 1);
  auto after = sandbox().tagged_resources(id);
  ASSERT_TRUE(after) << after.error().describe();
  for (const auto& [kind, count] : *before) EXPECT_EQ((*after)[kind], count) << kind;

  // The stages before deploy ran once; deploy failed once and then passed.
  state::StoreOptions store_options;
  store_options.state_dir = sandbox().state_dir();
  auto store = state::Store::open(store_options);
  ASSERT_TRUE(store) << store.error().describe();
  auto runs = (*store)->stage_runs(id);
  ASSERT_TRUE(runs) << runs.error().describe();
  std::map<std::string, std::vector<std::string>> outcomes;
  for (const state::StageRun& run : *runs) {
    outcomes[std::string(state::to_string(run.stage))].push_back(std::string(state::to_string(run.outcome)));
  }
  EXPECT_EQ(outcomes["provision"], std::vector<std::string>{"succeeded"});
  EXPECT_EQ(outcomes["deploy"], (std::vector<std::string>{"failed", "succeeded"}));
  EXPECT_EQ(outcomes["report"], std::vector<std::string>{"succeeded"});

  auto url = sandbox().local_url(deployed.value("url", ""));
  ASSERT_TRUE(url) << url.error().describe();
  HttpReply reply = http_get(*url + "/");
  EXPECT_EQ(reply.status, 200) << reply.error;
  EXPECT_EQ(reply.body, "ok");

  CliRun rollback = sandbox().hivemind({"rollback", id, "--yes", "--json"}, 5min);
  EXPECT_EQ(rollback.exit_code, 0) << rollback.describe();
  EXPECT_EQ(sandbox().count_tagged(id), 0);
}

// A deployment kept after a failure may be retried --max-retries times.
TEST_F(LifecycleTest, RetryPastMaximumIsRejected) {
  auto repo = repository("no-retries", {{"README.md", "No code here.\n"}});
  ASSERT_TRUE(repo) << repo.error().describe();
  CliRun deploy = sandbox().deploy(*repo, {"--no-auto-cleanup", "--max-retries", "0"});
  ASSERT_EQ(deploy.exit_code, 1) << deploy.describe();
  std::string id = deploy.json().value("id", "");
  ASSERT_FALSE(id.empty()) << deploy.describe();
  EXPECT_EQ(status_of(id).value("status", ""), "failed");

  CliRun retry = sandbox().hivemind({"retry", id});

  EXPECT_EQ(retry.exit_code, 1) << retry.describe();
  EXPECT_NE(retry.err.find("was retried 0 times, its maximum"), std::string::npos) << retry.describe();
  EXPECT_NE(retry.err.find("--max-retries"), std::string::npos) << retry.describe();
  EXPECT_EQ(status_of(id).value("retry_count", -1), 0);
}

}  // namespace
}  // namespace hivemind::testing
