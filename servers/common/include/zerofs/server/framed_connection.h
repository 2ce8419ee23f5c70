// FramedConnection: one client connection of any protocol server, from accept to close.
// It owns the socket, a read buffer, the reply queue and the limits; the protocol plugs in
// a FrameProtocol (one object per connection) that says where each frame ends and what
// to do with it.
//
// The life of a connection: FrameProtocol::Open runs first (NBD's option negotiation;
// nothing for NFS and 9P), with ReadExactly/WriteNow for its own exchanges. Then the
// framed phase: the connection reads as much as the socket has into its buffer, asks
// Measure how long the frame at the front is, and hands every complete frame to Admit
// (its cost) and OnFrame (on the strand). OnFrame claims a reply slot with Reserve and
// answers with Send, at once or later from a pool (Offload). Replies are written in the
// order they are sent, several per gather-write.
//
// Limits (ConnectionLimits): at most max_inflight frames whose replies are not yet written,
// at most max_inflight_cost of their cost (a frame always gets in when nothing is in
// flight), at most max_queued_reply_bytes of replies waiting for the socket. While over
// any of them the connection dispatches nothing and so reads nothing more than one frame
// of at most the protocol's maximum frame size. An idle timeout closes a connection with
// nothing in flight; an open timeout closes one whose Open phase has not finished.
// Shutdown() drains: no frame is read after it, frames already read are answered, then
// the socket closes.
//
// Threads: every member is touched only on the connection's strand (its socket's
// executor), except the constants set at construction; Shutdown() may be called from any
// thread. The object is owned by shared_ptrs held by its coroutine, its pending socket
// operations and its offloaded work; it unregisters from the server's registry when the
// last of them goes.
#pragma once

// clang-format off
// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>: keep it first.
#include <utility>
// clang-format on

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "zerofs/common/status.h"
#include "zerofs/server/connection_registry.h"

namespace zerofs::server {

using StreamSocket = boost::asio::generic::stream_protocol::socket;

struct ConnectionLimits {
  unsigned max_inflight = 64;                       // frames whose reply is not yet written
  std::uint64_t max_inflight_cost = 0;              // their summed cost; 0: unbounded
  std::uint64_t max_queued_reply_bytes = 64 << 20;  // replies waiting for the socket
  std::uint32_t idle_timeout_ms = 0;                // nothing in flight this long: close; 0: never
  std::uint32_t open_timeout_ms = 0;                // Open not done by then: close; 0: never
  std::size_t max_replies_per_write = 64;           // replies in one gather-write
};

// Where the next frame ends: the frame is the first `bytes` bytes of the buffer (Measure
// returns more than the buffer holds to ask for more), followed by `skip` bytes that the
// connection reads and drops before OnFrame (NBD: the payload of a refused write).
struct FrameExtent {
  std::uint64_t bytes = 0;
  std::uint64_t skip = 0;
};

// One reply: `head` then `data` whole, or, when `slices` is not empty, the listed ranges
// of the two in that order (NBD's structured read replies interleave them).
struct OutFrame {
  struct Slice {
    bool from_data = false;
    std::size_t offset = 0;
    std::size_t length = 0;
  };
  std::string head;
  std::string data;
  std::vector<Slice> slices;

  std::size_t WireBytes() const;
};

// Connections accepted, refused and cut for protocol violations, for a server's stats.
struct ConnectionCounters {
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> refused{0};
  std::atomic<std::uint64_t> protocol_errors{0};
};

class FramedConnection;

// What a protocol implements, one object per connection; every call runs on the strand.
class FrameProtocol {
 public:
  virtual ~FrameProtocol() = default;
  // Before framed transmission; false closes the connection.
  virtual boost::asio::awaitable<bool> Open(FramedConnection& connection);
  // The extent of the frame at the front of `buffered` (which may be empty); an error is
  // a protocol violation that closes the connection. The protocol bounds the frame size.
  virtual Result<FrameExtent> Measure(std::string_view buffered) = 0;
  // A complete frame is about to be dispatched: its cost against max_inflight_cost (what
  // it holds until its reply is written). May rewrite `frame` (e.g. drop record marks).
  virtual std::uint64_t Admit(std::string& frame) { return frame.size(); }
  // Handles one frame; `cost` is Admit's. False stops reading (the connection drains).
  virtual boost::asio::awaitable<bool> OnFrame(FramedConnection& connection, std::string frame,
                                               std::uint64_t cost) = 0;
  // The socket is closed and nothing is in flight any more.
  virtual void OnClosed(FramedConnection& connection) { (void)connection; }
};

class FramedConnection : public std::enable_shared_from_this<FramedConnection> {
 public:
  using Registry = ConnectionRegistry<FramedConnection>;

  // `name` prefixes log lines ("9p"). `registry` and `counters` outlive the connection.
  FramedConnection(StreamSocket socket, std::string name, std::string peer, ConnectionLimits limits,
                   std::unique_ptr<FrameProtocol> protocol, Registry* registry,
                   ConnectionCounters* counters);
  ~FramedConnection();
  FramedConnection(const FramedConnection&) = delete;
  FramedConnection& operator=(const FramedConnection&) = delete;

  // Starts the connection's coroutine; `id` is its registry entry.
  static void Start(const std::shared_ptr<FramedConnection>& self, std::uint64_t id);
  // Graceful stop (see above); during Open it closes at once. Any thread.
  void Shutdown();

  // For the protocol, on the strand.
  // Claims one reply slot (and `cost`); each claim is released by exactly one Send or
  // Release.
  void Reserve(std::uint64_t cost);
  // Queues the reply of a reserved slot; dropped (and released) when the socket is closed.
  void Send(OutFrame reply, std::uint64_t cost);
  void Send(std::string reply, std::uint64_t cost);
  void Release(std::uint64_t cost);
  // Counts the violation, logs it and closes the socket.
  void ProtocolError(std::string_view what);
  // Waits until every reserved slot is released or the socket closes.
  boost::asio::awaitable<void> WaitIdle();
  // The Open phase's own I/O: exactly `size` bytes (buffered ones first); one write.
  boost::asio::awaitable<bool> ReadExactly(char* data, std::size_t size);
  boost::asio::awaitable<bool> WriteNow(std::string_view bytes);

  // Runs `work` on `pool`, then `done(connection, result)` back on the strand.
  template <typename Work, typename Done>
  void Offload(boost::asio::thread_pool& pool, Work work, Done done);
  // The same as a coroutine: co_await Await(pool, work) resumes on the strand with the
  // result. The connection must outlive the call (it does: the caller's frame holds it).
  template <typename Work>
  auto Await(boost::asio::thread_pool& pool, Work work) -> boost::asio::awaitable<decltype(work())>;

  const boost::asio::any_io_executor& executor() const { return executor_; }
  std::uint64_t id() const { return id_; }
  const std::string& peer() const { return peer_; }
  const std::string& name() const { return name_; }
  bool closed() const { return closed_; }
  bool stopping() const { return stopping_; }
  FrameProtocol& protocol() { return *protocol_; }

 private:
  struct Outgoing {
    OutFrame reply;
    std::uint64_t cost = 0;
    std::size_t bytes = 0;
  };

  static boost::asio::awaitable<void> Run(std::shared_ptr<FramedConnection> self);
  boost::asio::awaitable<void> ReadLoop();
  // Reads once into the buffer, making room for `wanted` buffered bytes; false on EOF or
  // error.
  boost::asio::awaitable<bool> Fill(std::size_t wanted);
  boost::asio::awaitable<bool> Skip(std::uint64_t size);
  boost::asio::awaitable<void> WaitForWake();
  bool OverLimits(std::uint64_t cost) const;
  void StartWrite();
  void OnWritten(const boost::system::error_code& ec);
  void ArmIdleTimer();
  void Wake();
  void CloseSocket();
  void Touch() { last_activity_ = std::chrono::steady_clock::now(); }

  const std::string name_;
  const std::string peer_;
  const ConnectionLimits limits_;
  const std::unique_ptr<FrameProtocol> protocol_;
  Registry* const registry_;
  ConnectionCounters* const counters_;
  const boost::asio::any_io_executor executor_;  // the connection's strand
  StreamSocket socket_;
  std::uint64_t id_ = 0;
  boost::asio::steady_timer wake_timer_;  // the reader sleeps on it for a free slot
  boost::asio::steady_timer idle_timer_;
  boost::asio::steady_timer open_timer_;
  std::chrono::steady_clock::time_point last_activity_ = std::chrono::steady_clock::now();
  bool opening_ = true;
  bool closed_ = false;    // socket closed: replies are dropped
  bool stopping_ = false;  // Shutdown() called
  bool write_in_progress_ = false;
  unsigned inflight_ = 0;            // reserved slots
  std::uint64_t inflight_cost_ = 0;  // their cost
  std::uint64_t queued_bytes_ = 0;   // reply bytes queued or being written
  std::string buffer_;               // received bytes [begin_, end_) not yet consumed
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  std::deque<Outgoing> queue_;     // replies waiting for the socket
  std::vector<Outgoing> writing_;  // the batch being written
};

template <typename Work, typename Done>
void FramedConnection::Offload(boost::asio::thread_pool& pool, Work work, Done done) {
  boost::asio::post(
      pool, [self = shared_from_this(), work = std::move(work), done = std::move(done)]() mutable {
        auto result = work();
        boost::asio::post(self->executor_,
                          [self, result = std::move(result), done = std::move(done)]() mutable {
                            done(*self, std::move(result));
                          });
      });
}

template <typename Work>
auto FramedConnection::Await(boost::asio::thread_pool& pool, Work work)
    -> boost::asio::awaitable<decltype(work())> {
  using T = decltype(work());
  auto initiation = [this, &pool, work = std::move(work)](auto handler) mutable {
    boost::asio::post(pool, [this, work = std::move(work), handler = std::move(handler)]() mutable {
      T result = work();
      boost::asio::post(executor_,
                        [handler = std::move(handler), result = std::move(result)]() mutable {
                          std::move(handler)(std::move(result));
                        });
    });
  };
  boost::asio::use_awaitable_t<> token;
  co_return co_await boost::asio::async_initiate<boost::asio::use_awaitable_t<>, void(T)>(
      std::move(initiation), token);
}

}  // namespace zerofs::server
