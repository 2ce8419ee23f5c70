// Digests and encodings the S3 protocol needs: SHA-256 and HMAC-SHA256 for Signature V4,
// MD5 for Content-MD5 and etags, hex and base64 to put them in headers.
//
// Thin wrappers over OpenSSL's one-shot functions; stateless and thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace zerofs::objstore::s3 {

using Sha256Digest = std::array<std::uint8_t, 32>;
using Md5Digest = std::array<std::uint8_t, 16>;

Sha256Digest Sha256(std::string_view data);
Sha256Digest HmacSha256(std::string_view key, std::string_view data);
Md5Digest Md5(std::string_view data);

// Lower-case hex, as SigV4 and etags spell digests.
std::string Hex(const std::uint8_t* data, std::size_t size);
template <std::size_t N>
std::string Hex(const std::array<std::uint8_t, N>& digest) {
  return Hex(digest.data(), N);
}

// Standard base64 with padding (Content-MD5).
std::string Base64(const std::uint8_t* data, std::size_t size);
template <std::size_t N>
std::string Base64(const std::array<std::uint8_t, N>& digest) {
  return Base64(digest.data(), N);
}

// The byte string of a digest, to feed into the next HMAC of a key derivation chain.
template <std::size_t N>
std::string_view AsBytes(const std::array<std::uint8_t, N>& digest) {
  return {reinterpret_cast<const char*>(digest.data()), N};
}

}  // namespace zerofs::objstore::s3
