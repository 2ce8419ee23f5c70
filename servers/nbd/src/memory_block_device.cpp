// A sparse in-memory BlockDevice; see memory_block_device.h.
#include "zerofs/nbd/memory_block_device.h"

#include <algorithm>
#include <cstring>
#include <mutex>

namespace zerofs::nbd {
namespace {

bool AllZero(const char* p, std::size_t n) {
  return n == 0 || (p[0] == 0 && std::memcmp(p, p + 1, n - 1) == 0);
}

}  // namespace

Result<std::shared_ptr<MemoryBlockDevice>> MemoryBlockDevice::Create(std::uint64_t size_bytes,
                                                                     MemoryDeviceOptions options) {
  if (size_bytes > (std::uint64_t{1} << 63)) {
    return Status::InvalidArgument("memory device size " + std::to_string(size_bytes) +
                                   " exceeds 2^63 bytes");
  }
  BlockDeviceCapabilities probe;
  probe.min_block_bytes = options.min_block_bytes;
  probe.preferred_block_bytes = std::max<std::uint32_t>(4096, options.min_block_bytes);
  ZEROFS_RETURN_IF_ERROR(ValidateCapabilities(probe));
  return std::make_shared<MemoryBlockDevice>(size_bytes, options);
}

MemoryBlockDevice::MemoryBlockDevice(std::uint64_t size_bytes, MemoryDeviceOptions options)
    : size_bytes_(size_bytes), options_(options) {}

BlockDeviceCapabilities MemoryBlockDevice::Capabilities() const {
  BlockDeviceCapabilities caps;
  caps.read_only = options_.read_only;
  caps.can_flush = true;
  caps.can_trim = true;
  caps.can_zero = true;
  caps.can_fast_zero = options_.fast_zero;
  caps.can_cache = true;       // everything is already in memory
  caps.can_multi_conn = true;  // one shared map: every connection sees every write
  caps.min_block_bytes = options_.min_block_bytes;
  caps.preferred_block_bytes = std::max<std::uint32_t>(4096, options_.min_block_bytes);
  caps.max_block_bytes = kDefaultMaxBlockBytes;
  return caps;
}

Status MemoryBlockDevice::CheckRange(std::uint64_t offset, std::uint64_t length,
                                     bool writing) const {
  if (writing && options_.read_only) return Status::PermissionDenied("memory export is read-only");
  if (offset > size_bytes_ || length > size_bytes_ - offset) {
    std::string what = "range " + std::to_string(offset) + "+" + std::to_string(length) +
                       " is beyond the end of the device (" + std::to_string(size_bytes_) + ")";
    return writing ? Status::NoSpace(what) : Status::InvalidArgument(what);
  }
  return Status::Ok();
}

void MemoryBlockDevice::CountFua(bool fua) {
  if (fua) fuas_.fetch_add(1, std::memory_order_relaxed);
}

Result<std::string> MemoryBlockDevice::Read(std::uint64_t offset, std::uint32_t length) {
  ZEROFS_RETURN_IF_ERROR(CheckRange(offset, length, false));
  std::string out(length, '\0');
  std::shared_lock lock(mu_);
  std::uint64_t pos = offset;
  const std::uint64_t end = offset + length;
  while (pos < end) {
    const std::uint64_t index = pos / kChunkBytes;
    const std::uint64_t within = pos % kChunkBytes;
    const std::uint64_t n = std::min<std::uint64_t>(kChunkBytes - within, end - pos);
    auto it = chunks_.find(index);
    if (it != chunks_.end()) {
      std::memcpy(out.data() + (pos - offset), it->second.get() + within, n);
    }
    pos += n;
  }
  return out;
}

Status MemoryBlockDevice::Write(std::uint64_t offset, std::string_view data, bool fua) {
  ZEROFS_RETURN_IF_ERROR(CheckRange(offset, data.size(), true));
  std::unique_lock lock(mu_);
  std::uint64_t pos = offset;
  const std::uint64_t end = offset + data.size();
  while (pos < end) {
    const std::uint64_t index = pos / kChunkBytes;
    const std::uint64_t within = pos % kChunkBytes;
    const std::uint64_t n = std::min<std::uint64_t>(kChunkBytes - within, end - pos);
    const char* src = data.data() + (pos - offset);
    auto it = chunks_.find(index);
    if (AllZero(src, n)) {
      // Zeroes into a hole stay a hole; into a chunk they may empty it.
      if (it != chunks_.end()) {
        std::memset(it->second.get() + within, 0, n);
        if (AllZero(it->second.get(), kChunkBytes)) chunks_.erase(it);
      }
    } else {
      if (it == chunks_.end()) {
        // make_unique<char[]> value-initializes: the new chunk starts as zeroes.
        it = chunks_.emplace(index, std::make_unique<char[]>(kChunkBytes)).first;
      }
      std::memcpy(it->second.get() + within, src, n);
    }
    pos += n;
  }
  CountFua(fua);
  return Status::Ok();
}

Status MemoryBlockDevice::Flush() {
  flushes_.fetch_add(1, std::memory_order_relaxed);
  return Status::Ok();
}

void MemoryBlockDevice::ZeroRangeLocked(std::uint64_t offset, std::uint64_t length) {
  std::uint64_t pos = offset;
  const std::uint64_t end = offset + length;
  while (pos < end) {
    const std::uint64_t index = pos / kChunkBytes;
    const std::uint64_t within = pos % kChunkBytes;
    const std::uint64_t n = std::min<std::uint64_t>(kChunkBytes - within, end - pos);
    auto it = chunks_.find(index);
    if (it != chunks_.end()) {
      if (n == kChunkBytes) {
        chunks_.erase(it);
      } else {
        std::memset(it->second.get() + within, 0, n);
        if (AllZero(it->second.get(), kChunkBytes)) chunks_.erase(it);
      }
    }
    pos += n;
  }
}

Status MemoryBlockDevice::Trim(std::uint64_t offset, std::uint32_t length, bool fua) {
  ZEROFS_RETURN_IF_ERROR(CheckRange(offset, length, true));
  std::unique_lock lock(mu_);
  ZeroRangeLocked(offset, length);  // a trimmed range reads back as zeroes
  CountFua(fua);
  return Status::Ok();
}

Status MemoryBlockDevice::WriteZeroes(std::uint64_t offset, std::uint32_t length, bool no_hole,
                                      bool fast_zero, bool fua) {
  ZEROFS_RETURN_IF_ERROR(CheckRange(offset, length, true));
  if (fast_zero && !options_.fast_zero) {
    return Status::NotSupported("zeroing is not faster than writing on this device");
  }
  // Memory has no provisioning to preserve, so `no_hole` needs nothing extra: a later
  // write into the range cannot fail for lack of space either way.
  static_cast<void>(no_hole);
  std::unique_lock lock(mu_);
  ZeroRangeLocked(offset, length);
  CountFua(fua);
  return Status::Ok();
}

Status MemoryBlockDevice::Cache(std::uint64_t offset, std::uint32_t length) {
  return CheckRange(offset, length, false);
}

std::uint64_t MemoryBlockDevice::StoredBytes() const {
  std::shared_lock lock(mu_);
  return std::uint64_t{chunks_.size()} * kChunkBytes;
}

}  // namespace zerofs::nbd
