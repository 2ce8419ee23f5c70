#include "connection.h"

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string_view>

#include "zerofs/common/log.h"
#include "zerofs/ninep/codec.h"
#include "zerofs/ninep/protocol.h"

namespace zerofs::mount {

namespace {

bool ReadExactly(int fd, char* out, std::size_t n) {
  while (n > 0) {
    ssize_t got = ::recv(fd, out, n, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    out += got;
    n -= static_cast<std::size_t>(got);
  }
  return true;
}

bool WriteAll(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    ssize_t put = ::send(fd, data, n, MSG_NOSIGNAL);
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) return false;
    data += put;
    n -= static_cast<std::size_t>(put);
  }
  return true;
}

// Reads one whole frame; nullopt on EOF, error or a bad header.
std::optional<std::pair<ninep::FrameHeader, std::string>> ReadFrame(int fd, std::uint32_t msize,
                                                                    std::string* why) {
  char header[ninep::kHeaderBytes];
  if (!ReadExactly(fd, header, sizeof(header))) {
    *why = "connection closed by the server";
    return std::nullopt;
  }
  auto h = ninep::DecodeFrameHeader(std::string_view(header, sizeof(header)), msize);
  if (!h.ok()) {
    *why = "bad reply header: " + h.status().message();
    return std::nullopt;
  }
  std::string body(h->body_bytes(), '\0');
  if (!body.empty() && !ReadExactly(fd, body.data(), body.size())) {
    *why = "connection closed by the server in the middle of a reply";
    return std::nullopt;
  }
  return std::make_pair(*h, std::move(body));
}

}  // namespace

Connection::Connection(int fd, std::uint32_t msize, std::string peer)
    : fd_(fd), msize_(msize), peer_(std::move(peer)) {}

Result<std::unique_ptr<Connection>> Connection::Open(const Address& address, std::uint32_t msize,
                                                     int timeout_ms) {
  ZEROFS_ASSIGN_OR_RETURN(int fd, Dial(address, timeout_ms));
  return FromSocket(fd, msize, address.ToString());
}

Result<std::unique_ptr<Connection>> Connection::FromSocket(int fd, std::uint32_t msize,
                                                           std::string peer) {
  std::unique_ptr<Connection> c(new Connection(fd, msize, std::move(peer)));
  ZEROFS_RETURN_IF_ERROR(c->Negotiate(msize));
  // The reader inherits the creating thread's mask: block everything for it so that
  // termination signals go to the threads that handle them.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  c->reader_ = std::thread([raw = c.get()] { raw->ReaderLoop(); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return c;
}

Status Connection::Negotiate(std::uint32_t msize) {
  ninep::Tversion tv;
  tv.msize = msize;
  tv.version = std::string(ninep::kVersion9P2000L);
  std::string frame = ninep::EncodeRequest(ninep::kNoTag, tv);
  // Bounded, so a server that accepts and never answers does not hang the mount.
  timeval tv_timeout{10, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv_timeout, sizeof(tv_timeout));
  if (!WriteAll(fd_, frame.data(), frame.size())) {
    return Status::FromErrno(errno, "send Tversion to " + peer_);
  }
  std::string why;
  auto got = ReadFrame(fd_, msize, &why);
  timeval none{0, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
  if (!got) return Status::Unavailable("version negotiation with " + peer_ + ": " + why);
  auto reply = ninep::DecodeReply(got->first.type, got->second);
  if (!reply.ok()) return Status::Corruption("bad Rversion from " + peer_);
  if (auto* err = std::get_if<ninep::Rlerror>(&*reply)) {
    return Status::FromErrno(static_cast<int>(err->ecode), "Tversion refused by " + peer_);
  }
  auto* rv = std::get_if<ninep::Rversion>(&*reply);
  if (rv == nullptr) return Status::Corruption("unexpected reply to Tversion from " + peer_);
  if (rv->version != ninep::kVersion9P2000L) {
    return Status::NotSupported(peer_ + " does not speak 9P2000.L (answered '" + rv->version +
                                "')");
  }
  if (rv->msize < ninep::kMinMsize || rv->msize > msize) {
    return Status::Corruption("server chose an msize out of range: " +
                              std::to_string(rv->msize));
  }
  msize_ = rv->msize;
  return Status::Ok();
}

Connection::~Connection() {
  Close();
  if (reader_.joinable()) {
    if (reader_.get_id() == std::this_thread::get_id()) {
      reader_.detach();
    } else {
      reader_.join();
    }
  }
  ::close(fd_);
}

void Connection::Close() {
  // shutdown() rather than close(): the reader still owns the descriptor and sees EOF.
  closing_.store(true);
  ::shutdown(fd_, SHUT_RDWR);
}

void Connection::Die(const std::string& why) {
  bool was_alive = alive_.exchange(false);
  ::shutdown(fd_, SHUT_RDWR);
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [tag, waiter] : inflight_) {
    if (!waiter->result) waiter->result = ErrnoOr<ninep::Reply>::Error(kErrLost);
  }
  inflight_.clear();
  cv_.notify_all();
  if (was_alive && !closing_.load()) ZEROFS_LOG(kWarn) << "9p connection to " << peer_ << " lost: " << why;
}

void Connection::ReaderLoop() {
  std::string why;
  for (;;) {
    auto frame = ReadFrame(fd_, msize_, &why);
    if (!frame) break;
    auto reply = ninep::DecodeReply(frame->first.type, frame->second);
    if (!reply.ok()) {
      why = "malformed reply: " + reply.status().message();
      break;
    }
    std::lock_guard<std::mutex> lock(mu_);
    auto it = inflight_.find(frame->first.tag);
    if (it == inflight_.end()) {
      why = "reply with unknown tag " + std::to_string(frame->first.tag);
      break;
    }
    if (!it->second->discard) it->second->result = std::move(*reply);
    inflight_.erase(it);
    cv_.notify_all();
  }
  Die(why);
}

ErrnoOr<std::uint16_t> Connection::Register(const std::shared_ptr<Waiter>& waiter) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return !alive_.load() || inflight_.size() < kMaxInflight; });
  if (!alive_.load()) return Fail{kErrNotSent};
  for (;;) {
    std::uint16_t tag = next_tag_++;
    if (tag == ninep::kNoTag) continue;
    if (inflight_.emplace(tag, waiter).second) return tag;
  }
}

bool Connection::Send(const std::string& frame) {
  std::lock_guard<std::mutex> lock(send_mu_);
  return WriteAll(fd_, frame.data(), frame.size());
}

ErrnoOr<ninep::Reply> Connection::Call(const ninep::Request& request) {
  auto waiter = std::make_shared<Waiter>();
  auto tag = Register(waiter);
  if (!tag.ok()) return Fail{tag.error()};
  std::string frame = ninep::EncodeRequest(*tag, request);
  if (frame.size() > msize_) {
    // A programming error in the caller's chunking; never put it on the wire.
    std::lock_guard<std::mutex> lock(mu_);
    inflight_.erase(*tag);
    cv_.notify_all();
    return Fail{EIO};
  }
  if (!Send(frame)) {
    Die(std::string("send failed: ") + std::strerror(errno));
  }
  auto start = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return waiter->result.has_value(); });
  auto took = std::chrono::steady_clock::now() - start;
  if (took > std::chrono::milliseconds(5)) {
    ZEROFS_LOG(kDebug) << "slow 9p request: " << ninep::MessageTypeName(ninep::TypeOf(request))
                       << " took "
                       << std::chrono::duration_cast<std::chrono::microseconds>(took).count()
                       << " us";
  }
  return std::move(*waiter->result);
}

void Connection::Post(const ninep::Request& request) {
  auto waiter = std::make_shared<Waiter>();
  waiter->discard = true;
  auto tag = Register(waiter);
  if (!tag.ok()) return;
  if (!Send(ninep::EncodeRequest(*tag, request))) {
    Die(std::string("send failed: ") + std::strerror(errno));
  }
}

}  // namespace zerofs::mount
