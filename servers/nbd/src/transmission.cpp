// Validation and execution of NBD transmission requests; see transmission.h.
#include "zerofs/nbd/transmission.h"

#include <utility>

namespace zerofs::nbd {
namespace {

bool IsWriteCommand(Command c) {
  return c == Command::kWrite || c == Command::kTrim || c == Command::kWriteZeroes;
}

bool Has(std::uint16_t flags, std::uint16_t bit) {
  return (flags & bit) != 0;
}

// The error for a device Status: ENOTSUP is reserved for FAST_ZERO requests (proto.md);
// elsewhere an unsupported operation is EINVAL for hints (TRIM, CACHE) and EIO otherwise.
Error DeviceError(Command cmd, std::uint16_t flags, const Status& status) {
  Error error = ErrorForStatus(status);
  if (error != Error::kNotSup) return error;
  if (cmd == Command::kWriteZeroes && Has(flags, kCmdFlagFastZero)) return error;
  return cmd == Command::kTrim || cmd == Command::kCache ? Error::kInval : Error::kIo;
}

Error Fail(Error error, std::string text, std::string* message) {
  if (message != nullptr) *message = std::move(text);
  return error;
}

}  // namespace

std::uint16_t TransmissionFlags(const BlockDeviceCapabilities& caps, bool structured_replies) {
  std::uint16_t flags = kTxHasFlags;
  const bool writable = !caps.read_only;
  if (!writable) flags |= kTxReadOnly;
  if (caps.can_flush) flags |= kTxSendFlush;
  if (caps.can_flush && writable) flags |= kTxSendFua;
  if (caps.rotational) flags |= kTxRotational;
  if (caps.can_trim && writable) flags |= kTxSendTrim;
  if (caps.can_zero && writable) {
    // Advertised even when the device can never zero fast: a quick ENOTSUP is exactly what
    // a client probing with FAST_ZERO needs to learn (proto.md, NBD_FLAG_SEND_FAST_ZERO).
    flags |= kTxSendWriteZeroes | kTxSendFastZero;
  }
  if (structured_replies) flags |= kTxSendDf;
  if (caps.can_multi_conn) flags |= kTxCanMultiConn;
  if (caps.can_cache) flags |= kTxSendCache;
  return flags;
}

Error ErrorForStatus(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return Error::kOk;
    case StatusCode::kInvalidArgument: return Error::kInval;
    case StatusCode::kNoSpace: return Error::kNoSpc;
    case StatusCode::kPermissionDenied: return Error::kPerm;
    case StatusCode::kCancelled: return Error::kShutdown;
    case StatusCode::kNotSupported: return Error::kNotSup;
    default: return Error::kIo;
  }
}

Error ValidateRequest(const Session& session, const Request& request, std::string* message) {
  const std::uint16_t tx = session.transmission_flags;
  const auto cmd = static_cast<Command>(request.type);
  std::uint16_t allowed = Has(tx, kTxSendFua) ? kCmdFlagFua : 0;
  bool ranged = true;
  switch (cmd) {
    case Command::kRead:
      if (Has(tx, kTxSendDf)) allowed |= kCmdFlagDf;
      break;
    case Command::kWrite: break;
    case Command::kFlush:
      if (!Has(tx, kTxSendFlush)) return Fail(Error::kInval, "FLUSH was not advertised", message);
      ranged = false;
      break;
    case Command::kTrim:
      if (!Has(tx, kTxSendTrim) && !session.caps.read_only) {
        return Fail(Error::kInval, "TRIM was not advertised", message);
      }
      break;
    case Command::kCache: break;  // harmless; some clients send it without the flag
    case Command::kWriteZeroes:
      if (!Has(tx, kTxSendWriteZeroes) && !session.caps.read_only) {
        return Fail(Error::kInval, "WRITE_ZEROES was not advertised", message);
      }
      allowed |= kCmdFlagNoHole;
      if (Has(tx, kTxSendFastZero)) allowed |= kCmdFlagFastZero;
      break;
    default:
      return Fail(Error::kInval, "unknown or unsupported command " + std::to_string(request.type),
                  message);
  }
  if ((request.flags & ~allowed) != 0) {
    return Fail(Error::kInval,
                "flags " + std::to_string(request.flags) + " not valid for " +
                    std::string(CommandName(request.type)),
                message);
  }
  if (IsWriteCommand(cmd) && session.caps.read_only) {
    return Fail(Error::kPerm, "the export is read-only", message);
  }
  if (!ranged) {
    if (request.offset != 0 || request.length != 0) {
      return Fail(Error::kInval, "FLUSH must have zero offset and length", message);
    }
    return Error::kOk;
  }
  const std::uint64_t size = session.size_bytes;
  if (request.offset > size || request.length > size - request.offset) {
    const bool writes = cmd == Command::kWrite || cmd == Command::kWriteZeroes;
    return Fail(writes ? Error::kNoSpc : Error::kInval,
                "range " + std::to_string(request.offset) + "+" + std::to_string(request.length) +
                    " is beyond the end of the export (" + std::to_string(size) + " bytes)",
                message);
  }
  const std::uint32_t min_block = session.caps.min_block_bytes;
  if (min_block > 1 && (request.offset % min_block != 0 || request.length % min_block != 0)) {
    return Fail(Error::kInval,
                "offset and length must be multiples of the minimum block size " +
                    std::to_string(min_block),
                message);
  }
  const bool payload_sized =
      cmd == Command::kRead || cmd == Command::kWrite || cmd == Command::kCache;
  if (payload_sized && request.length > session.caps.max_block_bytes) {
    return Fail(Error::kInval,
                "length " + std::to_string(request.length) + " exceeds the maximum block size " +
                    std::to_string(session.caps.max_block_bytes),
                message);
  }
  return Error::kOk;
}

EncodedReply ErrorReply(const Session& session, const Request& request, Error error,
                        std::string_view message) {
  if (session.structured_replies) return StructuredErrorReply(request.cookie, error, message);
  return SimpleReply(request.cookie, error);
}

EncodedReply ExecuteRequest(const Session& session, const Request& request, std::string payload) {
  BlockDevice& dev = *session.device;
  const bool fua = Has(request.flags, kCmdFlagFua) && Has(session.transmission_flags, kTxSendFua);
  const auto cmd = static_cast<Command>(request.type);
  if (cmd == Command::kRead) {
    if (request.length == 0) {
      return session.structured_replies
                 ? StructuredReadReply(request.cookie, request.offset, {}, false)
                 : SimpleReply(request.cookie, Error::kOk);
    }
    Result<std::string> data = dev.Read(request.offset, request.length);
    if (data.ok() && data->size() != request.length) {
      data = Status::Internal("device returned " + std::to_string(data->size()) + " bytes for a " +
                              std::to_string(request.length) + "-byte read");
    }
    if (!data.ok()) {
      return ErrorReply(session, request, DeviceError(cmd, request.flags, data.status()),
                        data.status().message());
    }
    if (session.structured_replies) {
      return StructuredReadReply(request.cookie, request.offset, std::move(data).value(),
                                 Has(request.flags, kCmdFlagDf));
    }
    return SimpleReply(request.cookie, Error::kOk, std::move(data).value());
  }
  if (request.length == 0 && cmd != Command::kFlush) {
    return SimpleReply(request.cookie, Error::kOk);  // nothing to do (proto.md: no disconnect)
  }
  Status status;
  switch (cmd) {
    case Command::kWrite: status = dev.Write(request.offset, payload, fua); break;
    case Command::kFlush: status = dev.Flush(); break;
    case Command::kTrim: status = dev.Trim(request.offset, request.length, fua); break;
    case Command::kCache: status = dev.Cache(request.offset, request.length); break;
    case Command::kWriteZeroes: {
      const bool fast = Has(request.flags, kCmdFlagFastZero);
      if (fast && !session.caps.can_fast_zero) {
        // Fail fast without asking the device (proto.md: ENOTSUP, contents unchanged).
        return ErrorReply(session, request, Error::kNotSup,
                          "zeroing is not faster than writing on this export");
      }
      status = dev.WriteZeroes(request.offset, request.length, Has(request.flags, kCmdFlagNoHole),
                               fast, fua);
      break;
    }
    default: return ErrorReply(session, request, Error::kInval, "unsupported command");
  }
  if (status.ok()) return SimpleReply(request.cookie, Error::kOk);
  return ErrorReply(session, request, DeviceError(cmd, request.flags, status), status.message());
}

}  // namespace zerofs::nbd
