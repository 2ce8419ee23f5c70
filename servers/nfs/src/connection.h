// RpcSession: the NFS/MOUNT half of one connection (the other is server::FramedConnection):
// RPC record marking (RFC 5531 section 11, multi-fragment records), each call answered by
// the dispatcher on the shared worker pool. Internal to servers/nfs.
//
// Members are touched only on the connection's strand; calls run on the worker pool and
// post their reply back, and replies are written in completion order.
#pragma once

// clang-format off
// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>: keep it first.
#include <utility>
// clang-format on

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "zerofs/nfs/dispatcher.h"
#include "zerofs/nfs/server.h"
#include "zerofs/server/framed_connection.h"

namespace zerofs::nfs::internal {

// What every connection of a server shares.
struct ServerContext {
  std::shared_ptr<NfsHandler> handler;
  std::unique_ptr<Dispatcher> dispatcher;
  ServerOptions options;
  boost::asio::thread_pool* workers = nullptr;
  std::atomic<std::uint64_t> calls{0};
};

class RpcSession final : public server::FrameProtocol {
 public:
  RpcSession(std::shared_ptr<ServerContext> context, std::string peer)
      : context_(std::move(context)), peer_(std::move(peer)) {}

  Result<server::FrameExtent> Measure(std::string_view buffered) override;
  std::uint64_t Admit(std::string& frame) override;
  boost::asio::awaitable<bool> OnFrame(server::FramedConnection& c, std::string record,
                                       std::uint64_t cost) override;
  void OnClosed(server::FramedConnection& c) override;

 private:
  const std::shared_ptr<ServerContext> context_;
  const std::string peer_;
  std::uint64_t calls_ = 0;
};

}  // namespace zerofs::nfs::internal
