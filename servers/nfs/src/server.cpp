// The NFS server: listeners, threads and shutdown; see server.h.
#include "zerofs/nfs/server.h"

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <thread>

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
using udp = asio::ip::udp;

namespace {

// The portmapper over UDP: each datagram is one call, answered by the dispatcher (which
// serves only the portmapper program there).
class PortmapUdp {
 public:
  explicit PortmapUdp(const Dispatcher& dispatcher) : dispatcher_(dispatcher) {}
  ~PortmapUdp() { Stop(); }

  Status Bind(const std::string& host, std::uint16_t port) {
    boost::system::error_code ec;
    const asio::ip::address address = asio::ip::make_address(host, ec);
    if (ec) return Status::InvalidArgument("portmapper: bad address '" + host + "'");
    const udp::endpoint endpoint(address, port);
    socket_.open(endpoint.protocol(), ec);
    if (!ec) socket_.bind(endpoint, ec);
    if (ec) {
      return Status::Unavailable("portmapper: cannot bind UDP " + host + ":" +
                                 std::to_string(port) + ": " + ec.message());
    }
    return Status::Ok();
  }
  void Start() {
    Receive();
    thread_ = std::thread([this] { io_.run(); });
  }
  void Stop() {
    asio::post(io_, [this] {
      boost::system::error_code ignored;
      socket_.close(ignored);
    });
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Receive() {
    socket_.async_receive_from(
        asio::buffer(buffer_), peer_, [this](const boost::system::error_code& ec, std::size_t n) {
          if (ec == asio::error::operation_aborted || !socket_.is_open()) return;
          if (!ec) {
            const std::string reply = dispatcher_.HandleDatagram(
                std::string_view(buffer_.data(), n), peer_.address().to_string());
            if (!reply.empty()) {
              boost::system::error_code ignored;
              socket_.send_to(asio::buffer(reply), peer_, 0, ignored);
            }
          }
          Receive();
        });
  }

  const Dispatcher& dispatcher_;
  asio::io_context io_;
  udp::socket socket_{io_};
  udp::endpoint peer_;
  std::array<char, 8192> buffer_{};
  std::thread thread_;
};

}  // namespace

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
  std::uint16_t portmap_port() const {
    return portmap_udp_ ? portmap_listener_.tcp_ports().at(0) : 0;
  }
  std::shared_ptr<ServerContext> context_;
  Registry registry_;  // before the listener: queued connections unregister as its io ends

 private:
  void Adopt(tcp::socket socket, std::string peer);

  server::Listener listener_{"nfs", "127.0.0.1:2049"};
  server::Listener portmap_listener_{"portmap", "127.0.0.1:111"};
  std::unique_ptr<PortmapUdp> portmap_udp_;
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
  if (!opts.portmapper.empty()) {
    ZEROFS_ASSIGN_OR_RETURN(server::ListenAddress at,
                            server::ParseListenAddress(opts.portmapper, "127.0.0.1:111"));
    ZEROFS_RETURN_IF_ERROR(portmap_listener_.Bind({opts.portmapper}, {}));
    // UDP on the port TCP got (which matters when port 0 asked for any).
    auto udp_side = std::make_unique<PortmapUdp>(*context_->dispatcher);
    ZEROFS_RETURN_IF_ERROR(udp_side->Bind(at.host, portmap_listener_.tcp_ports().at(0)));
    portmap_udp_ = std::move(udp_side);
    context_->dispatcher->EnablePortmap(listener_.tcp_ports().at(0));
    ZEROFS_LOG(kInfo) << "nfs: portmapper on " << portmap_listener_.endpoints().at(0)
                      << " (TCP and UDP): NFS v3 and MOUNT v3 at TCP port "
                      << listener_.tcp_ports().at(0);
  }
  auto adopt = [this](tcp::socket socket, std::string peer) {
    Adopt(std::move(socket), std::move(peer));
  };
  listener_.Start(opts.io_threads, adopt, {});
  if (portmap_udp_) {
    portmap_listener_.Start(1, adopt, {});
    portmap_udp_->Start();
  }
  return Status::Ok();
}

void Server::Impl::Stop() {
  if (!lifecycle_.BeginStop()) return;
  if (portmap_udp_) {
    portmap_udp_->Stop();
    portmap_listener_.Close([] {});
  }
  listener_.Close([this] {
    for (auto& c : registry_.Snapshot()) c->Shutdown();
  });
}

void Server::Impl::Wait() {
  if (!lifecycle_.BeginWait(listener_.running())) return;
  const bool clean = registry_.Drain(context_->options.shutdown_grace_ms, "nfs");
  listener_.Join();
  if (portmap_udp_) portmap_listener_.Join();
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
std::uint16_t Server::PortmapPort() const {
  return impl_->portmap_port();
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
