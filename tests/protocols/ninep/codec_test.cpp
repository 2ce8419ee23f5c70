// The 9P2000.L codec: known wire bytes, round trips of every message, and malformed input
// (truncation at every byte, random bytes, oversized counts) rejected cleanly.
#include "zerofs/ninep/codec.h"

#include <catch2/catch.hpp>
#include <random>

using namespace zerofs::ninep;
using zerofs::Result;

namespace {

std::string Body(const std::string& frame) {
  return frame.substr(kHeaderBytes);
}

// One sample of every request and reply, with every field set to something non-zero.
std::vector<Request> SampleRequests() {
  return {
      Tversion{65536, "9P2000.L"},
      Tauth{7, "alice", "/export", 1000},
      Tattach{1, kNoFid, "root", "/", 0},
      Tflush{42},
      Twalk{1, 2, {"a", "bb", "ccc"}},
      Tread{3, 1ULL << 40, 8192},
      Twrite{3, 12345, Data{std::string("hello\0world", 11)}},
      Tclunk{9},
      Tremove{9},
      Tstatfs{1},
      Tlopen{2, 0x8002},
      Tlcreate{2, "new.txt", 0x8241, 0100644, 100},
      Tsymlink{1, "link", "/target/path", 100},
      Tmknod{1, "dev", 020644, 8, 1, 100},
      Trename{4, 1, "renamed"},
      Treadlink{4},
      Tgetattr{1, kGetattrAll},
      Tsetattr{1, kSetattrMode | kSetattrSize, 0644, 1, 2, 4096, 10, 11, 12, 13},
      Txattrwalk{1, 5, "user.x"},
      Txattrcreate{5, "user.y", 300, 1},
      Treaddir{2, 7, 4096},
      Tfsync{2, 1},
      Tlock{2, kLockTypeWrite, kLockFlagBlock, 0, 100, 4242, "host"},
      Tgetlock{2, kLockTypeRead, 10, 20, 4242, "host"},
      Tlink{1, 4, "hard"},
      Tmkdir{1, "dir", 040755, 100},
      Trenameat{1, "old", 6, "new"},
      Tunlinkat{1, "gone", kAtRemoveDir},
  };
}

std::vector<Reply> SampleReplies() {
  Rgetattr attr;
  attr.valid = kGetattrBasic;
  attr.qid = Qid{kQidDir, 3, 77};
  attr.mode = 040755;
  attr.uid = 1;
  attr.gid = 2;
  attr.nlink = 3;
  attr.size = 4096;
  attr.blksize = 4096;
  attr.blocks = 8;
  attr.mtime_sec = 1700000000;
  attr.mtime_nsec = 5;
  attr.data_version = 9;
  std::string dirents;
  REQUIRE(AppendDirent(dirents, Dirent{Qid{kQidDir, 0, 1}, 1, 4, "."}, 1000));
  REQUIRE(AppendDirent(dirents, Dirent{Qid{kQidFile, 2, 5}, 2, 8, "file"}, 1000));
  return {
      Rlerror{2},
      Rversion{8192, "9P2000.L"},
      Rauth{Qid{kQidAuth, 0, 1}},
      Rattach{Qid{kQidDir, 0, 1}},
      Rflush{},
      Rwalk{{Qid{kQidDir, 1, 2}, Qid{kQidFile, 3, 4}}},
      Rread{Data{"payload"}},
      Rwrite{7},
      Rclunk{},
      Rremove{},
      Rstatfs{0x01021997, 4096, 100, 50, 40, 1000, 900, 12345, 255},
      Rlopen{Qid{kQidFile, 1, 9}, 8168},
      Rlcreate{Qid{kQidFile, 0, 10}, 8168},
      Rsymlink{Qid{kQidSymlink, 0, 11}},
      Rmknod{Qid{kQidFile, 0, 12}},
      Rrename{},
      Rreadlink{"/target"},
      attr,
      Rsetattr{},
      Rxattrwalk{300},
      Rxattrcreate{},
      Rreaddir{Data{dirents}},
      Rfsync{},
      Rlock{kLockBlocked},
      Rgetlock{kLockTypeWrite, 1, 2, 3, "other"},
      Rlink{},
      Rmkdir{Qid{kQidDir, 0, 13}},
      Rrenameat{},
      Runlinkat{},
  };
}

}  // namespace

TEST_CASE("9p codec: known bytes of Tversion and Rgetattr layout", "[ninep][codec]") {
  const std::string frame = EncodeRequest(kNoTag, Tversion{8192, "9P2000.L"});
  const std::string expected(
      "\x15\x00\x00\x00"  // size 21, little-endian
      "\x64"              // Tversion = 100
      "\xff\xff"          // NOTAG
      "\x00\x20\x00\x00"  // msize 8192
      "\x08\x00"
      "9P2000.L",
      21);
  CHECK(frame == expected);

  // Rgetattr: header + valid[8] qid[13] mode uid gid [4 each] + 15 fields of 8 bytes.
  const std::string reply = EncodeReply(1, Rgetattr{});
  CHECK(reply.size() == kHeaderBytes + 8 + 13 + 3 * 4 + 15 * 8);
  CHECK(static_cast<unsigned char>(reply[4]) == 25);
}

TEST_CASE("9p codec: every request and reply round-trips", "[ninep][codec]") {
  std::uint16_t tag = 1;
  for (const Request& request : SampleRequests()) {
    const std::string frame = EncodeRequest(tag, request);
    INFO(MessageTypeName(TypeOf(request)));
    Result<FrameHeader> h = DecodeFrameHeader(frame, kMaxMsizeCap);
    REQUIRE(h.ok());
    CHECK(h->size == frame.size());
    CHECK(h->tag == tag);
    CHECK(h->type == TypeOf(request));
    Result<Request> back = DecodeRequest(h->type, Body(frame));
    REQUIRE(back.ok());
    CHECK(*back == request);
    ++tag;
  }
  for (const Reply& reply : SampleReplies()) {
    const std::string frame = EncodeReply(tag, reply);
    INFO(MessageTypeName(TypeOf(reply)));
    CHECK(EncodedReplyBytes(reply) == frame.size());
    Result<Reply> back = DecodeReply(TypeOf(reply), Body(frame));
    REQUIRE(back.ok());
    CHECK(*back == reply);
  }
}

TEST_CASE("9p codec: truncation at every byte and trailing bytes are Corruption",
          "[ninep][codec]") {
  for (const Request& request : SampleRequests()) {
    const std::string body = Body(EncodeRequest(1, request));
    const std::uint8_t type = TypeOf(request);
    INFO(MessageTypeName(type));
    for (std::size_t cut = 0; cut < body.size(); ++cut) {
      Result<Request> r = DecodeRequest(type, body.substr(0, cut));
      REQUIRE_FALSE(r.ok());
      CHECK(r.status().code() == zerofs::StatusCode::kCorruption);
    }
    Result<Request> trailing = DecodeRequest(type, body + "x");
    CHECK_FALSE(trailing.ok());
  }
  for (const Reply& reply : SampleReplies()) {
    const std::string body = Body(EncodeReply(1, reply));
    for (std::size_t cut = 0; cut < body.size(); ++cut) {
      CHECK_FALSE(DecodeReply(TypeOf(reply), body.substr(0, cut)).ok());
    }
  }
}

TEST_CASE("9p codec: frame header bounds", "[ninep][codec]") {
  std::string header("\x06\x00\x00\x00\x64\x01\x00", 7);  // size 6 < header
  CHECK_FALSE(DecodeFrameHeader(header, 8192).ok());
  header[0] = 7;
  CHECK(DecodeFrameHeader(header, 8192).ok());
  header.replace(0, 4, std::string("\x01\x20\x00\x00", 4));  // 8193 > msize
  CHECK_FALSE(DecodeFrameHeader(header, 8192).ok());
  header.replace(0, 4, std::string("\xff\xff\xff\xff", 4));  // 4 GiB: over the hard cap
  CHECK_FALSE(DecodeFrameHeader(header, 0xffffffffU).ok());
  CHECK_FALSE(DecodeFrameHeader(header.substr(0, 6), 8192).ok());

  const std::string two = EncodeRequest(1, Tclunk{1}) + EncodeRequest(2, Tclunk{2});
  Result<std::size_t> first = CompleteFrameBytes(two, 8192);
  REQUIRE(first.ok());
  CHECK(*first == 11);
  CHECK(*CompleteFrameBytes(two.substr(0, 10), 8192) == 0);
}

TEST_CASE("9p codec: hostile counts are rejected before allocating", "[ninep][codec]") {
  // Twalk claiming 17 names.
  std::string walk = Body(EncodeRequest(1, Twalk{1, 2, {}}));
  walk[8] = 17;
  Result<Request> r = DecodeRequest(static_cast<std::uint8_t>(MessageType::kTwalk), walk);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("16") != std::string::npos);
  // Twrite claiming 4 GiB of data in a 20-byte body.
  std::string write = Body(EncodeRequest(1, Twrite{1, 0, Data{"abcd"}}));
  write.replace(12, 4, std::string("\xff\xff\xff\xff", 4));
  CHECK_FALSE(DecodeRequest(static_cast<std::uint8_t>(MessageType::kTwrite), write).ok());
  // A string longer than the body.
  std::string attach = Body(EncodeRequest(1, Tattach{1, kNoFid, "u", "a", 0}));
  attach[8] = '\x7f';
  CHECK_FALSE(DecodeRequest(static_cast<std::uint8_t>(MessageType::kTattach), attach).ok());
}

TEST_CASE("9p codec: unknown and unsupported types", "[ninep][codec]") {
  // 9P2000 Topen/Tstat: a request we do not implement; answered, not fatal.
  Result<Request> open = DecodeRequest(static_cast<std::uint8_t>(MessageType::kTopen), "xxxxx");
  REQUIRE_FALSE(open.ok());
  CHECK(open.status().code() == zerofs::StatusCode::kNotSupported);
  CHECK(DecodeRequest(124, "").status().code() == zerofs::StatusCode::kNotSupported);
  // An R-message sent to the server is a protocol violation.
  CHECK(DecodeRequest(static_cast<std::uint8_t>(MessageType::kRread), "").status().code() ==
        zerofs::StatusCode::kCorruption);
  CHECK(MessageTypeName(24) == "Tgetattr");
  CHECK(MessageTypeName(255) == "unknown type");
}

TEST_CASE("9p codec: readdir entries and count bound", "[ninep][codec]") {
  std::string data;
  const Dirent a{Qid{kQidDir, 0, 1}, 1, 4, "."};
  const Dirent b{Qid{kQidFile, 0, 2}, 2, 8, "some-file"};
  REQUIRE(AppendDirent(data, a, 50));
  CHECK(data.size() == DirentBytes(a));
  CHECK_FALSE(AppendDirent(data, b, 50));  // 25 + 33 bytes would exceed 50
  REQUIRE(AppendDirent(data, b, 1000));
  Result<std::vector<Dirent>> back = DecodeDirents(data);
  REQUIRE(back.ok());
  REQUIRE(back->size() == 2);
  CHECK((*back)[1] == b);
  CHECK_FALSE(DecodeDirents(data.substr(0, data.size() - 1)).ok());
}

TEST_CASE("9p codec: random bytes never crash the decoders", "[ninep][codec][fuzz]") {
  const auto seed = Catch::rngSeed();
  INFO("seed " << seed << " (replay with --rng-seed " << seed << ")");
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<std::size_t> len(0, 96);
  std::size_t decoded = 0;
  for (int i = 0; i < 200000; ++i) {
    std::string body(len(rng), '\0');
    for (char& c : body) c = static_cast<char>(byte(rng));
    const auto type = static_cast<std::uint8_t>(byte(rng));
    Result<Request> r = DecodeRequest(type, body);
    if (r.ok()) {
      ++decoded;
      // Whatever decodes re-encodes to the same bytes.
      CHECK(Body(EncodeRequest(0, *r)) == body);
    }
    (void)DecodeReply(type, body).ok();
    (void)DecodeFrameHeader(body, kDefaultMaxMsize).ok();
    (void)DecodeDirents(body).ok();
  }
  CHECK(decoded > 0);
}

TEST_CASE("9p codec: mutated valid frames never crash", "[ninep][codec][fuzz]") {
  const auto seed = Catch::rngSeed();
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  const std::vector<Request> samples = SampleRequests();
  for (int i = 0; i < 50000; ++i) {
    const Request& base = samples[rng() % samples.size()];
    std::string body = Body(EncodeRequest(1, base));
    if (body.empty()) continue;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) body[rng() % body.size()] = static_cast<char>(rng());
    Result<Request> r = DecodeRequest(TypeOf(base), body);
    if (r.ok()) CHECK(Body(EncodeRequest(1, *r)) == body);
  }
}
