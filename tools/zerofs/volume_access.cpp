// Opening a volume for the offline commands; see volume_access.h.
#include "volume_access.h"

#include <string_view>

namespace zerofs::cli {

void AddVolumeAccessOptions(CLI::App* cmd, VolumeAccessOptions& opts, bool with_checkpoint) {
  cmd->add_option("--config", opts.config_path, "TOML config ([storage], [s3], [cache])");
  cmd->add_option("--url", opts.flags.url,
                  "volume URL (file:///path, s3://bucket/prefix); overrides storage.url");
  cmd->add_option("--password-file", opts.flags.password_file,
                  "file holding the volume password, when the config names none (else the "
                  "ZEROFS_PASSWORD environment variable)");
  cmd->add_option("--cache-dir", opts.flags.cache_dir,
                  "reuse this local cache directory (default: a private temporary one; never "
                  "one a running server uses)");
  if (with_checkpoint) {
    cmd->add_option("--checkpoint", opts.flags.checkpoint, "read the named checkpoint");
  }
}

void AddTakeoverOption(CLI::App* cmd, VolumeAccessOptions& opts) {
  cmd->add_flag("--takeover", opts.flags.takeover,
                "write even while another process is the volume's writer (or its lease has "
                "not expired after a crash): that process is fenced and stops acknowledging "
                "writes");
}

Result<server::Config> ResolveCliConfig(const VolumeAccessOptions& opts) {
  server::Config config;
  if (!opts.config_path.empty()) {
    ZEROFS_ASSIGN_OR_RETURN(config, server::LoadConfigFile(opts.config_path));
  }
  // A one-shot command gains nothing from a disk cache, and the configured directory may
  // belong to a running server: use a private one unless told otherwise.
  if (opts.flags.cache_dir.empty()) {
    config.cache.dir.clear();
    config.cache.disk_gb = 0;
  }
  return server::ResolveVolumeConfig(opts.flags, std::move(config));
}

Result<std::unique_ptr<server::ServedVolume>> OpenCliVolume(const VolumeAccessOptions& opts,
                                                            bool read_only) {
  ZEROFS_ASSIGN_OR_RETURN(server::Config config, ResolveCliConfig(opts));
  server::VolumeFlags flags = opts.flags;
  flags.read_only = read_only;
  return server::OpenServedVolume(flags, config, "zerofs");
}

bool IsVolumeInUse(const Status& status) {
  return status.code() == StatusCode::kUnavailable &&
         status.message().find("volume in use") != std::string::npos;
}

}  // namespace zerofs::cli
