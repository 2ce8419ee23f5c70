// Constants of the NBD wire protocol.
//
// The authority is the upstream protocol document (NetworkBlockDevice/nbd, doc/proto.md);
// servers/nbd/README.md lists the subset this server speaks and the limits it enforces.
// Every multi-byte field on the wire is big-endian. Nothing here allocates or locks; the
// values are plain constants usable from any thread.
#pragma once

#include <cstddef>
#include <cstdint>

namespace zerofs::nbd {

// Magic numbers.
inline constexpr std::uint64_t kInitMagic = 0x4e42444d41474943ULL;    // "NBDMAGIC"
inline constexpr std::uint64_t kOptionMagic = 0x49484156454f5054ULL;  // "IHAVEOPT"
inline constexpr std::uint64_t kOptionReplyMagic = 0x0003e889045565a9ULL;
inline constexpr std::uint32_t kRequestMagic = 0x25609513U;
inline constexpr std::uint32_t kSimpleReplyMagic = 0x67446698U;
inline constexpr std::uint32_t kStructuredReplyMagic = 0x668e33efU;

// Handshake flags (16 bits, server -> client).
inline constexpr std::uint16_t kFlagFixedNewstyle = 1U << 0;
inline constexpr std::uint16_t kFlagNoZeroes = 1U << 1;

// Client flags (32 bits, client -> server). Any other bit closes the connection.
inline constexpr std::uint32_t kClientFixedNewstyle = 1U << 0;
inline constexpr std::uint32_t kClientNoZeroes = 1U << 1;

// Transmission flags (16 bits), describing one export.
inline constexpr std::uint16_t kTxHasFlags = 1U << 0;
inline constexpr std::uint16_t kTxReadOnly = 1U << 1;
inline constexpr std::uint16_t kTxSendFlush = 1U << 2;
inline constexpr std::uint16_t kTxSendFua = 1U << 3;
inline constexpr std::uint16_t kTxRotational = 1U << 4;
inline constexpr std::uint16_t kTxSendTrim = 1U << 5;
inline constexpr std::uint16_t kTxSendWriteZeroes = 1U << 6;
inline constexpr std::uint16_t kTxSendDf = 1U << 7;
inline constexpr std::uint16_t kTxCanMultiConn = 1U << 8;
inline constexpr std::uint16_t kTxSendResize = 1U << 9;
inline constexpr std::uint16_t kTxSendCache = 1U << 10;
inline constexpr std::uint16_t kTxSendFastZero = 1U << 11;

// Options sent during the handshake (NBD_OPT_*).
enum class Option : std::uint32_t {
  kExportName = 1,
  kAbort = 2,
  kList = 3,
  kPeekExport = 4,
  kStartTls = 5,
  kInfo = 6,
  kGo = 7,
  kStructuredReply = 8,
  kListMetaContext = 9,
  kSetMetaContext = 10,
};

// Option reply types (NBD_REP_*); errors have bit 31 set.
enum class OptionReply : std::uint32_t {
  kAck = 1,
  kServer = 2,
  kInfo = 3,
  kMetaContext = 4,
  kErrUnsup = 0x80000001U,
  kErrPolicy = 0x80000002U,
  kErrInvalid = 0x80000003U,
  kErrPlatform = 0x80000004U,
  kErrTlsReqd = 0x80000005U,
  kErrUnknown = 0x80000006U,
  kErrShutdown = 0x80000007U,
  kErrBlockSizeReqd = 0x80000008U,
  kErrTooBig = 0x80000009U,
};

// Information items of NBD_OPT_INFO / NBD_OPT_GO (NBD_INFO_*).
enum class InfoType : std::uint16_t {
  kExport = 0,
  kName = 1,
  kDescription = 2,
  kBlockSize = 3,
};

// Transmission commands (NBD_CMD_*).
enum class Command : std::uint16_t {
  kRead = 0,
  kWrite = 1,
  kDisc = 2,
  kFlush = 3,
  kTrim = 4,
  kCache = 5,
  kWriteZeroes = 6,
  kBlockStatus = 7,
  kResize = 8,
};

// Command flags (NBD_CMD_FLAG_*).
inline constexpr std::uint16_t kCmdFlagFua = 1U << 0;
inline constexpr std::uint16_t kCmdFlagNoHole = 1U << 1;
inline constexpr std::uint16_t kCmdFlagDf = 1U << 2;
inline constexpr std::uint16_t kCmdFlagReqOne = 1U << 3;
inline constexpr std::uint16_t kCmdFlagFastZero = 1U << 4;

// Structured reply chunk flags and types (NBD_REPLY_FLAG_*, NBD_REPLY_TYPE_*).
inline constexpr std::uint16_t kReplyFlagDone = 1U << 0;
enum class ReplyType : std::uint16_t {
  kNone = 0,
  kOffsetData = 1,
  kOffsetHole = 2,
  kBlockStatus = 5,
  kError = 0x8001,
  kErrorOffset = 0x8002,
};

// Error values of replies. The protocol fixes these numbers; they are not the host's errno.
enum class Error : std::uint32_t {
  kOk = 0,
  kPerm = 1,
  kIo = 5,
  kNoMem = 12,
  kInval = 22,
  kNoSpc = 28,
  kOverflow = 75,
  kNotSup = 95,
  kShutdown = 108,
};

// Fixed message sizes in bytes.
inline constexpr std::size_t kGreetingBytes = 18;  // magic, magic, handshake flags
inline constexpr std::size_t kClientFlagsBytes = 4;
inline constexpr std::size_t kOptionHeaderBytes = 16;       // magic, option, length
inline constexpr std::size_t kOptionReplyHeaderBytes = 20;  // magic, option, type, length
inline constexpr std::size_t kExportNameZeroPadBytes = 124;
inline constexpr std::size_t kRequestHeaderBytes =
    28;  // magic, flags, type, cookie, offset, length
inline constexpr std::size_t kSimpleReplyHeaderBytes = 16;  // magic, error, cookie
inline constexpr std::size_t kChunkHeaderBytes = 20;        // magic, flags, type, cookie, length

// Limits. Strings (export names, descriptions, messages) are at most 4096 bytes by the
// protocol; an option payload larger than kMaxOptionPayloadBytes is treated as a protocol
// violation, since no option this server understands comes near it.
inline constexpr std::size_t kMaxStringBytes = 4096;
inline constexpr std::uint32_t kMaxOptionPayloadBytes = 64 * 1024;
// The largest READ/WRITE payload that every client must be allowed (the protocol's
// denial-of-service threshold), and the default maximum block size advertised.
inline constexpr std::uint32_t kDefaultMaxBlockBytes = 32U * 1024 * 1024;

inline constexpr std::uint16_t kDefaultPort = 10809;

}  // namespace zerofs::nbd
