#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "zerofs/common/log.h"
#include "zerofs/common/secret.h"

using namespace zerofs;

namespace {

struct CaptureLog {
  std::vector<std::string> lines;
  log::Level saved = log::GetLevel();
  CaptureLog() {
    log::SetSink([this](log::Level, std::string_view line) { lines.emplace_back(line); });
  }
  ~CaptureLog() {
    log::SetSink(nullptr);
    log::SetLevel(saved);
  }
};

}  // namespace

TEST_CASE("log levels filter messages and do not evaluate filtered arguments") {
  CaptureLog cap;
  log::SetLevel(log::Level::kWarn);
  int evaluated = 0;
  auto count = [&] { return ++evaluated; };
  ZEROFS_LOG(kInfo) << "hidden " << count();
  ZEROFS_LOG(kWarn) << "shown " << count();
  REQUIRE(cap.lines.size() == 1);
  CHECK(evaluated == 1);
  CHECK(cap.lines[0].find(" W shown 1") != std::string::npos);
}

TEST_CASE("secrets are redacted when logged") {
  CaptureLog cap;
  log::SetLevel(log::Level::kDebug);
  Secret password("hunter2-very-secret");
  ZEROFS_LOG(kError) << "password=" << password;
  REQUIRE(cap.lines.size() == 1);
  CHECK(cap.lines[0].find("hunter2") == std::string::npos);
  CHECK(cap.lines[0].find("<redacted>") != std::string::npos);
  CHECK(password.reveal() == "hunter2-very-secret");
}

TEST_CASE("ParseLevel accepts the documented names only") {
  CHECK(*log::ParseLevel("DEBUG") == log::Level::kDebug);
  CHECK(*log::ParseLevel("warning") == log::Level::kWarn);
  auto bad = log::ParseLevel("verbose");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("verbose") != std::string::npos);
}
