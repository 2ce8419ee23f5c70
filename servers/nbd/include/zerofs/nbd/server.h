// Server: accepts NBD clients on TCP and Unix stream sockets and serves the exports of an
// ExportProvider to them.
//
// Threads: a few network threads run every socket (Boost.Asio, one strand per connection);
// BlockDevice calls run on a separate pool of worker threads, so a slow device call (a
// Flush waiting for an upload) delays only the requests that wait for it, never another
// connection's traffic. Requests on one connection are pipelined: up to
// max_inflight_requests (and max_inflight_bytes of payload) run at once and are answered
// in completion order. A protocol violation (bad magic, oversized option, unknown client
// flags) closes that one connection with a log line.
//
// Lifecycle: Start() binds every listener (failing without side effects if one cannot be
// bound); Stop() stops accepting, lets each connection finish the requests it has read and
// send their replies, then closes it; Wait() returns once everything has stopped (after at
// most shutdown_grace_ms, when remaining connections are cut). The destructor does both.
// Thread-safety: Stop() and Stats() may be called from any thread, including a signal-
// handling thread; Start() and Wait() from the owning thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "zerofs/common/result.h"
#include "zerofs/common/status.h"
#include "zerofs/nbd/export_provider.h"
#include "zerofs/nbd/protocol.h"
#include "zerofs/server/endpoint.h"
#include "zerofs/server/op_counters.h"

namespace zerofs::nbd {

struct ServerOptions {
  std::vector<std::string> listen;        // "ADDR:PORT" (IPv6 as "[ADDR]:PORT"); port 0 = any
  std::vector<std::string> unix_sockets;  // filesystem paths; a stale socket file is replaced
  unsigned io_threads = 2;
  unsigned worker_threads = 8;
  unsigned max_connections = 256;
  unsigned max_inflight_requests = 64;                      // per connection
  std::uint64_t max_inflight_bytes = 128ULL << 20;          // per connection, payload bytes
  std::uint32_t max_request_bytes = kDefaultMaxBlockBytes;  // READ/WRITE payload cap
  std::uint32_t handshake_timeout_ms = 30000;
  std::uint32_t shutdown_grace_ms = 10000;
  bool read_only = false;  // every export read-only
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
// "127.0.0.1:10809", "[::1]:10809". InvalidArgument names the bad text.
inline Result<ListenAddress> ParseListenAddress(std::string_view text) {
  return server::ParseListenAddress(text, "127.0.0.1:10809");
}

class Server {
 public:
  Server(std::shared_ptr<ExportProvider> provider, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  Status Start();
  // Where the server listens, e.g. "127.0.0.1:41234" and "unix:/run/zerofs/nbd.sock",
  // with the actual port when port 0 was requested.
  std::vector<std::string> Endpoints() const;
  std::vector<std::uint16_t> TcpPorts() const;

  void Stop();
  void Wait();
  ServerStats Stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace zerofs::nbd
