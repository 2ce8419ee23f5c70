// Listener: the network half every protocol server shares. It owns the Asio io_context
// and the threads that run it, binds TCP and Unix stream-socket acceptors, and hands each
// accepted socket to a callback of the server's (which builds the protocol connection,
// normally on a strand of io()).
//
// Lifecycle: Bind() binds every address or none (a failed Bind leaves no acceptor open and
// no socket file behind); Start() spawns the accept loops and the io threads; Close() stops
// accepting (from any thread: it posts to io()); Join() stops io() and joins the threads;
// RemoveSocketFiles() unlinks the Unix socket files Bind created. A Unix path already held
// by a live server is refused; a stale socket file left by a dead one is replaced.
// The io_context keeps running while no socket operation is pending, until Join(), so a
// call finishing on another pool can still post its completion.
//
// Thread-safety: Close() and io() may be used from any thread; Bind(), Start(), Join(),
// RemoveSocketFiles() and the accessors from the owning thread, before or after the io
// threads run (endpoints() and tcp_ports() do not change after Bind()).
#pragma once

// clang-format off
// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>: keep it first.
#include <utility>
// clang-format on

#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "zerofs/common/status.h"

namespace zerofs::server {

class Listener {
 public:
  using Tcp = boost::asio::ip::tcp;
  using Local = boost::asio::local::stream_protocol;
  // `peer` is "ADDR:PORT" of the client, or "?" when the socket cannot tell.
  using TcpHandler = std::function<void(Tcp::socket socket, std::string peer)>;
  using UnixHandler = std::function<void(Local::socket socket)>;

  // `name` prefixes log lines ("nbd: accept failed: ..."); `example_listen` is the address
  // shown in the hint of a listen-address parse error.
  Listener(std::string name, std::string example_listen);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  Status Bind(const std::vector<std::string>& tcp, const std::vector<std::string>& unix_paths);
  // `on_unix` may be empty when Bind was given no Unix path. Runs `io_threads` threads (at
  // least one).
  void Start(unsigned io_threads, TcpHandler on_tcp, UnixHandler on_unix);
  // Closes every acceptor on an io thread, then runs `then` there (may be empty).
  void Close(std::function<void()> then);
  void Join();
  void RemoveSocketFiles();

  boost::asio::io_context& io() { return io_; }
  bool running() const { return !threads_.empty(); }
  // E.g. "127.0.0.1:41234" (the actual port when port 0 was asked) and "unix:/run/x.sock".
  const std::vector<std::string>& endpoints() const { return endpoints_; }
  const std::vector<std::uint16_t>& tcp_ports() const { return ports_; }

 private:
  Status BindTcp(const std::string& text);
  Status BindUnix(const std::string& path);
  template <typename Acceptor>
  boost::asio::awaitable<void> Accept(Acceptor& acceptor);

  const std::string name_;
  const std::string example_listen_;
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  TcpHandler on_tcp_;
  UnixHandler on_unix_;
  std::vector<std::unique_ptr<Tcp::acceptor>> tcp_acceptors_;
  std::vector<std::unique_ptr<Local::acceptor>> unix_acceptors_;
  std::vector<std::string> unix_paths_;
  std::vector<std::string> endpoints_;
  std::vector<std::uint16_t> ports_;
  std::vector<std::thread> threads_;
};

}  // namespace zerofs::server
