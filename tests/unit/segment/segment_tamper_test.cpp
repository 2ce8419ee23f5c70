#include <catch2/catch.hpp>

#include "segment_test_util.h"

using namespace zerofs;
using segment::SegmentReader;
using testing::kTestUuid;

namespace {

constexpr std::uint64_t kSeq = 0x2a;
const std::string kName = format::SegmentObjectName(kSeq);

struct SmallSegment {
  std::shared_ptr<const crypto::KeyRing> keys = testing::FixedKeys();
  std::shared_ptr<objstore::MemoryStore> store = std::make_shared<objstore::MemoryStore>();
  std::vector<testing::WrittenExtent> extents;
  std::string bytes;

  SmallSegment() {
    extents = testing::WriteSegment(*store, keys, kSeq,
                                    {testing::TextLike(300), "short", testing::RandomBytes(64)},
                                    "journal record of the small segment");
    bytes = store->Get(kName)->data;
  }

  void Replace(const std::string& object) {
    REQUIRE(store->Delete(kName).ok());
    REQUIRE(store->Put(kName, object).ok());
  }
};

void RequireCorruption(const Status& status, std::string_view context) {
  INFO(context << ": " << status.ToString());
  REQUIRE(status.code() == StatusCode::kCorruption);
  CHECK_THAT(status.message(), Catch::StartsWith(kName));
}

}  // namespace

TEST_CASE("flipping any byte of a segment is Corruption naming it") {
  SmallSegment seg;
  REQUIRE(segment::VerifySegment(*seg.keys, kTestUuid, kSeq, seg.bytes).ok());
  for (std::size_t i = 0; i < seg.bytes.size(); ++i) {
    std::string bad = seg.bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    Result<segment::SegmentJournal> r = segment::VerifySegment(*seg.keys, kTestUuid, kSeq, bad);
    RequireCorruption(r.status(), "byte " + std::to_string(i));
  }
}

TEST_CASE("the ranged read paths detect a flipped byte in what they read") {
  SmallSegment seg;
  const std::uint64_t journal_start = seg.extents.back().ref.location.end();
  SegmentReader reader(seg.store, seg.keys, kTestUuid);
  // Each position lands in one extent frame, or in journal/directory/footer.
  for (std::size_t i = format::kSegmentHeaderBytes; i < seg.bytes.size(); i += 3) {
    std::string bad = seg.bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x80);
    seg.Replace(bad);
    const std::string where = "byte " + std::to_string(i);
    if (i < journal_start) {
      for (const auto& e : seg.extents) {
        const auto& loc = e.ref.location;
        Result<std::string> data = reader.ReadExtent(e.ref);
        if (i >= loc.offset && i < loc.end()) {
          RequireCorruption(data.status(), where);
          CHECK_THAT(data.status().message(),
                     Catch::Contains("extent frame " + std::to_string(loc.frame_index)));
        } else {
          REQUIRE(data.ok());
          CHECK(*data == e.data);
        }
      }
    } else {
      RequireCorruption(reader.ReadJournal(kSeq).status(), where);
    }
  }
}

TEST_CASE("a truncated or extended segment is Corruption") {
  SmallSegment seg;
  for (std::size_t len = 0; len < seg.bytes.size(); ++len) {
    RequireCorruption(
        segment::VerifySegment(*seg.keys, kTestUuid, kSeq, seg.bytes.substr(0, len)).status(),
        "length " + std::to_string(len));
  }
  SegmentReader reader(seg.store, seg.keys, kTestUuid);
  for (std::size_t cut : {1UL, 79UL, 80UL, 200UL}) {
    seg.Replace(seg.bytes.substr(0, seg.bytes.size() - cut));
    RequireCorruption(reader.ReadMeta(kSeq).status(), "cut " + std::to_string(cut));
  }
  seg.Replace(seg.bytes + "trailing");
  RequireCorruption(reader.ReadMeta(kSeq).status(), "extended");
  RequireCorruption(segment::VerifySegment(*seg.keys, kTestUuid, kSeq, seg.bytes + "x").status(),
                    "extended");
  // An extent location that reaches past the end of a truncated object.
  seg.Replace(seg.bytes.substr(0, 100));
  RequireCorruption(reader.ReadExtent(seg.extents[1].ref).status(), "past the end");
}

TEST_CASE("a frame opens only at its own place: segment, index, inode, extent, volume") {
  SmallSegment seg;
  const testing::WrittenExtent& e = seg.extents[0];
  const std::string frame = seg.bytes.substr(e.ref.location.offset, e.ref.location.sealed_length);
  REQUIRE(segment::OpenExtent(*seg.keys, kTestUuid, e.ref, frame).ok());

  std::vector<std::pair<const char*, segment::ExtentRef>> moved;
  auto ref = e.ref;
  ref.location.seq = kSeq + 1;
  moved.emplace_back("another segment", ref);
  ref = e.ref;
  ref.location.frame_index = 1;
  moved.emplace_back("another frame index", ref);
  ref = e.ref;
  ref.inode += 1;
  moved.emplace_back("another inode", ref);
  ref = e.ref;
  ref.extent_index += 1;
  moved.emplace_back("another extent index", ref);
  for (const auto& [what, r] : moved) {
    INFO(what);
    CHECK(segment::OpenExtent(*seg.keys, kTestUuid, r, frame).status().code() ==
          StatusCode::kCorruption);
  }
  const auto other_volume =
      crypto::VolumeUuid::Parse("00000000-0000-4000-8000-000000000001").value();
  CHECK(segment::OpenExtent(*seg.keys, other_volume, e.ref, frame).status().code() ==
        StatusCode::kCorruption);
  CHECK(segment::OpenExtent(*testing::FixedKeys(3), kTestUuid, e.ref, frame).status().code() ==
        StatusCode::kCorruption);
}

TEST_CASE("frames swapped inside a segment or copied into another are rejected") {
  auto keys = testing::FixedKeys();
  auto store = std::make_shared<objstore::MemoryStore>();
  // Two extents of equal sealed length (incompressible, same size) so a swap keeps offsets.
  auto a = testing::WriteSegment(*store, keys, 1,
                                 {testing::RandomBytes(500, 1), testing::RandomBytes(500, 2)}, "j1",
                                 crypto::CompressionOptions::None());
  auto b = testing::WriteSegment(*store, keys, 2,
                                 {testing::RandomBytes(500, 3), testing::RandomBytes(500, 4)}, "j2",
                                 crypto::CompressionOptions::None());
  const std::string seg1 = store->Get(format::SegmentObjectName(1))->data;
  const std::string seg2 = store->Get(format::SegmentObjectName(2))->data;
  const auto& l0 = a[0].ref.location;
  const auto& l1 = a[1].ref.location;
  REQUIRE(l0.sealed_length == l1.sealed_length);

  std::string swapped = seg1;
  swapped.replace(l0.offset, l0.sealed_length, seg1.substr(l1.offset, l1.sealed_length));
  swapped.replace(l1.offset, l1.sealed_length, seg1.substr(l0.offset, l0.sealed_length));
  CHECK(segment::VerifySegment(*keys, testing::kTestUuid, 1, swapped).status().code() ==
        StatusCode::kCorruption);

  // Segment 2's first frame, spliced into segment 1 at the same place.
  std::string spliced = seg1;
  spliced.replace(l0.offset, l0.sealed_length,
                  seg2.substr(b[0].ref.location.offset, l0.sealed_length));
  CHECK(segment::VerifySegment(*keys, testing::kTestUuid, 1, spliced).status().code() ==
        StatusCode::kCorruption);

  // A whole segment stored under another seq.
  REQUIRE(store->Put(format::SegmentObjectName(3), seg1).ok());
  SegmentReader reader(store, keys, testing::kTestUuid);
  Result<segment::SegmentMeta> meta = reader.ReadMeta(3);
  REQUIRE(meta.status().code() == StatusCode::kCorruption);
  CHECK_THAT(meta.status().message(), Catch::Contains("misplaced"));
  // ... and its extent read through a location claiming seq 3.
  auto ref = a[0].ref;
  ref.location.seq = 3;
  CHECK(reader.ReadExtent(ref).status().code() == StatusCode::kCorruption);
}

TEST_CASE("a segment of another volume or written with other keys is rejected") {
  SmallSegment seg;
  const auto other = crypto::VolumeUuid::Parse("00000000-0000-4000-8000-000000000001").value();
  CHECK(segment::VerifySegment(*seg.keys, other, kSeq, seg.bytes).status().code() ==
        StatusCode::kCorruption);
  CHECK(
      segment::VerifySegment(*testing::FixedKeys(5), kTestUuid, kSeq, seg.bytes).status().code() ==
      StatusCode::kCorruption);
}
