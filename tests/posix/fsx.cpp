// zerofs-fsx: random reads, writes, truncates, hole punches, fallocates and mmap accesses
// on one file, checked against an in-memory copy. See tests/posix/README.md.
//
// Everything comes from one seeded generator, so a run replays exactly from its seed (and
// --ops/--max-size). Single-threaded.
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <random>
#include <string>
#include <vector>

namespace {

constexpr const char* kUsage =
    "usage: zerofs-fsx [--seed N] [--ops N] [--max-size BYTES] [--no-mmap] FILE\n"
    "       (self-test: --inject-corruption OP flips a byte of FILE before op OP)\n"
    "Applies random reads, writes, truncates, hole punches, fallocates and mmap accesses to\n"
    "FILE (created or truncated) and to an in-memory copy, comparing every read.\n"
    "Defaults: --ops 10000, --max-size 262144, seed from the clock. Exit: 0 ok, 1 mismatch\n"
    "or unexpected error, 2 usage error.\n";

constexpr std::size_t kLogTail = 32;
constexpr std::size_t kMaxIo = 65536;

class Fsx {
 public:
  Fsx(std::string path, std::uint64_t seed, std::uint64_t ops, std::size_t max_size, bool mmap,
      std::uint64_t inject_at)
      : path_(std::move(path)),
        rng_(seed),
        ops_(ops),
        max_size_(max_size),
        use_mmap_(mmap),
        inject_at_(inject_at) {
    page_ = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  }

  int Run() {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) return Die("open " + path_ + ": " + std::strerror(errno));
    for (op_ = 1; op_ <= ops_; ++op_) {
      int ret = Step();
      if (ret != 0) return ret;
      if (op_ % 1000 == 0) {
        int r = CheckWhole("periodic full check");
        if (r != 0) return r;
      }
    }
    int r = Reopen();
    if (r != 0) return r;
    r = CheckWhole("final full check");
    if (r != 0) return r;
    ::close(fd_);
    std::printf(
        "zerofs-fsx: %llu ops ok (%llu reads, %llu writes, %llu truncates, %llu punches, "
        "%llu fallocates, %llu mmap ops, %llu fsyncs, %llu reopens), final size %zu\n",
        static_cast<unsigned long long>(ops_), Ull(reads_), Ull(writes_), Ull(truncates_),
        Ull(punches_), Ull(fallocates_), Ull(mmaps_), Ull(fsyncs_), Ull(reopens_), model_.size());
    return 0;
  }

 private:
  static unsigned long long Ull(std::uint64_t v) { return v; }

  // size_t and uint64_t are the same type on the 64-bit Linux this runs on.
  static_assert(sizeof(std::size_t) == sizeof(std::uint64_t));
  std::uint64_t Below(std::uint64_t n) { return n == 0 ? 0 : rng_() % n; }

  // A length: mostly small, sometimes page-sized multiples, sometimes large.
  std::size_t RandomLength() {
    switch (Below(4)) {
      case 0: return 1 + Below(64);
      case 1: return page_ * (1 + Below(4));
      default: return 1 + Below(std::min(kMaxIo, max_size_));
    }
  }

  std::size_t RandomOffset(std::size_t limit) {
    if (limit == 0) return 0;
    std::size_t off = Below(limit);
    if (Below(4) == 0) off -= off % page_;
    return off;
  }

  void Log(std::string entry) {
    log_.push_back("#" + std::to_string(op_) + " " + entry);
    if (log_.size() > kLogTail) log_.pop_front();
  }

  void PrintLog() {
    std::printf("zerofs-fsx: last %zu operations:\n", log_.size());
    for (const auto& l : log_) std::printf("  %s\n", l.c_str());
  }

  int Die(const std::string& message) {
    std::printf("zerofs-fsx: FAIL at op %llu: %s\n", Ull(op_), message.c_str());
    PrintLog();
    std::fflush(stdout);
    return 1;
  }

  int DieErrno(const std::string& call) { return Die(call + ": " + std::strerror(errno)); }

  static std::string Hex(const unsigned char* p, std::size_t n) {
    std::string out;
    char buf[4];
    for (std::size_t i = 0; i < n; ++i) {
      std::snprintf(buf, sizeof buf, "%02x", p[i]);
      out += buf;
      if (i + 1 < n) out += ' ';
    }
    return out;
  }

  // Compares `got` (read at `off`) with the model; reports the first difference.
  int Compare(const char* what, std::size_t off, const unsigned char* got, std::size_t n) {
    const unsigned char* want = model_.data() + off;
    if (std::memcmp(want, got, n) == 0) return 0;
    std::size_t i = 0;
    while (want[i] == got[i]) ++i;
    std::size_t from = i >= 8 ? i - 8 : 0;
    std::size_t len = std::min<std::size_t>(32, n - from);
    char head[256];
    std::snprintf(head, sizeof head,
                  "%s of [%zu, %zu) differs from the model at offset %zu (file size %zu)", what,
                  off, off + n, off + i, model_.size());
    std::printf("zerofs-fsx: FAIL at op %llu: %s\n", Ull(op_), head);
    std::printf("  bytes from offset %zu:\n  expected %s\n  got      %s\n", off + from,
                Hex(want + from, len).c_str(), Hex(got + from, len).c_str());
    PrintLog();
    std::fflush(stdout);
    return 1;
  }

  int CheckSize(const char* when) {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return DieErrno("fstat");
    if (static_cast<std::size_t>(st.st_size) != model_.size()) {
      return Die(std::string(when) + ": size is " + std::to_string(st.st_size) + ", expected " +
                 std::to_string(model_.size()));
    }
    return 0;
  }

  int CheckWhole(const char* when) {
    int r = CheckSize(when);
    if (r != 0) return r;
    std::vector<unsigned char> buf(model_.size());
    std::size_t done = 0;
    while (done < buf.size()) {
      ssize_t n = ::pread(fd_, buf.data() + done, buf.size() - done, static_cast<off_t>(done));
      if (n < 0) return DieErrno("pread (full check)");
      if (n == 0) return Die(std::string(when) + ": short read at " + std::to_string(done));
      done += static_cast<std::size_t>(n);
    }
    return buf.empty() ? 0 : Compare(when, 0, buf.data(), buf.size());
  }

  int Step() {
    if (op_ == inject_at_) {
      InjectCorruption();
      if (op_ == inject_at_) return CheckWhole("full check after the injection");
    }
    std::uint64_t pick = Below(100);
    if (pick < 25) return Read();
    if (pick < 50) return Write();
    if (pick < 60) return Truncate();
    if (pick < 68) return Punch();
    if (pick < 73) return Fallocate();
    if (pick < 81) return MapRead();
    if (pick < 89) return MapWrite();
    if (pick < 90) return Fsync();
    if (pick < 92) return Reopen();
    return Read();
  }

  // --inject-corruption: flips a byte of the file behind the model's back and checks the
  // whole file at once, so that a run proves the comparison notices (the ctest's self-test).
  void InjectCorruption() {
    if (model_.empty()) {
      ++inject_at_;
      return;
    }
    std::size_t off = model_.size() / 2;
    unsigned char b = static_cast<unsigned char>(model_[off] ^ 0x5a);
    Log("(injected corruption at offset " + std::to_string(off) + ")");
    if (::pwrite(fd_, &b, 1, static_cast<off_t>(off)) != 1) DieErrno("pwrite (injection)");
  }

  int Read() {
    std::size_t size = model_.size();
    std::size_t off = RandomOffset(size + 1024);
    std::size_t len = RandomLength();
    Log("read off=" + std::to_string(off) + " len=" + std::to_string(len));
    ++reads_;
    std::vector<unsigned char> buf(len);
    std::size_t done = 0;
    while (done < len) {
      ssize_t n = ::pread(fd_, buf.data() + done, len - done, static_cast<off_t>(off + done));
      if (n < 0) return DieErrno("pread");
      if (n == 0) break;
      done += static_cast<std::size_t>(n);
    }
    std::size_t expected = off >= size ? 0 : std::min(len, size - off);
    if (done != expected) {
      return Die("pread at " + std::to_string(off) + " returned " + std::to_string(done) +
                 " bytes, expected " + std::to_string(expected));
    }
    return done == 0 ? 0 : Compare("pread", off, buf.data(), done);
  }

  int Write() {
    std::size_t off = RandomOffset(max_size_);
    std::size_t len = std::min(RandomLength(), max_size_ - off);
    if (len == 0) return 0;
    Log("write off=" + std::to_string(off) + " len=" + std::to_string(len) +
        (off > model_.size() ? " (leaves a hole)" : ""));
    ++writes_;
    std::vector<unsigned char> data(len);
    for (auto& b : data) b = static_cast<unsigned char>(rng_());
    std::size_t done = 0;
    while (done < len) {
      ssize_t n = ::pwrite(fd_, data.data() + done, len - done, static_cast<off_t>(off + done));
      if (n <= 0) return DieErrno("pwrite");
      done += static_cast<std::size_t>(n);
    }
    if (model_.size() < off + len) model_.resize(off + len, 0);
    std::copy(data.begin(), data.end(), model_.begin() + static_cast<std::ptrdiff_t>(off));
    return Below(8) == 0 ? CheckSize("after write") : 0;
  }

  int Truncate() {
    std::size_t size = Below(max_size_ + 1);
    if (Below(4) == 0) size -= size % page_;
    Log("truncate from " + std::to_string(model_.size()) + " to " + std::to_string(size));
    ++truncates_;
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return DieErrno("ftruncate");
    model_.resize(size, 0);
    return CheckSize("after ftruncate");
  }

  int Punch() {
    if (!use_falloc_ || model_.empty()) return Read();
    std::size_t off = RandomOffset(model_.size());
    std::size_t len = RandomLength();
    Log("punch hole off=" + std::to_string(off) + " len=" + std::to_string(len));
    if (::fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(off),
                    static_cast<off_t>(len)) != 0) {
      if (errno == EOPNOTSUPP) return FallocUnsupported("fallocate(PUNCH_HOLE|KEEP_SIZE)");
      return DieErrno("fallocate(PUNCH_HOLE|KEEP_SIZE)");
    }
    ++punches_;
    std::size_t end = std::min(off + len, model_.size());
    std::fill(model_.begin() + static_cast<std::ptrdiff_t>(off),
              model_.begin() + static_cast<std::ptrdiff_t>(end), 0);
    return CheckSize("after punching a hole");
  }

  int Fallocate() {
    if (!use_falloc_) return Read();
    std::size_t off = RandomOffset(max_size_);
    std::size_t len = std::min(RandomLength(), max_size_ - off);
    if (len == 0) return 0;
    bool keep = Below(2) == 0;
    Log(std::string("fallocate") + (keep ? "(KEEP_SIZE)" : "") + " off=" + std::to_string(off) +
        " len=" + std::to_string(len));
    if (::fallocate(fd_, keep ? FALLOC_FL_KEEP_SIZE : 0, static_cast<off_t>(off),
                    static_cast<off_t>(len)) != 0) {
      if (errno == EOPNOTSUPP) return FallocUnsupported("fallocate");
      return DieErrno("fallocate");
    }
    ++fallocates_;
    if (!keep && model_.size() < off + len) model_.resize(off + len, 0);
    return CheckSize("after fallocate");
  }

  int FallocUnsupported(const char* call) {
    std::printf(
        "zerofs-fsx: note: %s is not supported here (EOPNOTSUPP); continuing without "
        "fallocate and hole punching\n",
        call);
    use_falloc_ = false;
    return 0;
  }

  // Maps [off, off + len) of the file (off rounded down to a page); returns the pointer to
  // byte `off`, or nullptr with *ret set.
  unsigned char* Map(std::size_t off, std::size_t len, int prot, void** base, std::size_t* map_len,
                     int* ret) {
    std::size_t pg = off - off % page_;
    *map_len = off + len - pg;
    void* p = ::mmap(nullptr, *map_len, prot, MAP_SHARED, fd_, static_cast<off_t>(pg));
    if (p == MAP_FAILED) {
      if (errno == ENODEV || errno == EINVAL) {
        // EINVAL: v9fs without cache=mmap/loose refuses shared mappings of a writable file.
        std::printf(
            "zerofs-fsx: note: shared mappings are refused here (%s); continuing "
            "without mmap\n",
            errno == ENODEV ? "ENODEV" : "EINVAL");
        use_mmap_ = false;
        *ret = 0;
      } else {
        *ret = DieErrno("mmap");
      }
      return nullptr;
    }
    *base = p;
    return static_cast<unsigned char*>(p) + (off - pg);
  }

  int MapRead() {
    if (!use_mmap_ || model_.empty()) return Read();
    std::size_t off = RandomOffset(model_.size());
    std::size_t len = std::min(RandomLength(), model_.size() - off);
    Log("mmap read off=" + std::to_string(off) + " len=" + std::to_string(len));
    void* base = nullptr;
    std::size_t map_len = 0;
    int ret = 0;
    unsigned char* p = Map(off, len, PROT_READ, &base, &map_len, &ret);
    if (p == nullptr) return ret;
    ++mmaps_;
    std::vector<unsigned char> copy(p, p + len);
    ::munmap(base, map_len);
    return Compare("mmap read", off, copy.data(), len);
  }

  int MapWrite() {
    if (!use_mmap_) return Write();
    std::size_t off = RandomOffset(max_size_);
    std::size_t len = std::min(RandomLength(), max_size_ - off);
    if (len == 0) return 0;
    Log("mmap write off=" + std::to_string(off) + " len=" + std::to_string(len) +
        (off + len > model_.size() ? " (grows the file first)" : ""));
    if (off + len > model_.size()) {
      // A mapping cannot extend a file: grow it first, as a program would.
      if (::ftruncate(fd_, static_cast<off_t>(off + len)) != 0) return DieErrno("ftruncate");
      model_.resize(off + len, 0);
    }
    void* base = nullptr;
    std::size_t map_len = 0;
    int ret = 0;
    unsigned char* p = Map(off, len, PROT_READ | PROT_WRITE, &base, &map_len, &ret);
    if (p == nullptr) return ret;
    ++mmaps_;
    for (std::size_t i = 0; i < len; ++i) {
      p[i] = static_cast<unsigned char>(rng_());
      model_[off + i] = p[i];
    }
    // MS_SYNC writes back (slow on a disk); MS_ASYNC for most, which on Linux only marks.
    if (::msync(base, map_len, Below(8) == 0 ? MS_SYNC : MS_ASYNC) != 0) {
      int err = errno;
      ::munmap(base, map_len);
      errno = err;
      return DieErrno("msync");
    }
    ::munmap(base, map_len);
    return CheckSize("after mmap write");
  }

  int Fsync() {
    Log("fsync");
    ++fsyncs_;
    if (::fsync(fd_) != 0) return DieErrno("fsync");
    return 0;
  }

  int Reopen() {
    Log("close and reopen");
    ++reopens_;
    if (::close(fd_) != 0) {
      fd_ = -1;
      return DieErrno("close");
    }
    fd_ = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
    if (fd_ < 0) return DieErrno("open " + path_);
    return CheckSize("after reopening");
  }

  std::string path_;
  std::mt19937_64 rng_;
  std::uint64_t ops_;
  std::size_t max_size_;
  bool use_mmap_;
  bool use_falloc_ = true;
  std::size_t page_ = 4096;
  int fd_ = -1;
  std::uint64_t op_ = 0;

  std::uint64_t inject_at_;  // --inject-corruption; 0: never
  std::vector<unsigned char> model_;
  std::deque<std::string> log_;
  std::uint64_t reads_ = 0, writes_ = 0, truncates_ = 0, punches_ = 0, fallocates_ = 0, mmaps_ = 0,
                fsyncs_ = 0, reopens_ = 0;
};

bool ParseUint(const char* s, unsigned long long* out) {
  if (s == nullptr || *s == '\0' || *s == '-') return false;
  char* end = nullptr;
  errno = 0;
  *out = std::strtoull(s, &end, 10);
  return errno == 0 && *end == '\0';
}

}  // namespace

int main(int argc, char** argv) {
  struct timeval tv {};
  ::gettimeofday(&tv, nullptr);
  unsigned long long seed = static_cast<unsigned long long>(tv.tv_sec) * 1000000ULL +
                            static_cast<unsigned long long>(tv.tv_usec);
  unsigned long long ops = 10000, max_size = 262144;
  unsigned long long inject_at = 0;
  bool mmap = true;
  std::string file;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    unsigned long long* target = nullptr;
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--seed") {
      target = &seed;
    } else if (arg == "--ops") {
      target = &ops;
    } else if (arg == "--max-size") {
      target = &max_size;
    } else if (arg == "--inject-corruption") {
      target = &inject_at;
    } else if (arg == "--no-mmap") {
      mmap = false;
    } else if (!arg.empty() && arg[0] == '-') {
      std::fprintf(stderr, "zerofs-fsx: unknown option '%s'\n%s", arg.c_str(), kUsage);
      return 2;
    } else if (file.empty()) {
      file = arg;
    } else {
      std::fprintf(stderr, "zerofs-fsx: one FILE only\n%s", kUsage);
      return 2;
    }
    if (target != nullptr) {
      if (!ParseUint(value, target)) {
        std::fprintf(stderr, "zerofs-fsx: %s wants a number\n%s", arg.c_str(), kUsage);
        return 2;
      }
      ++i;
    }
  }
  if (file.empty() || max_size == 0 || max_size > (1ULL << 34)) {
    std::fputs(file.empty() ? kUsage : "zerofs-fsx: --max-size must be in [1, 16 GiB]\n", stderr);
    return 2;
  }
  std::printf("zerofs-fsx: seed %llu, ops %llu, max-size %llu, mmap %s\n", seed, ops, max_size,
              mmap ? "on" : "off");
  std::fflush(stdout);
  Fsx fsx(file, seed, ops, static_cast<std::size_t>(max_size), mmap, inject_at);
  return fsx.Run();
}
