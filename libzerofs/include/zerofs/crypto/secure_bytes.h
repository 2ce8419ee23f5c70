// SecureBytes and crypto initialisation: the home of key material in memory.
//
// SecureBytes is a fixed-size byte buffer in memory from sodium_malloc: guard pages around
// it, locked against swapping where the system allows (mlock), and wiped when released.
// Data keys and subkeys live in one; they are never copied into ordinary strings and never
// logged. A SecureBytes can be made read-only once filled (MakeReadOnly), so that a stray
// write elsewhere faults instead of silently changing a key.
//
// InitCrypto() initialises libsodium once per process; every entry point of the crypto layer
// calls it, so users never need to.
//
// Thread-safety: InitCrypto is safe from any thread. A SecureBytes is a move-only value;
// concurrent reads of a read-only buffer are safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "zerofs/common/status.h"

namespace zerofs::crypto {

// Initialises libsodium (once). kInternal if the library cannot start, e.g. no entropy.
Status InitCrypto();

class SecureBytes {
 public:
  SecureBytes() = default;
  // `size` zeroed bytes. Aborts if the guarded allocation fails: key material has nowhere
  // safer to go, and the sizes involved are a few hundred bytes.
  explicit SecureBytes(std::size_t size);
  ~SecureBytes();

  SecureBytes(SecureBytes&& other) noexcept;
  SecureBytes& operator=(SecureBytes&& other) noexcept;
  SecureBytes(const SecureBytes&) = delete;
  SecureBytes& operator=(const SecureBytes&) = delete;

  std::uint8_t* data() { return data_; }
  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::span<std::uint8_t> span() { return {data_, size_}; }
  std::span<const std::uint8_t> span() const { return {data_, size_}; }

  // Forbids writes from now on (mprotect); a later write is a fault, not a silent change.
  void MakeReadOnly();

 private:
  void Release();

  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace zerofs::crypto
