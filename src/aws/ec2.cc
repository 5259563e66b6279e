#include "aws/ec2.h"

#include <openssl/evp.h>

#include <optional>
#include <string>
#include <utility>

namespace hivemind::aws::ec2 {
namespace {

using calls::append_filters;
using calls::append_list;
using calls::append_tag_specification;
using calls::bool_value;
using calls::ec2_tags;
using calls::int_value;
using calls::text;

// Sends one EC2 action and returns its response.
AwsResult<XmlResponse> send(AwsClient& client, std::string_view action, const QueryParams& params) {
  return client.query(ec2_service(), action, params);
}

AwsResult<Unit> send_status(AwsClient& client, std::string_view action, const QueryParams& params) {
  return calls::query_status(client, ec2_service(), action, params);
}

// Describe calls share one shape: ids as <IdParam>.N, filters, and a list of
// <item>s under `set_name` on each page.
template <typename T, typename Parse>
AwsResult<std::vector<T>> describe_all(AwsClient& client, std::string_view action, std::string_view id_param,
                                       const std::vector<std::string>& ids, const std::vector<Filter>& filters,
                                       const char* set_name, Parse parse, int page_size = 0) {
  QueryParams params;
  append_list(params, id_param, ids);
  append_filters(params, filters);
  if (page_size > 0) params.emplace_back("MaxResults", std::to_string(page_size));

  std::vector<T> items;
  AwsResult<Unit> paged = calls::query_pages(client, ec2_service(), action, std::move(params), "NextToken", "nextToken",
                                             [&](pugi::xml_node page) {
                                               for (pugi::xml_node item : page.child(set_name).children("item")) {
                                                 items.push_back(parse(item));
                                               }
                                             });
  if (!paged.ok()) return fail(std::move(paged).error());
  return items;
}

Vpc parse_vpc(pugi::xml_node node) {
  return Vpc{text(node, "vpcId"), text(node, "cidrBlock"), text(node, "state"), bool_value(node, "isDefault"),
             ec2_tags(node)};
}

Subnet parse_subnet(pugi::xml_node node) {
  return Subnet{text(node, "subnetId"),  text(node, "vpcId"),
                text(node, "cidrBlock"), text(node, "availabilityZone"),
                text(node, "state"),     bool_value(node, "mapPublicIpOnLaunch"),
                ec2_tags(node)};
}

InternetGateway parse_internet_gateway(pugi::xml_node node) {
  InternetGateway gateway{text(node, "internetGatewayId"), {}, ec2_tags(node)};
  for (pugi::xml_node attachment : node.child("attachmentSet").children("item")) {
    gateway.attached_vpc_ids.push_back(text(attachment, "vpcId"));
  }
  return gateway;
}

RouteTable parse_route_table(pugi::xml_node node) {
  RouteTable table{text(node, "routeTableId"), text(node, "vpcId"), {}, {}, ec2_tags(node)};
  for (pugi::xml_node route : node.child("routeSet").children("item")) {
    table.routes.push_back(Route{text(route, "destinationCidrBlock"), text(route, "gatewayId"), text(route, "state")});
  }
  for (pugi::xml_node association : node.child("associationSet").children("item")) {
    table.associations.push_back(RouteTableAssociation{text(association, "routeTableAssociationId"),
                                                       text(association, "subnetId"), bool_value(association, "main")});
  }
  return table;
}

// Splits each <ipPermissions> item into one rule per CIDR block and source
// group, the shape HiveMind writes them in.
std::vector<IngressRule> parse_ingress(pugi::xml_node permissions) {
  std::vector<IngressRule> rules;
  for (pugi::xml_node permission : permissions.children("item")) {
    IngressRule base;
    base.protocol = text(permission, "ipProtocol");
    base.from_port = int_value(permission, "fromPort");
    base.to_port = int_value(permission, "toPort");
    for (pugi::xml_node range : permission.child("ipRanges").children("item")) {
      IngressRule rule = base;
      rule.cidr_block = text(range, "cidrIp");
      rule.description = text(range, "description");
      rules.push_back(std::move(rule));
    }
    for (pugi::xml_node range : permission.child("ipv6Ranges").children("item")) {
      IngressRule rule = base;
      rule.cidr_block = text(range, "cidrIpv6");
      rule.description = text(range, "description");
      rules.push_back(std::move(rule));
    }
    for (pugi::xml_node group : permission.child("groups").children("item")) {
      IngressRule rule = base;
      rule.source_group_id = text(group, "groupId");
      rule.description = text(group, "description");
      rules.push_back(std::move(rule));
    }
  }
  return rules;
}

SecurityGroup parse_security_group(pugi::xml_node node) {
  return SecurityGroup{text(node, "groupId"),
                       text(node, "groupName"),
                       text(node, "groupDescription"),
                       text(node, "vpcId"),
                       parse_ingress(node.child("ipPermissions")),
                       ec2_tags(node)};
}

KeyPair parse_key_pair(pugi::xml_node node) {
  return KeyPair{text(node, "keyName"), text(node, "keyPairId"), text(node, "keyFingerprint"), ec2_tags(node)};
}

Instance parse_instance(pugi::xml_node node) {
  Instance instance;
  instance.id = text(node, "instanceId");
  instance.image_id = text(node, "imageId");
  instance.instance_type = text(node, "instanceType");
  instance.state = text(node.child("instanceState"), "name");
  instance.subnet_id = text(node, "subnetId");
  instance.vpc_id = text(node, "vpcId");
  instance.availability_zone = text(node.child("placement"), "availabilityZone");
  instance.private_ip = text(node, "privateIpAddress");
  instance.public_ip = text(node, "ipAddress");
  instance.key_name = text(node, "keyName");
  instance.launch_time = text(node, "launchTime");
  instance.http_tokens = text(node.child("metadataOptions"), "httpTokens");
  instance.client_token = text(node, "clientToken");
  for (pugi::xml_node group : node.child("groupSet").children("item")) {
    instance.security_group_ids.push_back(text(group, "groupId"));
  }
  for (pugi::xml_node mapping : node.child("blockDeviceMapping").children("item")) {
    instance.volume_ids.push_back(text(mapping.child("ebs"), "volumeId"));
  }
  instance.tags = ec2_tags(node);
  return instance;
}

Volume parse_volume(pugi::xml_node node) {
  Volume volume;
  volume.id = text(node, "volumeId");
  volume.volume_type = text(node, "volumeType");
  volume.size_gib = int_value(node, "size");
  volume.state = text(node, "status");
  volume.encrypted = bool_value(node, "encrypted");
  volume.kms_key_id = text(node, "kmsKeyId");
  for (pugi::xml_node attachment : node.child("attachmentSet").children("item")) {
    volume.attached_instance_ids.push_back(text(attachment, "instanceId"));
  }
  volume.tags = ec2_tags(node);
  return volume;
}

// Flattens rules into IpPermissions.N, one permission per rule.
void append_ip_permissions(QueryParams& params, const std::vector<IngressRule>& rules) {
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const IngressRule& rule = rules[i];
    std::string prefix = "IpPermissions." + std::to_string(i + 1);
    params.emplace_back(prefix + ".IpProtocol", rule.protocol);
    params.emplace_back(prefix + ".FromPort", std::to_string(rule.from_port));
    params.emplace_back(prefix + ".ToPort", std::to_string(rule.to_port));
    bool ipv6 = rule.cidr_block.find(':') != std::string::npos;
    std::string range = prefix + (ipv6 ? ".Ipv6Ranges.1" : ".IpRanges.1");
    if (!rule.cidr_block.empty()) {
      params.emplace_back(range + (ipv6 ? ".CidrIpv6" : ".CidrIp"), rule.cidr_block);
      if (!rule.description.empty()) params.emplace_back(range + ".Description", rule.description);
    }
    if (!rule.source_group_id.empty()) {
      params.emplace_back(prefix + ".Groups.1.GroupId", rule.source_group_id);
      if (!rule.description.empty()) params.emplace_back(prefix + ".Groups.1.Description", rule.description);
    }
  }
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string encoded(4 * ((bytes.size() + 2) / 3), '\0');
  int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  encoded.resize(static_cast<std::size_t>(written));
  return encoded;
}

std::optional<std::string> base64_decode(std::string_view encoded) {
  std::string trimmed;
  for (char c : encoded) {
    if (c != '\n' && c != '\r' && c != ' ') trimmed += c;
  }
  if (trimmed.size() % 4 != 0) return std::nullopt;

  std::string decoded(3 * trimmed.size() / 4, '\0');
  int written =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                      reinterpret_cast<const unsigned char*>(trimmed.data()), static_cast<int>(trimmed.size()));
  if (written < 0) return std::nullopt;

  // EVP_DecodeBlock counts the padding as zero bytes, so drop one per '='.
  std::size_t padding = 0;
  for (auto it = trimmed.rbegin(); it != trimmed.rend() && *it == '=' && padding < 2; ++it) ++padding;
  decoded.resize(static_cast<std::size_t>(written) - padding);
  return decoded;
}

AwsResult<Vpc> create_vpc(AwsClient& client, const std::string& cidr_block, const Tags& tags) {
  QueryParams params{{"CidrBlock", cidr_block}};
  append_tag_specification(params, 1, "vpc", tags);
  AwsResult<XmlResponse> response = send(client, "CreateVpc", params);
  if (!response.ok()) return fail(std::move(response).error());
  return parse_vpc(response->result.child("vpc"));
}

AwsResult<std::vector<Vpc>> describe_vpcs(AwsClient& client, const std::vector<std::string>& ids,
                                          const std::vector<Filter>& filters) {
  return describe_all<Vpc>(client, "DescribeVpcs", "VpcId", ids, filters, "vpcSet", parse_vpc);
}

AwsResult<Unit> delete_vpc(AwsClient& client, const std::string& vpc_id) {
  return send_status(client, "DeleteVpc", {{"VpcId", vpc_id}});
}

AwsResult<Unit> enable_dns_hostnames(AwsClient& client, const std::string& vpc_id, bool enabled) {
  return send_status(client, "ModifyVpcAttribute",
                     {{"VpcId", vpc_id}, {"EnableDnsHostnames.Value", enabled ? "true" : "false"}});
}

AwsResult<Subnet> create_subnet(AwsClient& client, const std::string& vpc_id, const std::string& cidr_block,
                                const std::string& availability_zone, const Tags& tags) {
  QueryParams params{{"VpcId", vpc_id}, {"CidrBlock", cidr_block}};
  if (!availability_zone.empty()) params.emplace_back("AvailabilityZone", availability_zone);
  append_tag_specification(params, 1, "subnet", tags);
  AwsResult<XmlResponse> response = send(client, "CreateSubnet", params);
  if (!response.ok()) return fail(std::move(response).error());
  return parse_subnet(response->result.child("subnet"));
}

AwsResult<std::vector<Subnet>> describe_subnets(AwsClient& client, const std::vector<std::string>& ids,
                                                const std::vector<Filter>& filters) {
  return describe_all<Subnet>(client, "DescribeSubnets", "SubnetId", ids, filters, "subnetSet", parse_subnet);
}

AwsResult<Unit> delete_subnet(AwsClient& client, const std::string& subnet_id) {
  return send_status(client, "DeleteSubnet", {{"SubnetId", subnet_id}});
}

AwsResult<Unit> set_map_public_ip_on_launch(AwsClient& client, const std::string& subnet_id, bool enabled) {
  return send_status(client, "ModifySubnetAttribute",
                     {{"SubnetId", subnet_id}, {"MapPublicIpOnLaunch.Value", enabled ? "true" : "false"}});
}

AwsResult<InternetGateway> create_internet_gateway(AwsClient& client, const Tags& tags) {
  QueryParams params;
  append_tag_specification(params, 1, "internet-gateway", tags);
  AwsResult<XmlResponse> response = send(client, "CreateInternetGateway", params);
  if (!response.ok()) return fail(std::move(response).error());
  return parse_internet_gateway(response->result.child("internetGateway"));
}

AwsResult<Unit> attach_internet_gateway(AwsClient& client, const std::string& gateway_id, const std::string& vpc_id) {
  return send_status(client, "AttachInternetGateway", {{"InternetGatewayId", gateway_id}, {"VpcId", vpc_id}});
}

AwsResult<Unit> detach_internet_gateway(AwsClient& client, const std::string& gateway_id, const std::string& vpc_id) {
  return send_status(client, "DetachInternetGateway", {{"InternetGatewayId", gateway_id}, {"VpcId", vpc_id}});
}

AwsResult<Unit> delete_internet_gateway(AwsClient& client, const std::string& gateway_id) {
  return send_status(client, "DeleteInternetGateway", {{"InternetGatewayId", gateway_id}});
}

AwsResult<std::vector<InternetGateway>> describe_internet_gateways(AwsClient& client,
                                                                   const std::vector<std::string>& ids,
                                                                   const std::vector<Filter>& filters) {
  return describe_all<InternetGateway>(client, "DescribeInternetGateways", "InternetGatewayId", ids, filters,
                                       "internetGatewaySet", parse_internet_gateway);
}

AwsResult<RouteTable> create_route_table(AwsClient& client, const std::string& vpc_id, const Tags& tags,
                                         const std::string& client_token) {
  QueryParams params{{"VpcId", vpc_id}};
  params.emplace_back("ClientToken", client_token.empty() ? new_client_token() : client_token);
  append_tag_specification(params, 1, "route-table", tags);
  AwsResult<XmlResponse> response = send(client, "CreateRouteTable", params);
  if (!response.ok()) return fail(std::move(response).error());
  return parse_route_table(response->result.child("routeTable"));
}

AwsResult<Unit> create_route(AwsClient& client, const std::string& route_table_id,
                             const std::string& destination_cidr_block, const std::string& gateway_id) {
  return send_status(
      client, "CreateRoute",
      {{"RouteTableId", route_table_id}, {"DestinationCidrBlock", destination_cidr_block}, {"GatewayId", gateway_id}});
}

AwsResult<std::string> associate_route_table(AwsClient& client, const std::string& route_table_id,
                                             const std::string& subnet_id) {
  AwsResult<XmlResponse> response =
      send(client, "AssociateRouteTable", {{"RouteTableId", route_table_id}, {"SubnetId", subnet_id}});
  if (!response.ok()) return fail(std::move(response).error());
  return text(response->result, "associationId");
}

AwsResult<Unit> disassociate_route_table(AwsClient& client, const std::string& association_id) {
  return send_status(client, "DisassociateRouteTable", {{"AssociationId", association_id}});
}

AwsResult<Unit> delete_route_table(AwsClient& client, const std::string& route_table_id) {
  return send_status(client, "DeleteRouteTable", {{"RouteTableId", route_table_id}});
}

AwsResult<std::vector<RouteTable>> describe_route_tables(AwsClient& client, const std::vector<std::string>& ids,
                                                         const std::vector<Filter>& filters) {
  return describe_all<RouteTable>(client, "DescribeRouteTables", "RouteTableId", ids, filters, "routeTableSet",
                                  parse_route_table);
}

AwsResult<std::string> create_security_group(AwsClient& client, const std::string& name, const std::string& description,
                                             const std::string& vpc_id, const Tags& tags) {
  QueryParams params{{"GroupName", name}, {"GroupDescription", description}, {"VpcId", vpc_id}};
  append_tag_specification(params, 1, "security-group", tags);
  AwsResult<XmlResponse> response = send(client, "CreateSecurityGroup", params);
  if (!response.ok()) return fail(std::move(response).error());
  return text(response->result, "groupId");
}

AwsResult<Unit> authorize_ingress(AwsClient& client, const std::string& group_id,
                                  const std::vector<IngressRule>& rules) {
  QueryParams params{{"GroupId", group_id}};
  append_ip_permissions(params, rules);
  return send_status(client, "AuthorizeSecurityGroupIngress", params);
}

AwsResult<Unit> revoke_ingress(AwsClient& client, const std::string& group_id, const std::vector<IngressRule>& rules) {
  QueryParams params{{"GroupId", group_id}};
  append_ip_permissions(params, rules);
  return send_status(client, "RevokeSecurityGroupIngress", params);
}

AwsResult<std::vector<SecurityGroup>> describe_security_groups(AwsClient& client, const std::vector<std::string>& ids,
                                                               const std::vector<Filter>& filters) {
  return describe_all<SecurityGroup>(client, "DescribeSecurityGroups", "GroupId", ids, filters, "securityGroupInfo",
                                     parse_security_group);
}

AwsResult<Unit> delete_security_group(AwsClient& client, const std::string& group_id) {
  return send_status(client, "DeleteSecurityGroup", {{"GroupId", group_id}});
}

AwsResult<KeyPair> import_key_pair(AwsClient& client, const std::string& name, const std::string& public_key,
                                   const Tags& tags) {
  QueryParams params{{"KeyName", name}, {"PublicKeyMaterial", base64_encode(public_key)}};
  append_tag_specification(params, 1, "key-pair", tags);
  AwsResult<XmlResponse> response = send(client, "ImportKeyPair", params);
  if (!response.ok()) return fail(std::move(response).error());
  KeyPair key_pair = parse_key_pair(response->result);
  if (key_pair.tags.empty()) key_pair.tags = tags;
  return key_pair;
}

AwsResult<std::vector<KeyPair>> describe_key_pairs(AwsClient& client, const std::vector<std::string>& names,
                                                   const std::vector<Filter>& filters) {
  return describe_all<KeyPair>(client, "DescribeKeyPairs", "KeyName", names, filters, "keySet", parse_key_pair);
}

AwsResult<Unit> delete_key_pair(AwsClient& client, const std::string& name) {
  return send_status(client, "DeleteKeyPair", {{"KeyName", name}});
}

AwsResult<Instance> run_instance(AwsClient& client, const RunInstancesRequest& request) {
  QueryParams params{{"ImageId", request.image_id},
                     {"InstanceType", request.instance_type},
                     {"MinCount", "1"},
                     {"MaxCount", "1"},
                     {"MetadataOptions.HttpTokens", "required"},
                     {"MetadataOptions.HttpEndpoint", "enabled"},
                     {"BlockDeviceMapping.1.DeviceName", request.root_device_name},
                     {"BlockDeviceMapping.1.Ebs.VolumeSize", std::to_string(request.root_volume_gib)},
                     {"BlockDeviceMapping.1.Ebs.VolumeType", request.root_volume_type},
                     {"BlockDeviceMapping.1.Ebs.Encrypted", "true"},
                     {"BlockDeviceMapping.1.Ebs.DeleteOnTermination", "true"},
                     {"ClientToken", request.client_token.empty() ? new_client_token() : request.client_token}};
  if (!request.key_name.empty()) params.emplace_back("KeyName", request.key_name);
  if (!request.subnet_id.empty()) params.emplace_back("SubnetId", request.subnet_id);
  append_list(params, "SecurityGroupId", request.security_group_ids);
  if (!request.user_data.empty()) params.emplace_back("UserData", base64_encode(request.user_data));
  append_tag_specification(params, 1, "instance", request.instance_tags);
  append_tag_specification(params, request.instance_tags.empty() ? 1 : 2, "volume", request.volume_tags);

  AwsResult<XmlResponse> response = send(client, "RunInstances", params);
  if (!response.ok()) return fail(std::move(response).error());
  return parse_instance(response->result.child("instancesSet").child("item"));
}

AwsResult<std::vector<Instance>> describe_instances(AwsClient& client, const std::vector<std::string>& ids,
                                                    const std::vector<Filter>& filters, int page_size) {
  QueryParams params;
  append_list(params, "InstanceId", ids);
  append_filters(params, filters);
  if (page_size > 0) params.emplace_back("MaxResults", std::to_string(page_size));

  std::vector<Instance> instances;
  AwsResult<Unit> paged =
      calls::query_pages(client, ec2_service(), "DescribeInstances", std::move(params), "NextToken", "nextToken",
                         [&](pugi::xml_node page) {
                           for (pugi::xml_node reservation : page.child("reservationSet").children("item")) {
                             for (pugi::xml_node item : reservation.child("instancesSet").children("item")) {
                               instances.push_back(parse_instance(item));
                             }
                           }
                         });
  if (!paged.ok()) return fail(std::move(paged).error());
  return instances;
}

AwsResult<std::vector<Instance>> terminate_instances(AwsClient& client, const std::vector<std::string>& ids) {
  QueryParams params;
  append_list(params, "InstanceId", ids);
  AwsResult<XmlResponse> response = send(client, "TerminateInstances", params);
  if (!response.ok()) return fail(std::move(response).error());

  std::vector<Instance> instances;
  for (pugi::xml_node item : response->result.child("instancesSet").children("item")) {
    Instance instance;
    instance.id = text(item, "instanceId");
    instance.state = text(item.child("currentState"), "name");
    instances.push_back(std::move(instance));
  }
  return instances;
}

AwsResult<std::string> describe_user_data(AwsClient& client, const std::string& instance_id) {
  AwsResult<XmlResponse> response =
      send(client, "DescribeInstanceAttribute", {{"InstanceId", instance_id}, {"Attribute", "userData"}});
  if (!response.ok()) return fail(std::move(response).error());

  std::string encoded = text(response->result.child("userData"), "value");
  std::optional<std::string> decoded = base64_decode(encoded);
  if (!decoded) {
    AwsError error;
    error.kind = ErrorKind::kParse;
    error.service = "ec2";
    error.operation = "DescribeInstanceAttribute";
    error.code = kParseMalformedResponse;
    error.message = "the userData value of " + instance_id + " is not valid base64";
    return fail(std::move(error));
  }
  return std::move(*decoded);
}

AwsResult<std::vector<Volume>> describe_volumes(AwsClient& client, const std::vector<std::string>& ids,
                                                const std::vector<Filter>& filters) {
  return describe_all<Volume>(client, "DescribeVolumes", "VolumeId", ids, filters, "volumeSet", parse_volume);
}

AwsResult<std::vector<AvailabilityZone>> describe_availability_zones(AwsClient& client) {
  AwsResult<XmlResponse> response = send(client, "DescribeAvailabilityZones", {});
  if (!response.ok()) return fail(std::move(response).error());

  std::vector<AvailabilityZone> zones;
  for (pugi::xml_node item : response->result.child("availabilityZoneInfo").children("item")) {
    zones.push_back(AvailabilityZone{text(item, "zoneName"), text(item, "zoneId"), text(item, "zoneState")});
  }
  return zones;
}

AwsResult<std::vector<Image>> describe_images(AwsClient& client, const std::vector<std::string>& ids,
                                              const std::vector<std::string>& owners,
                                              const std::vector<Filter>& filters) {
  QueryParams params;
  append_list(params, "ImageId", ids);
  append_list(params, "Owner", owners);
  append_filters(params, filters);

  std::vector<Image> images;
  AwsResult<Unit> paged = calls::query_pages(
      client, ec2_service(), "DescribeImages", std::move(params), "NextToken", "nextToken", [&](pugi::xml_node page) {
        for (pugi::xml_node item : page.child("imagesSet").children("item")) {
          images.push_back(Image{text(item, "imageId"), text(item, "name"), text(item, "imageState"),
                                 text(item, "architecture"), text(item, "creationDate")});
        }
      });
  if (!paged.ok()) return fail(std::move(paged).error());
  return images;
}

AwsResult<std::vector<Region>> describe_regions(AwsClient& client) {
  AwsResult<XmlResponse> response = send(client, "DescribeRegions", {});
  if (!response.ok()) return fail(std::move(response).error());

  std::vector<Region> regions;
  for (pugi::xml_node item : response->result.child("regionInfo").children("item")) {
    regions.push_back(Region{text(item, "regionName"), text(item, "regionEndpoint")});
  }
  return regions;
}

}  // namespace hivemind::aws::ec2
