// Helpers for tests that run on a real directory: a temporary directory removed at the end
// of the test, a LocalStore that must open, file counting, and child processes (for races
// between processes, writers killed mid-put, and private mount namespaces).
//
// Code run in a child must not use Catch2 macros: it reports through its exit code, and
// the parent checks that. Children end with _exit(), so no destructor of the parent's
// objects runs twice.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "zerofs/objstore/local_store.h"

namespace zerofs::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "zerofs-test-XXXXXX").string();
    const char* made = ::mkdtemp(pattern.data());
    REQUIRE(made != nullptr);
    path_ = made;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::shared_ptr<objstore::LocalStore> OpenOrDie(const std::filesystem::path& root) {
  auto store = objstore::LocalStore::Open(root);
  INFO("LocalStore::Open(" << root << "): " << store.status().ToString());
  REQUIRE(store.ok());
  return *store;
}

// Entries directly in `dir`; 0 when it does not exist.
inline std::size_t CountFiles(const std::filesystem::path& dir) {
  std::error_code ec;
  std::size_t n = 0;
  for (auto it = std::filesystem::directory_iterator(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

// The exit code of a child, or 128 + the signal that killed it.
inline int WaitChild(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Forks; the child runs `fn` and exits with its result (98 if it threw).
inline pid_t StartChild(const std::function<int()>& fn) {
  std::fflush(nullptr);  // or buffered output would be written twice
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int code = 98;
    try {
      code = fn();
    } catch (...) {
    }
    ::_exit(code);
  }
  return pid;
}

inline int RunInChild(const std::function<int()>& fn) {
  return WaitChild(StartChild(fn));
}

// Starts `n` children. Child i runs fn(i, await_start): it prepares, calls await_start(),
// which returns once every child has prepared (or exited), then races. Returns the exit
// codes in child order.
using RaceFn = std::function<int(int index, const std::function<void()>& await_start)>;
inline std::vector<int> RaceInChildren(int n, const RaceFn& fn) {
  int ready[2];  // each child writes one byte when prepared
  int gate[2];   // closed by the parent to release them all
  REQUIRE(::pipe(ready) == 0);
  REQUIRE(::pipe(gate) == 0);
  std::vector<pid_t> pids;
  for (int i = 0; i < n; ++i) {
    pids.push_back(StartChild([&, i] {
      ::close(ready[0]);
      ::close(gate[1]);
      const std::function<void()> await_start = [&] {
        char c = 'r';
        while (::write(ready[1], &c, 1) < 0 && errno == EINTR) {
        }
        ::close(ready[1]);
        // End of file once the parent closes the only other write end.
        while (::read(gate[0], &c, 1) < 0 && errno == EINTR) {
        }
      };
      return fn(i, await_start);
    }));
  }
  ::close(ready[1]);
  ::close(gate[0]);
  // Wait for n bytes, or end of file if some child exited without preparing.
  int prepared = 0;
  while (prepared < n) {
    char buf[64];
    const ssize_t got = ::read(ready[0], buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    prepared += static_cast<int>(got);
  }
  ::close(ready[0]);
  ::close(gate[1]);
  std::vector<int> codes;
  for (pid_t pid : pids) codes.push_back(WaitChild(pid));
  return codes;
}

}  // namespace zerofs::testing
