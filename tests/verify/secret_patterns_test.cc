#include "verify/secret_patterns.h"

#include <gtest/gtest.h>

namespace hivemind::verify {
namespace {

using Found = std::vector<std::string>;

TEST(SecretPatternsTest, FindsPrivateKeyBlock) {
  EXPECT_EQ(find_secret_patterns("x\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n"), Found{"a private key block"});
  EXPECT_EQ(find_secret_patterns("-----BEGIN RSA PRIVATE KEY-----"), Found{"a private key block"});
}

TEST(SecretPatternsTest, IgnoresPublicKeyAndCertificate) {
  EXPECT_TRUE(find_secret_patterns("-----BEGIN PUBLIC KEY-----\nMIIB\n").empty());
  EXPECT_TRUE(find_secret_patterns("-----BEGIN CERTIFICATE-----\nMIIB\n").empty());
}

TEST(SecretPatternsTest, FindsAccessKeyId) {
  EXPECT_EQ(find_secret_patterns("aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"), Found{"an AWS access key id"});
  EXPECT_EQ(find_secret_patterns("\"ASIAY34FZKBOKMUTVV7A\""), Found{"an AWS access key id"});
}

TEST(SecretPatternsTest, IgnoresLongerUppercaseRuns) {
  EXPECT_TRUE(find_secret_patterns("XAKIAIOSFODNN7EXAMPLE").empty());
  EXPECT_TRUE(find_secret_patterns("AKIAIOSFODNN7EXAMPLEX").empty());
  EXPECT_TRUE(find_secret_patterns("AKIA1234").empty());
}

TEST(SecretPatternsTest, FindsUrlWithPassword) {
  EXPECT_EQ(find_secret_patterns("DATABASE_URL=postgres://app:pw@db:5432/app"), Found{"a URL with a password"});
  EXPECT_EQ(find_secret_patterns("mysql://root:x@127.0.0.1/app"), Found{"a URL with a password"});
}

TEST(SecretPatternsTest, IgnoresUrlWithoutPassword) {
  EXPECT_TRUE(find_secret_patterns("postgres://app@db:5432/app").empty());
  EXPECT_TRUE(find_secret_patterns("http://127.0.0.1:8080/health").empty());
  EXPECT_TRUE(find_secret_patterns("postgres://app:${DB_PASSWORD}@db/app").empty());
  EXPECT_TRUE(find_secret_patterns("https://example.com/a@b").empty());
}

TEST(SecretPatternsTest, FindsSecretAssignment) {
  Found assignment{"a password, token or key assigned to a variable"};
  EXPECT_EQ(find_secret_patterns("export DB_PASSWORD=correct-horse\n"), assignment);
  EXPECT_EQ(find_secret_patterns("GITHUB_TOKEN='ghp_0123456789'"), assignment);
  EXPECT_EQ(find_secret_patterns("STRIPE_SECRET_KEY=\"sk_live_abcdefgh\""), assignment);
}

TEST(SecretPatternsTest, IgnoresReferencesAndShortValues) {
  EXPECT_TRUE(find_secret_patterns("DB_PASSWORD=\"$(aws ssm get-parameter)\"").empty());
  EXPECT_TRUE(find_secret_patterns("DB_PASSWORD=${PASSWORD}").empty());
  EXPECT_TRUE(find_secret_patterns("DB_PASSWORD=[redacted]").empty());
  EXPECT_TRUE(find_secret_patterns("API_TOKEN=short").empty());
  EXPECT_TRUE(find_secret_patterns("ClientToken=0123456789abcdef").empty());
  EXPECT_TRUE(find_secret_patterns("PORT=8080 NODE_ENV=production").empty());
}

TEST(SecretPatternsTest, ReportsEachKindOnce) {
  Found found = find_secret_patterns("a://u:p@h b://u:q@h AKIAIOSFODNN7EXAMPLE");

  EXPECT_EQ(found, (Found{"an AWS access key id", "a URL with a password"}));
}

}  // namespace
}  // namespace hivemind::verify
