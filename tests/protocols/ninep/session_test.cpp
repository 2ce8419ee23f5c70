// Version negotiation, the fid table's bounds, and the volume handler (over a MemoryStore
// volume) driven through Dispatch exactly as the server drives it.
#include <fcntl.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cerrno>

#include "test_volume.h"
#include "zerofs/ninep/codec.h"
#include "zerofs/ninep/fid_table.h"
#include "zerofs/ninep/handler.h"

using namespace zerofs::ninep;
using zerofs::Result;

namespace {

template <typename R>
R Expect(const Reply& reply) {
  if (const auto* err = std::get_if<Rlerror>(&reply)) {
    FAIL("expected " << MessageTypeName(static_cast<std::uint8_t>(R::kType)) << ", got Rlerror "
                     << err->ecode);
  }
  REQUIRE(std::holds_alternative<R>(reply));
  return std::get<R>(reply);
}

std::uint32_t ErrorOf(const Reply& reply) {
  const auto* err = std::get_if<Rlerror>(&reply);
  return err == nullptr ? 0 : err->ecode;
}

struct Session {
  zerofs::ninep::test::TestVolume volume;
  Handler& handler = *volume.handler();
  FidTable fids{16};
  RequestContext ctx{fids, 8192};
  Reply Do(const Request& r) { return Dispatch(handler, ctx, r); }
};

}  // namespace

TEST_CASE("9p version: msize is the smaller of both, 9P2000.L only", "[ninep][version]") {
  auto v = std::get<Rversion>(NegotiateVersion(Tversion{1 << 20, "9P2000.L"}, 65536));
  CHECK(v.msize == 65536);
  CHECK(v.version == "9P2000.L");
  v = std::get<Rversion>(NegotiateVersion(Tversion{8192, "9P2000.L"}, 65536));
  CHECK(v.msize == 8192);
  // Server limit clamped into [kMinMsize, kMaxMsizeCap].
  v = std::get<Rversion>(NegotiateVersion(Tversion{0xffffffffU, "9P2000.L"}, 0xffffffffU));
  CHECK(v.msize == kMaxMsizeCap);
  for (const char* other : {"9P2000", "9P2000.u", "9P2000.L.extra", ""}) {
    v = std::get<Rversion>(NegotiateVersion(Tversion{8192, other}, 65536));
    CHECK(v.version == "unknown");
  }
  CHECK(ErrorOf(NegotiateVersion(Tversion{kMinMsize - 1, "9P2000.L"}, 65536)) == EINVAL);
  v = std::get<Rversion>(NegotiateVersion(Tversion{kMinMsize, "9P2000.L"}, 65536));
  CHECK(v.msize == kMinMsize);
}

TEST_CASE("9p fid table: bounded, no reuse, NOFID refused", "[ninep][fid]") {
  FidTable table(3);
  auto h = std::make_shared<FidHandle>();
  CHECK(table.Insert(1, h) == 0);
  CHECK(table.Insert(1, h) == EBADF);
  CHECK(table.Insert(kNoFid, h) == EBADF);
  CHECK(table.Insert(2, h) == 0);
  CHECK(table.Insert(3, h) == 0);
  CHECK(table.Insert(4, h) == EMFILE);
  CHECK(table.size() == 3);
  CHECK(table.Remove(2) == h);
  CHECK(table.Remove(2) == nullptr);
  CHECK(table.Insert(4, h) == 0);
  CHECK(table.Replace(9, h) == EBADF);
  CHECK(table.Get(4) == h);
  CHECK(table.Clear().size() == 3);
  CHECK(table.size() == 0);
}

TEST_CASE("9p dispatch: attach, walk, create, write, read, readdir, unlink", "[ninep][dispatch]") {
  Session s;
  const Rattach root = Expect<Rattach>(s.Do(Tattach{0, kNoFid, "root", "", 0}));
  CHECK(root.qid.type == kQidDir);
  CHECK(ErrorOf(s.Do(Tattach{0, kNoFid, "root", "", 0})) == EBADF);  // fid in use

  Expect<Rmkdir>(s.Do(Tmkdir{0, "sub", 0755, 0}));
  CHECK(ErrorOf(s.Do(Tmkdir{0, "sub", 0755, 0})) == EEXIST);
  CHECK(ErrorOf(s.Do(Tmkdir{0, "a/b", 0755, 0})) == EINVAL);

  // Clone the root, create a file in it; the fid becomes the open file.
  Expect<Rwalk>(s.Do(Twalk{0, 1, {}}));
  const Rlcreate created = Expect<Rlcreate>(s.Do(Tlcreate{1, "f.txt", O_RDWR | O_CREAT, 0644, 0}));
  CHECK(created.iounit == 8192 - kIoHeaderBytes);
  CHECK(Expect<Rwrite>(s.Do(Twrite{1, 0, Data{"hello, 9p"}})).count == 9);
  CHECK(Expect<Rread>(s.Do(Tread{1, 7, 100})).data.bytes == "9p");
  CHECK(Expect<Rread>(s.Do(Tread{1, 100, 100})).data.bytes.empty());
  // A huge count is clamped to the iounit, not allocated.
  CHECK(Expect<Rread>(s.Do(Tread{1, 0, 0xffffffffU})).data.bytes == "hello, 9p");

  // Walk: a full walk binds newfid; a failure at the first name is ENOENT; partial
  // walks return the qids reached and bind nothing.
  const Rwalk w = Expect<Rwalk>(s.Do(Twalk{0, 2, {"sub", "..", "f.txt"}}));
  CHECK(w.qids.size() == 3);
  CHECK(w.qids[2].path == created.qid.path);  // the version moved with the write
  const Rgetattr attr = Expect<Rgetattr>(s.Do(Tgetattr{2, kGetattrAll}));
  CHECK(attr.size == 9);
  CHECK((attr.mode & 0777) == 0644);
  CHECK(ErrorOf(s.Do(Twalk{0, 3, {"missing"}})) == ENOENT);
  CHECK(Expect<Rwalk>(s.Do(Twalk{0, 3, {"sub", "missing"}})).qids.size() == 1);
  CHECK(ErrorOf(s.Do(Tgetattr{3, kGetattrBasic})) == EBADF);

  // Readdir with a small count returns whole entries only and resumes at the cookie.
  Expect<Rwalk>(s.Do(Twalk{0, 4, {}}));
  Expect<Rlopen>(s.Do(Tlopen{4, O_RDONLY}));
  std::vector<std::string> names;
  std::uint64_t cookie = 0;
  for (int round = 0; round < 10; ++round) {
    const Rreaddir r = Expect<Rreaddir>(s.Do(Treaddir{4, cookie, 40}));
    if (r.data.bytes.empty()) break;
    CHECK(r.data.bytes.size() <= 40);
    auto entries = DecodeDirents(r.data.bytes);
    REQUIRE(entries.ok());
    for (const Dirent& d : *entries) {
      names.push_back(d.name);
      cookie = d.offset;
    }
  }
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{".", "..", "f.txt", "sub"});

  CHECK(ErrorOf(s.Do(Tunlinkat{0, "sub", 0})) == EISDIR);
  Expect<Runlinkat>(s.Do(Tunlinkat{0, "sub", kAtRemoveDir}));
  Expect<Runlinkat>(s.Do(Tunlinkat{0, "f.txt", 0}));
  CHECK(ErrorOf(s.Do(Tunlinkat{0, "f.txt", 0})) == ENOENT);
  const Rstatfs st = Expect<Rstatfs>(s.Do(Tstatfs{0}));
  CHECK(st.namelen == 255);

  Expect<Rclunk>(s.Do(Tclunk{1}));
  CHECK(ErrorOf(s.Do(Tclunk{1})) == EBADF);
  CHECK(ErrorOf(s.Do(Tread{1, 0, 10})) == EBADF);
  CHECK(ErrorOf(s.Do(Tversion{8192, "9P2000.L"})) == EPROTO);
}

TEST_CASE("9p dispatch: fid limit surfaces as EMFILE", "[ninep][dispatch][fid]") {
  Session s;
  Expect<Rattach>(s.Do(Tattach{0, kNoFid, "", "", 0}));
  for (std::uint32_t fid = 1; fid < 16; ++fid) Expect<Rwalk>(s.Do(Twalk{0, fid, {}}));
  CHECK(ErrorOf(s.Do(Twalk{0, 99, {}})) == EMFILE);
}
