// The NBD operations of the control socket; see control_ops.h.
#include "zerofs/nbd/control_ops.h"

#include <string>
#include <utility>

namespace zerofs::nbd {

namespace {

using nlohmann::json;

Result<std::string> NameArg(const json& args) {
  if (!args.contains("name") || !args["name"].is_string()) {
    return Status::InvalidArgument("\"name\" (a string) is required");
  }
  return args["name"].get<std::string>();
}

Result<std::uint64_t> SizeArg(const json& args) {
  if (!args.contains("size") || !args["size"].is_number_unsigned()) {
    return Status::InvalidArgument("\"size\" (bytes, a non-negative integer) is required");
  }
  return args["size"].get<std::uint64_t>();
}

}  // namespace

json ExportInfoJson(const ExportInfo& info) {
  return json{{"name", info.name}, {"size", info.size_bytes}};
}

void RegisterNbdControl(server::ControlServer& control, std::shared_ptr<vfs::Filesystem> fs) {
  auto admin = std::make_shared<ExportAdmin>(std::move(fs));
  control.Register("nbd.create", "creates an NBD export {name, size}",
                   [admin](const json& args, const server::ControlProgress&) -> Result<json> {
                     ZEROFS_ASSIGN_OR_RETURN(std::string name, NameArg(args));
                     ZEROFS_ASSIGN_OR_RETURN(std::uint64_t size, SizeArg(args));
                     ZEROFS_ASSIGN_OR_RETURN(ExportInfo info, admin->Create(name, size));
                     return ExportInfoJson(info);
                   });
  control.Register("nbd.list", "lists the NBD exports",
                   [admin](const json&, const server::ControlProgress&) -> Result<json> {
                     ZEROFS_ASSIGN_OR_RETURN(std::vector<ExportInfo> exports, admin->List());
                     json list = json::array();
                     for (const ExportInfo& info : exports) list.push_back(ExportInfoJson(info));
                     return json{{"exports", std::move(list)}};
                   });
  control.Register("nbd.resize", "resizes an NBD export {name, size, allow_shrink}",
                   [admin](const json& args, const server::ControlProgress&) -> Result<json> {
                     ZEROFS_ASSIGN_OR_RETURN(std::string name, NameArg(args));
                     ZEROFS_ASSIGN_OR_RETURN(std::uint64_t size, SizeArg(args));
                     const bool shrink = args.value("allow_shrink", false);
                     ZEROFS_ASSIGN_OR_RETURN(ExportInfo info, admin->Resize(name, size, shrink));
                     return ExportInfoJson(info);
                   });
  control.Register("nbd.delete", "deletes an NBD export {name}",
                   [admin](const json& args, const server::ControlProgress&) -> Result<json> {
                     ZEROFS_ASSIGN_OR_RETURN(std::string name, NameArg(args));
                     ZEROFS_RETURN_IF_ERROR(admin->Delete(name));
                     return json{{"name", name}};
                   });
}

}  // namespace zerofs::nbd
