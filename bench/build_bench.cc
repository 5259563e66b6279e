// Speed of the compiler's own work around the build commands: hashing a
// source tree for the cache key, and writing and verifying an artifact.
// The tree is generated at start: 5,000 files of 2 KiB in 50 folders, plus a
// node_modules folder of the same size that hashing must skip.

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "build/artifact.h"
#include "build/workspace.h"

namespace {

namespace fs = std::filesystem;

constexpr int kFolders = 50;
constexpr int kFilesPerFolder = 100;

fs::path make_tree() {
  std::string pattern = (fs::temp_directory_path() / "hivemind-build-bench-XXXXXX").string();
  fs::path root = mkdtemp(pattern.data());
  std::string content(2048, 'x');
  for (const char* top : {"src", "node_modules"}) {
    for (int folder = 0; folder < kFolders; ++folder) {
      fs::path dir = root / top / ("d" + std::to_string(folder));
      fs::create_directories(dir);
      for (int file = 0; file < kFilesPerFolder; ++file) {
        std::ofstream(dir / ("f" + std::to_string(file) + ".js")) << content << folder << file;
      }
    }
  }
  return root;
}

const fs::path& tree() {
  static fs::path root = make_tree();
  return root;
}

void BM_HashTree(benchmark::State& state) {
  for (auto _ : state) {
    auto hash = hivemind::build::hash_tree(tree(), {});
    benchmark::DoNotOptimize(hash);
  }
  state.counters["files"] = kFolders * kFilesPerFolder;
}
BENCHMARK(BM_HashTree)->Unit(benchmark::kMillisecond);

void BM_WriteAndVerifyArtifact(benchmark::State& state) {
  fs::path archive = tree().parent_path() / (tree().filename().string() + ".tar.gz");
  for (auto _ : state) {
    auto written = hivemind::build::write_artifact(tree(), hivemind::build::Manifest{}, archive);
    auto verified = hivemind::build::verify_artifact(archive);
    benchmark::DoNotOptimize(verified);
  }
  state.counters["files"] = 2 * kFolders * kFilesPerFolder;
  fs::remove(archive);
}
BENCHMARK(BM_WriteAndVerifyArtifact)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  fs::remove_all(tree());
  return 0;
}
