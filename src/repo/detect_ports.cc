// Listening ports, whether the app serves HTTP, and its health check path.

#include <algorithm>
#include <regex>

#include "common/strings.h"
#include "repo/analysis_internal.h"
#include "repo/regex_scan.h"

namespace hivemind::repo::detail {
namespace {

// Sources of a port, strongest first. A port seen by several sources keeps
// the evidence of the strongest, and the primary port is the strongest one.
enum class PortRank { kDockerfile, kStartCommand, kCode, kEnvExample, kCompose, kFrameworkDefault };

struct PortCandidate {
  int port;
  PortRank rank;
  Evidence evidence;
};

// A regular expression whose first group is a port. Every match contains
// `required`, and the expression runs only around its occurrences
// (for_each_match), because std::regex is slow on whole files.
struct PortPattern {
  const char* required;
  std::regex pattern;
};

const std::vector<PortPattern>& code_port_patterns() {
  static const std::vector<PortPattern> kPatterns = {
      // JavaScript and TypeScript.
      {"PORT",
       std::regex(R"(process\.env(?:\.PORT|\[['"]PORT['"]\])\)?(?:\s*,\s*10\s*\))?\s*(?:\|\||\?\?)\s*['"]?(\d{2,5}))")},
      {"listen", std::regex(R"(\.listen\(\s*(\d{2,5})\b)")},
      {"listen", std::regex(R"(\.listen\(\s*\{[^}]*\bport:\s*(\d{2,5}))")},
      {"PORT", std::regex(R"(\b(?:const|let|var)\s+PORT\s*(?::\s*number\s*)?=\s*(\d{2,5})\b)")},
      {"port", std::regex(R"(\b(?:const|let|var)\s+port\s*(?::\s*number\s*)?=\s*(\d{2,5})\b)")},
      // Python.
      {"PORT", std::regex(R"((?:environ\.get|getenv)\(\s*['"]PORT['"]\s*,\s*['"]?(\d{2,5}))")},
      {"port", std::regex(R"(\.run\([^)]*\bport\s*=\s*(\d{2,5}))")},
      // Ruby.
      {"PORT", std::regex(R"(ENV\.fetch\(\s*['"]PORT['"]\s*(?:,\s*|\)\s*\{\s*)['"]?(\d{2,5}))")},
      {"PORT", std::regex(R"(ENV\[\s*['"]PORT['"]\s*\]\s*\|\|\s*['"]?(\d{2,5}))")},
      {"port", std::regex(R"(set\s+:port,\s*(\d{2,5}))")},
      // Go and Rust address literals, and Go's `port = "8080"` fallback.
      {":", std::regex(R"re("(?:0\.0\.0\.0|127\.0\.0\.1|localhost|\[::\])?:(\d{2,5})")re")},
      {"port", std::regex(R"re(\bport\s*:?=\s*"(\d{2,5})")re")},
      {"PORT", std::regex(R"re(\bPORT\s*:?=\s*"(\d{2,5})")re")},
      {"0, 0, 0, 0", std::regex(R"(\[0,\s*0,\s*0,\s*0\],\s*(\d{2,5})\))")},
      // Spring Boot properties and YAML.
      {"port", std::regex(R"(server\.port\s*[=:]\s*(?:\$\{PORT:)?(\d{2,5}))")},
  };
  return kPatterns;
}

bool is_backing_service_port(int port) { return port == 5432 || port == 3306 || port == 6379 || port == 27017; }

bool valid_port(int port) { return port > 0 && port <= 65535; }

void add_matches(const std::string& path, const std::string& text, const PortPattern& pattern, PortRank rank,
                 std::vector<PortCandidate>& out) {
  for_each_match(text, pattern.required, pattern.pattern, [&](const std::smatch& match, size_t window_start) {
    int port = std::stoi(match.str(1));
    if (!valid_port(port) || is_backing_service_port(port)) return;
    out.push_back({port, rank, evidence_at(path, text, window_start + static_cast<size_t>(match.position(1)))});
  });
}

void code_ports(const RepoFiles& files, std::vector<PortCandidate>& out) {
  for (const std::string& path : files.paths()) {
    bool spring_config = starts_with(file_name(path), "application") &&
                         (extension(path) == ".properties" || extension(path) == ".yml" || extension(path) == ".yaml");
    if (!is_code_file(path) && !spring_config) continue;
    if (path.find("test") != std::string::npos) continue;
    const std::string* text = files.read(path);
    if (!text) continue;
    for (const PortPattern& pattern : code_port_patterns()) add_matches(path, *text, pattern, PortRank::kCode, out);
  }
}

void command_ports(const Analysis& analysis, std::vector<PortCandidate>& out) {
  static const std::regex kFlags(R"((?:--port[= ]|-p\s+|--bind[= ][^\s:]*:|-b\s+[^\s:]*:|PORT=)(\d{2,5})\b)");
  if (!analysis.start_command) return;
  const std::string& command = analysis.start_command->value;
  std::smatch match;
  if (std::regex_search(command, match, kFlags)) {
    out.push_back({std::stoi(match.str(1)), PortRank::kStartCommand, analysis.start_command->evidence});
  }
}

// fastify-cli's `fastify start` (read in fastify-cli 8.0.2) listens on --port,
// else on $PORT, else on 3000. Fastify itself has no such default: in fastify
// 5.5's own tests, fastify.listen() without arguments takes a random free port.
void fastify_cli_ports(const RepoFiles& files, std::vector<PortCandidate>& out) {
  static const std::regex kPortFlag(R"((?:^|\s)(?:-p|--port)[= ]\s*(\d{2,5})\b)");
  auto manifest = read_json_manifest(files, "package.json");
  if (!manifest || !manifest->scripts.contains("start")) return;
  const std::string& script = manifest->scripts.at("start");
  if (!runs_fastify_start(script)) return;

  Evidence evidence = evidence_of("package.json", manifest->text, "\"start\":");
  std::smatch match;
  if (std::regex_search(script, match, kPortFlag)) {
    out.push_back({std::stoi(match.str(1)), PortRank::kStartCommand, evidence});
  } else {
    out.push_back({3000, PortRank::kFrameworkDefault, evidence});
  }
}

void env_example_ports(const RepoFiles& files, std::vector<PortCandidate>& out) {
  static const std::regex kPort(R"((?:^|\n)\s*(?:export\s+)?PORT\s*=\s*['"]?(\d{2,5}))");
  for (const char* path : {".env.example", ".env.sample", ".env.template", ".env.dist"}) {
    const std::string* text = files.read(path);
    std::smatch match;
    if (text && std::regex_search(*text, match, kPort)) {
      out.push_back({std::stoi(match.str(1)), PortRank::kEnvExample,
                     evidence_at(path, *text, static_cast<size_t>(match.position(1)))});
    }
  }
}

// Reads the container side of `ports:` entries of services that build this
// folder (`build:`) in a Compose file. A line-based reading of the YAML is
// enough for the entries Compose files use: "8080:3000", 3000, "127.0.0.1:80:80".
void compose_ports(const RepoFiles& files, std::vector<PortCandidate>& out) {
  std::string path = files.first_existing({"compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"});
  const std::string* text = files.read(path);
  if (!text) return;

  std::vector<PortCandidate> pending;  // ports of the current service
  bool builds = false;
  bool in_ports = false;
  auto flush = [&] {
    if (builds) out.insert(out.end(), pending.begin(), pending.end());
    pending.clear();
    builds = false;
  };

  size_t start = 0;
  while (start < text->size()) {
    size_t end = text->find('\n', start);
    if (end == std::string::npos) end = text->size();
    std::string_view raw = std::string_view(*text).substr(start, end - start);
    size_t indent = raw.find_first_not_of(' ');
    std::string line = trim(raw);
    if (indent == 2 && !line.empty() && line.back() == ':') flush();
    if (indent != std::string_view::npos && indent >= 4 && starts_with(line, "build")) builds = true;
    if (starts_with(line, "ports:")) {
      in_ports = true;
    } else if (in_ports && starts_with(line, "- ")) {
      std::string entry = trim(line.substr(2));
      entry.erase(std::remove_if(entry.begin(), entry.end(), [](char c) { return c == '"' || c == '\''; }),
                  entry.end());
      std::string container = entry.substr(entry.rfind(':') == std::string::npos ? 0 : entry.rfind(':') + 1);
      container = container.substr(0, container.find('/'));
      if (!container.empty() && std::all_of(container.begin(), container.end(), ::isdigit) && container.size() <= 5) {
        pending.push_back({std::stoi(container), PortRank::kCompose, evidence_at(path, *text, start)});
      }
    } else if (!line.empty()) {
      in_ports = false;
    }
    start = end + 1;
  }
  flush();
}

struct FrameworkPort {
  const char* framework;
  int port;
};

// Ports that each framework listens on when the app does not choose one.
constexpr FrameworkPort kFrameworkPorts[] = {
    {"next", 3000},    {"nuxt", 3000},    {"nest", 3000},    {"rails", 3000},       {"flask", 5000}, {"django", 8000},
    {"fastapi", 8000}, {"laravel", 8000}, {"sinatra", 4567}, {"spring-boot", 8080}, {"gin", 8080},   {"fiber", 3000},
};

void default_ports(const Analysis& analysis, std::vector<PortCandidate>& out) {
  if (analysis.framework) {
    for (const FrameworkPort& entry : kFrameworkPorts) {
      if (analysis.framework->value == entry.framework) {
        out.push_back({entry.port, PortRank::kFrameworkDefault, analysis.framework->evidence});
      }
    }
  }
  if (analysis.language.value == "static") out.push_back({80, PortRank::kFrameworkDefault, analysis.language.evidence});
}

// Orders the candidates into findings: the strongest first, the rest ascending.
std::vector<Finding<int>> rank_ports(std::vector<PortCandidate> candidates) {
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const PortCandidate& a, const PortCandidate& b) { return a.rank < b.rank; });
  std::vector<Finding<int>> ports;
  for (const PortCandidate& candidate : candidates) {
    bool seen =
        std::any_of(ports.begin(), ports.end(), [&](const Finding<int>& p) { return p.value == candidate.port; });
    if (seen) continue;
    Origin origin = candidate.rank == PortRank::kFrameworkDefault ? Origin::kDefault : Origin::kDetected;
    ports.push_back(Finding<int>{candidate.port, origin, candidate.evidence});
  }
  if (ports.size() > 2) {
    std::sort(ports.begin() + 1, ports.end(),
              [](const Finding<int>& a, const Finding<int>& b) { return a.value < b.value; });
  }
  return ports;
}

// Route paths that health checks conventionally use, preferred first.
constexpr const char* kHealthPaths[] = {"/healthz",      "/health",  "/api/health", "/healthcheck",
                                        "/health-check", "/_health", "/livez",      "/readyz",
                                        "/api/healthz",  "/ping",    "/status",     "/up"};

// Returns the rank of the health route whose quoted literal starts at `offset`.
std::optional<size_t> health_rank_at(std::string_view text, size_t offset) {
  char quote = text[offset];
  for (size_t rank = 0; rank < std::size(kHealthPaths); ++rank) {
    std::string_view path = kHealthPaths[rank];
    for (std::string_view form : {path, path.substr(1)}) {  // Django writes routes without the leading slash
      std::string_view rest = text.substr(offset + 1);
      if (!starts_with(rest, form)) continue;
      std::string_view after = rest.substr(form.size());
      if (!after.empty() && after[0] == '/') after.remove_prefix(1);
      if (!after.empty() && after[0] == quote) return rank;
    }
  }
  return std::nullopt;
}

// Returns the route that a Next.js App Router or Pages Router file serves
// ("app/api/health/route.js" -> "/api/health"), or an empty string.
std::string next_route(std::string_view path) {
  for (std::string_view root : {"src/app/", "app/"}) {
    if (!starts_with(path, root)) continue;
    size_t slash = path.rfind('/');
    std::string_view name = path.substr(slash + 1);
    if (!starts_with(name, "route.")) return {};
    return "/" + std::string(path.substr(root.size(), slash - root.size()));
  }
  for (std::string_view root : {"src/pages/", "pages/"}) {
    if (!starts_with(path, root)) continue;
    std::string_view rest = path.substr(root.size());
    return "/" + std::string(rest.substr(0, rest.rfind('.')));
  }
  return {};
}

}  // namespace

void detect_ports(const RepoFiles& files, Analysis& analysis) {
  std::vector<PortCandidate> candidates;
  if (auto docker = read_dockerfile(files)) {
    for (const Finding<int>& exposed : docker->exposed_ports) {
      candidates.push_back({exposed.value, PortRank::kDockerfile, exposed.evidence});
    }
  }
  command_ports(analysis, candidates);
  fastify_cli_ports(files, candidates);
  code_ports(files, candidates);
  env_example_ports(files, candidates);
  compose_ports(files, candidates);
  default_ports(analysis, candidates);
  analysis.ports = rank_ports(std::move(candidates));
}

void decide_web_service(Analysis& analysis) {
  if (analysis.framework) {
    analysis.web_service = Finding<bool>{true, Origin::kDetected, analysis.framework->evidence};
  } else if (!analysis.ports.empty()) {
    analysis.web_service = Finding<bool>{true, analysis.ports.front().origin, analysis.ports.front().evidence};
  } else {
    analysis.web_service = Finding<bool>{false, Origin::kDefault, Evidence{"", 0, "no web framework and no port"}};
  }
}

void detect_health_check(const RepoFiles& files, Analysis& analysis) {
  std::optional<size_t> best_rank;
  Evidence best_evidence;
  for (const std::string& path : files.paths()) {
    if (!is_code_file(path) || path.find("test") != std::string::npos) continue;
    std::string route = next_route(path);
    for (size_t rank = 0; rank < std::size(kHealthPaths) && !route.empty(); ++rank) {
      if (route == kHealthPaths[rank] && (!best_rank || rank < *best_rank)) {
        best_rank = rank;
        best_evidence = whole_file(path, "serves " + route);
      }
    }
    const std::string* text = files.read(path);
    if (!text) continue;
    for (size_t offset = text->find_first_of("\"'`"); offset != std::string::npos;
         offset = text->find_first_of("\"'`", offset + 1)) {
      std::optional<size_t> rank = health_rank_at(*text, offset);
      if (rank && (!best_rank || *rank < *best_rank)) {
        best_rank = rank;
        best_evidence = evidence_at(path, *text, offset);
      }
    }
  }

  if (best_rank) {
    analysis.health_check_path = Finding<std::string>{kHealthPaths[*best_rank], Origin::kDetected, best_evidence};
  } else if (analysis.web_service.value) {
    analysis.health_check_path = Finding<std::string>{"/", Origin::kDefault, Evidence{"", 0, "no health route found"}};
  } else {
    analysis.health_check_path = Finding<std::string>{"", Origin::kDefault, Evidence{"", 0, "not a web service"}};
  }
}

}  // namespace hivemind::repo::detail
