#include <catch2/catch.hpp>

#include "zerofs/objstore/open.h"

using namespace zerofs;
using objstore::ParseUrl;
using objstore::Scheme;

TEST_CASE("storage URLs parse") {
  auto s3 = ParseUrl("s3://my-bucket/some/prefix/");
  REQUIRE(s3.ok());
  CHECK(s3->scheme == Scheme::kS3);
  CHECK(s3->bucket == "my-bucket");
  CHECK(s3->prefix == "some/prefix");
  auto bare = ParseUrl("s3://my-bucket");
  REQUIRE(bare.ok());
  CHECK(bare->prefix.empty());
  auto file = ParseUrl("file:///var/lib/zerofs/");
  REQUIRE(file.ok());
  CHECK(file->scheme == Scheme::kFile);
  CHECK(file->path == "/var/lib/zerofs");
  auto mem = ParseUrl("memory://vol");
  REQUIRE(mem.ok());
  CHECK(mem->bucket == "vol");
}

TEST_CASE("malformed storage URLs are clear errors") {
  struct Case {
    const char* url;
    const char* says;
  };
  for (const Case& c : {Case{"bucket/path", "no scheme"}, Case{"ftp://x", "unknown scheme 'ftp'"},
                        Case{"s3://", "no bucket name"}, Case{"s3://a", "not a valid bucket name"},
                        Case{"s3://bucket/a/../b", "'..'"},
                        Case{"file://relative/path", "must be absolute"},
                        Case{"memory://", "no store name"}}) {
    INFO(c.url);
    auto r = ParseUrl(c.url);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    CHECK(r.status().message().find(c.says) != std::string::npos);
    CHECK(r.status().message().find("expected s3://") != std::string::npos);
  }
}

TEST_CASE("Open(memory://) returns a working shared store") {
  auto a = objstore::Open("memory://open-test");
  REQUIRE(a.ok());
  REQUIRE((*a)->Put("x", "1").ok());
  auto b = objstore::Open("memory://open-test");
  REQUIRE(b.ok());
  CHECK((*b)->Get("x")->data == "1");
  CHECK((*a)->Describe() == "memory://open-test");
}
