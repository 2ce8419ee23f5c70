// MemoryBlockDevice: a sparse BlockDevice held in process memory.
//
// The device is split into 32 KiB chunks (the extent size of the volume format); a chunk
// is allocated on the first write of non-zero bytes into it and freed again when a trim,
// write-zeroes or write leaves it all zero, so memory use tracks the data actually stored.
// It is a real implementation, used by the tests and by `zerofs-nbd --memory` for demos:
// Flush and FUA succeed immediately because there is nothing more durable to reach
// (memory exports vanish with the process, which --help says).
//
// Thread-safety: safe for concurrent use; reads share a lock, writes take it exclusively.
// The counters are for tests and statistics.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "zerofs/nbd/block_device.h"

namespace zerofs::nbd {

struct MemoryDeviceOptions {
  bool read_only = false;
  // Smallest addressable unit advertised to clients (a power of two, at most 64 KiB).
  std::uint32_t min_block_bytes = 1;
  // false models a backend whose zeroing costs as much as writing: WriteZeroes with
  // fast_zero fails with NotSupported (NBD_ENOTSUP) and leaves the data alone.
  bool fast_zero = true;
};

class MemoryBlockDevice final : public BlockDevice {
 public:
  static constexpr std::uint32_t kChunkBytes = 32 * 1024;

  // `size_bytes` may be any value up to 2^63; nothing is allocated up front.
  static Result<std::shared_ptr<MemoryBlockDevice>> Create(std::uint64_t size_bytes,
                                                           MemoryDeviceOptions options = {});

  MemoryBlockDevice(std::uint64_t size_bytes, MemoryDeviceOptions options);

  std::uint64_t Size() const override { return size_bytes_; }
  BlockDeviceCapabilities Capabilities() const override;
  Result<std::string> Read(std::uint64_t offset, std::uint32_t length) override;
  Status Write(std::uint64_t offset, std::string_view data, bool fua) override;
  Status Flush() override;
  Status Trim(std::uint64_t offset, std::uint32_t length, bool fua) override;
  Status WriteZeroes(std::uint64_t offset, std::uint32_t length, bool no_hole, bool fast_zero,
                     bool fua) override;
  Status Cache(std::uint64_t offset, std::uint32_t length) override;

  // Bytes of chunk memory currently allocated (a multiple of kChunkBytes).
  std::uint64_t StoredBytes() const;
  std::uint64_t flush_count() const { return flushes_.load(std::memory_order_relaxed); }
  std::uint64_t fua_count() const { return fuas_.load(std::memory_order_relaxed); }

 private:
  using Chunk = std::unique_ptr<char[]>;

  Status CheckRange(std::uint64_t offset, std::uint64_t length, bool writing) const;
  // Zeroes [offset, offset + length); frees chunks that end up all zero. Needs mu_ held.
  void ZeroRangeLocked(std::uint64_t offset, std::uint64_t length);
  void CountFua(bool fua);

  const std::uint64_t size_bytes_;
  const MemoryDeviceOptions options_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::uint64_t, Chunk> chunks_;  // GUARDED_BY(mu_); key: chunk index
  std::atomic<std::uint64_t> flushes_{0};
  std::atomic<std::uint64_t> fuas_{0};
};

}  // namespace zerofs::nbd
