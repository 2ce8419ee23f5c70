// One framed connection: buffered reads, pipelining, backpressure and drain; see
// framed_connection.h.
#include "zerofs/server/framed_connection.h"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <exception>

#include "zerofs/common/log.h"

namespace zerofs::server {
namespace asio = boost::asio;
namespace {

constexpr std::size_t kReadBufferBytes = 64 * 1024;

bool Quiet(const boost::system::error_code& ec) {
  return ec == asio::error::eof || ec == asio::error::operation_aborted ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe;
}

}  // namespace

std::size_t OutFrame::WireBytes() const {
  if (slices.empty()) return head.size() + data.size();
  std::size_t n = 0;
  for (const Slice& s : slices) n += s.length;
  return n;
}

asio::awaitable<bool> FrameProtocol::Open(FramedConnection& connection) {
  (void)connection;
  co_return true;
}

FramedConnection::FramedConnection(StreamSocket socket, std::string name, std::string peer,
                                   ConnectionLimits limits, std::unique_ptr<FrameProtocol> protocol,
                                   Registry* registry, ConnectionCounters* counters)
    : name_(std::move(name)),
      peer_(std::move(peer)),
      limits_(limits),
      protocol_(std::move(protocol)),
      registry_(registry),
      counters_(counters),
      executor_(socket.get_executor()),
      socket_(std::move(socket)),
      wake_timer_(executor_),
      idle_timer_(executor_),
      open_timer_(executor_),
      buffer_(kReadBufferBytes, '\0') {}

FramedConnection::~FramedConnection() {
  if (id_ != 0) registry_->Remove(id_);
}

void FramedConnection::Start(const std::shared_ptr<FramedConnection>& self, std::uint64_t id) {
  self->id_ = id;
  asio::co_spawn(self->executor_, Run(self), [id, name = self->name_](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      ZEROFS_LOG(kError) << name << ": connection " << id << " failed: " << ex.what();
    }
  });
}

void FramedConnection::Shutdown() {
  asio::post(executor_, [self = shared_from_this()] {
    self->stopping_ = true;
    if (self->opening_) {
      self->CloseSocket();
    } else if (!self->closed_) {
      // Ends the reader with EOF; frames already read still get their replies.
      boost::system::error_code ignored;
      self->socket_.shutdown(StreamSocket::shutdown_receive, ignored);
    }
    self->Wake();
  });
}

asio::awaitable<void> FramedConnection::Run(std::shared_ptr<FramedConnection> self) {
  ZEROFS_LOG(kDebug) << self->name_ << ": connection " << self->id_ << " from " << self->peer_;
  self->ArmIdleTimer();
  if (self->limits_.open_timeout_ms != 0) {
    self->open_timer_.expires_after(std::chrono::milliseconds(self->limits_.open_timeout_ms));
    self->open_timer_.async_wait([self](const boost::system::error_code& ec) {
      if (ec || !self->opening_ || self->closed_) return;
      ZEROFS_LOG(kWarn) << self->name_ << ": connection " << self->id_ << " from " << self->peer_
                        << ": handshake not finished in time; closing";
      self->CloseSocket();
    });
  }
  const bool opened = co_await self->protocol_->Open(*self);
  self->opening_ = false;
  self->open_timer_.cancel();
  if (opened && !self->stopping_ && !self->closed_) co_await self->ReadLoop();
  while (self->inflight_ > 0 && !self->closed_) co_await self->WaitForWake();
  self->CloseSocket();
  self->protocol_->OnClosed(*self);
}

asio::awaitable<void> FramedConnection::ReadLoop() {
  for (;;) {
    const std::string_view buffered(buffer_.data() + begin_, end_ - begin_);
    Result<FrameExtent> extent = protocol_->Measure(buffered);
    if (!extent.ok()) {
      ProtocolError(extent.status().message());
      co_return;
    }
    if (extent->bytes == 0) {
      ProtocolError("empty frame");
      co_return;
    }
    if (extent->bytes > buffered.size()) {
      if (!co_await Fill(extent->bytes)) co_return;
      continue;
    }
    std::string frame;
    if (begin_ == 0 && extent->bytes == end_ && end_ > kReadBufferBytes) {
      // A large frame that filled the buffer alone: hand over the buffer, no copy.
      buffer_.resize(end_);
      frame = std::move(buffer_);
      buffer_.assign(kReadBufferBytes, '\0');
      end_ = 0;
    } else {
      frame.assign(buffered.data(), extent->bytes);
      begin_ += extent->bytes;
      if (begin_ == end_) {
        begin_ = end_ = 0;
        // Give back what one large frame grew the buffer to.
        if (buffer_.size() > 4 * kReadBufferBytes) buffer_.assign(kReadBufferBytes, '\0');
      }
    }
    Touch();
    const std::uint64_t cost = protocol_->Admit(frame);
    // Backpressure: dispatch nothing (and so read nothing) while over a limit.
    while (!closed_ && OverLimits(cost)) co_await WaitForWake();
    if (closed_) co_return;
    if (extent->skip > 0 && !co_await Skip(extent->skip)) co_return;
    if (!co_await protocol_->OnFrame(*this, std::move(frame), cost)) co_return;
    if (closed_) co_return;
  }
}

bool FramedConnection::OverLimits(std::uint64_t cost) const {
  if (inflight_ >= limits_.max_inflight) return true;
  if (queued_bytes_ > limits_.max_queued_reply_bytes) return true;
  return limits_.max_inflight_cost != 0 && inflight_ > 0 &&
         inflight_cost_ + cost > limits_.max_inflight_cost;
}

asio::awaitable<bool> FramedConnection::Fill(std::size_t wanted) {
  if (begin_ > 0) {
    // Keep the unconsumed bytes at the front so the buffer only grows for one frame.
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (buffer_.size() < wanted) buffer_.resize(wanted);
  boost::system::error_code ec;
  const std::size_t n =
      co_await socket_.async_read_some(asio::buffer(buffer_.data() + end_, buffer_.size() - end_),
                                       asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    if (!Quiet(ec) && !closed_) {
      ZEROFS_LOG(kDebug) << name_ << ": connection " << id_ << " read failed: " << ec.message();
    }
    co_return false;
  }
  end_ += n;
  Touch();
  co_return true;
}

asio::awaitable<bool> FramedConnection::ReadExactly(char* data, std::size_t size) {
  while (size > 0) {
    if (begin_ == end_ && !co_await Fill(1)) co_return false;
    const std::size_t n = std::min(size, end_ - begin_);
    std::memcpy(data, buffer_.data() + begin_, n);
    begin_ += n;
    data += n;
    size -= n;
  }
  if (begin_ == end_) begin_ = end_ = 0;
  co_return true;
}

asio::awaitable<bool> FramedConnection::Skip(std::uint64_t size) {
  while (size > 0) {
    if (begin_ == end_) {
      begin_ = end_ = 0;
      if (!co_await Fill(1)) co_return false;
    }
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(size, end_ - begin_));
    begin_ += n;
    size -= n;
  }
  co_return true;
}

asio::awaitable<bool> FramedConnection::WriteNow(std::string_view bytes) {
  boost::system::error_code ec;
  co_await asio::async_write(socket_, asio::buffer(bytes.data(), bytes.size()),
                             asio::redirect_error(asio::use_awaitable, ec));
  Touch();
  co_return !ec;
}

asio::awaitable<void> FramedConnection::WaitForWake() {
  boost::system::error_code ec;
  wake_timer_.expires_at(std::chrono::steady_clock::time_point::max());
  co_await wake_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<void> FramedConnection::WaitIdle() {
  while (!closed_ && inflight_ > 0) co_await WaitForWake();
}

void FramedConnection::Wake() {
  wake_timer_.cancel();
}

void FramedConnection::Reserve(std::uint64_t cost) {
  ++inflight_;
  inflight_cost_ += cost;
}

void FramedConnection::Release(std::uint64_t cost) {
  --inflight_;
  inflight_cost_ -= cost;
  Wake();
}

void FramedConnection::Send(std::string reply, std::uint64_t cost) {
  OutFrame out;
  out.head = std::move(reply);
  Send(std::move(out), cost);
}

void FramedConnection::Send(OutFrame reply, std::uint64_t cost) {
  if (closed_) {
    Release(cost);
    return;
  }
  const std::size_t bytes = reply.WireBytes();
  queued_bytes_ += bytes;
  queue_.push_back({std::move(reply), cost, bytes});
  if (!write_in_progress_) StartWrite();
}

void FramedConnection::StartWrite() {
  writing_.clear();
  while (!queue_.empty() && writing_.size() < limits_.max_replies_per_write) {
    writing_.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  if (writing_.empty()) return;
  // The buffers point into writing_, which stays untouched until OnWritten.
  std::vector<asio::const_buffer> buffers;
  for (const Outgoing& out : writing_) {
    const OutFrame& r = out.reply;
    if (r.slices.empty()) {
      if (!r.head.empty()) buffers.emplace_back(r.head.data(), r.head.size());
      if (!r.data.empty()) buffers.emplace_back(r.data.data(), r.data.size());
      continue;
    }
    for (const OutFrame::Slice& s : r.slices) {
      const std::string& src = s.from_data ? r.data : r.head;
      buffers.emplace_back(src.data() + s.offset, s.length);
    }
  }
  write_in_progress_ = true;
  asio::async_write(socket_, buffers,
                    [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                      self->OnWritten(ec);
                    });
}

void FramedConnection::OnWritten(const boost::system::error_code& ec) {
  write_in_progress_ = false;
  Touch();
  for (const Outgoing& out : writing_) {
    --inflight_;
    inflight_cost_ -= out.cost;
    queued_bytes_ -= out.bytes;
  }
  writing_.clear();
  if (ec) {
    if (!Quiet(ec) && !closed_) {
      ZEROFS_LOG(kWarn) << name_ << ": connection " << id_ << ": write failed: " << ec.message();
    }
    CloseSocket();  // drops the queue and accounts for it
  } else if (!queue_.empty()) {
    StartWrite();
  }
  Wake();
}

void FramedConnection::ArmIdleTimer() {
  const std::uint32_t idle_ms = limits_.idle_timeout_ms;
  if (idle_ms == 0 || closed_) return;
  idle_timer_.expires_at(last_activity_ + std::chrono::milliseconds(idle_ms));
  idle_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->closed_) return;
    const auto idle = std::chrono::milliseconds(self->limits_.idle_timeout_ms);
    if (self->inflight_ == 0 && std::chrono::steady_clock::now() - self->last_activity_ >= idle) {
      ZEROFS_LOG(kDebug) << self->name_ << ": connection " << self->id_ << " from " << self->peer_
                         << " idle for " << idle.count() << " ms; closing";
      self->CloseSocket();
      return;
    }
    if (self->inflight_ > 0) self->Touch();  // a request is running: not idle
    self->ArmIdleTimer();
  });
}

void FramedConnection::ProtocolError(std::string_view what) {
  if (closed_) return;
  counters_->protocol_errors.fetch_add(1, std::memory_order_relaxed);
  ZEROFS_LOG(kWarn) << name_ << ": connection " << id_ << " from " << peer_
                    << ": protocol violation: " << what << "; closing";
  CloseSocket();
}

void FramedConnection::CloseSocket() {
  if (!closed_) {
    closed_ = true;
    boost::system::error_code ignored;
    socket_.shutdown(StreamSocket::shutdown_both, ignored);
    socket_.close(ignored);
    idle_timer_.cancel();
    open_timer_.cancel();
  }
  if (!write_in_progress_) {
    for (const Outgoing& out : queue_) {
      --inflight_;
      inflight_cost_ -= out.cost;
      queued_bytes_ -= out.bytes;
    }
    queue_.clear();
  }
  Wake();
}

}  // namespace zerofs::server
