#include "fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string_view>

namespace zerofs::testing {
namespace {

using Clock = std::chrono::steady_clock;
// Bounds every wait, so a confused exchange ends the connection instead of hanging a test.
constexpr auto kIoTimeout = std::chrono::seconds(30);

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Buffered reads from one socket with a deadline, checking a stop flag between polls.
class Reader {
 public:
  Reader(int fd, const std::atomic<bool>& stopping) : fd_(fd), stopping_(stopping) {}

  std::string& buffer() { return buf_; }

  // Reads more bytes; false on EOF, error, timeout or stop.
  bool Fill() {
    const auto deadline = Clock::now() + kIoTimeout;
    while (!stopping_.load() && Clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      const int ready = poll(&p, 1, 100);
      if (ready < 0) return false;
      if (ready == 0) continue;
      char chunk[65536];
      const ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return false;
      buf_.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
    return false;
  }

  // Ensures the buffer holds at least `n` bytes.
  bool Want(std::size_t n) {
    while (buf_.size() < n) {
      if (!Fill()) return false;
    }
    return true;
  }

  // Position just past the first "\r\n\r\n" at or after `from`, reading as needed.
  bool FindHeaderEnd(std::size_t from, std::size_t& end) {
    for (;;) {
      const std::size_t at = buf_.find("\r\n\r\n", from);
      if (at != std::string::npos) {
        end = at + 4;
        return true;
      }
      if (buf_.size() > (1u << 20) || !Fill()) return false;
    }
  }

  // Position just past the next "\r\n" at or after `from`.
  bool FindLineEnd(std::size_t from, std::size_t& end) {
    for (;;) {
      const std::size_t at = buf_.find("\r\n", from);
      if (at != std::string::npos) {
        end = at + 2;
        return true;
      }
      if (!Fill()) return false;
    }
  }

 private:
  int fd_;
  const std::atomic<bool>& stopping_;
  std::string buf_;
};

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// The value of header `name` (lower case) in a header block, or "".
std::string HeaderValue(std::string_view head, std::string_view name) {
  std::size_t pos = head.find("\r\n");
  while (pos != std::string_view::npos && pos + 2 < head.size()) {
    const std::size_t start = pos + 2;
    const std::size_t end = head.find("\r\n", start);
    const std::string_view line = head.substr(start, end - start);
    const std::size_t colon = line.find(':');
    if (colon != std::string_view::npos && Lower(line.substr(0, colon)) == name) {
      std::string_view v = line.substr(colon + 1);
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      return std::string(v);
    }
    pos = end;
  }
  return {};
}

// The request head with any Connection header replaced by "Connection: close", so that
// the upstream connection carries exactly one exchange.
std::string CloseAfterOne(std::string_view head) {
  std::string out;
  std::size_t pos = 0;
  while (pos < head.size()) {
    std::size_t end = head.find("\r\n", pos);
    if (end == std::string_view::npos) end = head.size();
    const std::string_view line = head.substr(pos, end - pos);
    pos = end + 2;
    if (line.empty()) break;
    if (Lower(line.substr(0, 11)) == "connection:") continue;
    out += line;
    out += "\r\n";
  }
  out += "Connection: close\r\n\r\n";
  return out;
}

int ConnectTo(const std::string& host, std::uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1 ||
      connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// Reads one complete response (framed by Content-Length, chunked encoding, or EOF) and
// returns its bytes and the length of its head.
bool ReadResponse(Reader& in, bool head_request, std::string& out, std::size_t& head_len) {
  if (!in.FindHeaderEnd(0, head_len)) return false;
  const std::string_view head(in.buffer().data(), head_len);
  const int status = std::atoi(in.buffer().c_str() + 9);
  std::size_t end = head_len;
  if (head_request || status == 204 || status == 304 || (status >= 100 && status < 200)) {
    // No body.
  } else if (Lower(HeaderValue(head, "transfer-encoding")).find("chunked") != std::string::npos) {
    std::size_t pos = head_len;
    for (;;) {
      std::size_t line_end = 0;
      if (!in.FindLineEnd(pos, line_end)) return false;
      const std::size_t size = std::strtoul(in.buffer().c_str() + pos, nullptr, 16);
      if (size == 0) {
        // Trailer lines, usually none, then an empty line.
        std::size_t p = line_end;
        for (;;) {
          std::size_t e = 0;
          if (!in.FindLineEnd(p, e)) return false;
          if (e == p + 2) {
            end = e;
            break;
          }
          p = e;
        }
        break;
      }
      pos = line_end + size + 2;
      if (!in.Want(pos)) return false;
    }
  } else if (const std::string cl = HeaderValue(head, "content-length"); !cl.empty()) {
    end = head_len + std::strtoull(cl.c_str(), nullptr, 10);
  } else {
    while (in.Fill()) {
    }
    end = in.buffer().size();
  }
  if (!in.Want(end)) return false;
  out = in.buffer().substr(0, end);
  return true;
}

std::string ErrorAnswer(std::string_view status_line, std::string_view code,
                        std::string_view message) {
  const std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" +
                           std::string(code) + "</Code><Message>" + std::string(message) +
                           " (injected by FaultProxy)</Message></Error>";
  return "HTTP/1.1 " + std::string(status_line) +
         "\r\nContent-Type: application/xml\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

// A DeleteResult saying that the first key of the DeleteObjects request `request_body`
// failed with `code`.
std::string DeleteKeyError(std::string_view request_body, std::string_view code) {
  const std::size_t start = request_body.find("<Key>");
  const std::size_t end = request_body.find("</Key>", start);
  const std::string_view key = start == std::string_view::npos || end == std::string_view::npos
                                   ? std::string_view()
                                   : request_body.substr(start + 5, end - start - 5);
  const std::string body =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><DeleteResult><Error><Key>" + std::string(key) +
      "</Key><Code>" + std::string(code) +
      "</Code><Message>injected by FaultProxy</Message></Error></DeleteResult>";
  return "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace

FaultProxy::FaultProxy(std::string upstream_host, std::uint16_t upstream_port)
    : upstream_host_(std::move(upstream_host)), upstream_port_(upstream_port) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("FaultProxy: socket failed");
  const int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(listen_fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(listen_fd_, 64) != 0 ||
      getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(listen_fd_);
    throw std::runtime_error(std::string("FaultProxy: cannot listen: ") + std::strerror(errno));
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

FaultProxy::~FaultProxy() {
  stopping_.store(true);
  acceptor_.join();
  std::vector<std::thread> connections;
  {
    std::lock_guard lock(mu_);
    for (int fd : client_fds_) shutdown(fd, SHUT_RDWR);
    connections.swap(connections_);
  }
  for (std::thread& t : connections) t.join();
  close(listen_fd_);
}

void FaultProxy::InjectNext(Fault fault, int count, std::string method, std::string target_part,
                            std::string detail) {
  std::lock_guard lock(mu_);
  if (count > 0) {
    rules_.push_back({fault, count, std::move(method), std::move(target_part), std::move(detail)});
  }
}

void FaultProxy::ClearFaults() {
  std::lock_guard lock(mu_);
  rules_.clear();
}

int FaultProxy::pending() const {
  std::lock_guard lock(mu_);
  int n = 0;
  for (const Rule& r : rules_) n += r.count;
  return n;
}

std::pair<FaultProxy::Fault, std::string> FaultProxy::TakeFault(std::string_view request_line) {
  const std::string_view method = request_line.substr(0, request_line.find(' '));
  const std::string_view target = request_line.substr(method.size());
  std::lock_guard lock(mu_);
  if (rules_.empty()) return {Fault::kNone, {}};
  Rule& rule = rules_.front();
  if ((!rule.method.empty() && rule.method != method) ||
      target.find(rule.target_part) == std::string_view::npos) {
    return {Fault::kNone, {}};
  }
  std::pair<Fault, std::string> out{rule.fault, rule.detail};
  if (--rule.count == 0) rules_.pop_front();
  faults_.fetch_add(1);
  return out;
}

void FaultProxy::AcceptLoop() {
  while (!stopping_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::lock_guard lock(mu_);
    client_fds_.insert(fd);
    connections_.emplace_back([this, fd] { Serve(fd); });
  }
}

void FaultProxy::Serve(int client_fd) {
  Reader client(client_fd, stopping_);
  for (;;) {
    std::size_t head_len = 0;
    if (!client.FindHeaderEnd(0, head_len)) break;
    const std::string head = client.buffer().substr(0, head_len);
    const std::string method = head.substr(0, head.find(' '));
    requests_.fetch_add(1);
    const auto [fault, detail] = TakeFault(std::string_view(head).substr(0, head.find("\r\n")));
    if (fault == Fault::kDropRequest) break;
    const std::string cl = HeaderValue(head, "content-length");
    const std::size_t body_len = cl.empty() ? 0 : std::strtoull(cl.c_str(), nullptr, 10);
    if (!client.Want(head_len + body_len)) break;
    const std::string body = client.buffer().substr(head_len, body_len);
    client.buffer().erase(0, head_len + body_len);
    // What goes back to the client, and whether the connection ends after it.
    std::string answer;
    bool close_after = false;
    {
      // In flight from here until the answer is ready. The client still waits for it then,
      // so this interval lies within the client's and its overlap bounds the client's.
      struct Active {
        FaultProxy* proxy;
        explicit Active(FaultProxy* p) : proxy(p) {
          const int now = proxy->active_.fetch_add(1) + 1;
          int seen = proxy->max_active_.load();
          while (now > seen && !proxy->max_active_.compare_exchange_weak(seen, now)) {
          }
        }
        ~Active() { proxy->active_.fetch_sub(1); }
        Active(const Active&) = delete;
        Active& operator=(const Active&) = delete;
      } active(this);
      if (fault == Fault::kStatus503) {
        answer = ErrorAnswer("503 Slow Down", "SlowDown", "Please reduce your request rate.");
      } else if (fault == Fault::kNoSuchUpload) {
        answer =
            ErrorAnswer("404 Not Found", "NoSuchUpload", "The specified upload does not exist.");
      } else {
        const int upstream_fd = ConnectTo(upstream_host_, upstream_port_);
        if (upstream_fd < 0) break;
        std::size_t response_head_len = 0;
        Reader upstream(upstream_fd, stopping_);
        const bool ok = SendAll(upstream_fd, CloseAfterOne(head)) && SendAll(upstream_fd, body) &&
                        ReadResponse(upstream, method == "HEAD", answer, response_head_len);
        close(upstream_fd);
        if (!ok || fault == Fault::kDropResponse) break;
        if (fault == Fault::kTruncateResponse) {
          // Part of the head when there is no body, else the head and half the body.
          const std::size_t body_size = answer.size() - response_head_len;
          answer.resize(body_size == 0 ? response_head_len / 2 : response_head_len + body_size / 2);
          close_after = true;
        }
        if (fault == Fault::kDeleteKeyError) answer = DeleteKeyError(body, detail);
      }
    }
    if (!SendAll(client_fd, answer) || close_after) break;
  }
  std::lock_guard lock(mu_);
  client_fds_.erase(client_fd);
  close(client_fd);
}

}  // namespace zerofs::testing
