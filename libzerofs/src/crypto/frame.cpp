#include "zerofs/crypto/frame.h"

#include <sodium.h>

#include <algorithm>
#include <array>

namespace zerofs::crypto {

static_assert(format::kNonceBytes == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
static_assert(format::kTagBytes == crypto_aead_xchacha20poly1305_ietf_ABYTES);
static_assert(format::kSubkeyBytes == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);

namespace {

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// The body is staged in a per-thread buffer: sealing 32 KiB extents at a high rate should
// not allocate per frame.
std::string& ThreadBodyBuffer() {
  thread_local std::string buffer;
  return buffer;
}

}  // namespace

std::size_t SealFrameWithNonce(KeyView key, std::string_view aad, std::string_view data,
                               const CompressionOptions& compression, NonceView nonce,
                               std::string* out) {
  std::string& body = ThreadBodyBuffer();
  body.clear();
  EncodeBody(data, compression, &body);

  const std::size_t start = out->size();
  const std::size_t frame_bytes = format::kFrameOverheadBytes + body.size();
  out->resize(start + frame_bytes);
  auto* dst = reinterpret_cast<unsigned char*>(out->data() + start);
  std::copy(nonce.begin(), nonce.end(), dst);
  unsigned long long sealed = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(dst + format::kNonceBytes, &sealed, Bytes(body),
                                             body.size(), Bytes(aad), aad.size(), nullptr,
                                             nonce.data(), key.data());
  return frame_bytes;
}

std::size_t SealFrame(KeyView key, std::string_view aad, std::string_view data,
                      const CompressionOptions& compression, RandomSource& random,
                      std::string* out) {
  std::array<std::uint8_t, format::kNonceBytes> nonce{};
  random.Fill(nonce);
  return SealFrameWithNonce(key, aad, data, compression, nonce, out);
}

Result<std::string> OpenFrameBody(KeyView key, std::string_view aad, std::string_view frame,
                                  std::size_t max_body_bytes, std::string_view what) {
  if (frame.size() < format::kMinFrameBytes) {
    return Status::Corruption(std::string(what) + ": frame of " + std::to_string(frame.size()) +
                              " bytes is shorter than the minimum of " +
                              std::to_string(format::kMinFrameBytes));
  }
  const std::size_t body_bytes = frame.size() - format::kFrameOverheadBytes;
  if (body_bytes > max_body_bytes) {
    return Status::Corruption(std::string(what) + ": frame of " + std::to_string(frame.size()) +
                              " bytes is longer than its kind allows");
  }
  ZEROFS_RETURN_IF_ERROR(InitCrypto());
  std::string body(body_bytes, '\0');
  unsigned long long opened = 0;
  const std::string_view sealed = frame.substr(format::kNonceBytes);
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(body.data()), &opened, nullptr, Bytes(sealed),
          sealed.size(), Bytes(aad), aad.size(), Bytes(frame), key.data()) != 0) {
    return Status::Corruption(std::string(what) +
                              ": frame failed authentication (tampered, truncated or "
                              "misplaced)");
  }
  return body;
}

Result<std::string> OpenFrame(KeyView key, std::string_view aad, std::string_view frame,
                              std::size_t max_data_bytes, std::string_view what) {
  ZEROFS_ASSIGN_OR_RETURN(
      std::string body, OpenFrameBody(key, aad, frame, max_data_bytes + format::kCodecBytes, what));
  return DecodeBody(body, max_data_bytes, what);
}

}  // namespace zerofs::crypto
