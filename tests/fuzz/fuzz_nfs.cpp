// Fuzzes what the NFS server runs on bytes from the network. The first input byte picks:
//   0  a TCP byte stream: MeasureRecord splits it into records (bounded) as a connection
//      does, and each record goes through the Dispatcher (call header, credentials, every
//      NFSv3 / MOUNT v3 argument decoder, the volume handler over a MemoryStore volume, the
//      result encoders)
//   1  one NFSv3 procedure's argument decoder: the next byte is the procedure, the rest
//      its arguments; what decodes must encode to bytes of the same length that decode
//      and encode again to themselves
//   2  an AUTH_SYS credential body
// Every reply the dispatcher produces must be a sealed one-fragment record.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_common.h"
#include "zerofs/common/log.h"
#include "zerofs/engine/volume.h"
#include "zerofs/nfs/dispatcher.h"
#include "zerofs/nfs/nfs3_codec.h"
#include "zerofs/nfs/rpc.h"
#include "zerofs/nfs/vfs_handler.h"
#include "zerofs/objstore/memory_store.h"
#include "zerofs/vfs/filesystem.h"

using namespace zerofs;
using namespace zerofs::nfs;

namespace {

constexpr std::size_t kMaxRecord = kMaxIoBytes + 4096;

std::string Record(std::uint32_t program, std::uint32_t proc,
                   const std::function<void(XdrEncoder&)>& args, std::uint32_t xid = 1) {
  CallHeader call;
  call.xid = xid;
  call.rpc_version = kRpcVersion;
  call.program = program;
  call.version = 3;
  call.procedure = proc;
  call.cred.flavor = static_cast<std::uint32_t>(AuthFlavor::kSys);
  XdrEncoder cred;
  EncodeAuthSys(cred, AuthSys{1, "fuzz", 0, 0, {0, 10}});
  call.cred.body = cred.Take();
  XdrEncoder e;
  EncodeCallHeader(e, call);
  if (args) args(e);
  std::string body = e.Take();
  std::string out(4, '\0');
  const std::uint32_t mark = kLastFragmentBit | static_cast<std::uint32_t>(body.size());
  for (int i = 0; i < 4; ++i)
    out[static_cast<std::size_t>(i)] = static_cast<char>(mark >> (24 - 8 * i));
  return out + body;
}

// The root handle of a fresh volume is not known to the seeds, so the seeds carry
// a plausible 16-byte handle; mutations reach the handler's STALE and BADHANDLE paths and,
// through MNT's reply, nothing else needs it.
const Fh3 kFh{std::string(16, '\x01')};

template <typename Args>
std::function<void(XdrEncoder&)> With(Args args) {
  return [args](XdrEncoder& e) { Encode(e, args); };
}

std::vector<std::string> Seeds() {
  std::vector<std::string> calls = {
      Record(kNfsProgram, 0, {}),
      Record(kMountProgram, 1, [](XdrEncoder& e) { e.PutString("/"); }),
      Record(kMountProgram, 5, {}),
      Record(kNfsProgram, 1, With(FhArgs{kFh})),
      Record(
          kNfsProgram, 2,
          With(SetattrArgs{
              kFh, Sattr3{0644, 1, 2, 100, TimeHow::kClientTime, {1, 2}, TimeHow::kServerTime, {}},
              NfsTime3{3, 4}})),
      Record(kNfsProgram, 3, With(LookupArgs{{kFh, "name"}})),
      Record(kNfsProgram, 4, With(AccessArgs{kFh, 0x3f})),
      Record(kNfsProgram, 6, With(ReadArgs{kFh, 0, 4096})),
      Record(kNfsProgram, 7, With(WriteArgs{kFh, 0, 5, StableHow::kUnstable, "hello"})),
      Record(kNfsProgram, 8, With(CreateArgs{{kFh, "f"}, CreateMode::kExclusive, {}, {1, 2}})),
      Record(kNfsProgram, 9, With(MkdirArgs{{kFh, "d"}, Sattr3{}})),
      Record(kNfsProgram, 10, With(SymlinkArgs{{kFh, "l"}, Sattr3{}, "target"})),
      Record(kNfsProgram, 11, With(MknodArgs{{kFh, "n"}, Ftype3::kChr, Sattr3{}, 1, 3})),
      Record(kNfsProgram, 12, With(RemoveArgs{{kFh, "f"}})),
      Record(kNfsProgram, 14, With(RenameArgs{{kFh, "a"}, {kFh, "b"}})),
      Record(kNfsProgram, 15, With(LinkArgs{kFh, {kFh, "h"}})),
      Record(kNfsProgram, 16, With(ReaddirArgs{kFh, 3, {1}, 4096})),
      Record(kNfsProgram, 17, With(ReaddirplusArgs{kFh, 0, {}, 4096, 32768})),
      Record(kNfsProgram, 21, With(CommitArgs{kFh, 0, 0})),
  };
  std::vector<std::string> seeds;
  std::string stream(1, '\0');
  for (const std::string& c : calls) {
    seeds.push_back(std::string(1, '\0') + c);
    stream += c;
    XdrDecoder in(std::string_view(c).substr(4));
    auto header = DecodeCallHeader(in);
    if (header.ok() && header->program == kNfsProgram) {
      seeds.push_back(std::string(1, '\1') + static_cast<char>(header->procedure) +
                      std::string(in.Rest()));
    }
  }
  seeds.push_back(stream);
  XdrEncoder cred;
  EncodeAuthSys(cred, AuthSys{7, "host", 1000, 1000, {1, 2, 3}});
  seeds.push_back(std::string(1, '\2') + cred.Take());
  return seeds;
}

// What decodes encodes to bytes that decode to the same thing (the decoders accept
// non-zero XDR padding, which the encoders never write, so the first encoding may differ
// from the input; from there on it must be stable).
template <typename T>
void RoundTrip(std::string_view bytes, Result<T> (*decode)(XdrDecoder&)) {
  XdrDecoder in(bytes);
  Result<T> args = decode(in);
  if (!args.ok()) return;
  XdrEncoder out;
  Encode(out, *args);
  const std::string first = out.Take();
  XdrDecoder again(first);
  Result<T> reread = decode(again);
  fuzz::Expect(reread.ok(), "an encoding of decoded arguments decodes");
  XdrEncoder out2;
  Encode(out2, *reread);
  fuzz::Expect(out2.Take() == first, "decode and encode are stable");
  fuzz::Expect(first.size() == bytes.size(), "the encoding has the input's length");
}

void DecodeArgs(std::uint8_t proc, std::string_view bytes) {
  switch (static_cast<Nfs3Proc>(proc)) {
    case Nfs3Proc::kGetattr:
    case Nfs3Proc::kReadlink:
    case Nfs3Proc::kFsstat:
    case Nfs3Proc::kFsinfo:
    case Nfs3Proc::kPathconf: return RoundTrip(bytes, DecodeFhArgs);
    case Nfs3Proc::kSetattr: return RoundTrip(bytes, DecodeSetattrArgs);
    case Nfs3Proc::kLookup: return RoundTrip(bytes, DecodeLookupArgs);
    case Nfs3Proc::kAccess: return RoundTrip(bytes, DecodeAccessArgs);
    case Nfs3Proc::kRead: return RoundTrip(bytes, DecodeReadArgs);
    case Nfs3Proc::kWrite: return RoundTrip(bytes, DecodeWriteArgs);
    case Nfs3Proc::kCreate: return RoundTrip(bytes, DecodeCreateArgs);
    case Nfs3Proc::kMkdir: return RoundTrip(bytes, DecodeMkdirArgs);
    case Nfs3Proc::kSymlink: return RoundTrip(bytes, DecodeSymlinkArgs);
    case Nfs3Proc::kMknod: return RoundTrip(bytes, DecodeMknodArgs);
    case Nfs3Proc::kRemove:
    case Nfs3Proc::kRmdir: return RoundTrip(bytes, DecodeRemoveArgs);
    case Nfs3Proc::kRename: return RoundTrip(bytes, DecodeRenameArgs);
    case Nfs3Proc::kLink: return RoundTrip(bytes, DecodeLinkArgs);
    case Nfs3Proc::kReaddir: return RoundTrip(bytes, DecodeReaddirArgs);
    case Nfs3Proc::kReaddirplus: return RoundTrip(bytes, DecodeReaddirplusArgs);
    case Nfs3Proc::kCommit: return RoundTrip(bytes, DecodeCommitArgs);
    case Nfs3Proc::kNull: return;
  }
}

// One volume in memory for the whole run (never closed: the process ends with it).
VfsNfsHandler& Handler() {
  static VfsNfsHandler* handler = [] {
    auto store = std::make_shared<objstore::MemoryStore>();
    const Secret password("fuzz-password");
    engine::CreateOptions key_options;
    key_options.kdf = crypto::Argon2Params::Minimum();
    fuzz::Expect(engine::Volume::Create(*store, password, key_options).ok(), "a volume key");
    engine::VolumeOptions options;
    options.store = store;
    options.password = password;
    // No cache_dir: a private temporary directory.
    options.memory_cache_bytes = 8 << 20;
    auto volume = engine::Volume::Open(std::move(options));
    fuzz::Expect(volume.ok(), "the volume opens");
    vfs::FilesystemOptions fs_options;
    fs_options.volume = std::shared_ptr<engine::Volume>(std::move(*volume));
    fs_options.root_mode = 0777;
    auto fs = vfs::Filesystem::Open(std::move(fs_options));
    fuzz::Expect(fs.ok(), "the filesystem opens");
    return new VfsNfsHandler(std::shared_ptr<vfs::Filesystem>(std::move(*fs)));
  }();
  return *handler;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  log::SetLevel(log::Level::kOff);
  fuzz::MaybeWriteSeeds(Seeds);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      std::vector<std::string> records;
      for (std::string_view rest = input; !rest.empty();) {
        Result<std::size_t> bytes = MeasureRecord(rest, kMaxRecord);
        if (!bytes.ok() || *bytes > rest.size()) break;
        fuzz::Expect(*bytes > 0, "a record takes bytes");
        std::string record(rest.substr(0, *bytes));
        StripRecordMarks(record);
        records.push_back(std::move(record));
        rest.remove_prefix(*bytes);
      }
      Dispatcher dispatcher(Handler());
      for (const std::string& record : records) {
        fuzz::Expect(record.size() <= kMaxRecord, "a record within the bound");
        (void)Dispatcher::ExpectedReplyBytes(record);
        Result<std::string> reply = dispatcher.Handle(record, "fuzz");
        if (!reply.ok()) continue;
        fuzz::Expect(reply->size() >= 4 + 12, "a reply holds a mark and a header");
        const auto* p = reinterpret_cast<const unsigned char*>(reply->data());
        const std::uint32_t mark = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
                                   (std::uint32_t{p[2]} << 8) | p[3];
        fuzz::Expect(mark == (kLastFragmentBit | (reply->size() - 4)), "a sealed reply record");
      }
      break;
    }
    case 1:
      if (!input.empty()) DecodeArgs(static_cast<std::uint8_t>(input[0]) % 22, input.substr(1));
      break;
    case 2: {
      auto cred = DecodeAuthSys(input);
      if (cred.ok()) {
        XdrEncoder out;
        EncodeAuthSys(out, *cred);
        const std::string first = out.Take();
        fuzz::Expect(first.size() == input.size(), "AUTH_SYS encodes to the input's length");
        auto reread = DecodeAuthSys(first);
        fuzz::Expect(reread.ok() && reread->machine_name == cred->machine_name &&
                         reread->uid == cred->uid && reread->gids == cred->gids,
                     "AUTH_SYS decodes its own encoding to the same credential");
      }
      break;
    }
  }
  return 0;
}
