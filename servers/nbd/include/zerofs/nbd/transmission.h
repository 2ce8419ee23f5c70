// The transmission phase of one NBD connection, without the socket: which requests are
// valid for the negotiated export, how each runs on the BlockDevice, and which bytes
// answer it.
//
// The connection (src/connection.cpp) reads a request header, calls ValidateRequest before
// it commits memory to the request, reads any WRITE payload, then runs ExecuteRequest on a
// worker thread and writes the EncodedReply. Both functions are deterministic given the
// device, so the validation matrix is unit-tested without a network.
//
// Thread-safety: Session is immutable once negotiated and shared (shared_ptr<const>) by
// the connection and its in-flight requests; the functions are stateless.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "zerofs/common/status.h"
#include "zerofs/nbd/block_device.h"
#include "zerofs/nbd/codec.h"

namespace zerofs::nbd {

// The export chosen by NBD_OPT_GO / NBD_OPT_EXPORT_NAME and what was negotiated for it.
struct Session {
  std::string export_name;
  std::shared_ptr<BlockDevice> device;
  std::uint64_t size_bytes = 0;
  BlockDeviceCapabilities caps;  // after server policy (forced read-only, size caps)
  std::uint16_t transmission_flags = 0;
  bool structured_replies = false;
};

// The transmission flags advertised for a device with `caps`.
std::uint16_t TransmissionFlags(const BlockDeviceCapabilities& caps, bool structured_replies);

// Maps a device Status to the NBD error sent to the client: InvalidArgument -> EINVAL,
// NoSpace -> ENOSPC, PermissionDenied -> EPERM, Cancelled -> ESHUTDOWN, NotSupported ->
// ENOTSUP (only meaningful for fast zeroing; elsewhere the caller asks for EINVAL), and
// everything else (I/O, corruption, unavailable, fenced writer) -> EIO.
Error ErrorForStatus(const Status& status);

// Checks a request against the session: command known and advertised, flags valid for the
// command, export writable for writes (EPERM), range inside the export (ENOSPC for writes,
// EINVAL otherwise), offset and length aligned to the minimum block size and READ/WRITE/
// CACHE not longer than the maximum block size (EINVAL). kOk when the request may run.
// `message` receives a human-readable reason for a failure.
Error ValidateRequest(const Session& session, const Request& request, std::string* message);

// Runs a request that passed ValidateRequest; `payload` is the WRITE data (else empty).
EncodedReply ExecuteRequest(const Session& session, const Request& request, std::string payload);

// The reply for a request that fails without running.
EncodedReply ErrorReply(const Session& session, const Request& request, Error error,
                        std::string_view message);

}  // namespace zerofs::nbd
