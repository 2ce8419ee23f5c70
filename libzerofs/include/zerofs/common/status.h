// Status: the outcome of an operation that returns no value.
//
// Every public function of libzerofs that can fail returns a Status or a Result<T>
// (result.h); exceptions never cross a layer boundary. A Status is either OK or carries a
// code from a deliberately small set, chosen so that the caller can act on it (retry,
// report "not found", stop writing), plus a human-readable message that names what failed
// (an object key, a file, a config key). Messages never contain secrets.
//
// A failure may also carry the POSIX error number it stands for (posix_errno()): the VFS
// sets it on every error it returns (vfs::Error) and protocol servers read it back through
// vfs::ErrnoOf. It is a field, not part of the message: WithContext and copies keep it, and
// no code parses message text to recover it.
//
// Status is a value type: cheap to copy when OK (no allocation), safe to pass between
// threads. It is [[nodiscard]] so that an ignored error is a compiler warning.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace zerofs {

enum class StatusCode : std::uint8_t {
  kOk = 0,
  kNotFound = 1,            // the object, file or key does not exist
  kPreconditionFailed = 2,  // a conditional write lost (If-None-Match / If-Match): 412
  kUnavailable = 3,         // transient: throttling, 5xx, timeout, reset; retrying may succeed
  kPermissionDenied = 4,    // access denied by the store, wrong credentials or password
  kInvalidArgument = 5,     // the caller's input is malformed (bad URL, bad key, bad config)
  kCorruption = 6,          // bytes from the bucket, disk or network fail validation
  kIoError = 7,             // a local I/O error
  kNoSpace = 8,             // a local disk or quota is full
  kNotSupported = 9,        // the store or build lacks a needed feature
  kAlreadyExists = 10,      // something that must be created fresh exists already
  kCancelled = 11,          // the operation was abandoned (shutdown, fenced writer)
  kInternal = 12,           // anything else; the message says what
};

// The stable lower-case name of a code, e.g. "not found".
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  // A failure that stands for `posix_errno` (a positive Linux errno; 0: none).
  Status(StatusCode code, std::string message, int posix_errno)
      : code_(code),
        message_(std::move(message)),
        posix_errno_(code == StatusCode::kOk ? 0 : posix_errno) {}

  static Status Ok() { return {}; }
  static Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status PreconditionFailed(std::string msg) {
    return {StatusCode::kPreconditionFailed, std::move(msg)};
  }
  static Status Unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }
  static Status PermissionDenied(std::string msg) {
    return {StatusCode::kPermissionDenied, std::move(msg)};
  }
  static Status InvalidArgument(std::string msg) {
    return {StatusCode::kInvalidArgument, std::move(msg)};
  }
  static Status Corruption(std::string msg) { return {StatusCode::kCorruption, std::move(msg)}; }
  static Status IoError(std::string msg) { return {StatusCode::kIoError, std::move(msg)}; }
  static Status NoSpace(std::string msg) { return {StatusCode::kNoSpace, std::move(msg)}; }
  static Status NotSupported(std::string msg) {
    return {StatusCode::kNotSupported, std::move(msg)};
  }
  static Status AlreadyExists(std::string msg) {
    return {StatusCode::kAlreadyExists, std::move(msg)};
  }
  static Status Cancelled(std::string msg) { return {StatusCode::kCancelled, std::move(msg)}; }
  static Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }

  // A local I/O failure described by errno `err` (ENOSPC/EDQUOT map to kNoSpace,
  // ENOENT to kNotFound, EACCES/EPERM to kPermissionDenied, the rest to kIoError). The
  // errno is named in the message but not recorded as posix_errno(): a failure of the
  // server's own files (cache, store directory) is not the answer to a client's request.
  static Status FromErrno(int err, std::string_view what);

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // The POSIX error this failure stands for, 0 if none was recorded (always 0 when OK).
  int posix_errno() const { return posix_errno_; }

  bool IsNotFound() const { return code_ == StatusCode::kNotFound; }
  bool IsPreconditionFailed() const { return code_ == StatusCode::kPreconditionFailed; }
  // Transient failures that a bounded retry with backoff may overcome.
  bool IsRetryable() const { return code_ == StatusCode::kUnavailable; }

  // Returns a copy whose message is "<context>: <message>", with the same code and
  // posix_errno(); OK stays OK.
  Status WithContext(std::string_view context) const;

  // "not found: segments/0000000000000001 (NoSuchKey)" or "OK".
  std::string ToString() const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_ && a.posix_errno_ == b.posix_errno_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  int posix_errno_ = 0;
};

inline std::ostream& operator<<(std::ostream& os, const Status& s) { return os << s.ToString(); }

}  // namespace zerofs

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define ZEROFS_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::zerofs::Status zerofs_status_tmp_ = (expr);    \
    if (!zerofs_status_tmp_.ok()) return zerofs_status_tmp_; \
  } while (false)
