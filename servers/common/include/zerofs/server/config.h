// Config: the settings of one ZeroFS program (the servers and the zerofs tool), loaded from
// a TOML file.
//
// The schema is documented in docs/configuration.md and mirrors DESIGN §7:
//   [storage] [s3] [cache] [servers.nfs] [servers.ninep] [servers.nbd] [control]
//   [metrics] [gc] [log]
// Loading is strict: an unknown table or key, a value of the wrong type or an out-of-range
// number is an error whose message names the key and the file. String values may refer to
// environment variables as ${NAME} or ${NAME:-default}; "$$" is a literal "$". A reference
// to an unset variable without a default is an error naming the variable.
//
// The library takes none of this: its layers take their own option structs
// (objstore::S3Options, engine::VolumeOptions, engine::GcSettings), which the programs fill
// from a Config. [s3] is an objstore::S3Options as it is; GcSettingsFromConfig converts [gc].
//
// Secrets (the volume password, the S3 secret key and session token) are held as Secret,
// so printing a Config never prints them. The password never comes from a command line:
// only from the file (usually through ${ZEROFS_PASSWORD}) or from password_file.
//
// Config is a plain value type with no thread-safety of its own.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "zerofs/common/env.h"
#include "zerofs/common/result.h"
#include "zerofs/common/secret.h"
#include "zerofs/engine/space.h"
#include "zerofs/objstore/s3_options.h"

namespace zerofs::server {

struct StorageConfig {
  std::string url;            // s3://bucket/prefix, file:///path, memory://name
  Secret password;            // resolved from `password` or `password_file`
  std::string password_file;  // where the password came from, if a file
  // How new frames are compressed: "none", "lz4", "zstd" (level 3) or "zstd:N" (1..19).
  // Readers detect the codec of every frame, so changing it needs no migration.
  std::string compression = "zstd:3";
  // For benchmarks and trying out: make the bucket answer as a remote one would, with this
  // round trip per request and this bandwidth per direction (0: no delay / unlimited).
  std::uint64_t simulate_rtt_ms = 0;
  std::uint64_t simulate_mb_per_s = 0;
};

struct CacheConfig {
  std::string dir;  // empty: no disk cache, local index under a temp dir
  std::uint64_t memory_mb = 256;
  std::uint64_t disk_gb = 10;
};

struct ServerConfig {
  bool enabled = false;  // true when the table is present in the file
  std::vector<std::string> listen;
  std::string unix_socket;  // 9P and NBD
  // [servers.nfs] only: "durable" (COMMIT and stable WRITEs reply once the data is in the
  // bucket) or "relaxed" (they reply at once; a crash can lose acknowledged writes).
  std::string commit = "durable";
  // [servers.nfs] only: "ADDR:PORT" (usually :111) to answer as a portmapper, for clients
  // that cannot be given the ports (Windows). Empty: none.
  std::string portmapper;
};

// [gc]: space reclamation on the writer (docs/configuration.md, docs/engine.md "Space"),
// in the file's units; GcSettingsFromConfig gives the engine's.
struct GcConfig {
  bool background = true;                         // collect in the background
  std::uint64_t interval_s = 60;                  // between background rounds
  std::uint64_t rewrite_mb_per_round = 64;        // compaction budget of one round
  std::uint32_t deletes_per_round = 1000;         // segment objects deleted per round
  std::uint32_t compact_below_live_percent = 50;  // compact segments less live than this
  std::uint32_t max_amplification_percent = 125;  // and more while stored/live exceeds this
  std::uint64_t small_segment_mb = 4;             // merge segments smaller than this
  std::uint64_t deletion_grace_s = 60;            // read replicas' time to move on
  std::uint64_t rewrite_mb_per_s = 0;             // compaction bandwidth (0: unlimited)
  std::uint32_t max_busy_percent = 100;           // share of wall time compaction may work
};

struct LogConfig {
  std::string level = "info";
  std::string file;  // empty: stderr; a file is reopened on SIGHUP
};

struct Config {
  std::filesystem::path source;  // the file this was loaded from, if any
  StorageConfig storage;
  objstore::S3Options s3;  // [s3]: only used for s3:// URLs
  CacheConfig cache;
  ServerConfig nfs;
  ServerConfig ninep;
  ServerConfig nbd;
  std::string control_socket;
  std::string metrics_listen;
  LogConfig log;
  GcConfig gc;
};

// The engine's settings for a config file's [gc] section.
engine::GcSettings GcSettingsFromConfig(const GcConfig& config);

// Expands ${NAME}, ${NAME:-default} and $$ in `value`. `key` names the setting in errors.
Result<std::string> ExpandEnv(std::string_view value, std::string_view key,
                              EnvLookup env = ProcessEnv);

// Parses TOML text; `origin` names the file in error messages.
Result<Config> ParseConfig(std::string_view toml_text, std::string_view origin,
                           EnvLookup env = ProcessEnv);
// Reads a password file (one line; the trailing newline is dropped). InvalidArgument if it
// is empty, the errno of the failure if it cannot be read.
Status ReadPasswordFile(const std::string& path, Secret* out);

Result<Config> LoadConfigFile(const std::filesystem::path& path, EnvLookup env = ProcessEnv);

}  // namespace zerofs::server
