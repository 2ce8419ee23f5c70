// The NBD half of a connection: handshake, then transmission frames; see connection.h.
#include "connection.h"

#include <array>
#include <exception>

#include "zerofs/common/log.h"

namespace zerofs::nbd::internal {
namespace {

server::OutFrame ToOutFrame(EncodedReply reply) {
  server::OutFrame out;
  out.head = std::move(reply.head);
  out.data = std::move(reply.data);
  out.slices.reserve(reply.pieces.size());
  for (const EncodedReply::Piece& p : reply.pieces) {
    out.slices.push_back({p.from_data, p.offset, p.length});
  }
  return out;
}

}  // namespace

boost::asio::awaitable<bool> NbdSession::Open(server::FramedConnection& c) {
  Negotiator negotiator(*context_->provider, context_->negotiator);
  if (!co_await c.WriteNow(Negotiator::Greeting())) co_return false;
  std::array<char, kClientFlagsBytes> flag_bytes;
  if (!co_await c.ReadExactly(flag_bytes.data(), flag_bytes.size())) co_return false;
  Result<std::uint32_t> flags = DecodeClientFlags({flag_bytes.data(), flag_bytes.size()});
  Status accepted = flags.ok() ? negotiator.AcceptClientFlags(*flags) : flags.status();
  if (!accepted.ok()) {
    c.ProtocolError(accepted.message());
    co_return false;
  }
  std::array<char, kOptionHeaderBytes> header_bytes;
  for (;;) {
    if (!co_await c.ReadExactly(header_bytes.data(), header_bytes.size())) co_return false;
    Result<OptionHeader> header = DecodeOptionHeader({header_bytes.data(), header_bytes.size()});
    if (!header.ok()) {
      c.ProtocolError(header.status().message());
      co_return false;
    }
    std::string payload(header->length, '\0');
    if (!payload.empty() && !co_await c.ReadExactly(payload.data(), payload.size())) {
      co_return false;
    }
    // The provider may block (a filesystem lookup), so options run on the worker pool.
    OptionOutcome outcome =
        co_await c.Await(*context_->workers, [&negotiator, option = header->option, &payload]() {
          OptionOutcome o;
          try {
            o = negotiator.HandleOption(option, payload);
          } catch (const std::exception& e) {
            o.next = OptionOutcome::Next::kClose;
            o.note = std::string("internal error: ") + e.what();
          }
          return o;
        });
    if (c.closed()) co_return false;
    if (!outcome.reply.empty() && !co_await c.WriteNow(outcome.reply)) co_return false;
    switch (outcome.next) {
      case OptionOutcome::Next::kContinue: break;
      case OptionOutcome::Next::kClose:
        ZEROFS_LOG(kInfo) << "nbd: connection " << c.id() << " from " << c.peer()
                          << " closed during handshake: " << outcome.note;
        co_return false;
      case OptionOutcome::Next::kTransmission:
        if (c.stopping()) co_return false;
        session_ = std::make_shared<const Session>(std::move(*outcome.session));
        ZEROFS_LOG(kInfo) << "nbd: connection " << c.id() << " from " << c.peer()
                          << " opened export '" << session_->export_name << "' ("
                          << session_->size_bytes << " bytes"
                          << (session_->caps.read_only ? ", read-only" : "")
                          << (session_->structured_replies ? ", structured replies" : "") << ")";
        co_return true;
    }
  }
}

Result<server::FrameExtent> NbdSession::Measure(std::string_view buffered) {
  if (buffered.size() < kRequestHeaderBytes) return server::FrameExtent{kRequestHeaderBytes};
  ZEROFS_ASSIGN_OR_RETURN(Request request, DecodeRequest(buffered.substr(0, kRequestHeaderBytes)));
  if (static_cast<Command>(request.type) != Command::kWrite) {
    return server::FrameExtent{kRequestHeaderBytes};
  }
  std::string message;
  if (Check(request, &message) != Error::kOk) {
    // A refused write: its payload is read and dropped, never buffered whole.
    return server::FrameExtent{kRequestHeaderBytes, request.length};
  }
  return server::FrameExtent{kRequestHeaderBytes + std::uint64_t{request.length}};
}

Error NbdSession::Check(const Request& request, std::string* message) const {
  Error error = ValidateRequest(*session_, request, message);
  if (error == Error::kOk && static_cast<Command>(request.type) == Command::kWrite &&
      request.length > context_->options.max_request_bytes) {
    error = Error::kInval;  // a device allowing more than the server buffers
    *message = "write larger than the server's request limit";
  }
  return error;
}

std::uint64_t NbdSession::Admit(std::string& frame) {
  // What a request holds until its reply is written: the data it reads or writes.
  Result<Request> request = DecodeRequest(std::string_view(frame).substr(0, kRequestHeaderBytes));
  if (!request.ok()) return 0;  // Measure decoded it
  const auto cmd = static_cast<Command>(request->type);
  std::string message;
  if ((cmd != Command::kRead && cmd != Command::kWrite) ||
      Check(*request, &message) != Error::kOk) {
    return 0;
  }
  return request->length;
}

boost::asio::awaitable<bool> NbdSession::OnFrame(server::FramedConnection& c, std::string frame,
                                                 std::uint64_t cost) {
  Result<Request> request = DecodeRequest(std::string_view(frame).substr(0, kRequestHeaderBytes));
  if (!request.ok()) {
    c.ProtocolError(request.status().message());
    co_return false;
  }
  if (static_cast<Command>(request->type) == Command::kDisc) {
    co_return false;  // the connection answers what is in flight, then closes
  }
  ++requests_;
  context_->requests.fetch_add(1, std::memory_order_relaxed);
  std::string message;
  const Error error = Check(*request, &message);
  c.Reserve(cost);
  if (error != Error::kOk) {
    ZEROFS_LOG(kDebug) << "nbd: connection " << c.id() << ": " << CommandName(request->type)
                       << " failed with " << ErrorName(error) << ": " << message;
    context_->ops.Count(request->type, /*error=*/true);
    c.Send(ToOutFrame(ErrorReply(*session_, *request, error, message)), cost);
    co_return true;
  }
  std::string payload;
  if (frame.size() > kRequestHeaderBytes) {
    frame.erase(0, kRequestHeaderBytes);
    payload = std::move(frame);
  }
  Submit(c, *request, std::move(payload), cost);
  co_return true;
}

void NbdSession::Submit(server::FramedConnection& c, const Request& request, std::string payload,
                        std::uint64_t cost) {
  c.Offload(
      *context_->workers,
      [context = context_, session = session_, request, payload = std::move(payload)]() mutable {
        EncodedReply reply;
        try {
          reply = ExecuteRequest(*session, request, std::move(payload));
        } catch (const std::exception& e) {
          ZEROFS_LOG(kError) << "nbd: " << CommandName(request.type) << " failed: " << e.what();
          reply = ErrorReply(*session, request, Error::kIo, "internal server error");
        }
        context->ops.Count(request.type, reply.error != Error::kOk);
        return ToOutFrame(std::move(reply));
      },
      [cost](server::FramedConnection& conn, server::OutFrame reply) {
        conn.Send(std::move(reply), cost);
      });
}

void NbdSession::OnClosed(server::FramedConnection& c) {
  if (!session_) return;
  ZEROFS_LOG(kInfo) << "nbd: connection " << c.id() << " closed after " << requests_ << " requests";
}

std::vector<std::string> CommandNames() {
  std::vector<std::string> names;
  for (std::uint16_t type = 0; type < 16; ++type) {
    const std::string_view name = CommandName(type);
    names.emplace_back(name == "UNKNOWN" ? std::string() : std::string(name));
  }
  return names;
}

}  // namespace zerofs::nbd::internal
