// ONC RPC v2 messages and record marking; see rpc.h.
#include "zerofs/nfs/rpc.h"

#include <algorithm>
#include <cstring>

namespace zerofs::nfs {
namespace {

Result<OpaqueAuth> DecodeOpaqueAuth(XdrDecoder& in) {
  OpaqueAuth auth;
  ZEROFS_ASSIGN_OR_RETURN(auth.flavor, in.U32());
  ZEROFS_ASSIGN_OR_RETURN(auth.body, in.Opaque(kMaxAuthBodyBytes));
  return auth;
}

void BeginReply(XdrEncoder& out, std::uint32_t xid, ReplyStat stat) {
  out.PutU32(0);  // record mark placeholder
  out.PutU32(xid);
  out.PutU32(static_cast<std::uint32_t>(MsgType::kReply));
  out.PutU32(static_cast<std::uint32_t>(stat));
}

void BeginAccepted(XdrEncoder& out, std::uint32_t xid, AcceptStat stat) {
  BeginReply(out, xid, ReplyStat::kAccepted);
  out.PutU32(static_cast<std::uint32_t>(AuthFlavor::kNone));  // verifier: AUTH_NONE, empty
  out.PutOpaque({});
  out.PutU32(static_cast<std::uint32_t>(stat));
}

}  // namespace

Result<CallHeader> DecodeCallHeader(XdrDecoder& in) {
  CallHeader call;
  ZEROFS_ASSIGN_OR_RETURN(call.xid, in.U32());
  ZEROFS_ASSIGN_OR_RETURN(std::uint32_t type, in.U32());
  if (type != static_cast<std::uint32_t>(MsgType::kCall)) {
    return Status::Corruption("rpc: message type " + std::to_string(type) + " is not a CALL");
  }
  ZEROFS_ASSIGN_OR_RETURN(call.rpc_version, in.U32());
  if (call.rpc_version != kRpcVersion) return call;
  ZEROFS_ASSIGN_OR_RETURN(call.program, in.U32());
  ZEROFS_ASSIGN_OR_RETURN(call.version, in.U32());
  ZEROFS_ASSIGN_OR_RETURN(call.procedure, in.U32());
  ZEROFS_ASSIGN_OR_RETURN(call.cred, DecodeOpaqueAuth(in));
  ZEROFS_ASSIGN_OR_RETURN(call.verf, DecodeOpaqueAuth(in));
  return call;
}

Result<AuthSys> DecodeAuthSys(std::string_view body) {
  XdrDecoder in(body);
  AuthSys cred;
  ZEROFS_ASSIGN_OR_RETURN(cred.stamp, in.U32());
  ZEROFS_ASSIGN_OR_RETURN(cred.machine_name, in.String(kMaxMachineNameBytes));
  ZEROFS_ASSIGN_OR_RETURN(cred.uid, in.U32());
  ZEROFS_ASSIGN_OR_RETURN(cred.gid, in.U32());
  ZEROFS_ASSIGN_OR_RETURN(std::uint32_t n, in.ArrayCount(kMaxAuthSysGids));
  cred.gids.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    ZEROFS_ASSIGN_OR_RETURN(std::uint32_t g, in.U32());
    cred.gids.push_back(g);
  }
  if (!in.AtEnd()) return Status::Corruption("rpc: trailing bytes after AUTH_SYS credential");
  return cred;
}

void EncodeAuthSys(XdrEncoder& out, const AuthSys& cred) {
  out.PutU32(cred.stamp);
  out.PutString(cred.machine_name);
  out.PutU32(cred.uid);
  out.PutU32(cred.gid);
  out.PutU32(static_cast<std::uint32_t>(cred.gids.size()));
  for (std::uint32_t g : cred.gids) out.PutU32(g);
}

void EncodeCallHeader(XdrEncoder& out, const CallHeader& call) {
  out.PutU32(call.xid);
  out.PutU32(static_cast<std::uint32_t>(MsgType::kCall));
  out.PutU32(call.rpc_version);
  out.PutU32(call.program);
  out.PutU32(call.version);
  out.PutU32(call.procedure);
  out.PutU32(call.cred.flavor);
  out.PutOpaque(call.cred.body);
  out.PutU32(call.verf.flavor);
  out.PutOpaque(call.verf.body);
}

void BeginSuccessReply(XdrEncoder& out, std::uint32_t xid) {
  BeginAccepted(out, xid, AcceptStat::kSuccess);
}

std::string AcceptErrorReply(std::uint32_t xid, AcceptStat stat) {
  XdrEncoder out;
  BeginAccepted(out, xid, stat);
  return SealRecord(out.Take());
}

std::string ProgMismatchReply(std::uint32_t xid, std::uint32_t low, std::uint32_t high) {
  XdrEncoder out;
  BeginAccepted(out, xid, AcceptStat::kProgMismatch);
  out.PutU32(low);
  out.PutU32(high);
  return SealRecord(out.Take());
}

std::string RpcMismatchReply(std::uint32_t xid) {
  XdrEncoder out;
  BeginReply(out, xid, ReplyStat::kDenied);
  out.PutU32(static_cast<std::uint32_t>(RejectStat::kRpcMismatch));
  out.PutU32(kRpcVersion);
  out.PutU32(kRpcVersion);
  return SealRecord(out.Take());
}

std::string AuthErrorReply(std::uint32_t xid, AuthStat stat) {
  XdrEncoder out;
  BeginReply(out, xid, ReplyStat::kDenied);
  out.PutU32(static_cast<std::uint32_t>(RejectStat::kAuthError));
  out.PutU32(static_cast<std::uint32_t>(stat));
  return SealRecord(out.Take());
}

std::string SealRecord(std::string bytes) {
  const auto n = static_cast<std::uint32_t>(bytes.size() - kRecordMarkBytes) | kLastFragmentBit;
  bytes[0] = static_cast<char>(n >> 24);
  bytes[1] = static_cast<char>(n >> 16);
  bytes[2] = static_cast<char>(n >> 8);
  bytes[3] = static_cast<char>(n);
  return bytes;
}

Result<ReplyHeader> DecodeReplyHeader(XdrDecoder& in) {
  ReplyHeader r;
  ZEROFS_ASSIGN_OR_RETURN(r.xid, in.U32());
  ZEROFS_ASSIGN_OR_RETURN(std::uint32_t type, in.U32());
  if (type != static_cast<std::uint32_t>(MsgType::kReply)) {
    return Status::Corruption("rpc: not a REPLY");
  }
  ZEROFS_ASSIGN_OR_RETURN(std::uint32_t stat, in.U32());
  r.reply_stat = static_cast<ReplyStat>(stat);
  if (r.reply_stat == ReplyStat::kAccepted) {
    ZEROFS_ASSIGN_OR_RETURN(OpaqueAuth verf, DecodeOpaqueAuth(in));
    (void)verf;
    ZEROFS_ASSIGN_OR_RETURN(std::uint32_t a, in.U32());
    r.accept_stat = static_cast<AcceptStat>(a);
    if (r.accept_stat == AcceptStat::kProgMismatch) {
      ZEROFS_ASSIGN_OR_RETURN(r.mismatch_low, in.U32());
      ZEROFS_ASSIGN_OR_RETURN(r.mismatch_high, in.U32());
    }
  } else if (r.reply_stat == ReplyStat::kDenied) {
    ZEROFS_ASSIGN_OR_RETURN(std::uint32_t j, in.U32());
    r.reject_stat = static_cast<RejectStat>(j);
    if (r.reject_stat == RejectStat::kRpcMismatch) {
      ZEROFS_ASSIGN_OR_RETURN(r.mismatch_low, in.U32());
      ZEROFS_ASSIGN_OR_RETURN(r.mismatch_high, in.U32());
    } else {
      ZEROFS_ASSIGN_OR_RETURN(std::uint32_t a, in.U32());
      r.auth_stat = static_cast<AuthStat>(a);
    }
  } else {
    return Status::Corruption("rpc: bad reply_stat " + std::to_string(stat));
  }
  return r;
}

namespace {

std::uint32_t RecordMark(std::string_view bytes) {
  const auto* h = reinterpret_cast<const unsigned char*>(bytes.data());
  return (std::uint32_t{h[0]} << 24) | (std::uint32_t{h[1]} << 16) | (std::uint32_t{h[2]} << 8) |
         std::uint32_t{h[3]};
}

}  // namespace

Result<std::size_t> MeasureRecord(std::string_view buffered, std::size_t max_record_bytes) {
  std::size_t offset = 0;
  std::size_t data_bytes = 0;
  for (std::size_t fragments = 1;; ++fragments) {
    if (fragments > kMaxRecordFragments) {
      return Status::Corruption("rpc: record in more than " + std::to_string(kMaxRecordFragments) +
                                " fragments");
    }
    if (buffered.size() < offset + kRecordMarkBytes) return offset + kRecordMarkBytes;
    const std::uint32_t mark = RecordMark(buffered.substr(offset));
    const std::size_t length = mark & ~kLastFragmentBit;
    if (length > max_record_bytes - data_bytes) {
      return Status::Corruption("rpc: record of more than " + std::to_string(max_record_bytes) +
                                " bytes");
    }
    data_bytes += length;
    offset += kRecordMarkBytes + length;
    if ((mark & kLastFragmentBit) != 0) return offset;
    if (buffered.size() < offset) return offset;
  }
}

void StripRecordMarks(std::string& framed) {
  std::size_t in = 0;
  std::size_t out = 0;
  while (in + kRecordMarkBytes <= framed.size()) {
    const std::size_t length = RecordMark(std::string_view(framed).substr(in)) & ~kLastFragmentBit;
    in += kRecordMarkBytes;
    const std::size_t n = std::min(length, framed.size() - in);
    std::memmove(framed.data() + out, framed.data() + in, n);
    in += n;
    out += n;
  }
  framed.resize(out);
}

}  // namespace zerofs::nfs
