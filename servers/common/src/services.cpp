// The control socket and metrics of a running server; see services.h.
#include "zerofs/server/services.h"

#include <chrono>
#include <utility>

#include "zerofs/common/log.h"

namespace zerofs::server {

namespace {

using nlohmann::json;

json MeterJson(const objstore::MeterSnapshot& m) {
  return json{{"get_requests", m.get_requests},   {"put_requests", m.put_requests},
              {"head_requests", m.head_requests}, {"list_requests", m.list_requests},
              {"delete_requests", m.delete_requests}, {"deleted_keys", m.deleted_keys},
              {"bytes_in", m.bytes_in},           {"bytes_out", m.bytes_out},
              {"errors", m.errors}};
}

}  // namespace

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

Services::~Services() { Stop(); }

void Services::AddVolume(ServedVolume& volume) {
  AddStatsSection("volume", [&volume] { return VolumeStatsJson(volume); });
  if (control_ != nullptr) {
    control_->Register("flush", "makes every change made so far durable in the bucket",
                       [&volume](const json&, const ControlProgress&) -> Result<json> {
                         const auto start = std::chrono::steady_clock::now();
                         ZEROFS_RETURN_IF_ERROR(volume.filesystem()->SyncAll());
                         const double seconds = std::chrono::duration<double>(
                                                    std::chrono::steady_clock::now() - start)
                                                    .count();
                         return json{{"durable_seq", volume.volume().stats().durable_seq},
                                     {"seconds", seconds}};
                       });
  }
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
    out.Counter("zerofs_store_bytes_total", "payload bytes to and from the object store",
                static_cast<double>(m.bytes_in), {{"direction", "in"}});
    out.Counter("zerofs_store_bytes_total", "payload bytes to and from the object store",
                static_cast<double>(m.bytes_out), {{"direction", "out"}});
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
    out.Gauge("zerofs_committed_seq", "the seq the next change gets",
              static_cast<double>(s.committed_seq));
    out.Gauge("zerofs_writer_epoch", "the writer epoch of this volume",
              static_cast<double>(s.writer_epoch));
    out.Gauge("zerofs_fenced", "1 when another writer fenced this one",
              s.fenced ? 1.0 : 0.0);
    out.Gauge("zerofs_read_only", "1 when serving read-only", volume.read_only() ? 1.0 : 0.0);
  });
}

void Services::AddProtocol(std::string name, std::function<ProtocolCounters()> counters) {
  AddStatsSection("protocol." + name, [counters] {
    const ProtocolCounters c = counters();
    return json{{"connections_accepted", c.connections_accepted},
                {"connections_active", c.connections_active},
                {"connections_refused", c.connections_refused},
                {"requests", c.requests},
                {"protocol_errors", c.protocol_errors}};
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
