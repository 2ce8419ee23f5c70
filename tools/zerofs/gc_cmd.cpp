// zerofs gc: reclaim space in the bucket now, without a server.
//
//   zerofs gc --config FILE [--url URL] [--cache-dir DIR] [--dry-run] [--grace SECONDS]
//             [--max-rewrite-mb N] [--rate-mb N] [--busy-percent P] [--json]
//
// Opens the volume as the writer (refused with exit 6, "volume in use", while a server
// serves it: its control socket runs the same Volume::RunGc in place), drops the data of
// deleted files, compacts
// sparse segments, deletes what nothing needs, and prints what it did and the space used
// before and after. --dry-run opens the volume read-only, changes nothing, and reports the
// space used and what a run would do.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "commands.h"
#include "control_client.h"
#include "volume_access.h"
#include "zerofs/engine/volume.h"

namespace zerofs::cli {
namespace {

struct GcOptions {
  VolumeAccessOptions access;
  bool dry_run = false;
  bool json = false;
  std::int64_t grace_s = -1;  // -1: [gc] deletion_grace_s of the config
  std::uint64_t max_rewrite_mb = 0;
  std::uint64_t rate_mb = 0;         // compaction MiB/s (0: no limit)
  std::uint32_t busy_percent = 100;  // share of wall time compaction works
  std::string control_socket;
};

nlohmann::ordered_json SpaceJson(const engine::SpaceStats& s) {
  nlohmann::ordered_json j;
  j["live_bytes"] = s.live_bytes;
  j["stored_bytes"] = s.stored_bytes;
  j["extent_bytes"] = s.extent_bytes;
  j["segment_count"] = s.segment_count;
  j["dead_segments"] = s.dead_segments;
  j["dead_bytes"] = s.dead_bytes;
  j["checkpoint_held_bytes"] = s.checkpoint_held_bytes;
  j["index_bytes"] = s.index_bytes;
  j["index_objects"] = s.index_objects;
  j["checkpoints"] = s.checkpoints;
  j["pending_drops"] = s.pending_drops;
  j["amplification"] = s.amplification();
  return j;
}

nlohmann::ordered_json StatsJson(const engine::GcStats& s) {
  nlohmann::ordered_json j;
  j["files_dropped"] = s.files_dropped;
  j["extents_dropped"] = s.extents_dropped;
  j["segments_examined"] = s.segments_examined;
  j["segments_compacted"] = s.segments_compacted;
  j["extents_rewritten"] = s.extents_rewritten;
  j["bytes_rewritten"] = s.bytes_rewritten;
  j["segments_deleted"] = s.segments_deleted;
  j["bytes_freed"] = s.bytes_freed;
  j["segments_kept_by_checkpoints"] = s.segments_kept_by_checkpoints;
  j["segments_kept_by_journal"] = s.segments_kept_by_journal;
  j["segments_kept_by_grace"] = s.segments_kept_by_grace;
  j["duration_ms"] = s.duration.count();
  return j;
}

std::string Bytes(std::uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

void PrintSpace(const char* title, const engine::SpaceStats& s) {
  std::printf("%s\n", title);
  std::printf("  live data         %s\n", Bytes(s.live_bytes).c_str());
  std::printf("  stored segments   %s in %llu objects (amplification %.2f)\n",
              Bytes(s.stored_bytes).c_str(), static_cast<unsigned long long>(s.segment_count),
              s.amplification());
  std::printf("  dead segments     %llu, %s (%s kept for checkpoints)\n",
              static_cast<unsigned long long>(s.dead_segments), Bytes(s.dead_bytes).c_str(),
              Bytes(s.checkpoint_held_bytes).c_str());
  std::printf("  index snapshots   %s in %llu objects\n", Bytes(s.index_bytes).c_str(),
              static_cast<unsigned long long>(s.index_objects));
  std::printf("  checkpoints       %llu\n", static_cast<unsigned long long>(s.checkpoints));
  std::printf("  pending drops     %llu deleted files\n",
              static_cast<unsigned long long>(s.pending_drops));
}

void PrintStats(bool dry_run, const engine::GcStats& s) {
  std::printf("%s\n", dry_run ? "A run would do (dry run):" : "Done:");
  std::printf("  drop deleted files' data  %llu files (%llu extents)\n",
              static_cast<unsigned long long>(s.files_dropped),
              static_cast<unsigned long long>(s.extents_dropped));
  std::printf("  compact segments          %llu of %llu, %llu extents rewritten (%s)\n",
              static_cast<unsigned long long>(s.segments_compacted),
              static_cast<unsigned long long>(s.segments_examined),
              static_cast<unsigned long long>(s.extents_rewritten),
              Bytes(s.bytes_rewritten).c_str());
  std::printf("  delete segments           %llu, %s freed\n",
              static_cast<unsigned long long>(s.segments_deleted), Bytes(s.bytes_freed).c_str());
  std::printf(
      "  dead segments kept        %llu for checkpoints, %llu in the journal, %llu in "
      "their grace period\n",
      static_cast<unsigned long long>(s.segments_kept_by_checkpoints),
      static_cast<unsigned long long>(s.segments_kept_by_journal),
      static_cast<unsigned long long>(s.segments_kept_by_grace));
  if (!dry_run) std::printf("  in %.1f s\n", static_cast<double>(s.duration.count()) / 1000.0);
}

engine::SpaceStats SpaceFromServer(const nlohmann::json& j) {
  engine::SpaceStats s;
  s.live_bytes = j.value("live_bytes", std::uint64_t{0});
  s.extent_bytes = j.value("extent_bytes", std::uint64_t{0});
  s.stored_bytes = j.value("stored_bytes", std::uint64_t{0});
  s.segment_count = j.value("segment_count", std::uint64_t{0});
  s.dead_segments = j.value("dead_segments", std::uint64_t{0});
  s.dead_bytes = j.value("dead_bytes", std::uint64_t{0});
  s.checkpoint_held_bytes = j.value("checkpoint_held_bytes", std::uint64_t{0});
  s.index_bytes = j.value("index_bytes", std::uint64_t{0});
  s.index_objects = j.value("index_objects", std::uint64_t{0});
  s.checkpoints = j.value("checkpoints", std::uint64_t{0});
  s.pending_drops = j.value("pending_drops", std::uint64_t{0});
  return s;
}

engine::GcStats GcFromServer(const nlohmann::json& j) {
  engine::GcStats s;
  s.files_dropped = j.value("files_dropped", std::uint64_t{0});
  s.extents_dropped = j.value("extents_dropped", std::uint64_t{0});
  s.segments_examined = j.value("segments_examined", std::uint64_t{0});
  s.segments_compacted = j.value("segments_compacted", std::uint64_t{0});
  s.extents_rewritten = j.value("extents_rewritten", std::uint64_t{0});
  s.bytes_rewritten = j.value("bytes_rewritten", std::uint64_t{0});
  s.segments_deleted = j.value("segments_deleted", std::uint64_t{0});
  s.bytes_freed = j.value("bytes_freed", std::uint64_t{0});
  s.segments_kept_by_checkpoints = j.value("segments_kept_by_checkpoints", std::uint64_t{0});
  s.segments_kept_by_journal = j.value("segments_kept_by_journal", std::uint64_t{0});
  s.segments_kept_by_grace = j.value("segments_kept_by_grace", std::uint64_t{0});
  s.duration = std::chrono::milliseconds(j.value("duration_ms", std::int64_t{0}));
  return s;
}

void PrintResult(const GcOptions& opts, const engine::SpaceStats& before,
                 const engine::GcStats& stats, const engine::SpaceStats& after) {
  if (opts.json) {
    nlohmann::ordered_json j;
    j["dry_run"] = opts.dry_run;
    j["gc"] = StatsJson(stats);
    j["before"] = SpaceJson(before);
    if (!opts.dry_run) j["after"] = SpaceJson(after);
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  PrintSpace(opts.dry_run ? "Space:" : "Space before:", before);
  PrintStats(opts.dry_run, stats);
  if (!opts.dry_run) PrintSpace("Space after:", after);
}

// The same run in the server that serves the volume, through its control socket.
int RunGcThroughServer(const GcOptions& opts, const std::string& socket) {
  auto before = CallServer(socket, "space", nlohmann::json::object());
  if (!before.ok()) return ReportError(before.status());
  nlohmann::json args{{"dry_run", opts.dry_run},
                      {"max_rewrite_bytes", opts.max_rewrite_mb << 20},
                      {"rewrite_bytes_per_second", opts.rate_mb << 20},
                      {"max_busy_percent", opts.busy_percent}};
  if (opts.grace_s >= 0) args["grace_s"] = opts.grace_s;
  auto reply = CallServer(socket, "gc", args);
  if (!reply.ok()) return ReportError(reply.status());
  const engine::SpaceStats space_before = SpaceFromServer(*before);
  const engine::SpaceStats space_after =
      reply->contains("space") ? SpaceFromServer((*reply)["space"]) : space_before;
  PrintResult(opts, space_before, GcFromServer(*reply), space_after);
  return 0;
}

int RunGcCommand(const GcOptions& opts) {
  if (auto socket = ServingServer(opts.control_socket, opts.access.config_path,
                                  opts.access.flags.url)) {
    return RunGcThroughServer(opts, *socket);
  }
  auto config = ResolveCliConfig(opts.access);
  if (!config.ok()) return ReportError(config.status());
  auto opened = OpenCliVolume(opts.access, /*read_only=*/opts.dry_run);
  if (!opened.ok()) {
    const int code = ReportError(opened.status());
    return IsVolumeInUse(opened.status()) ? kExitVolumeInUse : code;
  }
  engine::Volume& volume = (*opened)->volume();
  auto before = volume.SpaceUsage();
  if (!before.ok()) return ReportError(before.status());

  engine::GcRunOptions run;
  run.dry_run = opts.dry_run;
  run.max_rewrite_bytes = opts.max_rewrite_mb << 20;
  run.rewrite_bytes_per_second = opts.rate_mb << 20;
  run.max_busy_percent = opts.busy_percent;
  run.deletion_grace = std::chrono::seconds(
      opts.grace_s >= 0 ? static_cast<std::uint64_t>(opts.grace_s) : config->gc.deletion_grace_s);
  const bool tty = !opts.json && isatty(STDERR_FILENO) != 0;
  engine::GcProgressFn progress;
  if (tty) {
    progress = [](const engine::GcProgress& p) {
      if (std::string_view(p.phase) == "grace") {
        std::fprintf(stderr, "\r\033[Kwaiting %llu s for read replicas (--grace 0 skips this)",
                     static_cast<unsigned long long>(p.total));
      } else {
        std::fprintf(stderr, "\r\033[K%-8s %llu/%llu  rewritten %s, freed %s", p.phase,
                     static_cast<unsigned long long>(p.done),
                     static_cast<unsigned long long>(p.total),
                     Bytes(p.stats.bytes_rewritten).c_str(), Bytes(p.stats.bytes_freed).c_str());
      }
      std::fflush(stderr);
    };
  }
  auto stats = volume.RunGc(run, progress);
  if (tty) std::fprintf(stderr, "\r\033[K");
  if (!stats.ok()) return ReportError(stats.status());
  auto after = opts.dry_run ? before : volume.SpaceUsage();
  if (!after.ok()) return ReportError(after.status());
  Status closed = (*opened)->Close();
  if (!closed.ok()) return ReportError(closed);

  PrintResult(opts, *before, *stats, *after);
  return 0;
}

}  // namespace

void AddGcCommand(CLI::App& app, CommandRunner& run) {
  auto opts = std::make_shared<GcOptions>();
  CLI::App* cmd = app.add_subcommand(
      "gc",
      "Reclaim space in the bucket now: drop deleted files' data, compact sparse segments,\n"
      "delete segments nothing needs. When a server serving the volume answers on its\n"
      "control socket, the run happens there; otherwise the volume is opened as the writer\n"
      "(exit 6 while another process serves it). --dry-run only reports.");
  AddVolumeAccessOptions(cmd, opts->access, false);
  AddTakeoverOption(cmd, opts->access);
  AddControlSocketOption(cmd, opts->control_socket);
  cmd->add_flag("--dry-run", opts->dry_run, "report space and what a run would do; change nothing");
  cmd->add_flag("--json", opts->json, "print the results as JSON");
  cmd->add_option("--grace", opts->grace_s,
                  "seconds a dead segment stays for read replicas (default: [gc] "
                  "deletion_grace_s, 60)")
      ->check(CLI::Range(0, 86400 * 7));
  cmd->add_option("--max-rewrite-mb", opts->max_rewrite_mb,
                  "compact at most this much live data (default: no limit)");
  cmd->add_option("--rate-mb", opts->rate_mb,
                  "compact at most this many MiB of live data per second (default: no limit)");
  cmd->add_option("--busy-percent", opts->busy_percent,
                  "let compaction work at most this share of the time, sleeping the rest "
                  "(default 100)")
      ->check(CLI::Range(1, 100));
  cmd->callback([&run, opts] { run = [opts] { return RunGcCommand(*opts); }; });
}

}  // namespace zerofs::cli
