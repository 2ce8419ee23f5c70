// The NBD server over loopback sockets: pipelining, isolation of slow and misbehaving
// connections, limits, exports appearing at run time, Unix sockets and shutdown.
#include "zerofs/nbd/server.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <thread>

#include "nbd_test_util.h"
#include "test_client.h"
#include "zerofs/nbd/memory_export_provider.h"

using namespace zerofs::nbd;
using nbdtest::Gate;
using nbdtest::TestClient;
using nbdtest::TestDevice;
using namespace std::chrono_literals;

namespace {

constexpr std::uint16_t Cmd(Command c) {
  return static_cast<std::uint16_t>(c);
}

struct Harness {
  explicit Harness(ServerOptions options = {}) {
    device = std::make_shared<TestDevice>(16 << 20);
    REQUIRE(provider->Add("disk", device, "test device").ok());
    REQUIRE(provider->AddMemory({"mem", 1 << 20, {}}).ok());
    if (options.listen.empty() && options.unix_sockets.empty()) {
      options.listen = {"127.0.0.1:0"};
    }
    options.shutdown_grace_ms = 5000;
    server = std::make_unique<Server>(provider, options);
  }
  ~Harness() {
    if (flush_gate.waiting() > 0 || read_gate.waiting() > 0) {
      flush_gate.Open();
      read_gate.Open();
    }
  }
  void Start() {
    zerofs::Status s = server->Start();
    REQUIRE(s.ok());
    port = server->TcpPorts().empty() ? 0 : server->TcpPorts()[0];
  }
  TestClient Connect(const std::string& name = "disk", bool structured = false) {
    auto c = TestClient::Tcp(port);
    REQUIRE(c.has_value());
    REQUIRE(c->Handshake(name, structured).has_value());
    return std::move(*c);
  }

  Gate flush_gate;
  Gate read_gate;
  std::shared_ptr<MemoryExportProvider> provider = std::make_shared<MemoryExportProvider>();
  std::shared_ptr<TestDevice> device;
  std::unique_ptr<Server> server;
  std::uint16_t port = 0;
};

}  // namespace

TEST_CASE("replies come back out of order as requests complete") {
  Harness h;
  h.device->flush_gate = &h.flush_gate;
  h.Start();
  TestClient c = h.Connect();
  REQUIRE(c.SendRequest(Cmd(Command::kWrite), 1, 0, 5, 0, "hello"));
  REQUIRE(c.ReadSimpleReply()->cookie == 1);
  REQUIRE(c.SendRequest(Cmd(Command::kFlush), 2, 0, 0));
  REQUIRE(h.flush_gate.WaitForWaiters(1));
  REQUIRE(c.SendRequest(Cmd(Command::kRead), 3, 0, 5));
  auto read = c.ReadSimpleReply();
  REQUIRE(read.has_value());
  CHECK(read->cookie == 3);  // overtook the blocked flush
  CHECK(read->error == 0);
  CHECK(c.Recv(5) == "hello");
  h.flush_gate.Open();
  auto flush = c.ReadSimpleReply();
  REQUIRE(flush.has_value());
  CHECK(flush->cookie == 2);
  CHECK(flush->error == 0);
}

TEST_CASE("a slow flush on one connection does not delay another connection") {
  ServerOptions options;
  options.io_threads = 1;
  options.worker_threads = 2;
  Harness h(options);
  h.device->flush_gate = &h.flush_gate;
  h.Start();
  TestClient slow = h.Connect();
  REQUIRE(slow.SendRequest(Cmd(Command::kFlush), 1, 0, 0));
  REQUIRE(h.flush_gate.WaitForWaiters(1));
  TestClient fast = h.Connect("mem");
  const auto start = std::chrono::steady_clock::now();
  for (std::uint64_t i = 0; i < 100; ++i) {
    REQUIRE(fast.SendRequest(Cmd(Command::kWrite), i, i * 512, 512, 0, std::string(512, 'w')));
    auto r = fast.ReadSimpleReply(2s);
    REQUIRE(r.has_value());
    CHECK(r->error == 0);
  }
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  CHECK(!slow.ReadSimpleReply(100ms).has_value());  // still blocked
  h.flush_gate.Open();
  CHECK(slow.ReadSimpleReply()->cookie == 1);
}

TEST_CASE("a protocol violation closes only the offending connection") {
  Harness h;
  h.Start();
  TestClient good = h.Connect();
  TestClient bad = h.Connect();
  REQUIRE(bad.Send(std::string(28, 'x')));  // bad request magic
  CHECK(bad.ClosedByServer());
  REQUIRE(good.SendRequest(Cmd(Command::kRead), 9, 0, 4));
  auto r = good.ReadSimpleReply();
  REQUIRE(r.has_value());
  CHECK(r->error == 0);
  CHECK(h.server->Stats().protocol_errors == 1);
}

TEST_CASE("handshake violations close the connection") {
  Harness h;
  h.Start();
  SECTION("unknown client flags") {
    auto c = TestClient::Tcp(h.port);
    REQUIRE(c->Recv(kGreetingBytes).has_value());
    REQUIRE(c->Send(std::string("\0\0\0\x10", 4)));
    CHECK(c->ClosedByServer());
  }
  SECTION("bad option magic") {
    auto c = TestClient::Tcp(h.port);
    REQUIRE(c->Recv(kGreetingBytes).has_value());
    REQUIRE(c->Send(std::string("\0\0\0\1", 4) + "IHAVEOPX" + std::string(8, '\0')));
    CHECK(c->ClosedByServer());
  }
  SECTION("oversized option") {
    auto c = TestClient::Tcp(h.port);
    REQUIRE(c->Recv(kGreetingBytes).has_value());
    std::string header = EncodeOptionHeader(3, "");
    header[12] = '\x7f';  // length 0x7f000000
    REQUIRE(c->Send(std::string("\0\0\0\1", 4) + header));
    CHECK(c->ClosedByServer());
  }
  CHECK(h.server->Stats().protocol_errors == 1);
}

TEST_CASE("an unknown option gets ERR_UNSUP and the handshake goes on") {
  Harness h;
  h.Start();
  auto c = TestClient::Tcp(h.port);
  REQUIRE(c->Recv(kGreetingBytes).has_value());
  REQUIRE(c->Send(std::string("\0\0\0\1", 4) + EncodeOptionHeader(1234, "junk")));
  auto reply = c->ReadOptionReply();
  REQUIRE(reply.has_value());
  CHECK(reply->first.type == static_cast<std::uint32_t>(OptionReply::kErrUnsup));
  REQUIRE(c->Send(
      EncodeOptionHeader(static_cast<std::uint32_t>(Option::kGo), EncodeInfoRequest({"mem", {}}))));
  std::uint32_t last = 0;
  while (auto r = c->ReadOptionReply()) {
    last = r->first.type;
    if (last != static_cast<std::uint32_t>(OptionReply::kInfo)) break;
  }
  CHECK(last == static_cast<std::uint32_t>(OptionReply::kAck));
}

TEST_CASE("in-flight requests per connection are bounded") {
  ServerOptions options;
  options.max_inflight_requests = 4;
  options.worker_threads = 8;
  Harness h(options);
  h.device->read_gate = &h.read_gate;
  h.Start();
  TestClient c = h.Connect();
  for (std::uint64_t i = 0; i < 12; ++i) REQUIRE(c.SendRequest(Cmd(Command::kRead), i, 0, 512));
  REQUIRE(h.read_gate.WaitForWaiters(4));
  std::this_thread::sleep_for(200ms);
  CHECK(h.read_gate.waiting() == 4);  // the server stopped reading requests
  h.read_gate.Open();
  std::vector<bool> seen(12, false);
  for (int i = 0; i < 12; ++i) {
    auto r = c.ReadSimpleReply();
    REQUIRE(r.has_value());
    REQUIRE(r->cookie < 12);
    seen[r->cookie] = true;
    REQUIRE(c.Recv(512).has_value());
  }
  for (bool s : seen) CHECK(s);
  CHECK(h.device->max_concurrent_reads() == 4);
}

TEST_CASE("an oversized write is refused with EINVAL and the connection survives") {
  ServerOptions options;
  options.max_request_bytes = 1 << 20;
  Harness h(options);
  h.Start();
  TestClient c = h.Connect();
  std::string big(2 << 20, 'b');
  REQUIRE(
      c.SendRequest(Cmd(Command::kWrite), 1, 0, static_cast<std::uint32_t>(big.size()), 0, big));
  auto r = c.ReadSimpleReply();
  REQUIRE(r.has_value());
  CHECK(r->error == 22);
  REQUIRE(c.SendRequest(Cmd(Command::kRead), 2, 0, 4));
  r = c.ReadSimpleReply();
  REQUIRE(r.has_value());
  CHECK(r->cookie == 2);
  CHECK(c.Recv(4) == std::string(4, '\0'));  // the refused write changed nothing
}

TEST_CASE("out-of-range requests get the protocol's errno") {
  Harness h;
  h.Start();
  TestClient c = h.Connect("mem");
  REQUIRE(c.SendRequest(Cmd(Command::kRead), 1, 1 << 20, 512));
  CHECK(c.ReadSimpleReply()->error == 22);
  REQUIRE(c.SendRequest(Cmd(Command::kWrite), 2, (1 << 20) - 1, 2, 0, "ab"));
  CHECK(c.ReadSimpleReply()->error == 28);
  REQUIRE(c.SendRequest(99, 3, 0, 0));
  CHECK(c.ReadSimpleReply()->error == 22);
}

TEST_CASE("an export added while the server runs is served to the next client") {
  Harness h;
  h.Start();
  auto c = TestClient::Tcp(h.port);
  REQUIRE(c.has_value());
  CHECK(!c->Handshake("new", false).has_value());
  REQUIRE(h.provider->AddMemory({"new", 8192, {}}).ok());
  TestClient c2 = h.Connect("new");
  REQUIRE(c2.SendRequest(Cmd(Command::kRead), 1, 4096, 4096));
  CHECK(c2.ReadSimpleReply()->error == 0);
}

TEST_CASE("Unix socket listener") {
  auto path = std::filesystem::temp_directory_path() /
              ("zerofs-nbd-test-" + std::to_string(::getpid()) + ".sock");
  ServerOptions options;
  options.unix_sockets = {path.string()};
  {
    Harness h(options);
    h.Start();
    CHECK(h.server->Endpoints() == std::vector<std::string>{"unix:" + path.string()});
    auto c = TestClient::Unix(path.string());
    REQUIRE(c.has_value());
    REQUIRE(c->Handshake("mem", true).has_value());
    REQUIRE(c->SendRequest(Cmd(Command::kWrite), 1, 0, 3, kCmdFlagFua, "abc"));
    CHECK(c->ReadSimpleReply()->error == 0);
    // A second server cannot take over a socket that is in use.
    Server other(h.provider, options);
    CHECK(other.Start().code() == zerofs::StatusCode::kAlreadyExists);
  }
  CHECK(!std::filesystem::exists(path));  // removed on shutdown
}

TEST_CASE("handshake timeout and connection limit") {
  ServerOptions options;
  options.handshake_timeout_ms = 200;
  options.max_connections = 1;
  Harness h(options);
  h.Start();
  auto idle = TestClient::Tcp(h.port);
  REQUIRE(idle.has_value());
  REQUIRE(idle->Recv(kGreetingBytes).has_value());
  auto extra = TestClient::Tcp(h.port);
  REQUIRE(extra.has_value());
  CHECK(extra->ClosedByServer(5s));  // refused: one connection is the limit
  CHECK(idle->ClosedByServer(5s));   // cut for not finishing the handshake
  CHECK(h.server->Stats().connections_refused == 1);
}

TEST_CASE("shutdown answers requests in flight, then closes") {
  Harness h;
  h.device->flush_gate = &h.flush_gate;
  h.Start();
  TestClient c = h.Connect();
  REQUIRE(c.SendRequest(Cmd(Command::kFlush), 7, 0, 0));
  REQUIRE(h.flush_gate.WaitForWaiters(1));
  h.server->Stop();
  std::thread opener([&] {
    std::this_thread::sleep_for(200ms);
    h.flush_gate.Open();
  });
  auto r = c.ReadSimpleReply();
  opener.join();
  REQUIRE(r.has_value());
  CHECK(r->cookie == 7);
  CHECK(r->error == 0);
  CHECK(c.ClosedByServer());
  h.server->Wait();
  CHECK(!TestClient::Tcp(h.port).has_value());
}

TEST_CASE("unusable limits and unbindable addresses are refused at start") {
  auto provider = std::make_shared<MemoryExportProvider>();
  ServerOptions zero;
  zero.listen = {"127.0.0.1:0"};
  zero.max_inflight_requests = 0;
  CHECK(Server(provider, zero).Start().code() == zerofs::StatusCode::kInvalidArgument);
  ServerOptions nothing;
  CHECK(Server(provider, nothing).Start().code() == zerofs::StatusCode::kInvalidArgument);
  ServerOptions taken;
  taken.listen = {"127.0.0.1:0"};
  Server first(provider, taken);
  REQUIRE(first.Start().ok());
  taken.listen = {"127.0.0.1:0", "127.0.0.1:" + std::to_string(first.TcpPorts()[0])};
  Server second(provider, taken);
  zerofs::Status s = second.Start();
  CHECK(s.code() == zerofs::StatusCode::kIoError);
  CHECK(s.message().find(std::to_string(first.TcpPorts()[0])) != std::string::npos);
  CHECK(second.Endpoints().empty());  // nothing left half-open
}
