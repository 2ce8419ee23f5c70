// Connection: one NFS/MOUNT client over TCP, from accept to close. Internal to servers/nfs.
//
// Members are touched only on the connection's strand (its socket's executor) except the
// constants set at construction. Calls run on the shared worker pool and post their reply
// back to the strand, which writes replies in completion order. Owned by shared_ptrs held
// by its coroutine, pending socket operations and in-flight calls; it unregisters from the
// server when the last one goes.
#pragma once

// clang-format off
// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>: keep it first.
#include <utility>
// clang-format on

#include <array>
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
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

#include "zerofs/nfs/dispatcher.h"
#include "zerofs/nfs/rpc.h"
#include "zerofs/nfs/server.h"
#include "zerofs/server/connection_registry.h"

namespace zerofs::nfs::internal {

namespace asio = boost::asio;
using Socket = asio::ip::tcp::socket;

class Connection;

// The live connections of one server; see zerofs/server/connection_registry.h.
using Registry = server::ConnectionRegistry<Connection>;

// What every connection of a server shares.
struct ServerContext {
  std::shared_ptr<NfsHandler> handler;
  std::unique_ptr<Dispatcher> dispatcher;
  ServerOptions options;
  asio::thread_pool* workers = nullptr;
  Registry* registry = nullptr;
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> refused{0};
  std::atomic<std::uint64_t> calls{0};
  std::atomic<std::uint64_t> protocol_errors{0};
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Socket socket, std::shared_ptr<ServerContext> context, std::string peer);
  ~Connection();

  static void Start(const std::shared_ptr<Connection>& self, std::uint64_t id);
  // Graceful stop: read nothing more, answer what was read, close. Any thread.
  void Shutdown();

 private:
  static asio::awaitable<void> Run(std::shared_ptr<Connection> self);
  asio::awaitable<void> ReadLoop();
  asio::awaitable<void> WaitForWake();
  void Submit(std::string record);
  void Enqueue(std::string reply, std::size_t cost);
  void StartWrite();
  void Wake();
  void ProtocolError(const std::string& what);
  void CloseSocket();
  // Arms the idle timer for what is left of the idle timeout since the last activity.
  void ArmIdleTimer();
  void Touch() { last_activity_ = std::chrono::steady_clock::now(); }

  const std::shared_ptr<ServerContext> context_;
  const std::string peer_;
  const asio::any_io_executor executor_;
  Socket socket_;
  std::uint64_t id_ = 0;
  asio::steady_timer wake_timer_;
  asio::steady_timer idle_timer_;
  std::chrono::steady_clock::time_point last_activity_ = std::chrono::steady_clock::now();
  RecordAssembler assembler_;
  bool closed_ = false;
  bool write_in_progress_ = false;
  unsigned inflight_ = 0;             // calls read, reply not yet written
  std::uint64_t inflight_bytes_ = 0;  // their record bytes
  std::uint64_t calls_ = 0;
  std::array<char, 64 * 1024> read_buffer_;
  std::deque<std::pair<std::string, std::size_t>> queue_;  // reply, its cost
  std::pair<std::string, std::size_t> writing_;
};

}  // namespace zerofs::nfs::internal
