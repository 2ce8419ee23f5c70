// XDR (RFC 4506): encodings byte for byte, round trips, and bounded rejection of malformed
// input (every truncation, hostile lengths, random bytes from a printed seed).
#include "zerofs/nfs/xdr.h"

#include <catch2/catch.hpp>
#include <random>

#include "zerofs/nfs/nfs3_codec.h"

namespace zerofs::nfs {
namespace {

TEST_CASE("xdr encodes big-endian units with zero padding", "[nfs][xdr]") {
  XdrEncoder e;
  e.PutU32(0x01020304);
  e.PutI32(-2);
  e.PutU64(0x1122334455667788ULL);
  e.PutBool(true);
  e.PutOpaque("abcde");
  e.PutFixedOpaque("xy");
  const std::string want(
      "\x01\x02\x03\x04\xff\xff\xff\xfe\x11\x22\x33\x44\x55\x66\x77\x88"
      "\x00\x00\x00\x01\x00\x00\x00\x05"
      "abcde\x00\x00\x00"
      "xy\x00\x00",
      36);
  REQUIRE(e.bytes() == want);

  XdrDecoder d(e.bytes());
  CHECK(*d.U32() == 0x01020304U);
  CHECK(*d.I32() == -2);
  CHECK(*d.U64() == 0x1122334455667788ULL);
  CHECK(*d.Bool());
  CHECK(*d.Opaque(5) == "abcde");
  CHECK(*d.FixedOpaque(2) == "xy");
  CHECK(d.AtEnd());
}

TEST_CASE("xdr rejects hostile lengths before allocating", "[nfs][xdr]") {
  XdrEncoder e;
  e.PutU32(0xFFFFFFF0U);  // a 4 GiB opaque in a 4-byte message
  XdrDecoder d1(e.bytes());
  CHECK_FALSE(d1.Opaque(~std::size_t{0}).ok());
  XdrDecoder d2(e.bytes());
  CHECK_FALSE(d2.Opaque(64).ok());
  XdrDecoder d3(e.bytes());
  CHECK_FALSE(d3.ArrayCount(~std::size_t{0}).ok());  // count cannot fit the bytes left

  XdrEncoder big;
  big.PutOpaque(std::string(65, 'h'));
  XdrDecoder d4(big.bytes());
  CHECK_FALSE(DecodeFh3(d4).ok());  // nfs_fh3 is at most 64 bytes

  XdrEncoder b;
  b.PutU32(2);
  XdrDecoder d5(b.bytes());
  CHECK_FALSE(d5.Bool().ok());  // only 0 and 1 are booleans

  XdrEncoder pad;
  pad.PutU32(3);
  XdrDecoder d6(std::string_view(pad.bytes()).substr(0, 4));
  CHECK_FALSE(d6.Opaque(8).ok());  // length without its bytes
}

// Every encoded argument of every shape, so the truncation and fuzz loops below cover
// each decoder.
struct Sample {
  const char* name;
  std::string bytes;
  std::function<bool(XdrDecoder&)> decode;  // true when decoding succeeded
};

std::vector<Sample> Samples() {
  Fh3 fh{std::string(16, '\x07')};
  Sattr3 s;
  s.mode = 0644;
  s.size = 99;
  s.mtime_how = TimeHow::kClientTime;
  s.mtime = {5, 6};
  std::vector<Sample> out;
  auto add = [&](const char* name, const auto& args, auto decode) {
    XdrEncoder e;
    Encode(e, args);
    out.push_back({name, e.Take(), [decode](XdrDecoder& d) { return decode(d).ok(); }});
  };
  add("setattr", SetattrArgs{fh, s, NfsTime3{1, 2}}, DecodeSetattrArgs);
  add("write", WriteArgs{fh, 4096, 5, StableHow::kUnstable, "hello"}, DecodeWriteArgs);
  add("create", CreateArgs{{fh, "name"}, CreateMode::kGuarded, s, {}}, DecodeCreateArgs);
  add("create-excl", CreateArgs{{fh, "name"}, CreateMode::kExclusive, {}, {1, 2, 3, 4, 5, 6, 7, 8}},
      DecodeCreateArgs);
  add("symlink", SymlinkArgs{{fh, "l"}, s, "/target"}, DecodeSymlinkArgs);
  add("mknod", MknodArgs{{fh, "dev"}, Ftype3::kChr, s, 1, 3}, DecodeMknodArgs);
  add("rename", RenameArgs{{fh, "a"}, {fh, "b"}}, DecodeRenameArgs);
  add("link", LinkArgs{fh, {fh, "c"}}, DecodeLinkArgs);
  add("readdirplus", ReaddirplusArgs{fh, 7, {}, 4096, 32768}, DecodeReaddirplusArgs);
  add("commit", CommitArgs{fh, 0, 0}, DecodeCommitArgs);
  return out;
}

TEST_CASE("every truncation of every argument type is a clean error", "[nfs][xdr]") {
  for (const Sample& sample : Samples()) {
    INFO(sample.name);
    XdrDecoder whole(sample.bytes);
    REQUIRE(sample.decode(whole));
    for (std::size_t n = 0; n < sample.bytes.size(); ++n) {
      XdrDecoder cut(std::string_view(sample.bytes).substr(0, n));
      INFO("truncated to " << n << " bytes");
      CHECK_FALSE(sample.decode(cut));
    }
    std::string longer = sample.bytes + std::string(4, '\0');
    XdrDecoder extra(longer);
    CHECK_FALSE(sample.decode(extra));  // trailing bytes
  }
}

TEST_CASE("random bytes never crash a decoder", "[nfs][xdr]") {
  const std::uint64_t seed = std::random_device{}();
  INFO("seed " << seed << " (replay by fixing it here)");
  std::mt19937_64 rng(seed);
  const std::vector<Sample> samples = Samples();
  for (int round = 0; round < 20000; ++round) {
    const Sample& sample = samples[rng() % samples.size()];
    std::string bytes = sample.bytes;
    // Flip a few bytes of a valid encoding, or use pure noise.
    if (rng() % 4 == 0) {
      bytes.resize(rng() % 200);
      for (char& c : bytes) c = static_cast<char>(rng());
    } else {
      for (int i = 0, flips = 1 + static_cast<int>(rng() % 4); i < flips; ++i) {
        bytes[rng() % bytes.size()] = static_cast<char>(rng());
      }
    }
    XdrDecoder d(bytes);
    (void)sample.decode(d);  // any result is fine; a crash or sanitizer report is not
  }
  SUCCEED("seed " << seed);
}

}  // namespace
}  // namespace zerofs::nfs
