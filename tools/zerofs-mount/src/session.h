// Session, Fid and Client: the 9P state that lives exactly as long as one connection, and
// the object that replaces it when the connection dies.
//
// A Session is one Connection plus what the server knows about us on it: the fid numbers
// in use and one attached root fid per user. 9P2000.L attaches per user (Tattach's
// n_uname), so the server checks each operation against the uid of the process that made
// it, as the kernel's v9fs does with access=user. Every session has an epoch, a number
// that grows by one with each reconnect: state tagged with an older epoch is void.
//
// A Fid is a reference-counted fid number of one session; dropping the last reference
// clunks it (without waiting for the reply) while that session is still connected.
//
// The Client owns the current session. When a call on a session fails because the
// connection died, callers ask Reconnect() for a new one: the first caller dials again with
// exponential backoff (50 ms to 2 s) and negotiates a fresh session; the others wait for it.
// A caller gives up after the reconnect timeout and gets nullptr.
//
// Thread-safety: all classes here may be used from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "address.h"
#include "connection.h"
#include "errno_or.h"
#include "zerofs/ninep/codec.h"

namespace zerofs::mount {

class Session;

struct Fid {
  Fid(std::shared_ptr<Session> s, std::uint32_t n, bool clunk = true)
      : session(std::move(s)), id(n), clunk_on_drop(clunk) {}
  ~Fid();
  Fid(const Fid&) = delete;
  Fid& operator=(const Fid&) = delete;
  const std::shared_ptr<Session> session;
  const std::uint32_t id;
  // False for the attached roots, which live as long as their session, and for a fid
  // already clunked explicitly.
  std::atomic<bool> clunk_on_drop;
};
using FidPtr = std::shared_ptr<Fid>;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::unique_ptr<Connection> connection, std::uint64_t epoch, std::string aname);

  std::uint64_t epoch() const { return epoch_; }
  bool alive() const { return connection_->alive(); }
  std::uint32_t msize() const { return connection_->msize(); }
  // The most data one Tread/Twrite carries on this session.
  std::uint32_t iounit() const {
    return msize() - static_cast<std::uint32_t>(ninep::kIoHeaderBytes);
  }
  Connection& connection() { return *connection_; }

  // A fid number not in use on this session.
  std::uint32_t NewFid();
  // Wraps a fid number the server has bound, so that it is clunked when dropped.
  FidPtr Adopt(std::uint32_t fid) { return std::make_shared<Fid>(shared_from_this(), fid); }

  // The root of the tree attached as `uid` (attached on first use).
  ErrnoOr<FidPtr> Root(std::uint32_t uid);

  // Sends `request` and returns its reply of type R: Rlerror becomes its errno, a reply of
  // another type EIO, a dead connection kErrNotSent/kErrLost.
  template <typename R>
  ErrnoOr<R> Call(const ninep::Request& request) {
    auto reply = connection_->Call(request);
    if (!reply.ok()) return Fail{reply.error()};
    if (auto* r = std::get_if<R>(&*reply)) return std::move(*r);
    if (auto* e = std::get_if<ninep::Rlerror>(&*reply)) {
      return Fail{e->ecode != 0 ? static_cast<int>(e->ecode) : EIO};
    }
    return Fail{EPROTO};
  }

 private:
  const std::unique_ptr<Connection> connection_;
  const std::uint64_t epoch_;
  const std::string aname_;
  std::atomic<std::uint32_t> next_fid_{1};
  std::mutex mu_;
  // uid -> attached root fid. Numbers, not Fids: a Fid holds its Session.
  std::unordered_map<std::uint32_t, std::uint32_t> roots_;  // guarded by mu_
};

struct ClientOptions {
  std::uint32_t msize = 1U << 20;
  std::string aname;
  // How long one operation waits for the server to come back before failing with EIO.
  std::chrono::milliseconds reconnect_timeout{std::chrono::seconds(120)};
  int connect_timeout_ms = 10000;
};

class Client {
 public:
  Client(Address address, ClientOptions options);
  ~Client();

  // The first connection, attached as `uid` and checked with a Tgetattr of the root, so
  // that a wrong address or a server that is not there fails the mount at once.
  Status Connect(std::uint32_t uid);
  // The current session (possibly dead: its calls then fail with kErrNotSent).
  std::shared_ptr<Session> Current();
  // A live session newer than `failed`, or nullptr when the server stayed unreachable for
  // the reconnect timeout or Shutdown() was called.
  std::shared_ptr<Session> Reconnect(const std::shared_ptr<Session>& failed);
  // Closes the connection and makes every Reconnect give up.
  void Shutdown();
  // How many times a session replaced a dead one.
  std::uint64_t reconnects() const { return reconnects_.load(); }
  const Address& address() const { return address_; }

 private:
  Result<std::shared_ptr<Session>> Dial(std::uint64_t epoch);

  const Address address_;
  const ClientOptions options_;
  std::atomic<std::uint64_t> reconnects_{0};
  std::atomic<bool> shutdown_{false};
  std::mutex dial_mu_;  // one reconnect at a time
  std::mutex mu_;
  std::condition_variable shutdown_cv_;
  std::shared_ptr<Session> current_;  // guarded by mu_
};

}  // namespace zerofs::mount
