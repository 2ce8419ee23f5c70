// The 9P server: listeners, threads and shutdown; see server.h.
#include "zerofs/ninep/server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>
#include <optional>
#include <thread>

#include "connection.h"
#include "zerofs/common/log.h"

namespace zerofs::ninep {

namespace asio = boost::asio;
using internal::Connection;
using internal::Registry;
using internal::ServerContext;
using tcp = asio::ip::tcp;
using local = asio::local::stream_protocol;

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("invalid listen address '" + std::string(text) +
                                   "': " + std::string(why) + " (expected ADDR:PORT, e.g. " +
                                   std::string(kDefaultListen) + ")");
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
  const std::string_view port = text.substr(colon + 1);
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
  Impl(std::shared_ptr<Handler> handler, ServerOptions options)
      : registry_(options.max_connections), workers_(std::max(1U, options.worker_threads)) {
    context_ = std::make_shared<ServerContext>();
    context_->handler = std::move(handler);
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
  std::size_t active() { return registry_.size(); }

  std::vector<std::string> endpoints_;
  std::vector<std::uint16_t> ports_;
  std::shared_ptr<ServerContext> context_;

 private:
  template <typename Acceptor>
  Status Listen(Acceptor& acceptor, const typename Acceptor::endpoint_type& endpoint,
                const std::string& what);
  template <typename Acceptor>
  asio::awaitable<void> Accept(Acceptor& acceptor);
  void Adopt(internal::Socket socket, std::string peer);

  // Declared first so it outlives io_: connections still queued in io_ when it is
  // destroyed unregister themselves on the way out.
  Registry registry_;
  asio::io_context io_;
  // Keeps io_.run() going while no socket operation is pending, so that a handler call
  // finishing on a worker (after its connection closed) can still post its completion.
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  asio::thread_pool workers_;
  std::vector<std::unique_ptr<tcp::acceptor>> tcp_acceptors_;
  std::vector<std::unique_ptr<local::acceptor>> unix_acceptors_;
  std::vector<std::string> unix_paths_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;   // GUARDED_BY(mu_)
  bool stopping_ = false;  // GUARDED_BY(mu_)
  bool waited_ = false;    // GUARDED_BY(mu_)
};

template <typename Acceptor>
Status Server::Impl::Listen(Acceptor& acceptor, const typename Acceptor::endpoint_type& endpoint,
                            const std::string& what) {
  boost::system::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if constexpr (std::is_same_v<Acceptor, tcp::acceptor>) {
    if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  }
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::IoError("cannot listen on " + what + ": " + ec.message());
  return Status::Ok();
}

void Server::Impl::Adopt(internal::Socket socket, std::string peer) {
  context_->accepted.fetch_add(1, std::memory_order_relaxed);
  auto connection = std::make_shared<Connection>(std::move(socket), context_, peer);
  const std::uint64_t id = registry_.Add(connection);
  if (id == 0) {
    context_->refused.fetch_add(1, std::memory_order_relaxed);
    ZEROFS_LOG(kWarn) << "9p: refusing " << peer << ": " << context_->options.max_connections
                      << " connections already open";
    return;  // the socket closes with the connection object
  }
  Connection::Start(connection, id);
}

template <typename Acceptor>
asio::awaitable<void> Server::Impl::Accept(Acceptor& acceptor) {
  for (;;) {
    boost::system::error_code ec;
    auto socket = co_await acceptor.async_accept(asio::make_strand(io_),
                                                 asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      ZEROFS_LOG(kWarn) << "9p: accept failed: " << ec.message();
      continue;
    }
    std::string peer = "unix socket";
    if constexpr (std::is_same_v<Acceptor, tcp::acceptor>) {
      socket.set_option(tcp::no_delay(true), ec);
      tcp::endpoint remote = socket.remote_endpoint(ec);
      peer = ec ? "?" : remote.address().to_string() + ":" + std::to_string(remote.port());
    }
    Adopt(internal::Socket(std::move(socket)), std::move(peer));
  }
}

Status Server::Impl::Start() {
  {
    std::lock_guard lock(mu_);
    if (started_) return Status::Internal("server already started");
    started_ = true;
  }
  const ServerOptions& opts = context_->options;
  if (opts.listen.empty() && opts.unix_sockets.empty()) {
    return Status::InvalidArgument("nothing to listen on");
  }
  if (opts.max_connections == 0 || opts.max_inflight_requests == 0 || opts.max_fids == 0 ||
      opts.max_msize < kMinMsize) {
    return Status::InvalidArgument(
        "server limits must allow one connection, one request in flight, one fid and an "
        "msize of at least " +
        std::to_string(kMinMsize));
  }
  Status status;
  for (const std::string& text : opts.listen) {
    Result<ListenAddress> address = ParseListenAddress(text);
    if (!address.ok()) {
      status = address.status();
      break;
    }
    auto acceptor = std::make_unique<tcp::acceptor>(io_);
    status = Listen(*acceptor, tcp::endpoint(asio::ip::make_address(address->host), address->port),
                    text);
    if (!status.ok()) break;
    boost::system::error_code ec;
    tcp::endpoint bound = acceptor->local_endpoint(ec);
    const std::string host = bound.address().is_v6() ? "[" + bound.address().to_string() + "]"
                                                     : bound.address().to_string();
    endpoints_.push_back(host + ":" + std::to_string(bound.port()));
    ports_.push_back(bound.port());
    tcp_acceptors_.push_back(std::move(acceptor));
  }
  for (const std::string& path : opts.unix_sockets) {
    if (!status.ok()) break;
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) {
        status = Status::AlreadyExists("cannot listen on " + path + ": exists and is not a socket");
        break;
      }
      local::socket probe(io_);
      boost::system::error_code probe_ec;
      probe.connect(local::endpoint(path), probe_ec);
      if (!probe_ec) {
        status = Status::AlreadyExists("cannot listen on " + path + ": another server answers");
        break;
      }
      ::unlink(path.c_str());  // stale socket of a server that is gone
    }
    auto acceptor = std::make_unique<local::acceptor>(io_);
    status = Listen(*acceptor, local::endpoint(path), path);
    if (!status.ok()) break;
    endpoints_.push_back("unix:" + path);
    unix_paths_.push_back(path);
    unix_acceptors_.push_back(std::move(acceptor));
  }
  if (!status.ok()) {
    tcp_acceptors_.clear();
    unix_acceptors_.clear();
    for (const std::string& p : unix_paths_) ::unlink(p.c_str());
    unix_paths_.clear();
    endpoints_.clear();
    ports_.clear();
    return status;
  }
  for (auto& a : tcp_acceptors_) asio::co_spawn(io_, Accept(*a), asio::detached);
  for (auto& a : unix_acceptors_) asio::co_spawn(io_, Accept(*a), asio::detached);
  for (const std::string& e : endpoints_) ZEROFS_LOG(kInfo) << "9p: listening on " << e;
  work_.emplace(io_.get_executor());
  const unsigned n = std::max(1U, opts.io_threads);
  for (unsigned i = 0; i < n; ++i) threads_.emplace_back([this] { io_.run(); });
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
    for (auto& a : tcp_acceptors_) a->close(ignored);
    for (auto& a : unix_acceptors_) a->close(ignored);
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
    ZEROFS_LOG(kWarn) << "9p: " << registry_.size()
                      << " connections still busy after the grace period; cutting them";
  }
  work_.reset();
  io_.stop();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  if (!clean) workers_.stop();  // abandon queued handler calls; running ones finish
  workers_.join();
  for (const std::string& p : unix_paths_) ::unlink(p.c_str());
  ZEROFS_LOG(kInfo) << "9p: server stopped";
}

Server::Server(std::shared_ptr<Handler> handler, ServerOptions options)
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
  s.requests = c.requests.load(std::memory_order_relaxed);
  s.protocol_errors = c.protocol_errors.load(std::memory_order_relaxed);
  s.connections_active = impl_->active();
  return s;
}

}  // namespace zerofs::ninep
