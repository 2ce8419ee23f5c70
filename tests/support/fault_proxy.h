// FaultProxy: an HTTP/1.1 proxy on loopback that forwards requests to a real server (the
// test radosgw) and misbehaves on demand, to test S3Store's retries against real failures
// of the network rather than simulated ones.
//
// The client (S3Store) talks to http://127.0.0.1:<port>() as if it were the server; each
// request is forwarded on a fresh upstream connection and the answer relayed back. Tests
// arm faults for the next N requests (optionally of one HTTP method only):
//   kStatus503        answer 503 SlowDown without forwarding
//   kDropRequest      close the connection after the request headers, body unread
//   kDropResponse     forward (the server acts on it), then close without answering
//   kTruncateResponse forward, relay part of the answer, then close
//   kNoSuchUpload     answer 404 NoSuchUpload without forwarding (what S3 says to a repeated
//                     CompleteMultipartUpload once the first one succeeded)
//   kDeleteKeyError   forward a DeleteObjects request, then answer that its first key failed
//                     with the S3 error code given as `detail` (others count as deleted)
// Armed faults form a queue: each InjectNext() applies after those armed before it.
// The Host header is relayed unchanged, so SigV4 signatures stay valid.
//
// Thread-safety: the arming and counting methods may be called from any thread while the
// proxy runs. The destructor stops the proxy and joins its threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace zerofs::testing {

class FaultProxy {
 public:
  enum class Fault : std::uint8_t {
    kNone,
    kStatus503,
    kDropRequest,
    kDropResponse,
    kTruncateResponse,
    kNoSuchUpload,
    kDeleteKeyError,
  };

  // Listens on an ephemeral port of 127.0.0.1 and forwards to upstream_host:upstream_port.
  // Throws std::runtime_error if it cannot listen (a test setup failure).
  FaultProxy(std::string upstream_host, std::uint16_t upstream_port);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  std::uint16_t port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // The next `count` requests whose method is `method` and whose request target contains
  // `target_part` (either filter empty: any) get `fault`, once earlier armed faults are used.
  void InjectNext(Fault fault, int count, std::string method = "", std::string target_part = "",
                  std::string detail = "");
  void ClearFaults();
  // Faults armed but not yet used.
  int pending() const;

  int requests() const { return requests_.load(); }
  // The most requests that were ever in flight through the proxy at once.
  int max_in_flight() const { return max_active_.load(); }
  int faults_injected() const { return faults_.load(); }

 private:
  void AcceptLoop();
  void Serve(int client_fd);
  // The fault for this request, and its detail.
  std::pair<Fault, std::string> TakeFault(std::string_view request_line);

  std::string upstream_host_;
  std::uint16_t upstream_port_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> requests_{0};
  std::atomic<int> faults_{0};
  std::atomic<int> active_{0};
  std::atomic<int> max_active_{0};

  struct Rule {
    Fault fault;
    int count;
    std::string method;
    std::string target_part;
    std::string detail;
  };
  mutable std::mutex mu_;
  std::deque<Rule> rules_;                // GUARDED_BY(mu_)
  std::set<int> client_fds_;              // GUARDED_BY(mu_)
  std::vector<std::thread> connections_;  // GUARDED_BY(mu_)
  std::thread acceptor_;
};

}  // namespace zerofs::testing
