// Typed Cost Explorer call against moto_server. moto returns costs only
// after a test queues them through POST /moto-api/static/ce/cost-and-usage-results;
// each distinct request takes the next queued result.

#include "aws/cost_explorer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "aws/curl_transport.h"
#include "calls_test_support.h"
#include "support/moto_server.h"

namespace hivemind::aws {
namespace {

using nlohmann::json;
using testing::MotoTest;

class CostExplorerTest : public MotoTest {
 protected:
  void queue_results(const json& results) {
    HttpRequest request;
    request.method = "POST";
    request.url = moto().endpoint() + "/moto-api/static/ce/cost-and-usage-results";
    request.headers = {{"Content-Type", "application/json"}};
    request.body = json{{"results", results}}.dump();
    CurlTransport transport;
    auto response = transport.send(request, TransportOptions{});
    ASSERT_TRUE(response.ok()) << response.error().message;
    ASSERT_EQ(response->status, 201) << response->body;
  }

  static json day(const std::string& start, const std::string& end, const std::string& amount) {
    return {{"TimePeriod", {{"Start", start}, {"End", end}}},
            {"Total", {{"UnblendedCost", {{"Amount", amount}, {"Unit", "USD"}}}}},
            {"Groups", json::array()},
            {"Estimated", true}};
  }

  cost_explorer::CostRequest request() {
    cost_explorer::CostRequest request;
    request.start = "2026-11-01";
    request.end = "2026-11-04";
    request.tag_key = "hivemind:deployment";
    request.tag_values = {"hm-test-abc123"};
    return request;
  }
};

TEST_F(CostExplorerTest, ReturnsNothingUntilResultsAreSet) {
  auto periods = cost_explorer::get_cost_and_usage(client(), request());
  ASSERT_AWS_OK(periods);
  EXPECT_TRUE(periods->empty());
}

TEST_F(CostExplorerTest, ReadsDailyCosts) {
  queue_results(json::array({{{"ResultsByTime", json::array({day("2026-11-01", "2026-11-02", "1.25"),
                                                             day("2026-11-02", "2026-11-03", "0.75")})}}}));

  auto periods = cost_explorer::get_cost_and_usage(client(), request());
  ASSERT_AWS_OK(periods);
  ASSERT_EQ(periods->size(), 2u);
  EXPECT_EQ((*periods)[0].start, "2026-11-01");
  EXPECT_EQ((*periods)[1].end, "2026-11-03");
  EXPECT_TRUE((*periods)[0].estimated);
  ASSERT_EQ((*periods)[0].totals.size(), 1u);
  EXPECT_EQ((*periods)[0].totals[0].metric, "UnblendedCost");
  EXPECT_DOUBLE_EQ((*periods)[0].totals[0].amount, 1.25);
  EXPECT_EQ((*periods)[0].totals[0].unit, "USD");
}

TEST_F(CostExplorerTest, FollowsNextPageToken) {
  // The second request carries NextPageToken, so moto treats it as a new
  // request and returns the second queued result.
  queue_results(json::array(
      {{{"ResultsByTime", json::array({day("2026-11-01", "2026-11-02", "1")})}, {"NextPageToken", "page-2"}},
       {{"ResultsByTime", json::array({day("2026-11-02", "2026-11-03", "2")})}}}));

  auto periods = cost_explorer::get_cost_and_usage(client(), request());
  ASSERT_AWS_OK(periods);
  ASSERT_EQ(periods->size(), 2u);
  EXPECT_DOUBLE_EQ((*periods)[0].totals.at(0).amount, 1);
  EXPECT_DOUBLE_EQ((*periods)[1].totals.at(0).amount, 2);
}

}  // namespace
}  // namespace hivemind::aws
