// NFSv3 and MOUNT v3 through the dispatcher and the volume handler (a MemoryStore volume),
// decoded as a client would: mount, create, UNSTABLE write + COMMIT with the instance's verifier,
// read back, readdir paging; and the TCP server: a malformed record closes only its own connection.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <set>
#include <thread>

#include "nfs_test_util.h"
#include "test_volume.h"
#include "zerofs/nfs/dispatcher.h"
#include "zerofs/nfs/nfs3_codec.h"
#include "zerofs/nfs/server.h"

namespace zerofs::nfs {
namespace {

struct Client {
  test::TestVolume volume;
  std::shared_ptr<VfsNfsHandler> handler = volume.handler();
  Dispatcher dispatcher{*handler};
  std::string results;  // of the last call

  // Calls and returns a decoder over the results of a SUCCESS reply.
  XdrDecoder Call(std::uint32_t prog, std::uint32_t proc,
                  const std::function<void(XdrEncoder&)>& args) {
    Result<std::string> sealed = dispatcher.Handle(test::MakeCall(prog, 3, proc, args), "t");
    REQUIRE(sealed.ok());
    std::string body = test::ReplyBody(*sealed);
    XdrDecoder in(body);
    Result<ReplyHeader> h = DecodeReplyHeader(in);
    REQUIRE(h.ok());
    REQUIRE(h->accept_stat == AcceptStat::kSuccess);
    results = std::string(in.Rest());
    return XdrDecoder(results);
  }
};

void SkipWcc(XdrDecoder& d) {
  if (*d.Bool()) REQUIRE(d.FixedOpaque(24).ok());
  REQUIRE(DecodePostOpAttr(d).ok());
}

Verifier ReadVerf(XdrDecoder& d) {
  std::string v = *d.FixedOpaque(8);
  Verifier out{};
  for (std::size_t i = 0; i < 8; ++i) out[i] = static_cast<std::uint8_t>(v[i]);
  return out;
}

TEST_CASE("mount, create, unstable write, commit, read, readdir", "[nfs][nfs3]") {
  Client c;
  XdrDecoder mnt = c.Call(kMountProgram, 1, [](XdrEncoder& e) { e.PutString("/"); });
  REQUIRE(*mnt.U32() == 0);
  const Fh3 root = *DecodeFh3(mnt);
  REQUIRE(*mnt.ArrayCount(8) >= 1);
  CHECK(*mnt.U32() == 1);  // AUTH_SYS first

  XdrDecoder missing = c.Call(kMountProgram, 1, [](XdrEncoder& e) { e.PutString("/nope"); });
  CHECK(*missing.U32() == static_cast<std::uint32_t>(MountStat3::kNoent));

  CreateArgs create{{root, "file"}, CreateMode::kGuarded, {}, {}};
  XdrDecoder cr = c.Call(kNfsProgram, 8, [&](XdrEncoder& e) { Encode(e, create); });
  REQUIRE(*DecodeStatus(cr) == Nfsstat3::kOk);
  REQUIRE(*cr.Bool());
  const Fh3 file = *DecodeFh3(cr);
  XdrDecoder again = c.Call(kNfsProgram, 8, [&](XdrEncoder& e) { Encode(e, create); });
  CHECK(*DecodeStatus(again) == Nfsstat3::kExist);

  WriteArgs write{file, 3, 5, StableHow::kUnstable, "hello"};
  XdrDecoder wr = c.Call(kNfsProgram, 7, [&](XdrEncoder& e) { Encode(e, write); });
  REQUIRE(*DecodeStatus(wr) == Nfsstat3::kOk);
  SkipWcc(wr);
  CHECK(*wr.U32() == 5);
  CHECK(*wr.U32() == static_cast<std::uint32_t>(StableHow::kUnstable));
  const Verifier verf = ReadVerf(wr);
  CHECK(verf == c.handler->write_verifier());

  XdrDecoder cm = c.Call(kNfsProgram, 21, [&](XdrEncoder& e) { Encode(e, CommitArgs{file}); });
  REQUIRE(*DecodeStatus(cm) == Nfsstat3::kOk);
  SkipWcc(cm);
  CHECK(ReadVerf(cm) == verf);
  CHECK(test::TestVolume().handler()->write_verifier() != verf);  // another instance

  XdrDecoder rd = c.Call(kNfsProgram, 6, [&](XdrEncoder& e) { Encode(e, ReadArgs{file, 0, 100}); });
  REQUIRE(*DecodeStatus(rd) == Nfsstat3::kOk);
  PostOpAttr attr = *DecodePostOpAttr(rd);
  REQUIRE(attr.has_value());
  CHECK(attr->size == 8);
  CHECK(*rd.U32() == 8);
  CHECK(*rd.Bool());  // eof
  CHECK(*rd.Opaque(100) == std::string("\0\0\0hello", 8));

  for (int i = 0; i < 20; ++i) {
    XdrDecoder mk = c.Call(kNfsProgram, 9, [&](XdrEncoder& e) {
      Encode(e, MkdirArgs{{root, "dir" + std::to_string(100 + i)}, {}});
    });
    REQUIRE(*DecodeStatus(mk) == Nfsstat3::kOk);
  }
  // READDIR in small pages sees ".", "..", "file" and 20 directories exactly once.
  std::vector<std::string> names;
  std::uint64_t cookie = 0;
  Verifier cookie_verf{};
  for (bool eof = false; !eof;) {
    XdrDecoder ls = c.Call(kNfsProgram, 16, [&](XdrEncoder& e) {
      Encode(e, ReaddirArgs{root, cookie, cookie_verf, 300});
    });
    REQUIRE(*DecodeStatus(ls) == Nfsstat3::kOk);
    REQUIRE(DecodePostOpAttr(ls).ok());
    cookie_verf = ReadVerf(ls);
    int page = 0;
    while (*ls.Bool()) {
      REQUIRE(ls.U64().ok());
      names.push_back(*ls.String(255));
      cookie = *ls.U64();
      ++page;
    }
    REQUIRE(page > 0);
    eof = *ls.Bool();
    REQUIRE(names.size() < 100);
  }
  CHECK(names.size() == 23);
  const std::set<std::string> unique(names.begin(), names.end());
  CHECK(unique.size() == 23);
  CHECK(unique.count("dir100") == 1);
  CHECK(unique.count("dir119") == 1);
  CHECK(unique.count("file") == 1);

  XdrDecoder lk = c.Call(kNfsProgram, 3, [&](XdrEncoder& e) {
    Encode(e, LookupArgs{{root, "absent"}});
  });
  CHECK(*DecodeStatus(lk) == Nfsstat3::kNoent);
  // The root's handle with another generation: a handle of an inode that is gone.
  Fh3 gone = root;
  gone.data.back() = static_cast<char>(gone.data.back() ^ 1);
  XdrDecoder stale = c.Call(kNfsProgram, 1, [&](XdrEncoder& e) { Encode(e, FhArgs{gone}); });
  CHECK(*DecodeStatus(stale) == Nfsstat3::kStale);
}

// --- the TCP server ----------------------------------------------------------------------

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::string Sealed(const std::string& body) {
  XdrEncoder e;
  e.PutU32(static_cast<std::uint32_t>(body.size()) | kLastFragmentBit);
  return e.Take() + body;
}

// Sends NULL calls on `s` and checks each is answered with its own xid.
void Ping(tcp::socket& s, std::uint32_t xid) {
  asio::write(s, asio::buffer(Sealed(test::MakeCall(kNfsProgram, 3, 0, {}, 0, {}, 2, xid))));
  std::string mark(4, '\0');
  asio::read(s, asio::buffer(mark));
  XdrDecoder md(mark);
  const std::uint32_t len = *md.U32() & ~kLastFragmentBit;
  REQUIRE(len < 1024);
  std::string body(len, '\0');
  asio::read(s, asio::buffer(body));
  XdrDecoder d(body);
  Result<ReplyHeader> h = DecodeReplyHeader(d);
  REQUIRE(h.ok());
  CHECK(h->xid == xid);
  CHECK(h->accept_stat == AcceptStat::kSuccess);
}

TEST_CASE("a malformed record closes only its own connection", "[nfs][server]") {
  ServerOptions options;
  options.listen = {"127.0.0.1:0"};
  options.io_threads = 1;
  options.worker_threads = 2;
  test::TestVolume volume;
  Server server(volume.handler(), options);
  REQUIRE(server.Start().ok());
  const std::uint16_t port = server.TcpPorts().at(0);
  asio::io_context io;
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
  tcp::socket good(io), bad(io), junk(io);
  good.connect(ep);
  bad.connect(ep);
  junk.connect(ep);
  Ping(good, 1);

  // A record mark announcing 2 GiB: closed without a reply.
  asio::write(bad, asio::buffer(std::string("\xff\xff\xff\xff", 4)));
  char byte;
  boost::system::error_code ec;
  asio::read(bad, asio::buffer(&byte, 1), ec);
  CHECK(ec);
  // A record that is not a call: closed too.
  asio::write(junk, asio::buffer(Sealed(std::string(8, '\x01'))));
  asio::read(junk, asio::buffer(&byte, 1), ec);
  CHECK(ec);

  // Pipelined calls on the good connection, sent in one write, are each answered once.
  std::string burst;
  for (std::uint32_t xid = 2; xid < 200; ++xid) {
    burst += Sealed(test::MakeCall(kNfsProgram, 3, 0, {}, 0, {}, 2, xid));
  }
  asio::write(good, asio::buffer(burst));
  std::set<std::uint32_t> answered;
  for (int i = 2; i < 200; ++i) {
    std::string head(4 + 24, '\0');  // a NULL reply: mark + 24 bytes
    asio::read(good, asio::buffer(head));
    XdrDecoder d(std::string_view(head).substr(4));
    answered.insert(*d.U32());
  }
  CHECK(answered.size() == 198);
  CHECK(*answered.begin() == 2);
  CHECK(*answered.rbegin() == 199);
  Ping(good, 500);
  CHECK(server.Stats().protocol_errors == 2);
  server.Stop();
  server.Wait();
}

TEST_CASE("a connection idle or stuck halfway through a record is closed", "[nfs][server]") {
  ServerOptions options;
  options.listen = {"127.0.0.1:0"};
  options.io_threads = 1;
  options.worker_threads = 2;
  options.idle_timeout_ms = 1000;
  test::TestVolume volume;
  Server server(volume.handler(), options);
  REQUIRE(server.Start().ok());
  const std::uint16_t port = server.TcpPorts().at(0);
  asio::io_context io;
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
  tcp::socket busy(io), stuck(io);
  busy.connect(ep);
  stuck.connect(ep);
  // Half a record, then silence: the server gives up on it.
  const std::string call = Sealed(test::MakeCall(kNfsProgram, 3, 0, {}, 0, {}, 2, 9));
  asio::write(stuck, asio::buffer(call.substr(0, call.size() / 2)));
  // Meanwhile the busy connection keeps calling, more slowly than the timeout in all.
  for (std::uint32_t xid = 1; xid <= 15; ++xid) {
    Ping(busy, xid);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  char byte;
  boost::system::error_code ec;
  asio::read(stuck, asio::buffer(&byte, 1), ec);  // blocks until the server closes it
  CHECK(ec == asio::error::eof);
  Ping(busy, 100);  // still served
  server.Stop();
  server.Wait();
}

// Sends one sealed call on `s` and returns the reply body (record mark checked, removed).
std::string CallTcp(tcp::socket& s, const std::string& call) {
  asio::write(s, asio::buffer(Sealed(call)));
  std::string mark(4, '\0');
  asio::read(s, asio::buffer(mark));
  XdrDecoder md(mark);
  const std::uint32_t word = *md.U32();
  REQUIRE((word & kLastFragmentBit) != 0);
  std::string body(word & ~kLastFragmentBit, '\0');
  asio::read(s, asio::buffer(body));
  return body;
}

TEST_CASE("the portmapper maps NFS and MOUNT to the server's port over TCP and UDP",
          "[nfs][server]") {
  ServerOptions options;
  options.listen = {"127.0.0.1:0"};
  options.io_threads = 1;
  options.worker_threads = 2;
  options.portmapper = "127.0.0.1:0";
  test::TestVolume volume;
  Server server(volume.handler(), options);
  REQUIRE(server.Start().ok());
  const std::uint16_t nfs_port = server.TcpPorts().at(0);
  const std::uint16_t pmap_port = server.PortmapPort();
  REQUIRE(pmap_port != 0);
  REQUIRE(pmap_port != nfs_port);
  auto getport = [](std::uint32_t program, std::uint32_t protocol) {
    return [=](XdrEncoder& e) {
      e.PutU32(program);
      e.PutU32(3);
      e.PutU32(protocol);
      e.PutU32(0);
    };
  };
  asio::io_context io;
  tcp::socket s(io);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), pmap_port));
  {
    const std::string body =
        CallTcp(s, test::MakeCall(kPortmapProgram, 2, 3, getport(kNfsProgram, kIpProtoTcp)));
    XdrDecoder d(body);
    Result<ReplyHeader> h = DecodeReplyHeader(d);
    REQUIRE(h.ok());
    CHECK(h->accept_stat == AcceptStat::kSuccess);
    CHECK(*d.U32() == nfs_port);
  }
  {
    // Not served over UDP: port 0.
    const std::string body =
        CallTcp(s, test::MakeCall(kPortmapProgram, 2, 3, getport(kNfsProgram, kIpProtoUdp)));
    XdrDecoder d(body);
    REQUIRE(DecodeReplyHeader(d).ok());
    CHECK(*d.U32() == 0);
  }
  {
    const std::string body = CallTcp(s, test::MakeCall(kPortmapProgram, 2, 4));  // DUMP
    XdrDecoder d(body);
    REQUIRE(DecodeReplyHeader(d).ok());
    std::set<std::uint32_t> programs;
    while (*d.U32() == 1) {
      const std::uint32_t program = *d.U32();
      CHECK(*d.U32() == 3);
      CHECK(*d.U32() == kIpProtoTcp);
      CHECK(*d.U32() == nfs_port);
      programs.insert(program);
    }
    CHECK(programs == std::set<std::uint32_t>{kNfsProgram, kMountProgram});
  }
  {
    // rpcbind version 4: PROG_MISMATCH 2..2, so the client falls back to version 2.
    const std::string body = CallTcp(s, test::MakeCall(kPortmapProgram, 4, 0));
    XdrDecoder d(body);
    Result<ReplyHeader> h = DecodeReplyHeader(d);
    REQUIRE(h.ok());
    CHECK(h->accept_stat == AcceptStat::kProgMismatch);
    CHECK(h->mismatch_low == 2);
    CHECK(h->mismatch_high == 2);
  }

  asio::ip::udp::socket u(io, asio::ip::udp::endpoint(asio::ip::udp::v4(), 0));
  const asio::ip::udp::endpoint pmap_udp(asio::ip::make_address("127.0.0.1"), pmap_port);
  auto call_udp = [&](const std::string& call) {
    u.send_to(asio::buffer(call), pmap_udp);
    std::string reply(8192, '\0');
    asio::ip::udp::endpoint from;
    reply.resize(u.receive_from(asio::buffer(reply), from));
    return reply;
  };
  {
    const std::string body =
        call_udp(test::MakeCall(kPortmapProgram, 2, 3, getport(kMountProgram, kIpProtoTcp)));
    XdrDecoder d(body);
    REQUIRE(DecodeReplyHeader(d).ok());
    CHECK(*d.U32() == nfs_port);
  }
  {
    // NFS itself is not served over UDP.
    const std::string body = call_udp(test::MakeCall(kNfsProgram, 3, 0));
    XdrDecoder d(body);
    Result<ReplyHeader> h = DecodeReplyHeader(d);
    REQUIRE(h.ok());
    CHECK(h->accept_stat == AcceptStat::kProgUnavail);
  }
  server.Stop();
  server.Wait();
}

TEST_CASE("without a portmapper the program is unavailable", "[nfs][rpc]") {
  test::TestVolume volume;
  Dispatcher dispatcher(*volume.handler());
  Result<std::string> reply = dispatcher.Handle(test::MakeCall(kPortmapProgram, 2, 0), "test");
  REQUIRE(reply.ok());
  const std::string body = test::ReplyBody(*reply);
  XdrDecoder d(body);
  Result<ReplyHeader> h = DecodeReplyHeader(d);
  REQUIRE(h.ok());
  CHECK(h->accept_stat == AcceptStat::kProgUnavail);
}

}  // namespace
}  // namespace zerofs::nfs
