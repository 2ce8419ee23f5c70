// One NFS/MOUNT connection: record reassembly, calls on the worker pool, replies in
// completion order; see connection.h.
#include "connection.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <exception>
#include <vector>

#include "zerofs/common/log.h"

namespace zerofs::nfs::internal {
namespace {

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
      wake_timer_(executor_),
      idle_timer_(executor_),
      assembler_(context_->options.max_record_bytes) {}

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
      ZEROFS_LOG(kError) << "nfs: connection " << id << " failed: " << ex.what();
    }
  });
}

void Connection::Shutdown() {
  asio::post(executor_, [self = shared_from_this()] {
    if (!self->closed_) {
      // Ends the reader with EOF; calls already read still get their replies.
      boost::system::error_code ignored;
      self->socket_.shutdown(Socket::shutdown_receive, ignored);
    }
    self->Wake();
  });
}

asio::awaitable<void> Connection::Run(std::shared_ptr<Connection> self) {
  ZEROFS_LOG(kDebug) << "nfs: connection " << self->id_ << " from " << self->peer_;
  self->ArmIdleTimer();
  co_await self->ReadLoop();
  while (self->inflight_ > 0 && !self->closed_) co_await self->WaitForWake();
  ZEROFS_LOG(kDebug) << "nfs: connection " << self->id_ << " from " << self->peer_
                     << " closed after " << self->calls_ << " calls";
  self->CloseSocket();
}

asio::awaitable<void> Connection::ReadLoop() {
  const ServerOptions& opts = context_->options;
  std::vector<std::string> records;
  for (;;) {
    // Back-pressure: stop reading while the connection has too much outstanding. One read
    // can complete several small records, so the limits may be exceeded by at most one
    // read buffer's worth.
    while (!closed_ && (inflight_ >= opts.max_inflight_calls ||
                        inflight_bytes_ + assembler_.pending_bytes() >= opts.max_inflight_bytes)) {
      co_await WaitForWake();
    }
    if (closed_) co_return;
    boost::system::error_code ec;
    const std::size_t n = co_await socket_.async_read_some(
        asio::buffer(read_buffer_), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (!Quiet(ec) && !closed_) {
        ZEROFS_LOG(kDebug) << "nfs: connection " << id_ << " read failed: " << ec.message();
      }
      co_return;
    }
    Touch();
    records.clear();
    Status fed = assembler_.Feed({read_buffer_.data(), n}, records);
    for (std::string& r : records) Submit(std::move(r));
    if (!fed.ok()) {
      ProtocolError(fed.message());
      co_return;
    }
  }
}

asio::awaitable<void> Connection::WaitForWake() {
  boost::system::error_code ec;
  wake_timer_.expires_at(std::chrono::steady_clock::time_point::max());
  co_await wake_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

void Connection::Wake() {
  wake_timer_.cancel();
}

void Connection::Submit(std::string record) {
  ++calls_;
  context_->calls.fetch_add(1, std::memory_order_relaxed);
  // Counts what the call will hold until its reply is written: the record, and for a
  // READ the data it asks for, so max_inflight_bytes bounds replies too.
  const std::size_t cost = record.size() + Dispatcher::ExpectedReplyBytes(record);
  ++inflight_;
  inflight_bytes_ += cost;
  asio::post(*context_->workers,
             [self = shared_from_this(), record = std::move(record), cost]() mutable {
               Result<std::string> reply = self->context_->dispatcher->Handle(record, self->peer_);
               asio::post(self->executor_, [self, reply = std::move(reply), cost]() mutable {
                 if (!reply.ok()) {
                   --self->inflight_;
                   self->inflight_bytes_ -= cost;
                   self->ProtocolError(reply.status().message());
                   return;
                 }
                 self->Enqueue(std::move(*reply), cost);
               });
             });
}

void Connection::Enqueue(std::string reply, std::size_t cost) {
  if (closed_) {
    --inflight_;
    inflight_bytes_ -= cost;
    Wake();
    return;
  }
  queue_.emplace_back(std::move(reply), cost);
  if (!write_in_progress_) StartWrite();
}

void Connection::StartWrite() {
  if (queue_.empty()) return;
  writing_ = std::move(queue_.front());
  queue_.pop_front();
  write_in_progress_ = true;
  asio::async_write(socket_, asio::buffer(writing_.first),
                    [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                      self->write_in_progress_ = false;
                      self->Touch();
                      --self->inflight_;
                      self->inflight_bytes_ -= self->writing_.second;
                      self->writing_ = {};
                      if (ec) {
                        if (!Quiet(ec) && !self->closed_) {
                          ZEROFS_LOG(kWarn) << "nfs: connection " << self->id_
                                            << ": write failed: " << ec.message();
                        }
                        self->CloseSocket();
                      } else {
                        self->StartWrite();
                      }
                      self->Wake();
                    });
}

void Connection::ArmIdleTimer() {
  const std::uint32_t idle_ms = context_->options.idle_timeout_ms;
  if (idle_ms == 0 || closed_) return;
  idle_timer_.expires_at(last_activity_ + std::chrono::milliseconds(idle_ms));
  idle_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->closed_) return;
    const auto idle = std::chrono::milliseconds(self->context_->options.idle_timeout_ms);
    if (self->inflight_ == 0 && std::chrono::steady_clock::now() - self->last_activity_ >= idle) {
      ZEROFS_LOG(kDebug) << "nfs: connection " << self->id_ << " from " << self->peer_
                         << " idle for " << idle.count() << " ms; closing";
      self->CloseSocket();
      return;
    }
    if (self->inflight_ > 0) self->Touch();  // a call is running: not idle
    self->ArmIdleTimer();
  });
}

void Connection::ProtocolError(const std::string& what) {
  if (closed_) return;
  context_->protocol_errors.fetch_add(1, std::memory_order_relaxed);
  ZEROFS_LOG(kWarn) << "nfs: connection " << id_ << " from " << peer_
                    << ": protocol violation: " << what << "; closing";
  CloseSocket();
}

void Connection::CloseSocket() {
  if (!closed_) {
    closed_ = true;
    boost::system::error_code ignored;
    socket_.shutdown(Socket::shutdown_both, ignored);
    socket_.close(ignored);
    idle_timer_.cancel();
  }
  if (!write_in_progress_) {
    for (const auto& out : queue_) {
      --inflight_;
      inflight_bytes_ -= out.second;
    }
    queue_.clear();
  }
  Wake();
}

}  // namespace zerofs::nfs::internal
