// The NBD handshake state machine; see negotiator.h and proto.md "Option haggling".
#include "zerofs/nbd/negotiator.h"

#include <algorithm>
#include <utility>

#include "zerofs/nbd/codec.h"

namespace zerofs::nbd {
namespace {

OptionOutcome Reply(std::string bytes) {
  OptionOutcome out;
  out.reply = std::move(bytes);
  return out;
}

OptionOutcome ErrorReply(std::uint32_t option, OptionReply type, std::string_view message) {
  return Reply(EncodeOptionReply(option, type, message.substr(0, kMaxStringBytes)));
}

OptionOutcome Close(std::string reply, std::string note) {
  OptionOutcome out;
  out.next = OptionOutcome::Next::kClose;
  out.reply = std::move(reply);
  out.note = std::move(note);
  return out;
}

// The option reply for a provider failure.
OptionReply ReplyForStatus(const Status& status) {
  switch (status.code()) {
    case StatusCode::kNotFound: return OptionReply::kErrUnknown;
    case StatusCode::kPermissionDenied: return OptionReply::kErrPolicy;
    case StatusCode::kInvalidArgument: return OptionReply::kErrInvalid;
    case StatusCode::kCancelled: return OptionReply::kErrShutdown;
    default: return OptionReply::kErrPlatform;
  }
}

bool ValidName(std::string_view name) {
  return name.size() <= kMaxStringBytes && name.find('\0') == std::string_view::npos;
}

}  // namespace

Negotiator::Negotiator(ExportProvider& provider, NegotiatorOptions options)
    : provider_(provider), options_(options) {}

std::string Negotiator::Greeting() {
  return EncodeGreeting(kFlagFixedNewstyle | kFlagNoZeroes);
}

Status Negotiator::AcceptClientFlags(std::uint32_t client_flags) {
  const std::uint32_t known = kClientFixedNewstyle | kClientNoZeroes;
  if ((client_flags & ~known) != 0) {
    return Status::Corruption("client set unknown flags " + std::to_string(client_flags));
  }
  client_flags_ = client_flags;
  return Status::Ok();
}

OptionOutcome Negotiator::HandleOption(std::uint32_t option, std::string_view payload) {
  if (++options_seen_ > options_.max_options) {
    return Close({}, "more than " + std::to_string(options_.max_options) + " options");
  }
  switch (static_cast<Option>(option)) {
    case Option::kExportName: return HandleExportName(payload);
    case Option::kAbort: {
      // The client may hang up without reading the ACK; the connection ignores that.
      return Close(EncodeOptionReply(option, OptionReply::kAck), "client sent NBD_OPT_ABORT");
    }
    case Option::kList: return HandleList(option, payload);
    case Option::kStartTls:
      if (!payload.empty()) {
        return ErrorReply(option, OptionReply::kErrInvalid, "STARTTLS takes no data");
      }
      return ErrorReply(option, OptionReply::kErrPolicy, "TLS is not enabled on this server");
    case Option::kInfo:
    case Option::kGo: return HandleInfoOrGo(option, payload);
    case Option::kStructuredReply:
      if (!payload.empty()) {
        return ErrorReply(option, OptionReply::kErrInvalid, "STRUCTURED_REPLY takes no data");
      }
      structured_replies_ = true;
      return Reply(EncodeOptionReply(option, OptionReply::kAck));
    default:
      return ErrorReply(option, OptionReply::kErrUnsup,
                        "option " + std::to_string(option) + " is not supported");
  }
}

Result<OpenedExport> Negotiator::OpenExport(std::string_view name) {
  if (!ValidName(name)) return Status::InvalidArgument("invalid export name");
  ZEROFS_ASSIGN_OR_RETURN(OpenedExport opened, provider_.Open(name));
  if (opened.device == nullptr) return Status::Internal("export provider returned no device");
  ZEROFS_RETURN_IF_ERROR(ValidateCapabilities(opened.device->Capabilities())
                             .WithContext("export '" + opened.name + "'"));
  return opened;
}

Session Negotiator::MakeSession(OpenedExport opened) const {
  Session s;
  s.export_name = std::move(opened.name);
  s.device = std::move(opened.device);
  s.size_bytes = s.device->Size();
  s.caps = s.device->Capabilities();
  if (options_.force_read_only) s.caps.read_only = true;
  // The server's cap on payloads, kept a multiple of the minimum block size and no smaller
  // than the preferred one (both powers of two), as proto.md requires of a maximum.
  std::uint32_t cap =
      std::max({options_.max_request_bytes, s.caps.min_block_bytes, s.caps.preferred_block_bytes});
  cap -= cap % s.caps.min_block_bytes;
  s.caps.max_block_bytes = std::min(s.caps.max_block_bytes, cap);
  s.structured_replies = structured_replies_;
  s.transmission_flags = TransmissionFlags(s.caps, structured_replies_);
  return s;
}

OptionOutcome Negotiator::HandleExportName(std::string_view payload) {
  Result<OpenedExport> opened = OpenExport(payload);
  if (!opened.ok()) {
    // NBD_OPT_EXPORT_NAME cannot report an error: the protocol says to hang up.
    return Close({}, "NBD_OPT_EXPORT_NAME '" + std::string(payload.substr(0, 256)) +
                         "': " + opened.status().ToString());
  }
  OptionOutcome out;
  out.session = MakeSession(std::move(opened).value());
  out.reply = EncodeExportNameReply(out.session->size_bytes, out.session->transmission_flags,
                                    (client_flags_ & kClientNoZeroes) != 0);
  out.next = OptionOutcome::Next::kTransmission;
  out.note = "NBD_OPT_EXPORT_NAME";
  return out;
}

OptionOutcome Negotiator::HandleList(std::uint32_t option, std::string_view payload) {
  if (!payload.empty()) return ErrorReply(option, OptionReply::kErrInvalid, "LIST takes no data");
  Result<std::vector<ExportSummary>> list = provider_.List();
  if (!list.ok()) {
    return ErrorReply(option, ReplyForStatus(list.status()), list.status().message());
  }
  std::string bytes;
  for (const ExportSummary& e : *list) {
    if (!ValidName(e.name)) continue;
    std::string_view description = e.description;
    description = description.substr(0, kMaxStringBytes);
    bytes +=
        EncodeOptionReply(option, OptionReply::kServer, EncodeServerEntry(e.name, description));
  }
  bytes += EncodeOptionReply(option, OptionReply::kAck);
  return Reply(std::move(bytes));
}

OptionOutcome Negotiator::HandleInfoOrGo(std::uint32_t option, std::string_view payload) {
  Result<InfoRequest> request = DecodeInfoRequest(payload);
  if (!request.ok()) {
    return ErrorReply(option, OptionReply::kErrInvalid, request.status().message());
  }
  Result<OpenedExport> opened = OpenExport(request->name);
  if (!opened.ok()) {
    std::string message = opened.status().IsNotFound()
                              ? "no export named '" + request->name.substr(0, 256) + "'"
                              : opened.status().message();
    return ErrorReply(option, ReplyForStatus(opened.status()), message);
  }
  std::string description = opened->description;
  Session session = MakeSession(std::move(opened).value());
  const auto wants = [&](InfoType t) {
    return std::find(request->items.begin(), request->items.end(), static_cast<std::uint16_t>(t)) !=
           request->items.end();
  };
  std::string bytes = EncodeOptionReply(
      option, OptionReply::kInfo, EncodeInfoExport(session.size_bytes, session.transmission_flags));
  if (wants(InfoType::kName)) {
    bytes += EncodeOptionReply(option, OptionReply::kInfo,
                               EncodeInfoString(InfoType::kName, session.export_name));
  }
  if (wants(InfoType::kDescription) && !description.empty()) {
    bytes += EncodeOptionReply(option, OptionReply::kInfo,
                               EncodeInfoString(InfoType::kDescription, description));
  }
  // Sent even when not requested (allowed by proto.md); the constraints are enforced with
  // EINVAL either way, so clients that ignore them still get clean errors.
  bytes += EncodeOptionReply(
      option, OptionReply::kInfo,
      EncodeInfoBlockSize(session.caps.min_block_bytes, session.caps.preferred_block_bytes,
                          session.caps.max_block_bytes));
  bytes += EncodeOptionReply(option, OptionReply::kAck);
  OptionOutcome out = Reply(std::move(bytes));
  if (static_cast<Option>(option) == Option::kGo) {
    out.next = OptionOutcome::Next::kTransmission;
    out.session = std::move(session);
    out.note = "NBD_OPT_GO";
  }
  return out;
}

}  // namespace zerofs::nbd
