// The exports of a volume (VfsExportProvider, ExportAdmin) served over loopback by the NBD
// server, on a MemoryStore volume: exports created while the server runs, FLUSH and FUA
// durable in the bucket (seen by a fresh writer that fences this one), TRIM and
// WRITE_ZEROES releasing storage (the segments' live-byte counters fall) and reading as
// zeros, read-only volumes, and the administration rules.
#include <catch2/catch.hpp>
#include <cerrno>
#include <random>

#include "../../unit/engine/engine_test_support.h"
#include "nbd_test_util.h"
#include "test_client.h"
#include "zerofs/common/log.h"
#include "zerofs/index/keys.h"
#include "zerofs/index/records.h"
#include "zerofs/nbd/export_admin.h"
#include "zerofs/nbd/server.h"
#include "zerofs/nbd/vfs_export_provider.h"
#include "zerofs/vfs/filesystem.h"
#include "zerofs/vfs/paths.h"

using namespace zerofs;
using namespace zerofs::nbd;
using nbdtest::TestClient;

namespace {

constexpr std::uint16_t Cmd(Command c) {
  return static_cast<std::uint16_t>(c);
}

// A volume on a MemoryStore and its filesystem. Flushes happen only when asked for (no
// interval, large segments), so whatever is in the bucket got there through FLUSH or FUA.
class VolumeHarness {
 public:
  VolumeHarness() : store_(std::make_shared<objstore::MemoryStore>()) {
    zerofs::log::SetLevel(zerofs::log::Level::kWarn);
    testing::InitVolume(*store_);
  }

  std::shared_ptr<vfs::Filesystem> Open(engine::OpenMode mode = engine::OpenMode::kWrite) {
    caches_.push_back(std::make_unique<testing::TempDir>());
    engine::VolumeOptions options = testing::TestOptions(store_, caches_.back()->path());
    options.mode = mode;
    options.flush_interval = std::chrono::hours(1);
    options.segment_target_bytes = 256ULL << 20;
    options.write_buffer_bytes = 512ULL << 20;
    std::shared_ptr<engine::Volume> volume = testing::OpenVolume(std::move(options));
    vfs::FilesystemOptions fs_options;
    fs_options.volume = volume;
    auto fs = vfs::Filesystem::Open(std::move(fs_options));
    INFO(fs.status().ToString());
    REQUIRE(fs.ok());
    volumes_.push_back(volume);
    return std::shared_ptr<vfs::Filesystem>(std::move(*fs));
  }

  // Sum of the live bytes of every segment (index::SegmentUsage records).
  static std::uint64_t LiveBytes(engine::Volume& volume) {
    std::uint64_t live = 0;
    Status scanned = volume.Scan(index::TablePrefix(index::IndexTable::kSegmentUsage), {},
                                 [&](std::string_view, std::string_view value) {
                                   auto usage = index::DecodeSegmentUsage(value);
                                   REQUIRE(usage.ok());
                                   live += usage->live_bytes;
                                   return true;
                                 });
    REQUIRE(scanned.ok());
    return live;
  }

  // Closes every volume that is still open (fenced ones fail to flush; that is expected).
  ~VolumeHarness() {
    for (auto& v : volumes_) {
      Status closed = v->Close();
      (void)closed;
    }
  }

 private:
  std::shared_ptr<objstore::MemoryStore> store_;
  std::vector<std::unique_ptr<testing::TempDir>> caches_;
  std::vector<std::shared_ptr<engine::Volume>> volumes_;
};

struct Serving {
  explicit Serving(std::shared_ptr<vfs::Filesystem> filesystem) : fs(std::move(filesystem)) {
    auto created = VfsExportProvider::Create(fs);
    INFO(created.status().ToString());
    REQUIRE(created.ok());
    provider = *created;
    ServerOptions options;
    options.listen = {"127.0.0.1:0"};
    options.shutdown_grace_ms = 5000;
    server = std::make_unique<Server>(provider, options);
    REQUIRE(server->Start().ok());
    port = server->TcpPorts().at(0);
  }
  ~Serving() {
    server->Stop();
    server->Wait();
  }
  std::optional<TestClient> Connect(const std::string& name) {
    auto c = TestClient::Tcp(port);
    REQUIRE(c.has_value());
    if (!c->Handshake(name, false).has_value()) return std::nullopt;
    return c;
  }

  std::shared_ptr<vfs::Filesystem> fs;
  std::shared_ptr<VfsExportProvider> provider;
  std::unique_ptr<Server> server;
  std::uint16_t port = 0;
};

// The export names NBD_OPT_LIST returns.
std::vector<std::string> ListOverWire(std::uint16_t port) {
  auto c = TestClient::Tcp(port);
  REQUIRE(c.has_value());
  REQUIRE(c->Recv(kGreetingBytes).has_value());
  REQUIRE(c->Send(std::string("\0\0\0\3", 4)));
  REQUIRE(c->Send(EncodeOptionHeader(static_cast<std::uint32_t>(Option::kList), "")));
  std::vector<std::string> names;
  for (;;) {
    auto reply = c->ReadOptionReply();
    REQUIRE(reply.has_value());
    if (reply->first.type == static_cast<std::uint32_t>(OptionReply::kAck)) break;
    REQUIRE(reply->first.type == static_cast<std::uint32_t>(OptionReply::kServer));
    const std::string& d = reply->second;
    REQUIRE(d.size() >= 4);
    const std::size_t len = nbdtest::BigEndian(d.substr(0, 4));
    names.push_back(d.substr(4, len));
  }
  c->Send(EncodeOptionHeader(static_cast<std::uint32_t>(Option::kAbort), ""));
  return names;
}

std::uint32_t Send(TestClient& c, Command cmd, std::uint64_t offset, std::uint32_t length,
                   std::uint16_t flags = 0, std::string_view payload = {}) {
  static std::uint64_t cookie = 100;
  const std::uint64_t mine = ++cookie;
  REQUIRE(c.SendRequest(Cmd(cmd), mine, offset, length, flags, payload));
  auto reply = c.ReadSimpleReply(std::chrono::seconds(60));
  REQUIRE(reply.has_value());
  REQUIRE(reply->cookie == mine);
  return reply->error;
}

std::string ReadOverWire(TestClient& c, std::uint64_t offset, std::uint32_t length) {
  REQUIRE(Send(c, Command::kRead, offset, length) == 0);
  auto data = c.Recv(length);
  REQUIRE(data.has_value());
  return *data;
}

std::string ReadExport(vfs::Filesystem& fs, const std::string& name, std::uint64_t offset,
                       std::uint64_t length) {
  auto attr = vfs::ResolvePath(fs, vfs::Credentials::Root(), "/.nbd/" + name);
  INFO(attr.status().ToString());
  REQUIRE(attr.ok());
  auto data = fs.ReadInode(vfs::Credentials::Root(), attr->ino, offset, length);
  REQUIRE(data.ok());
  return *data;
}

}  // namespace

TEST_CASE("an export created while the server runs is served to the next client") {
  VolumeHarness volume;
  Serving serving(volume.Open());
  // The directory exists from the start, root-only.
  auto dir = vfs::ResolvePath(*serving.fs, vfs::Credentials::Root(), "/.nbd");
  REQUIRE(dir.ok());
  CHECK(dir->is_dir());
  CHECK((dir->mode & 07777) == 0700);
  CHECK(dir->uid == 0);

  CHECK(ListOverWire(serving.port).empty());
  CHECK_FALSE(serving.Connect("vm1").has_value());

  ExportAdmin admin(serving.fs);
  auto made = admin.Create("vm1", 8 << 20);
  REQUIRE(made.ok());
  CHECK(ListOverWire(serving.port) == std::vector<std::string>{"vm1"});
  auto c = serving.Connect("vm1");
  REQUIRE(c.has_value());
  CHECK(ReadOverWire(*c, 0, 4096) == std::string(4096, '\0'));  // sparse: zeros
  // The only export is also the default one.
  CHECK(serving.Connect("").has_value());

  // A file made in /.nbd/ by other means (as over NFS or 9P) is an export as well.
  REQUIRE(vfs::WriteFile(*serving.fs, vfs::Credentials::Root(), "/.nbd/other",
                         std::string(1 << 20, 'x'))
              .ok());
  CHECK(ListOverWire(serving.port) == std::vector<std::string>{"other", "vm1"});
  auto other = serving.Connect("other");
  REQUIRE(other.has_value());
  CHECK(ReadOverWire(*other, 4096, 16) == std::string(16, 'x'));
  CHECK_FALSE(serving.Connect("").has_value());  // two exports: no default

  // Deleted: no longer offered, but a connected client keeps its device.
  REQUIRE(admin.Delete("other").ok());
  CHECK(ListOverWire(serving.port) == std::vector<std::string>{"vm1"});
  CHECK_FALSE(serving.Connect("other").has_value());
  CHECK(ReadOverWire(*other, 0, 16) == std::string(16, 'x'));
}

TEST_CASE("FLUSH and FUA make writes durable in the bucket before they answer") {
  const std::uint64_t seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  VolumeHarness volume;
  auto fs = volume.Open();
  REQUIRE(ExportAdmin(fs).Create("disk", 32 << 20).ok());
  const std::string flushed = testing::RandomBytes(rng, 3 << 20);
  const std::string fua = testing::RandomBytes(rng, 64 << 10);
  const std::string unflushed = testing::RandomBytes(rng, 64 << 10);
  {
    Serving serving(fs);
    auto c = serving.Connect("disk");
    REQUIRE(c.has_value());
    // Written over two connections, flushed over one: FLUSH covers both (multi-conn).
    auto c2 = serving.Connect("disk");
    REQUIRE(c2.has_value());
    REQUIRE(Send(*c, Command::kWrite, 1 << 20, 1 << 20, 0,
                 std::string_view(flushed).substr(0, 1 << 20)) == 0);
    REQUIRE(Send(*c2, Command::kWrite, 2 << 20, 2 << 20, 0,
                 std::string_view(flushed).substr(1 << 20)) == 0);
    REQUIRE(Send(*c, Command::kFlush, 0, 0) == 0);
    REQUIRE(Send(*c2, Command::kWrite, 8 << 20, 64 << 10, kCmdFlagFua, fua) == 0);
    // Acknowledged but never flushed: with no flush interval it stays in memory.
    REQUIRE(Send(*c, Command::kWrite, 16 << 20, 64 << 10, 0, unflushed) == 0);
    CHECK(ReadOverWire(*c2, 16 << 20, 64 << 10) == unflushed);
  }
  // A new writer (with an empty cache) fences this one and sees only the bucket, as a
  // restart after a crash would.
  auto after = volume.Open();
  CHECK(ReadExport(*after, "disk", 1 << 20, 3 << 20) == flushed);
  CHECK(ReadExport(*after, "disk", 8 << 20, 64 << 10) == fua);
  // The unflushed write is not there: proof that the flush, not luck, carried the rest.
  CHECK(ReadExport(*after, "disk", 16 << 20, 64 << 10) == std::string(64 << 10, '\0'));
}

TEST_CASE("TRIM and WRITE_ZEROES drop the data: zeros read back and live bytes fall") {
  const std::uint64_t seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  VolumeHarness volume;
  auto fs = volume.Open();
  REQUIRE(ExportAdmin(fs).Create("disk", 64 << 20).ok());
  Serving serving(fs);
  auto c = serving.Connect("disk");
  REQUIRE(c.has_value());
  constexpr std::uint32_t kChunk = 4 << 20;
  for (std::uint32_t i = 0; i < 4; ++i) {
    REQUIRE(Send(*c, Command::kWrite, std::uint64_t{i} * kChunk, kChunk, 0,
                 testing::RandomBytes(rng, kChunk)) == 0);
  }
  REQUIRE(Send(*c, Command::kFlush, 0, 0) == 0);
  const std::uint64_t full = VolumeHarness::LiveBytes(fs->volume());
  INFO("live bytes after 16 MiB of random data: " << full);
  CHECK(full >= 16ULL << 20);

  // TRIM the first 8 MiB, WRITE_ZEROES the next 4 MiB (hole), and 4 MiB with NO_HOLE.
  REQUIRE(Send(*c, Command::kTrim, 0, 8 << 20) == 0);
  REQUIRE(Send(*c, Command::kWriteZeroes, 8 << 20, kChunk) == 0);
  REQUIRE(Send(*c, Command::kWriteZeroes, 12 << 20, kChunk, kCmdFlagNoHole) == 0);
  REQUIRE(Send(*c, Command::kFlush, 0, 0) == 0);
  for (std::uint64_t off = 0; off < (16 << 20); off += kChunk) {
    INFO("offset " << off);
    CHECK(ReadOverWire(*c, off, kChunk) == std::string(kChunk, '\0'));
  }
  const std::uint64_t trimmed = VolumeHarness::LiveBytes(fs->volume());
  INFO("live bytes after trimming and zeroing: " << trimmed);
  // The 16 MiB of random data are gone; what remains is metadata-sized plus the
  // compressed zeros of the NO_HOLE range.
  CHECK(trimmed < full - (15ULL << 20));

  // FAST_ZERO: a hole is fast; zeros that must stay allocated are not.
  CHECK(Send(*c, Command::kWriteZeroes, 0, 4096, kCmdFlagFastZero) == 0);
  CHECK(Send(*c, Command::kWriteZeroes, 0, 4096, kCmdFlagFastZero | kCmdFlagNoHole) ==
        static_cast<std::uint32_t>(Error::kNotSup));
}

TEST_CASE("exports of a read-only volume are read-only") {
  VolumeHarness volume;
  {
    auto fs = volume.Open();
    REQUIRE(ExportAdmin(fs).Create("disk", 1 << 20).ok());
  }
  auto replica = volume.Open(engine::OpenMode::kReadOnly);
  Serving serving(replica);
  auto c = serving.Connect("disk");
  REQUIRE(c.has_value());
  CHECK(Send(*c, Command::kWrite, 0, 4, 0, "data") == static_cast<std::uint32_t>(Error::kPerm));
  CHECK(ReadOverWire(*c, 0, 4) == std::string(4, '\0'));
  CHECK_FALSE(ExportAdmin(replica).Create("new", 1 << 20).ok());
}

TEST_CASE("ExportAdmin: names, sizes, resize and delete") {
  VolumeHarness volume;
  auto fs = volume.Open();
  ExportAdmin admin(fs);
  CHECK(admin.List()->empty());
  CHECK(admin.Create("a/b", 1 << 20).status().code() == StatusCode::kInvalidArgument);
  CHECK(admin.Create(std::string(256, 'n'), 1 << 20).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(admin.Create("..", 1 << 20).status().code() == StatusCode::kInvalidArgument);
  CHECK(admin.Create("odd", 1000).status().code() == StatusCode::kInvalidArgument);
  CHECK(admin.Create("zero", 0).status().code() == StatusCode::kInvalidArgument);
  REQUIRE(admin.Create("b", 2 << 20).ok());
  REQUIRE(admin.Create("a", 1 << 20).ok());
  CHECK(admin.Create("a", 1 << 20).status().code() == StatusCode::kAlreadyExists);
  auto list = admin.List();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].name == "a");
  CHECK((*list)[0].size_bytes == 1 << 20);
  CHECK((*list)[1].name == "b");

  // Growing is free; shrinking needs consent.
  CHECK(admin.Resize("a", 4 << 20)->size_bytes == 4 << 20);
  CHECK(admin.Resize("a", 1 << 20).status().code() == StatusCode::kInvalidArgument);
  CHECK(admin.Resize("a", 1 << 20, true)->size_bytes == 1 << 20);
  CHECK(admin.Resize("missing", 1 << 20).status().code() == StatusCode::kNotFound);
  REQUIRE(admin.Delete("a").ok());
  CHECK(admin.Delete("a").code() == StatusCode::kNotFound);
  CHECK(admin.Get("a").status().code() == StatusCode::kNotFound);
  CHECK(admin.List()->size() == 1);
}
