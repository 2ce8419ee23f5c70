// ServerShell and FramedConnection with a toy protocol (frames are len[1] + bytes, echoed
// back from a pool, so in completion order; "hold" waits at a gate): frames split or
// batched any way are each answered once, the in-flight bound stops dispatching, an
// oversized frame closes only its own connection, Stop drains what was read, and the open
// and idle timeouts close.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/thread_pool.hpp>
#include <catch2/catch.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "../../support/gate.h"
#include "../../support/loopback.h"
#include "zerofs/server/server_shell.h"

namespace {

using zerofs::Result;
using zerofs::server::ConnectionLimits;
using zerofs::server::FramedConnection;
using zerofs::server::FrameExtent;
using zerofs::server::FrameProtocol;
using zerofs::server::ServerShell;

constexpr std::size_t kMaxFrame = 100;

struct Shared {
  boost::asio::thread_pool pool{4};
  zerofs::testing::Gate gate;
  bool greet = false;  // an Open phase: the client says "HELLO", the server "OK"
};

class Echo final : public FrameProtocol {
 public:
  explicit Echo(Shared* shared) : shared_(shared) {}

  boost::asio::awaitable<bool> Open(FramedConnection& c) override {
    if (!shared_->greet) co_return true;
    std::string hello(5, '\0');
    if (!co_await c.ReadExactly(hello.data(), hello.size()) || hello != "HELLO") co_return false;
    co_return co_await c.WriteNow("OK");
  }
  Result<FrameExtent> Measure(std::string_view buffered) override {
    if (buffered.empty()) return FrameExtent{1};
    const auto length = static_cast<unsigned char>(buffered[0]);
    if (length > kMaxFrame) return zerofs::Status::Corruption("frame too large");
    return FrameExtent{1U + length};
  }
  boost::asio::awaitable<bool> OnFrame(FramedConnection& c, std::string frame,
                                       std::uint64_t cost) override {
    c.Reserve(cost);
    Shared* shared = shared_;
    c.Offload(
        shared->pool,
        [shared, frame = std::move(frame)] {
          if (frame.substr(1) == "hold") shared->gate.Pass();
          return frame;
        },
        [cost](FramedConnection& conn, std::string reply) { conn.Send(std::move(reply), cost); });
    co_return true;
  }

 private:
  Shared* const shared_;
};

struct Server {
  explicit Server(ConnectionLimits limits, bool greet = false)
      : shell("echo", "127.0.0.1:0", 8, limits,
              [this](const std::string&) { return std::make_unique<Echo>(&shared); }) {
    shared.greet = greet;
    REQUIRE(shell.BeginStart().ok());
    REQUIRE(shell.Bind({"127.0.0.1:0"}, {}).ok());
    shell.Run(1);
  }
  ~Server() {
    shared.gate.Open();
    shell.Stop();
    shell.Wait(2000, [this](bool) { shared.pool.join(); });
  }
  std::uint16_t port() const { return shell.tcp_ports().at(0); }

  Shared shared;
  ServerShell shell;
};

class Client {
 public:
  explicit Client(std::uint16_t port) : fd_(zerofs::testing::ConnectLoopback(port)) {
    REQUIRE(fd_ >= 0);
  }
  ~Client() { ::close(fd_); }
  void Send(const std::string& bytes) {
    REQUIRE(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(bytes.size()));
  }
  // `n` bytes within `ms`; what arrived (shorter on EOF or timeout).
  std::string Read(std::size_t n, int ms = 5000) {
    std::string out;
    while (out.size() < n) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, ms) != 1) break;
      char buf[512];
      const ssize_t r = ::recv(fd_, buf, std::min(sizeof buf, n - out.size()), 0);
      if (r <= 0) break;
      out.append(buf, static_cast<std::size_t>(r));
    }
    return out;
  }
  bool Readable(int ms) {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, ms) == 1;
  }
  // True when the server closes the connection within `ms`.
  bool Closed(int ms = 5000) { return Readable(ms) && Read(1, ms).empty(); }

 private:
  int fd_ = -1;
};

std::string Frame(const std::string& body) {
  return std::string(1, static_cast<char>(body.size())) + body;
}

// The frames in `bytes`, sorted (replies come in completion order).
std::vector<std::string> SortedFrames(std::string_view bytes) {
  std::vector<std::string> frames;
  while (!bytes.empty()) {
    const std::size_t n = 1U + static_cast<unsigned char>(bytes[0]);
    frames.emplace_back(bytes.substr(0, n));
    bytes.remove_prefix(std::min(n, bytes.size()));
  }
  std::sort(frames.begin(), frames.end());
  return frames;
}

}  // namespace

TEST_CASE("framed connection: frames split or batched are each answered once", "[server][framed]") {
  Server server(ConnectionLimits{});
  Client c(server.port());
  std::string burst;
  std::string expected;
  for (int i = 0; i < 50; ++i) {
    const std::string f = Frame("frame-" + std::to_string(i));
    burst += f;
    expected += f;
  }
  c.Send(burst);  // many frames in one write
  CHECK(SortedFrames(c.Read(expected.size())) == SortedFrames(expected));
  const std::string split = Frame("split-in-bytes");
  for (char ch : split) c.Send(std::string(1, ch));  // one frame over many writes
  CHECK(c.Read(split.size()) == split);
  CHECK(server.shell.counters().protocol_errors == 0);
}

TEST_CASE("framed connection: the in-flight bound stops dispatching", "[server][framed]") {
  ConnectionLimits limits;
  limits.max_inflight = 2;
  Server server(limits);
  Client c(server.port());
  c.Send(Frame("hold") + Frame("hold"));
  REQUIRE(server.shared.gate.WaitForWaiters(2));
  c.Send(Frame("quick"));
  CHECK_FALSE(c.Readable(300));  // "quick" would be answered at once had it been dispatched
  server.shared.gate.Open();
  CHECK(SortedFrames(c.Read(5 + 5 + 6)) ==
        SortedFrames(Frame("hold") + Frame("hold") + Frame("quick")));
}

TEST_CASE("framed connection: an oversized frame closes only its own connection",
          "[server][framed]") {
  Server server(ConnectionLimits{});
  Client good(server.port());
  Client bad(server.port());
  bad.Send(std::string(1, static_cast<char>(kMaxFrame + 1)));
  CHECK(bad.Closed());
  CHECK(server.shell.counters().protocol_errors == 1);
  good.Send(Frame("still"));
  CHECK(good.Read(6) == Frame("still"));
}

TEST_CASE("framed connection: stop answers what was read, then closes", "[server][framed]") {
  auto server = std::make_unique<Server>(ConnectionLimits{});
  Client c(server->port());
  c.Send(Frame("hold"));
  REQUIRE(server->shared.gate.WaitForWaiters(1));
  std::thread stopper([&] { server->shell.Stop(); });
  stopper.join();
  server->shared.gate.Open();
  CHECK(c.Read(5) == Frame("hold"));
  CHECK(c.Closed());
  server.reset();
}

TEST_CASE("framed connection: the open phase and its timeout, the idle timeout",
          "[server][framed]") {
  ConnectionLimits limits;
  limits.open_timeout_ms = 300;
  limits.idle_timeout_ms = 1500;
  Server server(limits, /*greet=*/true);
  Client greeted(server.port());
  greeted.Send("HELLO" + Frame("after"));  // the first frame right behind the greeting
  CHECK(greeted.Read(2 + 6) == "OK" + Frame("after"));
  Client silent(server.port());
  CHECK(silent.Closed(1000));   // never greets: cut at the open timeout, before the idle one
  CHECK(greeted.Closed(3000));  // then idle past the idle timeout
}
