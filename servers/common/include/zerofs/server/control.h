// The control socket: how `zerofs flush|stats|gc|checkpoint|nbd ...` talk to a running
// server. A Unix stream socket, mode 0600 (only its owner, normally root, may connect),
// carrying one JSON object per line:
//
//   request:   {"op": "stats", "args": {...}}
//   progress:  {"progress": {...}}                      (zero or more, for long operations)
//   reply:     {"ok": true, "result": {...}}
//           or {"ok": false, "code": "not_found", "error": "no export 'vm1'"}
//
// A connection may carry several requests, answered in order. Requests and connections are
// bounded (a request line at most 64 KiB, at most 16 connections); a malformed line gets an
// error reply and the connection stays usable.
//
// Thread-safety: Register before Start; Stop from any thread; operations run on the
// connection's own thread, so a long one (gc) does not block others.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "zerofs/common/result.h"
#include "zerofs/common/status.h"

namespace zerofs::server {

// Reports progress of a long operation to the client (sent as a progress line).
using ControlProgress = std::function<void(const nlohmann::json& progress)>;
using ControlHandler =
    std::function<Result<nlohmann::json>(const nlohmann::json& args, const ControlProgress&)>;

// The names the codes travel under, and back.
std::string_view ControlCodeName(StatusCode code);
StatusCode ControlCodeFromName(std::string_view name);

class ControlServer {
 public:
  explicit ControlServer(std::string socket_path);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // `op` as in the request; `summary` is what "help" lists.
  void Register(std::string op, std::string summary, ControlHandler handler);

  // Creates the socket (and its directory, mode 0700, if missing). Fails if another server
  // answers on the path; a stale socket file is replaced.
  Status Start();
  void Stop();
  const std::string& path() const { return path_; }

 private:
  class Impl;
  std::string path_;
  std::unique_ptr<Impl> impl_;
};

// Sends one request and waits for its reply (printing nothing; progress lines go to
// `progress` if given). kUnavailable when nothing listens on the path; the remote error's
// code and message otherwise.
Result<nlohmann::json> CallControl(const std::string& socket_path, std::string_view op,
                                   const nlohmann::json& args,
                                   const ControlProgress& progress = nullptr,
                                   std::chrono::milliseconds timeout = std::chrono::hours(24));

// The control socket path when neither a flag nor [control] socket names one:
// /run/zerofs/control.sock for root, else $XDG_RUNTIME_DIR/zerofs/control.sock (or
// /tmp/zerofs-<uid>/control.sock).
std::string DefaultControlSocket();

}  // namespace zerofs::server
