// One 9P connection: framing, tags, Tversion and Tflush; see connection.h.
#include "connection.h"

#include <algorithm>
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <exception>

#include "zerofs/common/log.h"

namespace zerofs::ninep::internal {
namespace {

constexpr std::size_t kMaxRepliesPerWrite = 64;

bool Quiet(const boost::system::error_code& ec) {
  return ec == asio::error::eof || ec == asio::error::operation_aborted ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe;
}

}  // namespace

Connection::Connection(Socket socket, std::shared_ptr<ServerContext> context, std::string peer)
    : context_(std::move(context)),
      peer_(std::move(peer)),
      executor_(socket.get_executor()),
      socket_(std::move(socket)),
      fids_(std::make_shared<FidTable>(context_->options.max_fids)),
      wake_timer_(executor_) {}

Connection::~Connection() {
  if (id_ != 0) context_->registry->Remove(id_);
}

void Connection::Start(const std::shared_ptr<Connection>& self, std::uint64_t id) {
  self->id_ = id;
  asio::co_spawn(self->executor_, Run(self), [id](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      ZEROFS_LOG(kError) << "9p: connection " << id << " failed: " << ex.what();
    }
  });
}

void Connection::Shutdown() {
  asio::post(executor_, [self = shared_from_this()] {
    self->stopping_ = true;
    if (!self->closed_) {
      boost::system::error_code ignored;
      self->socket_.shutdown(Socket::shutdown_receive, ignored);  // ends the reader with EOF
    }
    self->Wake();
  });
}

asio::awaitable<void> Connection::Run(std::shared_ptr<Connection> self) {
  ZEROFS_LOG(kDebug) << "9p: connection " << self->id_ << " from " << self->peer_;
  co_await self->ReadLoop();
  while (self->inflight_ > 0 && !self->closed_) co_await self->WaitForWake();
  ZEROFS_LOG(kDebug) << "9p: connection " << self->id_ << " closed after " << self->requests_
                     << " requests";
  self->CloseSocket();
  // Release every handle now rather than when the last worker reference goes.
  self->fids_->Clear();
}

asio::awaitable<bool> Connection::ReadFull(char* data, std::size_t size) {
  while (size > 0) {
    if (read_begin_ < read_end_) {
      const std::size_t n = std::min(size, read_end_ - read_begin_);
      std::memcpy(data, read_buffer_.data() + read_begin_, n);
      read_begin_ += n;
      data += n;
      size -= n;
      continue;
    }
    boost::system::error_code ec;
    if (size >= kReadBufferBytes / 2) {
      co_await asio::async_read(socket_, asio::buffer(data, size),
                                asio::redirect_error(asio::use_awaitable, ec));
      size = ec ? size : 0;
    } else {
      read_begin_ = 0;
      read_end_ = co_await socket_.async_read_some(asio::buffer(read_buffer_),
                                                   asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ec) {
      if (!Quiet(ec) && !closed_) {
        ZEROFS_LOG(kDebug) << "9p: connection " << id_ << " read failed: " << ec.message();
      }
      read_end_ = 0;
      co_return false;
    }
  }
  co_return true;
}

asio::awaitable<void> Connection::WaitForWake() {
  boost::system::error_code ec;
  wake_timer_.expires_at(std::chrono::steady_clock::time_point::max());
  co_await wake_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

void Connection::Wake() {
  wake_timer_.cancel();
}

asio::awaitable<void> Connection::ReadLoop() {
  const ServerOptions& opts = context_->options;
  const std::uint32_t server_max = std::clamp(opts.max_msize, kMinMsize, kMaxMsizeCap);
  std::array<char, kHeaderBytes> header_bytes;
  for (;;) {
    if (!co_await ReadFull(header_bytes.data(), header_bytes.size())) co_return;
    // Until Tversion settles msize, the server's own limit bounds the frame.
    Result<FrameHeader> header = DecodeFrameHeader({header_bytes.data(), header_bytes.size()},
                                                   msize_ != 0 ? msize_ : server_max);
    if (!header.ok()) {
      ProtocolError(header.status().message());
      co_return;
    }
    std::string body(header->body_bytes(), '\0');
    if (!body.empty() && !co_await ReadFull(body.data(), body.size())) co_return;
    ++requests_;
    context_->requests.fetch_add(1, std::memory_order_relaxed);

    // Back-pressure: stop reading until a slot is free.
    while (!closed_ && inflight_ >= opts.max_inflight_requests) co_await WaitForWake();
    if (closed_) co_return;

    Result<Request> request = DecodeRequest(header->type, body);
    if (!request.ok()) {
      if (request.status().code() == StatusCode::kNotSupported) {
        ZEROFS_LOG(kDebug) << "9p: connection " << id_ << ": " << request.status().message();
        ++inflight_;
        Enqueue(EncodeReply(header->tag, Rlerror{EOPNOTSUPP}));
        continue;
      }
      ProtocolError(request.status().message());
      co_return;
    }
    if (!co_await Handle(header->tag, std::move(*request))) co_return;
  }
}

asio::awaitable<bool> Connection::Handle(std::uint16_t tag, Request request) {
  if (const auto* version = std::get_if<Tversion>(&request)) {
    co_await Version(tag, *version);
    co_return !closed_;
  }
  if (pending_.count(tag) != 0) {
    ProtocolError("tag " + std::to_string(tag) + " reused while still in flight");
    co_return false;
  }
  ++inflight_;
  if (msize_ == 0) {
    Enqueue(EncodeReply(tag, Rlerror{EPROTO}));  // no session before Tversion
    co_return true;
  }
  if (const auto* flush = std::get_if<Tflush>(&request)) {
    auto it = pending_.find(flush->oldtag);
    if (it == pending_.end() || flush->oldtag == tag) {
      Enqueue(EncodeReply(tag, Rflush{}));  // nothing to wait for
    } else {
      // The request runs to completion (a VFS call cannot be taken back half-way); the
      // client sees its reply, then Rflush, and knows the request's effect happened.
      it->second.push_back(tag);
      pending_.emplace(tag, std::vector<std::uint16_t>{});
    }
    co_return true;
  }
  pending_.emplace(tag, std::vector<std::uint16_t>{});
  Submit(tag, std::move(request));
  co_return true;
}

asio::awaitable<void> Connection::Version(std::uint16_t tag, const Tversion& request) {
  // version(5): a new session aborts the old one. Let outstanding requests finish and be
  // answered first so their replies cannot be mistaken for the new session's.
  while (!closed_ && inflight_ > 0) co_await WaitForWake();
  if (closed_) co_return;
  fids_->Clear();
  pending_.clear();
  Reply reply = NegotiateVersion(request, context_->options.max_msize);
  if (const auto* r = std::get_if<Rversion>(&reply);
      r != nullptr && r->version == kVersion9P2000L) {
    msize_ = r->msize;
    ZEROFS_LOG(kDebug) << "9p: connection " << id_ << " speaks 9P2000.L, msize " << msize_;
  } else {
    msize_ = 0;
    ZEROFS_LOG(kInfo) << "9p: connection " << id_ << " from " << peer_ << " asked for version '"
                      << request.version << "' msize " << request.msize << "; refused";
  }
  ++inflight_;
  Enqueue(EncodeReply(tag, reply));
}

std::vector<std::string> RequestTypeNames() {
  std::vector<std::string> names(256);
  for (std::size_t type = 0; type < names.size(); type += 2) {  // T-messages are even
    const std::string_view name = MessageTypeName(static_cast<std::uint8_t>(type));
    if (!name.empty() && name.front() == 'T') names[type] = std::string(name);
  }
  return names;
}

void Connection::Submit(std::uint16_t tag, Request request) {
  // An fsync may wait seconds for the bucket, a read for a GET: neither may occupy a worker
  // that namespace and attribute requests need.
  asio::thread_pool& pool =
      std::holds_alternative<Tfsync>(request) ? *context_->sync_workers
      : std::holds_alternative<Tread>(request) || std::holds_alternative<Twrite>(request)
          ? *context_->data_workers
          : *context_->workers;
  asio::post(pool, [self = shared_from_this(), fids = fids_, msize = msize_, tag,
                    request = std::move(request)]() mutable {
    RequestContext ctx{*fids, msize};
    const Reply reply = Dispatch(*self->context_->handler, ctx, request);
    self->context_->ops.Count(TypeOf(request), std::holds_alternative<Rlerror>(reply));
    std::string frame = EncodeReply(tag, reply);
    asio::post(self->executor_, [self, tag, frame = std::move(frame)]() mutable {
      self->Complete(tag, std::move(frame));
    });
  });
}

void Connection::Complete(std::uint16_t tag, std::string frame) {
  std::vector<std::uint16_t> flushes;
  if (auto it = pending_.find(tag); it != pending_.end()) {
    flushes = std::move(it->second);
    pending_.erase(it);
  }
  Enqueue(std::move(frame));
  // A Tflush may itself have been flushed: completing it releases its own waiters.
  for (std::uint16_t flush_tag : flushes) Complete(flush_tag, EncodeReply(flush_tag, Rflush{}));
}

void Connection::Enqueue(std::string frame) {
  if (closed_) {
    --inflight_;
    Wake();
    return;
  }
  queue_.push_back(std::move(frame));
  if (!write_in_progress_) StartWrite();
}

void Connection::StartWrite() {
  writing_.clear();
  while (!queue_.empty() && writing_.size() < kMaxRepliesPerWrite) {
    writing_.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  if (writing_.empty()) return;
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(writing_.size());
  for (const std::string& frame : writing_) buffers.emplace_back(frame.data(), frame.size());
  write_in_progress_ = true;
  asio::async_write(socket_, buffers,
                    [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                      self->OnWritten(ec);
                    });
}

void Connection::OnWritten(const boost::system::error_code& ec) {
  write_in_progress_ = false;
  inflight_ -= static_cast<unsigned>(writing_.size());
  writing_.clear();
  if (ec) {
    if (!Quiet(ec) && !closed_) {
      ZEROFS_LOG(kWarn) << "9p: connection " << id_ << ": write failed: " << ec.message();
    }
    CloseSocket();
  } else if (!queue_.empty()) {
    StartWrite();
  }
  Wake();
}

void Connection::ProtocolError(const std::string& what) {
  context_->protocol_errors.fetch_add(1, std::memory_order_relaxed);
  ZEROFS_LOG(kWarn) << "9p: connection " << id_ << " from " << peer_
                    << ": protocol violation: " << what << "; closing";
  CloseSocket();
}

void Connection::CloseSocket() {
  if (!closed_) {
    closed_ = true;
    boost::system::error_code ignored;
    socket_.shutdown(Socket::shutdown_both, ignored);
    socket_.close(ignored);
  }
  if (!write_in_progress_) {
    inflight_ -= static_cast<unsigned>(queue_.size());
    queue_.clear();
  }
  Wake();
}

}  // namespace zerofs::ninep::internal
