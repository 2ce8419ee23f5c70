// Server: serves NFSv3 (program 100003 v3) and MOUNT v3 (program 100005 v3) over ONC RPC
// on the same TCP port(s), dispatching every call to an NfsHandler. No portmapper: clients
// are given the port for both programs (Linux: -o port=N,mountport=N; libnfs:
// ?nfsport=N&mountport=N).
//
// Threads: io_threads network threads run every socket (Boost.Asio, one strand per
// connection); handler calls run on a pool of worker_threads, so one slow call (a COMMIT
// waiting for an upload) delays only itself. Each connection reads records while fewer
// than max_inflight_calls (and max_inflight_bytes of records) are outstanding and answers
// them in completion order. A record over max_record_bytes, or one that is not an RPC
// call, closes that connection with a log line and affects no other.
//
// Lifecycle: Start() binds every listener or fails without side effects; Stop() stops
// accepting and lets each connection answer what it has read, then closes it; Wait()
// returns when everything has stopped (cutting connections after shutdown_grace_ms).
// Thread-safety: Stop() and Stats() from any thread; Start() and Wait() from the owner.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "zerofs/common/result.h"
#include "zerofs/common/status.h"
#include "zerofs/nfs/handler.h"
#include "zerofs/nfs/nfs3_types.h"
#include "zerofs/server/endpoint.h"
#include "zerofs/server/op_counters.h"

namespace zerofs::nfs {

struct ServerOptions {
  std::vector<std::string> listen;  // "ADDR:PORT" (IPv6 as "[ADDR]:PORT"); port 0 = any
  unsigned io_threads = 2;
  unsigned worker_threads = 8;
  unsigned max_connections = 256;
  unsigned max_inflight_calls = 64;  // per connection
  // Per connection: request bytes plus READ data requested, read but not yet answered.
  // Server memory for calls is at most max_connections times this (plus one read buffer).
  std::uint64_t max_inflight_bytes = 16ULL << 20;
  std::uint32_t max_record_bytes = kMaxIoBytes + 4096;  // a WRITE of kMaxIoBytes + headers
  std::uint32_t shutdown_grace_ms = 10000;
  // A connection with no call in flight that sends nothing for this long (a client gone
  // quiet, or one stuck halfway through a record) is closed; clients reconnect when they
  // next need the server. 0: never.
  std::uint32_t idle_timeout_ms = 360000;
  // "ADDR:PORT" (usually port 111): also answer as a portmapper there, over TCP and UDP,
  // mapping NFS v3 and MOUNT v3 to the first TCP port of `listen`. Empty: no portmapper.
  std::string portmapper;
};

struct ServerStats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_active = 0;
  std::uint64_t connections_refused = 0;
  std::uint64_t calls = 0;
  std::uint64_t protocol_errors = 0;
  std::vector<server::OpCount> ops;  // requests and error replies by operation
};

using server::ListenAddress;
// "127.0.0.1:2049", "[::1]:2049". InvalidArgument names the bad text.
inline Result<ListenAddress> ParseListenAddress(std::string_view text) {
  return server::ParseListenAddress(text, "127.0.0.1:2049");
}

class Server {
 public:
  Server(std::shared_ptr<NfsHandler> handler, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  Status Start();
  std::vector<std::string> Endpoints() const;  // with the actual port when 0 was asked
  std::vector<std::uint16_t> TcpPorts() const;
  // The portmapper's bound port (TCP and UDP), 0 without one.
  std::uint16_t PortmapPort() const;
  void Stop();
  void Wait();
  ServerStats Stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace zerofs::nfs
