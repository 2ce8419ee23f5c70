// zerofs flush | stats: ask a running server (zerofs run, zerofs-nfs, zerofs-9p, zerofs-nbd
// with a control socket) to make everything durable, or for its counters.
#include <cstdio>
#include <memory>
#include <string>

#include "commands.h"
#include "control_client.h"

namespace zerofs::cli {

namespace {

struct ControlOptions {
  std::string config_path;
  std::string socket;
  bool json = false;
};

// "stats" as indented "key: value" lines, nested objects indented further.
void PrintTree(const nlohmann::json& value, int depth) {
  for (auto it = value.begin(); it != value.end(); ++it) {
    if (it->is_object()) {
      std::printf("%*s%s:\n", depth * 2, "", it.key().c_str());
      PrintTree(*it, depth + 1);
    } else {
      std::printf("%*s%s: %s\n", depth * 2, "", it.key().c_str(),
                  it->is_string() ? it->get<std::string>().c_str() : it->dump().c_str());
    }
  }
}

int Call(const ControlOptions& opts, const char* op) {
  auto path = ControlSocketPath(opts.socket, opts.config_path);
  if (!path.ok()) return ReportError(path.status());
  auto reply = CallServer(*path, op, nlohmann::json::object());
  if (!reply.ok()) return ReportError(reply.status());
  if (opts.json) {
    std::printf("%s\n", reply->dump(2).c_str());
  } else if (std::string(op) == "flush") {
    std::printf("flushed: durable through seq %s in %.3f s\n",
                (*reply)["durable_seq"].dump().c_str(), (*reply).value("seconds", 0.0));
  } else {
    PrintTree(*reply, 0);
  }
  return 0;
}

CLI::App* AddOne(CLI::App& app, CommandRunner& run, const char* name, const char* help) {
  auto opts = std::make_shared<ControlOptions>();
  CLI::App* cmd = app.add_subcommand(name, help);
  cmd->add_option("--config", opts->config_path, "config file naming [control] socket");
  AddControlSocketOption(cmd, opts->socket);
  cmd->add_flag("--json", opts->json, "print the server's reply as JSON");
  cmd->callback([opts, &run, name] { run = [opts, name] { return Call(*opts, name); }; });
  return cmd;
}

}  // namespace

void AddControlCommands(CLI::App& app, CommandRunner& run) {
  AddOne(app, run, "flush",
         "Make every change the running server has acknowledged durable in the bucket.");
  AddOne(app, run, "stats",
         "Show the running server's counters: volume (sequence numbers, buffered bytes,\n"
         "object-store requests and bytes), and per protocol (connections, requests, errors).");
}

}  // namespace zerofs::cli
