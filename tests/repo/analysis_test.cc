// Detectors of the repository analysis, each on a small tree written by the
// test, plus hivemind.toml overrides and errors, monorepos and bad input.

#include "repo/analysis.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "support/temp_dir.h"

namespace hivemind::repo {
namespace {

namespace fs = std::filesystem;

class AnalysisTest : public ::testing::Test {
 protected:
  void write(const std::string& path, const std::string& content) {
    fs::path full = dir_.path() / path;
    fs::create_directories(full.parent_path());
    std::ofstream(full, std::ios::binary) << content;
  }

  Result<Analysis> run(const std::string& app_dir = "") {
    AnalyzeOptions options;
    options.app_dir = app_dir;
    return analyze(dir_.path(), options);
  }

  Analysis run_ok(const std::string& app_dir = "") {
    Result<Analysis> result = run(app_dir);
    EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().describe());
    return result.ok() ? *result : Analysis{};
  }

  static const EnvVar* find_var(const Analysis& analysis, const std::string& name) {
    for (const EnvVar& variable : analysis.env_vars) {
      if (variable.name == name) return &variable;
    }
    return nullptr;
  }

  static bool has_service(const Analysis& analysis, ServiceKind kind) {
    for (const BackingService& service : analysis.services) {
      if (service.kind == kind) return true;
    }
    return false;
  }

  testing::TempDir dir_;
};

TEST_F(AnalysisTest, NodeVersionFromNvmrcWinsOverEngines) {
  write("package.json", R"({"name":"a","engines":{"node":">=18"},"dependencies":{"express":"^4"}})");
  write(".nvmrc", "20.11.1\n");
  Analysis analysis = run_ok();
  ASSERT_TRUE(analysis.runtime_version.has_value());
  EXPECT_EQ(analysis.runtime_version->value, "20.11.1");
  EXPECT_EQ(analysis.runtime_version->evidence.file, ".nvmrc");
  EXPECT_EQ(analysis.runtime_version->evidence.line, 1);
}

TEST_F(AnalysisTest, NodeVersionFromEnginesNamesLine) {
  write("package.json", "{\n  \"name\": \"a\",\n  \"engines\": {\n    \"node\": \">=18\"\n  }\n}\n");
  Analysis analysis = run_ok();
  ASSERT_TRUE(analysis.runtime_version.has_value());
  EXPECT_EQ(analysis.runtime_version->value, ">=18");
  EXPECT_EQ(analysis.runtime_version->evidence.file, "package.json");
  EXPECT_EQ(analysis.runtime_version->evidence.line, 4);
}

TEST_F(AnalysisTest, PythonVersionSources) {
  write("requirements.txt", "flask\n");
  write("runtime.txt", "python-3.10.4\n");
  EXPECT_EQ(run_ok().runtime_version->value, "3.10.4");
  write(".python-version", "3.12\n");
  EXPECT_EQ(run_ok().runtime_version->value, "3.12");
}

TEST_F(AnalysisTest, PyprojectRequiresPython) {
  write("pyproject.toml", "[project]\nname = \"x\"\nrequires-python = \">=3.11\"\ndependencies = [\"fastapi\"]\n");
  Analysis analysis = run_ok();
  EXPECT_EQ(analysis.language.value, "python");
  EXPECT_EQ(analysis.runtime_version->value, ">=3.11");
  EXPECT_EQ(analysis.runtime_version->evidence.line, 3);
  EXPECT_EQ(analysis.framework->value, "fastapi");
}

TEST_F(AnalysisTest, GoVersionAndGinFramework) {
  write("go.mod",
        "module x\n\ngo 1.21\n\nrequire (\n\tgithub.com/gin-gonic/gin v1.9.1\n\tgithub.com/lib/pq v1.10.9\n)\n");
  write("main.go", "package main\nfunc main() { r := gin.Default(); r.Run(\":9000\") }\n");
  Analysis analysis = run_ok();
  EXPECT_EQ(analysis.language.value, "go");
  EXPECT_EQ(analysis.runtime_version->value, "1.21");
  EXPECT_EQ(analysis.framework->value, "gin");
  EXPECT_EQ(analysis.framework->evidence.line, 6);
  EXPECT_EQ(analysis.package_manager->value, "go modules");
  EXPECT_EQ(analysis.primary_port(), 9000);
  EXPECT_TRUE(has_service(analysis, ServiceKind::kPostgresql));
  EXPECT_EQ(analysis.build_command->value, "go build -o app .");
}

TEST_F(AnalysisTest, RubyRailsWithPg) {
  write("Gemfile", "source \"https://rubygems.org\"\nruby \"3.3.0\"\ngem \"rails\", \"~> 7.1\"\ngem \"pg\"\n");
  write("Gemfile.lock", "GEM\n");
  write("package.json", R"({"name":"assets"})");
  Analysis analysis = run_ok();
  EXPECT_EQ(analysis.language.value, "ruby");
  EXPECT_EQ(analysis.runtime_version->value, "3.3.0");
  EXPECT_EQ(analysis.framework->value, "rails");
  EXPECT_EQ(analysis.package_manager->value, "bundler");
  EXPECT_EQ(analysis.lockfile->value, "Gemfile.lock");
  EXPECT_EQ(analysis.primary_port(), 3000);
  EXPECT_EQ(analysis.ports.front().origin, Origin::kDefault);
  EXPECT_TRUE(has_service(analysis, ServiceKind::kPostgresql));
  EXPECT_EQ(analysis.start_command->value, "bundle exec rails server -b 0.0.0.0 -p 3000");
}

TEST_F(AnalysisTest, SinatraPortFromCode) {
  write("Gemfile", "gem 'sinatra'\n");
  write("app.rb", "require 'sinatra'\nset :port, ENV.fetch('PORT', 4600)\nget('/ping') { 'pong' }\n");
  Analysis analysis = run_ok();
  EXPECT_EQ(analysis.framework->value, "sinatra");
  EXPECT_EQ(analysis.primary_port(), 4600);
  EXPECT_EQ(analysis.health_check_path.value, "/ping");
}

TEST_F(AnalysisTest, SpringBootWithMaven) {
  write("pom.xml",
        "<project>\n<properties>\n<java.version>17</java.version>\n</properties>\n<dependencies>\n"
        "<dependency><artifactId>spring-boot-starter-web</artifactId></dependency>\n"
        "<dependency><artifactId>postgresql</artifactId></dependency>\n</dependencies>\n</project>\n");
  write("mvnw", "#!/bin/sh\n");
  write("src/main/resources/application.properties", "server.port=${PORT:8081}\n");
  Analysis analysis = run_ok();
  EXPECT_EQ(analysis.language.value, "java");
  EXPECT_EQ(analysis.runtime_version->value, "17");
  EXPECT_EQ(analysis.framework->value, "spring-boot");
  EXPECT_EQ(analysis.package_manager->value, "maven");
  EXPECT_EQ(analysis.build_command->value, "./mvnw -B package -DskipTests");
  EXPECT_EQ(analysis.start_command->value, "java -jar target/*.jar");
  EXPECT_EQ(analysis.primary_port(), 8081);
  EXPECT_TRUE(has_service(analysis, ServiceKind::kPostgresql));
  const EnvVar* port = find_var(analysis, "PORT");
  ASSERT_NE(port, nullptr);
  EXPECT_EQ(port->default_value, "8081");
}

TEST_F(AnalysisTest, GradleKotlinBuild) {
  write("build.gradle.kts",
        "plugins { id(\"org.springframework.boot\") version \"3.3.0\" }\n"
        "java { toolchain { languageVersion.set(JavaLanguageVersion.of(21)) } }\n"
        "dependencies { implementation(\"org.springframework.boot:spring-boot-starter-web\") }\n");
  write("gradlew", "#!/bin/sh\n");
  Analysis analysis = run_ok();
  EXPECT_EQ(analysis.runtime_version->value, "21");
  EXPECT_EQ(analysis.package_manager->value, "gradle");
  EXPECT_EQ(analysis.build_command->value, "./gradlew build -x test");
  EXPECT_EQ(analysis.start_command->value, "java -jar build/libs/*.jar");
  EXPECT_EQ(analysis.primary_port(), 8080);
}

TEST_F(AnalysisTest, LaravelWithMysqlFromEnvExample) {
  write("composer.json", R"({"require":{"php":"^8.2","laravel/framework":"^11.0"}})");
  write("composer.lock", "{}");
  write(".env.example", "APP_KEY=\nDB_CONNECTION=mysql\nDB_HOST=127.0.0.1\n");
  write("public/index.php", "<?php\n");
  Analysis analysis = run_ok();
  EXPECT_EQ(analysis.language.value, "php");
  EXPECT_EQ(analysis.runtime_version->value, "^8.2");
  EXPECT_EQ(analysis.framework->value, "laravel");
  EXPECT_EQ(analysis.package_manager->value, "composer");
  EXPECT_TRUE(has_service(analysis, ServiceKind::kMysql));
  EXPECT_EQ(analysis.primary_port(), 8000);
  const EnvVar* key = find_var(analysis, "APP_KEY");
  ASSERT_NE(key, nullptr);
  EXPECT_TRUE(key->required);
}

TEST_F(AnalysisTest, RustAxumWithToolchain) {
  write("Cargo.toml",
        "[package]\nname = \"hello\"\nversion = \"0.1.0\"\nrust-version = \"1.78\"\n\n[dependencies]\naxum = \"0.7\"\n"
        "redis = \"0.25\"\n");
  write("src/main.rs",
        "#[tokio::main]\nasync fn main() {\n let addr = \"0.0.0.0:3001\";\n let key = "
        "std::env::var(\"API_KEY\").unwrap();\n}\n");
  Analysis analysis = run_ok();
  EXPECT_EQ(analysis.language.value, "rust");
  EXPECT_EQ(analysis.runtime_version->value, "1.78");
  EXPECT_EQ(analysis.framework->value, "axum");
  EXPECT_EQ(analysis.package_manager->value, "cargo");
  EXPECT_EQ(analysis.start_command->value, "./target/release/hello");
  EXPECT_EQ(analysis.primary_port(), 3001);
  EXPECT_TRUE(has_service(analysis, ServiceKind::kRedis));
  const EnvVar* key = find_var(analysis, "API_KEY");
  ASSERT_NE(key, nullptr);
  EXPECT_TRUE(key->required);
}

TEST_F(AnalysisTest, DenoTaskStart) {
  write("deno.json", R"({"tasks":{"start":"deno run --allow-net main.ts"}})");
  write("main.ts", "Deno.serve({ port: Number(Deno.env.get(\"PORT\") ?? 8000) }, () => new Response(\"hi\"));\n");
  Analysis analysis = run_ok();
  EXPECT_EQ(analysis.language.value, "deno");
  EXPECT_EQ(analysis.start_command->value, "deno task start");
  ASSERT_NE(find_var(analysis, "PORT"), nullptr);
}

TEST_F(AnalysisTest, PackageManagersFromLockfiles) {
  struct Case {
    const char* lockfile;
    const char* manager;
    const char* install;
  };
  const Case cases[] = {{"yarn.lock", "yarn", "yarn install --frozen-lockfile"},
                        {"pnpm-lock.yaml", "pnpm", "pnpm install --frozen-lockfile"},
                        {"bun.lockb", "bun", "bun install"},
                        {"package-lock.json", "npm", "npm ci"}};
  for (const Case& entry : cases) {
    testing::TempDir dir;
    std::ofstream(dir.path() / "package.json") << R"({"name":"a","scripts":{"start":"node a.js","build":"tsc"}})";
    std::ofstream(dir.path() / entry.lockfile) << "\n";
    Result<Analysis> analysis = analyze(dir.path(), {});
    ASSERT_TRUE(analysis.ok()) << entry.lockfile;
    EXPECT_EQ(analysis->package_manager->value, entry.manager) << entry.lockfile;
    EXPECT_EQ(analysis->lockfile->value, entry.lockfile);
    EXPECT_EQ(analysis->install_command->value, entry.install);
  }
}

TEST_F(AnalysisTest, NpmDefaultWithoutLockfile) {
  write("package.json", R"({"name":"a"})");
  write("index.js", "console.log('hi')\n");
  Analysis analysis = run_ok();
  EXPECT_EQ(analysis.package_manager->value, "npm");
  EXPECT_EQ(analysis.package_manager->origin, Origin::kDefault);
  EXPECT_FALSE(analysis.lockfile.has_value());
  EXPECT_EQ(analysis.install_command->value, "npm install");
  EXPECT_EQ(analysis.start_command->value, "node index.js");
}

TEST_F(AnalysisTest, PythonPackageManagers) {
  write("pyproject.toml",
        "[tool.poetry]\nname = \"x\"\n[tool.poetry.dependencies]\npython = \"^3.11\"\nDjango = \"^5\"\n");
  Analysis poetry = run_ok();
  EXPECT_EQ(poetry.package_manager->value, "poetry");
  EXPECT_EQ(poetry.framework->value, "django");
  EXPECT_EQ(poetry.runtime_version->value, "^3.11");
  write("uv.lock", "version = 1\n");
  EXPECT_EQ(run_ok().package_manager->value, "uv");
  EXPECT_EQ(run_ok().install_command->value, "uv sync --frozen");
}

TEST_F(AnalysisTest, PipenvFromPipfile) {
  write("Pipfile", "[packages]\nflask = \"*\"\npymongo = \"*\"\n\n[requires]\npython_version = \"3.11\"\n");
  write("Pipfile.lock", "{}");
  Analysis analysis = run_ok();
  EXPECT_EQ(analysis.package_manager->value, "pipenv");
  EXPECT_EQ(analysis.lockfile->value, "Pipfile.lock");
  EXPECT_EQ(analysis.framework->value, "flask");
  EXPECT_EQ(analysis.runtime_version->value, "3.11");
  EXPECT_TRUE(has_service(analysis, ServiceKind::kMongodb));
}

TEST_F(AnalysisTest, NodeFrameworksMostSpecificFirst) {
  struct Case {
    const char* dependencies;
    const char* framework;
  };
  const Case cases[] = {{R"("next":"14","react":"18")", "next"},
                        {R"("@nestjs/core":"10","express":"4")", "nest"},
                        {R"("nuxt":"3")", "nuxt"},
                        {R"("koa":"2")", "koa"},
                        {R"("fastify":"4")", "fastify"},
                        {R"("express":"4")", "express"}};
  for (const Case& entry : cases) {
    testing::TempDir dir;
    std::ofstream(dir.path() / "package.json") << "{\"dependencies\":{" << entry.dependencies << "}}";
    Result<Analysis> analysis = analyze(dir.path(), {});
    ASSERT_TRUE(analysis.ok());
    ASSERT_TRUE(analysis->framework.has_value()) << entry.framework;
    EXPECT_EQ(analysis->framework->value, entry.framework);
  }
}

TEST_F(AnalysisTest, FastifyCliListensOnAllAddresses) {
  write("package.json", R"({"name":"api","scripts":{"start":"fastify start -l info app.js"},)"
                        R"("dependencies":{"fastify":"^5.0.0","fastify-cli":"^8.0.2"}})");
  write("app.js", "module.exports = async function (fastify, opts) {}\n");
  Analysis analysis = run_ok();
  ASSERT_TRUE(analysis.start_command.has_value());
  EXPECT_EQ(analysis.start_command->value, "npm start -- --address 0.0.0.0");
  EXPECT_EQ(analysis.start_command->evidence.line, 1);
  ASSERT_EQ(analysis.ports.size(), 1u);
  EXPECT_EQ(analysis.ports[0].value, 3000);
  EXPECT_EQ(analysis.ports[0].origin, Origin::kDefault);
  EXPECT_TRUE(analysis.web_service.value);
}

TEST_F(AnalysisTest, FastifyCliAddressKeptWhenGiven) {
  const char* scripts[] = {"fastify start -a 0.0.0.0 app.js", "fastify start --address=:: app.js", "node server.js"};
  for (const char* script : scripts) {
    testing::TempDir dir;
    std::ofstream(dir.path() / "yarn.lock") << "";
    std::ofstream(dir.path() / "package.json")
        << R"({"scripts":{"start":")" << script << R"("},"dependencies":{"fastify":"^5.0.0"}})";
    Result<Analysis> analysis = analyze(dir.path(), {});
    ASSERT_TRUE(analysis.ok()) << script;
    ASSERT_TRUE(analysis->start_command.has_value()) << script;
    EXPECT_EQ(analysis->start_command->value, "yarn start") << script;
  }
}

TEST_F(AnalysisTest, FastifyCliPortFlagWins) {
  write("package.json", R"({"scripts":{"start":"fastify start -p 4100 app.js"},"dependencies":{"fastify":"^5.0.0"}})");
  Analysis analysis = run_ok();
  ASSERT_EQ(analysis.ports.size(), 1u);
  EXPECT_EQ(analysis.ports[0].value, 4100);
  EXPECT_EQ(analysis.ports[0].origin, Origin::kDetected);
}

TEST_F(AnalysisTest, PlainFastifyGetsNoDefaultPort) {
  write("package.json", R"({"scripts":{"start":"node server.js"},"dependencies":{"fastify":"^5.0.0"}})");
  write("server.js", "fastify.listen({ port: 4000, host: '0.0.0.0' })\n");
  Analysis analysis = run_ok();
  ASSERT_EQ(analysis.ports.size(), 1u);
  EXPECT_EQ(analysis.ports[0].value, 4000);
}

TEST_F(AnalysisTest, FastifyCliAddressWithYarn) {
  write("yarn.lock", "");
  write("package.json", R"({"scripts":{"start":"fastify start app.js"},"dependencies":{"fastify":"^5.0.0"}})");
  Analysis analysis = run_ok();
  ASSERT_TRUE(analysis.start_command.has_value());
  EXPECT_EQ(analysis.start_command->value, "yarn start --address 0.0.0.0");
}

TEST_F(AnalysisTest, OtherFrameworks) {
  struct Case {
    const char* file;
    const char* content;
    const char* framework;
  };
  const Case cases[] = {
      {"go.mod", "module x\ngo 1.22\nrequire github.com/labstack/echo/v4 v4.12.0\n", "echo"},
      {"Cargo.toml", "[package]\nname = \"a\"\n[dependencies]\nactix-web = \"4\"\n", "actix"},
      {"requirements.txt", "Django>=5\n", "django"},
      {"Gemfile", "gem 'sinatra'\n", "sinatra"},
  };
  for (const Case& entry : cases) {
    testing::TempDir dir;
    std::ofstream(dir.path() / entry.file) << entry.content;
    Result<Analysis> analysis = analyze(dir.path(), {});
    ASSERT_TRUE(analysis.ok());
    ASSERT_TRUE(analysis->framework.has_value()) << entry.framework;
    EXPECT_EQ(analysis->framework->value, entry.framework);
  }
}

TEST_F(AnalysisTest, DockerfileCommandAndExpose) {
  write("package.json", R"({"name":"a","dependencies":{"express":"4"}})");
  write("Dockerfile",
        "FROM node:18 AS build\nEXPOSE 9999\nFROM node:20-alpine\nWORKDIR /app\nEXPOSE 8080/tcp\n"
        "CMD [\"node\", \"server.js\"]\n");
  Analysis analysis = run_ok();
  ASSERT_TRUE(analysis.dockerfile.has_value());
  EXPECT_EQ(analysis.start_command->value, "node server.js");
  EXPECT_EQ(analysis.start_command->evidence.line, 6);
  EXPECT_EQ(analysis.primary_port(), 8080);
  EXPECT_EQ(analysis.ports.size(), 1u);
  EXPECT_EQ(analysis.runtime_version->value, "18");
}

TEST_F(AnalysisTest, ProcfileWebEntryIsStartCommand) {
  write("requirements.txt", "fastapi\nuvicorn\n");
  write("Procfile", "release: alembic upgrade head\nweb: uvicorn api:app --host 0.0.0.0 --port 7000\n");
  Analysis analysis = run_ok();
  EXPECT_EQ(analysis.start_command->value, "uvicorn api:app --host 0.0.0.0 --port 7000");
  EXPECT_EQ(analysis.start_command->evidence.line, 2);
  EXPECT_EQ(analysis.primary_port(), 7000);
}

TEST_F(AnalysisTest, ConventionalPythonStartCommands) {
  write("requirements.txt", "flask\n");
  write("web/server.py", "from flask import Flask\napplication = Flask(__name__)\n");
  Analysis analysis = run_ok();
  EXPECT_EQ(analysis.start_command->value, "gunicorn --bind 0.0.0.0:5000 web.server:application");
  EXPECT_EQ(analysis.start_command->evidence.file, "web/server.py");
  EXPECT_EQ(analysis.start_command->evidence.line, 2);
}

TEST_F(AnalysisTest, PortsFromCodePatterns) {
  struct Case {
    const char* manifest;
    const char* file;
    const char* code;
    int port;
  };
  const Case cases[] = {
      {"package.json", "server.js", "const port = process.env.PORT || 4100;\napp.listen(port);\n", 4100},
      {"package.json", "server.js", "app.listen(parseInt(process.env.PORT, 10) ?? 4200)\n", 4200},
      {"package.json", "server.js", "server.listen(4300, () => {})\n", 4300},
      {"requirements.txt", "app.py", "app.run(host='0.0.0.0', port=4400)\n", 4400},
      {"requirements.txt", "app.py", "port = int(os.environ.get('PORT', '4500'))\n", 4500},
      {"go.mod", "main.go", "http.ListenAndServe(\":4600\", nil)\n", 4600},
  };
  for (const Case& entry : cases) {
    testing::TempDir dir;
    std::ofstream(dir.path() / entry.manifest) << "\n";
    std::ofstream(dir.path() / entry.file) << entry.code;
    Result<Analysis> analysis = analyze(dir.path(), {});
    ASSERT_TRUE(analysis.ok());
    EXPECT_EQ(analysis->primary_port(), entry.port) << entry.code;
    EXPECT_EQ(analysis->ports.front().evidence.file, entry.file);
  }
}

TEST_F(AnalysisTest, ComposePortsOfBuiltServiceOnly) {
  write("package.json", R"({"name":"a"})");
  write(
      "docker-compose.yml",
      "services:\n  web:\n    build: .\n    ports:\n      - \"8088:3100\"\n  db:\n    image: postgres:16\n    ports:\n"
      "      - \"5432:5432\"\n  cache:\n    image: redis:7\n");
  Analysis analysis = run_ok();
  ASSERT_EQ(analysis.ports.size(), 1u);
  EXPECT_EQ(analysis.ports.front().value, 3100);
  EXPECT_EQ(analysis.ports.front().evidence.line, 5);
  EXPECT_TRUE(has_service(analysis, ServiceKind::kPostgresql));
  EXPECT_TRUE(has_service(analysis, ServiceKind::kRedis));
}

TEST_F(AnalysisTest, WorkerHasNoPort) {
  write("package.json", R"({"name":"w","scripts":{"start":"node worker.js"},"dependencies":{"bullmq":"5"}})");
  write("worker.js", "const queue = process.env.QUEUE;\n");
  Analysis analysis = run_ok();
  EXPECT_TRUE(analysis.ports.empty());
  EXPECT_FALSE(analysis.web_service.value);
  EXPECT_EQ(analysis.health_check_path.value, "");
  EXPECT_TRUE(has_service(analysis, ServiceKind::kRedis));
}

TEST_F(AnalysisTest, EnvVarsRequiredAndOptional) {
  write("package.json", R"({"name":"a"})");
  write("a.js",
        "const db = process.env.DATABASE_URL;\nconst level = process.env.LOG_LEVEL || 'info';\n"
        "if (process.env.FEATURE_X === '1') {}\nconst secret = process.env.SESSION_SECRET ?? 'dev-secret';\n");
  write("b.py",
        "import os\nx = os.environ['API_TOKEN']\ny = os.getenv('REGION', 'eu-west-1')\nz = os.environ.get('DEBUG')\n");
  write(".env.example", "EXTRA_SETTING=\nWITH_VALUE=abc\n");
  Analysis analysis = run_ok();

  ASSERT_NE(find_var(analysis, "DATABASE_URL"), nullptr);
  EXPECT_TRUE(find_var(analysis, "DATABASE_URL")->required);
  EXPECT_FALSE(find_var(analysis, "LOG_LEVEL")->required);
  EXPECT_EQ(find_var(analysis, "LOG_LEVEL")->default_value, "info");
  EXPECT_FALSE(find_var(analysis, "FEATURE_X")->required);
  EXPECT_EQ(find_var(analysis, "SESSION_SECRET")->default_value, "");  // never a secret's value
  EXPECT_TRUE(find_var(analysis, "API_TOKEN")->required);
  EXPECT_EQ(find_var(analysis, "REGION")->default_value, "eu-west-1");
  EXPECT_FALSE(find_var(analysis, "DEBUG")->required);
  EXPECT_TRUE(find_var(analysis, "EXTRA_SETTING")->required);
  EXPECT_FALSE(find_var(analysis, "WITH_VALUE")->required);
  EXPECT_EQ(find_var(analysis, "API_TOKEN")->evidence.front().file, "b.py");
  EXPECT_EQ(find_var(analysis, "API_TOKEN")->evidence.front().line, 2);
  EXPECT_TRUE(has_service(analysis, ServiceKind::kPostgresql));  // from DATABASE_URL alone
}

TEST_F(AnalysisTest, EnvVarsInRubyGoAndPhp) {
  write("Gemfile", "gem 'sinatra'\n");
  write("app.rb", "a = ENV['MANDATORY']\nb = ENV.fetch('WITH_DEFAULT', 'x')\nc = ENV['FALLBACK'] || 'y'\n");
  write("tool.go", "package main\nvar v = os.Getenv(\"GO_VAR\")\n");
  write("index.php", "<?php $k = getenv('PHP_VAR'); $l = env('LARAVEL_VAR', 'z');\n");
  Analysis analysis = run_ok();
  EXPECT_TRUE(find_var(analysis, "MANDATORY")->required);
  EXPECT_EQ(find_var(analysis, "WITH_DEFAULT")->default_value, "x");
  EXPECT_EQ(find_var(analysis, "FALLBACK")->default_value, "y");
  EXPECT_TRUE(find_var(analysis, "GO_VAR")->required);
  EXPECT_FALSE(find_var(analysis, "PHP_VAR")->required);  // getenv returns false when unset, like os.getenv's None
  EXPECT_EQ(find_var(analysis, "LARAVEL_VAR")->default_value, "z");
}

TEST_F(AnalysisTest, UrlDefaultsHideCredentials) {
  write("package.json", R"({"name":"a"})");
  write("a.js", "const url = process.env.MONGO_URL || 'mongodb://admin:hunter2@localhost/app';\n");
  Analysis analysis = run_ok();
  EXPECT_EQ(find_var(analysis, "MONGO_URL")->default_value, "mongodb://***@localhost/app");
  EXPECT_TRUE(has_service(analysis, ServiceKind::kMongodb));
}

TEST_F(AnalysisTest, ServicesFromDependenciesAndUrls) {
  write("package.json", R"({"dependencies":{"mysql2":"3","mongoose":"8","ioredis":"5"}})");
  Analysis analysis = run_ok();
  ASSERT_EQ(analysis.services.size(), 3u);
  EXPECT_EQ(analysis.services[0].kind, ServiceKind::kMysql);
  EXPECT_EQ(analysis.services[1].kind, ServiceKind::kRedis);
  EXPECT_EQ(analysis.services[2].kind, ServiceKind::kMongodb);
  EXPECT_EQ(analysis.services[0].evidence.front().file, "package.json");

  testing::TempDir other;
  std::ofstream(other.path() / "requirements.txt") << "SQLAlchemy\n";
  std::ofstream(other.path() / "db.py") << "engine = create_engine('postgresql+psycopg2://u@h/db')\n";
  Result<Analysis> sqlalchemy = analyze(other.path(), {});
  ASSERT_TRUE(sqlalchemy.ok());
  ASSERT_EQ(sqlalchemy->services.size(), 1u);
  EXPECT_EQ(sqlalchemy->services[0].kind, ServiceKind::kPostgresql);
  EXPECT_EQ(sqlalchemy->services[0].evidence.front().file, "db.py");
}

TEST_F(AnalysisTest, HealthCheckPrefersHealthz) {
  write("package.json", R"({"dependencies":{"express":"4"}})");
  write("a.js", "app.get('/ping', f);\napp.get(\"/healthz\", g);\napp.get('/healthcheck-old', h);\n");
  Analysis analysis = run_ok();
  EXPECT_EQ(analysis.health_check_path.value, "/healthz");
  EXPECT_EQ(analysis.health_check_path.evidence.line, 2);
}

TEST_F(AnalysisTest, HealthCheckDefaultsToRoot) {
  write("package.json", R"({"dependencies":{"express":"4"}})");
  write("a.js", "app.get('/', f);\n");
  Analysis analysis = run_ok();
  EXPECT_EQ(analysis.health_check_path.value, "/");
  EXPECT_EQ(analysis.health_check_path.origin, Origin::kDefault);
}

TEST_F(AnalysisTest, HintsFromReadme) {
  write("package.json", R"({"name":"a"})");
  write("README.md",
        "# App\n\nOpen http://localhost:8123 after starting.\n\n```bash\n$ npm run migrate\nnpm start\nls -la\n```\n\n"
        "Set `STRIPE_API_KEY` and export SENTRY_DSN=x before deploying.\n");
  Analysis analysis = run_ok();
  std::vector<std::string> seen;
  for (const DeploymentHint& hint : analysis.hints) seen.push_back(hint.kind + ":" + hint.value);
  std::vector<std::string> expected = {"port:8123", "command:npm run migrate", "command:npm start",
                                       "variable:STRIPE_API_KEY", "variable:SENTRY_DSN"};
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(analysis.hints.front().evidence.line, 3);
}

TEST_F(AnalysisTest, SkippedFoldersAreNotWalked) {
  write("package.json", R"({"name":"a"})");
  write("node_modules/pg/index.js", "process.env.FROM_NODE_MODULES; app.listen(1111)\n");
  write(".git/hooks/x.js", "process.env.FROM_GIT\n");
  write("dist/bundle.js", "process.env.FROM_DIST\n");
  write("venv/lib/a.py", "os.environ['FROM_VENV']\n");
  write("src/a.js", "process.env.FROM_SOURCE\n");
  Analysis analysis = run_ok();
  ASSERT_EQ(analysis.env_vars.size(), 1u);
  EXPECT_EQ(analysis.env_vars.front().name, "FROM_SOURCE");
  EXPECT_TRUE(analysis.ports.empty());
}

TEST_F(AnalysisTest, SymlinkLoopBinaryAndHugeFiles) {
  write("package.json", R"({"name":"a"})");
  fs::create_directories(dir_.path() / "loop");
  fs::create_directory_symlink(dir_.path(), dir_.path() / "loop" / "back");
  fs::create_symlink(dir_.path() / "missing", dir_.path() / "dangling.js");
  std::string binary(
      "\x7f"
      "ELF\0\0process.env.IN_BINARY",
      27);
  write("tool.js", binary);
  std::string huge(2 * 1024 * 1024, 'x');
  huge += "\nprocess.env.PAST_THE_CAP\n";
  write("huge.js", "process.env.AT_START;\n" + huge);
  Analysis analysis = run_ok();
  EXPECT_NE(find_var(analysis, "AT_START"), nullptr);
  EXPECT_EQ(find_var(analysis, "PAST_THE_CAP"), nullptr);
  EXPECT_EQ(find_var(analysis, "IN_BINARY"), nullptr);
}

TEST_F(AnalysisTest, OutputIsDeterministic) {
  write("package.json", R"({"dependencies":{"express":"4","pg":"8","redis":"4"}})");
  write("z.js", "process.env.Z_VAR; app.listen(3000)\n");
  write("a.js", "process.env.A_VAR; process.env.Z_VAR\n");
  std::string first = analysis_to_json(run_ok());
  std::string second = analysis_to_json(run_ok());
  EXPECT_EQ(first, second);
  Analysis analysis = run_ok();
  ASSERT_EQ(analysis.env_vars.size(), 2u);
  EXPECT_EQ(analysis.env_vars[0].name, "A_VAR");
  EXPECT_EQ(analysis.env_vars[1].evidence.size(), 2u);
  EXPECT_EQ(analysis.env_vars[1].evidence[0].file, "a.js");
}

TEST_F(AnalysisTest, ConfigOverridesDetectedValues) {
  write("package.json", R"({"scripts":{"start":"node a.js"},"dependencies":{"express":"4"}})");
  write("a.js", "app.listen(3000)\n");
  write(
      "hivemind.toml",
      "[app]\nstart_command = \"node dist/a.js\"\nport = 9090\nhealth_check_path = \"/status\"\n"
      "services = [\"redis\"]\nruntime_version = \"22\"\n\n[env]\nrequired = [\"API_KEY\"]\noptional = [\"DEBUG\"]\n");
  Analysis analysis = run_ok();
  EXPECT_EQ(analysis.start_command->value, "node dist/a.js");
  EXPECT_EQ(analysis.start_command->origin, Origin::kConfig);
  EXPECT_EQ(analysis.start_command->evidence.file, "hivemind.toml");
  EXPECT_EQ(analysis.start_command->evidence.line, 2);
  EXPECT_EQ(analysis.primary_port(), 9090);
  EXPECT_EQ(analysis.ports.size(), 1u);
  EXPECT_EQ(analysis.ports.front().origin, Origin::kConfig);
  EXPECT_EQ(analysis.health_check_path.value, "/status");
  ASSERT_EQ(analysis.services.size(), 1u);
  EXPECT_EQ(analysis.services.front().kind, ServiceKind::kRedis);
  EXPECT_EQ(analysis.runtime_version->value, "22");
  EXPECT_TRUE(find_var(analysis, "API_KEY")->required);
  EXPECT_EQ(find_var(analysis, "API_KEY")->origin, Origin::kConfig);
  EXPECT_FALSE(find_var(analysis, "DEBUG")->required);
}

TEST_F(AnalysisTest, ConfigMarksWorker) {
  write("package.json", R"({"dependencies":{"express":"4"}})");
  write("hivemind.toml", "[app]\nweb_service = false\n");
  Analysis analysis = run_ok();
  EXPECT_FALSE(analysis.web_service.value);
  EXPECT_EQ(analysis.web_service.origin, Origin::kConfig);
  EXPECT_TRUE(analysis.ports.empty());
}

TEST_F(AnalysisTest, ConfigErrorsNameKeyAndLine) {
  write("package.json", R"({"name":"a"})");
  struct Case {
    const char* toml;
    const char* expected;
  };
  const Case cases[] = {
      {"[app]\nstart_command = \"x\"\nprot = 80\n", "hivemind.toml line 3: unknown key 'app.prot'"},
      {"[app]\nport = 70000\n", "hivemind.toml line 2: invalid value for app.port"},
      {"[app]\nport = \"80\"\n", "hivemind.toml line 2: invalid value for app.port"},
      {"[app]\nlanguage = \"cobol\"\n", "hivemind.toml line 2: invalid value for app.language"},
      {"[app]\nservices = [\"oracle\"]\n", "hivemind.toml line 2: invalid service in app.services"},
      {"[app]\nhealth_check_path = \"health\"\n", "hivemind.toml line 2: invalid value for app.health_check_path"},
      {"[app]\nweb_service = \"yes\"\n", "hivemind.toml line 2: invalid value for app.web_service"},
      {"\n[deploy]\nregion = \"x\"\n", "hivemind.toml line 2: unknown key 'deploy'"},
      {"[env]\nrequired = \"A\"\n", "hivemind.toml line 2: invalid value for env.required"},
      {"[app\nport = 1\n", "hivemind.toml line 1: invalid TOML"},
  };
  for (const Case& entry : cases) {
    write("hivemind.toml", entry.toml);
    Result<Analysis> analysis = run();
    ASSERT_FALSE(analysis.ok()) << entry.toml;
    EXPECT_EQ(analysis.error().code, "analysis.config_invalid");
    EXPECT_NE(analysis.error().message.find(entry.expected), std::string::npos) << analysis.error().message;
    EXPECT_FALSE(analysis.error().remediation.empty());
  }
}

TEST_F(AnalysisTest, MonorepoListsApps) {
  write("README.md", "# mono\n");
  write("apps/web/package.json", R"({"dependencies":{"next":"14"}})");
  write("apps/site/index.html", "<html></html>");
  write("services/billing/go.mod", "module billing\n");
  write("tools/lint/pyproject.toml", "[project]\nname = \"lint\"\n");
  write("docs/index.html", "<html></html>");
  Analysis analysis = run_ok();
  ASSERT_TRUE(analysis.needs_app_choice());
  ASSERT_EQ(analysis.apps.size(), 4u);
  EXPECT_EQ(analysis.apps[0].dir, "apps/site");
  EXPECT_EQ(analysis.apps[0].language, "static");
  EXPECT_EQ(analysis.apps[1].dir, "apps/web");
  EXPECT_EQ(analysis.apps[1].manifest, "apps/web/package.json");
  EXPECT_EQ(analysis.apps[2].dir, "services/billing");
  EXPECT_EQ(analysis.apps[3].dir, "tools/lint");
  Error error = app_choice_error(analysis);
  EXPECT_NE(error.remediation.find("--app-dir apps/site"), std::string::npos);
}

TEST_F(AnalysisTest, MonorepoAppDirPicksOne) {
  write("apps/web/package.json", R"({"dependencies":{"next":"14"}})");
  write("apps/api/go.mod", "module api\n");
  Analysis analysis = run_ok("apps/web");
  EXPECT_FALSE(analysis.needs_app_choice());
  EXPECT_EQ(analysis.app_dir, "apps/web");
  EXPECT_EQ(analysis.framework->value, "next");
  EXPECT_EQ(analysis.framework->evidence.file, "package.json");
}

TEST_F(AnalysisTest, ConfigDirPicksApp) {
  write("apps/api/go.mod", "module api\ngo 1.22\n");
  write("apps/web/index.html", "<html></html>");
  write("hivemind.toml", "[app]\ndir = \"apps/api\"\n");
  Analysis analysis = run_ok();
  EXPECT_EQ(analysis.app_dir, "apps/api");
  EXPECT_EQ(analysis.language.value, "go");
}

TEST_F(AnalysisTest, BadInputErrors) {
  Result<Analysis> empty = run();
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, "analysis.empty_folder");

  write("notes.txt", "nothing to deploy\n");
  Result<Analysis> unknown = run();
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, "analysis.no_app");

  Result<Analysis> not_folder = analyze(dir_.path() / "notes.txt", {});
  ASSERT_FALSE(not_folder.ok());
  EXPECT_EQ(not_folder.error().code, "analysis.not_a_folder");

  Result<Analysis> missing_dir = run("apps/none");
  ASSERT_FALSE(missing_dir.ok());
  EXPECT_EQ(missing_dir.error().code, "analysis.app_dir_not_found");

  Result<Analysis> escaping = run("../..");
  ASSERT_FALSE(escaping.ok());
  EXPECT_EQ(escaping.error().code, "analysis.invalid_app_dir");
}

TEST_F(AnalysisTest, StaticSiteAndDockerfileOnly) {
  write("index.html", "<html></html>");
  Analysis site = run_ok();
  EXPECT_EQ(site.language.value, "static");
  EXPECT_EQ(site.primary_port(), 80);
  EXPECT_TRUE(site.web_service.value);

  testing::TempDir other;
  std::ofstream(other.path() / "Dockerfile")
      << "FROM nginx:1.27\nEXPOSE 8080\nCMD [\"nginx\", \"-g\", \"daemon off;\"]\n";
  Result<Analysis> container = analyze(other.path(), {});
  ASSERT_TRUE(container.ok());
  EXPECT_EQ(container->language.value, "container");
  EXPECT_EQ(container->start_command->value, "nginx -g daemon off;");
  EXPECT_EQ(container->primary_port(), 8080);
}

}  // namespace
}  // namespace hivemind::repo
