// StoreOp: the kinds of request an ObjectStore serves, as wrappers count, meter and
// inject faults into them. DeleteMany is a kDelete request (S3 sends it as one
// DeleteObjects request per 1000 keys).
//
// A plain enum; no state, thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

namespace zerofs::objstore {

enum class StoreOp : std::uint8_t {
  kGet = 0,
  kPut = 1,
  kHead = 2,
  kList = 3,
  kDelete = 4,
};

inline constexpr int kStoreOpCount = 5;

// "GET", "PUT", "HEAD", "LIST", "DELETE": the names S3 pricing and logs use.
constexpr std::string_view StoreOpName(StoreOp op) {
  switch (op) {
    case StoreOp::kGet: return "GET";
    case StoreOp::kPut: return "PUT";
    case StoreOp::kHead: return "HEAD";
    case StoreOp::kList: return "LIST";
    case StoreOp::kDelete: return "DELETE";
  }
  return "?";
}

}  // namespace zerofs::objstore
