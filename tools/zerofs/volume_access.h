// How the zerofs tool's offline commands (ls, cat, put, get, mkdir, rm, fsck) reach a volume:
// the options they share and the calls that open the volume with them.
//
// These commands work on the bucket directly, without a server. By default they keep their
// local state (the index rebuilt from the bucket's snapshot and journal) in a private
// temporary directory that is removed on exit, so they never share a cache directory with a
// running server (whose RocksDB index would refuse a second user) and never leave state
// behind. --cache-dir names a directory to reuse instead (faster for large volumes; it must
// not be in use by a server).
//
// Thread-safety: plain values and functions; the opened volume is as thread-safe as
// engine::Volume and vfs::Filesystem.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "zerofs/common/result.h"
#include "zerofs/server/config.h"
#include "zerofs/server/volume.h"

namespace zerofs::cli {

struct VolumeAccessOptions {
  std::string config_path;
  server::VolumeFlags flags;  // url, password_file, cache_dir, checkpoint
};

// --config, --url, --password-file, --cache-dir; --checkpoint NAME when `with_checkpoint`.
void AddVolumeAccessOptions(CLI::App* cmd, VolumeAccessOptions& opts, bool with_checkpoint);
// --takeover, for the commands that open the volume as its writer.
void AddTakeoverOption(CLI::App* cmd, VolumeAccessOptions& opts);

// The config file (or defaults without --config) with the flags applied and the password
// resolved (server::ResolveVolumeConfig). Without --cache-dir the cache directory is cleared,
// so the volume lives in a private temporary directory, with no disk cache.
Result<server::Config> ResolveCliConfig(const VolumeAccessOptions& opts);

// Opens the volume and its filesystem: read-only (a replica that never fences the writer)
// or as the writer. A writer open fails with kUnavailable "volume in use ..." while another
// live writer serves the volume.
Result<std::unique_ptr<server::ServedVolume>> OpenCliVolume(const VolumeAccessOptions& opts,
                                                            bool read_only);

// True for the status of a refused writer open because another process serves the volume.
bool IsVolumeInUse(const Status& status);

}  // namespace zerofs::cli
