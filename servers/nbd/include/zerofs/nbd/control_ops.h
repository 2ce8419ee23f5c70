// The NBD operations of a server's control socket, over the exports of a volume
// (ExportAdmin): what `zerofs nbd create|list|resize|delete` send to a running server.
//
//   nbd.create {"name": "vm1", "size": 1073741824}   -> {"name", "size"}
//   nbd.list   {}                                   -> {"exports": [{"name", "size"}...]}
//   nbd.resize {"name", "size", "allow_shrink": false} -> {"name", "size"}
//   nbd.delete {"name"}                             -> {"name"}
//
// A device created this way is served to the next client without a restart.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>

#include "zerofs/nbd/export_admin.h"
#include "zerofs/server/control.h"
#include "zerofs/vfs/filesystem.h"

namespace zerofs::nbd {

nlohmann::json ExportInfoJson(const ExportInfo& info);

void RegisterNbdControl(server::ControlServer& control, std::shared_ptr<vfs::Filesystem> fs);

}  // namespace zerofs::nbd
