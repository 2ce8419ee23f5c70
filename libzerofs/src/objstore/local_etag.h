// Etags of LocalStore objects: a 128-bit BLAKE2b hash of the content (libsodium's
// crypto_generichash) as 32 lower-case hex digits, and its cache in the extended
// attribute user.zerofs.etag.
//
// The attribute holds "<etag> <size> <mtime ns>". Size and mtime tie the cached etag to
// the content it was computed from, so a file rewritten in place behind the store's back
// is rehashed rather than trusted. Objects are never modified in place by the store (a
// put renames a new inode over the key), so the attribute, set on the temporary file
// before the rename, travels with its content.
//
// Internal to LocalStore (header-only, one user). Thread-safety: no shared state.
#pragma once

#include <sodium.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "objstore/local_files.h"
#include "zerofs/common/coding.h"
#include "zerofs/common/result.h"

namespace zerofs::objstore::local {

inline constexpr char kEtagXattr[] = "user.zerofs.etag";
inline constexpr std::size_t kEtagBytes = 16;  // BLAKE2b-128
inline constexpr std::size_t kEtagHexChars = 2 * kEtagBytes;
inline constexpr std::size_t kHashChunkBytes = 1 << 20;

inline std::string Hex(const unsigned char* bytes, std::size_t n) {
  return coding::HexEncode(std::span<const std::uint8_t>(bytes, n));
}

inline std::string EtagOfBytes(std::string_view data) {
  unsigned char hash[kEtagBytes];
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size(), nullptr, 0);
  return Hex(hash, sizeof hash);
}

// Hashes the `size` bytes of the file open as `fd`; `what` names it in errors.
inline Result<std::string> EtagOfFile(int fd, std::uint64_t size, std::string_view what) {
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, kEtagBytes);
  std::vector<char> buf(std::min<std::uint64_t>(size, kHashChunkBytes));
  std::uint64_t offset = 0;
  while (offset < size) {
    std::size_t got = 0;
    const std::size_t want = std::min<std::uint64_t>(buf.size(), size - offset);
    if (int err = ReadFullAt(fd, buf.data(), want, offset, &got)) {
      return Status::FromErrno(err, "cannot read " + std::string(what));
    }
    if (got != want) return Status::IoError(std::string(what) + " shrank while being read");
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(buf.data()), got);
    offset += got;
  }
  unsigned char hash[kEtagBytes];
  crypto_generichash_final(&state, hash, sizeof hash);
  return Hex(hash, sizeof hash);
}

inline std::string EtagRecord(std::string_view etag, const struct stat& st) {
  return std::string(etag) + " " + std::to_string(st.st_size) + " " + std::to_string(MtimeNs(st));
}

// The cached etag of the file open as `fd` with attributes `st`, if present and still
// valid. Sets *err to errno when the attribute cannot be read (ENODATA: none cached).
inline std::optional<std::string> ReadCachedEtag(int fd, const struct stat& st, int* err) {
  *err = 0;
  char buf[128];
  const ssize_t n = ::fgetxattr(fd, kEtagXattr, buf, sizeof buf);
  if (n < 0) {
    *err = errno;
    return std::nullopt;
  }
  const std::string_view record(buf, static_cast<std::size_t>(n));
  if (record.size() <= kEtagHexChars) return std::nullopt;
  const std::string_view etag = record.substr(0, kEtagHexChars);
  if (record != EtagRecord(etag, st)) return std::nullopt;
  return std::string(etag);
}

// Caches `etag` on the file open as `fd`; returns errno or 0.
inline int WriteCachedEtag(int fd, std::string_view etag, const struct stat& st) {
  const std::string record = EtagRecord(etag, st);
  return ::fsetxattr(fd, kEtagXattr, record.data(), record.size(), 0) == 0 ? 0 : errno;
}

}  // namespace zerofs::objstore::local
