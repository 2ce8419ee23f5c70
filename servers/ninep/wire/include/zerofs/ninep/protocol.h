// 9P2000.L wire constants, as the Linux v9fs client speaks them.
//
// Sources: the Linux kernel's include/net/9p/9p.h (message numbers, getattr/setattr bits,
// lock constants) and diod's protocol.md (field order of every .L message). Everything on
// the wire is little-endian; a string is len[2] + bytes without a terminating NUL; a qid is
// type[1] version[4] path[8]. A frame is size[4] type[1] tag[2] body, where size counts
// the whole frame including itself and never exceeds the negotiated msize.
//
// Thread-safety: constants and plain value types only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace zerofs::ninep {

inline constexpr std::string_view kVersion9P2000L = "9P2000.L";
inline constexpr std::string_view kVersionUnknown = "unknown";

inline constexpr std::uint16_t kNoTag = 0xffff;
inline constexpr std::uint32_t kNoFid = 0xffffffffU;
inline constexpr std::uint32_t kNoUid = 0xffffffffU;  // P9_NONUNAME in Tattach n_uname

// size[4] type[1] tag[2].
inline constexpr std::size_t kHeaderBytes = 7;
// The largest fixed part of a Tread/Twrite/Rread header (size type tag fid offset count),
// so that count <= msize - kIoHeaderBytes always fits in one frame.
inline constexpr std::size_t kIoHeaderBytes = 24;
inline constexpr std::size_t kQidBytes = 13;
// No msize below this: enough for a 4 KiB page of data plus any I/O header.
inline constexpr std::uint32_t kMinMsize = 4096 + kIoHeaderBytes;
// Hard cap on any frame this code will buffer, whatever is configured.
inline constexpr std::uint32_t kMaxMsizeCap = 16U << 20;
// What the server offers by default (the Linux client asks for 512 KiB by default
// since 6.x, and more with msize=).
inline constexpr std::uint32_t kDefaultMaxMsize = 1U << 20;
// Twalk / Rwalk carry at most this many names / qids.
inline constexpr std::uint16_t kMaxWalkNames = 16;

// Message types. T-messages are even, their R-message is the next odd number.
enum class MessageType : std::uint8_t {
  kTlerror = 6,  // not used; Rlerror answers any failed request
  kRlerror = 7,
  kTstatfs = 8,
  kRstatfs = 9,
  kTlopen = 12,
  kRlopen = 13,
  kTlcreate = 14,
  kRlcreate = 15,
  kTsymlink = 16,
  kRsymlink = 17,
  kTmknod = 18,
  kRmknod = 19,
  kTrename = 20,
  kRrename = 21,
  kTreadlink = 22,
  kRreadlink = 23,
  kTgetattr = 24,
  kRgetattr = 25,
  kTsetattr = 26,
  kRsetattr = 27,
  kTxattrwalk = 30,
  kRxattrwalk = 31,
  kTxattrcreate = 32,
  kRxattrcreate = 33,
  kTreaddir = 40,
  kRreaddir = 41,
  kTfsync = 50,
  kRfsync = 51,
  kTlock = 52,
  kRlock = 53,
  kTgetlock = 54,
  kRgetlock = 55,
  kTlink = 70,
  kRlink = 71,
  kTmkdir = 72,
  kRmkdir = 73,
  kTrenameat = 74,
  kRrenameat = 75,
  kTunlinkat = 76,
  kRunlinkat = 77,
  kTversion = 100,
  kRversion = 101,
  kTauth = 102,
  kRauth = 103,
  kTattach = 104,
  kRattach = 105,
  kTerror = 106,  // illegal
  kRerror = 107,  // 9P2000 only; .L uses Rlerror
  kTflush = 108,
  kRflush = 109,
  kTwalk = 110,
  kRwalk = 111,
  kTopen = 112,  // 9P2000 only
  kRopen = 113,
  kTcreate = 114,  // 9P2000 only
  kRcreate = 115,
  kTread = 116,
  kRread = 117,
  kTwrite = 118,
  kRwrite = 119,
  kTclunk = 120,
  kRclunk = 121,
  kTremove = 122,
  kRremove = 123,
};

// Name for logs, e.g. "Tgetattr"; "unknown type" for numbers outside the table.
std::string_view MessageTypeName(std::uint8_t type);

// Qid.type bits: the high byte of the Plan 9 mode word.
inline constexpr std::uint8_t kQidDir = 0x80;
inline constexpr std::uint8_t kQidAppend = 0x40;
inline constexpr std::uint8_t kQidExclusive = 0x20;
inline constexpr std::uint8_t kQidMount = 0x10;
inline constexpr std::uint8_t kQidAuth = 0x08;
inline constexpr std::uint8_t kQidTmp = 0x04;
inline constexpr std::uint8_t kQidSymlink = 0x02;
inline constexpr std::uint8_t kQidLink = 0x01;
inline constexpr std::uint8_t kQidFile = 0x00;

struct Qid {
  std::uint8_t type = kQidFile;
  std::uint32_t version = 0;
  std::uint64_t path = 0;
  friend bool operator==(const Qid&, const Qid&) = default;
};

// Tgetattr request_mask / Rgetattr valid bits.
inline constexpr std::uint64_t kGetattrMode = 0x00000001ULL;
inline constexpr std::uint64_t kGetattrNlink = 0x00000002ULL;
inline constexpr std::uint64_t kGetattrUid = 0x00000004ULL;
inline constexpr std::uint64_t kGetattrGid = 0x00000008ULL;
inline constexpr std::uint64_t kGetattrRdev = 0x00000010ULL;
inline constexpr std::uint64_t kGetattrAtime = 0x00000020ULL;
inline constexpr std::uint64_t kGetattrMtime = 0x00000040ULL;
inline constexpr std::uint64_t kGetattrCtime = 0x00000080ULL;
inline constexpr std::uint64_t kGetattrIno = 0x00000100ULL;
inline constexpr std::uint64_t kGetattrSize = 0x00000200ULL;
inline constexpr std::uint64_t kGetattrBlocks = 0x00000400ULL;
inline constexpr std::uint64_t kGetattrBtime = 0x00000800ULL;
inline constexpr std::uint64_t kGetattrGen = 0x00001000ULL;
inline constexpr std::uint64_t kGetattrDataVersion = 0x00002000ULL;
inline constexpr std::uint64_t kGetattrBasic = 0x000007ffULL;  // MODE .. BLOCKS
inline constexpr std::uint64_t kGetattrAll = 0x00003fffULL;

// Tsetattr valid bits. A time bit without its *_SET bit means "now".
inline constexpr std::uint32_t kSetattrMode = 0x00000001U;
inline constexpr std::uint32_t kSetattrUid = 0x00000002U;
inline constexpr std::uint32_t kSetattrGid = 0x00000004U;
inline constexpr std::uint32_t kSetattrSize = 0x00000008U;
inline constexpr std::uint32_t kSetattrAtime = 0x00000010U;
inline constexpr std::uint32_t kSetattrMtime = 0x00000020U;
inline constexpr std::uint32_t kSetattrCtime = 0x00000040U;
inline constexpr std::uint32_t kSetattrAtimeSet = 0x00000080U;
inline constexpr std::uint32_t kSetattrMtimeSet = 0x00000100U;

// Tlock / Tgetlock.
inline constexpr std::uint8_t kLockTypeRead = 0;
inline constexpr std::uint8_t kLockTypeWrite = 1;
inline constexpr std::uint8_t kLockTypeUnlock = 2;
inline constexpr std::uint32_t kLockFlagBlock = 1;
inline constexpr std::uint32_t kLockFlagReclaim = 2;
inline constexpr std::uint8_t kLockSuccess = 0;
inline constexpr std::uint8_t kLockBlocked = 1;
inline constexpr std::uint8_t kLockError = 2;
inline constexpr std::uint8_t kLockGrace = 3;

// Tunlinkat flags: the Linux AT_REMOVEDIR value.
inline constexpr std::uint32_t kAtRemoveDir = 0x200;

// Rreaddir entry: qid[13] offset[8] type[1] name[s]; type is a DT_* value.
inline constexpr std::size_t kDirentFixedBytes = kQidBytes + 8 + 1 + 2;

}  // namespace zerofs::ninep
