#include "infra/pricing.h"

#include <fmt/format.h>

#include <array>

namespace hivemind::infra {
namespace {

struct Price {
  std::string_view name;
  double usd_per_hour;
};

constexpr std::array kEc2Prices = {
    Price{"t3.nano", 0.0052},    Price{"t3.micro", 0.0104},  Price{"t3.small", 0.0208},  Price{"t3.medium", 0.0416},
    Price{"t3.large", 0.0832},   Price{"t3.xlarge", 0.1664}, Price{"t3a.micro", 0.0094}, Price{"t3a.small", 0.0188},
    Price{"t3a.medium", 0.0376}, Price{"t4g.micro", 0.0084}, Price{"t4g.small", 0.0168}, Price{"t4g.medium", 0.0336},
    Price{"t2.micro", 0.0116},   Price{"t2.small", 0.023},   Price{"m5.large", 0.096},   Price{"m6i.large", 0.096},
    Price{"m7i.large", 0.1008},  Price{"c5.large", 0.085},   Price{"c6i.large", 0.085},  Price{"r5.large", 0.126},
};

constexpr std::array kRdsPostgresPrices = {
    Price{"db.t3.micro", 0.018},  Price{"db.t3.small", 0.036},  Price{"db.t3.medium", 0.072},
    Price{"db.t4g.micro", 0.016}, Price{"db.t4g.small", 0.032}, Price{"db.t4g.medium", 0.065},
    Price{"db.m5.large", 0.178},  Price{"db.m6g.large", 0.159},
};

constexpr std::array kRdsMysqlPrices = {
    Price{"db.t3.micro", 0.017},  Price{"db.t3.small", 0.034},  Price{"db.t3.medium", 0.068},
    Price{"db.t4g.micro", 0.016}, Price{"db.t4g.small", 0.032}, Price{"db.t4g.medium", 0.065},
    Price{"db.m5.large", 0.171},  Price{"db.m6g.large", 0.152},
};

struct RegionFactor {
  std::string_view region;
  double factor;
};

constexpr std::array kRegionFactors = {
    RegionFactor{"us-east-1", 1.0},       RegionFactor{"us-east-2", 1.0},       RegionFactor{"us-west-2", 1.0},
    RegionFactor{"us-west-1", 1.19},      RegionFactor{"ca-central-1", 1.11},   RegionFactor{"eu-west-1", 1.10},
    RegionFactor{"eu-west-2", 1.14},      RegionFactor{"eu-west-3", 1.14},      RegionFactor{"eu-central-1", 1.15},
    RegionFactor{"eu-north-1", 1.04},     RegionFactor{"ap-south-1", 1.07},     RegionFactor{"ap-southeast-1", 1.25},
    RegionFactor{"ap-southeast-2", 1.25}, RegionFactor{"ap-northeast-1", 1.30}, RegionFactor{"ap-northeast-2", 1.24},
    RegionFactor{"sa-east-1", 1.61},
};

constexpr double kGp3UsdPerGibMonth = 0.08;
constexpr double kRdsGp2UsdPerGibMonth = 0.115;
constexpr double kAlbUsdPerHour = 0.0225;
constexpr double kAlbLcuUsdPerHour = 0.008;
constexpr double kPublicIpv4UsdPerHour = 0.005;
constexpr double kLogsIngestUsdPerGib = 0.50;
constexpr double kLogsStoreUsdPerGibMonth = 0.03;

template <size_t N>
std::optional<double> find_price(const std::array<Price, N>& table, std::string_view name) {
  for (const Price& price : table) {
    if (price.name == name) return price.usd_per_hour;
  }
  return std::nullopt;
}

std::string region_note(std::string_view region) {
  if (region_is_priced(region)) return "";
  return fmt::format(" (no price data for {}: us-east-1 prices shown)", region);
}

}  // namespace

std::optional<double> ec2_hourly_usd(std::string_view instance_type) { return find_price(kEc2Prices, instance_type); }

std::optional<double> rds_hourly_usd(std::string_view instance_class, std::string_view engine) {
  if (engine == "mysql" || engine == "mariadb") return find_price(kRdsMysqlPrices, instance_class);
  return find_price(kRdsPostgresPrices, instance_class);
}

bool region_is_priced(std::string_view region) {
  for (const RegionFactor& entry : kRegionFactors) {
    if (entry.region == region) return true;
  }
  return false;
}

double region_factor(std::string_view region) {
  for (const RegionFactor& entry : kRegionFactors) {
    if (entry.region == region) return entry.factor;
  }
  return 1.0;
}

MonthlyEstimate estimate_instance(std::string_view instance_type, int root_volume_gib, std::string_view region) {
  double factor = region_factor(region);
  double storage = root_volume_gib * kGp3UsdPerGibMonth * factor;
  std::optional<double> hourly = ec2_hourly_usd(instance_type);
  if (!hourly) {
    return {storage, fmt::format("{} GiB gp3 only: no price data for instance type {}{}", root_volume_gib,
                                 instance_type, region_note(region))};
  }
  double compute = *hourly * kHoursPerMonth * factor;
  return {compute + storage, fmt::format("{} {:.0f} h x ${:.4f} + {} GiB gp3{}", instance_type, kHoursPerMonth,
                                         *hourly * factor, root_volume_gib, region_note(region))};
}

MonthlyEstimate estimate_database(std::string_view instance_class, std::string_view engine, int storage_gib,
                                  std::string_view region) {
  double factor = region_factor(region);
  double storage = storage_gib * kRdsGp2UsdPerGibMonth * factor;
  std::optional<double> hourly = rds_hourly_usd(instance_class, engine);
  if (!hourly) {
    return {storage, fmt::format("{} GiB storage only: no price data for {} {}{}", storage_gib, engine, instance_class,
                                 region_note(region))};
  }
  double compute = *hourly * kHoursPerMonth * factor;
  return {compute + storage, fmt::format("{} {} {:.0f} h x ${:.3f} + {} GiB storage{}", engine, instance_class,
                                         kHoursPerMonth, *hourly * factor, storage_gib, region_note(region))};
}

MonthlyEstimate estimate_load_balancer(int availability_zones, std::string_view region) {
  double factor = region_factor(region);
  double hourly = (kAlbUsdPerHour + kAlbLcuUsdPerHour + kPublicIpv4UsdPerHour * availability_zones) * factor;
  return {hourly * kHoursPerMonth, fmt::format("ALB {:.0f} h + 1 LCU average + {} public IPv4 addresses{}",
                                               kHoursPerMonth, availability_zones, region_note(region))};
}

MonthlyEstimate estimate_public_ipv4(std::string_view region) {
  double factor = region_factor(region);
  return {kPublicIpv4UsdPerHour * kHoursPerMonth * factor,
          fmt::format("public IPv4 address {:.0f} h{}", kHoursPerMonth, region_note(region))};
}

MonthlyEstimate estimate_log_group(std::string_view region) {
  double factor = region_factor(region);
  return {(kLogsIngestUsdPerGib + kLogsStoreUsdPerGibMonth) * factor,
          fmt::format("assumes 1 GiB of logs a month; billed by volume{}", region_note(region))};
}

}  // namespace hivemind::infra
