// The S3 server the s3-labelled tests run against (scripts/radosgw.sh starts it).
//
// Settings come from the file named by ZEROFS_TEST_S3_ENV_FILE (KEY=VALUE lines, as
// radosgw.sh writes them; ctest passes it to every s3 test), else from the environment:
//   ZEROFS_TEST_S3_ENDPOINT ZEROFS_TEST_S3_ACCESS_KEY ZEROFS_TEST_S3_SECRET_KEY
//   ZEROFS_TEST_S3_BUCKET ZEROFS_TEST_S3_REGION
// A test that needs the server and cannot find it fails, it never skips: a missing server
// must not look like a passing suite.
#pragma once

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <string>

#include "zerofs/objstore/s3_options.h"

namespace zerofs::testing {

struct S3TestServer {
  std::string endpoint;
  std::string access_key;
  std::string secret_key;
  std::string bucket;
  std::string region;

  // Client options for this server with test-friendly timeouts.
  objstore::S3Options Options() const {
    objstore::S3Options c;
    c.endpoint = endpoint;
    c.region = region;
    c.access_key_id = access_key;
    c.secret_access_key = Secret(secret_key);
    c.path_style = true;
    c.retry_base_delay_ms = 10;
    c.retry_max_delay_ms = 200;
    c.request_timeout_ms = 30000;
    return c;
  }
};

inline S3TestServer LoadS3TestServer() {
  std::map<std::string, std::string> values;
  const char* file = std::getenv("ZEROFS_TEST_S3_ENV_FILE");
  if (file != nullptr && *file != '\0') {
    std::ifstream in(file);
    if (!in) FAIL("ZEROFS_TEST_S3_ENV_FILE=" << file << " cannot be read; did radosgw.sh start?");
    std::string line;
    while (std::getline(in, line)) {
      const std::size_t eq = line.find('=');
      if (eq != std::string::npos) values[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  auto get = [&](const std::string& name) {
    if (auto it = values.find(name); it != values.end()) return it->second;
    const char* v = std::getenv(name.c_str());
    if (v == nullptr || *v == '\0') {
      FAIL("no S3 test server: " << name
                                 << " is not set (run scripts/radosgw.sh start and "
                                    "set ZEROFS_TEST_S3_ENV_FILE, or run through ctest)");
    }
    return std::string(v == nullptr ? "" : v);
  };
  return {get("ZEROFS_TEST_S3_ENDPOINT"), get("ZEROFS_TEST_S3_ACCESS_KEY"),
          get("ZEROFS_TEST_S3_SECRET_KEY"), get("ZEROFS_TEST_S3_BUCKET"),
          get("ZEROFS_TEST_S3_REGION")};
}

// A key prefix no other test run uses, so tests can run concurrently on one bucket.
inline std::string UniqueS3Prefix(const std::string& name) {
  std::random_device rd;
  return "test/" + name + "-" + std::to_string(rd()) + std::to_string(rd());
}

}  // namespace zerofs::testing
