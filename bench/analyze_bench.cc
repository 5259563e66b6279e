// Analysis of a generated 100,000-file repository: 20,000 source files that
// are read, plus 70,000 files in node_modules and 10,000 in .git that the
// walk must skip. The tree is written once into a temporary folder.

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "repo/analysis.h"

namespace {

namespace fs = std::filesystem;

constexpr int kSourceFolders = 200;
constexpr int kFilesPerSourceFolder = 100;
constexpr int kPackages = 1000;
constexpr int kFilesPerPackage = 70;
constexpr int kGitObjects = 10000;

void write_file(const fs::path& path, const std::string& content) { std::ofstream(path, std::ios::binary) << content; }

std::string source_file(int folder, int file) {
  std::string text = "const helper = require('./helper');\n";
  text += "const value" + std::to_string(file) + " = process.env.SETTING_" + std::to_string(file % 50) + " || 'x';\n";
  if (folder == 0 && file == 0) text += "app.get('/healthz', ok);\napp.listen(process.env.PORT || 3000);\n";
  text += "module.exports = function run() { return helper(value" + std::to_string(file) + "); };\n";
  return text;
}

// Writes the repository and returns its folder; it is removed at exit.
fs::path generate_repository() {
  fs::path root = fs::temp_directory_path() / ("hivemind-analyze-bench-" + std::to_string(getpid()));
  fs::remove_all(root);
  fs::create_directories(root);
  write_file(root / "package.json",
             R"({"name":"big","scripts":{"start":"node src/f0/file0.js"},"dependencies":{"express":"^4","pg":"^8"}})");
  write_file(root / "package-lock.json", "{}\n");

  for (int folder = 0; folder < kSourceFolders; ++folder) {
    fs::path dir = root / "src" / ("f" + std::to_string(folder));
    fs::create_directories(dir);
    for (int file = 0; file < kFilesPerSourceFolder; ++file) {
      write_file(dir / ("file" + std::to_string(file) + ".js"), source_file(folder, file));
    }
  }
  for (int package = 0; package < kPackages; ++package) {
    fs::path dir = root / "node_modules" / ("pkg" + std::to_string(package)) / "lib";
    fs::create_directories(dir);
    for (int file = 0; file < kFilesPerPackage; ++file) {
      write_file(dir / ("m" + std::to_string(file) + ".js"), "process.env.NEVER_READ; app.listen(1234);\n");
    }
  }
  fs::create_directories(root / ".git" / "objects");
  for (int object = 0; object < kGitObjects; ++object) {
    fs::path dir = root / ".git" / "objects" / std::to_string(object % 256);
    fs::create_directories(dir);
    write_file(dir / std::to_string(object), "blob");
  }
  return root;
}

const fs::path& repository() {
  static const fs::path root = generate_repository();
  static const struct Cleanup {
    ~Cleanup() {
      std::error_code ignored;
      fs::remove_all(root, ignored);
    }
  } cleanup;
  return root;
}

void BM_Analyze100kFiles(benchmark::State& state) {
  const fs::path& root = repository();
  size_t variables = 0;
  for (auto _ : state) {
    hivemind::Result<hivemind::repo::Analysis> analysis = hivemind::repo::analyze(root, {});
    if (!analysis.ok()) {
      state.SkipWithError(analysis.error().describe().c_str());
      return;
    }
    variables = analysis->env_vars.size();
    benchmark::DoNotOptimize(analysis);
  }
  state.counters["env_vars"] = static_cast<double>(variables);
}
BENCHMARK(BM_Analyze100kFiles)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
