// Connection: one 9P client, from Tversion to close. Internal to servers/ninep.
//
// Every mutable member is touched only on the connection's strand (the executor of its
// socket). Handler calls run on the shared worker pool with their own references to the
// connection and its FidTable, and post their encoded replies back to the strand. The
// object is owned by shared_ptrs held by its coroutine, its pending socket operations and
// its in-flight requests; it is destroyed, and unregistered, when the last one finishes.
#pragma once

// clang-format off
// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>: keep it first.
#include <utility>
// clang-format on

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

#include "zerofs/ninep/codec.h"
#include "zerofs/ninep/fid_table.h"
#include "zerofs/ninep/handler.h"
#include "zerofs/ninep/server.h"
#include "zerofs/server/connection_registry.h"
#include "zerofs/server/op_counters.h"

namespace zerofs::ninep::internal {

namespace asio = boost::asio;
using Socket = asio::generic::stream_protocol::socket;

class Connection;

// The live connections of one server; see zerofs/server/connection_registry.h.
using Registry = server::ConnectionRegistry<Connection>;

// What every connection of a server shares.
// Names of the T-messages by type code (for the per-operation counters).
std::vector<std::string> RequestTypeNames();

struct ServerContext {
  std::shared_ptr<Handler> handler;
  ServerOptions options;
  asio::thread_pool* workers = nullptr;
  asio::thread_pool* sync_workers = nullptr;  // Tfsync only
  asio::thread_pool* data_workers = nullptr;  // Tread and Twrite
  Registry* registry = nullptr;
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> refused{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> protocol_errors{0};
  // Requests by T-message type; errors are the ones answered with Rlerror.
  server::OpCounters ops{RequestTypeNames()};
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Socket socket, std::shared_ptr<ServerContext> context, std::string peer);
  ~Connection();

  static void Start(const std::shared_ptr<Connection>& self, std::uint64_t id);
  // Graceful stop: no new requests; those already read are answered. Any thread.
  void Shutdown();

 private:
  static asio::awaitable<void> Run(std::shared_ptr<Connection> self);
  asio::awaitable<void> ReadLoop();
  asio::awaitable<bool> ReadFull(char* data, std::size_t size);
  asio::awaitable<void> WaitForWake();
  // Handles one decoded frame on the strand; false to close the connection.
  asio::awaitable<bool> Handle(std::uint16_t tag, Request request);
  asio::awaitable<void> Version(std::uint16_t tag, const Tversion& request);

  void Submit(std::uint16_t tag, Request request);
  // The reply to `tag` is ready: queue it, then the Rflush of every Tflush that named it.
  void Complete(std::uint16_t tag, std::string frame);
  void Enqueue(std::string frame);
  void StartWrite();
  void OnWritten(const boost::system::error_code& ec);
  void Wake();
  void ProtocolError(const std::string& what);
  void CloseSocket();

  const std::shared_ptr<ServerContext> context_;
  const std::string peer_;
  const asio::any_io_executor executor_;  // the connection's strand
  Socket socket_;
  const std::shared_ptr<FidTable> fids_;
  std::uint64_t id_ = 0;
  asio::steady_timer wake_timer_;  // the reader sleeps on it for a free slot
  std::uint32_t msize_ = 0;        // 0 until Tversion succeeds
  bool closed_ = false;
  bool stopping_ = false;
  bool write_in_progress_ = false;
  unsigned inflight_ = 0;  // frames read whose reply is not yet written (or dropped)
  std::uint64_t requests_ = 0;
  // Tags of requests being handled -> tags of the Tflushes waiting for them.
  std::unordered_map<std::uint16_t, std::vector<std::uint16_t>> pending_;
  std::deque<std::string> queue_;     // replies waiting for the socket
  std::vector<std::string> writing_;  // the batch being written
  static constexpr std::size_t kReadBufferBytes = 64 * 1024;
  std::vector<char> read_buffer_ = std::vector<char>(kReadBufferBytes);
  std::size_t read_begin_ = 0;
  std::size_t read_end_ = 0;
};

}  // namespace zerofs::ninep::internal
