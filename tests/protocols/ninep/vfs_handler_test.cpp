// VfsHandler through the real 9P server on 127.0.0.1 (port 0), over a volume on a
// MemoryStore, driven by a small blocking client built on the codec: users and
// permissions, the namespace operations, many directory entries, xattrs, byte-range locks
// between two connections, fsync, setattr, malformed frames and msize bounds.
#include "zerofs/ninep/vfs_handler.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "../../support/loopback.h"
#include "../../unit/vfs/vfs_test_support.h"
#include "zerofs/ninep/codec.h"
#include "zerofs/ninep/server.h"

using namespace zerofs::ninep;
using zerofs::Result;

namespace {

constexpr std::uint32_t kAlice = 1000;
constexpr std::uint32_t kBob = 1001;
constexpr std::uint32_t kRootFid = 1;

// One 9P connection; every call waits for its reply (5 s at most).
class Client {
 public:
  explicit Client(std::uint16_t port) : fd_(zerofs::testing::ConnectLoopback(port)) {
    REQUIRE(fd_ >= 0);
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void SendRaw(std::string_view bytes) {
    REQUIRE(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(bytes.size()));
  }
  // The reply to `request`, Rlerror included; nullopt when the connection closed.
  std::optional<Reply> Exchange(const Request& request) {
    SendRaw(EncodeRequest(tag_, request));
    std::string header;
    if (!ReadExactly(kHeaderBytes, &header)) return std::nullopt;
    Result<FrameHeader> h = DecodeFrameHeader(header, kMaxMsizeCap);
    REQUIRE(h.ok());
    CHECK(h->tag == tag_);
    std::string body;
    if (!ReadExactly(h->body_bytes(), &body)) return std::nullopt;
    Result<Reply> reply = DecodeReply(h->type, body);
    REQUIRE(reply.ok());
    ++tag_;
    return std::move(*reply);
  }
  // Exchange without Catch2 assertions, for threads (Catch2 v2 is not thread-safe): nullopt
  // on any failure.
  std::optional<Reply> TryExchange(const Request& request) {
    const std::string frame = EncodeRequest(tag_, request);
    if (::send(fd_, frame.data(), frame.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(frame.size())) {
      return std::nullopt;
    }
    std::string header;
    std::string body;
    if (!ReadExactly(kHeaderBytes, &header)) return std::nullopt;
    Result<FrameHeader> h = DecodeFrameHeader(header, kMaxMsizeCap);
    if (!h.ok() || h->tag != tag_ || !ReadExactly(h->body_bytes(), &body)) return std::nullopt;
    Result<Reply> reply = DecodeReply(h->type, body);
    if (!reply.ok()) return std::nullopt;
    ++tag_;
    return std::move(*reply);
  }
  template <typename R>
  R Call(const Request& request) {
    std::optional<Reply> r = Exchange(request);
    REQUIRE(r.has_value());
    if (const auto* e = std::get_if<Rlerror>(&*r)) FAIL("Rlerror " << e->ecode);
    REQUIRE(std::holds_alternative<R>(*r));
    return std::get<R>(*r);
  }
  // The errno of a request expected to fail (0 if it succeeded).
  std::uint32_t Error(const Request& request) {
    std::optional<Reply> r = Exchange(request);
    REQUIRE(r.has_value());
    const auto* e = std::get_if<Rlerror>(&*r);
    return e == nullptr ? 0 : e->ecode;
  }
  // True when the server closed the connection within 5 s.
  bool Closed() {
    std::string ignored;
    return !ReadExactly(1, &ignored);
  }

  std::uint32_t Handshake(std::uint32_t msize = 65536) {
    return Call<Rversion>(Tversion{msize, "9P2000.L"}).msize;
  }
  void Attach(std::uint32_t uid, std::uint32_t fid = kRootFid) {
    Call<Rattach>(Tattach{fid, kNoFid, "", "", uid});
  }
  // Walks `names` from the root fid to a new fid.
  std::uint32_t Walk(std::vector<std::string> names, std::uint32_t from = kRootFid) {
    const std::uint32_t fid = next_fid_++;
    Call<Rwalk>(Twalk{from, fid, std::move(names)});
    return fid;
  }
  // Creates and opens `name` in the root (or `dir`), returning its fid.
  std::uint32_t Create(const std::string& name, std::uint32_t mode, std::uint32_t gid,
                       std::uint32_t dir = kRootFid) {
    const std::uint32_t fid = Walk({}, dir);
    Call<Rlcreate>(Tlcreate{fid, name, O_RDWR, mode, gid});
    return fid;
  }
  std::uint32_t Open(std::vector<std::string> names, std::uint32_t flags) {
    const std::uint32_t fid = Walk(std::move(names));
    Call<Rlopen>(Tlopen{fid, flags});
    return fid;
  }
  void Clunk(std::uint32_t fid) { Call<Rclunk>(Tclunk{fid}); }
  std::string ReadAll(std::uint32_t fid, std::uint32_t chunk = 8192) {
    std::string out;
    for (;;) {
      Rread r = Call<Rread>(Tread{fid, out.size(), chunk});
      if (r.data.bytes.empty()) return out;
      out += r.data.bytes;
    }
  }
  std::vector<Dirent> ReadDir(std::uint32_t fid, std::uint32_t count) {
    std::vector<Dirent> all;
    std::uint64_t offset = 0;
    for (;;) {
      Rreaddir r = Call<Rreaddir>(Treaddir{fid, offset, count});
      if (r.data.bytes.empty()) return all;
      Result<std::vector<Dirent>> entries = DecodeDirents(r.data.bytes);
      REQUIRE(entries.ok());
      for (Dirent& d : *entries) {
        offset = d.offset;
        all.push_back(std::move(d));
      }
    }
  }
  Rgetattr Stat(std::uint32_t fid) { return Call<Rgetattr>(Tgetattr{fid, kGetattrAll}); }

 private:
  bool ReadExactly(std::size_t n, std::string* out) {
    out->resize(n);
    std::size_t got = 0;
    while (got < n) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 5000) != 1) return false;
      const ssize_t r = ::recv(fd_, out->data() + got, n - got, 0);
      if (r <= 0) return false;
      got += static_cast<std::size_t>(r);
    }
    return true;
  }
  int fd_ = -1;
  std::uint16_t tag_ = 1;
  std::uint32_t next_fid_ = 100;
};

// A volume, its Filesystem, a VfsHandler and a server on 127.0.0.1:0.
class Fixture {
 public:
  explicit Fixture(ServerOptions options = {}) {
    VfsHandlerOptions handler_options;
    handler_options.lookup_groups = false;  // the test's uids mean nothing on this machine
    handler_options.max_xattr_buffer_bytes = 1 << 20;
    // The fixture owns the Filesystem; the handler only borrows it while the server runs.
    std::shared_ptr<zerofs::vfs::Filesystem> fs(&vfs_.fs(), [](zerofs::vfs::Filesystem*) {});
    handler_ = std::make_shared<VfsHandler>(fs, handler_options);
    options.listen = {"127.0.0.1:0"};
    server_ = std::make_unique<Server>(handler_, options);
    REQUIRE(server_->Start().ok());
  }
  ~Fixture() {
    server_->Stop();
    server_->Wait();
    server_.reset();
    handler_.reset();
  }
  std::uint16_t port() const { return server_->TcpPorts().at(0); }
  zerofs::vfs::Filesystem& fs() { return vfs_.fs(); }
  VfsHandler& handler() { return *handler_; }
  // A connected, attached client.
  std::unique_ptr<Client> Connect(std::uint32_t uid) {
    auto c = std::make_unique<Client>(port());
    c->Handshake();
    c->Attach(uid);
    return c;
  }

 private:
  zerofs::testing::VfsFixture vfs_;
  std::shared_ptr<VfsHandler> handler_;
  std::unique_ptr<Server> server_;
};

}  // namespace

TEST_CASE("9p vfs: users, permissions and ownership", "[ninep][vfs]") {
  Fixture f;
  auto root = f.Connect(0);
  auto alice = f.Connect(kAlice);
  // The root directory is 0755 root: alice may look but not create.
  const std::uint32_t dir = alice->Walk({});
  CHECK(alice->Error(Tlcreate{dir, "a", O_RDWR, 0644, kAlice}) == EACCES);
  CHECK(alice->Error(Tmkdir{kRootFid, "d", 0755, kAlice}) == EACCES);
  // A private directory of root's is closed to her, even to walk through.
  root->Call<Rmkdir>(Tmkdir{kRootFid, "priv", 0700, 0});
  root->Call<Rmkdir>(Tmkdir{kRootFid, "pub", 01777, 0});
  const std::uint32_t priv = root->Walk({"priv"});
  root->Create("secret", 0600, 0, priv);
  // A walk that fails after its first name binds nothing and returns the qids so far.
  CHECK(alice->Call<Rwalk>(Twalk{kRootFid, 50, {"priv", "secret"}}).qids.size() == 1);
  const std::uint32_t alice_priv = alice->Walk({"priv"});
  CHECK(alice->Error(Twalk{alice_priv, 51, {"secret"}}) == EACCES);
  CHECK(alice->Error(Tlopen{alice_priv, O_RDONLY | O_DIRECTORY}) == EACCES);
  // She creates in the sticky public directory; the gid she sends is the file's group.
  const std::uint32_t pub = alice->Walk({"pub"});
  const std::uint32_t file = alice->Create("mine", 0640, 4242, pub);
  Rgetattr st = alice->Stat(file);
  CHECK(st.uid == kAlice);
  CHECK(st.gid == 4242);
  CHECK((st.mode & 07777) == 0640);
  CHECK(S_ISREG(st.mode));
  CHECK(st.valid == (kGetattrBasic | kGetattrBtime | kGetattrGen));
  CHECK(st.qid.path != 0);
  // Bob can neither read it nor (sticky directory) remove it; root can chown it.
  auto bob = f.Connect(kBob);
  const std::uint32_t bob_file = bob->Walk({"pub", "mine"});
  CHECK(bob->Error(Tlopen{bob_file, O_RDONLY}) == EACCES);
  const std::uint32_t bob_pub = bob->Walk({"pub"});
  CHECK(bob->Error(Tunlinkat{bob_pub, "mine", 0}) == EPERM);
  CHECK(bob->Error(Tsetattr{bob_file, kSetattrMode, 0777}) == EPERM);
  const std::uint32_t root_file = root->Walk({"pub", "mine"});
  root->Call<Rsetattr>(Tsetattr{root_file, kSetattrUid | kSetattrGid, 0, kBob, kBob});
  st = bob->Stat(bob_file);
  CHECK(st.uid == kBob);
  CHECK(st.gid == kBob);
  // Attach by name when n_uname is absent: "root" is known everywhere, "" is refused.
  Client anon(f.port());
  anon.Handshake();
  anon.Call<Rattach>(Tattach{7, kNoFid, "root", "", kNoUid});
  CHECK(anon.Error(Tattach{8, kNoFid, "", "", kNoUid}) == EACCES);
  // An aname names the directory to attach to.
  anon.Call<Rattach>(Tattach{9, kNoFid, "", "/pub", 0});
  anon.Call<Rwalk>(Twalk{9, 10, {"mine"}});
  CHECK(anon.Error(Tattach{11, kNoFid, "", "/pub/mine", 0}) == ENOTDIR);
  CHECK(anon.Error(Tattach{12, kNoFid, "", "/missing", 0}) == ENOENT);
}

TEST_CASE("9p vfs: many files written, listed and read back", "[ninep][vfs]") {
  Fixture f;
  auto c = f.Connect(0);
  c->Call<Rmkdir>(Tmkdir{kRootFid, "many", 0755, 0});
  const std::uint32_t many = c->Walk({"many"});
  const std::uint32_t seed = Catch::rngSeed();  // --rng-seed; printed on failure
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  std::map<std::string, std::string> files;
  for (int i = 0; i < 300; ++i) {
    const std::string name = "file-" + std::to_string(i) + std::string(rng() % 40, 'x');
    std::string data(rng() % 20000, '\0');
    for (char& ch : data) ch = static_cast<char>(rng());
    const std::uint32_t fid = c->Create(name, 0644, 0, many);
    std::size_t done = 0;
    while (done < data.size()) {
      const std::size_t n = std::min<std::size_t>(data.size() - done, 7000);
      Rwrite w = c->Call<Rwrite>(Twrite{fid, done, Data{data.substr(done, n)}});
      REQUIRE(w.count == n);
      done += n;
    }
    c->Clunk(fid);
    files[name] = data;
  }
  // The listing, resumed by cookie in small batches, has every name once plus . and ..
  const std::uint32_t listing = c->Walk({"many"});
  c->Call<Rlopen>(Tlopen{listing, O_RDONLY | O_DIRECTORY});
  std::vector<Dirent> entries = c->ReadDir(listing, 700);
  std::set<std::string> names;
  for (const Dirent& d : entries) {
    CHECK(names.insert(d.name).second);
    if (d.name != "." && d.name != "..") {
      CHECK(d.type == DT_REG);
      CHECK(d.qid.type == kQidFile);
    }
  }
  CHECK(names.size() == files.size() + 2);
  CHECK(names.count(".") == 1);
  CHECK(names.count("..") == 1);
  for (const auto& [name, data] : files) {
    REQUIRE(names.count(name) == 1);
    const std::uint32_t fid = c->Open({"many", name}, O_RDONLY);
    CHECK(c->ReadAll(fid, 5000) == data);
    CHECK(c->Stat(fid).size == data.size());
    c->Clunk(fid);
  }
  // A directory fid reads as EISDIR, a file fid lists as ENOTDIR or EBADF.
  CHECK(c->Error(Tread{listing, 0, 100}) == EISDIR);
  const std::uint32_t unopened = c->Walk({"many", files.begin()->first});
  CHECK(c->Error(Tread{unopened, 0, 100}) == EBADF);
  c->Clunk(many);
}

TEST_CASE("9p vfs: rename, link, unlink, symlink, mknod, open after unlink", "[ninep][vfs]") {
  Fixture f;
  auto c = f.Connect(0);
  c->Call<Rmkdir>(Tmkdir{kRootFid, "a", 0755, 0});
  c->Call<Rmkdir>(Tmkdir{kRootFid, "b", 0755, 0});
  const std::uint32_t a = c->Walk({"a"});
  const std::uint32_t b = c->Walk({"b"});
  const std::uint32_t file = c->Create("f", 0644, 0, a);
  c->Call<Rwrite>(Twrite{file, 0, Data{"hello"}});
  // renameat across directories, then Trename of a walked fid.
  c->Call<Rrenameat>(Trenameat{a, "f", b, "g"});
  CHECK(c->Error(Twalk{a, 60, {"f"}}) == ENOENT);
  const std::uint32_t g = c->Walk({"b", "g"});
  c->Call<Rrename>(Trename{g, a, "h"});
  const std::uint32_t h = c->Walk({"a", "h"});
  CHECK(c->Stat(h).qid.path == c->Stat(g).qid.path);
  // A hard link, counted in nlink; unlink of one name keeps the other.
  c->Call<Rlink>(Tlink{b, h, "hl"});
  CHECK(c->Stat(h).nlink == 2);
  c->Call<Runlinkat>(Tunlinkat{a, "h", 0});
  CHECK(c->Stat(g).nlink == 1);
  // rmdir of a non-empty directory, unlink of a directory, bad flags.
  CHECK(c->Error(Tunlinkat{kRootFid, "b", kAtRemoveDir}) == ENOTEMPTY);
  CHECK(c->Error(Tunlinkat{kRootFid, "a", 0}) == EISDIR);
  CHECK(c->Error(Tunlinkat{kRootFid, "a", 1}) == EINVAL);
  // The open fid of a file unlinked since keeps reading and writing.
  c->Call<Runlinkat>(Tunlinkat{b, "hl", 0});
  c->Call<Rwrite>(Twrite{file, 5, Data{" world"}});
  CHECK(c->Call<Rread>(Tread{file, 0, 100}).data.bytes == "hello world");
  CHECK(c->Stat(file).nlink == 0);
  c->Call<Rfsync>(Tfsync{file, 0});
  c->Clunk(file);
  // An open directory removed since still answers getattr, with nlink 0 (as ext4 does).
  c->Call<Rmkdir>(Tmkdir{kRootFid, "gone", 0755, 0});
  const std::uint32_t gone = c->Open({"gone"}, O_RDONLY | O_DIRECTORY);
  c->Call<Runlinkat>(Tunlinkat{kRootFid, "gone", kAtRemoveDir});
  const Rgetattr gone_st = c->Stat(gone);
  CHECK(gone_st.nlink == 0);
  CHECK(S_ISDIR(gone_st.mode));
  c->Clunk(gone);
  // Symlinks and special files.
  const std::uint32_t sym_dir = c->Walk({});
  c->Call<Rsymlink>(Tsymlink{sym_dir, "link", "a/target", 0});
  const std::uint32_t link = c->Walk({"link"});
  CHECK(c->Call<Rreadlink>(Treadlink{link}).target == "a/target");
  CHECK(c->Stat(link).qid.type == kQidSymlink);
  c->Call<Rmknod>(Tmknod{kRootFid, "fifo", S_IFIFO | 0600, 0, 0, 0});
  c->Call<Rmknod>(Tmknod{kRootFid, "dev", S_IFCHR | 0600, 1, 3, 0});
  const std::uint32_t dev = c->Walk({"dev"});
  const Rgetattr st = c->Stat(dev);
  CHECK(S_ISCHR(st.mode));
  CHECK(major(st.rdev) == 1);
  CHECK(minor(st.rdev) == 3);
  // Tremove removes the file and clunks the fid; the root cannot be removed.
  const std::uint32_t fifo = c->Walk({"fifo"});
  c->Call<Rremove>(Tremove{fifo});
  CHECK(c->Error(Tclunk{fifo}) == EBADF);
  CHECK(c->Error(Twalk{kRootFid, 61, {"fifo"}}) == ENOENT);
  const std::uint32_t root_copy = c->Walk({});
  CHECK(c->Error(Tremove{root_copy}) == EBUSY);
  // Statfs speaks for the volume.
  const Rstatfs sfs = c->Call<Rstatfs>(Tstatfs{kRootFid});
  CHECK(sfs.type == 0x01021997);
  CHECK(sfs.bsize == 4096);
  CHECK(sfs.namelen == 255);
  CHECK(sfs.blocks >= sfs.bfree);
}

TEST_CASE("9p vfs: setattr sizes and times", "[ninep][vfs]") {
  Fixture f;
  auto c = f.Connect(0);
  const std::uint32_t fid = c->Create("t", 0644, 0);
  c->Call<Rwrite>(Twrite{fid, 0, Data{std::string(10000, 'z')}});
  Tsetattr truncate{fid, kSetattrSize};
  truncate.size = 100;
  c->Call<Rsetattr>(truncate);
  CHECK(c->Stat(fid).size == 100);
  Tsetattr times{fid, kSetattrAtime | kSetattrAtimeSet | kSetattrMtime | kSetattrMtimeSet};
  times.atime_sec = 1000;
  times.atime_nsec = 5;
  times.mtime_sec = 2000;
  times.mtime_nsec = 7;
  c->Call<Rsetattr>(times);
  Rgetattr st = c->Stat(fid);
  CHECK(st.atime_sec == 1000);
  CHECK(st.atime_nsec == 5);
  CHECK(st.mtime_sec == 2000);
  CHECK(st.mtime_nsec == 7);
  // Without the *_SET bits a time means "now" (the fixture's clock, far past 2000).
  c->Call<Rsetattr>(Tsetattr{fid, kSetattrAtime | kSetattrMtime});
  st = c->Stat(fid);
  CHECK(st.atime_sec > 1000000);
  CHECK(st.mtime_sec > 1000000);
  times.mtime_nsec = 2000000000;
  CHECK(c->Error(times) == EINVAL);
  c->Call<Rsetattr>(Tsetattr{fid, kSetattrCtime});
  Tsetattr chmod{fid, kSetattrMode, S_IFREG | 04711};
  c->Call<Rsetattr>(chmod);
  CHECK((c->Stat(fid).mode & 07777) == 04711);
}

TEST_CASE("9p vfs: xattrs set at clunk, read, listed, removed", "[ninep][vfs]") {
  Fixture f;
  auto c = f.Connect(0);
  const std::uint32_t file = c->Create("x", 0644, 0);
  auto set = [&](const std::string& name, const std::string& value, std::uint32_t flags) {
    const std::uint32_t x = c->Walk({"x"});
    c->Call<Rxattrcreate>(Txattrcreate{x, name, value.size(), flags});
    if (!value.empty()) {
      c->Call<Rwrite>(Twrite{x, 0, Data{value.substr(0, 3)}});
      c->Call<Rwrite>(Twrite{x, 3, Data{value.substr(3)}});
    }
    return c->Error(Tclunk{x});
  };
  CHECK(set("user.color", "blue-green", 0) == 0);
  CHECK(set("user.size", "large!", 0) == 0);
  CHECK(set("user.color", "red", 1) == EEXIST);     // XATTR_CREATE
  CHECK(set("user.missing", "abc", 2) == ENODATA);  // XATTR_REPLACE
  CHECK(set("system.posix_acl_access", "abcd", 0) == EOPNOTSUPP);
  // Reading through a walked xattr fid.
  Rxattrwalk w = c->Call<Rxattrwalk>(Txattrwalk{file, 70, "user.color"});
  CHECK(w.size == 10);
  CHECK(c->Call<Rread>(Tread{70, 0, 100}).data.bytes == "blue-green");
  CHECK(c->Call<Rread>(Tread{70, 5, 100}).data.bytes == "green");
  c->Clunk(70);
  w = c->Call<Rxattrwalk>(Txattrwalk{file, 71, ""});
  CHECK(c->Call<Rread>(Tread{71, 0, 1000}).data.bytes ==
        std::string("user.color\0user.size\0", 21));
  c->Clunk(71);
  CHECK(c->Error(Txattrwalk{file, 72, "user.nope"}) == ENODATA);
  // removexattr: size 0 with XATTR_REPLACE.
  CHECK(set("user.size", "", 2) == 0);
  CHECK(c->Error(Txattrwalk{file, 73, "user.size"}) == ENODATA);
  // An empty value without flags is a value.
  CHECK(set("user.empty", "", 0) == 0);
  CHECK(c->Call<Rxattrwalk>(Txattrwalk{file, 74, "user.empty"}).size == 0);
  // A short write never commits; a write past the size is refused; sizes are bounded.
  const std::uint32_t x = c->Walk({"x"});
  c->Call<Rxattrcreate>(Txattrcreate{x, "user.short", 10, 0});
  CHECK(c->Error(Twrite{x, 8, Data{"abc"}}) == ENOSPC);
  c->Call<Rwrite>(Twrite{x, 0, Data{"abc"}});
  CHECK(c->Error(Tclunk{x}) == EINVAL);
  CHECK(c->Error(Txattrwalk{file, 75, "user.short"}) == ENODATA);
  const std::uint32_t big = c->Walk({"x"});
  CHECK(c->Error(Txattrcreate{big, "user.big", 1 << 20, 0}) == E2BIG);
  // Another user may not set user.* on root's 0644 file.
  auto alice = f.Connect(kAlice);
  const std::uint32_t ax = alice->Walk({"x"});
  alice->Call<Rxattrcreate>(Txattrcreate{ax, "user.a", 1, 0});
  alice->Call<Rwrite>(Twrite{ax, 0, Data{"1"}});
  CHECK(alice->Error(Tclunk{ax}) == EACCES);
}

TEST_CASE("9p vfs: POSIX locks conflict across connections", "[ninep][vfs]") {
  Fixture f;
  auto a = f.Connect(0);
  auto b = f.Connect(0);
  const std::uint32_t fa = a->Create("lockme", 0666, 0);
  const std::uint32_t fb = b->Open({"lockme"}, O_RDWR);
  // The same proc_id and client_id on two connections are two owners.
  CHECK(a->Call<Rlock>(Tlock{fa, kLockTypeWrite, 0, 0, 100, 42, "host"}).status == kLockSuccess);
  CHECK(b->Call<Rlock>(Tlock{fb, kLockTypeRead, 0, 50, 10, 42, "host"}).status == kLockBlocked);
  CHECK(b->Call<Rlock>(Tlock{fb, kLockTypeWrite, kLockFlagBlock, 99, 0, 42, "host"}).status ==
        kLockBlocked);
  Rgetlock g = b->Call<Rgetlock>(Tgetlock{fb, kLockTypeRead, 10, 5, 42, "host"});
  CHECK(g.type == kLockTypeWrite);
  CHECK(g.start == 0);
  CHECK(g.length == 100);
  CHECK(g.proc_id == 42);
  // Beyond the range there is no conflict; shared locks coexist.
  CHECK(b->Call<Rlock>(Tlock{fb, kLockTypeRead, 0, 100, 0, 42, "host"}).status == kLockSuccess);
  CHECK(a->Call<Rlock>(Tlock{fa, kLockTypeRead, 0, 200, 10, 7, "host"}).status == kLockSuccess);
  CHECK(a->Call<Rlock>(Tlock{fa, kLockTypeWrite, 0, 200, 10, 7, "host"}).status == kLockBlocked);
  g = a->Call<Rgetlock>(Tgetlock{fa, kLockTypeWrite, 500, 0, 7, "host"});
  CHECK(g.type == kLockTypeRead);
  CHECK(g.start == 100);
  CHECK(g.length == 0);
  // The owner's own locks never conflict with it, and Getlock ignores them.
  CHECK(a->Call<Rgetlock>(Tgetlock{fa, kLockTypeWrite, 0, 50, 42, "host"}).type == kLockTypeUnlock);
  // Unlocking part of a range splits it: the middle is free, the ends are not.
  CHECK(a->Call<Rlock>(Tlock{fa, kLockTypeUnlock, 0, 40, 20, 42, "host"}).status == kLockSuccess);
  CHECK(b->Call<Rlock>(Tlock{fb, kLockTypeWrite, 0, 45, 10, 42, "host"}).status == kLockSuccess);
  CHECK(b->Call<Rlock>(Tlock{fb, kLockTypeWrite, 0, 30, 20, 42, "host"}).status == kLockBlocked);
  // Clunking the fid a lock was taken through releases the owner's locks on the file.
  const std::size_t before = f.handler().LockCount();
  CHECK(before >= 4);
  a->Clunk(fa);
  // (proc 7's read lock was taken through fa too, so nothing of a's remains.)
  CHECK(f.handler().LockCount() < before);
  CHECK(b->Call<Rlock>(Tlock{fb, kLockTypeWrite, 0, 0, 0, 42, "host"}).status == kLockSuccess);
  // A closed connection releases its locks.
  b.reset();
  for (int i = 0; i < 100 && f.handler().LockCount() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(f.handler().LockCount() == 0);
  CHECK(a->Error(Tlock{kRootFid, 9, 0, 0, 0, 1, "x"}) == EINVAL);
}

TEST_CASE("9p vfs: locks live in the Filesystem's table, shared with other protocols",
          "[ninep][vfs]") {
  Fixture f;
  auto a = f.Connect(0);
  const std::uint32_t fa = a->Create("shared", 0666, 0);
  namespace vfs = zerofs::vfs;
  const vfs::Ino ino = a->Stat(fa).qid.path;
  vfs::LockTable& table = f.fs().locks();
  // A lock taken over 9P is in the table, held by the connection's session.
  CHECK(a->Call<Rlock>(Tlock{fa, kLockTypeWrite, 0, 0, 10, 42, "host"}).status == kLockSuccess);
  const std::vector<vfs::HeldLock> held = table.LocksOn(ino);
  REQUIRE(held.size() == 1);
  CHECK(held[0].owner.process == 42);
  CHECK(held[0].owner.client == "host");
  CHECK(held[0].type == vfs::LockType::kExclusive);
  CHECK(held[0].length == 10);
  // Another protocol's owner (another session of the same table) conflicts with it...
  const vfs::LockOwner other{table.NewSession(), 42, "host"};
  CHECK_ERRNO(table.Lock(ino, other, vfs::LockType::kShared, 5, 1), EAGAIN);
  REQUIRE_OK(table.Lock(ino, other, vfs::LockType::kShared, 20, 0));
  // ...and the 9P client sees that owner's locks as it sees another connection's.
  CHECK(a->Call<Rlock>(Tlock{fa, kLockTypeWrite, 0, 15, 10, 42, "host"}).status == kLockBlocked);
  Rgetlock g = a->Call<Rgetlock>(Tgetlock{fa, kLockTypeWrite, 15, 0, 7, "host"});
  CHECK(g.type == kLockTypeRead);
  CHECK(g.start == 20);
  CHECK(g.length == 0);
  CHECK(g.proc_id == 42);
  CHECK(g.client_id == "host");
  // Adjacent locks of one owner and type are one lock, as Linux keeps them.
  CHECK(a->Call<Rlock>(Tlock{fa, kLockTypeWrite, 0, 10, 5, 42, "host"}).status == kLockSuccess);
  g = a->Call<Rgetlock>(Tgetlock{fa, kLockTypeRead, 12, 1, 9, "host"});
  CHECK(g.type == kLockTypeWrite);
  CHECK(g.start == 0);
  CHECK(g.length == 15);
  // Clunking releases the 9P owner's locks, not the other protocol's.
  a->Clunk(fa);
  CHECK(table.LocksOn(ino) ==
        std::vector<vfs::HeldLock>{vfs::HeldLock{other, vfs::LockType::kShared, 20, 0}});
  table.ReleaseSession(other.session);
  CHECK(f.handler().LockCount() == 0);
}

TEST_CASE("9p vfs: fsync, bad fids, msize bounds, malformed frames", "[ninep][vfs]") {
  ServerOptions options;
  options.max_msize = 128 * 1024;
  options.max_fids = 8;
  Fixture f(options);
  auto c = std::make_unique<Client>(f.port());
  CHECK(c->Error(Tversion{100, "9P2000.L"}) == EINVAL);
  CHECK(c->Handshake(1U << 30) == 128 * 1024);
  c->Attach(0);
  const std::uint32_t file = c->Create("s", 0644, 0);
  c->Call<Rwrite>(Twrite{file, 0, Data{"durable"}});
  c->Call<Rfsync>(Tfsync{file, 0});
  c->Call<Rfsync>(Tfsync{file, 1});
  c->Call<Rfsync>(Tfsync{kRootFid, 0});
  // Reads are clamped to the iounit.
  c->Call<Rwrite>(Twrite{file, 0, Data{std::string(100000, 'q')}});
  c->Call<Rwrite>(Twrite{file, 100000, Data{std::string(100000, 'q')}});
  CHECK(c->Call<Rread>(Tread{file, 0, 1U << 30}).data.bytes.size() == 128 * 1024 - 24);
  CHECK(c->Error(Tgetattr{999, kGetattrAll}) == EBADF);
  CHECK(c->Error(Twalk{999, 1000, {}}) == EBADF);
  CHECK(c->Error(Twalk{kRootFid, file, {}}) == EBADF);  // newfid in use
  CHECK(c->Error(Tlopen{file, O_RDONLY}) == EBADF);     // already open
  CHECK(c->Error(Twalk{kRootFid, 500, {"nope"}}) == ENOENT);
  CHECK(c->Error(Tauth{5, "root", "", 0}) == ENOENT);
  // The fid table is bounded.
  std::uint32_t last_error = 0;
  for (std::uint32_t i = 0; i < 10 && last_error == 0; ++i) {
    last_error = c->Error(Twalk{kRootFid, 2000 + i, {}});
  }
  CHECK(last_error == EMFILE);
  // A truncated Twalk closes that connection only.
  auto other = f.Connect(0);
  std::string frame = EncodeRequest(9, Twalk{kRootFid, 3000, {"abc"}});
  frame[0] = static_cast<char>(frame.size() - 2);
  c->SendRaw(frame.substr(0, frame.size() - 2));
  CHECK(c->Closed());
  const std::uint32_t again = other->Open({"s"}, O_RDONLY);
  CHECK(other->Call<Rread>(Tread{again, 0, 7}).data.bytes == "qqqqqqq");
}

TEST_CASE("9p vfs: concurrent clients on one volume", "[ninep][vfs][concurrency]") {
  Fixture f;
  auto setup = f.Connect(0);
  setup->Create("shared", 0666, 0);
  constexpr int kThreads = 4;
  constexpr int kRounds = 40;
  std::vector<std::string> failures[kThreads];
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::string>& fail = failures[t];
      Client c(f.port());
      auto call = [&](const Request& r, const char* what) -> std::optional<Reply> {
        std::optional<Reply> reply = c.TryExchange(r);
        if (!reply.has_value()) {
          fail.push_back(std::string(what) + ": no reply");
        } else if (const auto* e = std::get_if<Rlerror>(&*reply)) {
          fail.push_back(std::string(what) + ": Rlerror " + std::to_string(e->ecode));
          return std::nullopt;
        }
        return reply;
      };
      const auto me = static_cast<std::uint32_t>(t);
      const std::string dir = "t" + std::to_string(t);
      if (!call(Tversion{65536, "9P2000.L"}, "version") ||
          !call(Tattach{1, kNoFid, "", "", 0}, "attach") ||
          !call(Tmkdir{1, dir, 0755, 0}, "mkdir") || !call(Twalk{1, 2, {dir}}, "walk dir") ||
          !call(Twalk{1, 3, {"shared"}}, "walk shared") || !call(Tlopen{3, O_RDWR}, "open")) {
        return;
      }
      for (int i = 0; i < kRounds && fail.empty(); ++i) {
        const std::string name = "f" + std::to_string(i);
        const std::string data(static_cast<std::size_t>(100 + i * 37 + t),
                               static_cast<char>('a' + t));
        call(Twalk{2, 10, {}}, "clone");
        call(Tlcreate{10, name, O_RDWR, 0644, 0}, "create");
        call(Twrite{10, 0, Data{data}}, "write");
        std::optional<Reply> back = call(Tread{10, 0, 65000}, "read");
        if (back && std::get<Rread>(*back).data.bytes != data) fail.push_back("read back differs");
        call(Tclunk{10}, "clunk");
        call(Trenameat{2, name, 2, name + ".r"}, "rename");
        // A write lock on a byte of the shared file that only this client uses, and a
        // probe of another client's byte: never blocked, since the ranges are disjoint.
        std::optional<Reply> lock = call(Tlock{3, kLockTypeWrite, 0, me, 1, me, "c"}, "lock");
        if (lock && std::get<Rlock>(*lock).status != kLockSuccess) fail.push_back("lock");
        call(Tlock{3, kLockTypeUnlock, 0, me, 1, me, "c"}, "unlock");
        if (i % 2 == 0) call(Tunlinkat{2, name + ".r", 0}, "unlink");
      }
      call(Twalk{1, 11, {dir}}, "walk list");
      call(Tlopen{11, O_RDONLY | O_DIRECTORY}, "open list");
      std::optional<Reply> list = call(Treaddir{11, 0, 60000}, "readdir");
      if (list) {
        Result<std::vector<Dirent>> entries = DecodeDirents(std::get<Rreaddir>(*list).data.bytes);
        if (!entries.ok() || entries->size() != 2 + kRounds / 2) {
          fail.push_back("listing has the wrong number of entries");
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    INFO("client " << t);
    CHECK(failures[t].empty());
    for (const std::string& what : failures[t]) WARN(what);
  }
  CHECK(f.handler().LockCount() == 0);
}
