// Dispatcher: turns one RPC call record into one reply record, by way of an NfsHandler.
//
// Order of checks (RFC 5531 section 9): rpcvers (MSG_DENIED RPC_MISMATCH), credentials
// (MSG_DENIED AUTH_ERROR: a malformed AUTH_SYS body is AUTH_BADCRED; a flavor other than
// AUTH_SYS and AUTH_NONE is AUTH_TOOWEAK; AUTH_NONE calls run as nobody), program
// (PROG_UNAVAIL), version (PROG_MISMATCH 3..3), procedure (PROC_UNAVAIL), arguments
// (GARBAGE_ARGS), then the handler (SYSTEM_ERR if it throws).
//
// A call whose header breaks off, or whose credential or verifier is malformed, gets
// MSG_DENIED AUTH_ERROR AUTH_BADCRED. A record that is not a call at all (too short for an
// xid and a message type, or a REPLY) has no reply that makes sense: Handle returns
// Corruption and the connection closes. Stateless
// apart from the handler reference: thread-safe if the handler is.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "zerofs/common/result.h"
#include "zerofs/nfs/handler.h"
#include "zerofs/server/op_counters.h"

namespace zerofs::nfs {

class Dispatcher {
 public:
  explicit Dispatcher(NfsHandler& handler);

  // `record` is one reassembled RPC record; the result is a sealed reply record
  // (record mark included) ready for the socket.
  Result<std::string> Handle(std::string_view record, const std::string& peer) const;

  // Bytes the reply to `record` may hold beyond its own size: a READ's requested count
  // (clamped to kMaxIoBytes), else 0. Lets a connection bound replies it has yet to send
  // before running the call. Never fails; a malformed record costs 0.
  static std::size_t ExpectedReplyBytes(std::string_view record);

  // Answers the portmapper program (version 2: NULL, GETPORT, DUMP; SET/UNSET refused) from
  // now on, mapping NFS v3 and MOUNT v3 over TCP to `nfs_port`. Off by default
  // (PROG_UNAVAIL). Any thread.
  void EnablePortmap(std::uint16_t nfs_port) { portmap_port_.store(nfs_port); }
  // Handles a call that arrived as a UDP datagram (no record mark): only the portmapper
  // program is served over UDP. The reply has no record mark either; empty for no reply.
  std::string HandleDatagram(std::string_view datagram, const std::string& peer) const;

  // Name of an NFSv3 procedure, for logs ("GETATTR"); "?" when unknown.
  static const char* Nfs3ProcName(std::uint32_t proc);

  // NFSv3 calls and the ones answered with an error status (or GARBAGE_ARGS), by procedure.
  std::vector<server::OpCount> OpStats() const { return ops_.Snapshot(); }

 private:
  std::string CallNfs(std::uint32_t xid, std::uint32_t proc, XdrDecoder& args,
                      const CallContext& ctx) const;
  std::string CallMount(std::uint32_t xid, std::uint32_t proc, XdrDecoder& args,
                        const CallContext& ctx) const;
  std::string CallPortmap(std::uint32_t xid, std::uint32_t proc, XdrDecoder& args) const;

  // Records one call of NFS procedure `proc` answered with `res` and passes `res` on.
  template <typename Res>
  const Res& Counted(std::uint32_t proc, const Res& res) const {
    ops_.Count(proc, res.status != Nfsstat3::kOk);
    return res;
  }

  NfsHandler& handler_;
  server::OpCounters ops_;
  std::atomic<std::uint16_t> portmap_port_{0};  // 0: no portmapper
};

}  // namespace zerofs::nfs
