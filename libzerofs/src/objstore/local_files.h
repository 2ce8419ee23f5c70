// POSIX file helpers for LocalStore: an owning file descriptor and EINTR-safe whole-buffer
// I/O. Internal to libzerofs (src/), header-only because only local_store.cpp uses them.
//
// The helpers return an errno value (0 on success) rather than a Status, so that the
// caller can both branch on the exact errno and name the key in the final Status.
//
// Thread-safety: UniqueFd is a value type; the functions keep no state.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string_view>
#include <utility>

namespace zerofs::objstore::local {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() { return std::exchange(fd_, -1); }
  // close(2) errors are ignored: every descriptor whose data matters is fsynced first.
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// openat(2) retried on EINTR; sets *err to errno on failure.
inline UniqueFd OpenAt(int dir_fd, const char* path, int flags, int* err, mode_t mode = 0) {
  for (;;) {
    const int fd = ::openat(dir_fd, path, flags | O_CLOEXEC, mode);
    if (fd >= 0) {
      *err = 0;
      return UniqueFd(fd);
    }
    if (errno != EINTR) {
      *err = errno;
      return UniqueFd();
    }
  }
}

// Writes all of `data` at the current offset.
inline int WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

// Reads up to `len` bytes at `offset` into `buf`, stopping early only at end of file;
// *got is the number of bytes read.
inline int ReadFullAt(int fd, char* buf, std::size_t len, std::uint64_t offset, std::size_t* got) {
  *got = 0;
  while (*got < len) {
    const ssize_t n = ::pread(fd, buf + *got, len - *got, static_cast<off_t>(offset + *got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) break;
    *got += static_cast<std::size_t>(n);
  }
  return 0;
}

inline int Fsync(int fd) {
  while (::fsync(fd) != 0) {
    if (errno != EINTR) return errno;
  }
  return 0;
}

// Modification time in nanoseconds since the epoch.
inline std::int64_t MtimeNs(const struct stat& st) {
  // time_t and the nanosecond field are both 64-bit on the platforms we build for.
  static_assert(sizeof(st.st_mtim.tv_sec) == 8 && sizeof(st.st_mtim.tv_nsec) == 8);
  return st.st_mtim.tv_sec * 1'000'000'000 + st.st_mtim.tv_nsec;
}

}  // namespace zerofs::objstore::local
