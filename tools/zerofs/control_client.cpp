// Talking to a running server; see control_client.h.
#include "control_client.h"

#include <unistd.h>

#include <cstdio>

#include "zerofs/server/config.h"
#include "zerofs/server/control.h"

namespace zerofs::cli {

void AddControlSocketOption(CLI::App* cmd, std::string& socket_path) {
  cmd->add_option("--control-socket", socket_path,
                  "the running server's control socket (default: [control] socket from "
                  "--config, else " +
                      server::DefaultControlSocket() + ")");
}

Result<std::string> ControlSocketPath(const std::string& flag, const std::string& config_path) {
  if (!flag.empty()) return flag;
  if (!config_path.empty()) {
    ZEROFS_ASSIGN_OR_RETURN(server::Config config, server::LoadConfigFile(config_path));
    if (!config.control_socket.empty()) return config.control_socket;
  }
  return server::DefaultControlSocket();
}

bool ServerAnswers(const std::string& socket_path) {
  auto reply = server::CallControl(socket_path, "help", nlohmann::json::object(), nullptr,
                                   std::chrono::seconds(10));
  return reply.ok();
}

std::optional<std::string> ServingServer(const std::string& socket_flag,
                                         const std::string& config_path, const std::string& url) {
  auto path = ControlSocketPath(socket_flag, config_path);
  if (!path.ok()) return std::nullopt;
  auto volume = server::CallControl(*path, "volume", nlohmann::json::object(), nullptr,
                                    std::chrono::seconds(10));
  if (!volume.ok() || !volume->is_object()) return std::nullopt;
  std::string want = url;
  if (want.empty() && !config_path.empty()) {
    auto config = server::LoadConfigFile(config_path);
    if (config.ok()) want = config->storage.url;
  }
  // Without a URL to compare, the socket the user named decides.
  if (!want.empty() && volume->value("url", std::string()) != want) return std::nullopt;
  return *path;
}

Result<nlohmann::json> CallServer(const std::string& socket_path, std::string_view op,
                                  const nlohmann::json& args) {
  const bool terminal = ::isatty(STDERR_FILENO) != 0;
  bool printed = false;
  server::ControlProgress progress = [&](const nlohmann::json& p) {
    if (!terminal) return;
    std::string line = p.is_object() && p.contains("message") && p["message"].is_string()
                           ? p["message"].get<std::string>()
                           : p.dump();
    if (line.size() > 100) line.resize(100);
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    std::fflush(stderr);
    printed = true;
  };
  auto reply = server::CallControl(socket_path, op, args, progress);
  if (printed) std::fprintf(stderr, "\r\033[K");
  return reply;
}

}  // namespace zerofs::cli
