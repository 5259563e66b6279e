#include "support/git_app.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "common/process.h"

namespace hivemind::testing {

std::filesystem::path make_node_app(const std::filesystem::path& parent, const std::string& name) {
  const std::filesystem::path app = parent / name;
  std::filesystem::create_directories(app);
  std::ofstream(app / "package.json") << R"({"name": ")" << name
                                      << R"(", "version": "1.0.0", "private": true, )"
                                         R"("scripts": {"start": "node server.js"}})";
  std::ofstream(app / "server.js") << "const http = require('http');\n"
                                      "const port = process.env.PORT || 3000;\n"
                                      "http.createServer((request, response) => response.end('ok')).listen(port);\n";

  ProcessOptions options;
  options.working_dir = app;
  options.timeout = std::chrono::seconds(30);
  const char* path = std::getenv("PATH");
  options.environment = {{"PATH", path != nullptr ? path : "/usr/bin:/bin"}, {"HOME", app.string()}};
  for (std::vector<std::string> command :
       {std::vector<std::string>{"git", "init", "-q", "."}, std::vector<std::string>{"git", "add", "."},
        std::vector<std::string>{"git", "-c", "user.email=test@example.com", "-c", "user.name=test", "commit", "-qm",
                                 "Add the app"}}) {
    auto result = run_process(command, options);
    EXPECT_TRUE(result.ok() && result->succeeded())
        << command[1] << " failed in " << app << ": " << (result.ok() ? result->output : result.error().describe());
  }
  return app;
}

}  // namespace hivemind::testing
