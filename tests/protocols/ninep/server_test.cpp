// The 9P server over loopback and Unix sockets, driven by a small blocking client written
// here: a session end to end, completion-order replies, Tflush, and a malformed frame
// closing only its own connection.
#include "zerofs/ninep/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "../../support/gate.h"
#include "test_volume.h"
#include "zerofs/ninep/codec.h"

using namespace zerofs::ninep;
using zerofs::Result;

namespace {

struct Frame {
  std::uint8_t type = 0;
  std::uint16_t tag = 0;
  Reply reply;
};

class Client {
 public:
  static Client Tcp(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    return Client(fd);
  }
  static Client Unix(const std::string& path) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path.copy(addr.sun_path, sizeof addr.sun_path - 1);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    return Client(fd);
  }
  Client(Client&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }

  void SendRaw(std::string_view bytes) {
    REQUIRE(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(bytes.size()));
  }
  void Send(std::uint16_t tag, const Request& r) { SendRaw(EncodeRequest(tag, r)); }

  // The next reply, or nullopt when the server closed the connection (or 5 s passed).
  std::optional<Frame> Receive() {
    std::string header;
    if (!ReadExactly(kHeaderBytes, &header)) return std::nullopt;
    Result<FrameHeader> h = DecodeFrameHeader(header, kMaxMsizeCap);
    REQUIRE(h.ok());
    std::string body;
    if (!ReadExactly(h->body_bytes(), &body)) return std::nullopt;
    Result<Reply> reply = DecodeReply(h->type, body);
    REQUIRE(reply.ok());
    return Frame{h->type, h->tag, std::move(*reply)};
  }

  template <typename R>
  R Call(std::uint16_t tag, const Request& request) {
    Send(tag, request);
    std::optional<Frame> f = Receive();
    REQUIRE(f.has_value());
    CHECK(f->tag == tag);
    if (const auto* e = std::get_if<Rlerror>(&f->reply)) FAIL("Rlerror " << e->ecode);
    REQUIRE(std::holds_alternative<R>(f->reply));
    return std::get<R>(f->reply);
  }
  std::uint32_t CallError(std::uint16_t tag, const Request& request) {
    Send(tag, request);
    std::optional<Frame> f = Receive();
    REQUIRE(f.has_value());
    const auto* e = std::get_if<Rlerror>(&f->reply);
    return e == nullptr ? 0 : e->ecode;
  }
  // True when bytes (or EOF) arrive within `ms`.
  bool Readable(int ms) {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, ms) == 1;
  }
  // True when the server closed the connection (EOF) within 5 s.
  bool Closed() {
    std::string ignored;
    return !ReadExactly(1, &ignored);
  }

 private:
  explicit Client(int fd) : fd_(fd) {}
  bool ReadExactly(std::size_t n, std::string* out) {
    out->resize(n);
    std::size_t got = 0;
    while (got < n) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 5000) != 1) return false;
      ssize_t r = ::recv(fd_, out->data() + got, n - got, 0);
      if (r <= 0) return false;
      got += static_cast<std::size_t>(r);
    }
    return true;
  }
  int fd_ = -1;
};

// A gate that Fsync waits on, so a test can hold one request while others complete; the
// rest goes to a volume handler.
class GatedHandler final : public Handler {
 public:
  Answer<Rattach> Attach(RequestContext& c, const Tattach& r) override {
    return inner_.handler()->Attach(c, r);
  }
  Answer<Rwalk> Walk(RequestContext& c, const Twalk& r) override {
    return inner_.handler()->Walk(c, r);
  }
  Answer<Rgetattr> Getattr(RequestContext& c, const Tgetattr& r) override {
    return inner_.handler()->Getattr(c, r);
  }
  Answer<Rfsync> Fsync(RequestContext&, const Tfsync&) override {
    Hold();
    return Rfsync{};
  }
  // A read held at the gate, as a cold read waits for the bucket.
  Answer<Rread> Read(RequestContext&, const Tread&) override {
    Hold();
    return Rread{};
  }
  void Hold() { gate_.Pass(); }
  void WaitForWaiter(int n = 1) { REQUIRE(gate_.WaitForWaiters(n)); }
  void Open() { gate_.Open(); }

 private:
  test::TestVolume inner_;
  zerofs::testing::Gate gate_;
};

std::unique_ptr<Server> StartServer(std::shared_ptr<Handler> handler, ServerOptions options = {}) {
  if (options.listen.empty() && options.unix_sockets.empty()) options.listen = {"127.0.0.1:0"};
  options.shutdown_grace_ms = 5000;
  auto server = std::make_unique<Server>(std::move(handler), options);
  REQUIRE(server->Start().ok());
  return server;
}

void Handshake(Client& c, std::uint32_t msize = 65536) {
  const Rversion v = c.Call<Rversion>(kNoTag, Tversion{msize, "9P2000.L"});
  CHECK(v.version == "9P2000.L");
  c.Call<Rattach>(1, Tattach{0, kNoFid, "root", "", 0});
}

}  // namespace

TEST_CASE("9p server: a whole session over loopback", "[ninep][server]") {
  test::TestVolume volume;
  auto server = StartServer(volume.handler());
  Client c = Client::Tcp(server->TcpPorts().at(0));

  // No session before Tversion; other versions are "unknown"; msize is min(client, server).
  CHECK(c.CallError(1, Tclunk{0}) == EPROTO);
  CHECK(c.Call<Rversion>(kNoTag, Tversion{8192, "9P2000.u"}).version == "unknown");
  const Rversion v = c.Call<Rversion>(kNoTag, Tversion{64 << 20, "9P2000.L"});
  CHECK(v.msize == kDefaultMaxMsize);

  const Rattach root = c.Call<Rattach>(1, Tattach{0, kNoFid, "root", "", 0});
  CHECK(root.qid.type == kQidDir);
  c.Call<Rmkdir>(2, Tmkdir{0, "docs", 0755, 0});
  c.Call<Rwalk>(3, Twalk{0, 1, {"docs"}});
  const Rlcreate created = c.Call<Rlcreate>(4, Tlcreate{1, "a.txt", O_RDWR, 0644, 0});
  CHECK(created.iounit == kDefaultMaxMsize - kIoHeaderBytes);
  std::string big(100000, 'z');
  CHECK(c.Call<Rwrite>(5, Twrite{1, 0, Data{big}}).count == big.size());
  c.Call<Rclunk>(6, Tclunk{1});

  c.Call<Rwalk>(7, Twalk{0, 2, {"docs", "a.txt"}});
  c.Call<Rlopen>(8, Tlopen{2, O_RDONLY});
  CHECK(c.Call<Rread>(9, Tread{2, 99990, 4096}).data.bytes == std::string(10, 'z'));
  CHECK(c.Call<Rgetattr>(10, Tgetattr{2, kGetattrBasic}).size == big.size());

  c.Call<Rwalk>(11, Twalk{0, 3, {"docs"}});
  c.Call<Rlopen>(12, Tlopen{3, O_RDONLY});
  const Rreaddir dir = c.Call<Rreaddir>(13, Treaddir{3, 0, 8192});
  Result<std::vector<Dirent>> entries = DecodeDirents(dir.data.bytes);
  REQUIRE(entries.ok());
  REQUIRE(entries->size() == 3);
  CHECK((*entries)[2].name == "a.txt");
  CHECK((*entries)[2].qid.path == created.qid.path);

  // Tflush of a tag that is not in flight is answered at once.
  c.Send(14, Tflush{999});
  std::optional<Frame> f = c.Receive();
  REQUIRE(f.has_value());
  CHECK(f->tag == 14);
  CHECK(std::holds_alternative<Rflush>(f->reply));

  // Unsupported 9P2000 messages get Rlerror, and the session continues.
  c.SendRaw(std::string("\x0c\x00\x00\x00\x70\x0f\x00\x02\x00\x00\x00\x00", 12));  // Topen
  f = c.Receive();
  REQUIRE(f.has_value());
  CHECK(f->tag == 15);
  CHECK(std::get<Rlerror>(f->reply).ecode == EOPNOTSUPP);
  c.Call<Rclunk>(16, Tclunk{2});
  c.Call<Rclunk>(17, Tclunk{3});
  CHECK(server->Stats().protocol_errors == 0);
}

TEST_CASE("9p server: replies in completion order, Tflush after its request",
          "[ninep][server][flush]") {
  auto handler = std::make_shared<GatedHandler>();
  auto server = StartServer(handler);
  Client c = Client::Tcp(server->TcpPorts().at(0));
  Handshake(c);

  c.Send(10, Tfsync{0, 0});  // held by the gate
  handler->WaitForWaiter();
  // A later request overtakes the slow one.
  CHECK(c.Call<Rgetattr>(11, Tgetattr{0, kGetattrBasic}).qid.type == kQidDir);
  // Flushing the held request: nothing until it completes, then its reply, then Rflush.
  c.Send(12, Tflush{10});
  c.Send(13, Tgetattr{0, kGetattrBasic});
  std::optional<Frame> f = c.Receive();
  REQUIRE(f.has_value());
  CHECK(f->tag == 13);
  handler->Open();
  f = c.Receive();
  REQUIRE(f.has_value());
  CHECK(f->tag == 10);
  CHECK(std::holds_alternative<Rfsync>(f->reply));
  f = c.Receive();
  REQUIRE(f.has_value());
  CHECK(f->tag == 12);
  CHECK(std::holds_alternative<Rflush>(f->reply));
}

TEST_CASE("9p server: fsyncs waiting for the bucket never starve the workers",
          "[ninep][server][fsync]") {
  auto handler = std::make_shared<GatedHandler>();
  ServerOptions options;
  options.worker_threads = 2;
  options.sync_threads = 6;
  auto server = StartServer(handler, options);
  Client c = Client::Tcp(server->TcpPorts().at(0));
  Handshake(c);
  // More fsyncs held than there are workers: they wait on their own threads.
  for (std::uint16_t tag = 20; tag < 26; ++tag) c.Send(tag, Tfsync{0, 0});
  handler->WaitForWaiter(6);
  for (std::uint16_t tag = 30; tag < 40; ++tag) {
    CHECK(c.Call<Rgetattr>(tag, Tgetattr{0, kGetattrBasic}).qid.type == kQidDir);
  }
  handler->Open();
  std::set<std::uint16_t> done;
  for (int i = 0; i < 6; ++i) {
    std::optional<Frame> f = c.Receive();
    REQUIRE(f.has_value());
    CHECK(std::holds_alternative<Rfsync>(f->reply));
    done.insert(f->tag);
  }
  CHECK(done.size() == 6);
}

TEST_CASE("9p server: reads waiting for the bucket never starve the workers", "[ninep][server]") {
  auto handler = std::make_shared<GatedHandler>();
  ServerOptions options;
  options.worker_threads = 2;
  options.data_threads = 6;
  auto server = StartServer(handler, options);
  Client c = Client::Tcp(server->TcpPorts().at(0));
  Handshake(c);
  // More reads held than there are workers: namespace requests are still answered.
  for (std::uint16_t tag = 20; tag < 26; ++tag) c.Send(tag, Tread{0, 0, 10});
  handler->WaitForWaiter(6);
  for (std::uint16_t tag = 30; tag < 40; ++tag) {
    CHECK(c.Call<Rgetattr>(tag, Tgetattr{0, kGetattrBasic}).qid.type == kQidDir);
  }
  handler->Open();
  for (int i = 0; i < 6; ++i) {
    std::optional<Frame> f = c.Receive();
    REQUIRE(f.has_value());
    CHECK(std::holds_alternative<Rread>(f->reply));
  }
}

TEST_CASE("9p server: a malformed frame closes only its own connection",
          "[ninep][server][malformed]") {
  test::TestVolume volume;
  auto server = StartServer(volume.handler());
  const std::uint16_t port = server->TcpPorts().at(0);
  Client good = Client::Tcp(port);
  Handshake(good);

  SECTION("frame larger than msize") {
    Client bad = Client::Tcp(port);
    Handshake(bad, 8192);
    bad.SendRaw(std::string("\x00\x00\x01\x00\x75\x01\x00", 7));  // 64 KiB Tread > 8192
    CHECK(bad.Closed());
  }
  SECTION("4 GiB size before Tversion") {
    Client bad = Client::Tcp(port);
    bad.SendRaw(std::string("\xff\xff\xff\xff\x64\xff\xff", 7));
    CHECK(bad.Closed());
  }
  SECTION("trailing bytes in a body") {
    Client bad = Client::Tcp(port);
    Handshake(bad);
    std::string frame = EncodeRequest(5, Tclunk{0});
    frame[0] = static_cast<char>(frame.size() + 1);
    bad.SendRaw(frame + "x");
    CHECK(bad.Closed());
  }
  SECTION("an R-message sent as a request") {
    Client bad = Client::Tcp(port);
    Handshake(bad);
    bad.SendRaw(EncodeReply(5, Rclunk{}));
    CHECK(bad.Closed());
  }
  SECTION("a tag reused while in flight") {
    auto handler = std::make_shared<GatedHandler>();
    auto gated = StartServer(handler);
    Client bad = Client::Tcp(gated->TcpPorts().at(0));
    Handshake(bad);
    bad.Send(7, Tfsync{0, 0});
    handler->WaitForWaiter();
    bad.Send(7, Tgetattr{0, kGetattrBasic});
    CHECK(bad.Closed());
    handler->Open();
    CHECK(gated->Stats().protocol_errors == 1);
  }
  // The other connection carries on.
  CHECK(good.Call<Rgetattr>(20, Tgetattr{0, kGetattrBasic}).qid.type == kQidDir);
  good.Call<Rmkdir>(21, Tmkdir{0, "still-here", 0755, 0});
}

TEST_CASE("9p server: in-flight requests per connection are bounded", "[ninep][server]") {
  auto handler = std::make_shared<GatedHandler>();
  ServerOptions options;
  options.max_inflight_requests = 2;
  auto server = StartServer(handler, options);
  Client c = Client::Tcp(server->TcpPorts().at(0));
  Handshake(c);
  c.Send(1, Tfsync{0, 0});
  c.Send(2, Tfsync{0, 0});
  handler->WaitForWaiter(2);
  // Both slots are taken: the server stops reading, so this request is not even started.
  c.Send(3, Tgetattr{0, kGetattrBasic});
  // Getattr would be answered at once if it had started; nothing arrives.
  CHECK_FALSE(c.Readable(300));
  handler->Open();
  std::set<std::uint16_t> tags;
  for (int i = 0; i < 3; ++i) {
    std::optional<Frame> f = c.Receive();
    REQUIRE(f.has_value());
    tags.insert(f->tag);
  }
  CHECK(tags == std::set<std::uint16_t>{1, 2, 3});
}

TEST_CASE("9p server: many pipelined requests, and Tversion starts a new session",
          "[ninep][server]") {
  test::TestVolume volume;
  auto server = StartServer(volume.handler());
  Client c = Client::Tcp(server->TcpPorts().at(0));
  Handshake(c);
  c.Call<Rlcreate>(2, Tlcreate{0, "log", O_RDWR, 0644, 0});
  // 200 writes sent back to back without waiting; every one is answered under its tag.
  std::string burst;
  for (std::uint16_t i = 0; i < 200; ++i) {
    burst +=
        EncodeRequest(static_cast<std::uint16_t>(100 + i),
                      Twrite{0, i * 10ULL, Data{std::string(10, static_cast<char>('a' + i % 26))}});
  }
  c.SendRaw(burst);
  std::set<std::uint16_t> tags;
  for (int i = 0; i < 200; ++i) {
    std::optional<Frame> f = c.Receive();
    REQUIRE(f.has_value());
    CHECK(std::get<Rwrite>(f->reply).count == 10);
    tags.insert(f->tag);
  }
  CHECK(tags.size() == 200);
  const std::string back = c.Call<Rread>(3, Tread{0, 1990, 10}).data.bytes;
  CHECK(back == std::string(10, static_cast<char>('a' + 199 % 26)));

  // A second Tversion forgets every fid of the old session.
  c.Call<Rversion>(kNoTag, Tversion{8192, "9P2000.L"});
  CHECK(c.CallError(4, Tgetattr{0, kGetattrBasic}) == EBADF);
  c.Call<Rattach>(5, Tattach{0, kNoFid, "root", "", 0});
}

TEST_CASE("9p server: concurrent clients write and read back their own files", "[ninep][server]") {
  // One test thread (Catch assertions are not thread-safe) keeps 4 connections busy at
  // once: every client's writes are on the wire before any reply is read.
  test::TestVolume volume;
  auto server = StartServer(volume.handler());
  std::vector<Client> clients;
  for (int t = 0; t < 4; ++t) {
    clients.push_back(Client::Tcp(server->TcpPorts().at(0)));
    Handshake(clients.back());
    clients.back().Call<Rlcreate>(2, Tlcreate{0, "t" + std::to_string(t), O_RDWR, 0644, 0});
  }
  for (int t = 0; t < 4; ++t) {
    const std::string chunk(4096, static_cast<char>('A' + t));
    for (std::uint16_t i = 0; i < 50; ++i) {
      clients[static_cast<std::size_t>(t)].Send(static_cast<std::uint16_t>(100 + i),
                                                Twrite{0, i * 4096ULL, Data{chunk}});
    }
  }
  for (Client& c : clients) {
    for (int i = 0; i < 50; ++i) {
      std::optional<Frame> f = c.Receive();
      REQUIRE(f.has_value());
      CHECK(std::get<Rwrite>(f->reply).count == 4096);
    }
  }
  for (int t = 0; t < 4; ++t) {
    // The count is clamped to the iounit (msize 65536 - 24), and the file holds 200 KiB.
    const Rread r = clients[static_cast<std::size_t>(t)].Call<Rread>(3, Tread{0, 4096, 200000});
    CHECK(r.data.bytes == std::string(65536 - kIoHeaderBytes, static_cast<char>('A' + t)));
  }
}

TEST_CASE("9p server: Unix socket listener and many clients", "[ninep][server]") {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("zerofs-9p-test-" + std::to_string(::getpid())))
          .string();
  ServerOptions options;
  options.unix_sockets = {path};
  test::TestVolume volume;
  auto server = StartServer(volume.handler(), options);
  std::vector<Client> clients;
  for (int i = 0; i < 8; ++i) {
    clients.push_back(Client::Unix(path));
    Handshake(clients.back());
    clients.back().Call<Rmkdir>(2, Tmkdir{0, "d" + std::to_string(i), 0755, 0});
  }
  // Every client sees the same tree.
  const Rwalk w = clients[0].Call<Rwalk>(3, Twalk{0, 1, {"d7"}});
  CHECK(w.qids.size() == 1);
  CHECK(server->Stats().connections_active == 8);
  server->Stop();
  server->Wait();
  CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("9p server: listen address parsing and start failures", "[ninep][server]") {
  CHECK(ParseListenAddress("127.0.0.1:5564").ok());
  CHECK(ParseListenAddress("[::1]:5564").ok());
  CHECK_FALSE(ParseListenAddress("::1:5564").ok());
  CHECK_FALSE(ParseListenAddress("localhost:5564").ok());
  CHECK_FALSE(ParseListenAddress("127.0.0.1:99999").ok());
  ServerOptions options;
  options.listen = {"127.0.0.1:0"};
  options.max_msize = 100;
  test::TestVolume volume;
  Server server(volume.handler(), options);
  CHECK_FALSE(server.Start().ok());
}
