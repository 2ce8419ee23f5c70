// RPC call -> handler -> RPC reply; see dispatcher.h.
#include "zerofs/nfs/dispatcher.h"

#include <algorithm>
#include <exception>

#include "zerofs/common/log.h"
#include "zerofs/nfs/nfs3_codec.h"

namespace zerofs::nfs {
namespace {

constexpr std::uint32_t kNfs3ProcCount = 22;
constexpr std::uint32_t kMountProcCount = 6;

// Decodes the arguments with `decode`; on success encodes what `call` writes after a
// SUCCESS header, otherwise answers GARBAGE_ARGS.
template <typename Decode, typename Call>
std::string Run(std::uint32_t xid, XdrDecoder& in, Decode decode, Call call,
                const server::OpCounters* ops = nullptr, std::size_t op = 0) {
  auto args = decode(in);
  if (!args.ok()) {
    if (ops != nullptr) ops->Count(op, /*error=*/true);
    ZEROFS_LOG(kDebug) << "nfs: xid " << xid << ": garbage arguments: " << args.status().message();
    return AcceptErrorReply(xid, AcceptStat::kGarbageArgs);
  }
  XdrEncoder out;
  BeginSuccessReply(out, xid);
  call(out, *args);
  return SealRecord(out.Take());
}

Result<bool> DecodeVoid(XdrDecoder& in) {
  if (!in.AtEnd()) return Status::Corruption("arguments given to a void procedure");
  return true;
}

}  // namespace

Dispatcher::Dispatcher(NfsHandler& handler)
    : handler_(handler), ops_([] {
        std::vector<std::string> names;
        for (std::uint32_t p = 0; p < kNfs3ProcCount; ++p) names.emplace_back(Nfs3ProcName(p));
        return names;
      }()) {}

const char* Dispatcher::Nfs3ProcName(std::uint32_t proc) {
  static constexpr const char* kNames[kNfs3ProcCount] = {
      "NULL",    "GETATTR",     "SETATTR", "LOOKUP", "ACCESS",   "READLINK", "READ",   "WRITE",
      "CREATE",  "MKDIR",       "SYMLINK", "MKNOD",  "REMOVE",   "RMDIR",    "RENAME", "LINK",
      "READDIR", "READDIRPLUS", "FSSTAT",  "FSINFO", "PATHCONF", "COMMIT"};
  return proc < kNfs3ProcCount ? kNames[proc] : "?";
}

std::size_t Dispatcher::ExpectedReplyBytes(std::string_view record) {
  XdrDecoder in(record);
  Result<CallHeader> call = DecodeCallHeader(in);
  if (!call.ok() || call->rpc_version != kRpcVersion || call->program != kNfsProgram ||
      call->procedure != static_cast<std::uint32_t>(Nfs3Proc::kRead)) {
    return 0;
  }
  Result<ReadArgs> args = DecodeReadArgs(in);
  return args.ok() ? std::min(args->count, kMaxIoBytes) : 0;
}

Result<std::string> Dispatcher::Handle(std::string_view record, const std::string& peer) const {
  XdrDecoder in(record);
  Result<CallHeader> decoded = DecodeCallHeader(in);
  if (!decoded.ok()) {
    // A CALL whose header breaks off or whose credential or verifier is malformed (too
    // long, truncated) is answered AUTH_BADCRED; only a record that is not a call at all
    // closes the connection.
    XdrDecoder probe(record);
    Result<std::uint32_t> xid = probe.U32();
    Result<std::uint32_t> type = probe.U32();
    if (!xid.ok() || !type.ok() || *type != static_cast<std::uint32_t>(MsgType::kCall)) {
      return decoded.status();
    }
    ZEROFS_LOG(kDebug) << "nfs: " << peer << " xid " << *xid
                       << ": malformed call header: " << decoded.status().message();
    return AuthErrorReply(*xid, AuthStat::kBadCred);
  }
  CallHeader& call = *decoded;
  if (call.rpc_version != kRpcVersion) return RpcMismatchReply(call.xid);

  ZEROFS_LOG(kDebug) << "nfs: " << peer << " xid " << call.xid << " program " << call.program
                     << " v" << call.version << " procedure " << call.procedure;
  CallContext ctx;
  ctx.peer = peer;
  if (call.cred.flavor == static_cast<std::uint32_t>(AuthFlavor::kSys)) {
    Result<AuthSys> cred = DecodeAuthSys(call.cred.body);
    if (!cred.ok()) {
      ZEROFS_LOG(kDebug) << "nfs: " << peer
                         << ": bad AUTH_SYS credential: " << cred.status().message();
      return AuthErrorReply(call.xid, AuthStat::kBadCred);
    }
    ctx.cred = std::move(*cred);
  } else if (call.cred.flavor == static_cast<std::uint32_t>(AuthFlavor::kNone)) {
    // An anonymous caller acts as nobody, with no rights beyond what "others" have.
    ctx.anonymous = true;
    ctx.cred.uid = kNobodyId;
    ctx.cred.gid = kNobodyId;
  } else {
    return AuthErrorReply(call.xid, AuthStat::kTooWeak);
  }

  try {
    if (call.program == kNfsProgram) {
      if (call.version != kNfsVersion) return ProgMismatchReply(call.xid, kNfsVersion, kNfsVersion);
      if (call.procedure >= kNfs3ProcCount) {
        return AcceptErrorReply(call.xid, AcceptStat::kProcUnavail);
      }
      return CallNfs(call.xid, call.procedure, in, ctx);
    }
    if (call.program == kPortmapProgram && portmap_port_.load() != 0) {
      if (call.version != kPortmapVersion) {
        // rpcbind versions 3 and 4: clients fall back to version 2.
        return ProgMismatchReply(call.xid, kPortmapVersion, kPortmapVersion);
      }
      return CallPortmap(call.xid, call.procedure, in);
    }
    if (call.program == kMountProgram) {
      if (call.version != kMountVersion) {
        return ProgMismatchReply(call.xid, kMountVersion, kMountVersion);
      }
      if (call.procedure >= kMountProcCount) {
        return AcceptErrorReply(call.xid, AcceptStat::kProcUnavail);
      }
      return CallMount(call.xid, call.procedure, in, ctx);
    }
    return AcceptErrorReply(call.xid, AcceptStat::kProgUnavail);
  } catch (const std::exception& e) {
    ZEROFS_LOG(kError) << "nfs: " << peer << ": program " << call.program << " procedure "
                       << call.procedure << " failed: " << e.what();
    return AcceptErrorReply(call.xid, AcceptStat::kSystemErr);
  }
}

std::string Dispatcher::CallNfs(std::uint32_t xid, std::uint32_t proc, XdrDecoder& in,
                                const CallContext& ctx) const {
  NfsHandler& h = handler_;
  // Arguments that do not decode count as a failed call of the procedure.
  auto run = [&](auto decode, auto call) { return Run(xid, in, decode, call, &ops_, proc); };
  switch (static_cast<Nfs3Proc>(proc)) {
    case Nfs3Proc::kNull:
      return run(DecodeVoid, [&](XdrEncoder&, bool) { ops_.Count(proc, false); });
    case Nfs3Proc::kGetattr:
      return run(DecodeFhArgs, [&](XdrEncoder& o, const FhArgs& a) {
        Encode(o, Counted(proc, h.Getattr(ctx, a)));
      });
    case Nfs3Proc::kSetattr:
      return run(DecodeSetattrArgs, [&](XdrEncoder& o, const SetattrArgs& a) {
        Encode(o, Counted(proc, h.Setattr(ctx, a)));
      });
    case Nfs3Proc::kLookup:
      return run(DecodeLookupArgs, [&](XdrEncoder& o, const LookupArgs& a) {
        Encode(o, Counted(proc, h.Lookup(ctx, a)));
      });
    case Nfs3Proc::kAccess:
      return run(DecodeAccessArgs, [&](XdrEncoder& o, const AccessArgs& a) {
        Encode(o, Counted(proc, h.Access(ctx, a)));
      });
    case Nfs3Proc::kReadlink:
      return run(DecodeFhArgs, [&](XdrEncoder& o, const FhArgs& a) {
        Encode(o, Counted(proc, h.Readlink(ctx, a)));
      });
    case Nfs3Proc::kRead:
      return run(DecodeReadArgs, [&](XdrEncoder& o, ReadArgs& a) {
        a.count = std::min(a.count, kMaxIoBytes);  // FSINFO rtmax; a larger ask is clamped
        Encode(o, Counted(proc, h.Read(ctx, a)));
      });
    case Nfs3Proc::kWrite:
      return run(DecodeWriteArgs, [&](XdrEncoder& o, const WriteArgs& a) {
        Encode(o, Counted(proc, h.Write(ctx, a)));
      });
    case Nfs3Proc::kCreate:
      return run(DecodeCreateArgs, [&](XdrEncoder& o, const CreateArgs& a) {
        Encode(o, Counted(proc, h.Create(ctx, a)));
      });
    case Nfs3Proc::kMkdir:
      return run(DecodeMkdirArgs, [&](XdrEncoder& o, const MkdirArgs& a) {
        Encode(o, Counted(proc, h.Mkdir(ctx, a)));
      });
    case Nfs3Proc::kSymlink:
      return run(DecodeSymlinkArgs, [&](XdrEncoder& o, const SymlinkArgs& a) {
        Encode(o, Counted(proc, h.Symlink(ctx, a)));
      });
    case Nfs3Proc::kMknod:
      return run(DecodeMknodArgs, [&](XdrEncoder& o, const MknodArgs& a) {
        Encode(o, Counted(proc, h.Mknod(ctx, a)));
      });
    case Nfs3Proc::kRemove:
      return run(DecodeRemoveArgs, [&](XdrEncoder& o, const RemoveArgs& a) {
        Encode(o, Counted(proc, h.Remove(ctx, a)));
      });
    case Nfs3Proc::kRmdir:
      return run(DecodeRemoveArgs, [&](XdrEncoder& o, const RemoveArgs& a) {
        Encode(o, Counted(proc, h.Rmdir(ctx, a)));
      });
    case Nfs3Proc::kRename:
      return run(DecodeRenameArgs, [&](XdrEncoder& o, const RenameArgs& a) {
        Encode(o, Counted(proc, h.Rename(ctx, a)));
      });
    case Nfs3Proc::kLink:
      return run(DecodeLinkArgs, [&](XdrEncoder& o, const LinkArgs& a) {
        Encode(o, Counted(proc, h.Link(ctx, a)));
      });
    case Nfs3Proc::kReaddir:
      return run(DecodeReaddirArgs, [&](XdrEncoder& o, const ReaddirArgs& a) {
        EncodeReaddir(o, Counted(proc, h.Readdir(ctx, a)), a.count);
      });
    case Nfs3Proc::kReaddirplus:
      return run(DecodeReaddirplusArgs, [&](XdrEncoder& o, const ReaddirplusArgs& a) {
        EncodeReaddirplus(o, Counted(proc, h.Readdirplus(ctx, a)), a.dircount, a.maxcount);
      });
    case Nfs3Proc::kFsstat:
      return run(DecodeFhArgs, [&](XdrEncoder& o, const FhArgs& a) {
        Encode(o, Counted(proc, h.Fsstat(ctx, a)));
      });
    case Nfs3Proc::kFsinfo:
      return run(DecodeFhArgs, [&](XdrEncoder& o, const FhArgs& a) {
        Encode(o, Counted(proc, h.Fsinfo(ctx, a)));
      });
    case Nfs3Proc::kPathconf:
      return run(DecodeFhArgs, [&](XdrEncoder& o, const FhArgs& a) {
        Encode(o, Counted(proc, h.Pathconf(ctx, a)));
      });
    case Nfs3Proc::kCommit:
      return run(DecodeCommitArgs, [&](XdrEncoder& o, const CommitArgs& a) {
        Encode(o, Counted(proc, h.Commit(ctx, a)));
      });
  }
  return AcceptErrorReply(xid, AcceptStat::kProcUnavail);
}

std::string Dispatcher::CallPortmap(std::uint32_t xid, std::uint32_t proc, XdrDecoder& in) const {
  struct Mapping {
    std::uint32_t program = 0, version = 0, protocol = 0, port = 0;
  };
  const std::uint32_t port = portmap_port_.load();
  const Mapping served[] = {{kNfsProgram, kNfsVersion, kIpProtoTcp, port},
                            {kMountProgram, kMountVersion, kIpProtoTcp, port}};
  auto decode_mapping = [](XdrDecoder& d) -> Result<Mapping> {
    Mapping m;
    ZEROFS_ASSIGN_OR_RETURN(m.program, d.U32());
    ZEROFS_ASSIGN_OR_RETURN(m.version, d.U32());
    ZEROFS_ASSIGN_OR_RETURN(m.protocol, d.U32());
    ZEROFS_ASSIGN_OR_RETURN(m.port, d.U32());
    if (!d.AtEnd()) return Status::Corruption("trailing bytes after a mapping");
    return m;
  };
  switch (proc) {
    case 0:  // NULL
      return Run(xid, in, DecodeVoid, [](XdrEncoder&, bool) {});
    case 1:  // SET
    case 2:  // UNSET: registrations are fixed
      return Run(xid, in, decode_mapping, [](XdrEncoder& o, const Mapping&) { o.PutU32(0); });
    case 3:  // GETPORT: the port, or 0 when the program is not served that way
      return Run(xid, in, decode_mapping, [&](XdrEncoder& o, const Mapping& want) {
        std::uint32_t answer = 0;
        for (const Mapping& m : served) {
          // Any version of NFS or MOUNT maps to the port: a version we do not speak gets
          // PROG_MISMATCH there, which tells the client which one we do.
          if (m.program == want.program && m.protocol == want.protocol) answer = m.port;
        }
        o.PutU32(answer);
      });
    case 4:  // DUMP
      return Run(xid, in, DecodeVoid, [&](XdrEncoder& o, bool) {
        for (const Mapping& m : served) {
          o.PutU32(1);  // another entry follows
          o.PutU32(m.program);
          o.PutU32(m.version);
          o.PutU32(m.protocol);
          o.PutU32(m.port);
        }
        o.PutU32(0);
      });
    default: return AcceptErrorReply(xid, AcceptStat::kProcUnavail);
  }
}

std::string Dispatcher::HandleDatagram(std::string_view datagram, const std::string& peer) const {
  XdrDecoder probe(datagram);
  Result<CallHeader> call = DecodeCallHeader(probe);
  std::string sealed;
  if (call.ok() && call->rpc_version == kRpcVersion && call->program != kPortmapProgram) {
    sealed = AcceptErrorReply(call->xid, AcceptStat::kProgUnavail);  // TCP only
  } else {
    Result<std::string> reply = Handle(datagram, peer);
    if (!reply.ok()) return {};
    sealed = std::move(*reply);
  }
  return sealed.substr(kRecordMarkBytes);  // one fragment: drop the mark
}

std::string Dispatcher::CallMount(std::uint32_t xid, std::uint32_t proc, XdrDecoder& in,
                                  const CallContext& ctx) const {
  NfsHandler& h = handler_;
  switch (static_cast<MountProc>(proc)) {
    case MountProc::kNull: return Run(xid, in, DecodeVoid, [](XdrEncoder&, bool) {});
    case MountProc::kMnt:
      return Run(xid, in, DecodeDirPath, [&](XdrEncoder& o, const std::string& path) {
        MntRes res = h.Mnt(ctx, path);
        ZEROFS_LOG(kDebug) << "nfs: " << ctx.peer << " MNT '" << path << "': status "
                           << static_cast<std::uint32_t>(res.status);
        Encode(o, res);
      });
    case MountProc::kDump:
      return Run(xid, in, DecodeVoid,
                 [&](XdrEncoder& o, bool) { EncodeMountList(o, h.Dump(ctx)); });
    case MountProc::kUmnt:
      return Run(xid, in, DecodeDirPath,
                 [&](XdrEncoder&, const std::string& path) { h.Umnt(ctx, path); });
    case MountProc::kUmntall:
      return Run(xid, in, DecodeVoid, [&](XdrEncoder&, bool) { h.Umntall(ctx); });
    case MountProc::kExport:
      return Run(xid, in, DecodeVoid,
                 [&](XdrEncoder& o, bool) { EncodeExports(o, h.Export(ctx)); });
  }
  return AcceptErrorReply(xid, AcceptStat::kProcUnavail);
}

}  // namespace zerofs::nfs
