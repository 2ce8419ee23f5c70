// NFSv3 and MOUNT v3 codec: argument decoders and result encoders for every procedure of
// RFC 1813 (the server side), plus argument encoders (the client side, used by tests and
// tools to build calls). A transcription of the RFC's XDR over xdr.h.
//
// Decoders are bounded (file handles <= 64 bytes, names <= 255, paths <= 4096, WRITE data
// <= kMaxIoBytes) and return Corruption on malformed input, which the server answers
// with GARBAGE_ARGS. Trailing bytes after the arguments are malformed too. Stateless and
// thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "zerofs/common/result.h"
#include "zerofs/nfs/nfs3_types.h"
#include "zerofs/nfs/xdr.h"

namespace zerofs::nfs {

// --- pieces ------------------------------------------------------------------------------
Result<Fh3> DecodeFh3(XdrDecoder& in);
void EncodeFh3(XdrEncoder& out, const Fh3& fh);
Result<Sattr3> DecodeSattr3(XdrDecoder& in);
void EncodeSattr3(XdrEncoder& out, const Sattr3& s);
void EncodeFattr3(XdrEncoder& out, const Fattr3& a);
Result<Fattr3> DecodeFattr3(XdrDecoder& in);
void EncodePostOpAttr(XdrEncoder& out, const PostOpAttr& a);
Result<PostOpAttr> DecodePostOpAttr(XdrDecoder& in);
void EncodeWccData(XdrEncoder& out, const WccData& w);

// --- NFSv3 arguments (server: decode; client: encode) -----------------------------------
Result<FhArgs> DecodeFhArgs(XdrDecoder& in);
Result<SetattrArgs> DecodeSetattrArgs(XdrDecoder& in);
Result<LookupArgs> DecodeLookupArgs(XdrDecoder& in);
Result<AccessArgs> DecodeAccessArgs(XdrDecoder& in);
Result<ReadArgs> DecodeReadArgs(XdrDecoder& in);
Result<WriteArgs> DecodeWriteArgs(XdrDecoder& in);
Result<CreateArgs> DecodeCreateArgs(XdrDecoder& in);
Result<MkdirArgs> DecodeMkdirArgs(XdrDecoder& in);
Result<SymlinkArgs> DecodeSymlinkArgs(XdrDecoder& in);
Result<MknodArgs> DecodeMknodArgs(XdrDecoder& in);
Result<RemoveArgs> DecodeRemoveArgs(XdrDecoder& in);
Result<RenameArgs> DecodeRenameArgs(XdrDecoder& in);
Result<LinkArgs> DecodeLinkArgs(XdrDecoder& in);
Result<ReaddirArgs> DecodeReaddirArgs(XdrDecoder& in);
Result<ReaddirplusArgs> DecodeReaddirplusArgs(XdrDecoder& in);
Result<CommitArgs> DecodeCommitArgs(XdrDecoder& in);

void Encode(XdrEncoder& out, const FhArgs& a);
void Encode(XdrEncoder& out, const SetattrArgs& a);
void Encode(XdrEncoder& out, const LookupArgs& a);
void Encode(XdrEncoder& out, const AccessArgs& a);
void Encode(XdrEncoder& out, const ReadArgs& a);
void Encode(XdrEncoder& out, const WriteArgs& a);
void Encode(XdrEncoder& out, const CreateArgs& a);
void Encode(XdrEncoder& out, const MkdirArgs& a);
void Encode(XdrEncoder& out, const SymlinkArgs& a);
void Encode(XdrEncoder& out, const MknodArgs& a);
void Encode(XdrEncoder& out, const RemoveArgs& a);
void Encode(XdrEncoder& out, const RenameArgs& a);
void Encode(XdrEncoder& out, const LinkArgs& a);
void Encode(XdrEncoder& out, const ReaddirArgs& a);
void Encode(XdrEncoder& out, const ReaddirplusArgs& a);
void Encode(XdrEncoder& out, const CommitArgs& a);

// --- NFSv3 results (server: encode) ------------------------------------------------------
void Encode(XdrEncoder& out, const GetattrRes& r);
void Encode(XdrEncoder& out, const WccRes& r);
void Encode(XdrEncoder& out, const LookupRes& r);
void Encode(XdrEncoder& out, const AccessRes& r);
void Encode(XdrEncoder& out, const ReadlinkRes& r);
void Encode(XdrEncoder& out, const ReadRes& r);
void Encode(XdrEncoder& out, const WriteRes& r);
void Encode(XdrEncoder& out, const DiropRes& r);
void Encode(XdrEncoder& out, const RenameRes& r);
void Encode(XdrEncoder& out, const LinkRes& r);
// `count` is READDIR's reply byte budget.
void EncodeReaddir(XdrEncoder& out, const ReaddirRes& r, std::uint32_t count);
// `maxcount` bounds the reply; `dircount` the bytes of names and cookies (RFC 1813 3.3.17).
void EncodeReaddirplus(XdrEncoder& out, const ReaddirRes& r, std::uint32_t dircount,
                       std::uint32_t maxcount);
void Encode(XdrEncoder& out, const FsstatRes& r);
void Encode(XdrEncoder& out, const FsinfoRes& r);
void Encode(XdrEncoder& out, const PathconfRes& r);
void Encode(XdrEncoder& out, const CommitRes& r);

// Client-side result decoding, as far as tests need it: the status word and, for READ
// and WRITE, the payload.
Result<Nfsstat3> DecodeStatus(XdrDecoder& in);

// --- MOUNT v3 ----------------------------------------------------------------------------
Result<std::string> DecodeDirPath(XdrDecoder& in);  // MNT, UMNT
void Encode(XdrEncoder& out, const MntRes& r);
void EncodeMountList(XdrEncoder& out, const std::vector<MountEntry>& entries);
void EncodeExports(XdrEncoder& out, const std::vector<ExportEntry>& exports);

}  // namespace zerofs::nfs
