#include "zerofs/crypto/secure_bytes.h"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace zerofs::crypto {

Status InitCrypto() {
  static std::once_flag once;
  static int result = -1;
  std::call_once(once, [] { result = sodium_init(); });
  // sodium_init returns 1 when already initialised by someone else in the process.
  if (result < 0) return Status::Internal("libsodium failed to initialise");
  return Status::Ok();
}

SecureBytes::SecureBytes(std::size_t size) {
  if (size == 0) return;
  if (!InitCrypto().ok()) {
    std::fprintf(stderr, "zerofs: libsodium failed to initialise\n");
    std::abort();
  }
  void* p = sodium_malloc(size);
  if (p == nullptr) {
    std::fprintf(stderr, "zerofs: cannot allocate %zu bytes of guarded memory for keys\n", size);
    std::abort();
  }
  data_ = static_cast<std::uint8_t*>(p);
  size_ = size;
  sodium_memzero(data_, size_);
}

SecureBytes::~SecureBytes() {
  Release();
}

SecureBytes::SecureBytes(SecureBytes&& other) noexcept : data_(other.data_), size_(other.size_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

SecureBytes& SecureBytes::operator=(SecureBytes&& other) noexcept {
  if (this != &other) {
    Release();
    data_ = other.data_;
    size_ = other.size_;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

void SecureBytes::MakeReadOnly() {
  if (data_ != nullptr) sodium_mprotect_readonly(data_);
}

void SecureBytes::Release() {
  if (data_ == nullptr) return;
  // sodium_free wipes the buffer (and lifts a read-only protection) before unmapping it.
  sodium_free(data_);
  data_ = nullptr;
  size_ = 0;
}

}  // namespace zerofs::crypto
