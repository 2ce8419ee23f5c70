// The control socket and metrics of a running server; see services.h.
#include "zerofs/server/services.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>
#include <utility>

#include "zerofs/common/log.h"

namespace zerofs::server {

namespace {

using nlohmann::json;

json MeterJson(const objstore::MeterSnapshot& m) {
  return json{{"get_requests", m.get_requests},
              {"put_requests", m.put_requests},
              {"head_requests", m.head_requests},
              {"list_requests", m.list_requests},
              {"delete_requests", m.delete_requests},
              {"deleted_keys", m.deleted_keys},
              {"bytes_in", m.bytes_in},
              {"bytes_out", m.bytes_out},
              {"errors", m.errors}};
}

Result<std::string> NameArg(const json& args) {
  if (!args.contains("name") || !args["name"].is_string()) {
    return Status::InvalidArgument("\"name\" (a string) is required");
  }
  return args["name"].get<std::string>();
}

// SpaceUsage lists the bucket's segments: metrics reuse a recent answer.
class SpaceCache {
 public:
  explicit SpaceCache(ServedVolume& volume) : volume_(volume) {}
  std::optional<engine::SpaceStats> Get() {
    std::lock_guard<std::mutex> lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    if (!cached_ || now - at_ > std::chrono::minutes(5)) {
      auto fresh = volume_.volume().SpaceUsage();
      if (!fresh.ok()) return cached_;
      cached_ = *fresh;
      at_ = now;
    }
    return cached_;
  }

 private:
  ServedVolume& volume_;
  std::mutex mu_;
  std::optional<engine::SpaceStats> cached_;
  std::chrono::steady_clock::time_point at_;
};

}  // namespace

json OpsJson(const std::vector<OpCount>& ops) {
  json out = json::object();
  for (const OpCount& op : ops) {
    out[op.name] = json{{"requests", op.requests}, {"errors", op.errors}};
  }
  return out;
}

json SpaceStatsJson(const engine::SpaceStats& s) {
  return json{{"live_bytes", s.live_bytes},
              {"extent_bytes", s.extent_bytes},
              {"stored_bytes", s.stored_bytes},
              {"segment_count", s.segment_count},
              {"dead_segments", s.dead_segments},
              {"dead_bytes", s.dead_bytes},
              {"checkpoint_held_bytes", s.checkpoint_held_bytes},
              {"index_bytes", s.index_bytes},
              {"index_objects", s.index_objects},
              {"checkpoints", s.checkpoints},
              {"pending_drops", s.pending_drops},
              {"amplification", s.amplification()}};
}

json GcStatsJson(const engine::GcStats& s) {
  return json{{"files_dropped", s.files_dropped},
              {"extents_dropped", s.extents_dropped},
              {"segments_examined", s.segments_examined},
              {"segments_compacted", s.segments_compacted},
              {"extents_rewritten", s.extents_rewritten},
              {"bytes_rewritten", s.bytes_rewritten},
              {"segments_deleted", s.segments_deleted},
              {"bytes_freed", s.bytes_freed},
              {"segments_kept_by_checkpoints", s.segments_kept_by_checkpoints},
              {"segments_kept_by_journal", s.segments_kept_by_journal},
              {"segments_kept_by_grace", s.segments_kept_by_grace},
              {"duration_ms", s.duration.count()}};
}

json CheckpointJson(const engine::CheckpointInfo& c) {
  return json{{"name", c.name},
              {"created_unix_ms", c.created_unix_ms},
              {"covers_seq", c.covers_seq},
              {"segment_count", c.segment_count}};
}

void AddServiceFlags(CLI::App& app, ServiceFlags& flags) {
  app.add_option("--control-socket", flags.control_socket,
                 "Unix socket (mode 0600) for `zerofs flush|stats|gc|checkpoint|nbd`; "
                 "overrides [control] socket");
  app.add_option("--metrics-listen", flags.metrics_listen,
                 "serve Prometheus metrics on ADDR:PORT at /metrics; overrides [metrics] "
                 "listen");
}

json VolumeStatsJson(ServedVolume& volume) {
  const engine::VolumeStats s = volume.volume().stats();
  json out{{"url", volume.url()},
           {"read_only", volume.read_only()},
           {"writer_epoch", s.writer_epoch},
           {"durable_seq", s.durable_seq},
           {"committed_seq", s.committed_seq},
           {"segments_written", s.segments_written},
           {"flushes", s.flushes},
           {"buffered_bytes", s.buffered_bytes},
           {"snapshots_written", s.snapshots_written},
           {"replayed_segments", s.replayed_segments},
           {"fenced", s.fenced},
           {"cache", json{{"memory_hits", s.cache_memory_hits},
                          {"disk_hits", s.cache_disk_hits},
                          {"misses", s.cache_misses},
                          {"gets", s.cache_gets}}},
           {"flush_latency",
            json{{"count", s.flush_latency_count}, {"sum_seconds", s.flush_latency_sum_s}}},
           {"store", MeterJson(volume.store_requests())}};
  if (auto statfs = volume.filesystem()->StatFilesystem(); statfs.ok()) {
    out["filesystem"] = json{{"used_bytes", statfs->used_bytes}, {"inodes", statfs->inodes}};
  }
  return out;
}

Services::Services(const ServiceFlags& flags, const Config& config, bool default_control)
    : registry_(std::make_shared<MetricsRegistry>()) {
  std::string control_path = flags.control_socket;
  if (control_path.empty()) control_path = config.control_socket;
  if (control_path.empty() && default_control) control_path = DefaultControlSocket();
  if (!control_path.empty()) control_ = std::make_unique<ControlServer>(control_path);
  std::string metrics_listen = flags.metrics_listen;
  if (metrics_listen.empty()) metrics_listen = config.metrics_listen;
  if (!metrics_listen.empty()) {
    metrics_server_ = std::make_unique<MetricsServer>(metrics_listen, registry_);
  }
}

Services::~Services() {
  Stop();
}

void Services::AddVolume(ServedVolume& volume) {
  AddStatsSection("volume", [&volume] { return VolumeStatsJson(volume); });
  AddStatsSection("space", [&volume] {
    auto space = volume.volume().SpaceUsage();
    if (!space.ok()) return json{{"error", space.status().ToString()}};
    return SpaceStatsJson(*space);
  });
  if (control_ != nullptr) {
    control_->Register(
        "flush", "makes every change made so far durable in the bucket",
        [&volume](const json&, const ControlProgress&) -> Result<json> {
          const auto start = std::chrono::steady_clock::now();
          ZEROFS_RETURN_IF_ERROR(volume.filesystem()->SyncAll());
          const double seconds =
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
          return json{{"durable_seq", volume.volume().stats().durable_seq}, {"seconds", seconds}};
        });
    control_->Register("volume", "the URL of the volume served, and whether read-only",
                       [&volume](const json&, const ControlProgress&) -> Result<json> {
                         return json{{"url", volume.url()}, {"read_only", volume.read_only()}};
                       });
    control_->Register(
        "gc",
        "drops deleted files' data, compacts sparse segments, deletes dead ones "
        "{dry_run, max_rewrite_bytes, rewrite_bytes_per_second, max_busy_percent, grace_s}",
        [&volume](const json& args, const ControlProgress& progress) -> Result<json> {
          engine::GcRunOptions options;
          options.dry_run = args.value("dry_run", false);
          options.max_rewrite_bytes = args.value("max_rewrite_bytes", std::uint64_t{0});
          options.rewrite_bytes_per_second =
              args.value("rewrite_bytes_per_second", std::uint64_t{0});
          options.max_busy_percent =
              std::clamp<std::uint32_t>(args.value("max_busy_percent", std::uint32_t{100}), 1, 100);
          if (options.dry_run) {
            // Like the CLI's dry run: report, change nothing, wait for nothing.
            options.wait_for_grace = false;
          }
          if (args.contains("grace_s")) {
            options.deletion_grace =
                std::chrono::milliseconds(args["grace_s"].get<std::uint64_t>() * 1000);
          }
          auto last = std::chrono::steady_clock::now() - std::chrono::seconds(1);
          engine::GcProgressFn report = [&](const engine::GcProgress& p) {
            const auto now = std::chrono::steady_clock::now();
            if (now - last < std::chrono::milliseconds(200)) return;
            last = now;
            progress(json{{"phase", p.phase},
                          {"done", p.done},
                          {"total", p.total},
                          {"message", std::string("gc: ") + p.phase + " " + std::to_string(p.done) +
                                          (p.total != 0 ? "/" + std::to_string(p.total) : "")}});
          };
          ZEROFS_ASSIGN_OR_RETURN(engine::GcStats stats, volume.volume().RunGc(options, report));
          json out = GcStatsJson(stats);
          if (auto space = volume.volume().SpaceUsage(); space.ok()) {
            out["space"] = SpaceStatsJson(*space);
          }
          return out;
        });
    control_->Register("space", "live and stored bytes, segments, amplification",
                       [&volume](const json&, const ControlProgress&) -> Result<json> {
                         ZEROFS_ASSIGN_OR_RETURN(engine::SpaceStats space,
                                                 volume.volume().SpaceUsage());
                         return SpaceStatsJson(space);
                       });
    control_->Register("checkpoint.create", "flushes and freezes the volume as {name}",
                       [&volume](const json& args, const ControlProgress&) -> Result<json> {
                         ZEROFS_ASSIGN_OR_RETURN(std::string name, NameArg(args));
                         ZEROFS_ASSIGN_OR_RETURN(engine::CheckpointInfo info,
                                                 volume.volume().CreateCheckpoint(name));
                         return CheckpointJson(info);
                       });
    control_->Register("checkpoint.list", "lists the checkpoints",
                       [&volume](const json&, const ControlProgress&) -> Result<json> {
                         ZEROFS_ASSIGN_OR_RETURN(std::vector<engine::CheckpointInfo> list,
                                                 volume.volume().ListCheckpoints());
                         json out = json::array();
                         for (const auto& c : list) out.push_back(CheckpointJson(c));
                         return json{{"checkpoints", std::move(out)}};
                       });
    control_->Register("checkpoint.info", "one checkpoint {name}",
                       [&volume](const json& args, const ControlProgress&) -> Result<json> {
                         ZEROFS_ASSIGN_OR_RETURN(std::string name, NameArg(args));
                         ZEROFS_ASSIGN_OR_RETURN(engine::CheckpointInfo info,
                                                 volume.volume().GetCheckpoint(name));
                         return CheckpointJson(info);
                       });
    control_->Register("checkpoint.delete", "deletes a checkpoint {name}; GC reclaims its space",
                       [&volume](const json& args, const ControlProgress&) -> Result<json> {
                         ZEROFS_ASSIGN_OR_RETURN(std::string name, NameArg(args));
                         ZEROFS_RETURN_IF_ERROR(volume.volume().DeleteCheckpoint(name));
                         return json{{"name", name}};
                       });
  }
  auto space_cache = std::make_shared<SpaceCache>(volume);
  registry_->Add([space_cache](MetricsText& out) {
    const std::optional<engine::SpaceStats> space = space_cache->Get();
    if (!space) return;
    out.Gauge("zerofs_live_bytes", "sealed bytes of the extents the volume refers to",
              static_cast<double>(space->live_bytes));
    out.Gauge("zerofs_stored_bytes", "bytes of all segment objects in the bucket",
              static_cast<double>(space->stored_bytes));
    out.Gauge("zerofs_segments", "segment objects in the bucket",
              static_cast<double>(space->segment_count));
    out.Gauge("zerofs_space_amplification", "stored bytes / live bytes", space->amplification());
    out.Gauge("zerofs_checkpoints", "named checkpoints", static_cast<double>(space->checkpoints));
  });
  registry_->Add([&volume](MetricsText& out) {
    const engine::VolumeStats s = volume.volume().stats();
    const objstore::MeterSnapshot m = volume.store_requests();
    const std::pair<const char*, std::uint64_t> requests[] = {
        {"get", m.get_requests},   {"put", m.put_requests},       {"head", m.head_requests},
        {"list", m.list_requests}, {"delete", m.delete_requests},
    };
    for (const auto& [op, count] : requests) {
      out.Counter("zerofs_store_requests_total", "requests to the object store, by operation",
                  static_cast<double>(count), {{"op", op}});
    }
    // Payload flows in only with GETs and out only with PUTs.
    out.Counter("zerofs_store_bytes_total", "payload bytes to and from the object store",
                static_cast<double>(m.bytes_in), {{"direction", "in"}, {"op", "get"}});
    out.Counter("zerofs_store_bytes_total", "payload bytes to and from the object store",
                static_cast<double>(m.bytes_out), {{"direction", "out"}, {"op", "put"}});
    const std::pair<const char*, std::uint64_t> frames[] = {
        {"memory", s.cache_memory_hits}, {"disk", s.cache_disk_hits}, {"bucket", s.cache_misses}};
    for (const auto& [source, count] : frames) {
      out.Counter("zerofs_cache_frames_total",
                  "extent frames read, by where they came from (memory cache, disk cache, or "
                  "the bucket: a miss)",
                  static_cast<double>(count), {{"source", source}});
    }
    const std::uint64_t frames_read = s.cache_memory_hits + s.cache_disk_hits + s.cache_misses;
    constexpr const char* kHitRatioHelp =
        "share of extent frames served from cache since start (cache=any: memory or disk)";
    out.Gauge("zerofs_cache_hit_ratio", kHitRatioHelp,
              frames_read == 0 ? 0.0
                               : static_cast<double>(s.cache_memory_hits + s.cache_disk_hits) /
                                     static_cast<double>(frames_read),
              {{"cache", "any"}});
    out.Gauge("zerofs_cache_hit_ratio", kHitRatioHelp,
              frames_read == 0
                  ? 0.0
                  : static_cast<double>(s.cache_memory_hits) / static_cast<double>(frames_read),
              {{"cache", "memory"}});
    {
      std::vector<double> bounds(engine::VolumeStats::kFlushLatencyBoundsS.begin(),
                                 engine::VolumeStats::kFlushLatencyBoundsS.end());
      std::vector<std::uint64_t> cumulative;
      std::uint64_t running = 0;
      for (std::size_t i = 0; i < bounds.size(); ++i) {
        running += s.flush_latency_counts[i];
        cumulative.push_back(running);
      }
      out.Histogram("zerofs_flush_latency_seconds",
                    "from cutting a batch to having it durable in the bucket", bounds, cumulative,
                    s.flush_latency_count, s.flush_latency_sum_s);
    }
    out.Counter("zerofs_store_errors_total", "failed object store requests",
                static_cast<double>(m.errors));
    out.Gauge("zerofs_dirty_bytes", "data buffered in memory, not yet durable",
              static_cast<double>(s.buffered_bytes));
    out.Counter("zerofs_segments_written_total", "segments uploaded by this process",
                static_cast<double>(s.segments_written));
    out.Counter("zerofs_flushes_total", "flushes of the write buffer",
                static_cast<double>(s.flushes));
    out.Counter("zerofs_index_snapshots_total", "index snapshots uploaded",
                static_cast<double>(s.snapshots_written));
    out.Gauge("zerofs_durable_seq", "every segment up to this seq is in the bucket",
              static_cast<double>(s.durable_seq));
    out.Gauge("zerofs_committed_seq", "the write batch number the next change joins (counted from this open)",
              static_cast<double>(s.committed_seq));
    out.Gauge("zerofs_writer_epoch", "the writer epoch of this volume",
              static_cast<double>(s.writer_epoch));
    out.Gauge("zerofs_fenced", "1 when another writer fenced this one", s.fenced ? 1.0 : 0.0);
    out.Gauge("zerofs_read_only", "1 when serving read-only", volume.read_only() ? 1.0 : 0.0);
    // One LIST per scrape, on read-only volumes only (a writer's lag is 0 by definition).
    if (auto behind = volume.volume().SegmentsBehind(); behind.ok()) {
      out.Gauge("zerofs_replica_lag_segments",
                "segments in the bucket beyond the newest this (read-only) process applied",
                static_cast<double>(*behind));
    }
  });
}

void Services::AddProtocol(std::string name, std::function<ProtocolCounters()> counters) {
  AddStatsSection("protocol." + name, [counters] {
    const ProtocolCounters c = counters();
    return json{{"connections_accepted", c.connections_accepted},
                {"connections_active", c.connections_active},
                {"connections_refused", c.connections_refused},
                {"requests", c.requests},
                {"protocol_errors", c.protocol_errors},
                {"ops", OpsJson(c.ops)}};
  });
  registry_->Add([name, counters](MetricsText& out) {
    const ProtocolCounters c = counters();
    const MetricLabels labels = {{"protocol", name}};
    out.Counter("zerofs_protocol_requests_total", "protocol requests served",
                static_cast<double>(c.requests), labels);
    out.Counter("zerofs_protocol_errors_total",
                "malformed messages and connections closed for them",
                static_cast<double>(c.protocol_errors), labels);
    out.Gauge("zerofs_protocol_connections", "open client connections",
              static_cast<double>(c.connections_active), labels);
    out.Counter("zerofs_protocol_connections_total", "client connections accepted",
                static_cast<double>(c.connections_accepted), labels);
    out.Counter("zerofs_protocol_connections_refused_total",
                "client connections refused over the limit",
                static_cast<double>(c.connections_refused), labels);
    for (const OpCount& op : c.ops) {
      const MetricLabels op_labels = {{"protocol", name}, {"op", op.name}};
      out.Counter("zerofs_protocol_ops_total", "requests by protocol operation",
                  static_cast<double>(op.requests), op_labels);
      out.Counter("zerofs_protocol_op_errors_total",
                  "requests answered with an error, by protocol operation",
                  static_cast<double>(op.errors), op_labels);
    }
  });
}

void Services::AddStatsSection(std::string name, std::function<json()> section) {
  stats_sections_.emplace_back(std::move(name), std::move(section));
}

Status Services::Start() {
  if (control_ != nullptr) {
    control_->Register("stats", "the volume's and the protocols' counters",
                       [this](const json&, const ControlProgress&) -> Result<json> {
                         json out = json::object();
                         for (const auto& [name, section] : stats_sections_) {
                           // "protocol.nfs" nests as protocols.nfs
                           if (name.rfind("protocol.", 0) == 0) {
                             out["protocols"][name.substr(9)] = section();
                           } else {
                             out[name] = section();
                           }
                         }
                         return out;
                       });
    ZEROFS_RETURN_IF_ERROR(control_->Start());
  }
  if (metrics_server_ != nullptr) {
    Status started = metrics_server_->Start();
    if (!started.ok()) {
      if (control_ != nullptr) control_->Stop();
      return started;
    }
  }
  return Status::Ok();
}

void Services::Stop() {
  if (metrics_server_ != nullptr) metrics_server_->Stop();
  if (control_ != nullptr) control_->Stop();
}

}  // namespace zerofs::server
