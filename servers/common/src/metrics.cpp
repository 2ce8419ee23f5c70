// Prometheus metrics; see metrics.h.
#include "zerofs/server/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <thread>

#include "zerofs/common/log.h"
#include "zerofs/server/endpoint.h"

namespace zerofs::server {

namespace {

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return std::to_string(static_cast<long long>(value));
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.9g", value);
  return buf;
}

std::string EscapeLabel(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Sample(std::string_view name, const MetricLabels& labels, double value) {
  std::string line(name);
  if (!labels.empty()) {
    line += '{';
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) line += ',';
      line += labels[i].first + "=\"" + EscapeLabel(labels[i].second) + "\"";
    }
    line += '}';
  }
  line += ' ';
  line += FormatValue(value);
  return line;
}

}  // namespace

MetricsText::Family& MetricsText::Get(std::string_view name, std::string_view type,
                                      std::string_view help) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    order_.emplace_back(name);
    it = families_.emplace(std::string(name), Family{std::string(type), std::string(help), {}})
             .first;
  }
  return it->second;
}

void MetricsText::Counter(std::string_view name, std::string_view help, double value,
                          const MetricLabels& labels) {
  Get(name, "counter", help).samples.push_back(Sample(name, labels, value));
}

void MetricsText::Gauge(std::string_view name, std::string_view help, double value,
                        const MetricLabels& labels) {
  Get(name, "gauge", help).samples.push_back(Sample(name, labels, value));
}

void MetricsText::Histogram(std::string_view name, std::string_view help,
                            const std::vector<double>& bounds,
                            const std::vector<std::uint64_t>& counts, std::uint64_t count,
                            double sum) {
  Family& family = Get(name, "histogram", help);
  const std::string bucket = std::string(name) + "_bucket";
  for (std::size_t i = 0; i < bounds.size() && i < counts.size(); ++i) {
    family.samples.push_back(
        Sample(bucket, {{"le", FormatValue(bounds[i])}}, static_cast<double>(counts[i])));
  }
  family.samples.push_back(Sample(bucket, {{"le", "+Inf"}}, static_cast<double>(count)));
  family.samples.push_back(Sample(std::string(name) + "_sum", {}, sum));
  family.samples.push_back(Sample(std::string(name) + "_count", {}, static_cast<double>(count)));
}

std::string MetricsText::Render() const {
  std::string out;
  for (const std::string& name : order_) {
    const Family& family = families_.find(name)->second;
    out += "# HELP " + name + " " + family.help + "\n";
    out += "# TYPE " + name + " " + family.type + "\n";
    for (const std::string& sample : family.samples) out += sample + "\n";
  }
  return out;
}

LatencyHistogram::LatencyHistogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size(), 0) {}

void LatencyHistogram::Observe(double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), seconds);
  if (it != bounds_.end()) ++counts_[static_cast<std::size_t>(it - bounds_.begin())];
  ++count_;
  sum_ += seconds;
}

void LatencyHistogram::WriteTo(MetricsText& out, std::string_view name,
                               std::string_view help) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::uint64_t> cumulative(counts_.size());
  std::uint64_t running = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    running += counts_[i];
    cumulative[i] = running;
  }
  out.Histogram(name, help, bounds_, cumulative, count_, sum_);
}

void MetricsRegistry::Add(Source source) {
  std::lock_guard<std::mutex> lock(mu_);
  sources_.push_back(std::move(source));
}

std::string MetricsRegistry::Render() const {
  MetricsText text;
  std::lock_guard<std::mutex> lock(mu_);
  for (const Source& source : sources_) source(text);
  return text.Render();
}

class MetricsServer::Impl {
 public:
  Impl(std::string listen, std::shared_ptr<MetricsRegistry> registry)
      : listen_(std::move(listen)), registry_(std::move(registry)) {}
  ~Impl() { Stop(); }

  Status Start() {
    ZEROFS_ASSIGN_OR_RETURN(ListenAddress address,
                            ParseListenAddress(listen_, "127.0.0.1:9091"));
    sockaddr_storage storage{};
    socklen_t length = 0;
    int family = AF_INET;
    if (address.host.find(':') != std::string::npos) {
      family = AF_INET6;
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
      in6->sin6_family = AF_INET6;
      in6->sin6_port = htons(address.port);
      if (::inet_pton(AF_INET6, address.host.c_str(), &in6->sin6_addr) != 1) {
        return Status::InvalidArgument("metrics listen address '" + listen_ + "'");
      }
      length = sizeof(sockaddr_in6);
    } else {
      auto* in4 = reinterpret_cast<sockaddr_in*>(&storage);
      in4->sin_family = AF_INET;
      in4->sin_port = htons(address.port);
      if (::inet_pton(AF_INET, address.host.c_str(), &in4->sin_addr) != 1) {
        return Status::InvalidArgument("metrics listen address '" + listen_ + "'");
      }
      length = sizeof(sockaddr_in);
    }
    fd_ = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return Status::FromErrno(errno, "socket");
    const int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&storage), length) != 0) {
      return Status::FromErrno(errno, "metrics: cannot listen on " + listen_);
    }
    if (::listen(fd_, 16) != 0) return Status::FromErrno(errno, "metrics: listen");
    sockaddr_storage bound{};
    socklen_t bound_length = sizeof(bound);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&bound), &bound_length);
    port_ = ntohs(family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                     : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    if (::pipe2(wake_, O_CLOEXEC) != 0) return Status::FromErrno(errno, "pipe");
    thread_ = std::thread([this] { Loop(); });
    ZEROFS_LOG(kInfo) << "metrics on http://" << (family == AF_INET6 ? "[" : "") << address.host
                      << (family == AF_INET6 ? "]" : "") << ":" << port_ << "/metrics";
    return Status::Ok();
  }

  void Stop() {
    if (stopped_.exchange(true)) return;
    if (wake_[1] >= 0) {
      const char byte = 0;
      [[maybe_unused]] const ssize_t n = ::write(wake_[1], &byte, 1);
    }
    if (thread_.joinable()) thread_.join();
    for (int* fd : {&fd_, &wake_[0], &wake_[1]}) {
      if (*fd >= 0) ::close(*fd);
      *fd = -1;
    }
  }

  std::uint16_t port() const { return port_; }

 private:
  void Loop() {
    for (;;) {
      pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if ((fds[1].revents & POLLIN) != 0) return;
      const int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) continue;
      Answer(conn);
      ::close(conn);
    }
  }

  // One request, read within a second; scrapes are small and rare, so one thread serves.
  void Answer(int conn) {
    std::string request;
    char buf[4096];
    while (request.find("\r\n\r\n") == std::string::npos && request.size() < 16384) {
      pollfd p{conn, POLLIN, 0};
      if (::poll(&p, 1, 1000) <= 0) return;
      const ssize_t n = ::recv(conn, buf, sizeof(buf), 0);
      if (n <= 0) return;
      request.append(buf, static_cast<std::size_t>(n));
    }
    std::string status = "200 OK";
    std::string body;
    std::string type = "text/plain; version=0.0.4; charset=utf-8";
    if (request.rfind("GET /metrics ", 0) == 0 || request.rfind("GET /metrics?", 0) == 0) {
      body = registry_->Render();
    } else if (request.rfind("GET ", 0) == 0) {
      status = "404 Not Found";
      body = "zerofs: metrics are at /metrics\n";
      type = "text/plain; charset=utf-8";
    } else {
      status = "405 Method Not Allowed";
      body = "zerofs: only GET /metrics\n";
      type = "text/plain; charset=utf-8";
    }
    const std::string head = "HTTP/1.1 " + status + "\r\nContent-Type: " + type +
                             "\r\nContent-Length: " + std::to_string(body.size()) +
                             "\r\nConnection: close\r\n\r\n";
    std::string_view out;
    const std::string whole = head + body;
    out = whole;
    while (!out.empty()) {
      const ssize_t n = ::send(conn, out.data(), out.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      out.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  std::string listen_;
  std::shared_ptr<MetricsRegistry> registry_;
  int fd_ = -1;
  int wake_[2] = {-1, -1};
  std::uint16_t port_ = 0;
  std::atomic<bool> stopped_{false};
  std::thread thread_;
};

MetricsServer::MetricsServer(std::string listen, std::shared_ptr<MetricsRegistry> registry)
    : impl_(std::make_unique<Impl>(std::move(listen), std::move(registry))) {}
MetricsServer::~MetricsServer() = default;
Status MetricsServer::Start() { return impl_->Start(); }
void MetricsServer::Stop() { impl_->Stop(); }
std::uint16_t MetricsServer::port() const { return impl_->port(); }

}  // namespace zerofs::server
