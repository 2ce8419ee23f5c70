// ErrnoOr<T>: a value of type T or a Linux errno, the currency of the FUSE client.
//
// The kernel wants an errno for every failed operation and 9P answers failures with one
// (Rlerror), so inside zerofs-mount errors stay errnos from the wire to fuse_reply_err.
// Two values above every real errno mark connection failures that never reach the kernel:
// the retry loop (filesystem.cpp) turns them into a reconnect or, at last, EIO.
//
// Thread-safety: a value type.
#pragma once

#include <cerrno>
#include <optional>
#include <utility>

namespace zerofs::mount {

// The request never left this process (no connection, or the send failed before any byte
// of it was written): resending it cannot run it twice.
inline constexpr int kErrNotSent = 100001;
// The request was sent, then the connection died before its reply: the server may or may
// not have run it.
inline constexpr int kErrLost = 100002;

inline bool IsConnectionError(int err) { return err == kErrNotSent || err == kErrLost; }

template <typename T>
class [[nodiscard]] ErrnoOr {
 public:
  ErrnoOr(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  // An errno; 0 would read as success, so it becomes EIO.
  static ErrnoOr Error(int err) { return ErrnoOr(err != 0 ? err : EIO, 0); }
  bool ok() const { return value_.has_value(); }
  int error() const { return error_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  ErrnoOr(int err, int /*tag*/) : error_(err) {}
  std::optional<T> value_;
  int error_ = 0;
};

// Shorthand for `return Fail(errno)` in functions returning any ErrnoOr<T>.
struct Fail {
  int err;
  template <typename T>
  operator ErrnoOr<T>() const {  // NOLINT(google-explicit-constructor)
    return ErrnoOr<T>::Error(err);
  }
};

}  // namespace zerofs::mount
