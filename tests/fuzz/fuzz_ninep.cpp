// Fuzzes the 9P2000.L decoders the server runs on bytes from the network. The first input
// byte picks the decoder, the rest is its input:
//   0  a stream of request frames, split with CompleteFrameBytes and decoded with
//      DecodeFrameHeader + DecodeRequest, as a connection does (msize 64 KiB)
//   1  one reply frame (DecodeReply), as a client does
//   2  Rreaddir entries (DecodeDirents)
// Whatever decodes must encode back to exactly the same bytes: the decoders accept one
// encoding of each message and nothing else (no trailing bytes, no slack).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_common.h"
#include "zerofs/ninep/codec.h"

using namespace zerofs;
using namespace zerofs::ninep;

namespace {

constexpr std::uint32_t kMsize = 64 * 1024;

std::vector<std::string> Seeds() {
  const std::vector<Request> requests = {
      Tversion{8192, "9P2000.L"},
      Tauth{1, "root", "", 0},
      Tattach{1, kNoFid, "root", "/srv", 0},
      Tflush{3},
      Twalk{1, 2, {"a", "..", "b"}},
      Tread{2, 100, 4096},
      Twrite{2, 7, Data{"hello"}},
      Tclunk{2},
      Tremove{2},
      Tstatfs{1},
      Tlopen{2, 0102},
      Tlcreate{1, "f", 0101, 0644, 100},
      Tsymlink{1, "l", "target", 0},
      Tmknod{1, "n", 020644, 1, 3, 0},
      Trename{2, 1, "new"},
      Treadlink{2},
      Tgetattr{2, kGetattrAll},
      Tsetattr{2, kSetattrMode | kSetattrMtimeSet, 0755, 0, 0, 10, 1, 2, 3, 4},
      Txattrwalk{2, 3, "user.x"},
      Txattrcreate{2, "user.y", 5, 1},
      Treaddir{2, 3, 8192},
      Tfsync{2, 1},
      Tlock{2, kLockTypeWrite, kLockFlagBlock, 0, 100, 42, "host"},
      Tgetlock{2, kLockTypeRead, 0, 0, 42, "host"},
      Tlink{1, 2, "hard"},
      Tmkdir{1, "d", 0755, 0},
      Trenameat{1, "a", 1, "b"},
      Tunlinkat{1, "d", kAtRemoveDir},
  };
  std::vector<std::string> seeds;
  std::string stream(1, '\0');
  std::uint16_t tag = 0;
  for (const Request& r : requests) {
    const std::string frame = EncodeRequest(tag++, r);
    seeds.push_back(std::string(1, '\0') + frame);
    stream += frame;
  }
  seeds.push_back(stream);
  std::string dirents;
  AppendDirent(dirents, Dirent{Qid{kQidDir, 0, 1}, 1, 4, "."}, kMsize);
  AppendDirent(dirents, Dirent{Qid{kQidFile, 3, 77}, 9, 8, "file.txt"}, kMsize);
  const std::vector<Reply> replies = {
      Rlerror{2},
      Rversion{8192, "9P2000.L"},
      Rattach{Qid{kQidDir, 0, 1}},
      Rwalk{{Qid{kQidDir, 0, 5}, Qid{kQidFile, 1, 6}}},
      Rread{Data{"data"}},
      Rstatfs{0x01021997, 4096, 100, 50, 50, 1000, 900, 7, 255},
      Rlopen{Qid{kQidFile, 0, 6}, 8168},
      Rgetattr{kGetattrAll, Qid{kQidFile, 0, 6},
               0100644,     1,
               2,           1,
               0,           5,
               4096,        8,
               1,           2,
               3,           4,
               5,           6,
               7,           8,
               9,           10},
      Rreaddir{Data{dirents}},
      Rgetlock{kLockTypeWrite, 0, 100, 42, "host"},
      Rlock{kLockBlocked},
      Rreadlink{"target"},
  };
  for (const Reply& r : replies) seeds.push_back(std::string(1, '\1') + EncodeReply(9, r));
  seeds.push_back(std::string(1, '\2') + dirents);
  return seeds;
}

void FuzzRequests(std::string_view in) {
  while (!in.empty()) {
    Result<std::size_t> n = CompleteFrameBytes(in, kMsize);
    if (!n.ok() || *n == 0) return;
    fuzz::Expect(*n <= in.size() && *n <= kMsize, "CompleteFrameBytes beyond its input");
    const std::string_view frame = in.substr(0, *n);
    in.remove_prefix(*n);
    Result<FrameHeader> h = DecodeFrameHeader(frame, kMsize);
    fuzz::Expect(h.ok(), "a complete frame has no valid header");
    fuzz::Expect(h->size == frame.size(), "header size disagrees with the frame");
    Result<Request> r = DecodeRequest(h->type, frame.substr(kHeaderBytes));
    if (!r.ok()) continue;  // the server closes the connection (or answers EOPNOTSUPP)
    fuzz::Expect(TypeOf(*r) == h->type, "decoded request of another type");
    fuzz::Expect(EncodeRequest(h->tag, *r) == frame, "request does not round-trip");
  }
}

void FuzzReply(std::string_view in) {
  Result<FrameHeader> h = DecodeFrameHeader(in, kMsize);
  if (!h.ok() || h->size != in.size()) return;
  Result<Reply> r = DecodeReply(h->type, in.substr(kHeaderBytes));
  if (!r.ok()) return;
  fuzz::Expect(EncodeReply(h->tag, *r) == in, "reply does not round-trip");
  fuzz::Expect(EncodedReplyBytes(*r) == in.size(), "EncodedReplyBytes is wrong");
  if (const auto* dir = std::get_if<Rreaddir>(&*r)) (void)DecodeDirents(dir->data.bytes);
}

void FuzzDirents(std::string_view in) {
  Result<std::vector<Dirent>> entries = DecodeDirents(in);
  if (!entries.ok()) return;
  std::string again;
  for (const Dirent& d : *entries) {
    fuzz::Expect(AppendDirent(again, d, in.size()), "a decoded entry does not fit again");
  }
  fuzz::Expect(again == in, "dirents do not round-trip");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::MaybeWriteSeeds(Seeds);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: FuzzRequests(in); break;
    case 1: FuzzReply(in); break;
    default: FuzzDirents(in); break;
  }
  return 0;
}
