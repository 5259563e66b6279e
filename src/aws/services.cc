// The ServiceSpec table. Every value was checked against botocore 1.43.11's
// data/<service>/<version>/service-2.json metadata (apiVersion,
// endpointPrefix, protocol, serviceId, signingName, targetPrefix).

#include <array>

#include "aws/client.h"

namespace hivemind::aws {
namespace {

// `id` is botocore's serviceId lower-cased with spaces turned into '-', so
// that upper-casing it and turning '-' into '_' gives the suffix of the
// AWS_ENDPOINT_URL_<ID> variable every AWS tool reads.
constexpr ServiceSpec kEc2{"ec2", "ec2", "ec2", "2016-11-15", Protocol::kEc2Query, "", "ec2", "ec2"};
constexpr ServiceSpec kElbv2{"elastic-load-balancing-v2",
                             "elasticloadbalancing",
                             "elasticloadbalancing",
                             "2015-12-01",
                             Protocol::kQuery,
                             "",
                             "elasticloadbalancing",
                             "elbv2"};
constexpr ServiceSpec kRds{"rds", "rds", "rds", "2014-10-31", Protocol::kQuery, "", "rds", "rds"};
// CloudWatch lists smithy-rpc-v2-cbor, json and query; query keeps it on the
// same serializer as ELBv2 and RDS.
constexpr ServiceSpec kMonitoring{"cloudwatch",     "monitoring", "monitoring", "2010-08-01",
                                  Protocol::kQuery, "",           "cloudwatch", "cloudwatch"};
constexpr ServiceSpec kSts{"sts", "sts", "sts", "2011-06-15", Protocol::kQuery, "", "sts", "sts"};
constexpr ServiceSpec kLogs{"cloudwatch-logs", "logs",          "logs", "2014-03-28",
                            Protocol::kJson11, "Logs_20140328", "logs", "logs"};
// Cost Explorer has a single global endpoint, ce.us-east-1.amazonaws.com.
constexpr ServiceSpec kCostExplorer{"cost-explorer",           "ce", "ce", "2017-10-25", Protocol::kJson11,
                                    "AWSInsightsIndexService", "ce", "ce"};
constexpr ServiceSpec kSsm{"ssm", "ssm", "ssm", "2014-11-06", Protocol::kJson11, "AmazonSSM", "ssm", "ssm"};
constexpr ServiceSpec kTagging{
    "resource-groups-tagging-api",       "tagging", "tagging", "2017-01-26", Protocol::kJson11,
    "ResourceGroupsTaggingAPI_20170126", "tag",     "tagging"};

constexpr std::array<const ServiceSpec*, 9> kAllServices = {&kEc2,  &kElbv2,        &kRds, &kMonitoring, &kSts,
                                                            &kLogs, &kCostExplorer, &kSsm, &kTagging};

}  // namespace

const ServiceSpec& ec2_service() { return kEc2; }
const ServiceSpec& elbv2_service() { return kElbv2; }
const ServiceSpec& rds_service() { return kRds; }
const ServiceSpec& monitoring_service() { return kMonitoring; }
const ServiceSpec& sts_service() { return kSts; }
const ServiceSpec& logs_service() { return kLogs; }
const ServiceSpec& cost_explorer_service() { return kCostExplorer; }
const ServiceSpec& ssm_service() { return kSsm; }
const ServiceSpec& tagging_service() { return kTagging; }

const ServiceSpec* find_service(std::string_view name_or_id) {
  for (const ServiceSpec* spec : kAllServices) {
    if (spec->name == name_or_id || spec->id == name_or_id) return spec;
  }
  return nullptr;
}

}  // namespace hivemind::aws
