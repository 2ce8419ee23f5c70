// The index key space: RocksDB's bytewise order must be the order readdir and extent scans
// rely on, prefixes must select exactly one object's keys, and decoders must reject
// malformed keys.
#include "zerofs/index/keys.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "index_test_util.h"

using namespace zerofs;
using namespace zerofs::index;

namespace {

const std::vector<std::uint64_t>& EdgeIds() {
  static const std::vector<std::uint64_t> ids = {0,
                                                 1,
                                                 2,
                                                 255,
                                                 256,
                                                 257,
                                                 65535,
                                                 65536,
                                                 0xffffffffULL,
                                                 0x100000000ULL,
                                                 0x00ff00ff00ff00ffULL,
                                                 0x7fffffffffffffffULL,
                                                 0x8000000000000000ULL,
                                                 UINT64_MAX - 1,
                                                 UINT64_MAX};
  return ids;
}

}  // namespace

TEST_CASE("extent keys sort by inode, then numerically by extent index", "[index][keys]") {
  std::mt19937_64 rng(Catch::rngSeed());
  std::vector<std::uint64_t> ids = EdgeIds();
  for (int i = 0; i < 200; ++i) ids.push_back(rng() >> (rng() % 64));
  for (std::uint64_t a : ids) {
    for (std::uint64_t b : ids) {
      INFO(a << " vs " << b);
      CHECK((ExtentKey(7, a) < ExtentKey(7, b)) == (a < b));
      CHECK((ExtentKey(a, 0) < ExtentKey(b, UINT64_MAX)) == (a <= b));
      CHECK((InodeKey(a) < InodeKey(b)) == (a < b));
      CHECK((SegmentUsageKey(a) < SegmentUsageKey(b)) == (a < b));
      CHECK((DirCookieKey(3, a) < DirCookieKey(3, b)) == (a < b));
    }
  }
}

TEST_CASE("all keys of one object are contiguous and carry its prefix", "[index][keys]") {
  const std::vector<std::string> names = {"a",
                                          "b",
                                          "zz",
                                          std::string(255, 'x'),
                                          std::string(255, '\xff'),
                                          "\x01",
                                          "\xff\xff"
                                          "a",
                                          "file.txt",
                                          "A"};
  const std::vector<std::uint64_t> parents = {0, 1, 2, 255, 256, 0xffffffffffULL, UINT64_MAX};
  std::vector<std::pair<std::string, std::uint64_t>> keys;  // key, owner
  for (std::uint64_t p : parents) {
    for (const std::string& n : names) {
      keys.emplace_back(DirentKey(p, n), p);
      keys.emplace_back(XattrKey(p, n), p);
    }
    for (std::uint64_t c : EdgeIds()) {
      keys.emplace_back(DirCookieKey(p, c), p);
      keys.emplace_back(ExtentKey(p, c), p);
    }
    keys.emplace_back(InodeKey(p), p);
  }
  std::sort(keys.begin(), keys.end());

  for (std::uint64_t p : parents) {
    for (const std::string& prefix :
         {DirentPrefix(p), XattrPrefix(p), DirCookiePrefix(p), ExtentPrefix(p)}) {
      // The keys with this prefix are exactly this object's keys of this table, in one run.
      std::vector<std::size_t> positions;
      for (std::size_t i = 0; i < keys.size(); ++i) {
        if (keys[i].first.starts_with(prefix)) {
          positions.push_back(i);
          CHECK(keys[i].second == p);
        } else if (keys[i].second == p) {
          CHECK(keys[i].first[0] != prefix[0]);
        }
      }
      REQUIRE_FALSE(positions.empty());
      CHECK(positions.back() - positions.front() + 1 == positions.size());
    }
  }
}

TEST_CASE("dirents of a directory sort by name bytes", "[index][keys]") {
  CHECK(DirentKey(5, "a") < DirentKey(5, "ab"));
  CHECK(DirentKey(5, "ab") < DirentKey(5, "b"));
  CHECK(DirentKey(5, "\xff") > DirentKey(5, "z"));
  // A longer parent id never lands inside a shorter one's range.
  CHECK(DirentKey(1, std::string(255, '\xff')) < DirentKey(2, "\x01"));
}

TEST_CASE("tables are disjoint", "[index][keys]") {
  const std::vector<std::pair<IndexTable, std::string>> samples = {
      {IndexTable::kInode, InodeKey(1)},          {IndexTable::kDirent, DirentKey(1, "x")},
      {IndexTable::kCookie, DirCookieKey(1, 3)},  {IndexTable::kXattr, XattrKey(1, "user.a")},
      {IndexTable::kExtent, ExtentKey(1, 0)},     {IndexTable::kSegmentUsage, SegmentUsageKey(1)},
      {IndexTable::kMeta, MetaKey("next_inode")},
  };
  for (const auto& [table, key] : samples) {
    REQUIRE(KeyTable(key).ok());
    CHECK(*KeyTable(key) == table);
    CHECK(key.starts_with(TablePrefix(table)));
    CHECK(ValidateIndexKey(key).ok());
    for (const auto& [other, unused] : samples) {
      if (other != table) CHECK_FALSE(key.starts_with(TablePrefix(other)));
    }
  }
  CHECK(KeyTable("").status().code() == StatusCode::kCorruption);
  CHECK(KeyTable("q123").status().code() == StatusCode::kCorruption);
}

TEST_CASE("key decoders return the parts", "[index][keys]") {
  for (std::uint64_t a : EdgeIds()) {
    CHECK(*DecodeInodeKey(InodeKey(a)) == a);
    CHECK(*DecodeSegmentUsageKey(SegmentUsageKey(a)) == a);
    const auto ext = DecodeExtentKey(ExtentKey(a, ~a));
    REQUIRE(ext.ok());
    CHECK(ext->ino == a);
    CHECK(ext->extent_index == ~a);
    const auto cookie = DecodeDirCookieKey(DirCookieKey(~a, a));
    REQUIRE(cookie.ok());
    CHECK(cookie->parent == ~a);
    CHECK(cookie->cookie == a);
  }
  const std::string dkey = DirentKey(42, "hello world");
  const auto dirent = DecodeDirentKey(dkey);
  REQUIRE(dirent.ok());
  CHECK(dirent->parent == 42);
  CHECK(dirent->name == "hello world");
  const std::string xkey = XattrKey(9, "security.selinux");
  const auto xattr = DecodeXattrKey(xkey);
  REQUIRE(xattr.ok());
  CHECK(xattr->ino == 9);
  CHECK(xattr->name == "security.selinux");
  const std::string mkey = MetaKey("applied_seq");
  CHECK(*DecodeMetaKey(mkey) == "applied_seq");
  CHECK(InodeKey(0x0102030405060708ULL) == std::string("i\x01\x02\x03\x04\x05\x06\x07\x08", 9));
}

TEST_CASE("key decoders reject malformed keys", "[index][keys]") {
  const auto corrupt = [](const Status& s) { return s.code() == StatusCode::kCorruption; };
  // Wrong tag.
  CHECK(corrupt(DecodeInodeKey(ExtentKey(1, 2).substr(0, 9)).status()));
  CHECK(corrupt(DecodeExtentKey(DirCookieKey(1, 2)).status()));
  // Wrong lengths: every truncation and one extra byte.
  for (const std::string& key :
       {InodeKey(5), ExtentKey(5, 6), DirCookieKey(5, 6), SegmentUsageKey(5)}) {
    for (std::size_t n = 0; n < key.size(); ++n) {
      CHECK(corrupt(ValidateIndexKey(key.substr(0, n))));
    }
    CHECK(corrupt(ValidateIndexKey(key + "x")));
  }
  // Names: empty, too long, NUL, '/', "." and "..".
  CHECK(corrupt(DecodeDirentKey(DirentPrefix(1)).status()));
  CHECK(corrupt(DecodeDirentKey(DirentKey(1, std::string(256, 'a'))).status()));
  CHECK(DecodeDirentKey(DirentKey(1, std::string(255, 'a'))).ok());
  CHECK(corrupt(DecodeDirentKey(DirentKey(1, std::string("a\0b", 3))).status()));
  CHECK(corrupt(DecodeDirentKey(DirentKey(1, "a/b")).status()));
  CHECK(corrupt(DecodeDirentKey(DirentKey(1, ".")).status()));
  CHECK(corrupt(DecodeDirentKey(DirentKey(1, "..")).status()));
  CHECK(corrupt(DecodeXattrKey(XattrPrefix(1)).status()));
  CHECK(corrupt(DecodeXattrKey(XattrKey(1, std::string(256, 'a'))).status()));
  CHECK(corrupt(DecodeMetaKey("m").status()));
  CHECK(corrupt(DecodeMetaKey("mNext").status()));
  CHECK(corrupt(DecodeMetaKey(MetaKey(std::string(65, 'a'))).status()));
}

TEST_CASE("name validation", "[index][keys]") {
  CHECK(ValidateName("file").ok());
  CHECK(ValidateName("...").ok());
  CHECK(ValidateName(std::string(255, '\xe2')).ok());
  CHECK(ValidateName("").code() == StatusCode::kInvalidArgument);
  CHECK(ValidateName(".").code() == StatusCode::kInvalidArgument);
  CHECK(ValidateName("..").code() == StatusCode::kInvalidArgument);
  CHECK(ValidateName("a/b").code() == StatusCode::kInvalidArgument);
  CHECK(ValidateName(std::string(256, 'a')).code() == StatusCode::kInvalidArgument);
  CHECK(ValidateXattrName("user.x/y").ok());
  CHECK(ValidateXattrName(std::string(1, '\0')).code() == StatusCode::kInvalidArgument);
  CHECK(ValidateMetaName("next_inode").ok());
  CHECK(ValidateMetaName("Next").code() == StatusCode::kInvalidArgument);
}
