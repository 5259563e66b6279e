#include "state/model.h"

#include <array>
#include <random>
#include <utility>

namespace hivemind::state {
namespace {

// Maps each enum value to its stored spelling. The spellings are written to
// the database, so changing one needs a migration.
template <typename Enum, std::size_t N>
using NameTable = std::array<std::pair<Enum, std::string_view>, N>;

constexpr NameTable<DeploymentStatus, 9> kDeploymentStatusNames{{
    {DeploymentStatus::pending, "pending"},
    {DeploymentStatus::deploying, "deploying"},
    {DeploymentStatus::deployed, "deployed"},
    {DeploymentStatus::failed, "failed"},
    {DeploymentStatus::rolling_back, "rolling_back"},
    {DeploymentStatus::rolled_back, "rolled_back"},
    {DeploymentStatus::destroying, "destroying"},
    {DeploymentStatus::destroyed, "destroyed"},
    {DeploymentStatus::updating, "updating"},
}};

constexpr NameTable<EndpointKind, 2> kEndpointKindNames{{
    {EndpointKind::aws, "aws"},
    {EndpointKind::sandbox, "sandbox"},
}};

constexpr NameTable<StageName, 8> kStageNames{{
    {StageName::analyze, "analyze"},
    {StageName::build, "build"},
    {StageName::provision, "provision"},
    {StageName::deploy, "deploy"},
    {StageName::secure, "secure"},
    {StageName::verify, "verify"},
    {StageName::monitor, "monitor"},
    {StageName::report, "report"},
}};

constexpr NameTable<StageOutcome, 4> kStageOutcomeNames{{
    {StageOutcome::running, "running"},
    {StageOutcome::succeeded, "succeeded"},
    {StageOutcome::failed, "failed"},
    {StageOutcome::cancelled, "cancelled"},
}};

constexpr NameTable<ResourceStatus, 6> kResourceStatusNames{{
    {ResourceStatus::creating, "creating"},
    {ResourceStatus::created, "created"},
    {ResourceStatus::create_failed, "create_failed"},
    {ResourceStatus::deleting, "deleting"},
    {ResourceStatus::deleted, "deleted"},
    {ResourceStatus::delete_failed, "delete_failed"},
}};

template <typename Enum, std::size_t N>
std::string_view name_of(const NameTable<Enum, N>& table, Enum value) {
  for (const auto& [candidate, name] : table) {
    if (candidate == value) return name;
  }
  return "unknown";
}

template <typename Enum, std::size_t N>
std::optional<Enum> value_of(const NameTable<Enum, N>& table, std::string_view text) {
  for (const auto& [candidate, name] : table) {
    if (name == text) return candidate;
  }
  return std::nullopt;
}

constexpr std::string_view kBase32Alphabet = "abcdefghijklmnopqrstuvwxyz234567";
constexpr std::size_t kSuffixLength = 6;
constexpr std::size_t kMaxAppSlugLength = 20;

std::string slug_of(std::string_view app_name) {
  std::string slug;
  for (char c : app_name) {
    const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    const bool keep = (lower >= 'a' && lower <= 'z') || (lower >= '0' && lower <= '9');
    if (keep) {
      slug.push_back(lower);
    } else if (!slug.empty() && slug.back() != '-') {
      slug.push_back('-');
    }
    if (slug.size() == kMaxAppSlugLength) break;
  }
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  return slug.empty() ? "app" : slug;
}

bool is_slug_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }

}  // namespace

std::chrono::milliseconds StageRun::duration() const {
  if (!finished_at) return std::chrono::milliseconds{0};
  return std::chrono::duration_cast<std::chrono::milliseconds>(*finished_at - started_at);
}

std::string_view to_string(DeploymentStatus status) { return name_of(kDeploymentStatusNames, status); }
std::string_view to_string(EndpointKind kind) { return name_of(kEndpointKindNames, kind); }
std::string_view to_string(StageName stage) { return name_of(kStageNames, stage); }
std::string_view to_string(StageOutcome outcome) { return name_of(kStageOutcomeNames, outcome); }
std::string_view to_string(ResourceStatus status) { return name_of(kResourceStatusNames, status); }

std::optional<DeploymentStatus> parse_deployment_status(std::string_view text) {
  return value_of(kDeploymentStatusNames, text);
}
std::optional<EndpointKind> parse_endpoint_kind(std::string_view text) { return value_of(kEndpointKindNames, text); }
std::optional<StageName> parse_stage_name(std::string_view text) { return value_of(kStageNames, text); }
std::optional<StageOutcome> parse_stage_outcome(std::string_view text) { return value_of(kStageOutcomeNames, text); }
std::optional<ResourceStatus> parse_resource_status(std::string_view text) {
  return value_of(kResourceStatusNames, text);
}

std::string make_deployment_id(std::string_view app_name) {
  std::random_device entropy;
  std::uniform_int_distribution<std::size_t> pick(0, kBase32Alphabet.size() - 1);

  std::string id = "hm-" + slug_of(app_name) + "-";
  for (std::size_t i = 0; i < kSuffixLength; ++i) id.push_back(kBase32Alphabet[pick(entropy)]);
  return id;
}

bool is_valid_deployment_id(std::string_view id) {
  constexpr std::string_view kPrefix = "hm-";
  if (id.size() < kPrefix.size() + 1 + 1 + kSuffixLength) return false;
  if (id.substr(0, kPrefix.size()) != kPrefix) return false;

  const std::size_t dash = id.size() - kSuffixLength - 1;
  if (id[dash] != '-') return false;
  for (char c : id.substr(dash + 1)) {
    if (kBase32Alphabet.find(c) == std::string_view::npos) return false;
  }

  const std::string_view slug = id.substr(kPrefix.size(), dash - kPrefix.size());
  if (slug.empty() || slug.size() > kMaxAppSlugLength || slug.front() == '-' || slug.back() == '-') return false;
  for (char c : slug) {
    if (!is_slug_char(c)) return false;
  }
  return true;
}

}  // namespace hivemind::state
