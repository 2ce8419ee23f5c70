// Opening the volume a server serves: the --url, --password-file, --cache-dir,
// --read-only and --checkpoint flags, merged with the config file's [storage] and [cache],
// and the engine::Volume + vfs::Filesystem pair they open.
//
// The password never comes from the command line: from [storage] password / password_file
// in the config, else --password-file, else the ZEROFS_PASSWORD environment variable.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "zerofs/common/result.h"
#include "zerofs/engine/volume.h"
#include "zerofs/objstore/metered_store.h"
#include "zerofs/server/config.h"
#include "zerofs/server/lease.h"
#include "zerofs/vfs/filesystem.h"

namespace zerofs::server {

// The flags' values (each overrides the config file's setting when given).
struct VolumeFlags {
  std::string url;            // [storage] url
  std::string password_file;  // [storage] password_file
  std::string cache_dir;      // [cache] dir
  bool read_only = false;     // open as a read replica: no fencing, writes fail with EROFS
  std::string checkpoint;     // serve this named checkpoint (read-only)
  bool takeover = false;      // open as the writer even while another process holds the lease
};

void AddVolumeFlags(CLI::App& app, VolumeFlags& flags);

// The settings OpenServedVolume uses: `config` with the flags applied and the password
// resolved. InvalidArgument naming what is missing (no URL, no password).
Result<Config> ResolveVolumeConfig(const VolumeFlags& flags, Config config);

// An open volume and the filesystem on it.
class ServedVolume {
 public:
  ServedVolume(std::shared_ptr<engine::Volume> volume, std::shared_ptr<vfs::Filesystem> fs,
               std::string url, std::shared_ptr<objstore::MeteredStore> meter,
               std::unique_ptr<WriterLease> lease = nullptr);
  ~ServedVolume();
  ServedVolume(const ServedVolume&) = delete;
  ServedVolume& operator=(const ServedVolume&) = delete;

  engine::Volume& volume() { return *volume_; }
  const std::shared_ptr<engine::Volume>& volume_ptr() const { return volume_; }
  const std::shared_ptr<vfs::Filesystem>& filesystem() const { return fs_; }
  const std::string& url() const { return url_; }
  bool read_only() const { return volume_->read_only(); }
  // Counts every request the volume makes to the bucket (for stats and metrics).
  objstore::MeterSnapshot store_requests() const { return meter_->Snapshot(); }

  // Makes everything durable and closes the volume. Call after the servers using the
  // filesystem have stopped; the destructor calls it if nobody did.
  Status Close();

 private:
  std::shared_ptr<engine::Volume> volume_;
  std::shared_ptr<vfs::Filesystem> fs_;
  std::string url_;
  std::shared_ptr<objstore::MeteredStore> meter_;
  std::unique_ptr<WriterLease> lease_;  // writers only; released after the volume closes
  bool closed_ = false;
};

// Opens the store named by the resolved config, the volume (writer unless read-only or a
// checkpoint) and its filesystem. A writer first takes the writer lease (lease.h), so it
// refuses with kUnavailable "volume in use by ..." rather than fence a live server, unless
// `flags.takeover`. `program` prefixes log lines and names the lease holder. Errors name
// the URL: kNotFound (no volume there: run `zerofs init`), kPermissionDenied (wrong
// password).
Result<std::unique_ptr<ServedVolume>> OpenServedVolume(const VolumeFlags& flags,
                                                       const Config& config,
                                                       std::string_view program);

// A new, empty volume held in memory with a random password and a world-writable root
// (mode 0777): for trying a server out and for tests that need no bucket (--ephemeral).
// Everything is gone when the process exits.
Result<std::unique_ptr<ServedVolume>> OpenEphemeralServedVolume();

}  // namespace zerofs::server
