// The NFS server: listeners, threads and shutdown; see server.h.
#include "zerofs/nfs/server.h"

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>

#include "connection.h"
#include "zerofs/common/log.h"
#include "zerofs/server/lifecycle.h"
#include "zerofs/server/listener.h"

namespace zerofs::nfs {

namespace asio = boost::asio;
using internal::Connection;
using internal::Registry;
using internal::ServerContext;
using tcp = asio::ip::tcp;

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

  std::vector<std::string> endpoints() const { return listener_.endpoints(); }
  std::vector<std::uint16_t> tcp_ports() const { return listener_.tcp_ports(); }
  std::shared_ptr<ServerContext> context_;
  Registry registry_;  // before the listener: queued connections unregister as its io ends

 private:
  void Adopt(tcp::socket socket, std::string peer);

  server::Listener listener_{"nfs", "127.0.0.1:2049"};
  asio::thread_pool workers_;
  server::Lifecycle lifecycle_;
};

void Server::Impl::Adopt(tcp::socket socket, std::string peer) {
  context_->accepted.fetch_add(1, std::memory_order_relaxed);
  auto connection = std::make_shared<Connection>(std::move(socket), context_, peer);
  const std::uint64_t id = registry_.Add(connection);
  if (id == 0) {
    context_->refused.fetch_add(1, std::memory_order_relaxed);
    ZEROFS_LOG(kWarn) << "nfs: refusing " << peer << ": " << context_->options.max_connections
                      << " connections already open";
    return;  // the socket closes with the connection object
  }
  Connection::Start(connection, id);
}

Status Server::Impl::Start() {
  ZEROFS_RETURN_IF_ERROR(lifecycle_.BeginStart());
  const ServerOptions& opts = context_->options;
  if (opts.listen.empty()) return Status::InvalidArgument("nothing to listen on");
  if (opts.max_connections == 0 || opts.max_inflight_calls == 0 ||
      opts.max_inflight_bytes < opts.max_record_bytes || opts.max_record_bytes < 4096) {
    return Status::InvalidArgument(
        "server limits must allow one connection, one call in flight, and records of at "
        "least 4096 bytes that fit the in-flight byte budget");
  }
  ZEROFS_RETURN_IF_ERROR(listener_.Bind(opts.listen, {}));
  for (const std::string& e : listener_.endpoints()) {
    ZEROFS_LOG(kInfo) << "nfs: listening on " << e << " (NFSv3 and MOUNT v3)";
  }
  listener_.Start(
      opts.io_threads,
      [this](tcp::socket socket, std::string peer) { Adopt(std::move(socket), std::move(peer)); },
      {});
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
  const bool clean = registry_.Drain(context_->options.shutdown_grace_ms, "nfs");
  listener_.Join();
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
  s.calls = c.calls.load(std::memory_order_relaxed);
  s.protocol_errors = c.protocol_errors.load(std::memory_order_relaxed);
  s.connections_active = impl_->registry_.size();
  s.ops = c.dispatcher->OpStats();
  return s;
}

}  // namespace zerofs::nfs
