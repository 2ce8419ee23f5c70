// nfs_load: load on an NFSv3 server (zerofs-nfs or any other) through libnfs, one TCP
// connection (nfs_context) and one thread per connection, synchronous libnfs calls.
//
//   small-files  each connection creates --files / N files of --file-size bytes (4 KiB) in a
//                directory of its own: nfs_creat (LOOKUP + CREATE), nfs_pwrite (WRITE
//                UNSTABLE), nfs_close. libnfs (4.x) sends a COMMIT when it closes a handle it
//                wrote through, as a Linux client flushes and COMMITs at close(2), so each
//                file costs one COMMIT; --fsync-before-close adds an explicit nfs_fsync (a
//                second COMMIT, of nothing). Files per second over all connections, p50/p99
//                per file. With --seconds the phase stops at that time instead of at a count.
//   seq-write    each connection writes one file of --mib / N MiB in --io-kib writes, then
//                one nfs_fsync (COMMIT); MB/s over all connections (1 MB = 10^6 bytes).
//   seq-read     each connection reads its file back in --io-kib reads (warm: the server
//                has just written it) and compares every byte with the pattern written.
//
// Every file holds a pattern derived from (connection, file, offset), so a byte of one file
// showing up in another, or at another offset, is a mismatch; small files are read back and
// checked too (untimed). A mismatch or any failed call prints "FAIL:" and the exit status
// is 1. --tamper overwrites one byte of one small and one large file after writing them, to
// show that the check fails (used by the smoke test).
//
//   nfs_load --host 127.0.0.1 --port 2049 --connections 16 --files 4000 --mib 256
//   nfs_load --url-base 'nfs://127.0.0.1/?version=3&nfsport=2049&mountport=2049' ...
#include <fcntl.h>
#include <nfsc/libnfs.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

double Pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(v.size() - 1, i)];
}

// Failures from any thread; the first few are printed, all are counted.
std::atomic<int> failures{0};
std::mutex print_mu;

void Fail(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void Fail(const char* fmt, ...) {
  if (failures.fetch_add(1) >= 20) return;
  std::lock_guard<std::mutex> lock(print_mu);
  std::fputs("FAIL: ", stdout);
  va_list ap;
  va_start(ap, fmt);
  std::vprintf(fmt, ap);
  va_end(ap);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

std::uint64_t SplitMix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// The bytes at [offset, offset + n) of the file (conn, file): 8-byte words, each a hash of
// the stream id and the word's index, so every file and every offset differs.
void Pattern(std::uint32_t conn, std::uint64_t file, std::uint64_t offset, char* out,
             std::size_t n) {
  const std::uint64_t stream = SplitMix((std::uint64_t{conn} << 40) ^ file);
  std::uint64_t word_index = offset / 8;
  std::size_t skip = offset % 8;
  std::size_t done = 0;
  while (done < n) {
    const std::uint64_t w = SplitMix(stream ^ (word_index * 0xd6e8feb86659fd93ULL));
    char bytes[8];
    std::memcpy(bytes, &w, 8);
    const std::size_t take = std::min<std::size_t>(8 - skip, n - done);
    std::memcpy(out + done, bytes + skip, take);
    done += take;
    skip = 0;
    ++word_index;
  }
}

// The first offset where got differs from the pattern, or -1.
long long FirstMismatch(std::uint32_t conn, std::uint64_t file, std::uint64_t offset,
                        const char* got, std::size_t n, std::vector<char>& scratch) {
  scratch.resize(n);
  Pattern(conn, file, offset, scratch.data(), n);
  if (std::memcmp(got, scratch.data(), n) == 0) return -1;
  for (std::size_t i = 0; i < n; ++i) {
    if (got[i] != scratch[i]) return static_cast<long long>(offset + i);
  }
  return -1;
}

constexpr std::uint64_t kLargeFileId = ~std::uint64_t{0};

struct Options {
  std::string url_base;
  std::string host = "127.0.0.1";
  int port = 2049;
  unsigned connections = 1;
  std::uint64_t files = 2000;
  double seconds = 0;
  std::uint64_t file_size = 4096;
  std::uint64_t mib = 256;
  std::uint64_t io_kib = 1024;
  std::string dir;
  bool keep = false;
  bool tamper = false;
  bool fsync_before_close = false;
  int timeout_ms = 60000;
};

// One mounted nfs_context; used by one thread at a time.
class Connection {
 public:
  Connection(const std::string& url, int timeout_ms) {
    nfs_ = nfs_init_context();
    if (nfs_ == nullptr) {
      Fail("nfs_init_context");
      return;
    }
    // Bounds every call, the mount's included: a stuck server fails the run.
    nfs_set_timeout(nfs_, timeout_ms);
    struct nfs_url* parsed = nfs_parse_url_dir(nfs_, url.c_str());
    if (parsed == nullptr) {
      Fail("parsing %s: %s", url.c_str(), nfs_get_error(nfs_));
      return;
    }
    if (nfs_mount(nfs_, parsed->server, parsed->path) != 0) {
      Fail("mounting %s: %s", url.c_str(), nfs_get_error(nfs_));
    } else {
      mounted_ = true;
    }
    nfs_destroy_url(parsed);
  }
  ~Connection() {
    if (nfs_ != nullptr) nfs_destroy_context(nfs_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool mounted() const { return mounted_; }
  nfs_context* get() { return nfs_; }
  const char* error() { return nfs_get_error(nfs_); }

 private:
  nfs_context* nfs_ = nullptr;
  bool mounted_ = false;
};

// Runs body(conn) on one thread per connection, all released at once; returns the wall time
// from the release to the last thread's end.
double RunPhase(std::vector<std::unique_ptr<Connection>>& conns,
                const std::function<void(std::uint32_t, Connection&)>& body) {
  std::atomic<unsigned> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (std::uint32_t c = 0; c < conns.size(); ++c) {
    threads.emplace_back([&, c] {
      ready.fetch_add(1);
      while (!go.load()) std::this_thread::yield();
      body(c, *conns[c]);
    });
  }
  while (ready.load() < conns.size()) std::this_thread::yield();
  const auto start = Clock::now();
  go.store(true);
  for (auto& t : threads) t.join();
  return Seconds(Clock::now() - start);
}

std::string ConnDir(const Options& o, std::uint32_t c) {
  return o.dir + "/c" + std::to_string(c);
}
std::string SmallPath(const Options& o, std::uint32_t c, std::uint64_t i) {
  return ConnDir(o, c) + "/f" + std::to_string(i);
}
std::string LargePath(const Options& o, std::uint32_t c) {
  return o.dir + "/seq-" + std::to_string(c);
}

void Row(const char* name, unsigned conns, std::uint64_t ops, std::uint64_t bytes, double secs,
         double rate, const char* unit, double p50_ms, double p99_ms, const char* check) {
  std::printf("%-12s %5u %9" PRIu64 " %9.1f %8.2f %10.1f %-8s %8.2f %8.2f  %s\n", name, conns, ops,
              static_cast<double>(bytes) / (1 << 20), secs, rate, unit, p50_ms, p99_ms, check);
  std::fflush(stdout);
}

// Reads [0, size) of path and checks it against the pattern of (conn, file).
void ReadAndCheck(Connection& cn, const std::string& path, std::uint32_t conn, std::uint64_t file,
                  std::uint64_t size, std::uint64_t io_bytes, std::vector<double>* lat_ms) {
  struct nfsfh* fh = nullptr;
  if (nfs_open(cn.get(), path.c_str(), O_RDONLY, &fh) != 0) {
    Fail("open %s: %s", path.c_str(), cn.error());
    return;
  }
  std::vector<char> buf(io_bytes);
  std::vector<char> scratch;
  std::uint64_t offset = 0;
  bool reported = false;
  while (offset < size) {
    const std::uint64_t want = std::min(io_bytes, size - offset);
    const auto t = Clock::now();
    const int n = nfs_pread(cn.get(), fh, offset, want, buf.data());
    if (lat_ms != nullptr) lat_ms->push_back(Seconds(Clock::now() - t) * 1e3);
    if (n < 0) {
      Fail("read %s at %" PRIu64 ": %s", path.c_str(), offset, cn.error());
      break;
    }
    if (n == 0) {
      Fail("%s: end of file at %" PRIu64 ", expected %" PRIu64 " bytes", path.c_str(), offset,
           size);
      break;
    }
    const auto got = static_cast<std::size_t>(n);
    const long long bad = FirstMismatch(conn, file, offset, buf.data(), got, scratch);
    if (bad >= 0 && !reported) {
      Fail("%s: data read back differs from what was written, first at byte %lld", path.c_str(),
           bad);
      reported = true;
    }
    offset += got;
  }
  // One more byte must be end of file: the file is not longer than written.
  if (offset == size) {
    char extra;
    const int n = nfs_pread(cn.get(), fh, size, 1, &extra);
    if (n != 0)
      Fail("%s: expected end of file at %" PRIu64 ", read returned %d", path.c_str(), size, n);
  }
  nfs_close(cn.get(), fh);
}

// Overwrites one byte of path at offset (with a value the pattern does not have there).
void Tamper(Connection& cn, const std::string& path, std::uint32_t conn, std::uint64_t file,
            std::uint64_t offset) {
  char b;
  Pattern(conn, file, offset, &b, 1);
  b = static_cast<char>(~b);
  struct nfsfh* fh = nullptr;
  if (nfs_open(cn.get(), path.c_str(), O_WRONLY, &fh) != 0 ||
      nfs_pwrite(cn.get(), fh, offset, 1, &b) != 1 || nfs_fsync(cn.get(), fh) != 0) {
    Fail("tampering with %s: %s", path.c_str(), cn.error());
  }
  if (fh != nullptr) nfs_close(cn.get(), fh);
  std::printf("tamper: overwrote byte %" PRIu64 " of %s\n", offset, path.c_str());
}

int Run(const Options& o) {
  const std::string url =
      !o.url_base.empty() ? o.url_base
                          : "nfs://" + o.host + "/?version=3&nfsport=" + std::to_string(o.port) +
                                "&mountport=" + std::to_string(o.port);
  std::vector<std::unique_ptr<Connection>> conns;
  for (unsigned c = 0; c < o.connections; ++c) {
    conns.push_back(std::make_unique<Connection>(url, o.timeout_ms));
    if (!conns.back()->mounted()) return 1;
  }
  nfs_context* first = conns[0]->get();
  const std::uint64_t io_bytes = o.io_kib * 1024;
  std::printf("nfs_load: %s, %u connections, wtmax %" PRIu64 " rtmax %" PRIu64 ", dir %s\n",
              url.c_str(), o.connections, nfs_get_writemax(first), nfs_get_readmax(first),
              o.dir.c_str());
  std::printf("small-files: per file nfs_creat + nfs_pwrite %" PRIu64 " B%s + nfs_close%s\n",
              o.file_size, o.fsync_before_close ? " + nfs_fsync (COMMIT)" : "",
              o.fsync_before_close ? " (libnfs commits again at close)"
                                   : " (libnfs sends the COMMIT at close, as a Linux client)");
  std::printf("%-12s %5s %9s %9s %8s %10s %-8s %8s %8s  %s\n", "measurement", "conns", "ops", "MiB",
              "seconds", "rate", "unit", "p50_ms", "p99_ms", "check");

  if (nfs_mkdir(first, o.dir.c_str()) != 0) {
    Fail("mkdir %s: %s", o.dir.c_str(), nfs_get_error(first));
    return 1;
  }

  // Small files.
  std::vector<std::uint64_t> created(o.connections, 0);
  if (o.files > 0 || o.seconds > 0) {
    for (std::uint32_t c = 0; c < o.connections; ++c) {
      if (nfs_mkdir(first, ConnDir(o, c).c_str()) != 0) {
        Fail("mkdir %s: %s", ConnDir(o, c).c_str(), nfs_get_error(first));
        return 1;
      }
    }
    std::vector<std::vector<double>> lat(o.connections);
    const std::uint64_t cap_per_conn =
        o.files > 0 ? (o.files + o.connections - 1) / o.connections : ~std::uint64_t{0};
    const auto deadline = o.seconds > 0
                              ? Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                   std::chrono::duration<double>(o.seconds))
                              : Clock::time_point::max();
    const double secs = RunPhase(conns, [&](std::uint32_t c, Connection& cn) {
      std::vector<char> data(o.file_size);
      for (std::uint64_t i = 0; i < cap_per_conn && Clock::now() < deadline; ++i) {
        Pattern(c, i, 0, data.data(), data.size());
        const std::string path = SmallPath(o, c, i);
        const auto t = Clock::now();
        struct nfsfh* fh = nullptr;
        if (nfs_creat(cn.get(), path.c_str(), 0644, &fh) != 0) {
          Fail("creat %s: %s", path.c_str(), cn.error());
          return;
        }
        const int w = nfs_pwrite(cn.get(), fh, 0, data.size(), data.data());
        const int s = w >= 0 && o.fsync_before_close ? nfs_fsync(cn.get(), fh) : 0;
        if (w != static_cast<int>(data.size()) || s != 0) {
          Fail("write+fsync %s (write returned %d): %s", path.c_str(), w, cn.error());
          nfs_close(cn.get(), fh);
          return;
        }
        if (nfs_close(cn.get(), fh) != 0) {
          Fail("close (COMMIT) %s: %s", path.c_str(), cn.error());
          return;
        }
        lat[c].push_back(Seconds(Clock::now() - t) * 1e3);
        created[c] = i + 1;
      }
    });
    std::uint64_t total = 0;
    std::vector<double> all;
    for (std::uint32_t c = 0; c < o.connections; ++c) {
      total += created[c];
      all.insert(all.end(), lat[c].begin(), lat[c].end());
    }
    if (o.tamper && created[0] > 0) Tamper(*conns[0], SmallPath(o, 0, 0), 0, 0, o.file_size / 2);
    // Untimed: every file holds what was written to it.
    const int before = failures.load();
    RunPhase(conns, [&](std::uint32_t c, Connection& cn) {
      for (std::uint64_t i = 0; i < created[c]; ++i) {
        ReadAndCheck(cn, SmallPath(o, c, i), c, i, o.file_size, o.file_size, nullptr);
      }
    });
    const bool ok = failures.load() == before && total > 0;
    if (total == 0) Fail("no small file was created");
    Row("small-files", o.connections, total, total * o.file_size, secs,
        static_cast<double>(total) / secs, "files/s", Pct(all, 0.5), Pct(all, 0.99),
        ok ? "read back ok" : "MISMATCH");
  }

  // One large file per connection, written then read back.
  if (o.mib > 0) {
    const std::uint64_t per_conn = std::max<std::uint64_t>(1, o.mib / o.connections) << 20;
    const std::uint64_t total = per_conn * o.connections;
    std::vector<std::vector<double>> lat(o.connections);
    const int before_write = failures.load();
    const double wsecs = RunPhase(conns, [&](std::uint32_t c, Connection& cn) {
      const std::string path = LargePath(o, c);
      struct nfsfh* fh = nullptr;
      if (nfs_creat(cn.get(), path.c_str(), 0644, &fh) != 0) {
        Fail("creat %s: %s", path.c_str(), cn.error());
        return;
      }
      std::vector<char> buf(io_bytes);
      for (std::uint64_t off = 0; off < per_conn; off += io_bytes) {
        const std::uint64_t n = std::min(io_bytes, per_conn - off);
        Pattern(c, kLargeFileId, off, buf.data(), n);
        const auto t = Clock::now();
        const int w = nfs_pwrite(cn.get(), fh, off, n, buf.data());
        lat[c].push_back(Seconds(Clock::now() - t) * 1e3);
        if (w != static_cast<int>(n)) {
          Fail("write %s at %" PRIu64 " returned %d: %s", path.c_str(), off, w, cn.error());
          nfs_close(cn.get(), fh);
          return;
        }
      }
      if (nfs_fsync(cn.get(), fh) != 0) Fail("fsync %s: %s", path.c_str(), cn.error());
      if (nfs_close(cn.get(), fh) != 0) Fail("close %s: %s", path.c_str(), cn.error());
    });
    std::vector<double> all;
    for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
    Row("seq-write", o.connections, all.size(), total, wsecs,
        static_cast<double>(total) / 1e6 / wsecs, "MB/s", Pct(all, 0.5), Pct(all, 0.99),
        failures.load() == before_write ? "fsync ok" : "FAILED");
    if (o.tamper) Tamper(*conns[0], LargePath(o, 0), 0, kLargeFileId, per_conn - 1000);

    for (auto& l : lat) l.clear();
    const int before_read = failures.load();
    const double rsecs = RunPhase(conns, [&](std::uint32_t c, Connection& cn) {
      ReadAndCheck(cn, LargePath(o, c), c, kLargeFileId, per_conn, io_bytes, &lat[c]);
    });
    all.clear();
    for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
    Row("seq-read", o.connections, all.size(), total, rsecs,
        static_cast<double>(total) / 1e6 / rsecs, "MB/s", Pct(all, 0.5), Pct(all, 0.99),
        failures.load() == before_read ? "read back ok" : "MISMATCH");
  }

  if (!o.keep) {
    for (std::uint32_t c = 0; c < o.connections; ++c) {
      for (std::uint64_t i = 0; i < created[c]; ++i) {
        nfs_unlink(first, SmallPath(o, c, i).c_str());
      }
      if (o.files > 0 || o.seconds > 0) nfs_rmdir(first, ConnDir(o, c).c_str());
      if (o.mib > 0) nfs_unlink(first, LargePath(o, c).c_str());
    }
    if (nfs_rmdir(first, o.dir.c_str()) != 0) {
      Fail("cleanup: rmdir %s: %s", o.dir.c_str(), nfs_get_error(first));
    }
  }
  const int f = failures.load();
  if (f != 0) std::printf("nfs_load: %d failures\n", f);
  return f == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"Small-file and sequential load on an NFSv3 server through libnfs."};
  app.add_option("--url-base", o.url_base,
                 "libnfs URL of the export, e.g. "
                 "'nfs://127.0.0.1/?version=3&nfsport=2049&mountport=2049' (else --host/--port)");
  app.add_option("--host", o.host, "server address (with --port; MOUNT and NFS on one port)");
  app.add_option("--port", o.port, "server port for MOUNT and NFS");
  app.add_option("--connections", o.connections, "connections, one thread each")
      ->check(CLI::Range(1U, 1024U));
  app.add_option("--files", o.files, "small files in all, split over the connections (0: none)");
  app.add_option("--seconds", o.seconds,
                 "stop the small-file phase after this many seconds (then --files is a cap; "
                 "with --files 0, no cap)");
  app.add_option("--file-size", o.file_size, "bytes per small file")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 20));
  app.add_option("--mib", o.mib, "MiB in all for sequential write and read (0: skip)");
  app.add_option("--io-kib", o.io_kib, "KiB per sequential read/write call")
      ->check(CLI::Range(std::uint64_t{4}, std::uint64_t{16384}));
  app.add_option("--dir", o.dir, "directory to create on the export (default /nfs_load-PID)");
  app.add_flag("--keep", o.keep, "leave the files on the export");
  app.add_flag("--tamper", o.tamper,
               "after writing, change one byte of a small and of a large file (the read-back "
               "check must then fail)");
  app.add_flag("--fsync-before-close", o.fsync_before_close,
               "small files: nfs_fsync before nfs_close (libnfs's close commits as well)");
  app.add_option("--timeout-ms", o.timeout_ms, "libnfs timeout per call");
  CLI11_PARSE(app, argc, argv);
  if (o.dir.empty()) o.dir = "/nfs_load-" + std::to_string(getpid());
  if (o.dir.front() != '/') o.dir = "/" + o.dir;
  if (o.seconds > 0 && app.count("--files") == 0) o.files = 0;
  return Run(o);
}
