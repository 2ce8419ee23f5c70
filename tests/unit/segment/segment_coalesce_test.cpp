#include <catch2/catch.hpp>

#include "segment_test_util.h"

using namespace zerofs;
using segment::ExtentLocation;
using segment::PlanReads;

namespace {

ExtentLocation Loc(std::uint64_t seq, std::uint64_t offset, std::uint32_t length) {
  return {seq, offset, length, length, 0};
}

}  // namespace

TEST_CASE("PlanReads joins adjacent frames of one segment") {
  const std::vector<ExtentLocation> locs = {Loc(1, 148, 100), Loc(1, 48, 100), Loc(1, 248, 100)};
  const auto runs = PlanReads(locs, 0, 1 << 20);
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].offset == 48);
  CHECK(runs[0].length == 300);
  CHECK(runs[0].members == std::vector<std::size_t>{1, 0, 2});
}

TEST_CASE("PlanReads respects the gap and size limits and segment boundaries") {
  const std::vector<ExtentLocation> locs = {Loc(1, 48, 100), Loc(1, 1148, 100), Loc(2, 48, 100),
                                            Loc(1, 1248, 100)};
  SECTION("a gap of 1000 bytes splits at max_gap 999 and joins at 1000") {
    CHECK(PlanReads(locs, 999, 1 << 20).size() == 3);
    const auto joined = PlanReads(locs, 1000, 1 << 20);
    REQUIRE(joined.size() == 2);
    CHECK(joined[0].seq == 1);
    CHECK(joined[0].length == 1300);
    CHECK(joined[1].seq == 2);
  }
  SECTION("max_bytes caps a run") {
    const auto runs = PlanReads(locs, 1 << 20, 1199);
    REQUIRE(runs.size() == 3);
    CHECK(runs[0].length == 100);
    CHECK(runs[1].offset == 1148);
    CHECK(runs[1].length == 200);
  }
  SECTION("one frame larger than max_bytes still gets its own run") {
    const auto runs = PlanReads(locs, 0, 10);
    CHECK(runs.size() == 4);
  }
  SECTION("duplicates share a run") {
    const std::vector<ExtentLocation> dup = {Loc(1, 48, 100), Loc(1, 48, 100)};
    const auto runs = PlanReads(dup, 0, 1 << 20);
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].length == 100);
    CHECK(runs[0].members.size() == 2);
  }
  CHECK(PlanReads({}, 0, 100).empty());
}

TEST_CASE("ReadExtents fetches adjacent extents with one GET, in the caller's order") {
  auto store = std::make_shared<testing::CountingStore>();
  auto keys = testing::FixedKeys();
  std::vector<std::string> data;
  for (int i = 0; i < 12; ++i)
    data.push_back(testing::TextLike(32768, static_cast<std::uint32_t>(i)));
  auto written = testing::WriteSegment(*store, keys, 5, data, "j");
  auto more = testing::WriteSegment(*store, keys, 6, {testing::TextLike(4000, 99)}, "j");

  std::vector<segment::ExtentRef> refs;
  for (int i : {3, 0, 2, 1}) refs.push_back(written[static_cast<std::size_t>(i)].ref);
  refs.push_back(more[0].ref);
  segment::SegmentReader reader(store, keys, testing::kTestUuid);
  Result<std::vector<std::string>> got = reader.ReadExtents(refs);
  REQUIRE(got.ok());
  CHECK(store->gets == 2);  // one per segment
  CHECK((*got)[0] == data[3]);
  CHECK((*got)[1] == data[0]);
  CHECK((*got)[3] == data[1]);
  CHECK((*got)[4] == more[0].data);

  SECTION("with no gap allowed, every other extent costs its own GET") {
    segment::SegmentReaderOptions options;
    options.coalesce_max_gap_bytes = 0;
    segment::SegmentReader strict(store, keys, testing::kTestUuid, options);
    std::vector<segment::ExtentRef> sparse;
    for (std::size_t i = 0; i < written.size(); i += 2) sparse.push_back(written[i].ref);
    store->gets = 0;
    Result<std::vector<std::string>> r = strict.ReadExtents(sparse);
    REQUIRE(r.ok());
    CHECK(store->gets == static_cast<int>(sparse.size()));
    // The default gap skips the unwanted frames in between instead.
    store->gets = 0;
    REQUIRE(reader.ReadExtents(sparse).ok());
    CHECK(store->gets == 1);
  }
  SECTION("a damaged extent fails the batch, naming it") {
    std::string bytes = store->inner.Get(format::SegmentObjectName(5))->data;
    const auto& loc = written[2].ref.location;
    bytes[loc.offset + 30] = static_cast<char>(bytes[loc.offset + 30] ^ 4);
    REQUIRE(store->inner.Delete(format::SegmentObjectName(5)).ok());
    REQUIRE(store->inner.Put(format::SegmentObjectName(5), bytes).ok());
    Result<std::vector<std::string>> r = reader.ReadExtents(refs);
    REQUIRE(r.status().code() == StatusCode::kCorruption);
    CHECK_THAT(r.status().message(), Catch::Contains("extent frame 2"));
  }
}
