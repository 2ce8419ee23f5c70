// Server: accepts 9P2000.L clients on TCP and Unix stream sockets and serves a Handler.
//
// Threads: a few network threads run every socket (Boost.Asio, one strand per connection);
// Handler calls run on a separate pool of worker threads, and Tfsync (which waits for the
// bucket) on a pool of its own, so a slow operation delays only its own reply, never another
// request or another connection. A client may keep up to max_inflight_requests requests
// outstanding; they run concurrently and are answered in completion order, each under its tag.
// Tflush is answered after the reply of the request it names (which is not cancelled), or at
// once when no such request is in flight. A malformed frame (size beyond msize, truncated or
// trailing fields, a reused tag) closes that one connection with a log line.
//
// Lifecycle: Start() binds every listener (failing without side effects if one cannot be
// bound); Stop() stops accepting and lets each connection answer what it has read, then
// closes it; Wait() returns once everything has stopped (after at most shutdown_grace_ms).
// The destructor does both. Thread-safety: Stop() and Stats() from any thread (including a
// signal-handling thread); Start() and Wait() from the owning thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "zerofs/common/result.h"
#include "zerofs/common/status.h"
#include "zerofs/ninep/fid_table.h"
#include "zerofs/ninep/handler.h"
#include "zerofs/ninep/protocol.h"
#include "zerofs/server/endpoint.h"
#include "zerofs/server/op_counters.h"

namespace zerofs::ninep {

inline constexpr std::string_view kDefaultListen = "127.0.0.1:5564";

struct ServerOptions {
  std::vector<std::string> listen;        // "ADDR:PORT" (IPv6 as "[ADDR]:PORT"); port 0 = any
  std::vector<std::string> unix_sockets;  // filesystem paths; a stale socket file is replaced
  unsigned io_threads = 2;
  unsigned worker_threads = 8;
  // Threads for Tfsync alone: an fsync waits for the bucket, and must not take a worker
  // that other requests need. More concurrent fsyncs than this queue behind each other.
  unsigned sync_threads = 16;
  // Threads for Tread and Twrite: a cold read waits for the bucket (and a write for the
  // write buffer to drain), so data requests have their own pool and never hold up the
  // namespace and attribute requests of other clients.
  unsigned data_threads = 8;
  unsigned max_connections = 256;
  unsigned max_inflight_requests = 64;  // per connection
  std::uint32_t max_msize = kDefaultMaxMsize;
  std::size_t max_fids = FidTable::kDefaultMaxFids;  // per connection
  std::uint32_t shutdown_grace_ms = 10000;
};

struct ServerStats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_active = 0;
  std::uint64_t connections_refused = 0;  // over max_connections
  std::uint64_t requests = 0;
  std::uint64_t protocol_errors = 0;
  std::vector<server::OpCount> ops;  // requests and error replies by operation
};

using server::ListenAddress;
// "127.0.0.1:5564", "[::1]:5564". InvalidArgument names the bad text.
inline Result<ListenAddress> ParseListenAddress(std::string_view text) {
  return server::ParseListenAddress(text, kDefaultListen);
}

class Server {
 public:
  Server(std::shared_ptr<Handler> handler, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  Status Start();
  // e.g. "127.0.0.1:41234" and "unix:/run/zerofs/9p.sock", with the actual port.
  std::vector<std::string> Endpoints() const;
  std::vector<std::uint16_t> TcpPorts() const;

  void Stop();
  void Wait();
  ServerStats Stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace zerofs::ninep
