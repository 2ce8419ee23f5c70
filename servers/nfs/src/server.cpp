// The NFS server: listeners, threads and shutdown; see server.h.
#include "zerofs/nfs/server.h"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>
#include <thread>

#include "connection.h"
#include "zerofs/common/log.h"

namespace zerofs::nfs {

namespace asio = boost::asio;
using internal::Connection;
using internal::Registry;
using internal::ServerContext;
using tcp = asio::ip::tcp;

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("invalid listen address '" + std::string(text) + "': " +
                                   std::string(why) + " (expected ADDR:PORT, e.g. 127.0.0.1:2049)");
  };
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad("no port");
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return bad("IPv6 addresses need brackets");
  }
  if (host.empty()) return bad("no address");
  ListenAddress out;
  std::string_view port = text.substr(colon + 1);
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size()) return bad("bad port");
  boost::system::error_code addr_ec;
  asio::ip::make_address(std::string(host), addr_ec);
  if (addr_ec) return bad("not an IP address");
  out.host = std::string(host);
  return out;
}

namespace internal {

std::uint64_t Registry::Add(const std::shared_ptr<Connection>& connection) {
  std::lock_guard lock(mu_);
  if (live_.size() >= max_connections_) return 0;
  const std::uint64_t id = next_id_++;
  live_.emplace(id, connection);
  return id;
}

void Registry::Remove(std::uint64_t id) {
  {
    std::lock_guard lock(mu_);
    live_.erase(id);
  }
  cv_.notify_all();
}

std::vector<std::shared_ptr<Connection>> Registry::Snapshot() {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<Connection>> out;
  for (auto& [id, weak] : live_) {
    if (auto c = weak.lock()) out.push_back(std::move(c));
  }
  return out;
}

std::size_t Registry::size() {
  std::lock_guard lock(mu_);
  return live_.size();
}

bool Registry::WaitEmpty(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  return cv_.wait_until(lock, deadline, [&] { return live_.empty(); });
}

}  // namespace internal

class Server::Impl {
 public:
  Impl(std::shared_ptr<NfsHandler> handler, ServerOptions options)
      : registry_(options.max_connections), workers_(std::max(1U, options.worker_threads)) {
    context_ = std::make_shared<ServerContext>();
    context_->handler = std::move(handler);
    context_->dispatcher = std::make_unique<Dispatcher>(*context_->handler);
    context_->options = std::move(options);
    context_->workers = &workers_;
    context_->registry = &registry_;
  }
  ~Impl() {
    Stop();
    Wait();
  }

  Status Start();
  void Stop();
  void Wait();

  std::vector<std::string> endpoints_;
  std::vector<std::uint16_t> ports_;
  std::shared_ptr<ServerContext> context_;
  Registry registry_;  // before io_: queued connections unregister as io_ is destroyed

 private:
  Status Listen(const std::string& text);
  asio::awaitable<void> Accept(tcp::acceptor& acceptor);

  asio::io_context io_;
  asio::thread_pool workers_;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;   // GUARDED_BY(mu_)
  bool stopping_ = false;  // GUARDED_BY(mu_)
  bool waited_ = false;    // GUARDED_BY(mu_)
};

Status Server::Impl::Listen(const std::string& text) {
  ZEROFS_ASSIGN_OR_RETURN(ListenAddress address, ParseListenAddress(text));
  tcp::endpoint endpoint(asio::ip::make_address(address.host), address.port);
  auto acceptor = std::make_unique<tcp::acceptor>(io_);
  boost::system::error_code ec;
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::IoError("cannot listen on " + text + ": " + ec.message());
  const tcp::endpoint bound = acceptor->local_endpoint(ec);
  const std::string host = bound.address().is_v6() ? "[" + bound.address().to_string() + "]"
                                                   : bound.address().to_string();
  endpoints_.push_back(host + ":" + std::to_string(bound.port()));
  ports_.push_back(bound.port());
  acceptors_.push_back(std::move(acceptor));
  return Status::Ok();
}

asio::awaitable<void> Server::Impl::Accept(tcp::acceptor& acceptor) {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(
        asio::make_strand(io_), asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      ZEROFS_LOG(kWarn) << "nfs: accept failed: " << ec.message();
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    std::string peer = "?";
    const tcp::endpoint remote = socket.remote_endpoint(ec);
    if (!ec) peer = remote.address().to_string() + ":" + std::to_string(remote.port());
    context_->accepted.fetch_add(1, std::memory_order_relaxed);
    auto connection = std::make_shared<Connection>(std::move(socket), context_, peer);
    const std::uint64_t id = registry_.Add(connection);
    if (id == 0) {
      context_->refused.fetch_add(1, std::memory_order_relaxed);
      ZEROFS_LOG(kWarn) << "nfs: refusing " << peer << ": " << context_->options.max_connections
                        << " connections already open";
      continue;  // the socket closes with the connection object
    }
    Connection::Start(connection, id);
  }
}

Status Server::Impl::Start() {
  {
    std::lock_guard lock(mu_);
    if (started_) return Status::Internal("server already started");
    started_ = true;
  }
  const ServerOptions& opts = context_->options;
  if (opts.listen.empty()) return Status::InvalidArgument("nothing to listen on");
  if (opts.max_connections == 0 || opts.max_inflight_calls == 0 ||
      opts.max_inflight_bytes < opts.max_record_bytes || opts.max_record_bytes < 4096) {
    return Status::InvalidArgument(
        "server limits must allow one connection, one call in flight, and records of at "
        "least 4096 bytes that fit the in-flight byte budget");
  }
  for (const std::string& l : opts.listen) {
    Status status = Listen(l);
    if (!status.ok()) {
      acceptors_.clear();
      endpoints_.clear();
      ports_.clear();
      return status;
    }
  }
  for (auto& a : acceptors_) asio::co_spawn(io_, Accept(*a), asio::detached);
  for (const std::string& e : endpoints_) {
    ZEROFS_LOG(kInfo) << "nfs: listening on " << e << " (NFSv3 and MOUNT v3)";
  }
  for (unsigned i = 0; i < std::max(1U, opts.io_threads); ++i) {
    threads_.emplace_back([this] { io_.run(); });
  }
  return Status::Ok();
}

void Server::Impl::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  asio::post(io_, [this] {
    boost::system::error_code ignored;
    for (auto& a : acceptors_) a->close(ignored);
    for (auto& c : registry_.Snapshot()) c->Shutdown();
  });
}

void Server::Impl::Wait() {
  {
    std::unique_lock lock(mu_);
    if (waited_) return;
    if (!started_ || threads_.empty()) {
      waited_ = true;
      return;
    }
    cv_.wait(lock, [&] { return stopping_; });
    waited_ = true;
  }
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(context_->options.shutdown_grace_ms);
  const bool clean = registry_.WaitEmpty(deadline);
  if (!clean) {
    ZEROFS_LOG(kWarn) << "nfs: " << registry_.size()
                      << " connections still busy after the grace period; cutting them";
  }
  io_.stop();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  if (!clean) workers_.stop();
  workers_.join();
  ZEROFS_LOG(kInfo) << "nfs: server stopped";
}

Server::Server(std::shared_ptr<NfsHandler> handler, ServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(handler), std::move(options))) {}
Server::~Server() = default;
Status Server::Start() {
  return impl_->Start();
}
std::vector<std::string> Server::Endpoints() const {
  return impl_->endpoints_;
}
std::vector<std::uint16_t> Server::TcpPorts() const {
  return impl_->ports_;
}
void Server::Stop() {
  impl_->Stop();
}
void Server::Wait() {
  impl_->Wait();
}

ServerStats Server::Stats() const {
  ServerStats s;
  const ServerContext& c = *impl_->context_;
  s.connections_accepted = c.accepted.load(std::memory_order_relaxed);
  s.connections_refused = c.refused.load(std::memory_order_relaxed);
  s.calls = c.calls.load(std::memory_order_relaxed);
  s.protocol_errors = c.protocol_errors.load(std::memory_order_relaxed);
  s.connections_active = impl_->registry_.size();
  return s;
}

}  // namespace zerofs::nfs
