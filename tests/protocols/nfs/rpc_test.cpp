// ONC RPC: record marking across fragments and the error replies of the dispatcher
// (wrong rpcvers, unknown program/version/procedure, bad or weak credentials, garbage
// arguments), decoded as a client would.
#include "zerofs/nfs/rpc.h"

#include <catch2/catch.hpp>

#include "nfs_test_util.h"
#include "test_volume.h"
#include "zerofs/nfs/dispatcher.h"
#include "zerofs/nfs/nfs3_codec.h"

namespace zerofs::nfs {
namespace {

std::string Fragment(std::string_view body, bool last) {
  XdrEncoder e;
  e.PutU32(static_cast<std::uint32_t>(body.size()) | (last ? kLastFragmentBit : 0));
  std::string out = e.Take();
  out.append(body);
  return out;
}

// The records of `stream`, split as a connection splits its buffer; stops at the first
// incomplete record, or fails the test at an error.
std::vector<std::string> SplitRecords(std::string_view stream, std::size_t max_record_bytes) {
  std::vector<std::string> records;
  for (;;) {
    Result<std::size_t> bytes = MeasureRecord(stream, max_record_bytes);
    REQUIRE(bytes.ok());
    REQUIRE(*bytes > 0);
    if (*bytes > stream.size()) return records;
    std::string record(stream.substr(0, *bytes));
    StripRecordMarks(record);
    records.push_back(std::move(record));
    stream.remove_prefix(*bytes);
  }
}

TEST_CASE("records reassemble across fragments, whatever part has arrived", "[nfs][rpc]") {
  const std::string stream = Fragment("first", false) + Fragment("-second", false) +
                             Fragment("-third", true) + Fragment("", true) + Fragment("solo", true);
  CHECK(SplitRecords(stream, 1024) == std::vector<std::string>{"first-second-third", "", "solo"});
  // Every prefix of the stream yields the records it holds whole, and asks for more bytes
  // than it has for the rest.
  const std::size_t first_end = stream.find(Fragment("", true));
  for (std::size_t n = 0; n < stream.size(); ++n) {
    INFO("the first " << n << " bytes");
    const std::vector<std::string> got = SplitRecords(std::string_view(stream).substr(0, n), 1024);
    CHECK(got.size() == (n < first_end       ? 0U
                         : n < first_end + 4 ? 1U
                         : n < stream.size() ? 2U
                                             : 3U));
  }
}

TEST_CASE("records over the limit are refused, even split in fragments", "[nfs][rpc]") {
  CHECK_FALSE(MeasureRecord(Fragment(std::string(17, 'x'), true), 16).ok());
  const std::string ten = Fragment(std::string(10, 'x'), false);
  CHECK(*MeasureRecord(ten, 16) == ten.size() + 4);  // needs the next mark
  CHECK_FALSE(MeasureRecord(ten + Fragment(std::string(10, 'x'), true), 16).ok());
  // A 2 GiB fragment header is refused from its 4 bytes alone.
  CHECK_FALSE(MeasureRecord(std::string("\xff\xff\xff\xff", 4), 1 << 20).ok());
  // So is a record in more fragments than kMaxRecordFragments, however small.
  std::string empties;
  for (std::size_t i = 0; i <= kMaxRecordFragments; ++i) empties += Fragment("", false);
  CHECK_FALSE(MeasureRecord(empties, 1 << 20).ok());
}

TEST_CASE("AUTH_SYS credentials round-trip and are bounded", "[nfs][rpc]") {
  AuthSys cred{42, "client.example", 1000, 100, {100, 4, 24}};
  XdrEncoder e;
  EncodeAuthSys(e, cred);
  Result<AuthSys> back = DecodeAuthSys(e.bytes());
  REQUIRE(back.ok());
  CHECK(back->stamp == 42);
  CHECK(back->machine_name == "client.example");
  CHECK(back->uid == 1000);
  CHECK(back->gid == 100);
  CHECK(back->gids == std::vector<std::uint32_t>{100, 4, 24});

  AuthSys long_name{1, std::string(256, 'm'), 0, 0, {}};
  XdrEncoder e2;
  EncodeAuthSys(e2, long_name);
  CHECK_FALSE(DecodeAuthSys(e2.bytes()).ok());
  AuthSys many_gids{1, "h", 0, 0, std::vector<std::uint32_t>(17, 5)};
  XdrEncoder e3;
  EncodeAuthSys(e3, many_gids);
  CHECK_FALSE(DecodeAuthSys(e3.bytes()).ok());
}

struct Fixture {
  test::TestVolume volume;
  Dispatcher dispatcher{*volume.handler()};

  ReplyHeader Reply(const std::string& call, std::string* results = nullptr) {
    Result<std::string> sealed = dispatcher.Handle(call, "test");
    REQUIRE(sealed.ok());
    std::string body = test::ReplyBody(*sealed);
    REQUIRE(!body.empty());
    XdrDecoder in(body);
    Result<ReplyHeader> h = DecodeReplyHeader(in);
    REQUIRE(h.ok());
    CHECK(h->xid == 77);
    if (results) *results = std::string(in.Rest());
    return *h;
  }
};

TEST_CASE_METHOD(Fixture, "RPC error replies", "[nfs][rpc]") {
  SECTION("NULL answers SUCCESS with empty results, AUTH_NONE allowed") {
    std::string results;
    ReplyHeader r = Reply(test::MakeCall(kNfsProgram, 3, 0, {}, 0), &results);
    CHECK(r.reply_stat == ReplyStat::kAccepted);
    CHECK(r.accept_stat == AcceptStat::kSuccess);
    CHECK(results.empty());
    CHECK(Reply(test::MakeCall(kMountProgram, 3, 0)).accept_stat == AcceptStat::kSuccess);
  }
  SECTION("rpcvers 3 is denied with RPC_MISMATCH 2..2") {
    ReplyHeader r = Reply(test::MakeCall(kNfsProgram, 3, 0, {}, 1, test::AuthSysBody(), 3));
    CHECK(r.reply_stat == ReplyStat::kDenied);
    CHECK(r.reject_stat == RejectStat::kRpcMismatch);
    CHECK(r.mismatch_low == 2);
    CHECK(r.mismatch_high == 2);
  }
  SECTION("unknown program is PROG_UNAVAIL") {
    CHECK(Reply(test::MakeCall(100000, 2, 0)).accept_stat == AcceptStat::kProgUnavail);
  }
  SECTION("NFS v4 and MOUNT v1 are PROG_MISMATCH 3..3") {
    ReplyHeader r = Reply(test::MakeCall(kNfsProgram, 4, 0));
    CHECK(r.accept_stat == AcceptStat::kProgMismatch);
    CHECK(r.mismatch_low == 3);
    CHECK(r.mismatch_high == 3);
    CHECK(Reply(test::MakeCall(kMountProgram, 1, 1)).accept_stat == AcceptStat::kProgMismatch);
  }
  SECTION("unknown procedures are PROC_UNAVAIL") {
    CHECK(Reply(test::MakeCall(kNfsProgram, 3, 22)).accept_stat == AcceptStat::kProcUnavail);
    CHECK(Reply(test::MakeCall(kMountProgram, 3, 6)).accept_stat == AcceptStat::kProcUnavail);
  }
  SECTION("AUTH_NONE on a real procedure runs as nobody; other flavors are AUTH_TOOWEAK") {
    auto getattr = [](XdrEncoder& e) { EncodeFh3(e, Fh3{std::string(16, 'x')}); };
    ReplyHeader r = Reply(test::MakeCall(kNfsProgram, 3, 1, getattr, 0));
    CHECK(r.reply_stat == ReplyStat::kAccepted);
    CHECK(r.accept_stat == AcceptStat::kSuccess);
    ReplyHeader gss = Reply(test::MakeCall(kNfsProgram, 3, 1, getattr, 6, "gss"));
    CHECK(gss.reply_stat == ReplyStat::kDenied);
    CHECK(gss.reject_stat == RejectStat::kAuthError);
    CHECK(gss.auth_stat == AuthStat::kTooWeak);
  }
  SECTION("a malformed AUTH_SYS body is AUTH_BADCRED") {
    ReplyHeader r = Reply(test::MakeCall(kNfsProgram, 3, 0, {}, 1, "junk"));
    CHECK(r.reply_stat == ReplyStat::kDenied);
    CHECK(r.auth_stat == AuthStat::kBadCred);
  }
  SECTION("undecodable arguments are GARBAGE_ARGS") {
    auto junk = [](XdrEncoder& e) { e.PutU32(1000); };  // a 1000-byte handle, absent
    CHECK(Reply(test::MakeCall(kNfsProgram, 3, 1, junk)).accept_stat == AcceptStat::kGarbageArgs);
    CHECK(Reply(test::MakeCall(kNfsProgram, 3, 0, junk)).accept_stat == AcceptStat::kGarbageArgs);
  }
}

TEST_CASE_METHOD(Fixture, "records that are not calls are refused, broken call headers denied",
                 "[nfs][rpc]") {
  CHECK_FALSE(dispatcher.Handle("", "test").ok());
  CHECK_FALSE(dispatcher.Handle(std::string("\0\0\0\1\0\0\0\1", 8), "test").ok());  // a REPLY
  const std::string call = test::MakeCall(kNfsProgram, 3, 0);
  for (std::size_t n = 0; n < call.size(); ++n) {
    INFO("call header cut to " << n << " bytes");
    Result<std::string> reply = dispatcher.Handle(std::string_view(call).substr(0, n), "test");
    if (n < 8) {
      CHECK_FALSE(reply.ok());  // no xid and message type: nothing to answer
    } else {
      // A CALL with an xid whose header breaks off: denied as a bad credential.
      REQUIRE(reply.ok());
      const std::string body = test::ReplyBody(*reply);
      XdrDecoder in(body);
      Result<ReplyHeader> h = DecodeReplyHeader(in);
      REQUIRE(h.ok());
      CHECK(h->xid == 77);
      CHECK(h->reply_stat == ReplyStat::kDenied);
      CHECK(h->reject_stat == RejectStat::kAuthError);
      CHECK(h->auth_stat == AuthStat::kBadCred);
    }
  }
}

}  // namespace
}  // namespace zerofs::nfs
