// Negotiator: the handshake (option haggling) of one NBD connection as a state machine.
//
// The connection sends Greeting(), feeds the client flags to AcceptClientFlags(), then
// each option to HandleOption(), and writes OptionOutcome::reply. The outcome says whether
// to keep haggling, to close the connection (NBD_OPT_ABORT, an unknown export after
// NBD_OPT_EXPORT_NAME, too many options) or to enter transmission with a Session
// (NBD_OPT_GO, NBD_OPT_EXPORT_NAME). Supported: EXPORT_NAME, ABORT, LIST, INFO, GO,
// STRUCTURED_REPLY; STARTTLS is refused with ERR_POLICY and every other option with
// ERR_UNSUP, after which the client may go on.
//
// Exports are looked up in the ExportProvider for every LIST/INFO/GO, never cached.
// Thread-safety: one Negotiator per connection, used from one thread at a time. The
// provider must outlive it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "zerofs/common/status.h"
#include "zerofs/nbd/export_provider.h"
#include "zerofs/nbd/transmission.h"

namespace zerofs::nbd {

struct NegotiatorOptions {
  bool force_read_only = false;  // every export is offered read-only
  // Cap on READ/WRITE payloads, whatever the device allows (advertised as maximum block).
  std::uint32_t max_request_bytes = kDefaultMaxBlockBytes;
  // Options accepted on one connection before it is closed as abusive.
  std::uint32_t max_options = 4096;
};

struct OptionOutcome {
  enum class Next : std::uint8_t { kContinue, kClose, kTransmission };
  Next next = Next::kContinue;
  std::string reply;               // bytes to send before acting on `next`
  std::optional<Session> session;  // with kTransmission
  std::string note;                // why (for the log) when closing or entering transmission
};

class Negotiator {
 public:
  Negotiator(ExportProvider& provider, NegotiatorOptions options);

  // The server's first 18 bytes (fixed newstyle, no zeroes offered).
  static std::string Greeting();

  // Corruption for flags a server must refuse; the connection is then closed.
  Status AcceptClientFlags(std::uint32_t client_flags);

  OptionOutcome HandleOption(std::uint32_t option, std::string_view payload);

  bool structured_replies() const { return structured_replies_; }

 private:
  OptionOutcome HandleExportName(std::string_view payload);
  OptionOutcome HandleList(std::uint32_t option, std::string_view payload);
  OptionOutcome HandleInfoOrGo(std::uint32_t option, std::string_view payload);
  // Opens an export and applies server policy; the Session has no flags yet.
  Result<OpenedExport> OpenExport(std::string_view name);
  Session MakeSession(OpenedExport opened) const;

  ExportProvider& provider_;
  NegotiatorOptions options_;
  std::uint32_t client_flags_ = 0;
  std::uint32_t options_seen_ = 0;
  bool structured_replies_ = false;
};

}  // namespace zerofs::nbd
