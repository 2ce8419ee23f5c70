// How the zerofs tool talks to a running server: the control socket it uses (--control-socket,
// else [control] socket from --config, else the default path), and calls with progress shown
// on a terminal.
//
// Commands that can also work on a closed volume (nbd, gc, checkpoint) go through the server
// when one answers on the socket — opening the volume directly would fence it — and open the
// volume themselves otherwise.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "zerofs/common/result.h"

namespace zerofs::cli {

// --control-socket PATH.
void AddControlSocketOption(CLI::App* cmd, std::string& socket_path);

// The socket to use: `flag` if given, else the config file's [control] socket (when
// `config_path` names a file that sets it), else server::DefaultControlSocket().
Result<std::string> ControlSocketPath(const std::string& flag, const std::string& config_path);

// True when a server answers on `socket_path`.
bool ServerAnswers(const std::string& socket_path);

// The control socket of a running server that serves the volume `config_path` / `url`
// name, if one answers there: the socket is --control-socket, else the config's [control]
// socket, else the default; a server serving a different volume does not count.
std::optional<std::string> ServingServer(const std::string& socket_flag,
                                         const std::string& config_path, const std::string& url);

// Sends `op`; progress lines are shown on stderr (one updating line) when it is a terminal.
Result<nlohmann::json> CallServer(const std::string& socket_path, std::string_view op,
                                  const nlohmann::json& args);

}  // namespace zerofs::cli
