// NbdSession: the NBD half of one connection (the other is server::FramedConnection): the
// fixed-newstyle handshake runs as the connection's Open phase (options answered on the
// worker pool, the handshake timeout is the connection's open timeout), then transmission
// frames are a 28-byte request header followed, for a WRITE, by its payload. Internal to
// servers/nbd.
//
// Every member is touched only on the connection's strand, except the constants set at
// construction. Device calls run on the shared worker pool and post their replies back.
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
#include <vector>

#include "zerofs/nbd/codec.h"
#include "zerofs/nbd/export_provider.h"
#include "zerofs/nbd/negotiator.h"
#include "zerofs/nbd/server.h"
#include "zerofs/nbd/transmission.h"
#include "zerofs/server/framed_connection.h"
#include "zerofs/server/op_counters.h"

namespace zerofs::nbd::internal {

// Names of the transmission commands by type (for the per-operation counters).
std::vector<std::string> CommandNames();

// What every connection of a server shares.
struct ServerContext {
  std::shared_ptr<ExportProvider> provider;
  NegotiatorOptions negotiator;
  ServerOptions options;
  boost::asio::thread_pool* workers = nullptr;
  std::atomic<std::uint64_t> requests{0};
  // Commands by type; errors are the ones answered with an error code.
  server::OpCounters ops{CommandNames()};
};

class NbdSession final : public server::FrameProtocol {
 public:
  explicit NbdSession(std::shared_ptr<ServerContext> context) : context_(std::move(context)) {}

  boost::asio::awaitable<bool> Open(server::FramedConnection& c) override;
  Result<server::FrameExtent> Measure(std::string_view buffered) override;
  std::uint64_t Admit(std::string& frame) override;
  boost::asio::awaitable<bool> OnFrame(server::FramedConnection& c, std::string frame,
                                       std::uint64_t cost) override;
  void OnClosed(server::FramedConnection& c) override;

 private:
  // Decodes and checks a request header; `message` says why when not kOk.
  Error Check(const Request& request, std::string* message) const;
  void Submit(server::FramedConnection& c, const Request& request, std::string payload,
              std::uint64_t cost);

  const std::shared_ptr<ServerContext> context_;
  std::shared_ptr<const Session> session_;  // set when the handshake succeeds
  std::uint64_t requests_ = 0;
};

}  // namespace zerofs::nbd::internal
