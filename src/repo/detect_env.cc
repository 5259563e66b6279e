// Environment variables that the app reads, and the backing services
// (PostgreSQL, MySQL, Redis, MongoDB) that it needs.

#include <algorithm>
#include <array>
#include <regex>

#include "common/strings.h"
#include "repo/analysis_internal.h"
#include "repo/regex_scan.h"

namespace hivemind::repo::detail {
namespace {

constexpr size_t kMaxEvidencePerFinding = 5;

// Kind of a read, by what it does when the variable is missing.
enum class ReadKind {
  kRequired,        // fails or misbehaves without it: os.environ["X"], ENV.fetch("X")
  kOptional,        // checks for it or accepts none: os.getenv("X"), `process.env.X === "1"`
  kWithDefault,     // falls back to a value: process.env.X || 3000
  kExampleValue,    // listed with a value in an example file
  kExampleNoValue,  // listed with an empty value in an example file
};

struct EnvRead {
  std::string name;
  ReadKind kind;
  std::string default_value;
  Evidence evidence;
};

// What follows a read decides its kind in JavaScript, Ruby and Rust, where
// the same expression can be required or defaulted.
enum class After { kNothing, kFallback, kComparison };

struct ReadPattern {
  const char* required;  // substring that must occur for the regex to run
  std::regex pattern;    // group 1: the name; group 2, when present: a default
  ReadKind kind;         // when the pattern decides alone
  bool inspect_after;    // decide from the text after the match
};

const std::vector<ReadPattern>& read_patterns() {
  static const std::vector<ReadPattern> kPatterns = {
      {"process.env", std::regex(R"(process\.env\.([A-Za-z_][A-Za-z0-9_]*))"), ReadKind::kRequired, true},
      {"process.env", std::regex(R"(process\.env\[\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]\s*\])"), ReadKind::kRequired,
       true},
      {"import.meta.env", std::regex(R"(import\.meta\.env\.([A-Z_][A-Z0-9_]*))"), ReadKind::kRequired, true},
      {"Deno.env", std::regex(R"(Deno\.env\.get\(\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]\s*\))"), ReadKind::kRequired,
       true},
      {"environ[", std::regex(R"(environ\[\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]\s*\])"), ReadKind::kRequired, false},
      {"getenv", std::regex(R"((?:getenv)\(\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]\s*(?:,\s*([^)\n]*))?\))"),
       ReadKind::kOptional, false},
      {"environ.get", std::regex(R"((?:environ\.get)\(\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]\s*(?:,\s*([^)\n]*))?\))"),
       ReadKind::kOptional, false},
      {"ENV[", std::regex(R"(ENV\[\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]\s*\])"), ReadKind::kRequired, true},
      {"ENV.fetch", std::regex(R"(ENV\.fetch\(\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]\s*(?:,\s*([^)\n]*))?\))"),
       ReadKind::kRequired, false},
      {"os.Getenv", std::regex(R"re(os\.Getenv\(\s*"([A-Za-z_][A-Za-z0-9_]*)"\s*\))re"), ReadKind::kRequired, false},
      {"os.LookupEnv", std::regex(R"re(os\.LookupEnv\(\s*"([A-Za-z_][A-Za-z0-9_]*)"\s*\))re"), ReadKind::kOptional,
       false},
      {"System.getenv", std::regex(R"re(System\.getenv\(\s*"([A-Za-z_][A-Za-z0-9_]*)"\s*\))re"), ReadKind::kRequired,
       false},
      {"env::var", std::regex(R"re(env::var\(\s*"([A-Za-z_][A-Za-z0-9_]*)"\s*\))re"), ReadKind::kRequired, true},
      {"$_ENV", std::regex(R"(\$_ENV\[\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]\s*\])"), ReadKind::kRequired, false},
      {"env(", std::regex(R"(\benv\(\s*['"]([A-Z_][A-Z0-9_]*)['"]\s*(?:,\s*([^)\n]*))?\))"), ReadKind::kRequired,
       false},
  };
  return kPatterns;
}

// Variables that the platform sets for every app, so they are never required.
bool is_platform_variable(const std::string& name) { return name == "PORT" || name == "NODE_ENV"; }

bool looks_secret(const std::string& name) {
  for (const char* word : {"SECRET", "PASSWORD", "PASSWD", "TOKEN", "KEY", "CREDENTIAL", "PRIVATE", "AUTH"}) {
    if (name.find(word) != std::string::npos) return true;
  }
  return false;
}

// Removes the quotes of a literal, and the user and password of a URL.
std::string clean_default(const std::string& name, std::string value) {
  value = trim(value);
  if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'' || value.front() == '`') &&
      value.back() == value.front()) {
    value = value.substr(1, value.size() - 2);
  }
  if (looks_secret(name)) return "";
  size_t scheme = value.find("://");
  size_t at = value.find('@');
  if (scheme != std::string::npos && at != std::string::npos && at > scheme) {
    value = value.substr(0, scheme + 3) + "***" + value.substr(at);
  }
  if (value.size() > 80) value = value.substr(0, 80);
  return value;
}

// Reads the fallback expression after `||`, `??` or `.unwrap_or(`, up to the
// end of the expression.
std::string fallback_expression(std::string_view rest) {
  size_t end = rest.find_first_of(";,)\n");
  return std::string(rest.substr(0, end));
}

After inspect_after(std::string_view rest, std::string& fallback) {
  size_t first = rest.find_first_not_of(" \t)");
  if (first == std::string_view::npos) return After::kNothing;
  rest = rest.substr(first);
  for (std::string_view op : {"||", "??"}) {
    if (starts_with(rest, op)) {
      fallback = fallback_expression(rest.substr(2));
      return After::kFallback;
    }
  }
  if (starts_with(rest, ".unwrap_or")) {
    size_t open = rest.find('(');
    fallback = open == std::string_view::npos ? "" : fallback_expression(rest.substr(open + 1));
    return After::kFallback;
  }
  for (std::string_view op : {"===", "!==", "==", "!=", "?"}) {
    if (starts_with(rest, op)) return After::kComparison;
  }
  return After::kNothing;
}

void code_reads(const std::string& path, const std::string& text, std::vector<EnvRead>& out) {
  for (const ReadPattern& pattern : read_patterns()) {
    for_each_match(text, pattern.required, pattern.pattern, [&](const std::smatch& match, size_t window_start) {
      auto position = [&](int group) { return window_start + static_cast<size_t>(match.position(group)); };
      std::string name = match.str(1);
      EnvRead read{name, pattern.kind, "", evidence_at(path, text, position(1))};
      if (match.size() > 2 && match[2].matched && !trim(match.str(2)).empty()) {
        read.kind = ReadKind::kWithDefault;
        read.default_value = clean_default(name, match.str(2));
      }
      if (pattern.inspect_after) {
        std::string fallback;
        size_t after = position(0) + static_cast<size_t>(match.length(0));
        After kind = inspect_after(std::string_view(text).substr(after, 120), fallback);
        if (kind == After::kFallback) {
          read.kind = ReadKind::kWithDefault;
          read.default_value = clean_default(name, fallback);
        }
        if (kind == After::kComparison) read.kind = ReadKind::kOptional;
      }
      // NOTE: a Go read counts as required unless the code tests it for "" soon after.
      if (pattern.required == std::string_view("os.Getenv")) {
        std::string_view next = std::string_view(text).substr(position(0), 200);
        if (next.find("== \"\"") != std::string_view::npos) read.kind = ReadKind::kOptional;
      }
      out.push_back(std::move(read));
    });
  }
}

// Reads `${NAME}` and `${NAME:default}` placeholders of Spring configuration.
void placeholder_reads(const std::string& path, const std::string& text, std::vector<EnvRead>& out) {
  static const std::regex kPlaceholder(R"(\$\{([A-Z_][A-Z0-9_]*)(?::([^}]*))?\})");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kPlaceholder); it != std::sregex_iterator(); ++it) {
    EnvRead read{it->str(1), ReadKind::kRequired, "", evidence_at(path, text, static_cast<size_t>(it->position(1)))};
    if ((*it)[2].matched) {
      read.kind = ReadKind::kWithDefault;
      read.default_value = clean_default(read.name, it->str(2));
    }
    out.push_back(std::move(read));
  }
}

constexpr std::array<const char*, 5> kEnvExampleFiles = {".env.example", ".env.sample", ".env.template", ".env.dist",
                                                         "example.env"};

void example_reads(const RepoFiles& files, std::vector<EnvRead>& out) {
  static const std::regex kLine(R"((?:^|\n)[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)[ \t]*=([^\n]*))");
  for (const char* path : kEnvExampleFiles) {
    const std::string* text = files.read(path);
    if (!text) continue;
    for (auto it = std::sregex_iterator(text->begin(), text->end(), kLine); it != std::sregex_iterator(); ++it) {
      std::string name = it->str(1);
      std::string value = trim(it->str(2));
      if (size_t comment = value.find(" #"); comment != std::string::npos) value = trim(value.substr(0, comment));
      ReadKind kind = value.empty() ? ReadKind::kExampleNoValue : ReadKind::kExampleValue;
      out.push_back(
          {name, kind, clean_default(name, value), evidence_at(path, *text, static_cast<size_t>(it->position(1)))});
    }
  }
}

bool evidence_less(const Evidence& a, const Evidence& b) {
  return std::tie(a.file, a.line, a.detail) < std::tie(b.file, b.line, b.detail);
}

void add_evidence(std::vector<Evidence>& list, const Evidence& evidence) {
  bool duplicate = std::any_of(list.begin(), list.end(),
                               [&](const Evidence& e) { return e.file == evidence.file && e.line == evidence.line; });
  if (!duplicate) list.push_back(evidence);
}

// Folds every read of one variable into its finding.
EnvVar merge_reads(const std::string& name, const std::vector<const EnvRead*>& reads) {
  EnvVar variable;
  variable.name = name;
  bool any_code = false, any_required = false, any_lenient = false, example_without_value = false;
  std::string code_default, example_default;
  for (const EnvRead* read : reads) {
    bool from_code = read->kind != ReadKind::kExampleValue && read->kind != ReadKind::kExampleNoValue;
    any_code |= from_code;
    any_required |= read->kind == ReadKind::kRequired;
    any_lenient |= read->kind == ReadKind::kOptional || read->kind == ReadKind::kWithDefault;
    example_without_value |= read->kind == ReadKind::kExampleNoValue;
    if (read->kind == ReadKind::kWithDefault && code_default.empty()) code_default = read->default_value;
    if (read->kind == ReadKind::kExampleValue && example_default.empty()) example_default = read->default_value;
    add_evidence(variable.evidence, read->evidence);
  }

  std::sort(variable.evidence.begin(), variable.evidence.end(), evidence_less);
  if (variable.evidence.size() > kMaxEvidencePerFinding) variable.evidence.resize(kMaxEvidencePerFinding);
  variable.default_value = !code_default.empty() ? code_default : example_default;
  if (any_code) {
    variable.required = any_required && !any_lenient;
  } else {
    variable.required = example_without_value;
  }
  if (is_platform_variable(name)) variable.required = false;
  return variable;
}

struct ServiceRule {
  const char* needle;  // dependency name (a trailing '*' makes it a prefix), URL scheme or variable prefix
  ServiceKind kind;
};

constexpr ServiceRule kDependencyRules[] = {
    {"pg", ServiceKind::kPostgresql},
    {"pg-promise", ServiceKind::kPostgresql},
    {"postgres", ServiceKind::kPostgresql},
    {"psycopg2", ServiceKind::kPostgresql},
    {"psycopg2-binary", ServiceKind::kPostgresql},
    {"psycopg", ServiceKind::kPostgresql},
    {"psycopg-binary", ServiceKind::kPostgresql},
    {"asyncpg", ServiceKind::kPostgresql},
    {"github.com/lib/pq", ServiceKind::kPostgresql},
    {"github.com/jackc/pgx*", ServiceKind::kPostgresql},
    {"gorm.io/driver/postgres", ServiceKind::kPostgresql},
    {"postgresql", ServiceKind::kPostgresql},
    {"tokio-postgres", ServiceKind::kPostgresql},
    {"mysql", ServiceKind::kMysql},
    {"mysql2", ServiceKind::kMysql},
    {"mariadb", ServiceKind::kMysql},
    {"mysqlclient", ServiceKind::kMysql},
    {"pymysql", ServiceKind::kMysql},
    {"mysql-connector-python", ServiceKind::kMysql},
    {"aiomysql", ServiceKind::kMysql},
    {"github.com/go-sql-driver/mysql", ServiceKind::kMysql},
    {"gorm.io/driver/mysql", ServiceKind::kMysql},
    {"mysql-connector-j", ServiceKind::kMysql},
    {"mysql-connector-java", ServiceKind::kMysql},
    {"mariadb-java-client", ServiceKind::kMysql},
    {"redis", ServiceKind::kRedis},
    {"ioredis", ServiceKind::kRedis},
    {"bull", ServiceKind::kRedis},
    {"bullmq", ServiceKind::kRedis},
    {"@redis/client", ServiceKind::kRedis},
    {"rq", ServiceKind::kRedis},
    {"django-redis", ServiceKind::kRedis},
    {"sidekiq", ServiceKind::kRedis},
    {"github.com/redis/go-redis*", ServiceKind::kRedis},
    {"github.com/go-redis/redis*", ServiceKind::kRedis},
    {"github.com/gomodule/redigo", ServiceKind::kRedis},
    {"spring-boot-starter-data-redis", ServiceKind::kRedis},
    {"predis/predis", ServiceKind::kRedis},
    {"jedis", ServiceKind::kRedis},
    {"mongoose", ServiceKind::kMongodb},
    {"mongodb", ServiceKind::kMongodb},
    {"pymongo", ServiceKind::kMongodb},
    {"motor", ServiceKind::kMongodb},
    {"mongoengine", ServiceKind::kMongodb},
    {"mongoid", ServiceKind::kMongodb},
    {"go.mongodb.org/mongo-driver*", ServiceKind::kMongodb},
    {"spring-boot-starter-data-mongodb", ServiceKind::kMongodb},
    {"mongodb/mongodb", ServiceKind::kMongodb},
};

constexpr ServiceRule kUrlRules[] = {
    {"postgres://", ServiceKind::kPostgresql},
    {"postgresql://", ServiceKind::kPostgresql},
    {"postgresql+", ServiceKind::kPostgresql},
    {"jdbc:postgresql:", ServiceKind::kPostgresql},
    {"provider = \"postgresql\"", ServiceKind::kPostgresql},
    {"mysql://", ServiceKind::kMysql},
    {"mysql+", ServiceKind::kMysql},
    {"mariadb://", ServiceKind::kMysql},
    {"jdbc:mysql:", ServiceKind::kMysql},
    {"jdbc:mariadb:", ServiceKind::kMysql},
    {"provider = \"mysql\"", ServiceKind::kMysql},
    {"DB_CONNECTION=mysql", ServiceKind::kMysql},
    {"DB_CONNECTION=pgsql", ServiceKind::kPostgresql},
    {"redis://", ServiceKind::kRedis},
    {"rediss://", ServiceKind::kRedis},
    {"mongodb://", ServiceKind::kMongodb},
    {"mongodb+srv://", ServiceKind::kMongodb},
    {"provider = \"mongodb\"", ServiceKind::kMongodb},
};

constexpr ServiceRule kVariableRules[] = {
    {"POSTGRES", ServiceKind::kPostgresql},   {"PGHOST", ServiceKind::kPostgresql},
    {"PGDATABASE", ServiceKind::kPostgresql}, {"MYSQL", ServiceKind::kMysql},
    {"REDIS", ServiceKind::kRedis},           {"MONGO", ServiceKind::kMongodb},
};

constexpr struct {
  const char* image;
  ServiceKind kind;
} kComposeImages[] = {{"postgres", ServiceKind::kPostgresql},   {"postgis", ServiceKind::kPostgresql},
                      {"postgresql", ServiceKind::kPostgresql}, {"mysql", ServiceKind::kMysql},
                      {"mariadb", ServiceKind::kMysql},         {"redis", ServiceKind::kRedis},
                      {"valkey", ServiceKind::kRedis},          {"mongo", ServiceKind::kMongodb},
                      {"mongodb", ServiceKind::kMongodb}};

using ServiceEvidence = std::map<ServiceKind, std::vector<Evidence>>;

// Files whose text may hold a database URL: code, example environments and
// known configuration files.
bool may_hold_url(const std::string& path) {
  std::string_view name = file_name(path);
  if (is_code_file(path)) return true;
  for (const char* example : kEnvExampleFiles) {
    if (name == example) return true;
  }
  return name == "schema.prisma" || name == "database.yml" || starts_with(name, "application.") ||
         name == "alembic.ini" || name == "config.toml" || name == "settings.toml";
}

void url_evidence(const RepoFiles& files, ServiceEvidence& found) {
  for (const std::string& path : files.paths()) {
    if (!may_hold_url(path) || path.find("test") != std::string::npos) continue;
    const std::string* text = files.read(path);
    if (!text) continue;
    for (const ServiceRule& rule : kUrlRules) {
      size_t offset = text->find(rule.needle);
      if (offset != std::string::npos) add_evidence(found[rule.kind], evidence_at(path, *text, offset));
    }
  }
}

void compose_evidence(const RepoFiles& files, ServiceEvidence& found) {
  std::string path = files.first_existing({"compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"});
  const std::string* text = files.read(path);
  if (!text) return;
  for (size_t offset = text->find("image:"); offset != std::string::npos; offset = text->find("image:", offset + 1)) {
    size_t end = text->find('\n', offset);
    std::string image = trim(text->substr(offset + 6, end == std::string::npos ? std::string::npos : end - offset - 6));
    image.erase(std::remove_if(image.begin(), image.end(), [](char c) { return c == '"' || c == '\''; }), image.end());
    std::string base = image.substr(image.rfind('/') == std::string::npos ? 0 : image.rfind('/') + 1);
    base = base.substr(0, base.find(':'));
    for (const auto& entry : kComposeImages) {
      if (base == entry.image) add_evidence(found[entry.kind], evidence_at(path, *text, offset));
    }
  }
}

void variable_evidence(const Analysis& analysis, ServiceEvidence& found) {
  for (const EnvVar& variable : analysis.env_vars) {
    for (const ServiceRule& rule : kVariableRules) {
      if (starts_with(variable.name, rule.needle) && !variable.evidence.empty()) {
        add_evidence(found[rule.kind], variable.evidence.front());
      }
    }
  }
  // DATABASE_URL names no engine; PostgreSQL is the usual one unless MySQL showed up.
  for (const EnvVar& variable : analysis.env_vars) {
    if (variable.name != "DATABASE_URL" || variable.evidence.empty()) continue;
    if (!found.contains(ServiceKind::kPostgresql) && !found.contains(ServiceKind::kMysql)) {
      add_evidence(found[ServiceKind::kPostgresql], variable.evidence.front());
    }
  }
}

bool rule_matches(const std::string& name, std::string_view needle) {
  if (!needle.empty() && needle.back() == '*') return starts_with(name, needle.substr(0, needle.size() - 1));
  return name == needle;
}

}  // namespace

void detect_env_vars(const RepoFiles& files, Analysis& analysis) {
  std::vector<EnvRead> reads;
  for (const std::string& path : files.paths()) {
    bool spring_config = starts_with(file_name(path), "application.");
    if ((!is_code_file(path) && !spring_config) || path.find("test") != std::string::npos) continue;
    const std::string* text = files.read(path);
    if (!text) continue;
    if (spring_config) {
      placeholder_reads(path, *text, reads);
    } else {
      code_reads(path, *text, reads);
    }
  }
  example_reads(files, reads);

  std::map<std::string, std::vector<const EnvRead*>> by_name;
  for (const EnvRead& read : reads) by_name[read.name].push_back(&read);
  analysis.env_vars.clear();
  for (const auto& [name, list] : by_name) analysis.env_vars.push_back(merge_reads(name, list));
}

void detect_services(const RepoFiles& files, const std::vector<Dependency>& dependencies, Analysis& analysis) {
  ServiceEvidence found;
  for (const Dependency& dependency : dependencies) {
    for (const ServiceRule& rule : kDependencyRules) {
      if (rule_matches(dependency.name, rule.needle)) add_evidence(found[rule.kind], dependency.evidence);
    }
  }
  url_evidence(files, found);
  compose_evidence(files, found);
  variable_evidence(analysis, found);

  analysis.services.clear();
  for (auto& [kind, evidence] : found) {
    std::sort(evidence.begin(), evidence.end(), evidence_less);
    if (evidence.size() > kMaxEvidencePerFinding) evidence.resize(kMaxEvidencePerFinding);
    analysis.services.push_back(BackingService{kind, Origin::kDetected, evidence});
  }
}

}  // namespace hivemind::repo::detail
