// Connection: one NBD client, from greeting to close. Internal to servers/nbd.
//
// Every member is touched only on the connection's strand (the executor of its socket),
// except the constant ones set at construction. Device calls run on the shared worker
// pool and post their replies back to the strand. The object is owned by shared_ptrs held
// by its coroutine, its pending socket operations and its in-flight requests; it is
// destroyed, and unregistered from the server, when the last of them finishes.
#pragma once

// clang-format off
// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>: keep it first.
#include <utility>
// clang-format on

#include <array>
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "zerofs/nbd/codec.h"
#include "zerofs/nbd/export_provider.h"
#include "zerofs/nbd/negotiator.h"
#include "zerofs/nbd/server.h"
#include "zerofs/nbd/transmission.h"
#include "zerofs/server/connection_registry.h"
#include "zerofs/server/op_counters.h"

namespace zerofs::nbd::internal {

namespace asio = boost::asio;
using Socket = asio::generic::stream_protocol::socket;

class Connection;

// The live connections of one server; see zerofs/server/connection_registry.h.
using Registry = server::ConnectionRegistry<Connection>;

// What every connection of a server shares.
// Names of the transmission commands by type (for the per-operation counters).
std::vector<std::string> CommandNames();

struct ServerContext {
  std::shared_ptr<ExportProvider> provider;
  NegotiatorOptions negotiator;
  ServerOptions options;
  asio::thread_pool* workers = nullptr;
  Registry* registry = nullptr;
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> refused{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> protocol_errors{0};
  // Commands by type; errors are the ones answered with an error code.
  server::OpCounters ops{CommandNames()};
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Socket socket, std::shared_ptr<ServerContext> context, std::string peer);
  ~Connection();

  // Starts the connection's coroutine; `id` is its registry entry.
  static void Start(const std::shared_ptr<Connection>& self, std::uint64_t id);
  // Graceful stop: no new requests; in-flight ones are answered. Any thread.
  void Shutdown();

 private:
  struct Outgoing {
    EncodedReply reply;
    std::uint64_t cost = 0;
  };

  static asio::awaitable<void> Run(std::shared_ptr<Connection> self);
  asio::awaitable<bool> Handshake();
  asio::awaitable<void> Transmission();
  asio::awaitable<void> Drain();
  asio::awaitable<bool> ReadFull(char* data, std::size_t size);
  asio::awaitable<bool> Discard(std::uint64_t size);
  asio::awaitable<bool> WriteAll(const std::string& bytes);
  asio::awaitable<OptionOutcome> NegotiateOnWorker(Negotiator& negotiator, std::uint32_t option,
                                                   std::string payload);
  asio::awaitable<void> WaitForWake();

  void Submit(const Request& request, std::string payload, std::uint64_t cost);
  void Enqueue(EncodedReply reply, std::uint64_t cost);
  void StartWrite();
  void OnWritten(const boost::system::error_code& ec);
  void Wake();
  void ProtocolError(const std::string& what);
  void CloseSocket();

  const std::shared_ptr<ServerContext> context_;
  const std::string peer_;
  const asio::any_io_executor executor_;  // the connection's strand
  Socket socket_;
  std::uint64_t id_ = 0;
  asio::steady_timer wake_timer_;       // the reader sleeps on it for a free slot
  asio::steady_timer handshake_timer_;  // cuts a client that never finishes the handshake
  std::shared_ptr<const Session> session_;
  bool in_handshake_ = true;
  bool closed_ = false;    // socket closed: replies are dropped
  bool stopping_ = false;  // Shutdown() called
  bool write_in_progress_ = false;
  unsigned inflight_ = 0;  // read but not yet answered (or dropped)
  std::uint64_t inflight_bytes_ = 0;
  std::uint64_t requests_ = 0;
  static constexpr std::size_t kReadBufferBytes = 64 * 1024;
  std::array<char, kReadBufferBytes> read_buffer_;  // received, not yet consumed
  std::size_t read_begin_ = 0;
  std::size_t read_end_ = 0;
  std::deque<Outgoing> queue_;     // replies waiting for the socket
  std::vector<Outgoing> writing_;  // the batch being written
};

}  // namespace zerofs::nbd::internal
