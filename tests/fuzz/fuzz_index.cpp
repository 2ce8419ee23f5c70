// Fuzzes the index layer's decoders (docs/format.md §12). The first input byte picks the
// decoder, the rest is its input:
//   0  DecodeJournalRecord
//   1  DecodeInodeRecord        2  DecodeDirentRecord     3  DecodeDirCookieRecord
//   4  DecodeSegmentUsage       5  DecodeVolumeCounters   6  ValidateIndexKey + key decoders
//   7  DecodeSnapshotManifest   8  DecodeRootPayload
// Every decoded value must encode back to exactly the input: the encodings are canonical,
// so a decoder that accepts bytes its encoder would not produce has a hole.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_common.h"
#include "zerofs/index/journal.h"
#include "zerofs/index/keys.h"
#include "zerofs/index/records.h"
#include "zerofs/index/root.h"
#include "zerofs/index/snapshot_manifest.h"

using namespace zerofs;
using namespace zerofs::index;

namespace {

constexpr std::string_view kObject = "segments/0000000000000001";

std::vector<std::string> Seeds() {
  std::vector<std::string> seeds;
  InodeRecord file;
  file.ino = 7;
  file.mode = kModeRegular | 0644;
  file.nlink = 1;
  file.mtime = {1'700'000'000, 5};
  InodeRecord link = file;
  link.mode = kModeSymlink | 0777;
  link.symlink_target = "target";
  JournalRecord record;
  record.ops.push_back(IndexOp::Put(InodeKey(7), EncodeInodeRecord(file)));
  record.ops.push_back(
      IndexOp::Put(DirentKey(1, "a"), EncodeDirentRecord({7, FileType::kRegular, 3})));
  record.ops.push_back(IndexOp::Delete(ExtentKey(7, 2)));
  record.ops.push_back(IndexOp::Put(XattrKey(7, "user.x"), "value"));

  seeds.push_back('\0' + EncodeJournalRecord(record));
  seeds.push_back('\0' + EncodeJournalRecord({}));
  seeds.push_back('\1' + EncodeInodeRecord(file));
  seeds.push_back('\1' + EncodeInodeRecord(link));
  seeds.push_back('\2' + EncodeDirentRecord({7, FileType::kDirectory, 9}));
  seeds.push_back('\3' + EncodeDirCookieRecord({"name", 7, FileType::kRegular}));
  seeds.push_back('\4' + EncodeSegmentUsage({1, 2, 3, 4}));
  seeds.push_back('\5' + EncodeVolumeCounters({5, 6}));
  for (const std::string& key :
       {InodeKey(1), DirentKey(1, "x"), DirCookieKey(1, 3), XattrKey(1, "user.a"), ExtentKey(1, 2),
        SegmentUsageKey(3), MetaKey("next_inode")}) {
    seeds.push_back('\6' + key);
  }
  SnapshotManifest manifest;
  manifest.covers_seq = 9;
  manifest.files.push_back({ManifestFile::Kind::kEmbedded, "CURRENT", 4, {}, "abc\n"});
  manifest.files.push_back({ManifestFile::Kind::kObject, "000001.sst", 10, ContentHash("x"), {}});
  seeds.push_back('\7' + EncodeSnapshotManifest(manifest));
  RootRecord root;
  root.writer_epoch = 2;
  root.snapshot = SnapshotRef{ManifestObjectName(9, 1), 9};
  root.journal_start_seq = 10;
  seeds.push_back('\x08' + EncodeRootPayload(root, fuzz::Uuid()));
  return seeds;
}

template <typename Decode, typename Encode>
void RoundTrip(std::string_view in, Decode decode, Encode encode, const char* what) {
  auto r = decode(in);
  if (r.ok()) fuzz::Expect(encode(*r) == in, what);
}

void Keys(std::string_view in) {
  const Status valid = ValidateIndexKey(in);
  if (!valid.ok()) return;
  const IndexTable table = KeyTable(in).value();
  std::string again;
  switch (table) {
    case IndexTable::kInode: again = InodeKey(DecodeInodeKey(in).value()); break;
    case IndexTable::kDirent: {
      const auto p = DecodeDirentKey(in).value();
      again = DirentKey(p.parent, p.name);
      break;
    }
    case IndexTable::kCookie: {
      const auto p = DecodeDirCookieKey(in).value();
      again = DirCookieKey(p.parent, p.cookie);
      break;
    }
    case IndexTable::kXattr: {
      const auto p = DecodeXattrKey(in).value();
      again = XattrKey(p.ino, p.name);
      break;
    }
    case IndexTable::kExtent: {
      const auto p = DecodeExtentKey(in).value();
      again = ExtentKey(p.ino, p.extent_index);
      break;
    }
    case IndexTable::kSegmentUsage:
      again = SegmentUsageKey(DecodeSegmentUsageKey(in).value());
      break;
    case IndexTable::kMeta: again = MetaKey(DecodeMetaKey(in).value()); break;
  }
  fuzz::Expect(again == in, "index key does not round-trip");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::MaybeWriteSeeds(Seeds);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 9) {
    case 0:
      RoundTrip(
          in, [](std::string_view b) { return DecodeJournalRecord(b, kObject); },
          EncodeJournalRecord, "journal record does not round-trip");
      break;
    case 1:
      RoundTrip(in, DecodeInodeRecord, EncodeInodeRecord, "inode record does not round-trip");
      break;
    case 2:
      RoundTrip(in, DecodeDirentRecord, EncodeDirentRecord, "dirent record does not round-trip");
      break;
    case 3:
      RoundTrip(in, DecodeDirCookieRecord, EncodeDirCookieRecord,
                "dir cookie record does not round-trip");
      break;
    case 4:
      RoundTrip(in, DecodeSegmentUsage, EncodeSegmentUsage, "segment usage does not round-trip");
      break;
    case 5:
      RoundTrip(in, DecodeVolumeCounters, EncodeVolumeCounters,
                "volume counters do not round-trip");
      break;
    case 6: Keys(in); break;
    case 7:
      RoundTrip(
          in, [](std::string_view b) { return DecodeSnapshotManifest(b, kObject); },
          EncodeSnapshotManifest, "snapshot manifest does not round-trip");
      break;
    default: {
      // JSON is not canonical (whitespace, member order): a decoded root must re-decode to
      // itself from its canonical encoding instead.
      auto r = DecodeRootPayload(in, fuzz::Uuid());
      if (r.ok()) {
        auto again = DecodeRootPayload(EncodeRootPayload(*r, fuzz::Uuid()), fuzz::Uuid());
        fuzz::Expect(again.ok() && *again == *r, "root payload does not round-trip");
      }
      break;
    }
  }
  return 0;
}
