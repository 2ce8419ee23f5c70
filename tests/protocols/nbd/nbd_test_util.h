// Helpers shared by the NBD tests: parsers for server output and test devices.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "../../support/gate.h"
#include "zerofs/nbd/block_device.h"
#include "zerofs/nbd/codec.h"
#include "zerofs/nbd/memory_block_device.h"

namespace nbdtest {

inline std::uint64_t BigEndian(std::string_view bytes) {
  std::uint64_t v = 0;
  for (char c : bytes) v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}

struct ParsedOptionReply {
  std::uint32_t option = 0;
  std::uint32_t type = 0;
  std::string data;
};

// Splits concatenated option replies; an empty vector if the bytes do not parse exactly.
inline std::vector<ParsedOptionReply> ParseOptionReplies(std::string_view bytes) {
  std::vector<ParsedOptionReply> out;
  while (!bytes.empty()) {
    if (bytes.size() < zerofs::nbd::kOptionReplyHeaderBytes) return {};
    auto h = zerofs::nbd::DecodeOptionReplyHeader(bytes.substr(0, 20));
    if (!h.ok() || bytes.size() < 20 + std::size_t{h->length}) return {};
    out.push_back({h->option, h->type, std::string(bytes.substr(20, h->length))});
    bytes.remove_prefix(20 + std::size_t{h->length});
  }
  return out;
}

struct ParsedChunk {
  std::uint16_t flags = 0;
  std::uint16_t type = 0;
  std::uint64_t cookie = 0;
  std::string payload;
};

inline std::vector<ParsedChunk> ParseChunks(std::string_view bytes) {
  std::vector<ParsedChunk> out;
  while (!bytes.empty()) {
    if (bytes.size() < zerofs::nbd::kChunkHeaderBytes) return {};
    auto h = zerofs::nbd::DecodeChunkHeader(bytes.substr(0, 20));
    if (!h.ok() || bytes.size() < 20 + std::size_t{h->length}) return {};
    out.push_back({h->flags, h->type, h->cookie, std::string(bytes.substr(20, h->length))});
    bytes.remove_prefix(20 + std::size_t{h->length});
  }
  return out;
}

using Gate = zerofs::testing::Gate;

// A memory device whose calls can be held at gates or made to fail, for tests.
class TestDevice : public zerofs::nbd::BlockDevice {
 public:
  explicit TestDevice(std::uint64_t size, zerofs::nbd::MemoryDeviceOptions options = {})
      : inner_(size, options) {}

  Gate* flush_gate = nullptr;  // Flush waits here when set
  Gate* read_gate = nullptr;   // Read waits here when set
  zerofs::Status fail_with;    // every data call fails with it when not OK

  std::uint64_t Size() const override { return inner_.Size(); }
  zerofs::nbd::BlockDeviceCapabilities Capabilities() const override {
    return inner_.Capabilities();
  }
  zerofs::Result<std::string> Read(std::uint64_t offset, std::uint32_t length) override {
    Enter();
    if (read_gate != nullptr) read_gate->Pass();
    Leave();
    if (!fail_with.ok()) return fail_with;
    return inner_.Read(offset, length);
  }
  zerofs::Status Write(std::uint64_t offset, std::string_view data, bool fua) override {
    if (!fail_with.ok()) return fail_with;
    return inner_.Write(offset, data, fua);
  }
  zerofs::Status Flush() override {
    if (flush_gate != nullptr) flush_gate->Pass();
    if (!fail_with.ok()) return fail_with;
    return inner_.Flush();
  }
  zerofs::Status Trim(std::uint64_t offset, std::uint32_t length, bool fua) override {
    if (!fail_with.ok()) return fail_with;
    return inner_.Trim(offset, length, fua);
  }
  zerofs::Status WriteZeroes(std::uint64_t offset, std::uint32_t length, bool no_hole,
                             bool fast_zero, bool fua) override {
    if (!fail_with.ok()) return fail_with;
    return inner_.WriteZeroes(offset, length, no_hole, fast_zero, fua);
  }

  int max_concurrent_reads() {
    std::lock_guard lock(mu_);
    return max_concurrent_;
  }
  zerofs::nbd::MemoryBlockDevice& inner() { return inner_; }

 private:
  void Enter() {
    std::lock_guard lock(mu_);
    ++concurrent_;
    if (concurrent_ > max_concurrent_) max_concurrent_ = concurrent_;
  }
  void Leave() {
    std::lock_guard lock(mu_);
    --concurrent_;
  }

  zerofs::nbd::MemoryBlockDevice inner_;
  std::mutex mu_;
  int concurrent_ = 0;
  int max_concurrent_ = 0;
};

}  // namespace nbdtest
