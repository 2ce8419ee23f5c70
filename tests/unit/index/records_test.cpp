// Index value records: round trips at the edges of every field, and rejection of damaged or
// impossible bytes (they come from journal records and snapshots in the bucket).
#include "zerofs/index/records.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>

#include "index_test_util.h"

using namespace zerofs;
using namespace zerofs::index;

namespace {

InodeRecord SampleFile() {
  InodeRecord r;
  r.ino = 0x1122334455667788ULL;
  r.mode = kModeRegular | 0644;
  r.uid = 1000;
  r.gid = 100;
  r.nlink = 2;
  r.size = (1ULL << 40) + 17;
  r.atime = {-1, 999'999'999};  // before 1970
  r.mtime = {1'700'000'000, 1};
  r.ctime = {INT64_MAX, 0};
  r.btime = {INT64_MIN, 5};
  r.generation = 3;
  r.flags = 0x10;
  return r;
}

InodeRecord SampleSymlink() {
  InodeRecord r;
  r.ino = 9;
  r.mode = kModeSymlink | 0777;
  r.nlink = 1;
  r.symlink_target = "../some/where";
  r.size = r.symlink_target.size();
  return r;
}

InodeRecord SampleDirectory() {
  InodeRecord r;
  r.ino = 1;
  r.parent = 1;
  r.mode = kModeDirectory | 01777;
  r.nlink = 3;
  r.next_dir_cookie = format::kFirstDirCookie + 40;
  return r;
}

}  // namespace

TEST_CASE("inode records round-trip", "[index][records]") {
  InodeRecord longest = SampleSymlink();
  longest.symlink_target = std::string(format::kMaxSymlinkTargetBytes, 'x');
  InodeRecord device = SampleFile();
  device.mode = kModeBlockDevice | 0600;
  device.rdev = (8ULL << 32) | 1;
  for (const InodeRecord& r : {SampleFile(), SampleSymlink(), SampleDirectory(), longest, device}) {
    REQUIRE(ValidateInodeRecord(r).ok());
    const std::string bytes = EncodeInodeRecord(r);
    CHECK(bytes.size() == format::kInodeRecordFixedBytes + r.symlink_target.size());
    CHECK(bytes[0] == '\x01');
    const auto back = DecodeInodeRecord(bytes);
    REQUIRE(back.ok());
    CHECK(*back == r);
  }
  CHECK(SampleDirectory().type() == FileType::kDirectory);
  CHECK(SampleSymlink().type() == FileType::kSymlink);
}

TEST_CASE("inode records that cannot be stored are refused", "[index][records]") {
  const auto invalid = [](const InodeRecord& r) {
    return ValidateInodeRecord(r).code() == StatusCode::kInvalidArgument;
  };
  InodeRecord r = SampleFile();
  r.mtime.nsec = 1'000'000'000;
  CHECK(invalid(r));
  r = SampleFile();
  r.mode = 0644;  // no type
  CHECK(invalid(r));
  r = SampleFile();
  r.mode |= 0200000;  // a bit outside type | 07777
  CHECK(invalid(r));
  r = SampleFile();
  r.symlink_target = "x";
  CHECK(invalid(r));
  r = SampleSymlink();
  r.symlink_target.clear();
  CHECK(invalid(r));
  r.symlink_target = std::string(format::kMaxSymlinkTargetBytes + 1, 'x');
  CHECK(invalid(r));
}

TEST_CASE("damaged inode records fail or decode to another valid record", "[index][records]") {
  for (const InodeRecord& r : {SampleFile(), SampleSymlink(), SampleDirectory()}) {
    testing::CheckDamagedInputs(EncodeInodeRecord(r), DecodeInodeRecord, EncodeInodeRecord);
  }
  std::string v2 = EncodeInodeRecord(SampleFile());
  v2[0] = 2;
  CHECK(DecodeInodeRecord(v2).status().code() == StatusCode::kCorruption);
  CHECK(DecodeInodeRecord("").status().code() == StatusCode::kCorruption);
}

TEST_CASE("dirent and cookie records round-trip and reject damage", "[index][records]") {
  const DirentRecord dirent{0xfedcba9876543210ULL, FileType::kSymlink, 12345};
  const std::string d = EncodeDirentRecord(dirent);
  CHECK(d.size() == format::kDirentRecordBytes);
  CHECK(*DecodeDirentRecord(d) == dirent);
  testing::CheckDamagedInputs(d, DecodeDirentRecord, EncodeDirentRecord);
  CHECK_FALSE(DecodeDirentRecord(EncodeDirentRecord({1, FileType::kUnknown, 3})).ok());
  CHECK_FALSE(DecodeDirentRecord(EncodeDirentRecord({1, static_cast<FileType>(3), 3})).ok());

  for (const std::string& name : {std::string("x"), std::string(255, 'n'), std::string("é.txt")}) {
    const DirCookieRecord cookie{name, 77, FileType::kRegular};
    REQUIRE(ValidateDirCookieRecord(cookie).ok());
    const std::string c = EncodeDirCookieRecord(cookie);
    CHECK(c.size() == format::kDirCookieRecordFixedBytes + name.size());
    CHECK(*DecodeDirCookieRecord(c) == cookie);
    testing::CheckDamagedInputs(c, DecodeDirCookieRecord, EncodeDirCookieRecord);
  }
  CHECK(ValidateDirCookieRecord({"a/b", 1, FileType::kRegular}).code() ==
        StatusCode::kInvalidArgument);
  CHECK_FALSE(DecodeDirCookieRecord(EncodeDirCookieRecord({"..", 1, FileType::kRegular})).ok());
}

TEST_CASE("segment usage and volume counters round-trip and reject damage", "[index][records]") {
  const SegmentUsage usage{100, 200, 3, UINT64_MAX};
  REQUIRE(ValidateSegmentUsage(usage).ok());
  CHECK(*DecodeSegmentUsage(EncodeSegmentUsage(usage)) == usage);
  testing::CheckDamagedInputs(EncodeSegmentUsage(usage), DecodeSegmentUsage, EncodeSegmentUsage);
  const SegmentUsage impossible{201, 200, 0, 0};
  CHECK(ValidateSegmentUsage(impossible).code() == StatusCode::kInvalidArgument);
  CHECK(DecodeSegmentUsage(EncodeSegmentUsage(impossible)).status().code() ==
        StatusCode::kCorruption);

  const VolumeCounters counters{1ULL << 50, 123456};
  CHECK(*DecodeVolumeCounters(EncodeVolumeCounters(counters)) == counters);
  testing::CheckDamagedInputs(EncodeVolumeCounters(counters), DecodeVolumeCounters,
                              EncodeVolumeCounters);
}

TEST_CASE("u64 meta values are 8 little-endian bytes", "[index][records]") {
  CHECK(EncodeU64Value(0x0102) == std::string("\x02\x01\0\0\0\0\0\0", 8));
  CHECK(*DecodeU64Value(EncodeU64Value(UINT64_MAX)) == UINT64_MAX);
  CHECK(DecodeU64Value("1234567").status().code() == StatusCode::kCorruption);
  CHECK(DecodeU64Value("123456789").status().code() == StatusCode::kCorruption);
}

TEST_CASE("file types follow the mode's type bits", "[index][records]") {
  CHECK(FileTypeOfMode(kModeRegular | 0755) == FileType::kRegular);
  CHECK(FileTypeOfMode(kModeDirectory) == FileType::kDirectory);
  CHECK(FileTypeOfMode(kModeSymlink) == FileType::kSymlink);
  CHECK(FileTypeOfMode(kModeCharDevice) == FileType::kCharDevice);
  CHECK(FileTypeOfMode(kModeBlockDevice) == FileType::kBlockDevice);
  CHECK(FileTypeOfMode(kModeFifo) == FileType::kFifo);
  CHECK(FileTypeOfMode(kModeSocket) == FileType::kSocket);
  CHECK(FileTypeOfMode(0) == FileType::kUnknown);
  CHECK(FileTypeOfMode(0030000) == FileType::kUnknown);
  // The DT_* values that readdir replies carry.
  CHECK(static_cast<int>(FileType::kRegular) == 8);
  CHECK(static_cast<int>(FileType::kDirectory) == 4);
  CHECK(static_cast<int>(FileType::kSymlink) == 10);
}
