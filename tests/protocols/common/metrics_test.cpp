// Prometheus text rendering and the /metrics HTTP endpoint.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "zerofs/server/metrics.h"
#include "zerofs/server/op_counters.h"

namespace {

using zerofs::server::LatencyHistogram;
using zerofs::server::MetricsRegistry;
using zerofs::server::MetricsServer;
using zerofs::server::MetricsText;

std::string HttpGet(std::uint16_t port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  REQUIRE(::send(fd, request.data(), request.size(), 0) ==
          static_cast<ssize_t>(request.size()));
  std::string response;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    response.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return response;
}

}  // namespace

TEST_CASE("metrics: one HELP and TYPE per family, labels escaped") {
  MetricsText text;
  text.Counter("zerofs_x_total", "x things", 3, {{"op", "get"}});
  text.Gauge("zerofs_y", "y now", 1.5);
  text.Counter("zerofs_x_total", "x things", 4, {{"op", "p\"u\\t"}});
  const std::string out = text.Render();
  CHECK(out ==
        "# HELP zerofs_x_total x things\n"
        "# TYPE zerofs_x_total counter\n"
        "zerofs_x_total{op=\"get\"} 3\n"
        "zerofs_x_total{op=\"p\\\"u\\\\t\"} 4\n"
        "# HELP zerofs_y y now\n"
        "# TYPE zerofs_y gauge\n"
        "zerofs_y 1.5\n");
}

TEST_CASE("metrics: histogram buckets are cumulative") {
  LatencyHistogram histogram({0.01, 0.1, 1});
  histogram.Observe(0.005);
  histogram.Observe(0.05);
  histogram.Observe(0.05);
  histogram.Observe(5);
  MetricsText text;
  histogram.WriteTo(text, "zerofs_flush_seconds", "flush latency");
  const std::string out = text.Render();
  CHECK(out.find("zerofs_flush_seconds_bucket{le=\"0.01\"} 1\n") != std::string::npos);
  CHECK(out.find("zerofs_flush_seconds_bucket{le=\"0.1\"} 3\n") != std::string::npos);
  CHECK(out.find("zerofs_flush_seconds_bucket{le=\"1\"} 3\n") != std::string::npos);
  CHECK(out.find("zerofs_flush_seconds_bucket{le=\"+Inf\"} 4\n") != std::string::npos);
  CHECK(out.find("zerofs_flush_seconds_count 4\n") != std::string::npos);
  CHECK(out.find("# TYPE zerofs_flush_seconds histogram\n") != std::string::npos);
}

TEST_CASE("metrics: the HTTP server answers GET /metrics and nothing else") {
  auto registry = std::make_shared<MetricsRegistry>();
  int scrapes = 0;
  registry->Add([&scrapes](MetricsText& out) {
    ++scrapes;
    out.Counter("zerofs_scrapes_total", "scrapes", scrapes);
  });
  MetricsServer server("127.0.0.1:0", registry);
  REQUIRE(server.Start().ok());
  REQUIRE(server.port() != 0);
  const std::string ok = HttpGet(server.port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(ok.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(ok.find("text/plain; version=0.0.4") != std::string::npos);
  CHECK(ok.find("zerofs_scrapes_total 1\n") != std::string::npos);
  const std::string missing = HttpGet(server.port(), "GET / HTTP/1.1\r\n\r\n");
  CHECK(missing.rfind("HTTP/1.1 404", 0) == 0);
  const std::string post = HttpGet(server.port(), "POST /metrics HTTP/1.1\r\n\r\n");
  CHECK(post.rfind("HTTP/1.1 405", 0) == 0);
  server.Stop();
}

TEST_CASE("metrics: a bad listen address is refused") {
  MetricsServer server("localhost:9091", std::make_shared<MetricsRegistry>());
  CHECK_FALSE(server.Start().ok());
}

TEST_CASE("op counters: requests and errors by operation code, unknown codes as other") {
  const zerofs::server::OpCounters ops({"NULL", "GETATTR", "", "LOOKUP"});
  ops.Count(1, false);
  ops.Count(1, true);
  ops.Count(3, false);
  ops.Count(2, true);    // a code without a name
  ops.Count(99, false);  // beyond the table
  const std::vector<zerofs::server::OpCount> snap = ops.Snapshot();
  REQUIRE(snap.size() == 3);
  CHECK(snap[0].name == "GETATTR");
  CHECK(snap[0].requests == 2);
  CHECK(snap[0].errors == 1);
  CHECK(snap[1].name == "LOOKUP");
  CHECK(snap[1].requests == 1);
  CHECK(snap[1].errors == 0);
  CHECK(snap[2].name == "other");
  CHECK(snap[2].requests == 2);
  CHECK(snap[2].errors == 1);
}
