// NFSv3 argument decoders (server side) and encoders (client side), transcribed from the
// XDR of RFC 1813; see nfs3_codec.h.
#include "nfs3_wire.h"
#include "zerofs/nfs/nfs3_codec.h"

namespace zerofs::nfs {

using namespace nfs3_wire;  // NOLINT(google-build-using-namespace)

// --- arguments ---------------------------------------------------------------------------

Result<FhArgs> DecodeFhArgs(XdrDecoder& in) {
  FhArgs a;
  ZEROFS_ASSIGN_OR_RETURN(a.object, DecodeFh3(in));
  return Finish(in, std::move(a));
}
void Encode(XdrEncoder& out, const FhArgs& a) {
  EncodeFh3(out, a.object);
}

Result<SetattrArgs> DecodeSetattrArgs(XdrDecoder& in) {
  SetattrArgs a;
  ZEROFS_ASSIGN_OR_RETURN(a.object, DecodeFh3(in));
  ZEROFS_ASSIGN_OR_RETURN(a.attributes, DecodeSattr3(in));
  ZEROFS_ASSIGN_OR_RETURN(bool check, in.Bool());
  if (check) {
    ZEROFS_ASSIGN_OR_RETURN(a.guard_ctime, DecodeTime(in));
  }
  return Finish(in, std::move(a));
}
void Encode(XdrEncoder& out, const SetattrArgs& a) {
  EncodeFh3(out, a.object);
  EncodeSattr3(out, a.attributes);
  out.PutBool(a.guard_ctime.has_value());
  if (a.guard_ctime) PutTime(out, *a.guard_ctime);
}

Result<LookupArgs> DecodeLookupArgs(XdrDecoder& in) {
  LookupArgs a;
  ZEROFS_ASSIGN_OR_RETURN(a.what, DecodeDirOp(in));
  return Finish(in, std::move(a));
}
void Encode(XdrEncoder& out, const LookupArgs& a) {
  PutDirOp(out, a.what);
}

Result<AccessArgs> DecodeAccessArgs(XdrDecoder& in) {
  AccessArgs a;
  ZEROFS_ASSIGN_OR_RETURN(a.object, DecodeFh3(in));
  ZEROFS_ASSIGN_OR_RETURN(a.access, in.U32());
  return Finish(in, std::move(a));
}
void Encode(XdrEncoder& out, const AccessArgs& a) {
  EncodeFh3(out, a.object);
  out.PutU32(a.access);
}

Result<ReadArgs> DecodeReadArgs(XdrDecoder& in) {
  ReadArgs a;
  ZEROFS_ASSIGN_OR_RETURN(a.file, DecodeFh3(in));
  ZEROFS_ASSIGN_OR_RETURN(a.offset, in.U64());
  ZEROFS_ASSIGN_OR_RETURN(a.count, in.U32());
  return Finish(in, std::move(a));
}
void Encode(XdrEncoder& out, const ReadArgs& a) {
  EncodeFh3(out, a.file);
  out.PutU64(a.offset);
  out.PutU32(a.count);
}

Result<WriteArgs> DecodeWriteArgs(XdrDecoder& in) {
  WriteArgs a;
  ZEROFS_ASSIGN_OR_RETURN(a.file, DecodeFh3(in));
  ZEROFS_ASSIGN_OR_RETURN(a.offset, in.U64());
  ZEROFS_ASSIGN_OR_RETURN(a.count, in.U32());
  ZEROFS_ASSIGN_OR_RETURN(a.stable, DecodeEnum<StableHow>(in, 0, 2, "stable_how"));
  ZEROFS_ASSIGN_OR_RETURN(a.data, in.Opaque(kMaxIoBytes));
  if (a.data.size() != a.count) {
    return Status::Corruption("nfs3: WRITE count " + std::to_string(a.count) + " but " +
                              std::to_string(a.data.size()) + " data bytes");
  }
  return Finish(in, std::move(a));
}
void Encode(XdrEncoder& out, const WriteArgs& a) {
  EncodeFh3(out, a.file);
  out.PutU64(a.offset);
  out.PutU32(a.count);
  PutEnum(out, a.stable);
  out.PutOpaque(a.data);
}

Result<CreateArgs> DecodeCreateArgs(XdrDecoder& in) {
  CreateArgs a;
  ZEROFS_ASSIGN_OR_RETURN(a.where, DecodeDirOp(in));
  ZEROFS_ASSIGN_OR_RETURN(a.mode, DecodeEnum<CreateMode>(in, 0, 2, "createmode3"));
  if (a.mode == CreateMode::kExclusive) {
    ZEROFS_ASSIGN_OR_RETURN(a.verf, DecodeVerifier(in));
  } else {
    ZEROFS_ASSIGN_OR_RETURN(a.attributes, DecodeSattr3(in));
  }
  return Finish(in, std::move(a));
}
void Encode(XdrEncoder& out, const CreateArgs& a) {
  PutDirOp(out, a.where);
  PutEnum(out, a.mode);
  if (a.mode == CreateMode::kExclusive) {
    PutVerifier(out, a.verf);
  } else {
    EncodeSattr3(out, a.attributes);
  }
}

Result<MkdirArgs> DecodeMkdirArgs(XdrDecoder& in) {
  MkdirArgs a;
  ZEROFS_ASSIGN_OR_RETURN(a.where, DecodeDirOp(in));
  ZEROFS_ASSIGN_OR_RETURN(a.attributes, DecodeSattr3(in));
  return Finish(in, std::move(a));
}
void Encode(XdrEncoder& out, const MkdirArgs& a) {
  PutDirOp(out, a.where);
  EncodeSattr3(out, a.attributes);
}

Result<SymlinkArgs> DecodeSymlinkArgs(XdrDecoder& in) {
  SymlinkArgs a;
  ZEROFS_ASSIGN_OR_RETURN(a.where, DecodeDirOp(in));
  ZEROFS_ASSIGN_OR_RETURN(a.attributes, DecodeSattr3(in));
  ZEROFS_ASSIGN_OR_RETURN(a.target, in.String(kMaxPathBytes));
  return Finish(in, std::move(a));
}
void Encode(XdrEncoder& out, const SymlinkArgs& a) {
  PutDirOp(out, a.where);
  EncodeSattr3(out, a.attributes);
  out.PutString(a.target);
}

Result<MknodArgs> DecodeMknodArgs(XdrDecoder& in) {
  MknodArgs a;
  ZEROFS_ASSIGN_OR_RETURN(a.where, DecodeDirOp(in));
  ZEROFS_ASSIGN_OR_RETURN(a.type, DecodeEnum<Ftype3>(in, 1, 7, "ftype3"));
  if (a.type == Ftype3::kChr || a.type == Ftype3::kBlk) {
    ZEROFS_ASSIGN_OR_RETURN(a.attributes, DecodeSattr3(in));
    ZEROFS_ASSIGN_OR_RETURN(a.major, in.U32());
    ZEROFS_ASSIGN_OR_RETURN(a.minor, in.U32());
  } else if (a.type == Ftype3::kSock || a.type == Ftype3::kFifo) {
    ZEROFS_ASSIGN_OR_RETURN(a.attributes, DecodeSattr3(in));
  }  // else void; the handler answers NFS3ERR_BADTYPE
  return Finish(in, std::move(a));
}
void Encode(XdrEncoder& out, const MknodArgs& a) {
  PutDirOp(out, a.where);
  PutEnum(out, a.type);
  if (a.type == Ftype3::kChr || a.type == Ftype3::kBlk) {
    EncodeSattr3(out, a.attributes);
    out.PutU32(a.major);
    out.PutU32(a.minor);
  } else if (a.type == Ftype3::kSock || a.type == Ftype3::kFifo) {
    EncodeSattr3(out, a.attributes);
  }
}

Result<RemoveArgs> DecodeRemoveArgs(XdrDecoder& in) {
  RemoveArgs a;
  ZEROFS_ASSIGN_OR_RETURN(a.object, DecodeDirOp(in));
  return Finish(in, std::move(a));
}
void Encode(XdrEncoder& out, const RemoveArgs& a) {
  PutDirOp(out, a.object);
}

Result<RenameArgs> DecodeRenameArgs(XdrDecoder& in) {
  RenameArgs a;
  ZEROFS_ASSIGN_OR_RETURN(a.from, DecodeDirOp(in));
  ZEROFS_ASSIGN_OR_RETURN(a.to, DecodeDirOp(in));
  return Finish(in, std::move(a));
}
void Encode(XdrEncoder& out, const RenameArgs& a) {
  PutDirOp(out, a.from);
  PutDirOp(out, a.to);
}

Result<LinkArgs> DecodeLinkArgs(XdrDecoder& in) {
  LinkArgs a;
  ZEROFS_ASSIGN_OR_RETURN(a.file, DecodeFh3(in));
  ZEROFS_ASSIGN_OR_RETURN(a.link, DecodeDirOp(in));
  return Finish(in, std::move(a));
}
void Encode(XdrEncoder& out, const LinkArgs& a) {
  EncodeFh3(out, a.file);
  PutDirOp(out, a.link);
}

Result<ReaddirArgs> DecodeReaddirArgs(XdrDecoder& in) {
  ReaddirArgs a;
  ZEROFS_ASSIGN_OR_RETURN(a.dir, DecodeFh3(in));
  ZEROFS_ASSIGN_OR_RETURN(a.cookie, in.U64());
  ZEROFS_ASSIGN_OR_RETURN(a.verf, DecodeVerifier(in));
  ZEROFS_ASSIGN_OR_RETURN(a.count, in.U32());
  return Finish(in, std::move(a));
}
void Encode(XdrEncoder& out, const ReaddirArgs& a) {
  EncodeFh3(out, a.dir);
  out.PutU64(a.cookie);
  PutVerifier(out, a.verf);
  out.PutU32(a.count);
}

Result<ReaddirplusArgs> DecodeReaddirplusArgs(XdrDecoder& in) {
  ReaddirplusArgs a;
  ZEROFS_ASSIGN_OR_RETURN(a.dir, DecodeFh3(in));
  ZEROFS_ASSIGN_OR_RETURN(a.cookie, in.U64());
  ZEROFS_ASSIGN_OR_RETURN(a.verf, DecodeVerifier(in));
  ZEROFS_ASSIGN_OR_RETURN(a.dircount, in.U32());
  ZEROFS_ASSIGN_OR_RETURN(a.maxcount, in.U32());
  return Finish(in, std::move(a));
}
void Encode(XdrEncoder& out, const ReaddirplusArgs& a) {
  EncodeFh3(out, a.dir);
  out.PutU64(a.cookie);
  PutVerifier(out, a.verf);
  out.PutU32(a.dircount);
  out.PutU32(a.maxcount);
}

Result<CommitArgs> DecodeCommitArgs(XdrDecoder& in) {
  CommitArgs a;
  ZEROFS_ASSIGN_OR_RETURN(a.file, DecodeFh3(in));
  ZEROFS_ASSIGN_OR_RETURN(a.offset, in.U64());
  ZEROFS_ASSIGN_OR_RETURN(a.count, in.U32());
  return Finish(in, std::move(a));
}
void Encode(XdrEncoder& out, const CommitArgs& a) {
  EncodeFh3(out, a.file);
  out.PutU64(a.offset);
  out.PutU32(a.count);
}

}  // namespace zerofs::nfs
