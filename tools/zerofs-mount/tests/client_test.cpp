// The 9P client of zerofs-mount (Connection, Client, Filesystem) against the real 9P
// server with the volume handler (a MemoryStore volume) on loopback: request/reply
// matching under concurrency, the fid cache bound, and reconnects. A "server restart"
// stops the Server and starts a new one on the same port with the same handler, so the
// tree survives and only the connection (and every fid) is lost, as when zerofs-9p
// restarts over a durable volume.
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "../../../tests/protocols/ninep/test_volume.h"
#include "src/filesystem.h"
#include "src/session.h"
#include "zerofs/ninep/server.h"

namespace zerofs::mount {
namespace {

class TestServer {
 public:
  TestServer() { Start("127.0.0.1:0"); }
  ~TestServer() { Stop(); }
  void Start(const std::string& listen) {
    ninep::ServerOptions options;
    options.listen = {listen};
    options.shutdown_grace_ms = 100;
    server_ = std::make_unique<ninep::Server>(volume_.handler(), options);
    REQUIRE(server_->Start().ok());
    port_ = server_->TcpPorts().at(0);
  }
  void Stop() {
    if (!server_) return;
    server_->Stop();
    server_->Wait();
    server_.reset();
  }
  void Restart() {
    Stop();
    Start("127.0.0.1:" + std::to_string(port_));
  }
  Address address() const {
    auto a = ParseAddress("127.0.0.1:" + std::to_string(port_));
    REQUIRE(a.ok());
    return *a;
  }

 private:
  ninep::test::TestVolume volume_;  // before the server, which stops first
  std::unique_ptr<ninep::Server> server_;
  std::uint16_t port_ = 0;
};

ClientOptions FastOptions() {
  ClientOptions o;
  o.msize = 64 * 1024;
  o.reconnect_timeout = std::chrono::seconds(10);
  return o;
}

const Caller kRoot{0, 0, 1};

}  // namespace

TEST_CASE("ParseAddress accepts host:port, [v6]:port and socket paths", "[mount]") {
  auto a = ParseAddress("127.0.0.1:5564");
  REQUIRE(a.ok());
  CHECK(a->host == "127.0.0.1");
  CHECK(a->port == "5564");
  auto b = ParseAddress("[::1]:77");
  REQUIRE(b.ok());
  CHECK(b->host == "::1");
  CHECK(b->ToString() == "[::1]:77");
  auto c = ParseAddress("/run/zerofs/9p.sock");
  REQUIRE(c.ok());
  CHECK(c->unix_path == "/run/zerofs/9p.sock");
  CHECK_FALSE(ParseAddress("localhost").ok());
  CHECK_FALSE(ParseAddress("::1:5564").ok());
  CHECK_FALSE(ParseAddress("host:port").ok());
}

TEST_CASE("Client fails fast when nobody listens", "[mount]") {
  Address a;
  {
    TestServer server;
    a = server.address();
  }
  Client client(a, FastOptions());
  CHECK_FALSE(client.Connect(0).ok());
}

TEST_CASE("Filesystem: files, directories and concurrent requests", "[mount]") {
  TestServer server;
  Client client(server.address(), FastOptions());
  REQUIRE(client.Connect(0).ok());
  Filesystem fs(client, FsOptions{});

  auto dir = fs.Mkdir(kRoot, Filesystem::kRootId, "d", 0755);
  REQUIRE(dir.ok());
  CHECK(S_ISDIR(dir->attr.st_mode));
  auto created = fs.Create(kRoot, dir->ino, "f", S_IFREG | 0644, O_RDWR | O_CREAT);
  REQUIRE(created.ok());
  std::uint64_t fh = created->second;
  // Larger than the 64 KiB msize: the client must split it.
  std::string data(200000, 'a');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 23);
  auto written = fs.Write(fh, 0, data);
  REQUIRE(written.ok());
  CHECK(*written == data.size());
  auto read = fs.Read(fh, 0, data.size() + 100);
  REQUIRE(read.ok());
  CHECK(*read == data);

  // Many threads at once on one connection: every reply reaches its own caller.
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        std::uint64_t off = static_cast<std::uint64_t>((t * 100 + i) * 97 % 190000);
        auto r = fs.Read(fh, off, 333);
        if (!r.ok() || *r != data.substr(off, 333)) bad++;
        auto st = fs.Getattr(kRoot, created->first.ino, std::nullopt);
        if (!st.ok() || st->st_size != static_cast<off_t>(data.size())) bad++;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(bad.load() == 0);

  // A second lookup finds the same node. The rename flags 9P cannot carry are decided
  // here.
  auto f = fs.Lookup(kRoot, dir->ino, "f");
  REQUIRE(f.ok());
  CHECK(f->ino == created->first.ino);
  CHECK(fs.Rename(kRoot, dir->ino, "f", Filesystem::kRootId, "d", RENAME_NOREPLACE) == EEXIST);
  CHECK(fs.Rename(kRoot, dir->ino, "f", Filesystem::kRootId, "d", RENAME_EXCHANGE) == EINVAL);

  auto dh = fs.Opendir(kRoot, Filesystem::kRootId);
  REQUIRE(dh.ok());
  auto entries = fs.Readdir(*dh, 0, 4096);
  REQUIRE(entries.ok());
  std::vector<std::string> names;
  for (const auto& e : *entries) names.push_back(e.name);
  CHECK(std::find(names.begin(), names.end(), "d") != names.end());
  fs.Releasedir(*dh);
  fs.Release(fh);
  CHECK(fs.Unlink(kRoot, dir->ino, "f") == 0);
  CHECK(fs.Lookup(kRoot, dir->ino, "f").error() == ENOENT);
}

TEST_CASE("Filesystem: the fid cache stays bounded and evicted nodes walk again", "[mount]") {
  TestServer server;
  Client client(server.address(), FastOptions());
  REQUIRE(client.Connect(0).ok());
  FsOptions options;
  options.max_cached_fids = 8;
  Filesystem fs(client, options);
  auto dir = fs.Mkdir(kRoot, Filesystem::kRootId, "deep", 0755);
  REQUIRE(dir.ok());
  std::vector<Entry> files;
  for (int i = 0; i < 50; ++i) {
    auto e = fs.Mkdir(kRoot, dir->ino, "n" + std::to_string(i), 0700);
    REQUIRE(e.ok());
    files.push_back(*e);
  }
  CHECK(fs.cached_fid_count() <= 8);
  for (const auto& e : files) {
    auto st = fs.Getattr(kRoot, e.ino, std::nullopt);
    REQUIRE(st.ok());
    CHECK(st->st_ino == e.attr.st_ino);
  }
  CHECK(fs.cached_fid_count() <= 8);
  for (const auto& e : files) fs.Forget(e.ino, 1);
  fs.Forget(dir->ino, 1);
  CHECK(fs.node_count() == 1);  // only the root
}

TEST_CASE("Filesystem: reconnects, re-walks, re-opens and reports unsynced writes", "[mount]") {
  TestServer server;
  Client client(server.address(), FastOptions());
  REQUIRE(client.Connect(0).ok());
  Filesystem fs(client, FsOptions{});

  auto a = fs.Mkdir(kRoot, Filesystem::kRootId, "a", 0755);
  REQUIRE(a.ok());
  auto b = fs.Mkdir(kRoot, a->ino, "b", 0755);
  REQUIRE(b.ok());
  auto synced = fs.Create(kRoot, b->ino, "synced", S_IFREG | 0644, O_RDWR);
  auto dirty = fs.Create(kRoot, b->ino, "dirty", S_IFREG | 0644, O_RDWR);
  REQUIRE(synced.ok());
  REQUIRE(dirty.ok());
  REQUIRE(fs.Write(synced->second, 0, "durable").ok());
  REQUIRE(fs.Fsync(synced->second, false) == 0);
  REQUIRE(fs.Write(dirty->second, 0, "maybe lost").ok());

  server.Restart();

  // A node two levels down is walked again by name; its open handle is opened again.
  auto st = fs.Getattr(kRoot, dirty->first.ino, std::nullopt);
  REQUIRE(st.ok());
  CHECK(client.reconnects() == 1);
  auto read = fs.Read(synced->second, 0, 100);
  REQUIRE(read.ok());
  CHECK(*read == "durable");
  // Nothing unsynced on this one: its fsync succeeds.
  CHECK(fs.Fsync(synced->second, false) == 0);
  // Writes of the old session were not covered by an fsync: close and fsync say EIO...
  CHECK(fs.Flush(dirty->second) == EIO);
  CHECK(fs.Fsync(dirty->second, false) == EIO);
  // ...once; new writes then sync normally.
  REQUIRE(fs.Write(dirty->second, 0, "again").ok());
  CHECK(fs.Fsync(dirty->second, false) == 0);
  CHECK(fs.Flush(dirty->second) == 0);

  // A write in flight across a restart: the operation waits for the server and goes on.
  server.Stop();
  std::thread restarter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    server.Start("127.0.0.1:" + client.address().port);
  });
  auto w = fs.Write(dirty->second, 5, "-more");
  restarter.join();
  REQUIRE(w.ok());
  CHECK(client.reconnects() == 2);
  auto back = fs.Read(dirty->second, 0, 100);
  REQUIRE(back.ok());
  CHECK(*back == "again-more");
  CHECK(fs.Fsync(dirty->second, false) == 0);  // written and synced in the same session

  // Namespace changes after the reconnect.
  auto c = fs.Mkdir(kRoot, b->ino, "c", 0700);
  REQUIRE(c.ok());
  CHECK(fs.Rmdir(kRoot, b->ino, "c") == 0);
  fs.Release(synced->second);
  fs.Release(dirty->second);
}

}  // namespace zerofs::mount
