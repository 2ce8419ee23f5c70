// The shared encodings: hex of bytes and numbers, big-endian integers, and the names built
// from them, which one layer writes and another parses.
#include "zerofs/common/coding.h"

#include <array>
#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <string>

#include "zerofs/engine/chain_format.h"
#include "zerofs/format.h"
#include "zerofs/vfs/orphans.h"

using namespace zerofs;

TEST_CASE("hex of bytes round-trips and rejects what is not lower-case hex") {
  const std::array<std::uint8_t, 4> bytes{0x00, 0x9f, 0xa0, 0xff};
  CHECK(coding::HexEncode(bytes) == "009fa0ff");
  CHECK(coding::HexEncode(std::string_view("\x01\xfe", 2)) == "01fe");
  CHECK(coding::HexEncode(std::string_view()).empty());
  std::array<std::uint8_t, 4> back{};
  REQUIRE(coding::HexDecode("009fa0ff", back));
  CHECK(back == bytes);
  CHECK_FALSE(coding::HexDecode("009FA0FF", back));    // upper case
  CHECK_FALSE(coding::HexDecode("009fa0f", back));     // short
  CHECK_FALSE(coding::HexDecode("009fa0ff00", back));  // long
  CHECK_FALSE(coding::HexDecode("009fa0fg", back));
  CHECK(coding::IsLowerHex("0123456789abcdef"));
  CHECK_FALSE(coding::IsLowerHex("0123456789abcdeF"));
  CHECK(coding::HexValue('F') == 15);
  CHECK(coding::LowerHexValue('F') == -1);
  CHECK(coding::HexValue('g') == -1);
}

TEST_CASE("hex numbers are zero-padded and parse back exactly") {
  CHECK(coding::HexU64(0) == "0000000000000000");
  CHECK(coding::HexU64(0x2a) == "000000000000002a");
  CHECK(coding::HexU64(std::numeric_limits<std::uint64_t>::max()) == "ffffffffffffffff");
  CHECK(coding::HexU64(0xbeef, 8) == "0000beef");
  CHECK(coding::HexU64(0x1234567890, 8) == "1234567890");  // never truncates
  CHECK(coding::HexU64(5, 2) == "05");
  for (std::uint64_t v : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{0xdeadbeef},
                          std::numeric_limits<std::uint64_t>::max()}) {
    CHECK(coding::ParseHexU64(coding::HexU64(v)) == v);
  }
  CHECK(coding::ParseHexU64("a") == 10u);
  CHECK_FALSE(coding::ParseHexU64("").has_value());
  CHECK_FALSE(coding::ParseHexU64("10000000000000000").has_value());  // 17 digits
  CHECK_FALSE(coding::ParseHexU64("000000000000002A").has_value());
  CHECK_FALSE(coding::ParseHexU64("-1").has_value());
  CHECK_FALSE(coding::ParseHexU64("0x2a").has_value());
  CHECK(coding::HexU64Name("x_", 0x2a) == "x_000000000000002a");
  CHECK(coding::ParseHexU64Name("x_000000000000002a", "x_") == 0x2au);
  CHECK_FALSE(coding::ParseHexU64Name("y_000000000000002a", "x_").has_value());
  CHECK_FALSE(coding::ParseHexU64Name("x_2a", "x_").has_value());
}

TEST_CASE("big-endian integers keep numeric order as byte order") {
  std::string a;
  coding::AppendBigEndian64(a, 0x0102030405060708ULL);
  CHECK(a == std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  CHECK(coding::LoadBigEndian64(a.data()) == 0x0102030405060708ULL);
  char raw[8];
  coding::StoreBigEndian64(raw, std::numeric_limits<std::uint64_t>::max() - 1);
  CHECK(coding::LoadBigEndian64(raw) == std::numeric_limits<std::uint64_t>::max() - 1);
  std::string small, large;
  coding::AppendBigEndian64(small, 0xff);
  coding::AppendBigEndian64(large, 0x100);
  CHECK(small < large);
}

TEST_CASE("segment, drop and orphan names are written and parsed by one rule") {
  CHECK(format::SegmentObjectName(0x2a) == "segments/000000000000002a");
  CHECK(format::ParseSegmentObjectName("segments/000000000000002a") == 0x2au);
  CHECK(format::ParseSegmentObjectName(format::SegmentObjectName(~0ULL)) == ~0ULL);
  CHECK_FALSE(format::ParseSegmentObjectName("segments/2a").has_value());
  CHECK_FALSE(format::ParseSegmentObjectName("segments/000000000000002A").has_value());
  CHECK_FALSE(format::ParseSegmentObjectName("segments/000000000000002a.tmp").has_value());
  CHECK_FALSE(format::ParseSegmentObjectName("index/000000000000002a").has_value());
  CHECK(format::DropMetaName(7) == "drop_0000000000000007");
  CHECK(format::ParseDropMetaName(format::DropMetaName(0xabc)) == 0xabcu);
  CHECK_FALSE(format::ParseDropMetaName("drop_abc").has_value());
  CHECK_FALSE(format::ParseDropMetaName("orphan_0000000000000007").has_value());
  CHECK(vfs::OrphanMetaName(7) == "orphan_0000000000000007");
  CHECK(vfs::ParseOrphanMetaName("orphan_0000000000000007") == 7u);
  CHECK_FALSE(vfs::ParseOrphanMetaName("orphan_7").has_value());
  CHECK_FALSE(vfs::ParseOrphanMetaName("drop_0000000000000007").has_value());
}
