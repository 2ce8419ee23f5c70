// zerofs checkpoint create|list|info|delete: named, frozen states of a volume.
//
//   zerofs checkpoint create NAME --config FILE [--url URL] [--json]
//   zerofs checkpoint list        --config FILE [--url URL] [--json]
//   zerofs checkpoint info NAME   --config FILE [--url URL] [--json]
//   zerofs checkpoint delete NAME --config FILE [--url URL]
//
// create and delete open the volume as the writer (refused with exit 6, "volume in use",
// while a server serves it; its control socket does the same in place); list and info open
// a read replica and work any time.
// A checkpoint is served read-only with `--checkpoint NAME` on any server.
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>

#include "commands.h"
#include "control_client.h"
#include "volume_access.h"
#include "zerofs/engine/volume.h"

namespace zerofs::cli {
namespace {

struct CheckpointOptions {
  VolumeAccessOptions access;
  std::string name;
  bool json = false;
  std::string control_socket;
};

std::string Utc(std::uint64_t unix_ms) {
  const auto secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

nlohmann::ordered_json InfoJson(const engine::CheckpointInfo& c) {
  nlohmann::ordered_json j;
  j["name"] = c.name;
  j["created_unix_ms"] = c.created_unix_ms;
  j["created"] = Utc(c.created_unix_ms);
  j["covers_seq"] = c.covers_seq;
  j["segments"] = c.segment_count;
  return j;
}

void PrintInfo(const engine::CheckpointInfo& c) {
  std::printf("%-32s %s  seq %llu  %llu segments\n", c.name.c_str(), Utc(c.created_unix_ms).c_str(),
              static_cast<unsigned long long>(c.covers_seq),
              static_cast<unsigned long long>(c.segment_count));
}

enum class Action { kCreate, kList, kInfo, kDelete };

engine::CheckpointInfo InfoFromServer(const nlohmann::json& j) {
  engine::CheckpointInfo c;
  c.name = j.value("name", std::string());
  c.created_unix_ms = j.value("created_unix_ms", std::uint64_t{0});
  c.covers_seq = j.value("covers_seq", std::uint64_t{0});
  c.segment_count = j.value("segment_count", std::uint64_t{0});
  return c;
}

// The same actions through the control socket of the server that serves the volume.
int RunThroughServer(Action action, const CheckpointOptions& opts, const std::string& socket) {
  static constexpr const char* kOps[] = {"checkpoint.create", "checkpoint.list",
                                         "checkpoint.info", "checkpoint.delete"};
  nlohmann::json args = nlohmann::json::object();
  if (action != Action::kList) args["name"] = opts.name;
  auto reply = CallServer(socket, kOps[static_cast<int>(action)], args);
  if (!reply.ok()) return ReportError(reply.status());
  switch (action) {
    case Action::kCreate:
    case Action::kInfo: {
      const engine::CheckpointInfo info = InfoFromServer(*reply);
      if (opts.json) {
        std::printf("%s\n", InfoJson(info).dump(2).c_str());
      } else {
        if (action == Action::kCreate) std::printf("created checkpoint\n");
        PrintInfo(info);
      }
      break;
    }
    case Action::kList: {
      nlohmann::ordered_json j = nlohmann::ordered_json::array();
      for (const auto& c : reply->value("checkpoints", nlohmann::json::array())) {
        if (opts.json) {
          j.push_back(InfoJson(InfoFromServer(c)));
        } else {
          PrintInfo(InfoFromServer(c));
        }
      }
      if (opts.json) std::printf("%s\n", j.dump(2).c_str());
      break;
    }
    case Action::kDelete:
      std::printf("deleted checkpoint %s (its space is reclaimed by the next gc)\n",
                  opts.name.c_str());
      break;
  }
  return 0;
}

int Run(Action action, const CheckpointOptions& opts) {
  if (auto socket = ServingServer(opts.control_socket, opts.access.config_path,
                                  opts.access.flags.url)) {
    return RunThroughServer(action, opts, *socket);
  }
  const bool writes = action == Action::kCreate || action == Action::kDelete;
  auto opened = OpenCliVolume(opts.access, /*read_only=*/!writes);
  if (!opened.ok()) {
    const int code = ReportError(opened.status());
    return IsVolumeInUse(opened.status()) ? kExitVolumeInUse : code;
  }
  engine::Volume& volume = (*opened)->volume();
  int exit_code = 0;
  switch (action) {
    case Action::kCreate:
    case Action::kInfo: {
      auto info = action == Action::kCreate ? volume.CreateCheckpoint(opts.name)
                                            : volume.GetCheckpoint(opts.name);
      if (!info.ok()) {
        exit_code = ReportError(info.status());
        break;
      }
      if (opts.json) {
        std::printf("%s\n", InfoJson(*info).dump(2).c_str());
      } else {
        if (action == Action::kCreate) std::printf("created checkpoint\n");
        PrintInfo(*info);
      }
      break;
    }
    case Action::kList: {
      auto list = volume.ListCheckpoints();
      if (!list.ok()) {
        exit_code = ReportError(list.status());
        break;
      }
      if (opts.json) {
        nlohmann::ordered_json j = nlohmann::ordered_json::array();
        for (const auto& c : *list) j.push_back(InfoJson(c));
        std::printf("%s\n", j.dump(2).c_str());
      } else {
        for (const auto& c : *list) PrintInfo(c);
      }
      break;
    }
    case Action::kDelete: {
      Status s = volume.DeleteCheckpoint(opts.name);
      if (!s.ok()) {
        exit_code = ReportError(s);
        break;
      }
      std::printf("deleted checkpoint %s (its space is reclaimed by the next gc)\n",
                  opts.name.c_str());
      break;
    }
  }
  Status closed = (*opened)->Close();
  if (exit_code == 0 && !closed.ok()) return ReportError(closed);
  return exit_code;
}

}  // namespace

void AddCheckpointCommand(CLI::App& app, CommandRunner& run) {
  CLI::App* cmd = app.add_subcommand(
      "checkpoint",
      "Named, frozen states of the volume. Serve one read-only with --checkpoint NAME.\n"
      "When a server serving the volume answers on its control socket, the command goes\n"
      "through it; otherwise it opens the volume (create and delete as the writer: exit 6\n"
      "while another process serves it).");
  cmd->require_subcommand(1);
  struct Sub {
    const char* name;
    const char* help;
    Action action;
    bool takes_name;
  };
  const Sub subs[] = {
      {"create", "flush, snapshot the index and freeze the state as NAME (names are unique)",
       Action::kCreate, true},
      {"list", "list the checkpoints", Action::kList, false},
      {"info", "show one checkpoint", Action::kInfo, true},
      {"delete", "delete NAME; gc then reclaims the space only it kept", Action::kDelete, true},
  };
  for (const Sub& sub : subs) {
    auto opts = std::make_shared<CheckpointOptions>();
    CLI::App* c = cmd->add_subcommand(sub.name, sub.help);
    if (sub.takes_name) {
      c->add_option("NAME", opts->name, "checkpoint name: 1..200 of [A-Za-z0-9._-]")->required();
    }
    AddVolumeAccessOptions(c, opts->access, false);
    if (sub.action == Action::kCreate || sub.action == Action::kDelete) {
      AddTakeoverOption(c, opts->access);
    }
    AddControlSocketOption(c, opts->control_socket);
    if (sub.action != Action::kDelete) c->add_flag("--json", opts->json, "print JSON");
    const Action action = sub.action;
    c->callback([&run, opts, action] { run = [opts, action] { return Run(action, *opts); }; });
  }
}

}  // namespace zerofs::cli
