// ServerShell: the part of a protocol server that does not depend on the protocol. It
// owns the listener (TCP and Unix acceptors, the io threads), the connection registry
// (the connection limit, Stop reaching every connection, Wait draining them), the
// Start/Stop/Wait state machine and the connection counters, and builds a
// FramedConnection around each accepted socket with a FrameProtocol from the server's
// factory.
//
// A protocol server (NFS, 9P, NBD) holds a shell and its own worker pools: Start calls
// BeginStart, checks its options, then Bind and Run; Stop calls Stop; Wait calls Wait with
// a callback that stops (when the drain was not clean) and joins its pools.
//
// Threads: the io threads run every connection's strand; the factory runs on them too.
// Stop() and Adopt() may be called from any thread; the rest from the owning thread.
#pragma once

// clang-format off
// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>: keep it first.
#include <utility>
// clang-format on

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "zerofs/common/status.h"
#include "zerofs/server/framed_connection.h"
#include "zerofs/server/lifecycle.h"
#include "zerofs/server/listener.h"

namespace zerofs::server {

class ServerShell {
 public:
  // A connection's protocol object, given the peer ("ADDR:PORT" or "unix socket").
  using ProtocolFactory = std::function<std::unique_ptr<FrameProtocol>(const std::string& peer)>;

  // `name` prefixes log lines and `example_listen` shows in listen-address errors (see
  // Listener). Refuses connections past `max_connections`.
  ServerShell(std::string name, std::string example_listen, unsigned max_connections,
              ConnectionLimits limits, ProtocolFactory factory);
  ~ServerShell();
  ServerShell(const ServerShell&) = delete;
  ServerShell& operator=(const ServerShell&) = delete;

  Status BeginStart() { return lifecycle_.BeginStart(); }
  Status Bind(const std::vector<std::string>& tcp, const std::vector<std::string>& unix_paths) {
    return listener_.Bind(tcp, unix_paths);
  }
  // Accepts on what Bind bound, with `io_threads` threads.
  void Run(unsigned io_threads);
  // Serves a socket accepted elsewhere (e.g. another listener of the same server).
  void Adopt(StreamSocket socket, std::string peer);
  // The first call stops accepting and shuts every connection down (they drain); then runs
  // `also` (may be empty), e.g. to close the server's other listeners. Any thread.
  void Stop(const std::function<void()>& also = {});
  // Blocks until Stop, waits up to `grace_ms` for the connections to drain, joins the io
  // threads, then calls `join_pools(clean)` (clean: every connection finished in time; if
  // not, the pools should drop queued work) and removes the Unix socket files. Only the
  // first call does this; it returns false at once when the server never ran.
  bool Wait(std::uint32_t grace_ms, const std::function<void(bool clean)>& join_pools);

  const std::vector<std::string>& endpoints() const { return listener_.endpoints(); }
  const std::vector<std::uint16_t>& tcp_ports() const { return listener_.tcp_ports(); }
  const ConnectionCounters& counters() const { return counters_; }
  std::size_t active() { return registry_.size(); }
  // Sets the connection fields every protocol's ServerStats has.
  template <typename Stats>
  void FillConnectionStats(Stats& s) {
    s.connections_accepted = counters_.accepted.load(std::memory_order_relaxed);
    s.connections_refused = counters_.refused.load(std::memory_order_relaxed);
    s.protocol_errors = counters_.protocol_errors.load(std::memory_order_relaxed);
    s.connections_active = active();
  }
  boost::asio::io_context& io() { return listener_.io(); }

 private:
  const std::string name_;
  const unsigned max_connections_;
  const ConnectionLimits limits_;
  const ProtocolFactory factory_;
  ConnectionCounters counters_;
  // Declared before the listener so it outlives the listener's io_context: connections
  // still queued in it when it is destroyed unregister themselves on the way out.
  FramedConnection::Registry registry_;
  Listener listener_;
  Lifecycle lifecycle_;
};

}  // namespace zerofs::server
