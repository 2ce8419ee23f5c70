// Small XDR helpers shared by the NFSv3 codec's source files. Internal to servers/nfs;
// stateless.
#pragma once

#include <optional>
#include <string>

#include "zerofs/nfs/nfs3_codec.h"

namespace zerofs::nfs::nfs3_wire {

inline constexpr std::size_t kFattr3Bytes = 84;
inline constexpr std::uint32_t kMaxCount = 1U << 20;  // READ/READDIR counts the server honours

template <typename E>
inline Result<E> DecodeEnum(XdrDecoder& in, std::uint32_t lo, std::uint32_t hi, const char* what) {
  ZEROFS_ASSIGN_OR_RETURN(std::uint32_t v, in.U32());
  if (v < lo || v > hi) {
    return Status::Corruption(std::string("nfs3: bad ") + what + " " + std::to_string(v));
  }
  return static_cast<E>(v);
}

template <typename E>
inline void PutEnum(XdrEncoder& out, E e) {
  out.PutU32(static_cast<std::uint32_t>(e));
}

inline Result<Verifier> DecodeVerifier(XdrDecoder& in) {
  ZEROFS_ASSIGN_OR_RETURN(std::string bytes, in.FixedOpaque(kVerifierBytes));
  Verifier v{};
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<std::uint8_t>(bytes[i]);
  return v;
}

inline void PutVerifier(XdrEncoder& out, const Verifier& v) {
  out.PutFixedOpaque({reinterpret_cast<const char*>(v.data()), v.size()});
}

inline Result<NfsTime3> DecodeTime(XdrDecoder& in) {
  NfsTime3 t;
  ZEROFS_ASSIGN_OR_RETURN(t.seconds, in.U32());
  ZEROFS_ASSIGN_OR_RETURN(t.nseconds, in.U32());
  return t;
}

inline void PutTime(XdrEncoder& out, const NfsTime3& t) {
  out.PutU32(t.seconds);
  out.PutU32(t.nseconds);
}

inline Result<std::string> DecodeName(XdrDecoder& in) {
  return in.String(kMaxNameBytes);
}

inline Result<DirOpArgs3> DecodeDirOp(XdrDecoder& in) {
  DirOpArgs3 d;
  ZEROFS_ASSIGN_OR_RETURN(d.dir, DecodeFh3(in));
  ZEROFS_ASSIGN_OR_RETURN(d.name, DecodeName(in));
  return d;
}

inline void PutDirOp(XdrEncoder& out, const DirOpArgs3& d) {
  EncodeFh3(out, d.dir);
  out.PutString(d.name);
}

template <typename T>
inline Result<std::optional<T>> DecodeOptionalU(XdrDecoder& in) {
  ZEROFS_ASSIGN_OR_RETURN(bool set, in.Bool());
  if (!set) return std::optional<T>();
  if constexpr (sizeof(T) == 8) {
    ZEROFS_ASSIGN_OR_RETURN(std::uint64_t v, in.U64());
    return std::optional<T>(v);
  } else {
    ZEROFS_ASSIGN_OR_RETURN(std::uint32_t v, in.U32());
    return std::optional<T>(v);
  }
}

template <typename T>
inline void PutOptionalU(XdrEncoder& out, const std::optional<T>& v) {
  out.PutBool(v.has_value());
  if (!v) return;
  if constexpr (sizeof(T) == 8) {
    out.PutU64(*v);
  } else {
    out.PutU32(*v);
  }
}

// Trailing bytes after a procedure's arguments mean the client and server disagree on
// the layout: reject rather than guess.
template <typename T>
inline Result<T> Finish(XdrDecoder& in, T value) {
  if (!in.AtEnd()) {
    return Status::Corruption("nfs3: " + std::to_string(in.remaining()) +
                              " trailing bytes after the arguments");
  }
  return value;
}

inline void PutWccAttrOpt(XdrEncoder& out, const std::optional<WccAttr>& w) {
  out.PutBool(w.has_value());
  if (!w) return;
  out.PutU64(w->size);
  PutTime(out, w->mtime);
  PutTime(out, w->ctime);
}

inline void PutPostOpFh(XdrEncoder& out, const std::optional<Fh3>& fh) {
  out.PutBool(fh.has_value());
  if (fh) EncodeFh3(out, *fh);
}

}  // namespace zerofs::nfs::nfs3_wire
