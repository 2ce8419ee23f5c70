// Transmission requests without a network: validation errors and execution on a device.
#include "zerofs/nbd/transmission.h"

#include <catch2/catch.hpp>
#include <memory>

#include "nbd_test_util.h"

using namespace zerofs::nbd;
using nbdtest::BigEndian;

namespace {

constexpr std::uint16_t Cmd(Command c) {
  return static_cast<std::uint16_t>(c);
}

Session MakeSession(std::shared_ptr<BlockDevice> device, bool structured = false) {
  Session s;
  s.export_name = "test";
  s.device = std::move(device);
  s.size_bytes = s.device->Size();
  s.caps = s.device->Capabilities();
  s.structured_replies = structured;
  s.transmission_flags = TransmissionFlags(s.caps, structured);
  return s;
}

Error Check(const Session& s, Command c, std::uint64_t offset, std::uint32_t length,
            std::uint16_t flags = 0) {
  std::string message;
  Error e = ValidateRequest(s, {flags, Cmd(c), 1, offset, length}, &message);
  if (e != Error::kOk) CHECK(!message.empty());
  return e;
}

std::uint32_t SimpleError(const EncodedReply& reply) {
  auto h = DecodeSimpleReplyHeader(reply.Flatten().substr(0, kSimpleReplyHeaderBytes));
  REQUIRE(h.ok());
  return h->error;
}

std::string SimpleData(const EncodedReply& reply) {
  return reply.Flatten().substr(kSimpleReplyHeaderBytes);
}

EncodedReply Run(const Session& s, Command c, std::uint64_t offset, std::uint32_t length,
                 std::uint16_t flags = 0, std::string payload = {}) {
  Request r{flags, Cmd(c), 77, offset, length};
  REQUIRE(ValidateRequest(s, r, nullptr) == Error::kOk);
  return ExecuteRequest(s, r, std::move(payload));
}

}  // namespace

TEST_CASE("transmission flags follow the device capabilities") {
  BlockDeviceCapabilities caps;
  CHECK(TransmissionFlags(caps, false) == (kTxHasFlags | kTxSendFlush | kTxSendFua));
  caps.can_trim = caps.can_zero = caps.can_cache = caps.can_multi_conn = true;
  std::uint16_t f = TransmissionFlags(caps, true);
  for (std::uint16_t bit : {kTxSendTrim, kTxSendWriteZeroes, kTxSendFastZero, kTxSendCache,
                            kTxCanMultiConn, kTxSendDf}) {
    CHECK((f & bit) != 0);
  }
  caps.read_only = true;
  f = TransmissionFlags(caps, false);
  CHECK((f & kTxReadOnly) != 0);
  CHECK((f & (kTxSendTrim | kTxSendWriteZeroes | kTxSendFua | kTxSendFastZero)) == 0);
}

TEST_CASE("status codes map to NBD errors") {
  CHECK(ErrorForStatus(zerofs::Status::Ok()) == Error::kOk);
  CHECK(ErrorForStatus(zerofs::Status::InvalidArgument("")) == Error::kInval);
  CHECK(ErrorForStatus(zerofs::Status::NoSpace("")) == Error::kNoSpc);
  CHECK(ErrorForStatus(zerofs::Status::PermissionDenied("")) == Error::kPerm);
  CHECK(ErrorForStatus(zerofs::Status::NotSupported("")) == Error::kNotSup);
  CHECK(ErrorForStatus(zerofs::Status::Cancelled("")) == Error::kShutdown);
  for (auto s : {zerofs::Status::IoError(""), zerofs::Status::Corruption(""),
                 zerofs::Status::Unavailable(""), zerofs::Status::PreconditionFailed(""),
                 zerofs::Status::Internal(""), zerofs::Status::NotFound("")}) {
    CHECK(ErrorForStatus(s) == Error::kIo);
  }
}

TEST_CASE("requests beyond the export: ENOSPC for writes, EINVAL otherwise") {
  Session s = MakeSession(std::make_shared<MemoryBlockDevice>(1 << 20, MemoryDeviceOptions{}));
  CHECK(Check(s, Command::kRead, 0, 1 << 20) == Error::kOk);
  CHECK(Check(s, Command::kRead, 1, 1 << 20) == Error::kInval);
  CHECK(Check(s, Command::kRead, 1 << 20, 0) == Error::kOk);
  CHECK(Check(s, Command::kRead, (1 << 20) + 1, 0) == Error::kInval);
  CHECK(Check(s, Command::kWrite, (1 << 20) - 1, 2) == Error::kNoSpc);
  CHECK(Check(s, Command::kWriteZeroes, 1 << 20, 1) == Error::kNoSpc);
  CHECK(Check(s, Command::kTrim, 1 << 20, 1) == Error::kInval);
  CHECK(Check(s, Command::kCache, 1 << 20, 1) == Error::kInval);
  // offset + length overflows 64 bits
  CHECK(Check(s, Command::kRead, ~std::uint64_t{0}, 2) == Error::kInval);
  CHECK(Check(s, Command::kWrite, ~std::uint64_t{0}, 2) == Error::kNoSpc);
}

TEST_CASE("alignment to the minimum block size and the maximum request size") {
  MemoryDeviceOptions opts;
  opts.min_block_bytes = 512;
  Session s = MakeSession(std::make_shared<MemoryBlockDevice>(64 << 20, opts));
  CHECK(Check(s, Command::kRead, 512, 1024) == Error::kOk);
  CHECK(Check(s, Command::kRead, 100, 512) == Error::kInval);
  CHECK(Check(s, Command::kWrite, 512, 100) == Error::kInval);
  CHECK(Check(s, Command::kTrim, 1, 512) == Error::kInval);
  CHECK(Check(s, Command::kRead, 0, kDefaultMaxBlockBytes) == Error::kOk);
  CHECK(Check(s, Command::kRead, 0, kDefaultMaxBlockBytes + 512) == Error::kInval);
  CHECK(Check(s, Command::kWrite, 0, kDefaultMaxBlockBytes + 512) == Error::kInval);
  // TRIM and WRITE_ZEROES carry no payload: no maximum.
  CHECK(Check(s, Command::kTrim, 0, 48 << 20) == Error::kOk);
  CHECK(Check(s, Command::kWriteZeroes, 0, 48 << 20) == Error::kOk);
}

TEST_CASE("read-only exports refuse writes with EPERM") {
  MemoryDeviceOptions opts;
  opts.read_only = true;
  Session s = MakeSession(std::make_shared<MemoryBlockDevice>(1 << 20, opts));
  CHECK(Check(s, Command::kWrite, 0, 512) == Error::kPerm);
  CHECK(Check(s, Command::kTrim, 0, 512) == Error::kPerm);
  CHECK(Check(s, Command::kWriteZeroes, 0, 512) == Error::kPerm);
  CHECK(Check(s, Command::kRead, 0, 512) == Error::kOk);
  CHECK(Check(s, Command::kFlush, 0, 0) == Error::kOk);
}

TEST_CASE("unknown commands and flags not valid for a command are EINVAL") {
  Session s = MakeSession(std::make_shared<MemoryBlockDevice>(1 << 20, MemoryDeviceOptions{}));
  std::string message;
  CHECK(ValidateRequest(s, {0, 42, 1, 0, 0}, &message) == Error::kInval);
  CHECK(message.find("42") != std::string::npos);
  CHECK(Check(s, Command::kBlockStatus, 0, 512) == Error::kInval);
  CHECK(Check(s, Command::kResize, 0, 0) == Error::kInval);
  CHECK(Check(s, Command::kRead, 0, 512, kCmdFlagDf) == Error::kInval);  // no structured replies
  CHECK(Check(s, Command::kWrite, 0, 512, kCmdFlagNoHole) == Error::kInval);
  CHECK(Check(s, Command::kWrite, 0, 512, 1U << 9) == Error::kInval);
  CHECK(Check(s, Command::kRead, 0, 512, kCmdFlagFua) == Error::kOk);
  CHECK(Check(s, Command::kWriteZeroes, 0, 512, kCmdFlagNoHole | kCmdFlagFastZero | kCmdFlagFua) ==
        Error::kOk);
  CHECK(Check(s, Command::kFlush, 0, 0, kCmdFlagFua) == Error::kOk);
  CHECK(Check(s, Command::kFlush, 4096, 0) == Error::kInval);
  Session st = MakeSession(s.device, true);
  CHECK(Check(st, Command::kRead, 0, 512, kCmdFlagDf) == Error::kOk);
}

TEST_CASE("write, read back, FUA and FLUSH reach the device") {
  auto dev = std::make_shared<MemoryBlockDevice>(1 << 20, MemoryDeviceOptions{});
  Session s = MakeSession(dev);
  CHECK(SimpleError(Run(s, Command::kWrite, 1000, 5, kCmdFlagFua, "hello")) == 0);
  CHECK(dev->fua_count() == 1);
  EncodedReply read = Run(s, Command::kRead, 998, 9);
  CHECK(SimpleError(read) == 0);
  CHECK(SimpleData(read) == std::string("\0\0hello\0\0", 9));
  CHECK(SimpleError(Run(s, Command::kFlush, 0, 0)) == 0);
  CHECK(dev->flush_count() == 1);
  CHECK(SimpleError(Run(s, Command::kCache, 0, 4096)) == 0);
  CHECK(SimpleError(Run(s, Command::kTrim, 0, 1 << 20)) == 0);
  CHECK(SimpleData(Run(s, Command::kRead, 1000, 5)) == std::string(5, '\0'));
  CHECK(SimpleError(Run(s, Command::kRead, 0, 0)) == 0);
}

TEST_CASE("structured reads use data chunks, errors become error chunks") {
  auto dev = std::make_shared<nbdtest::TestDevice>(1 << 20);
  Session s = MakeSession(dev, true);
  REQUIRE(dev->Write(0, "abc", false).ok());
  auto chunks = nbdtest::ParseChunks(Run(s, Command::kRead, 0, 3).Flatten());
  REQUIRE(chunks.size() == 1);
  CHECK(chunks[0].type == static_cast<std::uint16_t>(ReplyType::kOffsetData));
  CHECK(chunks[0].cookie == 77);
  CHECK(chunks[0].payload.substr(8) == "abc");

  dev->fail_with = zerofs::Status::Unavailable("bucket unreachable");
  auto failed = nbdtest::ParseChunks(Run(s, Command::kRead, 0, 3).Flatten());
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].type == static_cast<std::uint16_t>(ReplyType::kError));
  CHECK(BigEndian(failed[0].payload.substr(0, 4)) == 5);  // EIO
  CHECK(failed[0].payload.find("bucket unreachable") != std::string::npos);
}

TEST_CASE("device errors reach the client as the mapped errno") {
  auto dev = std::make_shared<nbdtest::TestDevice>(1 << 20);
  Session s = MakeSession(dev);
  dev->fail_with = zerofs::Status::NoSpace("quota");
  CHECK(SimpleError(Run(s, Command::kWrite, 0, 1, 0, "x")) == 28);
  dev->fail_with = zerofs::Status::PermissionDenied("replica");
  CHECK(SimpleError(Run(s, Command::kWrite, 0, 1, 0, "x")) == 1);
  dev->fail_with = zerofs::Status::PreconditionFailed("fenced");
  CHECK(SimpleError(Run(s, Command::kFlush, 0, 0)) == 5);
  dev->fail_with = zerofs::Status::NotSupported("no trim");
  CHECK(SimpleError(Run(s, Command::kTrim, 0, 512)) == 22);  // ENOTSUP only for FAST_ZERO
  CHECK(SimpleError(Run(s, Command::kWriteZeroes, 0, 512)) == 5);
  CHECK(SimpleError(Run(s, Command::kRead, 0, 512)) == 5);
}

TEST_CASE("FAST_ZERO: ENOTSUP without touching data when zeroing cannot be fast") {
  MemoryDeviceOptions slow;
  slow.fast_zero = false;
  auto dev = std::make_shared<MemoryBlockDevice>(1 << 20, slow);
  Session s = MakeSession(dev);
  REQUIRE(dev->Write(0, std::string(8192, 'z'), false).ok());
  CHECK(SimpleError(Run(s, Command::kWriteZeroes, 0, 8192, kCmdFlagFastZero)) == 95);
  CHECK(SimpleData(Run(s, Command::kRead, 0, 4)) == "zzzz");
  CHECK(SimpleError(Run(s, Command::kWriteZeroes, 0, 8192)) == 0);  // without the flag: works
  CHECK(SimpleData(Run(s, Command::kRead, 0, 4)) == std::string(4, '\0'));

  auto fast_dev = std::make_shared<MemoryBlockDevice>(1 << 20, MemoryDeviceOptions{});
  Session fast = MakeSession(fast_dev);
  REQUIRE(fast_dev->Write(0, std::string(8192, 'z'), false).ok());
  CHECK(SimpleError(Run(fast, Command::kWriteZeroes, 0, 8192,
                        kCmdFlagFastZero | kCmdFlagNoHole | kCmdFlagFua)) == 0);
  CHECK(SimpleData(Run(fast, Command::kRead, 0, 4)) == std::string(4, '\0'));
  CHECK(fast_dev->fua_count() == 1);
}
