// The handshake state machine: every option this server answers, and how it fails.
#include "zerofs/nbd/negotiator.h"

#include <catch2/catch.hpp>

#include "nbd_test_util.h"
#include "zerofs/nbd/memory_export_provider.h"

using namespace zerofs::nbd;
using nbdtest::BigEndian;
using nbdtest::ParseOptionReplies;

namespace {

constexpr std::uint32_t Opt(Option o) {
  return static_cast<std::uint32_t>(o);
}
constexpr std::uint32_t Rep(OptionReply r) {
  return static_cast<std::uint32_t>(r);
}

struct Fixture {
  Fixture() {
    REQUIRE(provider.AddMemory({"disk1", 1 << 20, {}}).ok());
    MemoryDeviceOptions ro;
    ro.read_only = true;
    REQUIRE(provider.AddMemory({"ro", 4096, ro}).ok());
  }
  MemoryExportProvider provider;
};

std::string InfoPayload(std::string name, std::vector<std::uint16_t> items = {}) {
  return EncodeInfoRequest({std::move(name), std::move(items)});
}

}  // namespace

TEST_CASE("greeting offers fixed newstyle and no zeroes") {
  CHECK(BigEndian(Negotiator::Greeting().substr(16, 2)) == (kFlagFixedNewstyle | kFlagNoZeroes));
}

TEST_CASE("unknown client flags are refused") {
  Fixture f;
  Negotiator n(f.provider, {});
  CHECK(n.AcceptClientFlags(kClientFixedNewstyle | kClientNoZeroes).ok());
  CHECK(!n.AcceptClientFlags(1U << 5).ok());
}

TEST_CASE("NBD_OPT_LIST names every export with its description, then ACK") {
  Fixture f;
  Negotiator n(f.provider, {});
  OptionOutcome out = n.HandleOption(Opt(Option::kList), "");
  CHECK(out.next == OptionOutcome::Next::kContinue);
  auto replies = ParseOptionReplies(out.reply);
  REQUIRE(replies.size() == 3);
  CHECK(replies[0].type == Rep(OptionReply::kServer));
  CHECK(replies[0].data.substr(4, 5) == "disk1");
  CHECK(replies[0].data.substr(9).find("1048576 bytes") != std::string::npos);
  CHECK(replies[1].data.substr(4, 2) == "ro");
  CHECK(replies[2].type == Rep(OptionReply::kAck));
  for (const auto& r : replies) CHECK(r.option == Opt(Option::kList));

  auto bad = ParseOptionReplies(n.HandleOption(Opt(Option::kList), "x").reply);
  REQUIRE(bad.size() == 1);
  CHECK(bad[0].type == Rep(OptionReply::kErrInvalid));
}

TEST_CASE("NBD_OPT_INFO describes an export and stays in negotiation") {
  Fixture f;
  Negotiator n(f.provider, {});
  OptionOutcome out = n.HandleOption(
      Opt(Option::kInfo), InfoPayload("disk1", {static_cast<std::uint16_t>(InfoType::kName),
                                                static_cast<std::uint16_t>(InfoType::kDescription),
                                                static_cast<std::uint16_t>(InfoType::kBlockSize)}));
  CHECK(out.next == OptionOutcome::Next::kContinue);
  auto replies = ParseOptionReplies(out.reply);
  REQUIRE(replies.size() == 5);
  CHECK(replies[0].type == Rep(OptionReply::kInfo));
  CHECK(BigEndian(replies[0].data.substr(0, 2)) == 0);          // NBD_INFO_EXPORT
  CHECK(BigEndian(replies[0].data.substr(2, 8)) == (1 << 20));  // size
  std::uint64_t flags = BigEndian(replies[0].data.substr(10, 2));
  CHECK((flags & kTxHasFlags) != 0);
  CHECK((flags & kTxReadOnly) == 0);
  CHECK((flags & kTxSendTrim) != 0);
  CHECK((flags & kTxSendWriteZeroes) != 0);
  CHECK((flags & kTxSendFastZero) != 0);
  CHECK((flags & kTxCanMultiConn) != 0);
  CHECK((flags & kTxSendDf) == 0);  // structured replies not negotiated
  CHECK(replies[1].data == std::string("\0\1", 2) + "disk1");
  CHECK(BigEndian(replies[2].data.substr(0, 2)) == 2);  // NBD_INFO_DESCRIPTION
  CHECK(replies[3].data == EncodeInfoBlockSize(1, 4096, kDefaultMaxBlockBytes));
  CHECK(replies[4].type == Rep(OptionReply::kAck));
}

TEST_CASE("NBD_OPT_GO enters transmission with the negotiated session") {
  Fixture f;
  Negotiator n(f.provider, {});
  CHECK(ParseOptionReplies(n.HandleOption(Opt(Option::kStructuredReply), "").reply)[0].type ==
        Rep(OptionReply::kAck));
  OptionOutcome out = n.HandleOption(Opt(Option::kGo), InfoPayload("disk1"));
  REQUIRE(out.next == OptionOutcome::Next::kTransmission);
  REQUIRE(out.session.has_value());
  CHECK(out.session->export_name == "disk1");
  CHECK(out.session->size_bytes == 1 << 20);
  CHECK(out.session->structured_replies);
  CHECK((out.session->transmission_flags & kTxSendDf) != 0);
  auto replies = ParseOptionReplies(out.reply);
  REQUIRE(!replies.empty());
  CHECK(replies.back().type == Rep(OptionReply::kAck));
}

TEST_CASE("NBD_OPT_GO with the empty name selects the default export") {
  Fixture f;
  Negotiator n(f.provider, {});
  OptionOutcome out = n.HandleOption(Opt(Option::kGo), InfoPayload(""));
  REQUIRE(out.session.has_value());
  CHECK(out.session->export_name == "disk1");
}

TEST_CASE("NBD_OPT_GO errors: unknown export, malformed payload") {
  Fixture f;
  Negotiator n(f.provider, {});
  OptionOutcome unknown = n.HandleOption(Opt(Option::kGo), InfoPayload("nope"));
  CHECK(unknown.next == OptionOutcome::Next::kContinue);
  auto r = ParseOptionReplies(unknown.reply);
  REQUIRE(r.size() == 1);
  CHECK(r[0].type == Rep(OptionReply::kErrUnknown));
  CHECK(r[0].data.find("nope") != std::string::npos);

  auto bad = ParseOptionReplies(n.HandleOption(Opt(Option::kGo), "\0\0").reply);
  REQUIRE(bad.size() == 1);
  CHECK(bad[0].type == Rep(OptionReply::kErrInvalid));
  // The client may try again after errors.
  CHECK(n.HandleOption(Opt(Option::kGo), InfoPayload("disk1")).next ==
        OptionOutcome::Next::kTransmission);
}

TEST_CASE("an export added after the handshake began is found") {
  Fixture f;
  Negotiator n(f.provider, {});
  CHECK(ParseOptionReplies(n.HandleOption(Opt(Option::kInfo), InfoPayload("late")).reply)[0].type ==
        Rep(OptionReply::kErrUnknown));
  REQUIRE(f.provider.AddMemory({"late", 8192, {}}).ok());
  CHECK(n.HandleOption(Opt(Option::kGo), InfoPayload("late")).next ==
        OptionOutcome::Next::kTransmission);
}

TEST_CASE("NBD_OPT_EXPORT_NAME: reply with or without zero padding, unknown name hangs up") {
  Fixture f;
  Negotiator plain(f.provider, {});
  REQUIRE(plain.AcceptClientFlags(kClientFixedNewstyle).ok());
  OptionOutcome out = plain.HandleOption(Opt(Option::kExportName), "disk1");
  CHECK(out.next == OptionOutcome::Next::kTransmission);
  CHECK(out.reply.size() == 10 + kExportNameZeroPadBytes);
  CHECK(BigEndian(out.reply.substr(0, 8)) == 1 << 20);

  Negotiator nz(f.provider, {});
  REQUIRE(nz.AcceptClientFlags(kClientFixedNewstyle | kClientNoZeroes).ok());
  CHECK(nz.HandleOption(Opt(Option::kExportName), "ro").reply.size() == 10);

  Negotiator missing(f.provider, {});
  OptionOutcome gone = missing.HandleOption(Opt(Option::kExportName), "nope");
  CHECK(gone.next == OptionOutcome::Next::kClose);
  CHECK(gone.reply.empty());
}

TEST_CASE("STRUCTURED_REPLY with data, STARTTLS, unknown options and ABORT") {
  Fixture f;
  Negotiator n(f.provider, {});
  CHECK(ParseOptionReplies(n.HandleOption(Opt(Option::kStructuredReply), "x").reply)[0].type ==
        Rep(OptionReply::kErrInvalid));
  CHECK(!n.structured_replies());
  CHECK(ParseOptionReplies(n.HandleOption(Opt(Option::kStartTls), "").reply)[0].type ==
        Rep(OptionReply::kErrPolicy));
  for (std::uint32_t option :
       {Opt(Option::kSetMetaContext), Opt(Option::kListMetaContext), 4U, 99U, 0x80000000U}) {
    OptionOutcome out = n.HandleOption(option, "whatever");
    CHECK(out.next == OptionOutcome::Next::kContinue);
    auto r = ParseOptionReplies(out.reply);
    REQUIRE(r.size() == 1);
    CHECK(r[0].option == option);
    CHECK(r[0].type == Rep(OptionReply::kErrUnsup));
  }
  OptionOutcome abort = n.HandleOption(Opt(Option::kAbort), "");
  CHECK(abort.next == OptionOutcome::Next::kClose);
  CHECK(ParseOptionReplies(abort.reply)[0].type == Rep(OptionReply::kAck));
}

TEST_CASE("server policy: forced read-only and capped request size") {
  Fixture f;
  NegotiatorOptions options;
  options.force_read_only = true;
  options.max_request_bytes = 1 << 20;
  Negotiator n(f.provider, options);
  OptionOutcome out = n.HandleOption(Opt(Option::kGo), InfoPayload("disk1"));
  REQUIRE(out.session.has_value());
  CHECK(out.session->caps.read_only);
  CHECK((out.session->transmission_flags & kTxReadOnly) != 0);
  CHECK((out.session->transmission_flags & (kTxSendTrim | kTxSendWriteZeroes | kTxSendFua)) == 0);
  CHECK(out.session->caps.max_block_bytes == 1 << 20);
}

TEST_CASE("too many options close the connection") {
  Fixture f;
  NegotiatorOptions options;
  options.max_options = 3;
  Negotiator n(f.provider, options);
  for (int i = 0; i < 3; ++i) CHECK(n.HandleOption(99, "").next == OptionOutcome::Next::kContinue);
  CHECK(n.HandleOption(99, "").next == OptionOutcome::Next::kClose);
}
