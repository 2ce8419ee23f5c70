// Default BlockDevice operations and the block-size rules of proto.md.
#include "zerofs/nbd/block_device.h"

#include <string>

namespace zerofs::nbd {
namespace {

bool PowerOfTwo(std::uint32_t v) {
  return v != 0 && (v & (v - 1)) == 0;
}

}  // namespace

Status ValidateCapabilities(const BlockDeviceCapabilities& caps) {
  const std::uint32_t min = caps.min_block_bytes;
  const std::uint32_t preferred = caps.preferred_block_bytes;
  const std::uint32_t max = caps.max_block_bytes;
  if (!PowerOfTwo(min) || min > 64 * 1024) {
    return Status::InvalidArgument("minimum block size " + std::to_string(min) +
                                   " is not a power of two up to 64 KiB");
  }
  if (!PowerOfTwo(preferred) || preferred < min || preferred < 512) {
    return Status::InvalidArgument("preferred block size " + std::to_string(preferred) +
                                   " is not a power of two >= max(minimum, 512)");
  }
  if (max < min || max % min != 0) {
    return Status::InvalidArgument("maximum block size " + std::to_string(max) +
                                   " is not a multiple of the minimum " + std::to_string(min));
  }
  return Status::Ok();
}

Status BlockDevice::Trim(std::uint64_t, std::uint32_t, bool) {
  return Status::NotSupported("trim is not supported by this device");
}

Status BlockDevice::WriteZeroes(std::uint64_t, std::uint32_t, bool, bool, bool) {
  return Status::NotSupported("write-zeroes is not supported by this device");
}

Status BlockDevice::Cache(std::uint64_t, std::uint32_t) {
  return Status::Ok();
}

}  // namespace zerofs::nbd
