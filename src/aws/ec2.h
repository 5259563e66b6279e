#pragma once

// Typed EC2 calls: networks (VPC, subnets, internet gateways, route tables),
// security groups, key pairs, instances, and the lookups of zones, images and
// regions. Every create call applies its tags in the call itself, so that a
// resumed run finds by tag what a killed run created. Describe calls follow
// nextToken to the last page. Thread safe as far as AwsClient is.

#include <optional>
#include <string>
#include <vector>

#include "aws/call_support.h"
#include "aws/client.h"

namespace hivemind::aws::ec2 {

struct Vpc {
  std::string id;
  std::string cidr_block;
  std::string state;  // "pending" or "available"
  bool is_default = false;
  Tags tags;
};

struct Subnet {
  std::string id;
  std::string vpc_id;
  std::string cidr_block;
  std::string availability_zone;
  std::string state;
  bool map_public_ip_on_launch = false;
  Tags tags;
};

struct InternetGateway {
  std::string id;
  std::vector<std::string> attached_vpc_ids;
  Tags tags;
};

struct Route {
  std::string destination_cidr_block;
  std::string gateway_id;  // "local" for the VPC's own range
  std::string state;
};

struct RouteTableAssociation {
  std::string id;
  std::string subnet_id;  // empty for the main association
  bool main = false;
};

struct RouteTable {
  std::string id;
  std::string vpc_id;
  std::vector<Route> routes;
  std::vector<RouteTableAssociation> associations;
  Tags tags;
};

// One ingress rule: traffic on a protocol and port range, from a CIDR block
// or from members of another security group (exactly one of the two).
struct IngressRule {
  std::string protocol = "tcp";  // "tcp", "udp", "icmp" or "-1" for all
  int from_port = 0;
  int to_port = 0;
  // IPv4 ("203.0.113.7/32") or IPv6 ("::/0"): a block with a ':' is sent
  // and read as an Ipv6Ranges entry.
  std::string cidr_block;
  std::string source_group_id;
  std::string description;
};

struct SecurityGroup {
  std::string id;
  std::string name;
  std::string description;
  std::string vpc_id;
  // One entry per CIDR block or source group, so a rule AWS groups together
  // comes back split.
  std::vector<IngressRule> ingress;
  Tags tags;
};

struct KeyPair {
  std::string name;
  std::string id;
  std::string fingerprint;
  Tags tags;
};

struct Instance {
  std::string id;
  std::string image_id;
  std::string instance_type;
  std::string state;  // "pending", "running", "stopping", "stopped", "shutting-down", "terminated"
  std::string subnet_id;
  std::string vpc_id;
  std::string availability_zone;
  std::string private_ip;
  std::string public_ip;  // empty without one
  std::string key_name;
  std::string launch_time;   // ISO 8601, as AWS returns it
  std::string http_tokens;   // metadata service: "required" means IMDSv2 only
  std::string client_token;  // the RunInstances idempotency token
  std::vector<std::string> security_group_ids;
  std::vector<std::string> volume_ids;
  Tags tags;
};

// An EBS volume, as DescribeVolumes returns it.
struct Volume {
  std::string id;
  std::string volume_type;  // "gp3", "gp2", ...
  int size_gib = 0;
  std::string state;  // "creating", "available", "in-use", "deleting", ...
  bool encrypted = false;
  std::string kms_key_id;  // empty when not encrypted
  std::vector<std::string> attached_instance_ids;
  Tags tags;
};

struct RunInstancesRequest {
  std::string image_id;
  std::string instance_type;
  std::string key_name;
  std::string subnet_id;
  std::vector<std::string> security_group_ids;
  std::string user_data;  // plain text; sent base64-encoded
  std::string root_device_name = "/dev/xvda";
  int root_volume_gib = 8;
  std::string root_volume_type = "gp3";
  Tags instance_tags;
  Tags volume_tags;
  // Idempotency token: on AWS a retry with the same token returns the
  // instance of the first call instead of launching another. Pass the token
  // recorded before the call; when empty, a fresh one is made, which only
  // protects the client's own retries of this one call.
  std::string client_token;
};

struct AvailabilityZone {
  std::string name;  // "us-east-1a"
  std::string zone_id;
  std::string state;
};

struct Image {
  std::string id;
  std::string name;
  std::string state;
  std::string architecture;
  std::string creation_date;
};

struct Region {
  std::string name;
  std::string endpoint;
};

// VPCs
AwsResult<Vpc> create_vpc(AwsClient& client, const std::string& cidr_block, const Tags& tags);
AwsResult<std::vector<Vpc>> describe_vpcs(AwsClient& client, const std::vector<std::string>& ids,
                                          const std::vector<Filter>& filters = {});
AwsResult<Unit> delete_vpc(AwsClient& client, const std::string& vpc_id);
AwsResult<Unit> enable_dns_hostnames(AwsClient& client, const std::string& vpc_id, bool enabled = true);

// Subnets
AwsResult<Subnet> create_subnet(AwsClient& client, const std::string& vpc_id, const std::string& cidr_block,
                                const std::string& availability_zone, const Tags& tags);
AwsResult<std::vector<Subnet>> describe_subnets(AwsClient& client, const std::vector<std::string>& ids,
                                                const std::vector<Filter>& filters = {});
AwsResult<Unit> delete_subnet(AwsClient& client, const std::string& subnet_id);
AwsResult<Unit> set_map_public_ip_on_launch(AwsClient& client, const std::string& subnet_id, bool enabled);

// Internet gateways
AwsResult<InternetGateway> create_internet_gateway(AwsClient& client, const Tags& tags);
AwsResult<Unit> attach_internet_gateway(AwsClient& client, const std::string& gateway_id, const std::string& vpc_id);
AwsResult<Unit> detach_internet_gateway(AwsClient& client, const std::string& gateway_id, const std::string& vpc_id);
AwsResult<Unit> delete_internet_gateway(AwsClient& client, const std::string& gateway_id);
AwsResult<std::vector<InternetGateway>> describe_internet_gateways(AwsClient& client,
                                                                   const std::vector<std::string>& ids,
                                                                   const std::vector<Filter>& filters = {});

// Route tables. An empty `client_token` is replaced by a fresh one.
AwsResult<RouteTable> create_route_table(AwsClient& client, const std::string& vpc_id, const Tags& tags,
                                         const std::string& client_token);
AwsResult<Unit> create_route(AwsClient& client, const std::string& route_table_id,
                             const std::string& destination_cidr_block, const std::string& gateway_id);
// Returns the association id that disassociate_route_table takes.
AwsResult<std::string> associate_route_table(AwsClient& client, const std::string& route_table_id,
                                             const std::string& subnet_id);
AwsResult<Unit> disassociate_route_table(AwsClient& client, const std::string& association_id);
AwsResult<Unit> delete_route_table(AwsClient& client, const std::string& route_table_id);
AwsResult<std::vector<RouteTable>> describe_route_tables(AwsClient& client, const std::vector<std::string>& ids,
                                                         const std::vector<Filter>& filters = {});

// Security groups
AwsResult<std::string> create_security_group(AwsClient& client, const std::string& name, const std::string& description,
                                             const std::string& vpc_id, const Tags& tags);
AwsResult<Unit> authorize_ingress(AwsClient& client, const std::string& group_id,
                                  const std::vector<IngressRule>& rules);
AwsResult<Unit> revoke_ingress(AwsClient& client, const std::string& group_id, const std::vector<IngressRule>& rules);
AwsResult<std::vector<SecurityGroup>> describe_security_groups(AwsClient& client, const std::vector<std::string>& ids,
                                                               const std::vector<Filter>& filters = {});
AwsResult<Unit> delete_security_group(AwsClient& client, const std::string& group_id);

// Key pairs. `public_key` is the OpenSSH line ("ssh-ed25519 AAAA... comment").
AwsResult<KeyPair> import_key_pair(AwsClient& client, const std::string& name, const std::string& public_key,
                                   const Tags& tags);
AwsResult<std::vector<KeyPair>> describe_key_pairs(AwsClient& client, const std::vector<std::string>& names,
                                                   const std::vector<Filter>& filters = {});
AwsResult<Unit> delete_key_pair(AwsClient& client, const std::string& name);

// Instances. run_instance launches one instance with IMDSv2 required and an
// encrypted root volume.
AwsResult<Instance> run_instance(AwsClient& client, const RunInstancesRequest& request);
// `page_size` 0 lets AWS choose; otherwise MaxResults per page (5 to 1000),
// only allowed without ids.
AwsResult<std::vector<Instance>> describe_instances(AwsClient& client, const std::vector<std::string>& ids,
                                                    const std::vector<Filter>& filters = {}, int page_size = 0);
// Returns each instance's state after the call ("shutting-down", ...).
AwsResult<std::vector<Instance>> terminate_instances(AwsClient& client, const std::vector<std::string>& ids);

// Returns the instance's user data (DescribeInstanceAttribute, attribute
// userData) decoded from base64, or an empty string when it has none.
AwsResult<std::string> describe_user_data(AwsClient& client, const std::string& instance_id);

// Volumes. To list the volumes of an instance, filter by
// {"attachment.instance-id", {instance_id}}.
AwsResult<std::vector<Volume>> describe_volumes(AwsClient& client, const std::vector<std::string>& ids,
                                                const std::vector<Filter>& filters = {});

// Lookups
AwsResult<std::vector<AvailabilityZone>> describe_availability_zones(AwsClient& client);
AwsResult<std::vector<Image>> describe_images(AwsClient& client, const std::vector<std::string>& ids,
                                              const std::vector<std::string>& owners = {},
                                              const std::vector<Filter>& filters = {});
AwsResult<std::vector<Region>> describe_regions(AwsClient& client);

// Standard Base64 (RFC 4648, with padding), as EC2 expects for UserData and
// PublicKeyMaterial.
std::string base64_encode(std::string_view bytes);
// Decodes standard Base64, or returns std::nullopt on invalid input.
std::optional<std::string> base64_decode(std::string_view encoded);

}  // namespace hivemind::aws::ec2
