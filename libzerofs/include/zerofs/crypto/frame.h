// Sealed frames: the unit of encryption in the bucket.
//
//   frame := nonce[24] || XChaCha20-Poly1305-IETF(body, AAD, nonce, key) (ciphertext || tag[16])
//
// where the body is the codec byte and payload of codec.h. The AAD is built by the caller
// from where the frame belongs (docs/format.md §6.4 and §8.1); the AEAD tag authenticates
// the body and the AAD, so a frame that was tampered with, truncated, or moved to another
// object, position, or inode fails to open. Opening never returns unauthenticated bytes.
//
// OpenFrame is a function from bytes to Result that bounds everything it allocates by the
// caller's `max_data_bytes` (the most the frame's kind may hold).
//
// Thread-safety: all functions may run concurrently.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "zerofs/common/result.h"
#include "zerofs/crypto/codec.h"
#include "zerofs/crypto/key_ring.h"
#include "zerofs/crypto/random.h"

namespace zerofs::crypto {

using NonceView = std::span<const std::uint8_t, format::kNonceBytes>;

// Compresses and seals `data`, appending the frame to `*out` (a fresh random nonce).
// Returns the frame's length in bytes.
std::size_t SealFrame(KeyView key, std::string_view aad, std::string_view data,
                      const CompressionOptions& compression, RandomSource& random,
                      std::string* out);

// As SealFrame, with the caller's nonce. Never reuse a nonce under one key; this exists for
// re-sealing known-answer vectors and the documentation's worked example.
std::size_t SealFrameWithNonce(KeyView key, std::string_view aad, std::string_view data,
                               const CompressionOptions& compression, NonceView nonce,
                               std::string* out);

// Authenticates and decrypts `frame`, then decodes its body. `what` names the object and
// the frame (e.g. "segments/000000000000002a: extent frame 3") and starts every error
// message. A frame longer than `max_data_bytes` + kMaxFrameExpansionBytes, shorter than
// kMinFrameBytes, or failing authentication is kCorruption.
Result<std::string> OpenFrame(KeyView key, std::string_view aad, std::string_view frame,
                              std::size_t max_data_bytes, std::string_view what);

// Only the authentication and decryption step: returns the body (codec byte + payload).
// For fuzzing and tools that inspect codecs.
Result<std::string> OpenFrameBody(KeyView key, std::string_view aad, std::string_view frame,
                                  std::size_t max_body_bytes, std::string_view what);

}  // namespace zerofs::crypto
