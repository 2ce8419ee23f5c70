#include <catch2/catch.hpp>

#include "segment_test_util.h"

using namespace zerofs;
using segment::SegmentReader;
using segment::SegmentWriter;
using testing::kTestUuid;

TEST_CASE("extents and journal records round-trip through the store") {
  auto store = std::make_shared<objstore::MemoryStore>();
  auto keys = testing::FixedKeys();
  const std::size_t mib = format::kJournalPartBytes;
  std::uint64_t seq = 1;
  for (const crypto::CompressionOptions& compression :
       {crypto::CompressionOptions::None(), crypto::CompressionOptions::Lz4(),
        crypto::CompressionOptions::Zstd(3)}) {
    for (std::size_t journal_size : {0UL, 1UL, 5000UL, mib, 2 * mib + 17}) {
      INFO(crypto::CompressionName(compression) << " journal " << journal_size);
      const std::vector<std::string> extents = {
          "x", testing::TextLike(32768), testing::RandomBytes(32768), testing::TextLike(100, 5),
          std::string(1000, '\0') + "y"};
      const std::string journal = testing::TextLike(journal_size, 9);
      auto written = testing::WriteSegment(*store, keys, seq, extents, journal, compression);
      SegmentReader reader(store, keys, kTestUuid);
      for (const auto& w : written) {
        Result<std::string> data = reader.ReadExtent(w.ref);
        REQUIRE(data.ok());
        CHECK(*data == w.data);
      }
      Result<segment::SegmentJournal> j = reader.ReadJournal(seq);
      REQUIRE(j.ok());
      CHECK(j->record == journal);
      CHECK(j->meta.footer.extent_count == extents.size());
      CHECK(j->meta.footer.writer_epoch == 1);

      const std::string object = store->Get(format::SegmentObjectName(seq))->data;
      std::size_t visited = 0;
      Result<segment::SegmentJournal> verified = segment::VerifySegment(
          *keys, kTestUuid, seq, object, [&](const segment::DirectoryEntry& e, std::string_view d) {
            CHECK(d == written.at(visited).data);
            CHECK(e.inode == written.at(visited).ref.inode);
            ++visited;
            return Status::Ok();
          });
      REQUIRE(verified.ok());
      CHECK(visited == extents.size());
      CHECK(verified->record == journal);
      ++seq;
    }
  }
}

TEST_CASE("a segment may hold no extents (a fence or metadata-only flush)") {
  auto store = std::make_shared<objstore::MemoryStore>();
  auto keys = testing::FixedKeys();
  testing::WriteSegment(*store, keys, 7, {}, "");
  SegmentReader reader(store, keys, kTestUuid);
  Result<segment::SegmentJournal> j = reader.ReadJournal(7);
  REQUIRE(j.ok());
  CHECK(j->record.empty());
  CHECK(j->meta.entries.size() == 1);
  CHECK(j->meta.object_size >= format::kMinSegmentBytes);
  CHECK(j->meta.object_size <= format::kMinSegmentBytes + format::kDirectoryEntryBytes);
}

TEST_CASE("all-zero extents are holes: never stored, reported as such") {
  auto keys = testing::FixedKeys();
  SegmentWriter writer(keys, kTestUuid, 1, 1);
  const std::size_t before = writer.size_bytes();
  for (std::size_t size : {0UL, 1UL, 4096UL, 32768UL}) {
    Result<std::optional<segment::ExtentLocation>> r =
        writer.AddExtent(1, 0, std::string(size, '\0'));
    REQUIRE(r.ok());
    CHECK_FALSE(r->has_value());
  }
  CHECK(writer.size_bytes() == before);
  CHECK(writer.extent_count() == 0);
  // One non-zero byte anywhere makes it data.
  std::string almost(32768, '\0');
  almost[32767] = 1;
  CHECK(writer.AddExtent(1, 0, almost)->has_value());
  CHECK(segment::IsAllZero(std::string(13, '\0')));
  CHECK_FALSE(segment::IsAllZero(std::string(12, '\0') + "\x01"));
}

TEST_CASE("the writer enforces its limits") {
  auto keys = testing::FixedKeys();
  SegmentWriter writer(keys, kTestUuid, 1, 1);
  CHECK(writer.AddExtent(1, 0, std::string(format::kMaxExtentBytes + 1, 'a')).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(writer.Finish(std::string(format::kMaxJournalBytes + 1, 'j')).status().code() ==
        StatusCode::kInvalidArgument);
  REQUIRE(writer.Finish("ok").ok());
  CHECK(writer.AddExtent(1, 0, "late").status().code() == StatusCode::kInvalidArgument);
  CHECK(writer.Finish("again").status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("locations describe exactly one frame each, contiguous after the header") {
  auto keys = testing::FixedKeys();
  SegmentWriter writer(keys, kTestUuid, 0x2a, 3);
  std::uint64_t expected_offset = format::kSegmentHeaderBytes;
  for (std::uint32_t i = 0; i < 10; ++i) {
    auto loc = writer.AddExtent(5, i, testing::TextLike(1000 * (i + 1), i));
    REQUIRE(loc.ok());
    REQUIRE(loc->has_value());
    CHECK((*loc)->seq == 0x2a);
    CHECK((*loc)->frame_index == i);
    CHECK((*loc)->offset == expected_offset);
    CHECK((*loc)->plaintext_length == 1000 * (i + 1));
    expected_offset = (*loc)->end();
    // The 28-byte encoding round-trips.
    const std::string enc = segment::EncodeExtentLocation(**loc);
    CHECK(enc.size() == format::kExtentLocationBytes);
    CHECK(segment::DecodeExtentLocation(enc).value() == **loc);
  }
  CHECK(writer.size_bytes() == expected_offset);
}

TEST_CASE("extent locations that cannot be right are Corruption, not a read") {
  segment::ExtentLocation loc{1, 48, 100, 100, 0};
  CHECK(segment::ValidateExtentLocation(loc, "x").ok());
  for (auto mutate : std::vector<std::function<void(segment::ExtentLocation&)>>{
           [](auto& l) { l.plaintext_length = 0; },
           [](auto& l) { l.plaintext_length = 32769; },
           [](auto& l) { l.sealed_length = 40; },
           [](auto& l) { l.sealed_length = 142; },
           [](auto& l) { l.offset = 47; },
           [](auto& l) { l.offset = ~0ULL - 10; },
       }) {
    segment::ExtentLocation bad = loc;
    mutate(bad);
    CHECK(segment::ValidateExtentLocation(bad, "x").code() == StatusCode::kCorruption);
    CHECK(segment::DecodeExtentLocation(segment::EncodeExtentLocation(bad)).status().code() ==
          StatusCode::kCorruption);
  }
  CHECK(segment::DecodeExtentLocation("short").status().code() == StatusCode::kCorruption);
}

TEST_CASE("ReadMeta costs one GET when the size is known and the tail holds it all") {
  auto store = std::make_shared<testing::CountingStore>();
  auto keys = testing::FixedKeys();
  testing::WriteSegment(*store, keys, 3, {testing::TextLike(5000), testing::TextLike(7000, 2)},
                        "journal record");
  const std::uint64_t size = store->inner.Head(format::SegmentObjectName(3))->size;
  SegmentReader reader(store, keys, kTestUuid);
  REQUIRE(reader.ReadJournal(3, size).ok());
  CHECK(store->gets == 1);
  CHECK(store->heads == 0);
  // Without the size: a HEAD first.
  REQUIRE(reader.ReadMeta(3).ok());
  CHECK(store->heads == 1);
  CHECK(store->gets == 2);
}

TEST_CASE("ReadMeta and ReadJournal work when the tail read is too short for them") {
  auto store = std::make_shared<testing::CountingStore>();
  auto keys = testing::FixedKeys();
  std::vector<std::string> extents;
  for (int i = 0; i < 200; ++i)
    extents.push_back(testing::RandomBytes(2000, static_cast<std::uint32_t>(i)));
  const std::string journal = testing::RandomBytes(300000);
  testing::WriteSegment(*store, keys, 4, extents, journal);
  segment::SegmentReaderOptions options;
  options.tail_read_bytes = 100;  // footer only
  SegmentReader reader(store, keys, kTestUuid, options);
  Result<segment::SegmentJournal> j = reader.ReadJournal(4);
  REQUIRE(j.ok());
  CHECK(j->record == journal);
  CHECK(j->meta.entries.size() == 201);
  CHECK(store->gets == 3);  // tail, directory, journal
}

TEST_CASE("a missing segment is NotFound") {
  auto store = std::make_shared<objstore::MemoryStore>();
  SegmentReader reader(store, testing::FixedKeys(), kTestUuid);
  CHECK(reader.ReadMeta(99).status().code() == StatusCode::kNotFound);
  CHECK(reader.ReadExtent({1, 0, {99, 48, 100, 100, 0}}).status().code() == StatusCode::kNotFound);
}
