#include "cwagent/shipper.h"

#include <fmt/format.h>
#include <sys/statvfs.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "aws/cloudwatch.h"
#include "aws/logs.h"
#include "common/log.h"

namespace hivemind::cwagent {
namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Reads the complete lines after state.offset and advances it past them.
std::vector<std::string> read_new_lines(const std::filesystem::path& path, ShipperState& state) {
  std::error_code error;
  std::uintmax_t size = std::filesystem::file_size(path, error);
  if (error) return {};
  if (size < state.offset) state.offset = 0;  // truncated or rotated

  std::ifstream in(path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(state.offset));
  std::string chunk(size - state.offset, '\0');
  in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
  chunk.resize(static_cast<size_t>(in.gcount()));

  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t end = chunk.find('\n'); end != std::string::npos; end = chunk.find('\n', start)) {
    std::string line = chunk.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) lines.push_back(std::move(line));
    start = end + 1;
  }
  state.offset += start;
  return lines;
}

Status ensure_stream(aws::AwsClient& client, const ShipTarget& target) {
  auto streams = aws::logs::describe_log_streams(client, target.log_group, target.stream_name);
  if (!streams) return fail(streams.error().to_error());
  for (const auto& stream : *streams) {
    if (stream.name == target.stream_name) return ok_unit();
  }
  auto created = aws::logs::create_log_stream(client, target.log_group, target.stream_name);
  if (!created && created.error().code != "ResourceAlreadyExistsException") return fail(created.error().to_error());
  return ok_unit();
}

// Sends the lines in batches under PutLogEvents' limits (10,000 events and
// 1,048,576 bytes, counting 26 bytes of overhead per event), all stamped
// with the time they were read.
Status send_lines(aws::AwsClient& client, const ShipTarget& target, std::vector<std::string>& lines) {
  constexpr size_t kMaxEvents = 5000;
  constexpr size_t kMaxBytes = 1'000'000;
  std::int64_t time = now_ms();
  std::vector<aws::logs::LogEvent> batch;
  size_t bytes = 0;
  for (size_t index = 0; index <= lines.size(); ++index) {
    bool last = index == lines.size();
    if (!batch.empty() && (last || batch.size() == kMaxEvents || bytes + lines[index].size() + 26 > kMaxBytes)) {
      auto sent = aws::logs::put_log_events(client, target.log_group, target.stream_name, std::move(batch));
      if (!sent) return fail(sent.error().to_error());
      batch.clear();
      bytes = 0;
    }
    if (last) break;
    bytes += lines[index].size() + 26;
    batch.push_back({time, lines[index], {}});
  }
  return ok_unit();
}

// CPU use since the previous call from /proc/stat's first line.
std::optional<double> cpu_used_percent(ShipperState& state) {
  std::istringstream line(read_text("/proc/stat"));
  std::string label;
  line >> label;
  if (label != "cpu") return std::nullopt;
  std::uint64_t total = 0;
  std::uint64_t idle = 0;
  std::uint64_t value = 0;
  for (int field = 0; field < 8 && line >> value; ++field) {
    total += value;
    if (field == 3 || field == 4) idle += value;  // idle and iowait
  }
  std::optional<double> used;
  if (state.cpu_total && total > *state.cpu_total) {
    double spent = static_cast<double>(total - *state.cpu_total);
    used = 100.0 * (1.0 - static_cast<double>(idle - *state.cpu_idle) / spent);
  }
  state.cpu_total = total;
  state.cpu_idle = idle;
  return used;
}

std::vector<aws::cloudwatch::MetricDatum> host_metrics(const ShipTarget& target, ShipperState& state,
                                                       std::optional<double>& cpu) {
  std::vector<aws::cloudwatch::Dimension> dimensions{{"InstanceId", target.instance_id}};
  std::vector<aws::cloudwatch::MetricDatum> data;
  if (auto memory = memory_used_percent(read_text("/proc/meminfo"))) {
    data.push_back({"mem_used_percent", *memory, "Percent", {}, dimensions});
  }
  struct statvfs disk {};
  std::filesystem::path measured = target.log_file.parent_path();
  if (statvfs(measured.c_str(), &disk) == 0 && disk.f_blocks > 0) {
    double used = 100.0 * (1.0 - static_cast<double>(disk.f_bavail) / static_cast<double>(disk.f_blocks));
    data.push_back({"disk_used_percent", used, "Percent", {}, dimensions});
  }
  cpu = cpu_used_percent(state);
  if (cpu) data.push_back({"cpu_usage_active", *cpu, "Percent", {}, dimensions});
  return data;
}

}  // namespace

std::optional<double> memory_used_percent(const std::string& meminfo) {
  std::optional<double> total;
  std::optional<double> available;
  std::istringstream lines(meminfo);
  std::string key;
  double kib = 0;
  while (lines >> key >> kib) {
    if (key == "MemTotal:") total = kib;
    if (key == "MemAvailable:") available = kib;
    std::string unit;
    std::getline(lines, unit);
  }
  if (!total || !available || *total <= 0) return std::nullopt;
  return 100.0 * (1.0 - *available / *total);
}

Result<ShipResult> ship_once(aws::AwsClient& client, const ShipTarget& target, ShipperState& state) {
  ShipResult result;
  ShipperState before = state;
  std::vector<std::string> lines = read_new_lines(target.log_file, state);
  if (!lines.empty()) {
    Status stream = ensure_stream(client, target);
    if (!stream) {
      state = before;
      return fail(stream.error());
    }
    Status sent = send_lines(client, target, lines);
    if (!sent) {
      state = before;  // send the same lines again next time
      return fail(sent.error());
    }
    result.lines_sent = static_cast<int>(lines.size());
  }

  if (target.metrics_namespace.empty()) return result;
  std::optional<double> cpu;
  std::vector<aws::cloudwatch::MetricDatum> data = host_metrics(target, state, cpu);
  if (!data.empty()) {
    auto published = aws::cloudwatch::put_metric_data(client, target.metrics_namespace, data);
    if (!published) return fail(published.error().to_error());
    result.metrics_sent = static_cast<int>(data.size());
  }
  if (target.emulate_ec2_cpu && cpu) {
    auto ec2 = aws::cloudwatch::put_metric_data(
        client, "AWS/EC2", {{"CPUUtilization", *cpu, "Percent", {}, {{"InstanceId", target.instance_id}}}});
    if (!ec2) return fail(ec2.error().to_error());
    ++result.metrics_sent;
  }
  log::get("cwagent")->debug("shipped {} lines and {} metrics from {}", result.lines_sent, result.metrics_sent,
                             target.log_file.string());
  return result;
}

}  // namespace hivemind::cwagent
