// BlockDevice: the storage behind one NBD export, a fixed-size array of bytes.
//
// The NBD server translates each transmission request into one call on a BlockDevice and
// the returned Status into an NBD error (see ErrorForStatus in transmission.h). The server
// has already checked every request against Size() and the block sizes in Capabilities(),
// so an implementation may assume 0 < length, offset + length <= Size(), and alignment to
// min_block_bytes; it still must not crash on bad arguments.
//
// Durability (DESIGN §3, honest fsync): Flush() returns OK only when every write that
// completed before the call began is durable; a call with `fua` set returns OK only when
// the data it wrote is durable. A device that cannot make that promise reports an error.
//
// Ownership and thread-safety: devices are shared (std::shared_ptr) between the export
// provider and every connection that opened them, and the server calls them concurrently
// from its worker threads, several requests at a time per connection and from several
// connections at once. Every implementation must therefore be safe for concurrent use
// without external locking. Calls may block (a Flush may wait for an upload); the server
// runs them off its network threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "zerofs/common/result.h"
#include "zerofs/common/status.h"
#include "zerofs/nbd/protocol.h"

namespace zerofs::nbd {

// What a device supports; the server advertises exactly this to clients.
struct BlockDeviceCapabilities {
  bool read_only = false;
  bool can_flush = true;       // Flush() and fua are meaningful (and honest)
  bool can_trim = false;       // Trim() is implemented
  bool can_zero = false;       // WriteZeroes() is implemented
  bool can_fast_zero = false;  // WriteZeroes(fast_zero = true) can succeed
  bool can_cache = false;      // Cache() does something useful
  // Flush and fua on one connection cover writes completed on every other connection to
  // the same device (the cache, if any, is shared). Lets clients use several connections.
  bool can_multi_conn = false;
  bool rotational = false;
  // Block size constraints (proto.md "Block size constraints"): minimum is a power of two
  // <= 64 KiB; preferred a power of two >= max(minimum, 512); maximum a multiple of the
  // minimum. The server never passes a READ/WRITE longer than max_block_bytes.
  std::uint32_t min_block_bytes = 1;
  std::uint32_t preferred_block_bytes = 4096;
  std::uint32_t max_block_bytes = kDefaultMaxBlockBytes;
};

// Checks the block-size rules above; InvalidArgument names the broken rule.
Status ValidateCapabilities(const BlockDeviceCapabilities& caps);

class BlockDevice {
 public:
  virtual ~BlockDevice() = default;

  // Size in bytes. Constant for the lifetime of a connection (read once at handshake).
  virtual std::uint64_t Size() const = 0;
  virtual BlockDeviceCapabilities Capabilities() const = 0;

  // Returns exactly `length` bytes; ranges never written read as zeroes.
  virtual Result<std::string> Read(std::uint64_t offset, std::uint32_t length) = 0;

  virtual Status Write(std::uint64_t offset, std::string_view data, bool fua) = 0;

  // Makes every write completed before this call durable.
  virtual Status Flush() = 0;

  // The range is no longer needed; afterwards it may read as anything until rewritten.
  virtual Status Trim(std::uint64_t offset, std::uint32_t length, bool fua);

  // The range reads as zeroes afterwards. `no_hole`: keep it allocated (no sparse hole).
  // `fast_zero`: fail quickly with NotSupported, changing nothing, unless zeroing is
  // cheaper than writing the same number of zero bytes.
  virtual Status WriteZeroes(std::uint64_t offset, std::uint32_t length, bool no_hole,
                             bool fast_zero, bool fua);

  // A hint that the range will be read soon; OK whether or not anything was prefetched.
  virtual Status Cache(std::uint64_t offset, std::uint32_t length);
};

}  // namespace zerofs::nbd
