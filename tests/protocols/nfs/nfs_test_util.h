// Helpers for the NFS unit tests: building RPC calls and reading replies.
#pragma once

#include <functional>
#include <string>

#include "zerofs/nfs/rpc.h"
#include "zerofs/nfs/xdr.h"

namespace zerofs::nfs::test {

inline std::string AuthSysBody(std::uint32_t uid = 1000, std::uint32_t gid = 1000) {
  XdrEncoder e;
  EncodeAuthSys(e, AuthSys{1, "testhost", uid, gid, {gid, 10}});
  return e.Take();
}

// One call record body (no record mark).
inline std::string MakeCall(std::uint32_t program, std::uint32_t version, std::uint32_t proc,
                            const std::function<void(XdrEncoder&)>& args = {},
                            std::uint32_t flavor = 1, std::string cred = AuthSysBody(),
                            std::uint32_t rpc_version = kRpcVersion, std::uint32_t xid = 77) {
  CallHeader call;
  call.xid = xid;
  call.rpc_version = rpc_version;
  call.program = program;
  call.version = version;
  call.procedure = proc;
  call.cred.flavor = flavor;
  call.cred.body = flavor == 0 ? std::string() : std::move(cred);
  XdrEncoder e;
  EncodeCallHeader(e, call);
  if (args) args(e);
  return e.Take();
}

// Strips the record mark of a sealed one-fragment reply, checking it.
inline std::string ReplyBody(const std::string& sealed) {
  if (sealed.size() < 4) return {};
  const auto* p = reinterpret_cast<const unsigned char*>(sealed.data());
  const std::uint32_t mark =
      (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
  if (mark != (kLastFragmentBit | (sealed.size() - 4))) return {};
  return sealed.substr(4);
}

}  // namespace zerofs::nfs::test
