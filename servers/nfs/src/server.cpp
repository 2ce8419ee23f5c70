// The NFS server: listeners, threads and shutdown; see server.h.
#include "zerofs/nfs/server.h"

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/thread_pool.hpp>
#include <thread>

#include "connection.h"
#include "zerofs/common/log.h"
#include "zerofs/server/listener.h"
#include "zerofs/server/server_shell.h"

namespace zerofs::nfs {

namespace asio = boost::asio;
using internal::RpcSession;
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
      : context_(MakeContext(std::move(handler), std::move(options))),
        shell_("nfs", "127.0.0.1:2049", context_->options.max_connections,
               Limits(context_->options),
               [context = context_](const std::string& peer) {
                 return std::make_unique<RpcSession>(context, peer);
               }),
        workers_(std::max(1U, context_->options.worker_threads)) {
    context_->workers = &workers_;
  }
  ~Impl() {
    Stop();
    Wait();
  }

  Status Start();
  void Stop();
  void Wait();

  std::uint16_t portmap_port() const {
    return portmap_udp_ ? portmap_listener_.tcp_ports().at(0) : 0;
  }
  const std::shared_ptr<ServerContext> context_;
  server::ServerShell shell_;  // before the portmap listener: its connections register here

 private:
  static std::shared_ptr<ServerContext> MakeContext(std::shared_ptr<NfsHandler> handler,
                                                    ServerOptions options) {
    auto context = std::make_shared<ServerContext>();
    context->handler = std::move(handler);
    context->dispatcher = std::make_unique<Dispatcher>(*context->handler);
    context->options = std::move(options);
    return context;
  }
  static server::ConnectionLimits Limits(const ServerOptions& opts) {
    return {.max_inflight = opts.max_inflight_calls,
            .max_inflight_cost = opts.max_inflight_bytes,
            .max_queued_reply_bytes = opts.max_inflight_bytes,
            .idle_timeout_ms = opts.idle_timeout_ms};
  }

  server::Listener portmap_listener_{"portmap", "127.0.0.1:111"};
  std::unique_ptr<PortmapUdp> portmap_udp_;
  asio::thread_pool workers_;
};

Status Server::Impl::Start() {
  ZEROFS_RETURN_IF_ERROR(shell_.BeginStart());
  const ServerOptions& opts = context_->options;
  if (opts.listen.empty()) return Status::InvalidArgument("nothing to listen on");
  if (opts.max_connections == 0 || opts.max_inflight_calls == 0 ||
      opts.max_inflight_bytes < opts.max_record_bytes || opts.max_record_bytes < 4096) {
    return Status::InvalidArgument(
        "server limits must allow one connection, one call in flight, and records of at "
        "least 4096 bytes that fit the in-flight byte budget");
  }
  ZEROFS_RETURN_IF_ERROR(shell_.Bind(opts.listen, {}));
  for (const std::string& e : shell_.endpoints()) {
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
    context_->dispatcher->EnablePortmap(shell_.tcp_ports().at(0));
    ZEROFS_LOG(kInfo) << "nfs: portmapper on " << portmap_listener_.endpoints().at(0)
                      << " (TCP and UDP): NFS v3 and MOUNT v3 at TCP port "
                      << shell_.tcp_ports().at(0);
  }
  shell_.Run(opts.io_threads);
  if (portmap_udp_) {
    portmap_listener_.Start(1,
                            [this](tcp::socket socket, std::string peer) {
                              shell_.Adopt(server::StreamSocket(std::move(socket)),
                                           std::move(peer));
                            },
                            {});
    portmap_udp_->Start();
  }
  return Status::Ok();
}

void Server::Impl::Stop() {
  shell_.Stop([this] {
    if (portmap_udp_) {
      portmap_udp_->Stop();
      portmap_listener_.Close([] {});
    }
  });
}

void Server::Impl::Wait() {
  shell_.Wait(context_->options.shutdown_grace_ms, [this](bool clean) {
    if (portmap_udp_) portmap_listener_.Join();
    if (!clean) workers_.stop();
    workers_.join();
  });
}

Server::Server(std::shared_ptr<NfsHandler> handler, ServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(handler), std::move(options))) {}
Server::~Server() = default;
Status Server::Start() {
  return impl_->Start();
}
std::vector<std::string> Server::Endpoints() const {
  return impl_->shell_.endpoints();
}
std::vector<std::uint16_t> Server::TcpPorts() const {
  return impl_->shell_.tcp_ports();
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
  impl_->shell_.FillConnectionStats(s);
  s.calls = c.calls.load(std::memory_order_relaxed);
  s.ops = c.dispatcher->OpStats();
  return s;
}

}  // namespace zerofs::nfs
