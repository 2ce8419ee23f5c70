// The control socket; see control.h.
#include "zerofs/server/control.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "zerofs/common/log.h"

namespace zerofs::server {

namespace {

using nlohmann::json;

constexpr std::size_t kMaxLine = 64 * 1024;
constexpr std::size_t kMaxReplyLine = 64 * 1024 * 1024;
constexpr std::size_t kMaxConnections = 16;

struct CodeName {
  StatusCode code;
  std::string_view name;
};
constexpr CodeName kCodeNames[] = {
    {StatusCode::kOk, "ok"},
    {StatusCode::kNotFound, "not_found"},
    {StatusCode::kPreconditionFailed, "precondition_failed"},
    {StatusCode::kUnavailable, "unavailable"},
    {StatusCode::kPermissionDenied, "permission_denied"},
    {StatusCode::kInvalidArgument, "invalid_argument"},
    {StatusCode::kCorruption, "corruption"},
    {StatusCode::kIoError, "io_error"},
    {StatusCode::kNoSpace, "no_space"},
    {StatusCode::kNotSupported, "not_supported"},
    {StatusCode::kAlreadyExists, "already_exists"},
    {StatusCode::kCancelled, "cancelled"},
    {StatusCode::kInternal, "internal"},
};

Result<sockaddr_un> UnixAddress(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return Status::InvalidArgument("control socket path '" + path + "' is empty or too long");
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

// A connected socket, closed on destruction.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int Release() { return std::exchange(fd_, -1); }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

Result<Fd> Connect(const std::string& path) {
  ZEROFS_ASSIGN_OR_RETURN(sockaddr_un addr, UnixAddress(path));
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return Status::FromErrno(errno, "socket");
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int err = errno;
    if (err == ENOENT || err == ECONNREFUSED) {
      return Status::Unavailable("no server is listening on the control socket " + path);
    }
    return Status::FromErrno(err, "connecting to the control socket " + path);
  }
  return fd;
}

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "control socket write");
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}

// Reads lines from a socket, each at most `max` bytes.
class LineReader {
 public:
  LineReader(int fd, std::size_t max) : fd_(fd), max_(max) {}

  // The next line without its newline; kCancelled at a clean end of stream.
  Result<std::string> Next(int timeout_ms) {
    for (;;) {
      const std::size_t nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      if (buffer_.size() > max_) {
        return Status::InvalidArgument("control line longer than " + std::to_string(max_) +
                                       " bytes");
      }
      pollfd p{fd_, POLLIN, 0};
      const int ready = ::poll(&p, 1, timeout_ms);
      if (ready < 0) {
        if (errno == EINTR) continue;
        return Status::FromErrno(errno, "control socket poll");
      }
      if (ready == 0) return Status::Unavailable("the control socket timed out");
      char chunk[8192];
      const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Status::FromErrno(errno, "control socket read");
      }
      if (n == 0) return Status::Cancelled("the control connection closed");
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_;
  std::size_t max_;
  std::string buffer_;
};

json ErrorReply(const Status& status) {
  return json{{"ok", false},
              {"code", std::string(ControlCodeName(status.code()))},
              {"error", status.message()}};
}

}  // namespace

std::string_view ControlCodeName(StatusCode code) {
  for (const CodeName& c : kCodeNames) {
    if (c.code == code) return c.name;
  }
  return "internal";
}

StatusCode ControlCodeFromName(std::string_view name) {
  for (const CodeName& c : kCodeNames) {
    if (c.name == name) return c.code;
  }
  return StatusCode::kInternal;
}

std::string DefaultControlSocket() {
  if (::geteuid() == 0) return "/run/zerofs/control.sock";
  if (const char* runtime = std::getenv("XDG_RUNTIME_DIR"); runtime != nullptr && *runtime) {
    return std::string(runtime) + "/zerofs/control.sock";
  }
  return "/tmp/zerofs-" + std::to_string(::geteuid()) + "/control.sock";
}

class ControlServer::Impl {
 public:
  struct Entry {
    std::string summary;
    ControlHandler handler;
  };

  explicit Impl(std::string path) : path_(std::move(path)) {}

  ~Impl() { Stop(); }

  void Register(std::string op, std::string summary, ControlHandler handler) {
    ops_[std::move(op)] = Entry{std::move(summary), std::move(handler)};
  }

  Status Start() {
    ZEROFS_ASSIGN_OR_RETURN(sockaddr_un addr, UnixAddress(path_));
    const std::filesystem::path dir = std::filesystem::path(path_).parent_path();
    if (!dir.empty()) {
      std::error_code ec;
      if (!std::filesystem::exists(dir, ec)) {
        std::filesystem::create_directories(dir, ec);
        if (ec) {
          return Status::IoError("cannot create " + dir.string() + ": " + ec.message());
        }
        ::chmod(dir.c_str(), 0700);
      }
    }
    // A socket someone answers on belongs to a running server: never steal it.
    if (auto live = Connect(path_); live.ok()) {
      return Status::AlreadyExists("another server is using the control socket " + path_);
    }
    ::unlink(path_.c_str());
    listen_fd_ = Fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (listen_fd_.get() < 0) return Status::FromErrno(errno, "socket");
    // Created 0600 from the start: no window in which others could connect.
    const mode_t old_mask = ::umask(0177);
    const int bound =
        ::bind(listen_fd_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
    const int bind_errno = errno;
    ::umask(old_mask);
    if (bound != 0) return Status::FromErrno(bind_errno, "binding the control socket " + path_);
    if (::listen(listen_fd_.get(), 16) != 0) {
      return Status::FromErrno(errno, "listening on the control socket " + path_);
    }
    if (::pipe2(wake_, O_CLOEXEC) != 0) return Status::FromErrno(errno, "pipe");
    ops_["help"] = Entry{"lists the operations", [this](const json&, const ControlProgress&) {
                           json list = json::object();
                           for (const auto& [name, entry] : ops_) list[name] = entry.summary;
                           return Result<json>(list);
                         }};
    accept_thread_ = std::thread([this] { AcceptLoop(); });
    ZEROFS_LOG(kInfo) << "control socket " << path_;
    return Status::Ok();
  }

  void Stop() {
    if (stopping_.exchange(true)) return;
    if (wake_[1] >= 0) {
      const char byte = 0;
      [[maybe_unused]] const ssize_t n = ::write(wake_[1], &byte, 1);
    }
    if (accept_thread_.joinable()) accept_thread_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
      threads.swap(threads_);
    }
    for (std::thread& t : threads) t.join();
    if (listen_fd_.get() >= 0) {
      listen_fd_.Reset();
      ::unlink(path_.c_str());
    }
    for (int& fd : wake_) {
      if (fd >= 0) ::close(fd);
      fd = -1;
    }
  }

 private:
  void AcceptLoop() {
    for (;;) {
      pollfd fds[2] = {{listen_fd_.get(), POLLIN, 0}, {wake_[0], POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        ZEROFS_LOG(kError) << "control socket: poll: " << std::strerror(errno);
        return;
      }
      if (stopping_ || (fds[1].revents & POLLIN) != 0) return;
      Fd conn(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (conn.get() < 0) continue;
      std::lock_guard<std::mutex> lock(mu_);
      if (open_fds_.size() >= kMaxConnections) {
        (void)WriteAll(conn.get(),
                       ErrorReply(Status::Unavailable("too many control connections")).dump() +
                           "\n");
        continue;
      }
      const int fd = conn.Release();  // Serve closes it
      open_fds_.push_back(fd);
      threads_.emplace_back([this, fd] { Serve(fd); });
    }
  }

  // Runs in the connection's thread; closes the socket at the end.
  void Serve(int fd) {
    LineReader reader(fd, kMaxLine);
    while (!stopping_) {
      auto line = reader.Next(-1);
      if (!line.ok()) break;
      const json reply = Handle(fd, *line);
      if (!WriteAll(fd, reply.dump() + "\n").ok()) break;
    }
    std::lock_guard<std::mutex> lock(mu_);
    std::erase(open_fds_, fd);
    ::close(fd);
  }

  json Handle(int fd, const std::string& line) {
    json request = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!request.is_object() || !request.contains("op") || !request["op"].is_string()) {
      return ErrorReply(Status::InvalidArgument(
          "a control request is one JSON object per line with a string \"op\""));
    }
    const std::string op = request["op"].get<std::string>();
    json args = request.value("args", json::object());
    auto it = ops_.find(op);
    if (it == ops_.end()) {
      return ErrorReply(Status::NotSupported("unknown control operation '" + op +
                                             "' (\"help\" lists them)"));
    }
    ControlProgress progress = [fd](const json& p) {
      (void)WriteAll(fd, json{{"progress", p}}.dump() + "\n");
    };
    ZEROFS_LOG(kDebug) << "control: " << op;
    Result<json> result = Status::Internal("not run");
    try {
      result = it->second.handler(args, progress);
    } catch (const std::exception& e) {
      // Arguments of the wrong JSON type land here; the server keeps serving.
      result = Status::InvalidArgument(op + ": bad arguments: " + e.what());
    }
    if (!result.ok()) {
      ZEROFS_LOG(kWarn) << "control: " << op << ": " << result.status();
      return ErrorReply(result.status());
    }
    return json{{"ok", true}, {"result", std::move(*result)}};
  }

  std::string path_;
  std::map<std::string, Entry, std::less<>> ops_;
  Fd listen_fd_;
  int wake_[2] = {-1, -1};
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;
  std::mutex mu_;
  std::vector<int> open_fds_;
  std::vector<std::thread> threads_;
};

ControlServer::ControlServer(std::string socket_path)
    : path_(socket_path), impl_(std::make_unique<Impl>(std::move(socket_path))) {}

ControlServer::~ControlServer() = default;

void ControlServer::Register(std::string op, std::string summary, ControlHandler handler) {
  impl_->Register(std::move(op), std::move(summary), std::move(handler));
}

Status ControlServer::Start() { return impl_->Start(); }

void ControlServer::Stop() { impl_->Stop(); }

Result<nlohmann::json> CallControl(const std::string& socket_path, std::string_view op,
                                   const nlohmann::json& args, const ControlProgress& progress,
                                   std::chrono::milliseconds timeout) {
  ZEROFS_ASSIGN_OR_RETURN(Fd fd, Connect(socket_path));
  const json request{{"op", std::string(op)}, {"args", args}};
  ZEROFS_RETURN_IF_ERROR(WriteAll(fd.get(), request.dump() + "\n"));
  LineReader reader(fd.get(), kMaxReplyLine);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Status::Unavailable("the server did not answer in time");
    const int wait_ms = static_cast<int>(std::min<std::int64_t>(left.count(), 1 << 30));
    auto line = reader.Next(wait_ms);
    if (!line.ok()) {
      if (line.status().code() == StatusCode::kCancelled) {
        return Status::Unavailable("the server closed the control connection");
      }
      return line.status();
    }
    json reply = json::parse(*line, nullptr, /*allow_exceptions=*/false);
    if (!reply.is_object()) return Status::Corruption("the server sent a malformed reply");
    if (reply.contains("progress")) {
      if (progress) progress(reply["progress"]);
      continue;
    }
    if (reply.value("ok", false)) return reply.value("result", json::object());
    return Status(ControlCodeFromName(reply.value("code", std::string("internal"))),
                  reply.value("error", std::string("the server reported an error")));
  }
}

}  // namespace zerofs::server
