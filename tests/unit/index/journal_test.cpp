// Journal records: round trips, the bounds a decoder enforces before allocating, and
// rejection of damaged bytes.
#include "zerofs/index/journal.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "index_test_util.h"
#include "zerofs/index/keys.h"
#include "zerofs/index/records.h"
#include "zerofs/segment/extent_location.h"

using namespace zerofs;
using namespace zerofs::index;

namespace {

constexpr std::string_view kSegment = "segments/000000000000002a";

JournalRecord SampleRecord() {
  JournalRecord r;
  InodeRecord inode;
  inode.ino = 7;
  inode.mode = kModeRegular | 0644;
  inode.nlink = 1;
  inode.size = 14;
  r.ops.push_back(IndexOp::Put(InodeKey(7), EncodeInodeRecord(inode)));
  r.ops.push_back(
      IndexOp::Put(DirentKey(1, "hello.txt"), EncodeDirentRecord({7, FileType::kRegular, 3})));
  r.ops.push_back(IndexOp::Put(DirCookieKey(1, 3),
                               EncodeDirCookieRecord({"hello.txt", 7, FileType::kRegular})));
  r.ops.push_back(
      IndexOp::Put(ExtentKey(7, 0), segment::EncodeExtentLocation({0x2a, 48, 55, 14, 0})));
  r.ops.push_back(IndexOp::Delete(ExtentKey(7, 1)));
  r.ops.push_back(IndexOp::Put(XattrKey(7, "user.note"), ""));
  r.ops.push_back(IndexOp::Put(SegmentUsageKey(0x2a), EncodeSegmentUsage({55, 55, 1, 1})));
  r.ops.push_back(IndexOp::Put(MetaKey("next_inode"), EncodeU64Value(8)));
  return r;
}

Result<JournalRecord> Decode(std::string_view bytes) {
  return DecodeJournalRecord(bytes, kSegment);
}

// The 12-byte header with `op_count`.
std::string Header(std::uint32_t op_count) {
  std::string h = "ZFJR";
  h += '\x01';
  h += std::string(3, '\0');
  format::PutU32(h, op_count);
  return h;
}

std::string Op(std::uint8_t kind, std::string_view key, std::string_view value) {
  std::string o;
  format::PutU8(o, kind);
  format::PutU16(o, static_cast<std::uint16_t>(key.size()));
  format::PutU32(o, static_cast<std::uint32_t>(value.size()));
  o.append(key);
  o.append(value);
  return o;
}

// The hex layout of the examples in docs/format.md (hexdump -C without the middle gap).
std::string HexDump(std::string_view bytes) {
  std::string out;
  for (std::size_t line = 0; line < bytes.size(); line += 16) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%08zx  ", line);
    out += buf;
    std::string ascii;
    for (std::size_t i = line; i < line + 16; ++i) {
      if (i < bytes.size()) {
        const auto b = static_cast<std::uint8_t>(bytes[i]);
        std::snprintf(buf, sizeof(buf), "%02x ", b);
        out += buf;
        ascii += (b >= 0x20 && b < 0x7f) ? static_cast<char>(b) : '.';
      } else {
        out += "   ";
      }
    }
    out += " |" + ascii + "|\n";
  }
  return out;
}

// The code block after "<!-- example:NAME -->" in docs/format.md.
std::string DocExample(const std::string& name) {
  std::ifstream in(ZEROFS_FORMAT_DOC);
  REQUIRE(in.good());
  std::stringstream all;
  all << in.rdbuf();
  const std::string doc = all.str();
  const std::size_t marker = doc.find("<!-- example:" + name + " -->");
  REQUIRE(marker != std::string::npos);
  const std::size_t open = doc.find("```\n", marker);
  const std::size_t close = doc.find("```", open + 4);
  REQUIRE(close != std::string::npos);
  return doc.substr(open + 4, close - open - 4);
}

}  // namespace

TEST_CASE("the journal record example of docs/format.md matches the encoder", "[index][journal]") {
  JournalRecord one;
  one.ops.push_back(IndexOp::Delete(InodeKey(5)));
  const std::string bytes = EncodeJournalRecord(one);
  CHECK(HexDump(bytes) == DocExample("journal-record"));
  CHECK(*Decode(bytes) == one);
}

TEST_CASE("journal records round-trip", "[index][journal]") {
  const JournalRecord empty;
  const std::string e = EncodeJournalRecord(empty);
  CHECK(e == Header(0));
  CHECK(*Decode(e) == empty);

  const JournalRecord r = SampleRecord();
  REQUIRE(ValidateJournalRecord(r).ok());
  const std::string bytes = EncodeJournalRecord(r);
  CHECK(bytes.size() == EncodedJournalSize(r));
  const auto back = Decode(bytes);
  REQUIRE(back.ok());
  CHECK(*back == r);

  // The layout of one op, by hand.
  JournalRecord one;
  one.ops.push_back(IndexOp::Delete(InodeKey(5)));
  CHECK(EncodeJournalRecord(one) == Header(1) + Op(2, InodeKey(5), ""));
}

TEST_CASE("journal records at the value bound", "[index][journal]") {
  JournalRecord r;
  r.ops.push_back(
      IndexOp::Put(XattrKey(3, "user.big"), std::string(format::kMaxXattrValueBytes, 'v')));
  r.ops.push_back(
      IndexOp::Put(XattrKey(3, "user.max"), std::string(format::kMaxIndexValueBytes, 'w')));
  REQUIRE(ValidateJournalRecord(r).ok());
  CHECK(*Decode(EncodeJournalRecord(r)) == r);

  r.ops[1].value.push_back('x');
  CHECK(ValidateJournalRecord(r).code() == StatusCode::kInvalidArgument);
  const std::string too_long = Header(1) + Op(1, XattrKey(3, "a"), r.ops[1].value);
  CHECK(Decode(too_long).status().code() == StatusCode::kCorruption);
}

TEST_CASE("seeded random journal records round-trip", "[index][journal]") {
  std::mt19937_64 rng(Catch::rngSeed());
  for (int round = 0; round < 50; ++round) {
    JournalRecord r;
    const std::size_t ops = rng() % 40;
    for (std::size_t i = 0; i < ops; ++i) {
      const std::uint64_t a = rng();
      const std::uint64_t b = rng() >> (rng() % 64);
      if (rng() % 3 == 0) {
        r.ops.push_back(IndexOp::Delete(ExtentKey(a, b)));
      } else {
        std::string value(rng() % 300, '\0');
        for (char& c : value) c = static_cast<char>(rng());
        r.ops.push_back(IndexOp::Put(XattrKey(a, "user." + std::to_string(b)), value));
      }
    }
    REQUIRE(ValidateJournalRecord(r).ok());
    const auto back = Decode(EncodeJournalRecord(r));
    REQUIRE(back.ok());
    CHECK(*back == r);
  }
}

TEST_CASE("damaged journal records fail or decode to another valid record", "[index][journal]") {
  testing::CheckDamagedInputs(EncodeJournalRecord(SampleRecord()), Decode, EncodeJournalRecord);
}

TEST_CASE("journal decoder rejects malformed records", "[index][journal]") {
  const auto corrupt = [](std::string_view bytes) {
    const auto r = Decode(bytes);
    if (r.ok()) return false;
    // Errors name the segment that carried the record.
    CHECK(r.status().message().find(kSegment) != std::string::npos);
    return r.status().code() == StatusCode::kCorruption;
  };
  const std::string op = Op(1, InodeKey(1), "v");
  CHECK(corrupt(""));
  CHECK(corrupt("ZFJX" + Header(1).substr(4) + op));      // magic
  CHECK(corrupt("ZFJR\x02" + Header(1).substr(5) + op));  // version
  std::string reserved = Header(1) + op;
  reserved[6] = 1;
  CHECK(corrupt(reserved));                             // reserved bits
  CHECK(corrupt(Header(0xffffffffu) + op));             // op count beyond the bytes
  CHECK(corrupt(Header(2) + op));                       // one op missing
  CHECK(corrupt(Header(1) + op + "x"));                 // trailing bytes
  CHECK(corrupt(Header(1) + Op(3, InodeKey(1), "v")));  // unknown kind
  CHECK(corrupt(Header(1) + Op(0, InodeKey(1), "v")));
  CHECK(corrupt(Header(1) + Op(2, InodeKey(1), "v")));            // delete with a value
  CHECK(corrupt(Header(1) + Op(1, "", "v")));                     // empty key
  CHECK(corrupt(Header(1) + Op(1, "q12345678", "v")));            // unknown table
  CHECK(corrupt(Header(1) + Op(1, InodeKey(1) + "x", "v")));      // malformed key
  CHECK(corrupt(Header(1) + Op(1, std::string(1025, 'm'), "")));  // key too long
  CHECK(corrupt(Header(1) + Op(1, MetaKey("applied_seq"), EncodeU64Value(9))));
  CHECK(corrupt(std::string(format::kMaxJournalBytes + 1, 'Z')));
}

TEST_CASE("journal validation refuses ops the decoder would refuse", "[index][journal]") {
  const auto invalid = [](IndexOp op) {
    JournalRecord r;
    r.ops.push_back(std::move(op));
    return ValidateJournalRecord(r).code() == StatusCode::kInvalidArgument;
  };
  CHECK(invalid(IndexOp::Put("", "v")));
  CHECK(invalid(IndexOp::Put("zzz", "v")));
  CHECK(invalid(IndexOp::Put(MetaKey("applied_seq"), EncodeU64Value(1))));
  CHECK(invalid(IndexOp{IndexOp::Kind::kDelete, InodeKey(1), "v"}));
  CHECK(invalid(IndexOp{static_cast<IndexOp::Kind>(7), InodeKey(1), ""}));
  CHECK_FALSE(invalid(IndexOp::Delete(InodeKey(1))));
}
