// A minimal blocking NBD client over POSIX sockets, for driving the server byte by byte
// (including the malformed bytes real clients never send). Every receive has a timeout so
// that a broken server fails the test instead of hanging it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "../../support/loopback.h"
#include "zerofs/nbd/codec.h"

namespace nbdtest {

class TestClient {
 public:
  static std::optional<TestClient> Tcp(std::uint16_t port) {
    const int fd = zerofs::testing::ConnectLoopback(port);
    if (fd < 0) return std::nullopt;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return TestClient(fd);
  }

  static std::optional<TestClient> Unix(const std::string& path) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd);
      return std::nullopt;
    }
    return TestClient(fd);
  }

  TestClient(TestClient&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  TestClient& operator=(TestClient&&) = delete;
  ~TestClient() {
    if (fd_ >= 0) ::close(fd_);
  }

  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Exactly `n` bytes, or nullopt on EOF, error or timeout.
  std::optional<std::string> Recv(std::size_t n,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::string out(n, '\0');
    std::size_t got = 0;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (got < n) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
      ssize_t r = ::recv(fd_, out.data() + got, n - got, 0);
      if (r <= 0) return std::nullopt;
      got += static_cast<std::size_t>(r);
    }
    return out;
  }

  // True when the server closes the connection (EOF or reset) within the timeout.
  bool ClosedByServer(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[4096];
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      if (::recv(fd_, buf, sizeof buf, 0) <= 0) return true;
    }
  }

  // Greeting, client flags, optional STRUCTURED_REPLY, then NBD_OPT_GO. Returns the
  // transmission flags, or nullopt if any step differs from a successful handshake.
  std::optional<std::uint16_t> Handshake(const std::string& name, bool structured) {
    using namespace zerofs::nbd;
    auto greeting = Recv(kGreetingBytes);
    if (!greeting || greeting->substr(0, 8) != "NBDMAGIC") return std::nullopt;
    if (!Send(std::string("\0\0\0\3", 4))) return std::nullopt;
    if (structured) {
      Send(EncodeOptionHeader(static_cast<std::uint32_t>(Option::kStructuredReply), ""));
      auto reply = ReadOptionReply();
      if (!reply || reply->first.type != static_cast<std::uint32_t>(OptionReply::kAck)) {
        return std::nullopt;
      }
    }
    Send(
        EncodeOptionHeader(static_cast<std::uint32_t>(Option::kGo), EncodeInfoRequest({name, {}})));
    std::optional<std::uint16_t> flags;
    for (;;) {
      auto reply = ReadOptionReply();
      if (!reply) return std::nullopt;
      if (reply->first.type == static_cast<std::uint32_t>(OptionReply::kAck)) return flags;
      if (reply->first.type != static_cast<std::uint32_t>(OptionReply::kInfo)) return std::nullopt;
      const std::string& d = reply->second;
      if (d.size() == 12 && d[0] == 0 && d[1] == 0) {
        flags = static_cast<std::uint16_t>((static_cast<unsigned char>(d[10]) << 8) |
                                           static_cast<unsigned char>(d[11]));
      }
    }
  }

  std::optional<std::pair<zerofs::nbd::OptionReplyHeader, std::string>> ReadOptionReply() {
    auto header = Recv(zerofs::nbd::kOptionReplyHeaderBytes);
    if (!header) return std::nullopt;
    auto h = zerofs::nbd::DecodeOptionReplyHeader(*header);
    if (!h.ok()) return std::nullopt;
    auto data = h->length == 0 ? std::optional<std::string>("") : Recv(h->length);
    if (!data) return std::nullopt;
    return std::make_pair(*h, *data);
  }

  bool SendRequest(std::uint16_t type, std::uint64_t cookie, std::uint64_t offset,
                   std::uint32_t length, std::uint16_t flags = 0, std::string_view payload = {}) {
    return Send(zerofs::nbd::EncodeRequest({flags, type, cookie, offset, length})) && Send(payload);
  }

  // A simple reply header; read data follows for successful READs.
  std::optional<zerofs::nbd::SimpleReplyHeader> ReadSimpleReply(
      std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto bytes = Recv(zerofs::nbd::kSimpleReplyHeaderBytes, timeout);
    if (!bytes) return std::nullopt;
    auto h = zerofs::nbd::DecodeSimpleReplyHeader(*bytes);
    if (!h.ok()) return std::nullopt;
    return *h;
  }

 private:
  explicit TestClient(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace nbdtest
