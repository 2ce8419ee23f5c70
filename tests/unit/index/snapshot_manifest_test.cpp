// Snapshot manifests and index object names.
#include "zerofs/index/snapshot_manifest.h"

#include <catch2/catch.hpp>
#include <string>

#include "index_test_util.h"
#include "zerofs/common/coding.h"

using namespace zerofs;
using namespace zerofs::index;

namespace {

constexpr std::string_view kName = "index/manifest-0000000000000007-00000001";

SnapshotManifest Sample() {
  SnapshotManifest m;
  m.covers_seq = 7;
  m.files.push_back({ManifestFile::Kind::kEmbedded, "CURRENT", 16, {}, "MANIFEST-000005\n"});
  m.files.push_back({ManifestFile::Kind::kEmbedded, "MANIFEST-000005", 3, {}, "\x01\x02\x03"});
  m.files.push_back({ManifestFile::Kind::kObject, "000009.sst", 4096, ContentHash("a"), {}});
  m.files.push_back({ManifestFile::Kind::kObject, "000011.sst", 0, ContentHash("b"), {}});
  m.files.push_back({ManifestFile::Kind::kEmbedded, "000012.log", 0, {}, {}});
  return m;
}

Result<SnapshotManifest> Decode(std::string_view bytes) {
  return DecodeSnapshotManifest(bytes, kName);
}

}  // namespace

TEST_CASE("snapshot manifests round-trip", "[index][snapshot]") {
  const SnapshotManifest m = Sample();
  REQUIRE(ValidateSnapshotManifest(m).ok());
  const std::string bytes = EncodeSnapshotManifest(m);
  CHECK(bytes.starts_with("ZEROFSIM\x01\x00\x00\x00\x05\x00\x00\x00\x07"));
  CHECK(*Decode(bytes) == m);
  CHECK(*Decode(EncodeSnapshotManifest({})) == SnapshotManifest{});
}

TEST_CASE("damaged snapshot manifests fail or decode to another valid manifest",
          "[index][snapshot]") {
  testing::CheckDamagedInputs(EncodeSnapshotManifest(Sample()), Decode, EncodeSnapshotManifest);
}

TEST_CASE("snapshot manifests with impossible files are refused", "[index][snapshot]") {
  const auto refused = [](const SnapshotManifest& m) {
    const bool invalid = ValidateSnapshotManifest(m).code() == StatusCode::kInvalidArgument;
    const bool corrupt =
        Decode(EncodeSnapshotManifest(m)).status().code() == StatusCode::kCorruption;
    return invalid && corrupt;
  };
  SnapshotManifest m = Sample();
  m.files.push_back(m.files[2]);  // duplicate name
  CHECK(refused(m));
  for (const std::string& name : {std::string("."), std::string(".."), std::string("a/b"),
                                  std::string("x y"), std::string()}) {
    m = Sample();
    m.files[0].name = name;
    CHECK(refused(m));
  }
  m = Sample();
  m.files[2].name = "000009.log";  // objects are SSTs
  CHECK(refused(m));
  m = Sample();
  m.files[2].size = format::kMaxIndexFileBytes + 1;
  CHECK(refused(m));
  m = Sample();
  m.files[2].hash = "short";
  CHECK(ValidateSnapshotManifest(m).code() == StatusCode::kInvalidArgument);
  m = Sample();
  m.files[0].size = 3;  // differs from the contents
  CHECK(ValidateSnapshotManifest(m).code() == StatusCode::kInvalidArgument);

  // A file count far beyond the bytes is refused before allocating.
  std::string huge = EncodeSnapshotManifest({});
  huge[12] = '\xff';
  huge[13] = '\xff';
  huge[14] = '\xff';
  CHECK(Decode(huge).status().code() == StatusCode::kCorruption);
  // An embedded size beyond the bytes.
  std::string lying = EncodeSnapshotManifest(Sample());
  lying[24 + 2 + 7 + 7] = '\x7f';  // the first file's size, high byte
  CHECK(Decode(lying).status().code() == StatusCode::kCorruption);
}

TEST_CASE("index object names", "[index][snapshot]") {
  const std::string hash = ContentHash("hello");
  CHECK(hash.size() == 16);
  CHECK(zerofs::coding::HexEncode(hash) ==
        "46fb7408d4f285228f4af516ea25851b");  // BLAKE2b-128("hello")
  CHECK(SstObjectName(hash) == "index/46fb7408d4f285228f4af516ea25851b.sst");
  CHECK(IsSstObjectName(SstObjectName(hash)));
  CHECK_FALSE(IsSstObjectName("index/46FB7408D4F285228F4AF516EA25851B.sst"));
  CHECK_FALSE(IsSstObjectName("index/46fb7408d4f285228f4af516ea25851.sst"));
  CHECK_FALSE(IsSstObjectName("index/000012.sst"));

  CHECK(ManifestObjectName(0x2a, 0xdeadbeef) == "index/manifest-000000000000002a-deadbeef");
  CHECK(IsManifestObjectName(ManifestObjectName(UINT64_MAX, 0)));
  CHECK_FALSE(IsManifestObjectName("index/manifest-000000000000002a"));
  CHECK_FALSE(IsManifestObjectName("index/manifest-000000000000002a-deadbeef0"));
  CHECK_FALSE(IsManifestObjectName("index/manifest-000000000000002a_deadbeef"));
  CHECK_FALSE(IsManifestObjectName("checkpoints/manifest-000000000000002a-deadbeef"));
  CHECK(IsManifestFileName("OPTIONS-000007"));
  CHECK_FALSE(IsManifestFileName(std::string(256, 'a')));
}
