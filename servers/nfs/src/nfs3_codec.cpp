// NFSv3 / MOUNT v3 codec: shared pieces, results and MOUNT; transcribed from the XDR of
// RFC 1813. See nfs3_codec.h.
#include "zerofs/nfs/nfs3_codec.h"

#include "nfs3_wire.h"

namespace zerofs::nfs {
using namespace nfs3_wire;  // NOLINT(google-build-using-namespace)

Result<Fh3> DecodeFh3(XdrDecoder& in) {
  Fh3 fh;
  ZEROFS_ASSIGN_OR_RETURN(fh.data, in.Opaque(kNfs3FhMaxBytes));
  return fh;
}

void EncodeFh3(XdrEncoder& out, const Fh3& fh) {
  out.PutOpaque(fh.data);
}

Result<Sattr3> DecodeSattr3(XdrDecoder& in) {
  Sattr3 s;
  ZEROFS_ASSIGN_OR_RETURN(s.mode, DecodeOptionalU<std::uint32_t>(in));
  ZEROFS_ASSIGN_OR_RETURN(s.uid, DecodeOptionalU<std::uint32_t>(in));
  ZEROFS_ASSIGN_OR_RETURN(s.gid, DecodeOptionalU<std::uint32_t>(in));
  ZEROFS_ASSIGN_OR_RETURN(s.size, DecodeOptionalU<std::uint64_t>(in));
  ZEROFS_ASSIGN_OR_RETURN(s.atime_how, DecodeEnum<TimeHow>(in, 0, 2, "time_how"));
  if (s.atime_how == TimeHow::kClientTime) {
    ZEROFS_ASSIGN_OR_RETURN(s.atime, DecodeTime(in));
  }
  ZEROFS_ASSIGN_OR_RETURN(s.mtime_how, DecodeEnum<TimeHow>(in, 0, 2, "time_how"));
  if (s.mtime_how == TimeHow::kClientTime) {
    ZEROFS_ASSIGN_OR_RETURN(s.mtime, DecodeTime(in));
  }
  return s;
}

void EncodeSattr3(XdrEncoder& out, const Sattr3& s) {
  PutOptionalU(out, s.mode);
  PutOptionalU(out, s.uid);
  PutOptionalU(out, s.gid);
  PutOptionalU(out, s.size);
  PutEnum(out, s.atime_how);
  if (s.atime_how == TimeHow::kClientTime) PutTime(out, s.atime);
  PutEnum(out, s.mtime_how);
  if (s.mtime_how == TimeHow::kClientTime) PutTime(out, s.mtime);
}

void EncodeFattr3(XdrEncoder& out, const Fattr3& a) {
  PutEnum(out, a.type);
  out.PutU32(a.mode);
  out.PutU32(a.nlink);
  out.PutU32(a.uid);
  out.PutU32(a.gid);
  out.PutU64(a.size);
  out.PutU64(a.used);
  out.PutU32(a.rdev_major);
  out.PutU32(a.rdev_minor);
  out.PutU64(a.fsid);
  out.PutU64(a.fileid);
  PutTime(out, a.atime);
  PutTime(out, a.mtime);
  PutTime(out, a.ctime);
}

Result<Fattr3> DecodeFattr3(XdrDecoder& in) {
  Fattr3 a;
  ZEROFS_ASSIGN_OR_RETURN(a.type, DecodeEnum<Ftype3>(in, 1, 7, "ftype3"));
  ZEROFS_ASSIGN_OR_RETURN(a.mode, in.U32());
  ZEROFS_ASSIGN_OR_RETURN(a.nlink, in.U32());
  ZEROFS_ASSIGN_OR_RETURN(a.uid, in.U32());
  ZEROFS_ASSIGN_OR_RETURN(a.gid, in.U32());
  ZEROFS_ASSIGN_OR_RETURN(a.size, in.U64());
  ZEROFS_ASSIGN_OR_RETURN(a.used, in.U64());
  ZEROFS_ASSIGN_OR_RETURN(a.rdev_major, in.U32());
  ZEROFS_ASSIGN_OR_RETURN(a.rdev_minor, in.U32());
  ZEROFS_ASSIGN_OR_RETURN(a.fsid, in.U64());
  ZEROFS_ASSIGN_OR_RETURN(a.fileid, in.U64());
  ZEROFS_ASSIGN_OR_RETURN(a.atime, DecodeTime(in));
  ZEROFS_ASSIGN_OR_RETURN(a.mtime, DecodeTime(in));
  ZEROFS_ASSIGN_OR_RETURN(a.ctime, DecodeTime(in));
  return a;
}

void EncodePostOpAttr(XdrEncoder& out, const PostOpAttr& a) {
  out.PutBool(a.has_value());
  if (a) EncodeFattr3(out, *a);
}

Result<PostOpAttr> DecodePostOpAttr(XdrDecoder& in) {
  ZEROFS_ASSIGN_OR_RETURN(bool present, in.Optional());
  if (!present) return PostOpAttr();
  ZEROFS_ASSIGN_OR_RETURN(Fattr3 a, DecodeFattr3(in));
  return PostOpAttr(a);
}

void EncodeWccData(XdrEncoder& out, const WccData& w) {
  PutWccAttrOpt(out, w.before);
  EncodePostOpAttr(out, w.after);
}

// --- results -----------------------------------------------------------------------------

void Encode(XdrEncoder& out, const GetattrRes& r) {
  PutEnum(out, r.status);
  if (r.status == Nfsstat3::kOk) EncodeFattr3(out, r.attributes);
}

void Encode(XdrEncoder& out, const WccRes& r) {
  PutEnum(out, r.status);
  EncodeWccData(out, r.wcc);
}

void Encode(XdrEncoder& out, const LookupRes& r) {
  PutEnum(out, r.status);
  if (r.status == Nfsstat3::kOk) {
    EncodeFh3(out, r.object);
    EncodePostOpAttr(out, r.obj_attr);
  }
  EncodePostOpAttr(out, r.dir_attr);
}

void Encode(XdrEncoder& out, const AccessRes& r) {
  PutEnum(out, r.status);
  EncodePostOpAttr(out, r.attr);
  if (r.status == Nfsstat3::kOk) out.PutU32(r.access);
}

void Encode(XdrEncoder& out, const ReadlinkRes& r) {
  PutEnum(out, r.status);
  EncodePostOpAttr(out, r.attr);
  if (r.status == Nfsstat3::kOk) out.PutString(r.target);
}

void Encode(XdrEncoder& out, const ReadRes& r) {
  PutEnum(out, r.status);
  EncodePostOpAttr(out, r.attr);
  if (r.status != Nfsstat3::kOk) return;
  out.PutU32(static_cast<std::uint32_t>(r.data.size()));
  out.PutBool(r.eof);
  out.PutOpaque(r.data);
}

void Encode(XdrEncoder& out, const WriteRes& r) {
  PutEnum(out, r.status);
  EncodeWccData(out, r.wcc);
  if (r.status != Nfsstat3::kOk) return;
  out.PutU32(r.count);
  PutEnum(out, r.committed);
  PutVerifier(out, r.verf);
}

void Encode(XdrEncoder& out, const DiropRes& r) {
  PutEnum(out, r.status);
  if (r.status == Nfsstat3::kOk) {
    PutPostOpFh(out, r.object);
    EncodePostOpAttr(out, r.obj_attr);
  }
  EncodeWccData(out, r.dir_wcc);
}

void Encode(XdrEncoder& out, const RenameRes& r) {
  PutEnum(out, r.status);
  EncodeWccData(out, r.from_dir_wcc);
  EncodeWccData(out, r.to_dir_wcc);
}

void Encode(XdrEncoder& out, const LinkRes& r) {
  PutEnum(out, r.status);
  EncodePostOpAttr(out, r.file_attr);
  EncodeWccData(out, r.link_dir_wcc);
}

namespace {

// READDIR(PLUS) with the entries that fit `max_bytes` (and, for PLUS, `dircount`).
void EncodeDirList(XdrEncoder& out, const ReaddirRes& r, bool plus, std::uint32_t dircount,
                   std::uint32_t max_bytes) {
  if (r.status != Nfsstat3::kOk) {
    PutEnum(out, r.status);
    EncodePostOpAttr(out, r.dir_attr);
    return;
  }
  const std::size_t fixed = 4 + 4 + (r.dir_attr ? kFattr3Bytes : 0) + kVerifierBytes + 4 + 4;
  std::size_t used = fixed;
  std::size_t dir_used = 0;
  std::size_t fit = 0;
  max_bytes = std::min(max_bytes, kMaxCount);
  for (const DirEntry& e : r.entries) {
    const std::size_t name_part = 8 + 4 + XdrPadded(e.name.size()) + 8;
    std::size_t entry = 4 + name_part;
    if (plus) {
      entry += 4 + (e.attr ? kFattr3Bytes : 0) + 4 +
               (e.handle ? 4 + XdrPadded(e.handle->data.size()) : 0);
    }
    if (used + entry > max_bytes || (plus && dir_used + name_part > dircount && fit > 0)) break;
    used += entry;
    dir_used += name_part;
    ++fit;
  }
  if (fit == 0 && !r.entries.empty()) {
    PutEnum(out, Nfsstat3::kToosmall);
    EncodePostOpAttr(out, r.dir_attr);
    return;
  }
  PutEnum(out, Nfsstat3::kOk);
  EncodePostOpAttr(out, r.dir_attr);
  PutVerifier(out, r.verf);
  for (std::size_t i = 0; i < fit; ++i) {
    const DirEntry& e = r.entries[i];
    out.PutBool(true);
    out.PutU64(e.fileid);
    out.PutString(e.name);
    out.PutU64(e.cookie);
    if (plus) {
      EncodePostOpAttr(out, e.attr);
      PutPostOpFh(out, e.handle);
    }
  }
  out.PutBool(false);
  out.PutBool(r.eof && fit == r.entries.size());
}

}  // namespace

void EncodeReaddir(XdrEncoder& out, const ReaddirRes& r, std::uint32_t count) {
  EncodeDirList(out, r, false, 0, count);
}

void EncodeReaddirplus(XdrEncoder& out, const ReaddirRes& r, std::uint32_t dircount,
                       std::uint32_t maxcount) {
  EncodeDirList(out, r, true, dircount, maxcount);
}

void Encode(XdrEncoder& out, const FsstatRes& r) {
  PutEnum(out, r.status);
  EncodePostOpAttr(out, r.attr);
  if (r.status != Nfsstat3::kOk) return;
  for (std::uint64_t v : {r.tbytes, r.fbytes, r.abytes, r.tfiles, r.ffiles, r.afiles}) {
    out.PutU64(v);
  }
  out.PutU32(r.invarsec);
}

void Encode(XdrEncoder& out, const FsinfoRes& r) {
  PutEnum(out, r.status);
  EncodePostOpAttr(out, r.attr);
  if (r.status != Nfsstat3::kOk) return;
  for (std::uint32_t v : {r.rtmax, r.rtpref, r.rtmult, r.wtmax, r.wtpref, r.wtmult, r.dtpref}) {
    out.PutU32(v);
  }
  out.PutU64(r.maxfilesize);
  PutTime(out, r.time_delta);
  out.PutU32(r.properties);
}

void Encode(XdrEncoder& out, const PathconfRes& r) {
  PutEnum(out, r.status);
  EncodePostOpAttr(out, r.attr);
  if (r.status != Nfsstat3::kOk) return;
  out.PutU32(r.linkmax);
  out.PutU32(r.name_max);
  for (bool b : {r.no_trunc, r.chown_restricted, r.case_insensitive, r.case_preserving}) {
    out.PutBool(b);
  }
}

void Encode(XdrEncoder& out, const CommitRes& r) {
  PutEnum(out, r.status);
  EncodeWccData(out, r.wcc);
  if (r.status == Nfsstat3::kOk) PutVerifier(out, r.verf);
}

Result<Nfsstat3> DecodeStatus(XdrDecoder& in) {
  ZEROFS_ASSIGN_OR_RETURN(std::uint32_t v, in.U32());
  return static_cast<Nfsstat3>(v);
}

// --- MOUNT v3 ----------------------------------------------------------------------------

Result<std::string> DecodeDirPath(XdrDecoder& in) {
  ZEROFS_ASSIGN_OR_RETURN(std::string path, in.String(kMountPathBytes));
  return Finish(in, std::move(path));
}

void Encode(XdrEncoder& out, const MntRes& r) {
  PutEnum(out, r.status);
  if (r.status != MountStat3::kOk) return;
  EncodeFh3(out, r.handle);
  out.PutU32(static_cast<std::uint32_t>(r.auth_flavors.size()));
  for (std::uint32_t f : r.auth_flavors) out.PutU32(f);
}

void EncodeMountList(XdrEncoder& out, const std::vector<MountEntry>& entries) {
  for (const MountEntry& e : entries) {
    out.PutBool(true);
    out.PutString(e.hostname);
    out.PutString(e.directory);
  }
  out.PutBool(false);
}

void EncodeExports(XdrEncoder& out, const std::vector<ExportEntry>& exports) {
  for (const ExportEntry& e : exports) {
    out.PutBool(true);
    out.PutString(e.directory);
    for (const std::string& g : e.groups) {
      out.PutBool(true);
      out.PutString(g);
    }
    out.PutBool(false);
  }
  out.PutBool(false);
}

}  // namespace zerofs::nfs
