// The NFS/MOUNT half of a connection: record marking and calls on the worker pool; see
// connection.h.
#include "connection.h"

#include "zerofs/common/log.h"
#include "zerofs/nfs/rpc.h"

namespace zerofs::nfs::internal {

Result<server::FrameExtent> RpcSession::Measure(std::string_view buffered) {
  ZEROFS_ASSIGN_OR_RETURN(std::size_t bytes,
                          MeasureRecord(buffered, context_->options.max_record_bytes));
  return server::FrameExtent{bytes};
}

std::uint64_t RpcSession::Admit(std::string& frame) {
  StripRecordMarks(frame);
  // What the call holds until its reply is written: the record, and for a READ the data it
  // asks for, so max_inflight_bytes bounds replies too.
  return frame.size() + Dispatcher::ExpectedReplyBytes(frame);
}

boost::asio::awaitable<bool> RpcSession::OnFrame(server::FramedConnection& c, std::string record,
                                                 std::uint64_t cost) {
  ++calls_;
  context_->calls.fetch_add(1, std::memory_order_relaxed);
  c.Reserve(cost);
  c.Offload(
      *context_->workers,
      [context = context_, peer = peer_, record = std::move(record)] {
        return context->dispatcher->Handle(record, peer);
      },
      [cost](server::FramedConnection& conn, Result<std::string> reply) {
        if (!reply.ok()) {
          conn.Release(cost);
          conn.ProtocolError(reply.status().message());
          return;
        }
        conn.Send(std::move(*reply), cost);
      });
  co_return true;
}

void RpcSession::OnClosed(server::FramedConnection& c) {
  ZEROFS_LOG(kDebug) << "nfs: connection " << c.id() << " from " << c.peer() << " closed after "
                     << calls_ << " calls";
}

}  // namespace zerofs::nfs::internal
