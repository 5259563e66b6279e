// A MySQL app deployed into the sandbox: Recon sees its mysql2 dependency,
// the plan makes an RDS mysql instance, the sandbox runs MariaDB in its
// place, the deployer gives the app a mysql:// DATABASE_URL, and both
// Overwatch's login check and the app's own query succeed.

#include <gtest/gtest.h>

#include <map>

#include "support/sandbox_session.h"

namespace hivemind::testing {
namespace {

constexpr const char* kPackage = R"({
  "name": "mysql-notes",
  "version": "1.0.0",
  "private": true,
  "main": "server.js",
  "engines": {"node": ">=20"},
  "scripts": {"start": "node server.js"},
  "dependencies": {"mysql2": "^3.11.0"}
}
)";

// Returns {"status":"ok"} for every path but /db, which returns the database
// and user of a query made through DATABASE_URL.
constexpr const char* kServer = R"(const http = require('http');
const mysql = require('mysql2/promise');

const port = Number(process.env.PORT || 3000);

async function whoami() {
  const connection = await mysql.createConnection(process.env.DATABASE_URL);
  try {
    const [rows] = await connection.query('SELECT DATABASE() AS db, CURRENT_USER() AS user');
    return rows[0];
  } finally {
    await connection.end();
  }
}

http.createServer(async (request, response) => {
  if (request.url === '/db') {
    try {
      const row = await whoami();
      response.writeHead(200, {'content-type': 'application/json'});
      response.end(JSON.stringify(row));
    } catch (error) {
      response.writeHead(500);
      response.end(String(error.code || error.message));
    }
    return;
  }
  response.writeHead(200, {'content-type': 'application/json'});
  response.end('{"status":"ok"}');
}).listen(port, () => console.log(`mysql-notes listening on ${port}`));
)";

class MysqlAppTest : public SandboxTest {};

TEST_F(MysqlAppTest, MysqlAppGetsMariadbAndUrl) {
  auto repository =
      make_repository(sandbox().work_dir(), "mysql-notes", {{"package.json", kPackage}, {"server.js", kServer}});
  ASSERT_TRUE(repository) << repository.error().describe();

  CliRun deploy = sandbox().deploy(*repository);

  ASSERT_EQ(deploy.exit_code, 0) << deploy.describe();
  std::string id = deploy.json().value("id", "");
  ASSERT_FALSE(id.empty()) << deploy.describe();
  CliRun status = sandbox().hivemind({"status", id, "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.describe();
  nlohmann::json document = status.json();
  std::map<std::string, nlohmann::json> checks;
  for (const nlohmann::json& check : document["verifications"]) checks[check.value("check", "")] = check;
  ASSERT_TRUE(checks.count("database_login")) << status.out;
  EXPECT_TRUE(checks["database_login"].value("passed", false)) << checks["database_login"].dump();
  EXPECT_NE(checks["database_login"].value("detail", "").find("MariaDB"), std::string::npos);

  auto map = sandbox().address_map();
  ASSERT_TRUE(map) << map.error().describe();
  ASSERT_EQ(map->databases.size(), 1u);
  EXPECT_EQ(map->databases.begin()->second.engine, "mysql");
  EXPECT_NE(map->databases.begin()->first.find(":3306"), std::string::npos);

  auto url = sandbox().local_url(document.value("url", ""));
  ASSERT_TRUE(url) << url.error().describe();
  HttpReply reply = http_get(*url + "/db");
  EXPECT_EQ(reply.status, 200) << reply.error << reply.body;
  EXPECT_EQ(reply.body, R"({"db":"app","user":"hivemind@%"})");
}

}  // namespace
}  // namespace hivemind::testing
