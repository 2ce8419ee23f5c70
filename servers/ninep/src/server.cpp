// The 9P server: listeners, threads and shutdown; see server.h.
#include "zerofs/ninep/server.h"

#include <algorithm>
#include <boost/asio/thread_pool.hpp>

#include "connection.h"
#include "zerofs/common/log.h"
#include "zerofs/server/server_shell.h"

namespace zerofs::ninep {

namespace asio = boost::asio;
using internal::ServerContext;
using internal::Session;

class Server::Impl {
 public:
  Impl(std::shared_ptr<Handler> handler, ServerOptions options)
      : context_(MakeContext(std::move(handler), std::move(options))),
        shell_("9p", std::string(kDefaultListen), context_->options.max_connections,
               Limits(context_->options),
               [context = context_](const std::string&) {
                 return std::make_unique<Session>(context);
               }),
        workers_(std::max(1U, context_->options.worker_threads)),
        sync_workers_(std::max(1U, context_->options.sync_threads)),
        data_workers_(std::max(1U, context_->options.data_threads)) {
    context_->workers = &workers_;
    context_->sync_workers = &sync_workers_;
    context_->data_workers = &data_workers_;
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
  static std::shared_ptr<ServerContext> MakeContext(std::shared_ptr<Handler> handler,
                                                    ServerOptions options) {
    auto context = std::make_shared<ServerContext>();
    context->handler = std::move(handler);
    context->options = std::move(options);
    return context;
  }
  static server::ConnectionLimits Limits(const ServerOptions& opts) {
    return {.max_inflight = opts.max_inflight_requests, .max_replies_per_write = 64};
  }

  asio::thread_pool workers_;
  asio::thread_pool sync_workers_;
  asio::thread_pool data_workers_;
};

Status Server::Impl::Start() {
  ZEROFS_RETURN_IF_ERROR(shell_.BeginStart());
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
  ZEROFS_RETURN_IF_ERROR(shell_.Bind(opts.listen, opts.unix_sockets));
  for (const std::string& e : shell_.endpoints()) ZEROFS_LOG(kInfo) << "9p: listening on " << e;
  shell_.Run(opts.io_threads);
  return Status::Ok();
}

void Server::Impl::Wait() {
  shell_.Wait(context_->options.shutdown_grace_ms, [this](bool clean) {
    if (!clean) {
      // Abandon queued handler calls; running ones finish.
      workers_.stop();
      sync_workers_.stop();
      data_workers_.stop();
    }
    workers_.join();
    sync_workers_.join();
    data_workers_.join();
  });
}

Server::Server(std::shared_ptr<Handler> handler, ServerOptions options)
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

}  // namespace zerofs::ninep
