#include "objstore/s3/digest.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <cstdlib>
#include <span>

#include "zerofs/common/coding.h"

namespace zerofs::objstore::s3 {
namespace {

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

Sha256Digest Sha256(std::string_view data) {
  Sha256Digest out;
  SHA256(Bytes(data), data.size(), out.data());
  return out;
}

Sha256Digest HmacSha256(std::string_view key, std::string_view data) {
  Sha256Digest out;
  unsigned int len = 0;
  // HMAC() only fails on allocation failure or an impossible key length; both are bugs
  // or an exhausted process, not conditions a caller could handle.
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), Bytes(data), data.size(),
           out.data(), &len) == nullptr ||
      len != out.size()) {
    std::abort();
  }
  return out;
}

Md5Digest Md5(std::string_view data) {
  Md5Digest out;
  unsigned int len = 0;
  // The EVP interface, because OpenSSL 3 deprecates MD5(); MD5 here is S3's integrity
  // checksum, not a security primitive.
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_md5(), nullptr) != 1 ||
      len != out.size()) {
    std::abort();
  }
  return out;
}

std::string Hex(const std::uint8_t* data, std::size_t size) {
  return coding::HexEncode(std::span<const std::uint8_t>(data, size));
}

std::string Base64(const std::uint8_t* data, std::size_t size) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((size + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= size; i += 3) {
    const std::uint32_t v = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8) |
                            std::uint32_t{data[i + 2]};
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (size - i == 1) {
    const std::uint32_t v = std::uint32_t{data[i]} << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (size - i == 2) {
    const std::uint32_t v = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

}  // namespace zerofs::objstore::s3
