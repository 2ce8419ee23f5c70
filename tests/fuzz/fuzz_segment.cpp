// Fuzzes the segment decoders. The first input byte picks the decoder:
//   0  ParseSegmentFooter on the first 80 bytes, then DecodeDirectory on the rest (the
//      directory decoder, reached after authentication, with any footer)
//   1  VerifySegment of the rest as a whole object
//   2  DecodeSegmentHeader
//   3  SegmentReader::ReadJournal of the rest stored in a MemoryStore (the ranged paths)
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_common.h"
#include "zerofs/objstore/memory_store.h"
#include "zerofs/segment/segment_reader.h"
#include "zerofs/segment/segment_writer.h"

using namespace zerofs;

namespace {

constexpr std::uint64_t kSeq = 7;

std::string MakeSegment(std::size_t extents, std::size_t journal_bytes,
                        crypto::CompressionOptions compression) {
  segment::SegmentWriter writer(fuzz::Keys(), fuzz::Uuid(), kSeq, 2, {compression, nullptr});
  for (std::size_t i = 0; i < extents; ++i) {
    (void)writer.AddExtent(i + 1, i, std::string(100 + 50 * i, static_cast<char>('a' + i)));
  }
  return writer.Finish(std::string(journal_bytes, 'j')).value();
}

std::vector<std::string> Seeds() {
  std::vector<std::string> seeds;
  for (const auto& c : {crypto::CompressionOptions::None(), crypto::CompressionOptions::Zstd(3)}) {
    for (std::size_t extents : {0UL, 1UL, 3UL}) {
      const std::string seg = MakeSegment(extents, 40 * extents, c);
      seeds.push_back("\1" + seg);
      seeds.push_back("\3" + seg);
      seeds.push_back("\2" + seg.substr(0, format::kSegmentHeaderBytes));
      // Footer then directory plaintext, as the writer produced them.
      const segment::SegmentJournal j =
          segment::VerifySegment(*fuzz::Keys(), fuzz::Uuid(), kSeq, seg).value();
      std::string dir(1, '\0');
      dir += seg.substr(seg.size() - format::kSegmentFooterBytes);
      for (const auto& e : j.meta.entries) segment::EncodeDirectoryEntry(e, &dir);
      seeds.push_back(dir);
    }
  }
  return seeds;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::MaybeWriteSeeds(Seeds);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: {
      if (in.size() < format::kSegmentFooterBytes) break;
      Result<segment::SegmentFooter> footer =
          segment::ParseSegmentFooter(in.substr(0, format::kSegmentFooterBytes), "fuzz");
      if (!footer.ok()) break;
      Result<std::vector<segment::DirectoryEntry>> entries =
          segment::DecodeDirectory(in.substr(format::kSegmentFooterBytes), *footer, "fuzz");
      if (entries.ok()) {
        fuzz::Expect(entries->size() == footer->entry_count, "entry count mismatch");
        fuzz::Expect(entries->back().end() == footer->directory_offset,
                     "entries do not end at the directory");
      }
      break;
    }
    case 1: {
      Result<segment::SegmentJournal> r =
          segment::VerifySegment(*fuzz::Keys(), fuzz::Uuid(), kSeq, in);
      if (r.ok()) fuzz::Expect(r->record.size() <= format::kMaxJournalBytes, "journal too big");
      break;
    }
    case 2: (void)segment::DecodeSegmentHeader(in, "fuzz"); break;
    default: {
      static auto store = std::make_shared<objstore::MemoryStore>("fuzz");
      const std::string name = format::SegmentObjectName(kSeq);
      (void)store->Put(name, in);
      segment::SegmentReader reader(store, fuzz::Keys(), fuzz::Uuid(), {128, 0, 1 << 20});
      (void)reader.ReadJournal(kSeq);
      break;
    }
  }
  return 0;
}
