#include "file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace zerofs::index {
namespace {

// Closes a file descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Closes now, reporting the error close() may carry.
  int Close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

}  // namespace

Result<std::string> ReadWholeFile(const std::filesystem::path& path, std::uint64_t max_bytes) {
  const std::string what = "read " + path.string();
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return Status::FromErrno(errno, what);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Status::FromErrno(errno, what);
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > max_bytes) {
    return Status::InvalidArgument(what + ": " + std::to_string(size) + " bytes, more than " +
                                   std::to_string(max_bytes));
  }
  std::string data(size, '\0');
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::read(fd.get(), data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, what);
    }
    if (n == 0) return Status::IoError(what + ": file shrank while being read");
    done += static_cast<std::size_t>(n);
  }
  return data;
}

Status WriteFileDurably(const std::filesystem::path& dir, std::string_view name,
                        std::string_view contents) {
  const std::filesystem::path final_path = dir / std::string(name);
  const std::filesystem::path temp_path =
      dir / (std::string(name) + std::string(kRestoreTempSuffix));
  const std::string what = "write " + final_path.string();
  Fd fd(::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.get() < 0) return Status::FromErrno(errno, what);
  std::size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = ::write(fd.get(), contents.data() + done, contents.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::unlink(temp_path.c_str());
      return Status::FromErrno(err, what);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0 || fd.Close() != 0) {
    const int err = errno;
    ::unlink(temp_path.c_str());
    return Status::FromErrno(err, what);
  }
  if (::rename(temp_path.c_str(), final_path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp_path.c_str());
    return Status::FromErrno(err, what);
  }
  return Status::Ok();
}

Status SyncDirectory(const std::filesystem::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return Status::FromErrno(errno, "open directory " + dir.string());
  if (::fsync(fd.get()) != 0) return Status::FromErrno(errno, "fsync directory " + dir.string());
  return Status::Ok();
}

}  // namespace zerofs::index
