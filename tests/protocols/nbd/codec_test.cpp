// The NBD wire codec: exact bytes of what the server sends and rejection of malformed input.
#include "zerofs/nbd/codec.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <random>

#include "nbd_test_util.h"

using namespace zerofs::nbd;
using nbdtest::BigEndian;

namespace {

std::string Be(std::uint64_t v, int bytes) {
  std::string out;
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return out;
}

// Rebuilds the buffer a structured read reply describes, checking the chunk rules of
// proto.md: content within the request, no overlap, DONE only on the last chunk.
std::string Reassemble(const EncodedReply& reply, std::uint64_t offset, std::size_t length,
                       std::uint64_t cookie, std::size_t* chunk_count) {
  std::vector<nbdtest::ParsedChunk> chunks = nbdtest::ParseChunks(reply.Flatten());
  REQUIRE(!chunks.empty());
  *chunk_count = chunks.size();
  std::string out(length, 'X');
  std::vector<bool> covered(length, false);
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const auto& c = chunks[i];
    CHECK(c.cookie == cookie);
    CHECK(((c.flags & kReplyFlagDone) != 0) == (i + 1 == chunks.size()));
    std::uint64_t at = BigEndian(std::string_view(c.payload).substr(0, 8));
    REQUIRE(at >= offset);
    const std::size_t rel = at - offset;
    std::size_t n = 0;
    if (c.type == static_cast<std::uint16_t>(ReplyType::kOffsetData)) {
      n = c.payload.size() - 8;
      REQUIRE(rel + n <= length);
      out.replace(rel, n, c.payload, 8, n);
    } else {
      REQUIRE(c.type == static_cast<std::uint16_t>(ReplyType::kOffsetHole));
      REQUIRE(c.payload.size() == 12);
      n = BigEndian(std::string_view(c.payload).substr(8, 4));
      REQUIRE(n >= kMinHoleBytes);
      CHECK(at % kHoleAlignBytes == 0);
      REQUIRE(rel + n <= length);
      out.replace(rel, n, n, '\0');
    }
    bool overlap = false;
    for (std::size_t k = rel; k < rel + n; ++k) {
      overlap = overlap || covered[k];
      covered[k] = true;
    }
    REQUIRE(!overlap);
  }
  CHECK(std::find(covered.begin(), covered.end(), false) == covered.end());
  return out;
}

}  // namespace

TEST_CASE("greeting is NBDMAGIC, IHAVEOPT and the handshake flags") {
  std::string g = EncodeGreeting(kFlagFixedNewstyle | kFlagNoZeroes);
  REQUIRE(g.size() == kGreetingBytes);
  CHECK(g.substr(0, 8) == "NBDMAGIC");
  CHECK(g.substr(8, 8) == "IHAVEOPT");
  CHECK(BigEndian(g.substr(16, 2)) == 3);
}

TEST_CASE("client flags: known bits accepted, anything else is a protocol violation") {
  CHECK(*DecodeClientFlags(Be(0, 4)) == 0);
  CHECK(*DecodeClientFlags(Be(3, 4)) == 3);
  CHECK(DecodeClientFlags(Be(4, 4)).status().code() == zerofs::StatusCode::kCorruption);
  CHECK(DecodeClientFlags(Be(0x80000001U, 4)).status().code() == zerofs::StatusCode::kCorruption);
  CHECK(!DecodeClientFlags("abc").ok());
}

TEST_CASE("option header: magic, option, length and the payload limit") {
  std::string bytes = EncodeOptionHeader(7, "payload");
  auto h = DecodeOptionHeader(std::string_view(bytes).substr(0, 16));
  REQUIRE(h.ok());
  CHECK(h->option == 7);
  CHECK(h->length == 7);
  CHECK(bytes.substr(16) == "payload");

  std::string bad_magic = "IHAVEOPX" + Be(7, 4) + Be(0, 4);
  CHECK(DecodeOptionHeader(bad_magic).status().code() == zerofs::StatusCode::kCorruption);
  std::string huge = "IHAVEOPT" + Be(7, 4) + Be(kMaxOptionPayloadBytes + 1, 4);
  CHECK(DecodeOptionHeader(huge).status().code() == zerofs::StatusCode::kCorruption);
  std::string at_limit = "IHAVEOPT" + Be(7, 4) + Be(kMaxOptionPayloadBytes, 4);
  CHECK(DecodeOptionHeader(at_limit).ok());
  CHECK(!DecodeOptionHeader("IHAVEOPT").ok());
}

TEST_CASE("info request: round trip and malformed payloads") {
  InfoRequest req{"disk1", {0, 1, 3, 77}};
  auto back = DecodeInfoRequest(EncodeInfoRequest(req));
  REQUIRE(back.ok());
  CHECK(back->name == "disk1");
  CHECK(back->items == std::vector<std::uint16_t>{0, 1, 3, 77});

  CHECK(DecodeInfoRequest("").status().code() == zerofs::StatusCode::kInvalidArgument);
  CHECK(!DecodeInfoRequest(Be(0, 4)).ok());                                // no count
  CHECK(!DecodeInfoRequest(Be(10, 4) + "abc" + Be(0, 2)).ok());            // name overruns
  CHECK(!DecodeInfoRequest(Be(3, 4) + "abc" + Be(2, 2) + Be(0, 2)).ok());  // one item short
  CHECK(!DecodeInfoRequest(Be(3, 4) + "abc" + Be(0, 2) + "x").ok());       // trailing byte
  CHECK(DecodeInfoRequest(Be(0, 4) + Be(0, 2))->name.empty());             // default export
  std::string long_name(4097, 'n');
  CHECK(!DecodeInfoRequest(Be(4097, 4) + long_name + Be(0, 2)).ok());
}

TEST_CASE("option replies and their data") {
  std::string r = EncodeOptionReply(3, OptionReply::kServer, EncodeServerEntry("d", "desc"));
  auto parsed = nbdtest::ParseOptionReplies(r);
  REQUIRE(parsed.size() == 1);
  CHECK(parsed[0].option == 3);
  CHECK(parsed[0].type == 2);
  CHECK(parsed[0].data == Be(1, 4) + "d" + "desc");
  CHECK(BigEndian(r.substr(0, 8)) == kOptionReplyMagic);

  CHECK(EncodeInfoExport(1 << 20, 0x1234) == Be(0, 2) + Be(1 << 20, 8) + Be(0x1234, 2));
  CHECK(EncodeInfoBlockSize(1, 4096, 1 << 25) ==
        Be(3, 2) + Be(1, 4) + Be(4096, 4) + Be(1 << 25, 4));
  CHECK(EncodeInfoString(InfoType::kName, "x") == Be(1, 2) + "x");
  CHECK(EncodeExportNameReply(42, 1, false).size() == 10 + kExportNameZeroPadBytes);
  CHECK(EncodeExportNameReply(42, 1, true) == Be(42, 8) + Be(1, 2));
  CHECK(DecodeOptionReplyHeader(std::string(20, 'x')).status().code() ==
        zerofs::StatusCode::kCorruption);
}

TEST_CASE("request header: round trip, bad magic, wrong size") {
  Request req{kCmdFlagFua, static_cast<std::uint16_t>(Command::kWrite), 0xdeadbeefcafeULL,
              1ULL << 40, 65536};
  std::string bytes = EncodeRequest(req);
  REQUIRE(bytes.size() == kRequestHeaderBytes);
  auto back = DecodeRequest(bytes);
  REQUIRE(back.ok());
  CHECK(back->flags == kCmdFlagFua);
  CHECK(back->type == 1);
  CHECK(back->cookie == 0xdeadbeefcafeULL);
  CHECK(back->offset == 1ULL << 40);
  CHECK(back->length == 65536);
  bytes[0] = 0;
  CHECK(DecodeRequest(bytes).status().code() == zerofs::StatusCode::kCorruption);
  CHECK(!DecodeRequest(bytes.substr(1)).ok());
}

TEST_CASE("simple replies carry the error and cookie, then read data") {
  EncodedReply r = SimpleReply(99, Error::kOk, "hello");
  std::string wire = r.Flatten();
  REQUIRE(wire.size() == kSimpleReplyHeaderBytes + 5);
  auto h = DecodeSimpleReplyHeader(std::string_view(wire).substr(0, 16));
  REQUIRE(h.ok());
  CHECK(h->error == 0);
  CHECK(h->cookie == 99);
  CHECK(wire.substr(16) == "hello");
  CHECK(r.WireBytes() == wire.size());
  auto e = DecodeSimpleReplyHeader(SimpleReply(7, Error::kNoSpc).Flatten());
  CHECK(e->error == 28);
}

TEST_CASE("structured read: all-data buffer is one DONE chunk") {
  std::string data(200000, 'a');
  std::size_t chunks = 0;
  EncodedReply r = StructuredReadReply(5, 4096, data, false);
  CHECK(Reassemble(r, 4096, data.size(), 5, &chunks) == data);
  CHECK(chunks == 1);
}

TEST_CASE("structured read: long zero runs become holes, short ones stay data") {
  std::string data(512 * 1024, 'd');
  std::fill(data.begin() + 64 * 1024, data.begin() + 256 * 1024, '\0');   // 192 KiB hole
  std::fill(data.begin() + 300 * 1024, data.begin() + 320 * 1024, '\0');  // 20 KiB: data
  std::size_t chunks = 0;
  EncodedReply r = StructuredReadReply(1, 0, data, false);
  CHECK(Reassemble(r, 0, data.size(), 1, &chunks) == data);
  CHECK(chunks == 3);
  CHECK(r.WireBytes() < data.size() - 190 * 1024);  // the hole did not travel

  std::size_t df_chunks = 0;
  EncodedReply df = StructuredReadReply(1, 0, data, true);
  CHECK(Reassemble(df, 0, data.size(), 1, &df_chunks) == data);
  CHECK(df_chunks == 1);
}

TEST_CASE("structured read: an all-zero unaligned buffer keeps aligned holes") {
  std::string data(1 << 20, '\0');
  std::size_t chunks = 0;
  EncodedReply r = StructuredReadReply(3, 1000, data, false);
  CHECK(Reassemble(r, 1000, data.size(), 3, &chunks) == data);
  CHECK(chunks == 3);  // partial block, aligned hole, partial block
}

TEST_CASE("structured read: empty read is a single NONE chunk") {
  auto chunks = nbdtest::ParseChunks(StructuredReadReply(8, 0, {}, false).Flatten());
  REQUIRE(chunks.size() == 1);
  CHECK(chunks[0].type == 0);
  CHECK(chunks[0].flags == kReplyFlagDone);
}

TEST_CASE("structured read: random sparse buffers reassemble exactly") {
  std::mt19937_64 rng(Catch::rngSeed());
  for (int round = 0; round < 50; ++round) {
    std::size_t size = 1 + rng() % (600 * 1024);
    std::uint64_t offset = rng() % (1 << 20);
    std::string data(size, '\0');
    for (std::size_t pos = 0; pos < size;) {
      std::size_t run = 1 + rng() % (150 * 1024);
      bool fill = rng() % 2 == 0;
      for (std::size_t k = pos; k < std::min(size, pos + run); ++k) {
        data[k] = fill ? static_cast<char>(1 + rng() % 255) : '\0';
      }
      pos += run;
    }
    std::size_t chunks = 0;
    INFO("round " << round << " size " << size << " offset " << offset);
    const auto cookie = static_cast<std::uint64_t>(round);
    CHECK(Reassemble(StructuredReadReply(cookie, offset, data, false), offset, size, cookie,
                     &chunks) == data);
  }
}

TEST_CASE("structured error chunk") {
  auto chunks = nbdtest::ParseChunks(StructuredErrorReply(4, Error::kInval, "bad").Flatten());
  REQUIRE(chunks.size() == 1);
  CHECK(chunks[0].type == 0x8001);
  CHECK(chunks[0].flags == kReplyFlagDone);
  CHECK(chunks[0].payload == Be(22, 4) + Be(3, 2) + "bad");
  std::string long_message(5000, 'm');
  auto cut = nbdtest::ParseChunks(StructuredErrorReply(4, Error::kIo, long_message).Flatten());
  CHECK(cut[0].payload.size() == 6 + kMaxStringBytes);
}

TEST_CASE("decoders survive random bytes") {
  std::mt19937_64 rng(Catch::rngSeed());
  for (int i = 0; i < 20000; ++i) {
    std::string bytes(rng() % 40, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    if (i % 3 == 0 && bytes.size() >= 8) bytes.replace(0, 8, "IHAVEOPT");
    static_cast<void>(DecodeClientFlags(bytes));
    static_cast<void>(DecodeOptionHeader(bytes));
    static_cast<void>(DecodeInfoRequest(bytes));
    static_cast<void>(DecodeRequest(bytes));
    static_cast<void>(DecodeOptionReplyHeader(bytes));
    static_cast<void>(DecodeSimpleReplyHeader(bytes));
    static_cast<void>(DecodeChunkHeader(bytes));
  }
  SUCCEED("no decoder crashed");
}
