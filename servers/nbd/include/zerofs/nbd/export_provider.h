// ExportProvider: the set of named exports an NBD server offers.
//
// The server consults the provider on every handshake (NBD_OPT_LIST, NBD_OPT_INFO,
// NBD_OPT_GO, NBD_OPT_EXPORT_NAME) and never caches its answers, so an export created or
// removed while the server runs is visible to the next client without a restart. In the
// volume-backed server each export is a regular file under /.nbd/ in the filesystem; the
// MemoryExportProvider (memory_export_provider.h) holds in-memory devices.
//
// Ownership: Open() hands out a shared_ptr; a connection keeps its device alive until it
// disconnects, even if the export is removed meanwhile.
// Thread-safety: implementations must allow concurrent calls from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "zerofs/common/result.h"
#include "zerofs/nbd/block_device.h"

namespace zerofs::nbd {

struct ExportSummary {
  std::string name;
  std::uint64_t size_bytes = 0;
  std::string description;  // human-readable, may be empty
};

struct OpenedExport {
  std::string name;  // canonical name (differs from the request for the default export)
  std::string description;
  std::shared_ptr<BlockDevice> device;  // never null on success
};

class ExportProvider {
 public:
  virtual ~ExportProvider() = default;

  // Every export, in a stable order.
  virtual Result<std::vector<ExportSummary>> List() = 0;

  // The export called `name`; the empty name selects the default export, if there is one.
  // NotFound when there is no such export.
  virtual Result<OpenedExport> Open(std::string_view name) = 0;
};

}  // namespace zerofs::nbd
