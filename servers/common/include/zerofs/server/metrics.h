// Prometheus metrics: a registry of sources that each write their samples in the text
// exposition format (version 0.0.4), and a small HTTP server answering GET /metrics on a
// loopback address ([metrics] listen).
//
// A source is called on every scrape, so values are read when asked for (no background
// sampling). Thread-safety: Add before the server starts; Render from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "zerofs/common/result.h"
#include "zerofs/common/status.h"

namespace zerofs::server {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// Collects samples grouped by metric name, so each name gets one HELP and TYPE line.
class MetricsText {
 public:
  void Counter(std::string_view name, std::string_view help, double value,
               const MetricLabels& labels = {});
  void Gauge(std::string_view name, std::string_view help, double value,
             const MetricLabels& labels = {});
  // `bounds` are the upper bounds of the buckets (seconds, ascending); `counts[i]` the
  // observations <= bounds[i] (cumulative); `count` and `sum` over all observations.
  void Histogram(std::string_view name, std::string_view help,
                 const std::vector<double>& bounds, const std::vector<std::uint64_t>& counts,
                 std::uint64_t count, double sum);
  std::string Render() const;

 private:
  struct Family {
    std::string type;
    std::string help;
    std::vector<std::string> samples;  // full sample lines
  };
  Family& Get(std::string_view name, std::string_view type, std::string_view help);
  std::vector<std::string> order_;
  std::map<std::string, Family, std::less<>> families_;
};

// A fixed-bucket latency histogram that code paths feed and a source renders.
class LatencyHistogram {
 public:
  // Bucket bounds in seconds.
  explicit LatencyHistogram(std::vector<double> bounds);
  void Observe(double seconds);
  void WriteTo(MetricsText& out, std::string_view name, std::string_view help) const;

 private:
  mutable std::mutex mu_;
  std::vector<double> bounds_;
  std::vector<std::uint64_t> counts_;  // per bucket, not cumulative
  std::uint64_t count_ = 0;
  double sum_ = 0;
};

class MetricsRegistry {
 public:
  using Source = std::function<void(MetricsText&)>;
  void Add(Source source);
  std::string Render() const;

 private:
  mutable std::mutex mu_;
  std::vector<Source> sources_;
};

// Serves GET /metrics (anything else: 404) over HTTP/1.1, one request per connection.
class MetricsServer {
 public:
  MetricsServer(std::string listen, std::shared_ptr<MetricsRegistry> registry);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  Status Start();
  void Stop();
  // The bound port (after Start; useful with port 0).
  std::uint16_t port() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace zerofs::server
