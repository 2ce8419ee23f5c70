// Connection: one 9P2000.L session over one stream socket, as a client.
//
// Open() dials the server and negotiates the version and msize (Tversion) before anything
// else. After that any number of threads call Call() concurrently: each request gets a
// free tag, the frame is written under a send lock, and the calling thread sleeps until
// the reader thread hands it the reply carrying that tag. Replies may arrive in any order
// (the server answers in completion order).
//
// When the socket fails (EOF, reset, a malformed reply), the connection is dead for good:
// every waiting call returns kErrLost, every later call kErrNotSent. Reconnecting is the
// owner's business (Session/Client in session.h) because fids do not survive a connection.
//
// Thread-safety: every public method may be called from any thread. The reader thread is
// created with every signal blocked, so SIGTERM/SIGINT reach libfuse's threads.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include "address.h"
#include "errno_or.h"
#include "zerofs/common/result.h"
#include "zerofs/ninep/messages.h"

namespace zerofs::mount {

class Connection {
 public:
  // At most this many requests in flight; further callers wait for a free tag.
  static constexpr std::size_t kMaxInflight = 128;

  // Dials `address`, sends Tversion(msize, "9P2000.L") and starts the reader thread.
  static Result<std::unique_ptr<Connection>> Open(const Address& address, std::uint32_t msize,
                                                  int timeout_ms);
  // Takes a connected socket (tests); negotiates like Open.
  static Result<std::unique_ptr<Connection>> FromSocket(int fd, std::uint32_t msize,
                                                        std::string peer);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends `request` and waits for its reply. Rlerror comes back as a reply like any other;
  // the error is kErrNotSent or kErrLost only (see errno_or.h).
  ErrnoOr<ninep::Reply> Call(const ninep::Request& request);
  // Sends `request` and does not wait; its reply is dropped (Tclunk of a cached fid).
  void Post(const ninep::Request& request);

  // Shuts the socket down: waiting calls fail with kErrLost. Idempotent.
  void Close();
  bool alive() const { return alive_.load(); }
  // The negotiated msize: no frame in either direction is larger.
  std::uint32_t msize() const { return msize_; }
  const std::string& peer() const { return peer_; }

 private:
  struct Waiter {
    std::optional<ErrnoOr<ninep::Reply>> result;  // guarded by Connection::mu_
    bool discard = false;                         // a Post: nobody waits
  };

  Connection(int fd, std::uint32_t msize, std::string peer);
  Status Negotiate(std::uint32_t msize);
  void ReaderLoop();
  // Fails every waiter with kErrLost and marks the connection dead.
  void Die(const std::string& why);
  // Allocates a tag and registers `waiter` under it; kErrNotSent when dead.
  ErrnoOr<std::uint16_t> Register(const std::shared_ptr<Waiter>& waiter);
  bool Send(const std::string& frame);

  const int fd_;
  std::uint32_t msize_;
  const std::string peer_;
  std::atomic<bool> alive_{true};
  std::atomic<bool> closing_{false};  // Close() was called: the end is no news
  std::thread reader_;

  std::mutex send_mu_;  // one frame at a time on the socket

  std::mutex mu_;
  std::condition_variable cv_;  // a reply arrived, a tag was freed, or the connection died
  std::unordered_map<std::uint16_t, std::shared_ptr<Waiter>> inflight_;  // guarded by mu_
  std::uint16_t next_tag_ = 0;                                           // guarded by mu_
};

}  // namespace zerofs::mount
