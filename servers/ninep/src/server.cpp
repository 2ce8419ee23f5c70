// The 9P server: listeners, threads and shutdown; see server.h.
#include "zerofs/ninep/server.h"

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include "connection.h"
#include "zerofs/common/log.h"
#include "zerofs/server/lifecycle.h"
#include "zerofs/server/listener.h"

namespace zerofs::ninep {

namespace asio = boost::asio;
using internal::Connection;
using internal::Registry;
using internal::ServerContext;
using tcp = asio::ip::tcp;
using local = asio::local::stream_protocol;

class Server::Impl {
 public:
  Impl(std::shared_ptr<Handler> handler, ServerOptions options)
      : registry_(options.max_connections),
        workers_(std::max(1U, options.worker_threads)),
        sync_workers_(std::max(1U, options.sync_threads)),
        data_workers_(std::max(1U, options.data_threads)) {
    context_ = std::make_shared<ServerContext>();
    context_->handler = std::move(handler);
    context_->options = std::move(options);
    context_->workers = &workers_;
    context_->sync_workers = &sync_workers_;
    context_->data_workers = &data_workers_;
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

  std::vector<std::string> endpoints() const { return listener_.endpoints(); }
  std::vector<std::uint16_t> tcp_ports() const { return listener_.tcp_ports(); }
  std::shared_ptr<ServerContext> context_;

 private:
  void Adopt(internal::Socket socket, std::string peer);

  // Declared first so it outlives the listener's io_context: connections still queued in
  // it when it is destroyed unregister themselves on the way out. The listener keeps its
  // io_context running until Join(), so that a handler call finishing on a worker (after
  // its connection closed) can still post its completion.
  Registry registry_;
  server::Listener listener_{"9p", std::string(kDefaultListen)};
  asio::thread_pool workers_;
  asio::thread_pool sync_workers_;
  asio::thread_pool data_workers_;
  server::Lifecycle lifecycle_;
};

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

Status Server::Impl::Start() {
  ZEROFS_RETURN_IF_ERROR(lifecycle_.BeginStart());
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
  ZEROFS_RETURN_IF_ERROR(listener_.Bind(opts.listen, opts.unix_sockets));
  for (const std::string& e : listener_.endpoints()) ZEROFS_LOG(kInfo) << "9p: listening on " << e;
  listener_.Start(
      opts.io_threads,
      [this](tcp::socket socket, std::string peer) {
        Adopt(internal::Socket(std::move(socket)), std::move(peer));
      },
      [this](local::socket socket) { Adopt(internal::Socket(std::move(socket)), "unix socket"); });
  return Status::Ok();
}

void Server::Impl::Stop() {
  if (!lifecycle_.BeginStop()) return;
  listener_.Close([this] {
    for (auto& c : registry_.Snapshot()) c->Shutdown();
  });
}

void Server::Impl::Wait() {
  if (!lifecycle_.BeginWait(listener_.running())) return;
  const bool clean = registry_.Drain(context_->options.shutdown_grace_ms, "9p");
  listener_.Join();
  if (!clean) {
    // Abandon queued handler calls; running ones finish.
    workers_.stop();
    sync_workers_.stop();
    data_workers_.stop();
  }
  workers_.join();
  sync_workers_.join();
  data_workers_.join();
  listener_.RemoveSocketFiles();
  ZEROFS_LOG(kInfo) << "9p: server stopped";
}

Server::Server(std::shared_ptr<Handler> handler, ServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(handler), std::move(options))) {}
Server::~Server() = default;
Status Server::Start() {
  return impl_->Start();
}
std::vector<std::string> Server::Endpoints() const {
  return impl_->endpoints();
}
std::vector<std::uint16_t> Server::TcpPorts() const {
  return impl_->tcp_ports();
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
  s.ops = c.ops.Snapshot();
  return s;
}

}  // namespace zerofs::ninep
