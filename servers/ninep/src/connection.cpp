// The 9P half of a connection: framing, tags, Tversion and Tflush; see connection.h.
#include "connection.h"

#include <algorithm>
#include <cerrno>

#include "zerofs/common/log.h"

namespace zerofs::ninep::internal {

namespace asio = boost::asio;

Session::Session(std::shared_ptr<ServerContext> context)
    : context_(std::move(context)),
      server_msize_(std::clamp(context_->options.max_msize, kMinMsize, kMaxMsizeCap)),
      fids_(std::make_shared<FidTable>(context_->options.max_fids)) {}

Result<server::FrameExtent> Session::Measure(std::string_view buffered) {
  if (buffered.size() < kHeaderBytes) return server::FrameExtent{kHeaderBytes};
  ZEROFS_ASSIGN_OR_RETURN(
      FrameHeader header,
      DecodeFrameHeader(buffered.substr(0, kHeaderBytes), msize_ != 0 ? msize_ : server_msize_));
  return server::FrameExtent{header.size};
}

asio::awaitable<bool> Session::OnFrame(server::FramedConnection& c, std::string frame,
                                       std::uint64_t cost) {
  (void)cost;
  Result<FrameHeader> header =
      DecodeFrameHeader(std::string_view(frame).substr(0, kHeaderBytes), kMaxMsizeCap);
  if (!header.ok()) {  // Measure checked it
    c.ProtocolError(header.status().message());
    co_return false;
  }
  ++requests_;
  context_->requests.fetch_add(1, std::memory_order_relaxed);
  Result<Request> request =
      DecodeRequest(header->type, std::string_view(frame).substr(kHeaderBytes));
  if (!request.ok()) {
    if (request.status().code() == StatusCode::kNotSupported) {
      ZEROFS_LOG(kDebug) << "9p: connection " << c.id() << ": " << request.status().message();
      c.Reserve(0);
      c.Send(EncodeReply(header->tag, Rlerror{EOPNOTSUPP}), 0);
      co_return true;
    }
    c.ProtocolError(request.status().message());
    co_return false;
  }
  co_return co_await Handle(c, header->tag, std::move(*request));
}

asio::awaitable<bool> Session::Handle(server::FramedConnection& c, std::uint16_t tag,
                                      Request request) {
  if (const auto* version = std::get_if<Tversion>(&request)) {
    co_await Version(c, tag, *version);
    co_return !c.closed();
  }
  if (pending_.count(tag) != 0) {
    c.ProtocolError("tag " + std::to_string(tag) + " reused while still in flight");
    co_return false;
  }
  c.Reserve(0);
  if (msize_ == 0) {
    c.Send(EncodeReply(tag, Rlerror{EPROTO}), 0);  // no session before Tversion
    co_return true;
  }
  if (const auto* flush = std::get_if<Tflush>(&request)) {
    auto it = pending_.find(flush->oldtag);
    if (it == pending_.end() || flush->oldtag == tag) {
      c.Send(EncodeReply(tag, Rflush{}), 0);  // nothing to wait for
    } else {
      // The request runs to completion (a VFS call cannot be taken back half-way); the
      // client sees its reply, then Rflush, and knows the request's effect happened.
      it->second.push_back(tag);
      pending_.emplace(tag, std::vector<std::uint16_t>{});
    }
    co_return true;
  }
  pending_.emplace(tag, std::vector<std::uint16_t>{});
  Submit(c, tag, std::move(request));
  co_return true;
}

asio::awaitable<void> Session::Version(server::FramedConnection& c, std::uint16_t tag,
                                       const Tversion& request) {
  // version(5): a new session aborts the old one. Let outstanding requests finish and be
  // answered first so their replies cannot be mistaken for the new session's.
  co_await c.WaitIdle();
  if (c.closed()) co_return;
  fids_->Clear();
  pending_.clear();
  Reply reply = NegotiateVersion(request, context_->options.max_msize);
  if (const auto* r = std::get_if<Rversion>(&reply);
      r != nullptr && r->version == kVersion9P2000L) {
    msize_ = r->msize;
    ZEROFS_LOG(kDebug) << "9p: connection " << c.id() << " speaks 9P2000.L, msize " << msize_;
  } else {
    msize_ = 0;
    ZEROFS_LOG(kInfo) << "9p: connection " << c.id() << " from " << c.peer()
                      << " asked for version '" << request.version << "' msize " << request.msize
                      << "; refused";
  }
  c.Reserve(0);
  c.Send(EncodeReply(tag, reply), 0);
}

std::vector<std::string> RequestTypeNames() {
  std::vector<std::string> names(256);
  for (std::size_t type = 0; type < names.size(); type += 2) {  // T-messages are even
    const std::string_view name = MessageTypeName(static_cast<std::uint8_t>(type));
    if (!name.empty() && name.front() == 'T') names[type] = std::string(name);
  }
  return names;
}

void Session::Submit(server::FramedConnection& c, std::uint16_t tag, Request request) {
  // An fsync may wait seconds for the bucket, a read for a GET: neither may occupy a worker
  // that namespace and attribute requests need.
  asio::thread_pool& pool =
      std::holds_alternative<Tfsync>(request) ? *context_->sync_workers
      : std::holds_alternative<Tread>(request) || std::holds_alternative<Twrite>(request)
          ? *context_->data_workers
          : *context_->workers;
  c.Offload(
      pool,
      [context = context_, fids = fids_, msize = msize_, tag, request = std::move(request)] {
        RequestContext ctx{*fids, msize};
        const Reply reply = Dispatch(*context->handler, ctx, request);
        context->ops.Count(TypeOf(request), std::holds_alternative<Rlerror>(reply));
        return EncodeReply(tag, reply);
      },
      [tag](server::FramedConnection& conn, std::string frame) {
        static_cast<Session&>(conn.protocol()).Complete(conn, tag, std::move(frame));
      });
}

void Session::Complete(server::FramedConnection& c, std::uint16_t tag, std::string frame) {
  std::vector<std::uint16_t> flushes;
  if (auto it = pending_.find(tag); it != pending_.end()) {
    flushes = std::move(it->second);
    pending_.erase(it);
  }
  c.Send(std::move(frame), 0);
  // A Tflush may itself have been flushed: completing it releases its own waiters.
  for (std::uint16_t flush_tag : flushes) Complete(c, flush_tag, EncodeReply(flush_tag, Rflush{}));
}

void Session::OnClosed(server::FramedConnection& c) {
  ZEROFS_LOG(kDebug) << "9p: connection " << c.id() << " closed after " << requests_ << " requests";
  // Release every handle now rather than when the last worker reference goes.
  fids_->Clear();
}

}  // namespace zerofs::ninep::internal
