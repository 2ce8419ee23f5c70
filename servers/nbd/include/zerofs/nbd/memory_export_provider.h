// MemoryExportProvider: a set of named exports held in a map, for tests and demos.
//
// Exports can be added and removed while a server uses the provider; the next handshake
// sees the change. The default export (the empty name) is the first one added that still
// exists. Any BlockDevice can be added, not only MemoryBlockDevice, which lets tests plug
// in slow or failing devices.
//
// ParseMemoryExportSpec turns the `zerofs-nbd --memory` argument into a specification:
//   NAME:SIZE[:OPTION[,OPTION]...]
// SIZE is a byte count with an optional binary suffix K, M, G or T (disk1:256M); OPTIONs
// are `ro` (read-only), `min-block=N` (advertised minimum block size) and `slow-zero`
// (WriteZeroes cannot be fast, so FAST_ZERO requests fail with ENOTSUP).
//
// Thread-safety: every method may be called concurrently from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "zerofs/common/result.h"
#include "zerofs/nbd/export_provider.h"
#include "zerofs/nbd/memory_block_device.h"

namespace zerofs::nbd {

struct MemoryExportSpec {
  std::string name;
  std::uint64_t size_bytes = 0;
  MemoryDeviceOptions options;
};

Result<MemoryExportSpec> ParseMemoryExportSpec(std::string_view text);

// "256M" -> 268435456; suffixes K/M/G/T are powers of 1024. Rejects overflow and junk.
Result<std::uint64_t> ParseByteSize(std::string_view text);

class MemoryExportProvider final : public ExportProvider {
 public:
  // AlreadyExists if the name is taken; InvalidArgument for a name longer than 4096 bytes
  // or containing NUL, or a null device.
  Status Add(std::string name, std::shared_ptr<BlockDevice> device, std::string description = "");
  // Creates a MemoryBlockDevice from a spec and adds it.
  Status AddMemory(const MemoryExportSpec& spec);
  Status Remove(std::string_view name);

  Result<std::vector<ExportSummary>> List() override;
  Result<OpenedExport> Open(std::string_view name) override;

 private:
  struct Entry {
    std::string name;
    std::string description;
    std::shared_ptr<BlockDevice> device;
  };
  std::mutex mu_;
  std::vector<Entry> entries_;  // GUARDED_BY(mu_); in order of addition
};

}  // namespace zerofs::nbd
