// ONC RPC version 2 (RFC 5531) over TCP: record marking, call headers, AUTH_SYS
// credentials and every reply header the server sends.
//
// Everything here is a pure function of bytes, so it is testable and fuzzable without
// sockets, and thread-safe. Constants and layouts are those of RFC 5531: rpc.x (section 9),
// record marking (section 11) and AUTH_SYS (appendix A).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "zerofs/common/result.h"
#include "zerofs/common/status.h"
#include "zerofs/nfs/xdr.h"

namespace zerofs::nfs {

inline constexpr std::uint32_t kRpcVersion = 2;
inline constexpr std::uint32_t kNfsProgram = 100003;
inline constexpr std::uint32_t kNfsVersion = 3;
inline constexpr std::uint32_t kMountProgram = 100005;
inline constexpr std::uint32_t kMountVersion = 3;
// The portmapper (RFC 1833, version 2), for clients that ask it for the NFS and MOUNT ports.
inline constexpr std::uint32_t kPortmapProgram = 100000;
inline constexpr std::uint32_t kPortmapVersion = 2;
inline constexpr std::uint32_t kIpProtoTcp = 6;
inline constexpr std::uint32_t kIpProtoUdp = 17;

enum class MsgType : std::uint32_t { kCall = 0, kReply = 1 };
enum class ReplyStat : std::uint32_t { kAccepted = 0, kDenied = 1 };
enum class AcceptStat : std::uint32_t {
  kSuccess = 0,
  kProgUnavail = 1,
  kProgMismatch = 2,
  kProcUnavail = 3,
  kGarbageArgs = 4,
  kSystemErr = 5,
};
enum class RejectStat : std::uint32_t { kRpcMismatch = 0, kAuthError = 1 };
enum class AuthStat : std::uint32_t {
  kOk = 0,
  kBadCred = 1,
  kRejectedCred = 2,
  kBadVerf = 3,
  kRejectedVerf = 4,
  kTooWeak = 5,
};
enum class AuthFlavor : std::uint32_t { kNone = 0, kSys = 1 };

// opaque_auth body<400>.
inline constexpr std::size_t kMaxAuthBodyBytes = 400;
// authsys_parms: machinename<255>, gids<16>.
inline constexpr std::size_t kMaxMachineNameBytes = 255;
inline constexpr std::size_t kMaxAuthSysGids = 16;
// Record marking: the high bit of the 4-byte fragment header marks the last fragment.
inline constexpr std::uint32_t kLastFragmentBit = 0x80000000U;
inline constexpr std::size_t kRecordMarkBytes = 4;

struct OpaqueAuth {
  std::uint32_t flavor = 0;
  std::string body;
};

struct AuthSys {
  std::uint32_t stamp = 0;
  std::string machine_name;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::vector<std::uint32_t> gids;
};

struct CallHeader {
  std::uint32_t xid = 0;
  std::uint32_t rpc_version = 0;
  // The fields below are decoded only when rpc_version == 2.
  std::uint32_t program = 0;
  std::uint32_t version = 0;
  std::uint32_t procedure = 0;
  OpaqueAuth cred;
  OpaqueAuth verf;
};

// Decodes a call message up to its arguments, leaving `in` at the first argument byte.
// A message that is not a CALL, or is cut short, is a Corruption error (there is nothing
// sensible to reply to). A call with rpc_version != 2 decodes only xid and rpc_version.
Result<CallHeader> DecodeCallHeader(XdrDecoder& in);
// The body of an AUTH_SYS credential; trailing bytes are malformed.
Result<AuthSys> DecodeAuthSys(std::string_view body);
void EncodeAuthSys(XdrEncoder& out, const AuthSys& cred);
// A call message header (client side, for tests and tools).
void EncodeCallHeader(XdrEncoder& out, const CallHeader& call);

// Reply headers. Each starts a record: the encoder must be empty, and the first 4 bytes
// are a placeholder for the record mark that SealRecord fills in. After
// BeginSuccessReply, append the procedure's results.
void BeginSuccessReply(XdrEncoder& out, std::uint32_t xid);
std::string AcceptErrorReply(std::uint32_t xid, AcceptStat stat);  // not SUCCESS/MISMATCH
std::string ProgMismatchReply(std::uint32_t xid, std::uint32_t low, std::uint32_t high);
std::string RpcMismatchReply(std::uint32_t xid);
std::string AuthErrorReply(std::uint32_t xid, AuthStat stat);
// Fills the record mark of a one-fragment record built after a 4-byte placeholder.
std::string SealRecord(std::string bytes);

// Decoded reply header (client side, for tests): the fields present depend on the stats.
struct ReplyHeader {
  std::uint32_t xid = 0;
  ReplyStat reply_stat = ReplyStat::kAccepted;
  AcceptStat accept_stat = AcceptStat::kSuccess;
  RejectStat reject_stat = RejectStat::kRpcMismatch;
  AuthStat auth_stat = AuthStat::kOk;
  std::uint32_t mismatch_low = 0;
  std::uint32_t mismatch_high = 0;
};
// Decodes a reply record body (no record mark); `in` is left at the results.
Result<ReplyHeader> DecodeReplyHeader(XdrDecoder& in);

// Record marking over a buffer, for the framed connection: the number of bytes from the
// front of `buffered` that make its first whole record, marks included, or a number larger
// than buffered.size() when more bytes must come first (the next mark, or the rest of the
// last fragment). Corruption past max_record_bytes of fragment data or
// kMaxRecordFragments fragments.
inline constexpr std::size_t kMaxRecordFragments = 1024;
Result<std::size_t> MeasureRecord(std::string_view buffered, std::size_t max_record_bytes);
// Turns what MeasureRecord measured into the record itself (the fragments' data, joined).
void StripRecordMarks(std::string& framed);

}  // namespace zerofs::nfs
