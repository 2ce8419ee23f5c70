// Keeps docs/format.md honest: its worked example is regenerated here, from a deterministic
// random source, and compared block by block with the text of the document. After a
// deliberate format change, run with ZEROFS_PRINT_FORMAT_EXAMPLE=1 and paste the blocks.
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "zerofs/crypto/envelope.h"
#include "zerofs/crypto/frame.h"
#include "zerofs/crypto/key_file.h"
#include "zerofs/segment/segment_reader.h"
#include "zerofs/segment/segment_writer.h"

using namespace zerofs;

namespace {

constexpr std::uint64_t kSeed = 42;
constexpr const char* kPassword = "correct horse battery staple";

std::string HexDump(std::string_view bytes) {
  std::string out;
  char line[100];
  for (std::size_t row = 0; row < bytes.size(); row += 16) {
    std::snprintf(line, sizeof(line), "%08zx ", row);
    out += line;
    std::string ascii;
    for (std::size_t i = row; i < row + 16; ++i) {
      if (i < bytes.size()) {
        const auto b = static_cast<unsigned char>(bytes[i]);
        std::snprintf(line, sizeof(line), " %02x", b);
        out += line;
        ascii += (b >= 0x20 && b < 0x7f) ? static_cast<char>(b) : '.';
      } else {
        out += "   ";
      }
    }
    out += "  |" + ascii + "|\n";
  }
  return out;
}

std::string Hex(std::span<const std::uint8_t> bytes) {
  std::string out;
  char b[3];
  for (std::uint8_t v : bytes) {
    std::snprintf(b, sizeof(b), "%02x", v);
    out += b;
  }
  return out;
}

std::string Row(std::uint64_t offset, std::uint64_t length, const std::string& what) {
  char line[64];
  std::snprintf(line, sizeof(line), "%6llu  %6llu  ", static_cast<unsigned long long>(offset),
                static_cast<unsigned long long>(length));
  return line + what + "\n";
}

// Every block of the worked example, by name, exactly as docs/format.md shows it.
std::map<std::string, std::string> GenerateExample() {
  std::map<std::string, std::string> blocks;
  crypto::DeterministicRandom random(kSeed);
  const crypto::VolumeUuid uuid = crypto::VolumeUuid::Random(random);
  const crypto::SecureBytes data_key = crypto::NewDataKey(random);
  const crypto::KeyFile key_file = crypto::WrapDataKey(uuid, data_key.span(), Secret(kPassword),
                                                       crypto::Argon2Params::Minimum(), random)
                                       .value();
  blocks["key-file"] = key_file.Encode();

  auto keys = crypto::KeyRing::FromDataKey(data_key.span()).value();
  std::string subkeys = "data key  " + Hex(data_key.span()) + "\n";
  const std::pair<const char*, crypto::KeyPurpose> purposes[] = {
      {"zfs-segm", crypto::KeyPurpose::kSegmentFrame},
      {"zfs-foot", crypto::KeyPurpose::kFooterMac},
      {"zfs-root", crypto::KeyPurpose::kRoot},
      {"zfs-indx", crypto::KeyPurpose::kIndexFile},
      {"zfs-ckpt", crypto::KeyPurpose::kCheckpoint}};
  for (const auto& [context, purpose] : purposes) {
    subkeys += std::string(context) + "  " + Hex(keys->Subkey(purpose)) + "\n";
  }
  blocks["subkeys"] = subkeys;

  constexpr std::uint64_t seq = 0x2a, epoch = 3, inode = 7;
  const std::string extent = "hello, zerofs\n";
  const std::string journal = "journal: inode 7 extent 0 -> segment 2a frame 0\n";
  segment::SegmentWriter writer(keys, uuid, seq, epoch,
                                {crypto::CompressionOptions::Zstd(3), &random});
  const segment::ExtentLocation loc = writer.AddExtent(inode, 0, extent).value().value();
  // Extent 1 is all zeros: a hole, not stored.
  REQUIRE_FALSE(writer.AddExtent(inode, 1, std::string(32768, '\0')).value().has_value());
  const std::string object = writer.Finish(journal).value();
  blocks["segment"] = HexDump(object);
  blocks["extent-aad"] = HexDump(segment::ExtentAad(uuid, seq, loc.frame_index, inode, 0));
  blocks["location"] = HexDump(segment::EncodeExtentLocation(loc));

  const segment::SegmentJournal verified = segment::VerifySegment(*keys, uuid, seq, object).value();
  REQUIRE(verified.record == journal);
  const segment::SegmentFooter& f = verified.meta.footer;
  std::string layout = "offset  length  what\n";
  layout += Row(0, format::kSegmentHeaderBytes, "header");
  for (std::size_t i = 0; i < verified.meta.entries.size(); ++i) {
    const segment::DirectoryEntry& e = verified.meta.entries[i];
    const std::string_view sealed = std::string_view(object).substr(e.offset, e.sealed_length);
    const std::string body =
        crypto::OpenFrameBody(keys->Subkey(crypto::KeyPurpose::kSegmentFrame),
                              i < f.extent_count
                                  ? segment::ExtentAad(uuid, seq, static_cast<std::uint32_t>(i),
                                                       e.inode, e.extent_index)
                                  : segment::JournalAad(uuid, seq, static_cast<std::uint32_t>(i),
                                                        journal.size(), e.extent_index),
                              sealed, 1 << 20, "example")
            .value();
    const std::string codec(crypto::CodecName(static_cast<crypto::Codec>(body[0])));
    layout += Row(e.offset, e.sealed_length,
                  (i < f.extent_count ? "extent frame " + std::to_string(i) + " (inode " +
                                            std::to_string(e.inode) + ", extent " +
                                            std::to_string(e.extent_index) + ")"
                                      : "journal frame " + std::to_string(i) + " (part " +
                                            std::to_string(e.extent_index) + ")") +
                      ", " + std::to_string(e.plaintext_length) + " bytes, codec " + codec);
  }
  const std::string dir_body =
      crypto::OpenFrameBody(keys->Subkey(crypto::KeyPurpose::kSegmentFrame),
                            segment::DirectoryAad(f),
                            std::string_view(object).substr(f.directory_offset, f.directory_length),
                            1 << 20, "example")
          .value();
  layout += Row(f.directory_offset, f.directory_length,
                "directory, " + std::to_string(f.entry_count) + " entries, codec " +
                    std::string(crypto::CodecName(static_cast<crypto::Codec>(dir_body[0]))));
  layout += Row(object.size() - format::kSegmentFooterBytes, format::kSegmentFooterBytes, "footer");
  blocks["segment-layout"] = layout;
  std::string dir_plain;
  for (const segment::DirectoryEntry& e : verified.meta.entries) {
    segment::EncodeDirectoryEntry(e, &dir_plain);
  }
  blocks["directory"] = HexDump(dir_plain);

  const std::string root_json = "{\"version\":1,\"volume_uuid\":\"" + uuid.ToString() +
                                "\",\"writer_epoch\":3,\"journal_start_seq\":1,\"next_seq\":43,"
                                "\"snapshot\":null}";
  blocks["root-payload"] = root_json + "\n";
  blocks["root"] =
      HexDump(crypto::SealEnvelope(*keys, crypto::EnvelopeKind::kRoot, uuid, "root", root_json,
                                   crypto::CompressionOptions::None(), &random)
                  .value());
  return blocks;
}

// The fenced block that follows "<!-- example:NAME -->" in the document.
std::map<std::string, std::string> ReadDocBlocks(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::map<std::string, std::string> blocks;
  std::string line, name;
  bool inside = false;
  const std::string marker = "<!-- example:";
  while (std::getline(in, line)) {
    if (!inside && line.rfind(marker, 0) == 0) {
      name = line.substr(marker.size(), line.find(' ', marker.size()) - marker.size());
      continue;
    }
    if (!name.empty() && !inside && line.rfind("```", 0) == 0) {
      inside = true;
      blocks[name];
      continue;
    }
    if (inside && line == "```") {
      inside = false;
      name.clear();
      continue;
    }
    if (inside) blocks[name] += line + "\n";
  }
  return blocks;
}

}  // namespace

TEST_CASE("the worked example in docs/format.md matches the code") {
  const std::map<std::string, std::string> generated = GenerateExample();
  if (std::getenv("ZEROFS_PRINT_FORMAT_EXAMPLE") != nullptr) {
    for (const auto& [name, text] : generated) {
      std::printf("<!-- example:%s -->\n```\n%s```\n\n", name.c_str(), text.c_str());
    }
  }
  const std::map<std::string, std::string> documented = ReadDocBlocks(ZEROFS_FORMAT_DOC);
  for (const auto& [name, text] : generated) {
    INFO("example block '" << name << "' (ZEROFS_PRINT_FORMAT_EXAMPLE=1 prints the new text)");
    REQUIRE(documented.count(name) == 1);
    CHECK(documented.at(name) == text);
  }
  // Every documented block is checked by some test: these here, the journal record's by the
  // index layer's journal_test.
  for (const auto& [name, text] : documented) {
    INFO("documented example block '" << name << "' that no test checks");
    CHECK((generated.count(name) == 1 || name == "journal-record"));
  }
}

TEST_CASE("the worked example is deterministic and opens with its password") {
  CHECK(GenerateExample() == GenerateExample());
  crypto::DeterministicRandom random(kSeed);
  const crypto::VolumeUuid uuid = crypto::VolumeUuid::Random(random);
  const std::string key_file = GenerateExample().at("key-file");
  const crypto::KeyFile parsed = crypto::KeyFile::Parse(key_file, "zerofs.key").value();
  CHECK(parsed.volume_uuid == uuid);
  CHECK(crypto::UnwrapDataKey(parsed, Secret(kPassword)).ok());
}
