#include "address.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace zerofs::mount {

std::string Address::ToString() const {
  if (!unix_path.empty()) return unix_path;
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + port;
  return host + ":" + port;
}

Result<Address> ParseAddress(const std::string& text) {
  Address a;
  struct stat st {};
  if (text.find('/') != std::string::npos ||
      (::stat(text.c_str(), &st) == 0 && S_ISSOCK(st.st_mode))) {
    if (text.size() >= sizeof(sockaddr_un::sun_path)) {
      return Status::InvalidArgument("Unix socket path too long: " + text);
    }
    a.unix_path = text;
    return a;
  }
  std::string::size_type colon;
  if (!text.empty() && text[0] == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Status::InvalidArgument("bad address '" + text + "': expected [IPv6]:PORT");
    }
    a.host = text.substr(1, close - 1);
    colon = close + 1;
  } else {
    colon = text.rfind(':');
    if (colon == std::string::npos || text.find(':') != colon) {
      return Status::InvalidArgument("bad address '" + text +
                                     "': expected HOST:PORT, [IPv6]:PORT or a socket path");
    }
    a.host = text.substr(0, colon);
  }
  a.port = text.substr(colon + 1);
  if (a.host.empty() || a.port.empty() ||
      a.port.find_first_not_of("0123456789") != std::string::npos) {
    return Status::InvalidArgument("bad address '" + text + "': expected HOST:PORT");
  }
  return a;
}

namespace {

// SO_SNDTIMEO also bounds connect() on Linux; cleared again once connected.
void SetSendTimeout(int fd, int timeout_ms) {
  timeval tv{};
  tv.tv_sec = timeout_ms / 1000;
  tv.tv_usec = (timeout_ms % 1000) * 1000;
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

}  // namespace

Result<int> Dial(const Address& address, int timeout_ms) {
  if (!address.unix_path.empty()) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Status::FromErrno(errno, "socket");
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, address.unix_path.c_str(), address.unix_path.size() + 1);
    SetSendTimeout(fd, timeout_ms);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
      int err = errno;
      ::close(fd);
      return Status::FromErrno(err, "connect to " + address.unix_path);
    }
    SetSendTimeout(fd, 0);
    return fd;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  int rc = ::getaddrinfo(address.host.c_str(), address.port.c_str(), &hints, &list);
  if (rc != 0) {
    return Status::Unavailable("resolve " + address.ToString() + ": " + ::gai_strerror(rc));
  }
  int last_err = ECONNREFUSED;
  for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last_err = errno;
      continue;
    }
    SetSendTimeout(fd, timeout_ms);
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      SetSendTimeout(fd, 0);
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      ::freeaddrinfo(list);
      return fd;
    }
    last_err = errno;
    ::close(fd);
  }
  ::freeaddrinfo(list);
  return Status::FromErrno(last_err, "connect to " + address.ToString());
}

}  // namespace zerofs::mount
