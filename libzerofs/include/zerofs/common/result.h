// Result<T>: either a value of type T or a non-OK Status (status.h).
//
// The return type of every fallible function that produces a value. [[nodiscard]] so an
// ignored failure is a warning. Accessing value() of a failed Result is a programmer error
// and aborts (it is checked in every build, since the cost is one branch).
//
//   Result<ObjectInfo> r = store.Head(key);
//   if (!r.ok()) return r.status();
//   use(r->size);
//
// Thread-safety: a value type; distinct objects may be used from distinct threads.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <type_traits>
#include <utility>

#include "zerofs/common/status.h"

namespace zerofs {

template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::remove_cvref_t<T>, Status>,
                "Result<Status> makes no sense; return Status");

 public:
  // Implicit from a value and from a (non-OK) Status, so `return value;` and
  // `return Status::NotFound(...)` both work.
  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (status_.ok()) {
      status_ = Status::Internal("Result constructed from an OK status without a value");
    }
  }
  template <typename U,
            typename = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                        !std::is_same_v<std::remove_cvref_t<U>, T> &&
                                        !std::is_same_v<std::remove_cvref_t<U>, Status> &&
                                        !std::is_same_v<std::remove_cvref_t<U>, Result>>>
  Result(U&& value) : value_(T(std::forward<U>(value))) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return value_.has_value(); }
  // OK when a value is present.
  const Status& status() const { return status_; }

  T& value() & {
    CheckOk();
    return *value_;
  }
  const T& value() const& {
    CheckOk();
    return *value_;
  }
  T&& value() && {
    CheckOk();
    return std::move(*value_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return ok() ? *value_ : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  void CheckOk() const {
    if (!value_.has_value()) {
      std::fprintf(stderr, "zerofs: value() of a failed Result: %s\n",
                   status_.ToString().c_str());
      std::abort();
    }
  }

  std::optional<T> value_;
  Status status_;
};

}  // namespace zerofs

#define ZEROFS_CONCAT_INNER_(a, b) a##b
#define ZEROFS_CONCAT_(a, b) ZEROFS_CONCAT_INNER_(a, b)

// ZEROFS_ASSIGN_OR_RETURN(auto info, store.Head(key));
// Evaluates the Result expression; on failure returns its Status from the enclosing
// function, otherwise moves the value into `lhs`.
#define ZEROFS_ASSIGN_OR_RETURN(lhs, expr) \
  ZEROFS_ASSIGN_OR_RETURN_IMPL_(ZEROFS_CONCAT_(zerofs_result_, __LINE__), lhs, expr)
#define ZEROFS_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()
