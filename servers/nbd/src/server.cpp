// The NBD server: listeners, threads and shutdown; see server.h.
#include "zerofs/nbd/server.h"

#include <algorithm>
#include <boost/asio/thread_pool.hpp>

#include "connection.h"
#include "zerofs/common/log.h"
#include "zerofs/server/server_shell.h"

namespace zerofs::nbd {

namespace asio = boost::asio;
using internal::NbdSession;
using internal::ServerContext;

class Server::Impl {
 public:
  Impl(std::shared_ptr<ExportProvider> provider, ServerOptions options)
      : context_(MakeContext(std::move(provider), std::move(options))),
        shell_("nbd", "127.0.0.1:10809", context_->options.max_connections,
               Limits(context_->options),
               [context = context_](const std::string&) {
                 return std::make_unique<NbdSession>(context);
               }),
        workers_(std::max(1U, context_->options.worker_threads)) {
    context_->workers = &workers_;
  }

  ~Impl() {
    Stop();
    Wait();
  }

  Status Start();
  void Stop() { shell_.Stop(); }
  void Wait();

  const std::shared_ptr<ServerContext> context_;
  server::ServerShell shell_;

 private:
  static std::shared_ptr<ServerContext> MakeContext(std::shared_ptr<ExportProvider> provider,
                                                    ServerOptions options) {
    auto context = std::make_shared<ServerContext>();
    context->provider = std::move(provider);
    context->negotiator.force_read_only = options.read_only;
    context->negotiator.max_request_bytes = options.max_request_bytes;
    context->options = std::move(options);
    return context;
  }
  static server::ConnectionLimits Limits(const ServerOptions& opts) {
    return {.max_inflight = opts.max_inflight_requests,
            .max_inflight_cost = opts.max_inflight_bytes,
            .max_queued_reply_bytes = opts.max_inflight_bytes,
            .open_timeout_ms = opts.handshake_timeout_ms,
            .max_replies_per_write = 32};
  }

  asio::thread_pool workers_;
};

Status Server::Impl::Start() {
  ZEROFS_RETURN_IF_ERROR(shell_.BeginStart());
  const ServerOptions& opts = context_->options;
  if (opts.listen.empty() && opts.unix_sockets.empty()) {
    return Status::InvalidArgument("nothing to listen on");
  }
  if (opts.max_connections == 0 || opts.max_inflight_requests == 0 ||
      opts.max_inflight_bytes == 0 || opts.max_request_bytes < 4096) {
    return Status::InvalidArgument(
        "server limits must allow at least one connection, one request in flight and "
        "4096-byte requests");
  }
  ZEROFS_RETURN_IF_ERROR(shell_.Bind(opts.listen, opts.unix_sockets));
  for (const std::string& e : shell_.endpoints()) ZEROFS_LOG(kInfo) << "nbd: listening on " << e;
  shell_.Run(opts.io_threads);
  return Status::Ok();
}

void Server::Impl::Wait() {
  shell_.Wait(context_->options.shutdown_grace_ms, [this](bool clean) {
    if (!clean) workers_.stop();  // abandon queued device calls; running ones finish
    workers_.join();
  });
}

Server::Server(std::shared_ptr<ExportProvider> provider, ServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(provider), std::move(options))) {}

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
  s.requests = c.requests.load(std::memory_order_relaxed);
  s.ops = c.ops.Snapshot();
  return s;
}

}  // namespace zerofs::nbd
