// zerofs config example | check: a commented config file to start from, and a validator.
//
//   zerofs config example > zerofs.toml      every setting the config parser accepts, with
//                                            its default or a typical value, commented
//   zerofs config check --config FILE        loads FILE as every binary does, plus checks
//                                            that need no bucket (the URL's form, listen
//                                            addresses); exit 2 naming the key if wrong
//
// The example must parse: tests feed it back to `config check` and compare its keys with
// the table in docs/configuration.md, so a setting added to the parser and documented
// there without being added here fails a test.
#include <cstdio>
#include <memory>
#include <string>

#include "commands.h"
#include "zerofs/crypto/codec.h"
#include "zerofs/objstore/open.h"
#include "zerofs/server/config.h"
#include "zerofs/server/endpoint.h"

namespace zerofs::cli {
namespace {

constexpr const char* kExample =
    R"(# ZeroFS configuration (TOML). Every setting is shown with its default or a
# typical value; remove what you do not need. Reference: docs/configuration.md.
#
# String values may use ${NAME} (an environment variable; an error if unset),
# ${NAME:-default} (the default when unset or empty) and $$ (a literal "$").
# Unknown tables or keys are errors naming the key; `zerofs config check --config FILE`
# validates a file without touching the bucket.

[storage]
# Where the volume lives: file:///absolute/path, s3://bucket[/prefix] or memory://name.
url = "file:///var/lib/zerofs/bucket"
# The volume password. Never put it on a command line; take it from the environment ...
password = "${ZEROFS_PASSWORD}"
# ... or from a file (one line), instead of `password` (setting both is an error):
# password_file = "/etc/zerofs/password"
# Codec of newly written frames: none, lz4, zstd (level 3) or zstd:N (N from 1 to 19).
# Readers detect each frame's codec, so changing this needs no migration.
compression = "zstd:3"
# For benchmarks and trying out only: answer as a remote bucket would, with this round trip
# per request (ms) and bandwidth each way (MiB/s); 0 = no delay / unlimited.
simulate_rtt_ms = 0
simulate_mb_per_s = 0

# Only used for s3:// URLs.
[s3]
# Empty: AWS for `region`; e.g. "http://127.0.0.1:7480" for a local Ceph radosgw.
endpoint = ""
region = "us-east-1"
# Credentials: from here if access_key_id is set; else AWS_ACCESS_KEY_ID,
# AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN; else the ~/.aws/credentials profile.
access_key_id = "${ZEROFS_S3_ACCESS_KEY_ID:-}"
secret_access_key = "${ZEROFS_S3_SECRET_ACCESS_KEY:-}"
session_token = "${ZEROFS_S3_SESSION_TOKEN:-}"
# The ~/.aws/credentials section (empty: AWS_PROFILE or "default").
profile = ""
# endpoint/bucket/key (true) or bucket.endpoint/key (false).
path_style = true
verify_tls = true
# An extra CA bundle for a private endpoint (empty: the system's).
ca_file = ""
# Requests in flight, and pooled connections (1..1024).
max_parallel = 32
# Retries of a retryable failure (throttling, 5xx, timeouts), 0..100, with exponential
# backoff from retry_base_delay_ms up to retry_max_delay_ms (full jitter).
max_retries = 6
retry_base_delay_ms = 50
retry_max_delay_ms = 5000
connect_timeout_ms = 5000
# One attempt of one request.
request_timeout_ms = 60000
# Larger puts use multipart upload, in parts of multipart_part_bytes (both >= 5 MiB).
multipart_threshold_bytes = 67108864
multipart_part_bytes = 16777216

[cache]
# Local cache directory: the index (rebuilt from the bucket when missing) and the disk
# cache of sealed extents. Empty: no disk cache, the index in a temporary directory.
dir = "/var/cache/zerofs"
# Memory cache of plaintext extents, in MiB.
memory_mb = 256
# Disk cache, in GiB (0: none).
disk_gb = 10

# One table per protocol; a table that is present enables its server unless
# `enabled = false`. Servers listen on loopback unless told otherwise.
[servers.nfs]
enabled = true
# "ADDR:PORT" or a list of them; IPv6 as "[::1]:2049".
listen = ["127.0.0.1:2049"]
# "durable": COMMIT and stable WRITEs reply once the data is in the bucket. "relaxed": they
# reply at once and a crash can lose writes that clients were told are stable.
commit = "durable"
# Also answer as a portmapper (TCP and UDP) for clients that ask one for the NFS and MOUNT
# ports (Windows); port 111 needs root. Empty: none.
portmapper = ""

[servers.ninep]
enabled = true
listen = ["127.0.0.1:5564"]
# 9P over a Unix socket as well (empty: none).
unix_socket = "/run/zerofs/9p.sock"

[servers.nbd]
enabled = true
listen = ["127.0.0.1:10809"]
unix_socket = "/run/zerofs/nbd.sock"

[control]
# The control socket (mode 0600) of `zerofs flush`, `checkpoint`, `gc`, `stats`, `nbd`.
socket = "/run/zerofs/control.sock"

[metrics]
# Prometheus text format at http://ADDR:PORT/metrics (empty: off).
listen = "127.0.0.1:9091"

# Space reclamation by the writer (docs/engine.md; `zerofs gc` runs it on demand).
[gc]
# Reclaim space in the background.
background = true
# Seconds between background rounds (a deleted file's data is dropped at once).
interval_s = 60
# Budget of one background round: MiB of live data rewritten by compaction ...
rewrite_mb_per_round = 64
# ... and segment objects deleted.
deletes_per_round = 1000
# Segments with less live data than this share (percent) of their extents are compacted.
compact_below_live_percent = 50
# While the live segments hold more than this share (percent) of the live data, the
# sparsest of the other partly dead segments are compacted too.
max_amplification_percent = 125
# Segments smaller than this (MiB) are merged when there are several.
small_segment_mb = 4
# A dead segment is deleted only after this many seconds, so that read replicas following
# an older state can finish reading it.
deletion_grace_s = 60
# Compaction's budget, for the background rounds: MiB/s of live data rewritten (0: no
# limit) ...
rewrite_mb_per_s = 0
# ... and the share (percent) of wall time it may spend working; it sleeps the rest.
max_busy_percent = 100

[log]
# debug, info, warn, error or off.
level = "info"
# A file to log to, reopened on SIGHUP (empty: stderr).
file = ""
)";

struct ConfigOptions {
  std::string config_path;
};

// Checks that need no bucket and that the parser leaves to the programs: the URL's form,
// the compression setting, the listen addresses. Errors name the file and the key.
Status CheckSemantics(const server::Config& cfg, const std::string& origin) {
  auto fail = [&](const std::string& key, const Status& why) {
    return Status::InvalidArgument(origin + ": '" + key + "': " + why.message());
  };
  if (!cfg.storage.url.empty()) {
    auto url = objstore::ParseUrl(cfg.storage.url);
    if (!url.ok()) return fail("storage.url", url.status());
  }
  auto codec = crypto::ParseCompression(cfg.storage.compression);
  if (!codec.ok()) return fail("storage.compression", codec.status());
  const std::pair<const char*, const server::ServerConfig*> servers[] = {
      {"servers.nfs", &cfg.nfs}, {"servers.ninep", &cfg.ninep}, {"servers.nbd", &cfg.nbd}};
  for (const auto& [name, srv] : servers) {
    for (const std::string& listen : srv->listen) {
      auto parsed = server::ParseListenAddress(listen, "127.0.0.1:PORT");
      if (!parsed.ok()) return fail(std::string(name) + ".listen", parsed.status());
    }
  }
  if (!cfg.metrics_listen.empty()) {
    auto parsed = server::ParseListenAddress(cfg.metrics_listen, "127.0.0.1:9091");
    if (!parsed.ok()) return fail("metrics.listen", parsed.status());
  }
  return Status::Ok();
}

int RunCheck(const ConfigOptions& opts) {
  auto cfg = server::LoadConfigFile(opts.config_path);
  if (!cfg.ok()) return ReportError(cfg.status());
  Status s = CheckSemantics(*cfg, opts.config_path);
  if (!s.ok()) return ReportError(s);
  std::printf("%s: ok\n", opts.config_path.c_str());
  std::printf("  storage: %s\n",
              cfg->storage.url.empty() ? "(no url: pass --url)" : cfg->storage.url.c_str());
  const std::pair<const char*, const server::ServerConfig*> servers[] = {
      {"nfs", &cfg->nfs}, {"ninep", &cfg->ninep}, {"nbd", &cfg->nbd}};
  for (const auto& [name, srv] : servers) {
    if (!srv->enabled) continue;
    std::string where;
    for (const std::string& listen : srv->listen) where += " " + listen;
    if (!srv->unix_socket.empty()) where += " " + srv->unix_socket;
    std::printf("  server %s:%s\n", name, where.empty() ? " (default address)" : where.c_str());
  }
  return 0;
}

}  // namespace

void AddConfigCommand(CLI::App& app, CommandRunner& run) {
  auto opts = std::make_shared<ConfigOptions>();
  CLI::App* cmd = app.add_subcommand("config", "Write an example config file, or check one.");
  cmd->require_subcommand(1);

  CLI::App* example = cmd->add_subcommand(
      "example", "Print a commented config with every setting (redirect it to a file).");
  example->callback([&run] {
    run = [] {
      std::fputs(kExample, stdout);
      return std::fflush(stdout) == 0 ? 0 : 1;
    };
  });

  CLI::App* check = cmd->add_subcommand(
      "check",
      "Validate a config file without touching the bucket. Exit 0 if valid; 2 with a\n"
      "message naming the file and the key if not; 3 if the file (or a password_file) is "
      "missing.");
  check->add_option("--config,CONFIG", opts->config_path, "the file to check")->required();
  check->callback([&run, opts] { run = [opts] { return RunCheck(*opts); }; });
}

}  // namespace zerofs::cli
