// Helpers for the collector's tests: the usage/extent-map invariant and file checksums.
#pragma once

#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "engine_test_support.h"
#include "zerofs/engine/chain_format.h"
#include "zerofs/format.h"
#include "zerofs/index/keys.h"
#include "zerofs/index/records.h"
#include "zerofs/segment/extent_location.h"

namespace zerofs::testing {

// Every segment's usage record says exactly what the extent map points at in it: live
// bytes are the sealed bytes, live extents the count, of the map's entries for that seq.
// This is what "every path that drops data debits live bytes" means.
inline void CheckUsageMatchesExtentMap(engine::Volume& v) {
  REQUIRE(v.SyncAll().ok());
  std::map<std::uint64_t, std::pair<std::uint64_t, std::uint64_t>> from_map;
  REQUIRE(v.Scan(index::TablePrefix(index::IndexTable::kExtent), {},
                 [&](std::string_view, std::string_view value) {
                   auto loc = segment::DecodeExtentLocation(value);
                   REQUIRE(loc.ok());
                   from_map[loc->seq].first += loc->sealed_length;
                   from_map[loc->seq].second += 1;
                   return true;
                 })
              .ok());
  std::map<std::uint64_t, index::SegmentUsage> usage;
  REQUIRE(v.Scan(index::TablePrefix(index::IndexTable::kSegmentUsage), {},
                 [&](std::string_view key, std::string_view value) {
                   auto seq = index::DecodeSegmentUsageKey(key);
                   auto u = index::DecodeSegmentUsage(value);
                   REQUIRE(seq.ok());
                   REQUIRE(u.ok());
                   usage[*seq] = *u;
                   return true;
                 })
              .ok());
  for (const auto& [seq, u] : usage) {
    INFO("segment " << seq);
    const auto it = from_map.find(seq);
    const std::uint64_t bytes = it == from_map.end() ? 0 : it->second.first;
    const std::uint64_t extents = it == from_map.end() ? 0 : it->second.second;
    CHECK(u.live_bytes == bytes);
    CHECK(u.live_extents == extents);
  }
  for (const auto& [seq, counts] : from_map) {
    INFO("segment " << seq << " is referenced by the extent map");
    CHECK(usage.contains(seq));
  }
}

inline std::size_t StoredExtents(engine::Volume& v, std::uint64_t ino) {
  std::size_t n = 0;
  REQUIRE(v.Scan(index::ExtentPrefix(ino), {}, [&](std::string_view, std::string_view) {
             ++n;
             return true;
           }).ok());
  return n;
}

inline bool PendingDrop(engine::Volume& v, std::uint64_t ino) {
  auto value = v.Get(index::MetaKey(format::DropMetaName(ino)));
  REQUIRE(value.ok());
  return value->has_value();
}

inline bool SegmentExists(objstore::ObjectStore& store, std::uint64_t seq) {
  auto head = store.Head(format::SegmentObjectName(seq));
  return head.ok();
}

// Options for collector tests: no background collector, no grace period.
inline engine::VolumeOptions GcTestOptions(std::shared_ptr<objstore::ObjectStore> store,
                                           const std::filesystem::path& cache_dir) {
  engine::VolumeOptions o = TestOptions(std::move(store), cache_dir);
  o.gc.background = false;
  o.gc.deletion_grace = std::chrono::milliseconds(0);
  return o;
}

}  // namespace zerofs::testing
