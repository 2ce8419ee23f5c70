// Helpers for the segment unit tests: a volume identity, a writer factory and a store that
// counts requests.
#pragma once

#include <atomic>

#include "test_keys.h"
#include "zerofs/objstore/memory_store.h"
#include "zerofs/segment/segment_reader.h"
#include "zerofs/segment/segment_writer.h"

namespace zerofs::testing {

inline const crypto::VolumeUuid kTestUuid =
    crypto::VolumeUuid::Parse("0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f0").value();

// Counts the GETs and HEADs that reach a MemoryStore.
class CountingStore final : public objstore::ObjectStore {
 public:
  std::string Describe() const override { return "counting"; }
  objstore::MemoryStore inner{"counting"};
  std::atomic<int> gets{0};
  std::atomic<int> heads{0};

 protected:
  Result<objstore::GetResult> DoGet(std::string_view key,
                                    std::optional<objstore::ByteRange> range) override {
    ++gets;
    return inner.Get(key, range);
  }
  Result<objstore::ObjectInfo> DoPut(std::string_view key, std::string_view data,
                                     const objstore::PutOptions& options) override {
    return inner.Put(key, data, options);
  }
  Result<objstore::ObjectInfo> DoHead(std::string_view key) override {
    ++heads;
    return inner.Head(key);
  }
  Result<objstore::ListPageResult> DoListPage(std::string_view prefix, std::string_view after,
                                              std::uint32_t max_keys) override {
    return inner.ListPage(prefix, after, max_keys);
  }
  Status DoDelete(std::string_view key) override { return inner.Delete(key); }
};

struct WrittenExtent {
  segment::ExtentRef ref;
  std::string data;
};

// Writes a segment of `extents` data blocks (inode 100 + i, extent index i * 3) and
// `journal`, PUTs it, and returns what was written.
inline std::vector<WrittenExtent> WriteSegment(
    objstore::ObjectStore& store, std::shared_ptr<const crypto::KeyRing> keys, std::uint64_t seq,
    const std::vector<std::string>& extents, std::string_view journal,
    crypto::CompressionOptions compression = {}, std::uint64_t epoch = 1) {
  segment::SegmentWriter writer(keys, kTestUuid, seq, epoch, {compression, nullptr});
  std::vector<WrittenExtent> out;
  for (std::size_t i = 0; i < extents.size(); ++i) {
    auto loc = writer.AddExtent(100 + i, i * 3, extents[i]);
    REQUIRE(loc.ok());
    REQUIRE(loc->has_value());
    out.push_back({{100 + i, i * 3, **loc}, extents[i]});
  }
  Result<std::string> bytes = writer.Finish(journal);
  REQUIRE(bytes.ok());
  REQUIRE(
      store.Put(format::SegmentObjectName(seq), *bytes, objstore::PutOptions::IfNoneMatch()).ok());
  return out;
}

}  // namespace zerofs::testing
