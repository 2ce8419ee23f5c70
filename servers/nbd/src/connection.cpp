// One NBD connection: handshake, then pipelined transmission; see connection.h.
#include "connection.h"

#include <algorithm>
#include <array>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <exception>

#include "zerofs/common/log.h"

namespace zerofs::nbd::internal {
namespace {

// Replies written with one gather-write.
constexpr std::size_t kMaxRepliesPerWrite = 32;

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
      handshake_timer_(executor_) {}

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
      ZEROFS_LOG(kError) << "nbd: connection " << id << " failed: " << ex.what();
    }
  });
}

void Connection::Shutdown() {
  asio::post(executor_, [self = shared_from_this()] {
    self->stopping_ = true;
    if (self->in_handshake_) {
      self->CloseSocket();
    } else if (!self->closed_) {
      // Ends the reader with EOF; requests already read still get their replies.
      boost::system::error_code ignored;
      self->socket_.shutdown(Socket::shutdown_receive, ignored);
    }
    self->Wake();
  });
}

asio::awaitable<void> Connection::Run(std::shared_ptr<Connection> self) {
  ZEROFS_LOG(kDebug) << "nbd: connection " << self->id_ << " from " << self->peer_;
  bool transmission = co_await self->Handshake();
  if (transmission) {
    ZEROFS_LOG(kInfo) << "nbd: connection " << self->id_ << " from " << self->peer_
                      << " opened export '" << self->session_->export_name << "' ("
                      << self->session_->size_bytes << " bytes"
                      << (self->session_->caps.read_only ? ", read-only" : "")
                      << (self->session_->structured_replies ? ", structured replies" : "") << ")";
    co_await self->Transmission();
    co_await self->Drain();
    ZEROFS_LOG(kInfo) << "nbd: connection " << self->id_ << " closed after " << self->requests_
                      << " requests";
  }
  self->CloseSocket();
}

asio::awaitable<bool> Connection::ReadFull(char* data, std::size_t size) {
  // Bytes already received first; then small reads go through the buffer (one recv can
  // bring a burst of pipelined request headers) and large ones straight into `data`.
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
        ZEROFS_LOG(kDebug) << "nbd: connection " << id_ << " read failed: " << ec.message();
      }
      read_end_ = 0;
      co_return false;
    }
  }
  co_return true;
}

asio::awaitable<bool> Connection::Discard(std::uint64_t size) {
  std::array<char, 64 * 1024> sink;
  while (size > 0) {
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(size, sink.size()));
    if (!co_await ReadFull(sink.data(), n)) co_return false;
    size -= n;
  }
  co_return true;
}

asio::awaitable<bool> Connection::WriteAll(const std::string& bytes) {
  boost::system::error_code ec;
  co_await asio::async_write(socket_, asio::buffer(bytes),
                             asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}

asio::awaitable<OptionOutcome> Connection::NegotiateOnWorker(Negotiator& negotiator,
                                                             std::uint32_t option,
                                                             std::string payload) {
  // The provider may block (a filesystem lookup), so options run on the worker pool; the
  // coroutine resumes on the strand.
  auto initiation = [this, &negotiator, option,
                     payload = std::move(payload)](auto handler) mutable {
    asio::post(*context_->workers, [this, &negotiator, option, payload = std::move(payload),
                                    handler = std::move(handler)]() mutable {
      OptionOutcome outcome;
      try {
        outcome = negotiator.HandleOption(option, payload);
      } catch (const std::exception& e) {
        outcome.next = OptionOutcome::Next::kClose;
        outcome.note = std::string("internal error: ") + e.what();
      }
      asio::post(executor_, [handler = std::move(handler), outcome = std::move(outcome)]() mutable {
        std::move(handler)(std::move(outcome));
      });
    });
  };
  asio::use_awaitable_t<> token;
  co_return co_await asio::async_initiate<asio::use_awaitable_t<>, void(OptionOutcome)>(
      std::move(initiation), token);
}

asio::awaitable<bool> Connection::Handshake() {
  handshake_timer_.expires_after(std::chrono::milliseconds(context_->options.handshake_timeout_ms));
  handshake_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || !self->in_handshake_ || self->closed_) return;
    ZEROFS_LOG(kWarn) << "nbd: connection " << self->id_ << " from " << self->peer_
                      << ": handshake not finished in time; closing";
    self->CloseSocket();
  });
  Negotiator negotiator(*context_->provider, context_->negotiator);
  if (!co_await WriteAll(Negotiator::Greeting())) co_return false;
  std::array<char, kClientFlagsBytes> flag_bytes;
  if (!co_await ReadFull(flag_bytes.data(), flag_bytes.size())) co_return false;
  Result<std::uint32_t> flags = DecodeClientFlags({flag_bytes.data(), flag_bytes.size()});
  Status accepted = flags.ok() ? negotiator.AcceptClientFlags(*flags) : flags.status();
  if (!accepted.ok()) {
    ProtocolError(accepted.message());
    co_return false;
  }
  std::array<char, kOptionHeaderBytes> header_bytes;
  for (;;) {
    if (!co_await ReadFull(header_bytes.data(), header_bytes.size())) co_return false;
    Result<OptionHeader> header = DecodeOptionHeader({header_bytes.data(), header_bytes.size()});
    if (!header.ok()) {
      ProtocolError(header.status().message());
      co_return false;
    }
    std::string payload(header->length, '\0');
    if (!payload.empty() && !co_await ReadFull(payload.data(), payload.size())) co_return false;
    OptionOutcome outcome =
        co_await NegotiateOnWorker(negotiator, header->option, std::move(payload));
    if (closed_) co_return false;
    if (!outcome.reply.empty() && !co_await WriteAll(outcome.reply)) co_return false;
    switch (outcome.next) {
      case OptionOutcome::Next::kContinue: break;
      case OptionOutcome::Next::kClose:
        ZEROFS_LOG(kInfo) << "nbd: connection " << id_ << " from " << peer_
                          << " closed during handshake: " << outcome.note;
        co_return false;
      case OptionOutcome::Next::kTransmission:
        if (stopping_) co_return false;
        session_ = std::make_shared<const Session>(std::move(*outcome.session));
        in_handshake_ = false;
        handshake_timer_.cancel();
        co_return true;
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

asio::awaitable<void> Connection::Transmission() {
  const ServerOptions& opts = context_->options;
  std::array<char, kRequestHeaderBytes> header_bytes;
  for (;;) {
    if (!co_await ReadFull(header_bytes.data(), header_bytes.size())) co_return;
    Result<Request> request = DecodeRequest({header_bytes.data(), header_bytes.size()});
    if (!request.ok()) {
      ProtocolError(request.status().message());
      co_return;
    }
    const auto cmd = static_cast<Command>(request->type);
    if (cmd == Command::kDisc) co_return;  // Drain() answers what is in flight, then closes
    ++requests_;
    context_->requests.fetch_add(1, std::memory_order_relaxed);

    std::string message;
    Error error = ValidateRequest(*session_, *request, &message);
    const bool has_payload = cmd == Command::kWrite;
    if (has_payload && error == Error::kOk && request->length > opts.max_request_bytes) {
      error = Error::kInval;  // a device allowing more than the server buffers
      message = "write larger than the server's request limit";
    }
    std::uint64_t cost = 0;
    if (error == Error::kOk && (cmd == Command::kRead || cmd == Command::kWrite)) {
      cost = request->length;
    }
    // Back-pressure: stop reading until a slot (and the payload budget) is free.
    while (!closed_ && (inflight_ >= opts.max_inflight_requests ||
                        (inflight_ > 0 && inflight_bytes_ + cost > opts.max_inflight_bytes))) {
      co_await WaitForWake();
    }
    if (closed_) co_return;
    std::string payload;
    if (has_payload) {
      if (error == Error::kOk) {
        payload.resize(request->length);
        if (!co_await ReadFull(payload.data(), payload.size())) co_return;
      } else if (!co_await Discard(request->length)) {
        co_return;
      }
    }
    ++inflight_;
    inflight_bytes_ += cost;
    if (error != Error::kOk) {
      ZEROFS_LOG(kDebug) << "nbd: connection " << id_ << ": " << CommandName(request->type)
                         << " failed with " << ErrorName(error) << ": " << message;
      context_->ops.Count(request->type, /*error=*/true);
      Enqueue(ErrorReply(*session_, *request, error, message), cost);
      continue;
    }
    Submit(*request, std::move(payload), cost);
  }
}

asio::awaitable<void> Connection::Drain() {
  while (inflight_ > 0) co_await WaitForWake();
}

void Connection::Submit(const Request& request, std::string payload, std::uint64_t cost) {
  asio::post(*context_->workers, [self = shared_from_this(), session = session_, request,
                                  payload = std::move(payload), cost]() mutable {
    EncodedReply reply;
    try {
      reply = ExecuteRequest(*session, request, std::move(payload));
    } catch (const std::exception& e) {
      ZEROFS_LOG(kError) << "nbd: " << CommandName(request.type) << " failed: " << e.what();
      reply = ErrorReply(*session, request, Error::kIo, "internal server error");
    }
    self->context_->ops.Count(request.type, reply.error != Error::kOk);
    asio::post(self->executor_, [self, reply = std::move(reply), cost]() mutable {
      self->Enqueue(std::move(reply), cost);
    });
  });
}

std::vector<std::string> CommandNames() {
  std::vector<std::string> names;
  for (std::uint16_t type = 0; type < 16; ++type) {
    const std::string_view name = CommandName(type);
    names.emplace_back(name == "UNKNOWN" ? std::string() : std::string(name));
  }
  return names;
}

void Connection::Enqueue(EncodedReply reply, std::uint64_t cost) {
  if (closed_) {
    --inflight_;
    inflight_bytes_ -= cost;
    Wake();
    return;
  }
  queue_.push_back({std::move(reply), cost});
  if (!write_in_progress_) StartWrite();
}

void Connection::StartWrite() {
  writing_.clear();
  while (!queue_.empty() && writing_.size() < kMaxRepliesPerWrite) {
    writing_.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  if (writing_.empty()) return;
  // Buffers point into writing_, which stays untouched until OnWritten.
  std::vector<asio::const_buffer> buffers;
  for (const Outgoing& out : writing_) {
    for (const EncodedReply::Piece& p : out.reply.pieces) {
      const std::string& src = p.from_data ? out.reply.data : out.reply.head;
      buffers.emplace_back(src.data() + p.offset, p.length);
    }
  }
  write_in_progress_ = true;
  asio::async_write(socket_, buffers,
                    [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                      self->OnWritten(ec);
                    });
}

void Connection::OnWritten(const boost::system::error_code& ec) {
  write_in_progress_ = false;
  for (const Outgoing& out : writing_) {
    --inflight_;
    inflight_bytes_ -= out.cost;
  }
  writing_.clear();
  if (ec) {
    if (!Quiet(ec) && !closed_) {
      ZEROFS_LOG(kWarn) << "nbd: connection " << id_ << ": write failed: " << ec.message();
    }
    CloseSocket();  // drops the queue and accounts for it
  } else if (!queue_.empty()) {
    StartWrite();
  }
  Wake();
}

void Connection::ProtocolError(const std::string& what) {
  context_->protocol_errors.fetch_add(1, std::memory_order_relaxed);
  ZEROFS_LOG(kWarn) << "nbd: connection " << id_ << " from " << peer_
                    << ": protocol violation: " << what << "; closing";
  CloseSocket();
}

void Connection::CloseSocket() {
  if (!closed_) {
    closed_ = true;
    boost::system::error_code ignored;
    socket_.shutdown(Socket::shutdown_both, ignored);
    socket_.close(ignored);
    handshake_timer_.cancel();
  }
  if (!write_in_progress_) {
    for (const Outgoing& out : queue_) {
      --inflight_;
      inflight_bytes_ -= out.cost;
    }
    queue_.clear();
  }
  Wake();
}

}  // namespace zerofs::nbd::internal
