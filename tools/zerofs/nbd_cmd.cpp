// zerofs nbd create | list | resize | delete: the block devices of a volume.
//
//   zerofs nbd create --config FILE NAME SIZE      sparse device, e.g. vm1 10G
//   zerofs nbd list   --config FILE [--json]
//   zerofs nbd resize --config FILE NAME SIZE [--shrink]
//   zerofs nbd delete --config FILE NAME
//
// Each device is a file in /.nbd/ of the volume (nbd::ExportAdmin). When a server serves the
// volume and answers on its control socket (control_client.h), the command goes through it,
// so the change is served at once and the server is not disturbed. Otherwise the command
// opens the volume itself (volume_access.h): create, resize and delete as its writer, which
// is refused with exit 6 ("volume in use") while a server without a reachable control
// socket serves the volume; `list` opens a read replica. The password comes from the config
// (storage.password / password_file), else --password-file, else ZEROFS_PASSWORD, never
// from the command line.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "commands.h"
#include "control_client.h"
#include "volume_access.h"
#include "zerofs/nbd/export_admin.h"
#include "zerofs/nbd/memory_export_provider.h"
#include "zerofs/server/volume.h"

namespace zerofs::cli {
namespace {

struct NbdOptions {
  VolumeAccessOptions access;
  std::string control_socket;
  std::string name;
  std::string size;
  bool json = false;
  bool shrink = false;
};

enum class NbdOp { kCreate, kList, kResize, kDelete };

std::string HumanBytes(std::uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof(text), unit == 0 ? "%.0f %s" : "%.1f %s", value, kUnits[unit]);
  return text;
}

void PrintList(const std::vector<nbd::ExportInfo>& exports, bool json) {
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const nbd::ExportInfo& e : exports) {
      out.push_back({{"name", e.name}, {"size", e.size_bytes}});
    }
    std::printf("%s\n", out.dump(2).c_str());
    return;
  }
  std::printf("%-32s %16s %12s\n", "NAME", "SIZE_BYTES", "SIZE");
  for (const nbd::ExportInfo& e : exports) {
    std::printf("%-32s %16llu %12s\n", e.name.c_str(),
                static_cast<unsigned long long>(e.size_bytes), HumanBytes(e.size_bytes).c_str());
  }
}

void PrintChanged(const char* verb, const nbd::ExportInfo& info) {
  std::printf("%s export %s, %s (%llu bytes)\n", verb, info.name.c_str(),
              HumanBytes(info.size_bytes).c_str(),
              static_cast<unsigned long long>(info.size_bytes));
}

nbd::ExportInfo InfoFromJson(const nlohmann::json& j) {
  nbd::ExportInfo info;
  info.name = j.value("name", std::string());
  info.size_bytes = j.value("size", std::uint64_t{0});
  return info;
}

// The same operations through a running server's control socket (nbd.* operations).
int RunThroughServer(NbdOp op, const NbdOptions& opts, const std::string& socket,
                     std::uint64_t size) {
  nlohmann::json args = nlohmann::json::object();
  const char* name = "nbd.list";
  switch (op) {
    case NbdOp::kCreate:
      name = "nbd.create";
      args = {{"name", opts.name}, {"size", size}};
      break;
    case NbdOp::kList:
      break;
    case NbdOp::kResize:
      name = "nbd.resize";
      args = {{"name", opts.name}, {"size", size}, {"allow_shrink", opts.shrink}};
      break;
    case NbdOp::kDelete:
      name = "nbd.delete";
      args = {{"name", opts.name}};
      break;
  }
  auto reply = CallServer(socket, name, args);
  if (!reply.ok()) {
    if (reply.status().code() == StatusCode::kNotSupported) {
      return ReportError(Status::NotSupported("the server on " + socket +
                                              " does not serve NBD (start it with NBD enabled)"));
    }
    return ReportError(reply.status());
  }
  switch (op) {
    case NbdOp::kCreate:
      PrintChanged("created", InfoFromJson(*reply));
      break;
    case NbdOp::kList: {
      std::vector<nbd::ExportInfo> exports;
      for (const auto& e : reply->value("exports", nlohmann::json::array())) {
        exports.push_back(InfoFromJson(e));
      }
      PrintList(exports, opts.json);
      break;
    }
    case NbdOp::kResize:
      PrintChanged("resized", InfoFromJson(*reply));
      break;
    case NbdOp::kDelete:
      std::printf("deleted export %s\n", opts.name.c_str());
      break;
  }
  return 0;
}

int Run(NbdOp op, const NbdOptions& opts) {
  std::uint64_t size = 0;
  if (op == NbdOp::kCreate || op == NbdOp::kResize) {
    auto parsed = nbd::ParseByteSize(opts.size);
    if (!parsed.ok()) return ReportError(parsed.status().WithContext("SIZE"));
    size = *parsed;
    Status valid = nbd::ValidateExportSize(size);
    if (!valid.ok()) return ReportError(valid);
  }
  if (op != NbdOp::kList) {
    Status valid = nbd::ValidateExportName(opts.name);
    if (!valid.ok()) return ReportError(valid);
  }
  if (auto socket = ServingServer(opts.control_socket, opts.access.config_path,
                                  opts.access.flags.url)) {
    return RunThroughServer(op, opts, *socket, size);
  }
  // A replica never fences the writer, so listing works while a server runs.
  auto served = OpenCliVolume(opts.access, /*read_only=*/op == NbdOp::kList);
  if (!served.ok()) {
    const int code = ReportError(served.status());
    return IsVolumeInUse(served.status()) ? kExitVolumeInUse : code;
  }
  nbd::ExportAdmin admin((*served)->filesystem());

  Status result = Status::Ok();
  switch (op) {
    case NbdOp::kCreate: {
      auto info = admin.Create(opts.name, size);
      result = info.status();
      if (info.ok()) PrintChanged("created", *info);
      break;
    }
    case NbdOp::kList: {
      auto exports = admin.List();
      result = exports.status();
      if (exports.ok()) PrintList(*exports, opts.json);
      break;
    }
    case NbdOp::kResize: {
      auto info = admin.Resize(opts.name, size, opts.shrink);
      result = info.status();
      if (info.ok()) PrintChanged("resized", *info);
      break;
    }
    case NbdOp::kDelete:
      result = admin.Delete(opts.name);
      if (result.ok()) std::printf("deleted export %s\n", opts.name.c_str());
      break;
  }
  Status closed = (*served)->Close();
  if (!result.ok()) return ReportError(result);
  if (!closed.ok()) return ReportError(closed.WithContext("closing the volume"));
  return 0;
}

}  // namespace

void AddNbdCommands(CLI::App& app, CommandRunner& run) {
  auto opts = std::make_shared<NbdOptions>();
  CLI::App* nbd = app.add_subcommand(
      "nbd",
      "Manage the block devices (NBD exports) of a volume: files in /.nbd/.\n"
      "When a server serving the volume answers on its control socket (--control-socket,\n"
      "[control] socket, or the default), the command goes through it and the device is\n"
      "served at once. Otherwise create, resize and delete open the volume as its writer\n"
      "(exit 6, volume in use, while another process serves it) and list opens a replica.\n"
      "SIZE: bytes with an optional K, M, G or T suffix (powers of 1024), a multiple of 512.");
  nbd->require_subcommand(1);

  CLI::App* create = nbd->add_subcommand("create", "Create a sparse device NAME of SIZE bytes");
  create->add_option("NAME", opts->name, "export name (no '/', at most 255 bytes)")->required();
  create->add_option("SIZE", opts->size, "device size, e.g. 10G")->required();
  AddVolumeAccessOptions(create, opts->access, false);
  AddTakeoverOption(create, opts->access);
  AddControlSocketOption(create, opts->control_socket);
  create->callback([&run, opts] { run = [opts] { return Run(NbdOp::kCreate, *opts); }; });

  CLI::App* list = nbd->add_subcommand("list", "List the devices with their sizes");
  list->add_flag("--json", opts->json, "print a JSON array of {name, size}");
  AddVolumeAccessOptions(list, opts->access, false);
  AddControlSocketOption(list, opts->control_socket);
  list->callback([&run, opts] { run = [opts] { return Run(NbdOp::kList, *opts); }; });

  CLI::App* resize = nbd->add_subcommand(
      "resize",
      "Grow (or with --shrink, shrink) device NAME to SIZE bytes; clients see the new "
      "size when they reconnect");
  resize->add_option("NAME", opts->name, "export name")->required();
  resize->add_option("SIZE", opts->size, "new size")->required();
  resize->add_flag("--shrink", opts->shrink, "allow a smaller size (discards the data past it)");
  AddVolumeAccessOptions(resize, opts->access, false);
  AddTakeoverOption(resize, opts->access);
  AddControlSocketOption(resize, opts->control_socket);
  resize->callback([&run, opts] { run = [opts] { return Run(NbdOp::kResize, *opts); }; });

  CLI::App* del = nbd->add_subcommand(
      "delete",
      "Delete device NAME and release its storage (connected clients keep it until "
      "they disconnect)");
  del->add_option("NAME", opts->name, "export name")->required();
  AddVolumeAccessOptions(del, opts->access, false);
  AddTakeoverOption(del, opts->access);
  AddControlSocketOption(del, opts->control_socket);
  del->callback([&run, opts] { run = [opts] { return Run(NbdOp::kDelete, *opts); }; });
}

}  // namespace zerofs::cli
