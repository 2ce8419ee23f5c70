// Secret: a string that must never be printed (a password, an S3 secret key).
//
// Streaming a Secret prints "<redacted>"; the only way to the bytes is reveal(), which
// makes every use of the plaintext visible in review. The buffer is wiped on destruction
// and on reassignment. A value type, like std::string, with the same thread-safety.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace zerofs {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  Secret(const Secret& other) : value_(other.value_) {}
  Secret(Secret&& other) noexcept : value_(std::move(other.value_)) { other.Wipe(); }
  Secret& operator=(const Secret& other) {
    if (this != &other) {
      Wipe();
      value_ = other.value_;
    }
    return *this;
  }
  Secret& operator=(Secret&& other) noexcept {
    if (this != &other) {
      Wipe();
      value_ = std::move(other.value_);
      other.Wipe();
    }
    return *this;
  }
  ~Secret() { Wipe(); }

  bool empty() const { return value_.empty(); }
  std::string_view reveal() const { return value_; }

  friend bool operator==(const Secret& a, const Secret& b) { return a.value_ == b.value_; }

 private:
  void Wipe();
  std::string value_;
};

inline std::ostream& operator<<(std::ostream& os, const Secret&) { return os << "<redacted>"; }

}  // namespace zerofs
