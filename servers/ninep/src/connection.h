// Session: the 9P half of one connection (the other is server::FramedConnection): frames
// are size[4] little-endian prefixed, bounded by the server's msize until Tversion and by
// the negotiated msize after; tags, Tversion and Tflush are tracked here. Internal to
// servers/ninep.
//
// Every member is touched only on the connection's strand, except the constants set at
// construction. Handler calls run on one of the server's pools with their own references
// to the connection and its FidTable, and post their encoded replies back to the strand.
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
#include <unordered_map>
#include <vector>

#include "zerofs/ninep/codec.h"
#include "zerofs/ninep/fid_table.h"
#include "zerofs/ninep/handler.h"
#include "zerofs/ninep/server.h"
#include "zerofs/server/framed_connection.h"
#include "zerofs/server/op_counters.h"

namespace zerofs::ninep::internal {

// Names of the T-messages by type code (for the per-operation counters).
std::vector<std::string> RequestTypeNames();

// What every connection of a server shares.
struct ServerContext {
  std::shared_ptr<Handler> handler;
  ServerOptions options;
  boost::asio::thread_pool* workers = nullptr;
  boost::asio::thread_pool* sync_workers = nullptr;  // Tfsync only
  boost::asio::thread_pool* data_workers = nullptr;  // Tread and Twrite
  std::atomic<std::uint64_t> requests{0};
  // Requests by T-message type; errors are the ones answered with Rlerror.
  server::OpCounters ops{RequestTypeNames()};
};

class Session final : public server::FrameProtocol {
 public:
  explicit Session(std::shared_ptr<ServerContext> context);

  Result<server::FrameExtent> Measure(std::string_view buffered) override;
  boost::asio::awaitable<bool> OnFrame(server::FramedConnection& c, std::string frame,
                                       std::uint64_t cost) override;
  void OnClosed(server::FramedConnection& c) override;

 private:
  boost::asio::awaitable<bool> Handle(server::FramedConnection& c, std::uint16_t tag,
                                      Request request);
  boost::asio::awaitable<void> Version(server::FramedConnection& c, std::uint16_t tag,
                                       const Tversion& request);
  void Submit(server::FramedConnection& c, std::uint16_t tag, Request request);
  // The reply to `tag` is ready: queue it, then the Rflush of every Tflush that named it.
  void Complete(server::FramedConnection& c, std::uint16_t tag, std::string frame);

  const std::shared_ptr<ServerContext> context_;
  const std::uint32_t server_msize_;  // the frame bound until Tversion settles msize
  const std::shared_ptr<FidTable> fids_;
  std::uint32_t msize_ = 0;  // 0 until Tversion succeeds
  std::uint64_t requests_ = 0;
  // Tags of requests being handled -> tags of the Tflushes waiting for them.
  std::unordered_map<std::uint16_t, std::vector<std::uint16_t>> pending_;
};

}  // namespace zerofs::ninep::internal
