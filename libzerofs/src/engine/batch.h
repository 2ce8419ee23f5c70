// Batch: the changes that one segment will carry (docs/engine.md "Write path").
//
// The open batch collects committed transactions; a flush seals it into a segment, after
// which it is immutable until its segment is durable and its journal record is applied to
// the index, when it is dropped. While it lives, reads consult it before the index:
// `kv` answers key lookups (nullopt = deleted) and `extents` answers data reads (nullptr =
// a hole, all zeros).
//
// Thread-safety: none of its own. WritePipeline guards every batch with its mutex until the
// batch is sealed; sealed batches are read-only.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "zerofs/index/journal.h"
#include "zerofs/segment/extent_location.h"

namespace zerofs::engine {

struct ExtentId {
  std::uint64_t inode = 0;
  std::uint64_t index = 0;
  friend auto operator<=>(const ExtentId&, const ExtentId&) = default;
};

using ExtentData = std::shared_ptr<const std::string>;  // nullptr: a hole

struct Batch {
  std::uint64_t number = 0;                              // the BatchNumber of its transactions
  std::uint64_t seq = 0;                                 // set when sealed
  std::vector<index::IndexOp> ops;                       // user ops, in commit order
  std::map<std::string, std::optional<std::string>> kv;  // latest value per key
  std::map<ExtentId, ExtentData> extents;                // latest data per extent
  std::uint64_t data_bytes = 0;                          // bytes held by `extents`
  std::uint64_t journal_bytes = 0;                       // estimate, bounds the record
  std::uint64_t first_change_ms = 0;                     // steady clock, for the interval
  std::chrono::steady_clock::time_point cut_at{};        // when the batch was cut

  // Set by sealing.
  bool sealed = false;
  index::JournalRecord record;  // everything the segment's journal applies
  std::string object;           // the segment bytes (dropped once durable)
  // Where each stored extent's frame landed, for writing its plaintext through to the
  // memory cache once durable (later reads and read-modify-writes then stay local).
  std::vector<std::pair<segment::ExtentLocation, ExtentData>> written;
  bool durable = false;

  bool empty() const { return ops.empty() && extents.empty(); }

  void Put(std::string key, std::string value) {
    kv[key] = value;
    ops.push_back(index::IndexOp::Put(std::move(key), std::move(value)));
  }
  void Delete(std::string key) {
    kv[key] = std::nullopt;
    ops.push_back(index::IndexOp::Delete(std::move(key)));
  }
  void SetExtent(const ExtentId& id, ExtentData data) {
    auto it = extents.find(id);
    if (it != extents.end() && it->second) data_bytes -= it->second->size();
    if (data) data_bytes += data->size();
    extents[id] = std::move(data);
  }
};

using BatchPtr = std::shared_ptr<Batch>;

}  // namespace zerofs::engine
