// Where S3 credentials come from: config, then environment, then the shared credentials
// file and its profiles; and that a missing or malformed source says what to fix.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "objstore/s3/credentials.h"

namespace zerofs::objstore::s3 {
namespace {

std::map<std::string, std::string>& FakeEnv() {
  static std::map<std::string, std::string> env;
  return env;
}

std::optional<std::string> LookupFake(const std::string& name) {
  auto it = FakeEnv().find(name);
  if (it == FakeEnv().end()) return std::nullopt;
  return it->second;
}

constexpr std::string_view kFile =
    "# comment\n"
    "[default]\n"
    "aws_access_key_id = AKIDDEFAULT\n"
    "aws_secret_access_key=secret-default\n"
    "\n"
    "; another comment\n"
    "[profile work]\r\n"
    "  aws_access_key_id =  AKIDWORK  \r\n"
    "aws_secret_access_key = secret/work+key\r\n"
    "aws_session_token = token-work\r\n"
    "region = eu-west-1\r\n"
    "[broken]\n"
    "aws_access_key_id = AKIDBROKEN\n";

TEST_CASE("Credentials file: profiles, comments, spaces, CRLF") {
  auto def = ParseCredentialsFile(kFile, "default", "creds");
  REQUIRE(def.ok());
  CHECK(def->access_key_id == "AKIDDEFAULT");
  CHECK(def->secret_access_key.reveal() == "secret-default");
  CHECK(def->session_token.empty());
  CHECK(def->source == "creds [default]");

  auto work = ParseCredentialsFile(kFile, "work", "creds");
  REQUIRE(work.ok());
  CHECK(work->access_key_id == "AKIDWORK");
  CHECK(work->secret_access_key.reveal() == "secret/work+key");
  CHECK(work->session_token.reveal() == "token-work");
}

TEST_CASE("Credentials file: missing profile, incomplete profile, malformed lines") {
  auto missing = ParseCredentialsFile(kFile, "nope", "creds");
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK(missing.status().message().find("[nope]") != std::string::npos);

  auto broken = ParseCredentialsFile(kFile, "broken", "creds");
  CHECK(broken.status().code() == StatusCode::kInvalidArgument);

  auto bad_section = ParseCredentialsFile("[default\nx=y\n", "default", "creds");
  CHECK(bad_section.status().code() == StatusCode::kInvalidArgument);
  CHECK(bad_section.status().message().find("creds:1") != std::string::npos);

  auto bad_line = ParseCredentialsFile("[default]\njust words\n", "default", "creds");
  CHECK(bad_line.status().code() == StatusCode::kInvalidArgument);
  CHECK(bad_line.status().message().find("creds:2") != std::string::npos);
}

TEST_CASE("Credentials: resolution order") {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("zerofs-creds-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir / ".aws");
  { std::ofstream(dir / ".aws" / "credentials") << kFile; }
  FakeEnv().clear();
  FakeEnv()["HOME"] = dir.string();
  S3Options config;

  SECTION("the config wins over everything") {
    FakeEnv()["AWS_ACCESS_KEY_ID"] = "AKIDENV";
    FakeEnv()["AWS_SECRET_ACCESS_KEY"] = "secret-env";
    config.access_key_id = "AKIDCONFIG";
    config.secret_access_key = Secret("secret-config");
    auto c = ResolveCredentials(config, &LookupFake);
    REQUIRE(c.ok());
    CHECK(c->access_key_id == "AKIDCONFIG");
    CHECK(c->secret_access_key.reveal() == "secret-config");
    CHECK(c->source == "config");
  }
  SECTION("a key id in the config without a secret is an error") {
    config.access_key_id = "AKIDCONFIG";
    CHECK(ResolveCredentials(config, &LookupFake).status().code() == StatusCode::kInvalidArgument);
  }
  SECTION("then the environment, with a session token") {
    FakeEnv()["AWS_ACCESS_KEY_ID"] = "AKIDENV";
    FakeEnv()["AWS_SECRET_ACCESS_KEY"] = "secret-env";
    FakeEnv()["AWS_SESSION_TOKEN"] = "token-env";
    auto c = ResolveCredentials(config, &LookupFake);
    REQUIRE(c.ok());
    CHECK(c->access_key_id == "AKIDENV");
    CHECK(c->session_token.reveal() == "token-env");
    CHECK(c->source == "environment");
  }
  SECTION("then ~/.aws/credentials, profile default") {
    auto c = ResolveCredentials(config, &LookupFake);
    REQUIRE(c.ok());
    CHECK(c->access_key_id == "AKIDDEFAULT");
  }
  SECTION("AWS_PROFILE picks the profile, S3Options::profile overrides it") {
    FakeEnv()["AWS_PROFILE"] = "work";
    auto c = ResolveCredentials(config, &LookupFake);
    REQUIRE(c.ok());
    CHECK(c->access_key_id == "AKIDWORK");
    config.profile = "default";
    auto d = ResolveCredentials(config, &LookupFake);
    REQUIRE(d.ok());
    CHECK(d->access_key_id == "AKIDDEFAULT");
  }
  SECTION("AWS_SHARED_CREDENTIALS_FILE points elsewhere") {
    const auto other = dir / "other";
    std::ofstream(other) << "[default]\naws_access_key_id=AKIDOTHER\naws_secret_access_key=s\n";
    FakeEnv()["AWS_SHARED_CREDENTIALS_FILE"] = other.string();
    auto c = ResolveCredentials(config, &LookupFake);
    REQUIRE(c.ok());
    CHECK(c->access_key_id == "AKIDOTHER");
  }
  SECTION("nothing anywhere is kPermissionDenied saying where to put them") {
    FakeEnv()["HOME"] = (dir / "nonexistent").string();
    auto c = ResolveCredentials(config, &LookupFake);
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().code() == StatusCode::kPermissionDenied);
    CHECK(c.status().message().find("AWS_ACCESS_KEY_ID") != std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("Credentials never print their secret") {
  auto c = ParseCredentialsFile(kFile, "work", "creds");
  REQUIRE(c.ok());
  std::ostringstream out;
  out << c->secret_access_key << c->session_token;
  CHECK(out.str().find("secret") == std::string::npos);
  CHECK(out.str().find("token-work") == std::string::npos);
}

}  // namespace
}  // namespace zerofs::objstore::s3
