// zerofs-nfs-libnfs-client: drives an NFSv3 server with libnfs (Debian's libnfs-dev), as an
// independent client implementation would.
//
//   zerofs-nfs-libnfs-client posix   HOST PORT     POSIX checks over NFS (see RunPosix)
//   zerofs-nfs-libnfs-client unstable HOST PORT FILE DATA
//        creates FILE, writes DATA with WRITE UNSTABLE (no COMMIT), prints "verifier HEX"
//   zerofs-nfs-libnfs-client commit  HOST PORT FILE DATA
//        the same, then COMMIT; prints the verifiers of both ("verifier HEX" twice)
//   zerofs-nfs-libnfs-client verifier HOST PORT FILE   COMMIT of FILE; prints "verifier HEX"
//   zerofs-nfs-libnfs-client cat     HOST PORT FILE    prints FILE's content
//   zerofs-nfs-libnfs-client smallfiles HOST PORT DIR COUNT SIZE
//        creates, writes and closes COUNT files of SIZE bytes (each write UNSTABLE, then a
//        COMMIT at close, as the Linux client does); prints "files_per_second N"
//
// The server serves MOUNT and NFS on PORT (no portmapper). Exit status 0 when every check
// passed; each failure is printed with "FAIL:".
#include <fcntl.h>
// libnfs.h defines what the raw headers use: it goes first.
#include <nfsc/libnfs.h>
// (keep this order)
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-nfs.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

int failures = 0;

#define EXPECT(cond)                                                              \
  do {                                                                            \
    if (!(cond)) {                                                                \
      std::printf("FAIL: %s:%d: %s\n", __FILE__, __LINE__, #cond);               \
      ++failures;                                                                 \
    }                                                                             \
  } while (0)

#define EXPECT_EQ(a, b)                                                           \
  do {                                                                            \
    const auto va = (a);                                                          \
    const auto vb = (b);                                                          \
    if (!(va == vb)) {                                                            \
      std::printf("FAIL: %s:%d: %s == %s (%lld vs %lld)\n", __FILE__, __LINE__, #a, #b, \
                  static_cast<long long>(va), static_cast<long long>(vb));        \
      ++failures;                                                                 \
    }                                                                             \
  } while (0)

// libnfs's handle of an open file, as libnfs 4 and 5 lay it out (libnfs-private.h).
struct RawFh {
  int len;
  char* val;
};

class Client {
 public:
  Client(const std::string& host, int port, int uid = 0, int gid = 0) {
    nfs_ = nfs_init_context();
    if (nfs_ == nullptr) std::abort();
    nfs_set_timeout(nfs_, 60000);
    const std::string url = "nfs://" + host + "/?version=3&nfsport=" + std::to_string(port) +
                            "&mountport=" + std::to_string(port) + "&uid=" +
                            std::to_string(uid) + "&gid=" + std::to_string(gid);
    struct nfs_url* parsed = nfs_parse_url_dir(nfs_, url.c_str());
    if (parsed == nullptr) {
      std::printf("FAIL: parsing %s: %s\n", url.c_str(), nfs_get_error(nfs_));
      std::exit(1);
    }
    nfs_set_uid(nfs_, uid);
    nfs_set_gid(nfs_, gid);
    if (nfs_mount(nfs_, parsed->server, parsed->path) != 0) {
      std::printf("FAIL: mounting %s: %s\n", url.c_str(), nfs_get_error(nfs_));
      std::exit(1);
    }
    nfs_destroy_url(parsed);
  }
  ~Client() { nfs_destroy_context(nfs_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  nfs_context* get() { return nfs_; }
  const char* error() { return nfs_get_error(nfs_); }

  int WriteFile(const std::string& path, const std::string& data, int mode = 0644) {
    struct nfsfh* fh = nullptr;
    int rc = nfs_create(nfs_, path.c_str(), O_WRONLY | O_TRUNC, mode, &fh);
    if (rc != 0) return rc;
    rc = data.empty() ? 0 : nfs_pwrite(nfs_, fh, 0, data.size(), data.data());
    nfs_close(nfs_, fh);
    return rc < 0 ? rc : 0;
  }
  std::string ReadFile(const std::string& path, int* err = nullptr) {
    struct nfsfh* fh = nullptr;
    int rc = nfs_open(nfs_, path.c_str(), O_RDONLY, &fh);
    if (err) *err = rc;
    if (rc != 0) return {};
    std::string out;
    std::vector<char> buf(1 << 20);
    for (;;) {
      rc = nfs_pread(nfs_, fh, out.size(), buf.size(), buf.data());
      if (rc < 0 && err) *err = rc;
      if (rc <= 0) break;
      out.append(buf.data(), static_cast<std::size_t>(rc));
    }
    nfs_close(nfs_, fh);
    return out;
  }
  struct nfs_stat_64 Stat(const std::string& path, int* err = nullptr) {
    struct nfs_stat_64 st {};
    int rc = nfs_lstat64(nfs_, path.c_str(), &st);
    if (err) *err = rc;
    return st;
  }

  // Runs one raw call to completion on the context's RPC connection.
  template <typename Start>
  bool Raw(Start start, std::atomic<bool>& done) {
    struct rpc_context* rpc = nfs_get_rpc_context(nfs_);
    if (start(rpc) != 0) return false;
    while (!done) {
      struct pollfd pfd {rpc_get_fd(rpc), static_cast<short>(rpc_which_events(rpc)), 0};
      if (poll(&pfd, 1, 1000) < 0) return false;
      if (rpc_service(rpc, pfd.revents) < 0) return false;
    }
    return true;
  }

 private:
  nfs_context* nfs_ = nullptr;
};

std::string Hex(const char* bytes, std::size_t n) {
  std::string out;
  char b[3];
  for (std::size_t i = 0; i < n; ++i) {
    std::snprintf(b, sizeof b, "%02x", static_cast<unsigned char>(bytes[i]));
    out += b;
  }
  return out;
}

nfs_fh3 Fh3Of(struct nfsfh* fh) {
  auto* raw = reinterpret_cast<RawFh*>(nfs_get_fh(fh));
  nfs_fh3 out{};
  out.data.data_len = static_cast<u_int>(raw->len);
  out.data.data_val = raw->val;
  return out;
}

struct WriteOutcome {
  bool ok = false;
  int committed = -1;
  std::string verf;
};

WriteOutcome RawWrite(Client& c, struct nfsfh* fh, std::uint64_t offset, const std::string& data,
                      stable_how how) {
  WRITE3args args{};
  args.file = Fh3Of(fh);
  args.offset = offset;
  args.count = static_cast<count3>(data.size());
  args.stable = how;
  args.data.data_len = static_cast<u_int>(data.size());
  args.data.data_val = const_cast<char*>(data.data());
  struct State {
    std::atomic<bool> done{false};
    WriteOutcome out;
  } state;
  auto cb = [](struct rpc_context*, int status, void* result, void* priv) {
    auto* s = static_cast<State*>(priv);
    auto* res = static_cast<WRITE3res*>(result);
    if (status == RPC_STATUS_SUCCESS && res->status == NFS3_OK) {
      s->out.ok = true;
      s->out.committed = res->WRITE3res_u.resok.committed;
      s->out.verf = Hex(res->WRITE3res_u.resok.verf, NFS3_WRITEVERFSIZE);
    }
    s->done = true;
  };
  c.Raw([&](rpc_context* rpc) { return rpc_nfs3_write_async(rpc, cb, &args, &state); },
        state.done);
  return state.out;
}

WriteOutcome RawCommit(Client& c, struct nfsfh* fh) {
  COMMIT3args args{};
  args.file = Fh3Of(fh);
  struct State {
    std::atomic<bool> done{false};
    WriteOutcome out;
  } state;
  auto cb = [](struct rpc_context*, int status, void* result, void* priv) {
    auto* s = static_cast<State*>(priv);
    auto* res = static_cast<COMMIT3res*>(result);
    if (status == RPC_STATUS_SUCCESS && res->status == NFS3_OK) {
      s->out.ok = true;
      s->out.verf = Hex(res->COMMIT3res_u.resok.verf, NFS3_WRITEVERFSIZE);
    }
    s->done = true;
  };
  c.Raw([&](rpc_context* rpc) { return rpc_nfs3_commit_async(rpc, cb, &args, &state); },
        state.done);
  return state.out;
}

// A complete listing with plain READDIR (raw calls, small replies so that it takes many),
// names counted. False on an error.
bool ListReaddir(Client& c, const std::string& dir, std::map<std::string, int>& names) {
  struct nfsfh* fh = nullptr;
  if (nfs_open(c.get(), dir.c_str(), O_RDONLY, &fh) != 0) {
    std::printf("FAIL: open of directory %s: %s\n", dir.c_str(), c.error());
    return false;
  }
  struct State {
    std::atomic<bool> done{false};
    bool ok = false;
    bool eof = false;
    cookie3 cookie = 0;
    char verf[NFS3_COOKIEVERFSIZE] = {};
    std::map<std::string, int>* names = nullptr;
  } state;
  state.names = &names;
  auto cb = [](struct rpc_context*, int status, void* result, void* priv) {
    auto* s = static_cast<State*>(priv);
    auto* res = static_cast<READDIR3res*>(result);
    s->ok = status == RPC_STATUS_SUCCESS && res->status == NFS3_OK;
    if (s->ok) {
      READDIR3resok& ok = res->READDIR3res_u.resok;
      std::memcpy(s->verf, ok.cookieverf, NFS3_COOKIEVERFSIZE);
      for (entry3* e = ok.reply.entries; e != nullptr; e = e->nextentry) {
        (*s->names)[e->name]++;
        s->cookie = e->cookie;
      }
      s->eof = ok.reply.eof != 0;
    }
    s->done = true;
  };
  bool ok = true;
  int calls = 0;
  while (ok && !state.eof && calls < 100000) {
    READDIR3args args{};
    args.dir = Fh3Of(fh);
    args.cookie = state.cookie;
    std::memcpy(args.cookieverf, state.verf, NFS3_COOKIEVERFSIZE);
    args.count = 2048;
    state.done = false;
    ok = c.Raw([&](rpc_context* rpc) { return rpc_nfs3_readdir_async(rpc, cb, &args, &state); },
               state.done) &&
         state.ok;
    ++calls;
  }
  nfs_close(c.get(), fh);
  return ok && state.eof;
}

// A complete listing with libnfs's opendir (READDIRPLUS).
bool ListReaddirplus(Client& c, const std::string& dir, std::map<std::string, int>& names) {
  struct nfsdir* d = nullptr;
  if (nfs_opendir(c.get(), dir.c_str(), &d) != 0) {
    std::printf("FAIL: opendir %s: %s\n", dir.c_str(), c.error());
    return false;
  }
  while (struct nfsdirent* e = nfs_readdir(c.get(), d)) names[e->name]++;
  nfs_closedir(c.get(), d);
  return true;
}

std::uint64_t Fnv(const std::string& s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char ch : s) h = (h ^ static_cast<unsigned char>(ch)) * 0x100000001b3ULL;
  return h;
}

void Section(const char* name) {
  std::printf("-- %s\n", name);
  std::fflush(stdout);
}

void RunPosix(const std::string& host, int port) {
  Client root(host, port);
  nfs_context* n = root.get();
  const unsigned seed = std::random_device{}();
  std::printf("seed %u\n", seed);
  std::mt19937_64 rng(seed);
  const std::string top = "/posix-" + std::to_string(seed);
  EXPECT_EQ(nfs_mkdir(n, top.c_str()), 0);
  EXPECT_EQ(nfs_chmod(n, top.c_str(), 0777), 0);

  Section("create, write, read, stat");
  {
    const std::string p = top + "/hello.txt";
    EXPECT_EQ(root.WriteFile(p, "hello, nfs\n"), 0);
    EXPECT(root.ReadFile(p) == "hello, nfs\n");
    int err = 0;
    struct nfs_stat_64 st = root.Stat(p, &err);
    EXPECT_EQ(err, 0);
    EXPECT_EQ(st.nfs_size, 11u);
    EXPECT(S_ISREG(st.nfs_mode));
    EXPECT_EQ(st.nfs_mode & 07777, 0644u);
    EXPECT_EQ(st.nfs_nlink, 1u);
    struct nfsfh* fh = nullptr;
    EXPECT_EQ(nfs_create(n, p.c_str(), O_WRONLY | O_EXCL, 0644, &fh), -EEXIST);
    root.Stat(top + "/missing", &err);
    EXPECT_EQ(err, -ENOENT);
    EXPECT_EQ(nfs_mkdir(n, (top + "/hello.txt/sub").c_str()), -ENOTDIR);
  }

  Section("chmod and chown as root and as a user");
  {
    Client alice(host, port, 1000, 1000);
    Client bob(host, port, 1001, 1001);
    const std::string p = top + "/alice.txt";
    EXPECT_EQ(alice.WriteFile(p, "alice's data", 0600), 0);
    int err = 0;
    struct nfs_stat_64 st = root.Stat(p, &err);
    EXPECT_EQ(st.nfs_uid, 1000u);
    EXPECT_EQ(st.nfs_gid, 1000u);
    EXPECT(bob.ReadFile(p, &err).empty());
    EXPECT_EQ(err, -EACCES);
    EXPECT_EQ(nfs_chmod(bob.get(), p.c_str(), 0644), -EPERM);
    EXPECT_EQ(nfs_chmod(alice.get(), p.c_str(), 0644), 0);
    EXPECT(bob.ReadFile(p, &err) == "alice's data");
    EXPECT_EQ(nfs_chown(alice.get(), p.c_str(), 1001, 1000), -EPERM);
    EXPECT_EQ(nfs_chown(n, p.c_str(), 1001, 1001), 0);
    st = root.Stat(p);
    EXPECT_EQ(st.nfs_uid, 1001u);
    EXPECT_EQ(st.nfs_gid, 1001u);
    EXPECT_EQ(nfs_chmod(bob.get(), p.c_str(), 04755), 0);
    EXPECT_EQ(root.Stat(p).nfs_mode & 07777, 04755u);
    // A write by a non-owner clears setuid (ext4's rule).
    EXPECT_EQ(nfs_chmod(bob.get(), p.c_str(), 04777), 0);
    struct nfsfh* fh = nullptr;
    EXPECT_EQ(nfs_open(alice.get(), p.c_str(), O_WRONLY, &fh), 0);
    if (fh) {
      EXPECT_EQ(nfs_pwrite(alice.get(), fh, 0, 1, "A"), 1);
      nfs_close(alice.get(), fh);
    }
    EXPECT_EQ(root.Stat(p).nfs_mode & 07777, 0777u);
    // Sticky directory: others cannot delete what they do not own.
    const std::string sticky = top + "/sticky";
    EXPECT_EQ(nfs_mkdir(n, sticky.c_str()), 0);
    EXPECT_EQ(nfs_chmod(n, sticky.c_str(), 01777), 0);
    EXPECT_EQ(alice.WriteFile(sticky + "/mine", "x"), 0);
    EXPECT_EQ(nfs_unlink(bob.get(), (sticky + "/mine").c_str()), -EPERM);  // as ext4
    EXPECT_EQ(nfs_unlink(alice.get(), (sticky + "/mine").c_str()), 0);
  }

  Section("rename");
  {
    const std::string d = top + "/ren";
    EXPECT_EQ(nfs_mkdir(n, d.c_str()), 0);
    EXPECT_EQ(root.WriteFile(d + "/a", "A"), 0);
    EXPECT_EQ(root.WriteFile(d + "/b", "B"), 0);
    EXPECT_EQ(nfs_rename(n, (d + "/a").c_str(), (d + "/b").c_str()), 0);  // replaces b
    EXPECT(root.ReadFile(d + "/b") == "A");
    int err = 0;
    root.Stat(d + "/a", &err);
    EXPECT_EQ(err, -ENOENT);
    EXPECT_EQ(nfs_mkdir(n, (d + "/dir1").c_str()), 0);
    EXPECT_EQ(nfs_mkdir(n, (d + "/dir2").c_str()), 0);
    EXPECT_EQ(root.WriteFile(d + "/dir2/f", "f"), 0);
    EXPECT_EQ(nfs_rename(n, (d + "/b").c_str(), (d + "/dir1").c_str()), -EISDIR);
    EXPECT_EQ(nfs_rename(n, (d + "/dir1").c_str(), (d + "/b").c_str()), -ENOTDIR);
    const int notempty = nfs_rename(n, (d + "/dir1").c_str(), (d + "/dir2").c_str());
    EXPECT(notempty == -ENOTEMPTY || notempty == -EEXIST);
    EXPECT_EQ(nfs_rename(n, (d + "/dir2").c_str(), (d + "/dir1").c_str()), 0);  // over empty
    EXPECT(root.ReadFile(d + "/dir1/f") == "f");
    EXPECT_EQ(nfs_rename(n, (d + "/dir1").c_str(), (d + "/dir1/sub").c_str()), -EINVAL);
    EXPECT_EQ(nfs_rename(n, (d + "/dir1/f").c_str(), (top + "/moved-f").c_str()), 0);
    EXPECT(root.ReadFile(top + "/moved-f") == "f");
    EXPECT_EQ(root.Stat(d).nfs_nlink, 3u);  // ".", its entry, dir1's ".."
  }

  Section("hard links");
  {
    const std::string a = top + "/link-a", b = top + "/link-b";
    EXPECT_EQ(root.WriteFile(a, "shared"), 0);
    EXPECT_EQ(nfs_link(n, a.c_str(), b.c_str()), 0);
    struct nfs_stat_64 sa = root.Stat(a), sb = root.Stat(b);
    EXPECT_EQ(sa.nfs_ino, sb.nfs_ino);
    EXPECT_EQ(sa.nfs_nlink, 2u);
    EXPECT_EQ(nfs_unlink(n, a.c_str()), 0);
    EXPECT_EQ(root.Stat(b).nfs_nlink, 1u);
    EXPECT(root.ReadFile(b) == "shared");
    EXPECT_EQ(nfs_link(n, top.c_str(), (top + "/dirlink").c_str()), -EPERM);
  }

  Section("symlinks");
  {
    const std::string l = top + "/sym";
    EXPECT_EQ(nfs_symlink(n, "hello.txt", l.c_str()), 0);
    char buf[256] = {};
    EXPECT_EQ(nfs_readlink(n, l.c_str(), buf, sizeof buf), 0);
    EXPECT(std::string(buf) == "hello.txt");
    EXPECT(S_ISLNK(root.Stat(l).nfs_mode));
    EXPECT_EQ(root.Stat(l).nfs_size, 9u);
    EXPECT(root.ReadFile(l) == "hello, nfs\n");  // followed by libnfs
    EXPECT_EQ(nfs_symlink(n, "x", l.c_str()), -EEXIST);
  }

  Section("mknod");
  {
    Client alice(host, port, 1000, 1000);
    const std::string fifo = top + "/fifo";
    EXPECT_EQ(nfs_mknod(alice.get(), fifo.c_str(), S_IFIFO | 0640, 0), 0);
    EXPECT(S_ISFIFO(root.Stat(fifo).nfs_mode));
    EXPECT_EQ(root.Stat(fifo).nfs_uid, 1000u);
    const std::string chr = top + "/chr";
    EXPECT_EQ(nfs_mknod(n, chr.c_str(), S_IFCHR | 0600, static_cast<int>(makedev(1, 5))), 0);
    struct nfs_stat_64 st = root.Stat(chr);
    EXPECT(S_ISCHR(st.nfs_mode));
    EXPECT_EQ(major(st.nfs_rdev), 1u);
    EXPECT_EQ(minor(st.nfs_rdev), 5u);
    EXPECT_EQ(nfs_mknod(alice.get(), (top + "/chr2").c_str(), S_IFCHR | 0600,
                        static_cast<int>(makedev(1, 5))),
              -EPERM);
  }

  Section("large sequential file with checksum");
  {
    const std::string p = top + "/large.bin";
    constexpr std::size_t kChunk = 1 << 20;
    constexpr int kChunks = 24;
    struct nfsfh* fh = nullptr;
    EXPECT_EQ(nfs_create(n, p.c_str(), O_WRONLY, 0644, &fh), 0);
    std::uint64_t sum_written = 0;
    std::string chunk(kChunk, '\0');
    for (int i = 0; i < kChunks && fh; ++i) {
      for (std::size_t j = 0; j < kChunk; j += 8) {
        const std::uint64_t r = rng();
        std::memcpy(&chunk[j], &r, 8);
      }
      sum_written = sum_written * 31 + Fnv(chunk);
      EXPECT_EQ(nfs_pwrite(n, fh, std::uint64_t{kChunk} * static_cast<std::uint64_t>(i), kChunk,
                           chunk.data()),
                static_cast<int>(kChunk));
    }
    if (fh) {
      EXPECT_EQ(nfs_fsync(n, fh), 0);
      nfs_close(n, fh);
    }
    EXPECT_EQ(root.Stat(p).nfs_size, std::uint64_t{kChunk} * kChunks);
    const std::string back = root.ReadFile(p);
    EXPECT_EQ(back.size(), std::size_t{kChunk} * kChunks);
    std::uint64_t sum_read = 0;
    for (std::size_t off = 0; off + kChunk <= back.size(); off += kChunk) {
      sum_read = sum_read * 31 + Fnv(back.substr(off, kChunk));
    }
    EXPECT_EQ(sum_read, sum_written);
  }

  Section("truncate and holes");
  {
    const std::string p = top + "/sparse";
    struct nfsfh* fh = nullptr;
    EXPECT_EQ(nfs_create(n, p.c_str(), O_RDWR, 0644, &fh), 0);
    if (fh) {
      EXPECT_EQ(nfs_pwrite(n, fh, 10 << 20, 4, "tail"), 4);
      EXPECT_EQ(nfs_pwrite(n, fh, 0, 4, "head"), 4);
      nfs_close(n, fh);
    }
    struct nfs_stat_64 st = root.Stat(p);
    EXPECT_EQ(st.nfs_size, (10u << 20) + 4);
    std::string all = root.ReadFile(p);
    EXPECT_EQ(all.size(), (10u << 20) + 4);
    EXPECT(all.substr(0, 4) == "head");
    EXPECT(all.substr(10 << 20) == "tail");
    EXPECT(all.find_first_not_of('\0', 4) == std::size_t{10} << 20);
    EXPECT_EQ(nfs_truncate(n, p.c_str(), 2), 0);
    EXPECT(root.ReadFile(p) == "he");
    EXPECT_EQ(nfs_truncate(n, p.c_str(), 5000), 0);
    all = root.ReadFile(p);
    EXPECT_EQ(all.size(), 5000u);
    EXPECT(all.substr(0, 2) == "he");
    EXPECT(all.find_first_not_of('\0', 2) == std::string::npos);
  }

  Section("a directory of 10,000 entries listed while entries come and go");
  {
    const std::string d = top + "/many";
    EXPECT_EQ(nfs_mkdir(n, d.c_str()), 0);
    constexpr int kEntries = 10000;
    for (int i = 0; i < kEntries; ++i) {
      struct nfsfh* fh = nullptr;
      const std::string p = d + "/f" + std::to_string(i);
      if (nfs_create(n, p.c_str(), O_WRONLY, 0644, &fh) != 0) {
        std::printf("FAIL: create %s: %s\n", p.c_str(), root.error());
        ++failures;
        break;
      }
      nfs_close(n, fh);
    }
    // Another client adds and removes entries of its own the whole time.
    std::atomic<bool> stop{false};
    std::atomic<int> churned{0};
    std::thread churn([&] {
      Client other(host, port);
      int i = 0;
      while (!stop) {
        const std::string p = d + "/churn-" + std::to_string(i);
        struct nfsfh* fh = nullptr;
        if (nfs_create(other.get(), p.c_str(), O_WRONLY, 0644, &fh) == 0) nfs_close(other.get(), fh);
        if (i >= 20) nfs_unlink(other.get(), (d + "/churn-" + std::to_string(i - 20)).c_str());
        ++i;
        churned = i;
      }
    });
    for (int pass = 0; pass < 2; ++pass) {
      std::map<std::string, int> names;
      const bool plus = pass == 1;
      const bool ok = plus ? ListReaddirplus(root, d, names) : ListReaddir(root, d, names);
      EXPECT(ok);
      int originals = 0, duplicates = 0;
      for (const auto& [name, count] : names) {
        if (count != 1) ++duplicates;
        if (name.rfind("f", 0) == 0) ++originals;
      }
      std::printf("%s: %zu names, %d originals, %d duplicated, %d churn operations so far\n",
                  plus ? "READDIRPLUS" : "READDIR", names.size(), originals, duplicates,
                  churned.load());
      EXPECT_EQ(originals, kEntries);
      EXPECT_EQ(duplicates, 0);
      EXPECT_EQ(names.count("."), 1u);
      EXPECT_EQ(names.count(".."), 1u);
    }
    stop = true;
    churn.join();
    EXPECT(churned > 0);
  }

  Section("unstable writes and COMMIT");
  {
    const std::string p = top + "/commit";
    struct nfsfh* fh = nullptr;
    EXPECT_EQ(nfs_create(n, p.c_str(), O_RDWR, 0644, &fh), 0);
    if (fh) {
      WriteOutcome w = RawWrite(root, fh, 0, "unstable data", UNSTABLE);
      EXPECT(w.ok);
      EXPECT_EQ(w.committed, static_cast<int>(UNSTABLE));
      WriteOutcome c = RawCommit(root, fh);
      EXPECT(c.ok);
      EXPECT(c.verf == w.verf);
      WriteOutcome s = RawWrite(root, fh, 13, "+sync", FILE_SYNC);
      EXPECT_EQ(s.committed, static_cast<int>(FILE_SYNC));
      EXPECT(s.verf == w.verf);
      nfs_close(n, fh);
    }
    EXPECT(root.ReadFile(p) == "unstable data+sync");
  }
}

int Durability(const std::string& mode, const std::string& host, int port,
               const std::vector<std::string>& args) {
  Client c(host, port);
  if (mode == "cat") {
    int err = 0;
    const std::string data = c.ReadFile(args.at(0), &err);
    if (err != 0) {
      std::printf("FAIL: reading %s: %d\n", args.at(0).c_str(), err);
      return 1;
    }
    std::fwrite(data.data(), 1, data.size(), stdout);
    return 0;
  }
  struct nfsfh* fh = nullptr;
  if (mode == "verifier") {
    if (nfs_open(c.get(), args.at(0).c_str(), O_RDWR, &fh) != 0) {
      std::printf("FAIL: open %s: %s\n", args.at(0).c_str(), c.error());
      return 1;
    }
    WriteOutcome v = RawCommit(c, fh);
    nfs_close(c.get(), fh);
    if (!v.ok) return 1;
    std::printf("verifier %s\n", v.verf.c_str());
    return 0;
  }
  if (nfs_create(c.get(), args.at(0).c_str(), O_RDWR | O_TRUNC, 0644, &fh) != 0) {
    std::printf("FAIL: create %s: %s\n", args.at(0).c_str(), c.error());
    return 1;
  }
  WriteOutcome w = RawWrite(c, fh, 0, args.at(1), UNSTABLE);
  if (!w.ok || w.committed != UNSTABLE) {
    std::printf("FAIL: unstable write: ok=%d committed=%d\n", w.ok, w.committed);
    return 1;
  }
  std::printf("verifier %s\n", w.verf.c_str());
  if (mode == "commit") {
    WriteOutcome v = RawCommit(c, fh);
    if (!v.ok) return 1;
    std::printf("verifier %s\n", v.verf.c_str());
  }
  // No close: libnfs would COMMIT nothing anyway, but the point is that nothing else runs.
  std::fflush(stdout);
  std::_Exit(0);
}

int SmallFiles(const std::string& host, int port, const std::string& dir, int count, int size) {
  Client c(host, port);
  nfs_mkdir(c.get(), dir.c_str());
  const std::string data(static_cast<std::size_t>(size), 'x');
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < count; ++i) {
    struct nfsfh* fh = nullptr;
    const std::string p = dir + "/f" + std::to_string(i);
    if (nfs_create(c.get(), p.c_str(), O_RDWR | O_TRUNC, 0644, &fh) != 0) {
      std::printf("FAIL: create %s: %s\n", p.c_str(), c.error());
      return 1;
    }
    WriteOutcome w = RawWrite(c, fh, 0, data, UNSTABLE);
    WriteOutcome v = RawCommit(c, fh);
    nfs_close(c.get(), fh);
    if (!w.ok || !v.ok) {
      std::printf("FAIL: write/commit of %s\n", p.c_str());
      return 1;
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("files_per_second %.1f (%d files of %d bytes in %.2f s)\n", count / seconds, count,
              size, seconds);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s posix|unstable|commit|verifier|cat|smallfiles HOST PORT ...\n",
                 argv[0]);
    return 2;
  }
  const std::string mode = argv[1];
  const std::string host = argv[2];
  const int port = std::atoi(argv[3]);
  std::vector<std::string> rest(argv + 4, argv + argc);
  if (mode == "posix") {
    const auto start = std::chrono::steady_clock::now();
    RunPosix(host, port);
    std::printf("%d failures in %.1f s\n", failures,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return failures == 0 ? 0 : 1;
  }
  if (mode == "smallfiles" && rest.size() == 3) {
    return SmallFiles(host, port, rest[0], std::atoi(rest[1].c_str()), std::atoi(rest[2].c_str()));
  }
  if ((mode == "unstable" || mode == "commit") && rest.size() == 2) {
    return Durability(mode, host, port, rest);
  }
  if ((mode == "verifier" || mode == "cat") && rest.size() == 1) {
    return Durability(mode, host, port, rest);
  }
  std::fprintf(stderr, "bad arguments\n");
  return 2;
}
