// The control socket: requests, progress lines, errors, bad input, and its mode.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "zerofs/server/control.h"

namespace {

using nlohmann::json;
using zerofs::Result;
using zerofs::Status;
using zerofs::StatusCode;
using zerofs::server::CallControl;
using zerofs::server::ControlProgress;
using zerofs::server::ControlServer;

std::string TempSocket(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("zerofs-control-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

// Sends raw text and returns the first reply line.
std::string RawExchange(const std::string& path, const std::string& text) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  REQUIRE(::send(fd, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size()));
  std::string line;
  char c = 0;
  while (::recv(fd, &c, 1, 0) == 1 && c != '\n') line += c;
  ::close(fd);
  return line;
}

}  // namespace

TEST_CASE("control: a request gets its handler's result, progress lines first") {
  const std::string path = TempSocket("a.sock");
  ControlServer server(path);
  server.Register("echo", "returns its arguments",
                  [](const json& args, const ControlProgress& progress) -> Result<json> {
                    progress(json{{"step", 1}});
                    progress(json{{"step", 2}});
                    return args;
                  });
  server.Register("fail", "always fails",
                  [](const json&, const ControlProgress&) -> Result<json> {
                    return Status::NotFound("no export 'vm1'");
                  });
  REQUIRE(server.Start().ok());

  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  std::vector<int> steps;
  auto echoed = CallControl(path, "echo", json{{"name", "x"}, {"size", 5}},
                            [&](const json& p) { steps.push_back(p["step"].get<int>()); });
  REQUIRE(echoed.ok());
  CHECK((*echoed)["name"] == "x");
  CHECK((*echoed)["size"] == 5);
  CHECK(steps == std::vector<int>{1, 2});

  auto failed = CallControl(path, "fail", json::object());
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.status().code() == StatusCode::kNotFound);
  CHECK(failed.status().message().find("no export 'vm1'") != std::string::npos);

  auto unknown = CallControl(path, "nope", json::object());
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().code() == StatusCode::kNotSupported);

  auto help = CallControl(path, "help", json::object());
  REQUIRE(help.ok());
  CHECK(help->contains("echo"));
  CHECK(help->contains("fail"));
  server.Stop();
}

TEST_CASE("control: malformed lines get an error and the server keeps serving") {
  const std::string path = TempSocket("b.sock");
  ControlServer server(path);
  server.Register("count", "", [](const json& args, const ControlProgress&) -> Result<json> {
    return json{{"n", args.at("n").get<int>() + 1}};
  });
  REQUIRE(server.Start().ok());
  for (const std::string bad : {"not json\n", "[1,2]\n", "{\"op\": 5}\n"}) {
    const json reply = json::parse(RawExchange(path, bad));
    CHECK(reply["ok"] == false);
    CHECK(reply["code"] == "invalid_argument");
  }
  // Arguments of the wrong type are the handler's exception, answered as an error.
  const json wrong = json::parse(RawExchange(path, R"({"op":"count","args":{"n":"x"}})" "\n"));
  CHECK(wrong["ok"] == false);
  auto good = CallControl(path, "count", json{{"n", 41}});
  REQUIRE(good.ok());
  CHECK((*good)["n"] == 42);
  server.Stop();
}

TEST_CASE("control: a second server does not steal a live socket, a stale one is replaced") {
  const std::string path = TempSocket("c.sock");
  {
    ControlServer first(path);
    REQUIRE(first.Start().ok());
    ControlServer second(path);
    const Status taken = second.Start();
    CHECK(taken.code() == StatusCode::kAlreadyExists);
    // The first still answers.
    CHECK(CallControl(path, "help", json::object()).ok());
    first.Stop();
  }
  CHECK_FALSE(std::filesystem::exists(path));
  // Nothing listening: a clear "unavailable".
  auto none = CallControl(path, "help", json::object());
  CHECK(none.status().code() == StatusCode::kUnavailable);
  // A stale socket file (left by a killed server) is replaced.
  {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    ::close(fd);
  }
  ControlServer third(path);
  REQUIRE(third.Start().ok());
  CHECK(CallControl(path, "help", json::object()).ok());
}

TEST_CASE("control: concurrent clients") {
  const std::string path = TempSocket("d.sock");
  ControlServer server(path);
  server.Register("sleep", "", [](const json& args, const ControlProgress&) -> Result<json> {
    std::this_thread::sleep_for(std::chrono::milliseconds(args.value("ms", 0)));
    return json{{"done", true}};
  });
  REQUIRE(server.Start().ok());
  // A slow operation does not block a quick one from another client.
  std::thread slow([&] { CHECK(CallControl(path, "sleep", json{{"ms", 500}}).ok()); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto start = std::chrono::steady_clock::now();
  CHECK(CallControl(path, "sleep", json{{"ms", 0}}).ok());
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(400));
  slow.join();
  server.Stop();
}
