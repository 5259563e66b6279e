// Typed SSM Parameter Store calls against moto_server.

#include "aws/ssm.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "calls_test_support.h"
#include "support/moto_server.h"

namespace hivemind::aws {
namespace {

using testing::MotoTest;

class SsmTest : public MotoTest {
 protected:
  ssm::PutParameterRequest secret(const std::string& name, const std::string& value, bool overwrite = false) {
    return ssm::PutParameterRequest{name, Secret(value), "SecureString", "", overwrite, kTestTags};
  }
};

TEST_F(SsmTest, SecureStringDecryptsOnRead) {
  auto version = ssm::put_parameter(client(), secret("/hivemind/hm-test/DB_PASSWORD", "s3cret-value"));
  ASSERT_AWS_OK(version);
  EXPECT_EQ(*version, 1);

  auto parameter = ssm::get_parameter(client(), "/hivemind/hm-test/DB_PASSWORD");
  ASSERT_AWS_OK(parameter);
  EXPECT_EQ(parameter->type, "SecureString");
  EXPECT_EQ(parameter->value.reveal(), "s3cret-value");
  EXPECT_EQ(fmt::format("{}", parameter->value), "[redacted]");

  auto encrypted = ssm::get_parameter(client(), "/hivemind/hm-test/DB_PASSWORD", false);
  ASSERT_AWS_OK(encrypted);
  EXPECT_NE(encrypted->value.reveal(), "s3cret-value");
}

TEST_F(SsmTest, ParameterIsTaggedAtCreation) {
  ASSERT_AWS_OK(ssm::put_parameter(client(), secret("/hivemind/hm-test/API_KEY", "k1")));
  auto tags = client().json(ssm_service(), "ListTagsForResource",
                            {{"ResourceType", "Parameter"}, {"ResourceId", "/hivemind/hm-test/API_KEY"}});
  ASSERT_AWS_OK(tags);
  EXPECT_EQ(find_tag(calls::tags_from_list(tags->body["TagList"]), "hivemind:deployment"), "hm-test-abc123");
}

TEST_F(SsmTest, OverwriteReplacesValueAndKeepsTags) {
  ASSERT_AWS_OK(ssm::put_parameter(client(), secret("/hivemind/hm-test/TOKEN", "first")));
  EXPECT_EQ(code_of(ssm::put_parameter(client(), secret("/hivemind/hm-test/TOKEN", "second"))),
            "ParameterAlreadyExists");

  auto version = ssm::put_parameter(client(), secret("/hivemind/hm-test/TOKEN", "second", true));
  ASSERT_AWS_OK(version);
  EXPECT_EQ(*version, 2);
  auto parameter = ssm::get_parameter(client(), "/hivemind/hm-test/TOKEN");
  ASSERT_AWS_OK(parameter);
  EXPECT_EQ(parameter->value.reveal(), "second");

  auto tags = client().json(ssm_service(), "ListTagsForResource",
                            {{"ResourceType", "Parameter"}, {"ResourceId", "/hivemind/hm-test/TOKEN"}});
  ASSERT_AWS_OK(tags);
  EXPECT_EQ(find_tag(calls::tags_from_list(tags->body["TagList"]), "hivemind:deployment"), "hm-test-abc123");
}

TEST_F(SsmTest, GetParametersByPathPagesToTheEnd) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_AWS_OK(ssm::put_parameter(client(), secret("/hivemind/hm-test/VAR_" + std::to_string(i), "v")));
  }
  ASSERT_AWS_OK(ssm::put_parameter(client(), secret("/hivemind/hm-test/nested/DEEP", "v")));
  ASSERT_AWS_OK(ssm::put_parameter(client(), secret("/other/VAR", "v")));

  auto shallow = ssm::get_parameters_by_path(client(), "/hivemind/hm-test", false, true, 2);
  ASSERT_AWS_OK(shallow);
  EXPECT_EQ(shallow->size(), 5u);

  auto deep = ssm::get_parameters_by_path(client(), "/hivemind/hm-test", true, true, 2);
  ASSERT_AWS_OK(deep);
  EXPECT_EQ(deep->size(), 6u);
}

TEST_F(SsmTest, DeletedParameterIsNotFound) {
  ASSERT_AWS_OK(ssm::put_parameter(client(), secret("/hivemind/hm-test/GONE", "v")));
  ASSERT_AWS_OK(ssm::delete_parameter(client(), "/hivemind/hm-test/GONE"));
  EXPECT_EQ(code_of(ssm::get_parameter(client(), "/hivemind/hm-test/GONE")), "ParameterNotFound");
  EXPECT_EQ(code_of(ssm::delete_parameter(client(), "/hivemind/hm-test/GONE")), "ParameterNotFound");
}

TEST_F(SsmTest, PublicAmiParameterResolves) {
  auto image = ssm::latest_al2023_ami(client());
  ASSERT_AWS_OK(image);
  EXPECT_EQ(image->rfind("ami-", 0), 0u) << *image;
}

}  // namespace
}  // namespace hivemind::aws
