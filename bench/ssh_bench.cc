// Cost of the deployer's SSH operations against a real OpenSSH sshd on
// 127.0.0.1. The sshd is the tests' fixture, so this needs root. Measured: a
// full connection (handshake, host key check, public key authentication),
// one command's round trip on an open session, and SFTP uploads.
// Loopback hides network latency, which dominates on a real host: SFTP
// writes here wait for each 32 KiB chunk's reply before the next.

#include <benchmark/benchmark.h>

#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "remote/keys.h"
#include "remote/session.h"
#include "support/sshd_server.h"
#include "support/temp_dir.h"

namespace {

using hivemind::remote::ConnectOptions;
using hivemind::remote::Session;

// One client key and one sshd shared by every benchmark.
struct Target {
  hivemind::testing::TempDir keys;
  hivemind::remote::KeyPair key;
  std::unique_ptr<hivemind::testing::SshdServer> sshd;

  Target() {
    auto pair = hivemind::remote::generate_key_pair(keys.path() / "id_ed25519", "bench");
    if (!pair) throw std::runtime_error(pair.error().describe());
    key = *pair;
    sshd = std::make_unique<hivemind::testing::SshdServer>(key.public_key);
  }

  ConnectOptions options() const {
    ConnectOptions options;
    options.host = sshd->host();
    options.port = sshd->port();
    options.user = sshd->user();
    options.private_key_file = key.private_key_file;
    return options;
  }
};

Target& target() {
  static Target shared;
  return shared;
}

std::optional<Session> connect_or_skip(benchmark::State& state) {
  auto session = Session::connect(target().options());
  if (!session) {
    state.SkipWithError(session.error().describe().c_str());
    return std::nullopt;
  }
  return std::move(session).value();
}

void BM_Connect(benchmark::State& state) {
  for (auto _ : state) {
    auto session = Session::connect(target().options());
    if (!session) {
      state.SkipWithError(session.error().describe().c_str());
      return;
    }
    benchmark::DoNotOptimize(session->host_key_fingerprint());
  }
}
BENCHMARK(BM_Connect)->Unit(benchmark::kMillisecond);

void BM_ExecRoundTrip(benchmark::State& state) {
  auto session = connect_or_skip(state);
  if (!session) return;
  for (auto _ : state) {
    auto result = session->exec("true");
    if (!result) {
      state.SkipWithError(result.error().describe().c_str());
      return;
    }
  }
}
BENCHMARK(BM_ExecRoundTrip)->Unit(benchmark::kMillisecond);

void BM_Upload(benchmark::State& state) {
  auto session = connect_or_skip(state);
  if (!session) return;
  std::filesystem::path local = target().sshd->scratch_folder() / "upload.bin";
  std::ofstream(local, std::ios::binary) << std::string(static_cast<std::size_t>(state.range(0)), 'x');
  std::string remote = (target().sshd->scratch_folder() / "remote/upload.bin").string();

  for (auto _ : state) {
    auto uploaded = session->upload(local, remote, 0644);
    if (!uploaded) {
      state.SkipWithError(uploaded.error().describe().c_str());
      return;
    }
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Upload)->Arg(64 << 10)->Arg(1 << 20)->Arg(16 << 20)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
