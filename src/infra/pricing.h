#pragma once

// Estimated monthly cost of the resources HiveMind creates.
//
// The figures are AWS's public on-demand list prices for Linux in us-east-1
// as the team recorded them in December 2026, and a per-region factor for the
// other common regions. They are estimates: the live price depends on usage
// (load balancer capacity units, log volume, data transfer) and changes over
// time. The real month-to-date cost comes from Cost Explorer, not from here.
// NOTE: the table was written from the team's records, not fetched from the
// AWS Price List API, because this build machine has no route to AWS.

#include <optional>
#include <string>
#include <string_view>

namespace hivemind::infra {

inline constexpr double kHoursPerMonth = 730.0;
inline constexpr const char* kPriceSource =
    "AWS on-demand list prices (Linux, us-east-1) recorded 2026-12, scaled per region; estimates only";

// Hourly price of an EC2 instance type in us-east-1, or nothing for a type
// missing from the table.
std::optional<double> ec2_hourly_usd(std::string_view instance_type);

// Hourly price of a single-AZ RDS instance class for an engine ("postgres" or
// "mysql") in us-east-1.
std::optional<double> rds_hourly_usd(std::string_view instance_class, std::string_view engine);

// Multiplier from us-east-1 prices to `region`'s; 1.0 for regions missing
// from the table, which the estimate then says.
double region_factor(std::string_view region);
bool region_is_priced(std::string_view region);

struct MonthlyEstimate {
  double usd = 0.0;
  std::string basis;  // how it was computed, e.g. "t3.micro 730 h x $0.0104 + 8 GiB gp3"
};

MonthlyEstimate estimate_instance(std::string_view instance_type, int root_volume_gib, std::string_view region);
MonthlyEstimate estimate_database(std::string_view instance_class, std::string_view engine, int storage_gib,
                                  std::string_view region);
// An application load balancer with one load balancer capacity unit on
// average and one public IPv4 address per availability zone.
MonthlyEstimate estimate_load_balancer(int availability_zones, std::string_view region);
MonthlyEstimate estimate_public_ipv4(std::string_view region);
// Log storage and ingestion are billed by volume; this assumes 1 GiB a month.
MonthlyEstimate estimate_log_group(std::string_view region);

}  // namespace hivemind::infra
