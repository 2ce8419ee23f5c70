#include "session.h"

#include <algorithm>
#include <thread>

#include "zerofs/common/log.h"

namespace zerofs::mount {

Fid::~Fid() {
  if (clunk_on_drop && session->alive()) {
    ninep::Tclunk clunk;
    clunk.fid = id;
    session->connection().Post(clunk);
  }
}

Session::Session(std::unique_ptr<Connection> connection, std::uint64_t epoch, std::string aname)
    : connection_(std::move(connection)), epoch_(epoch), aname_(std::move(aname)) {}

std::uint32_t Session::NewFid() {
  for (;;) {
    std::uint32_t fid = next_fid_.fetch_add(1);
    if (fid != ninep::kNoFid) return fid;
  }
}

ErrnoOr<FidPtr> Session::Root(std::uint32_t uid) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = roots_.find(uid);
    if (it != roots_.end()) return std::make_shared<Fid>(shared_from_this(), it->second, false);
  }
  ninep::Tattach attach;
  attach.fid = NewFid();
  attach.afid = ninep::kNoFid;
  attach.uname = std::to_string(uid);
  attach.aname = aname_;
  attach.n_uname = uid;
  auto r = Call<ninep::Rattach>(attach);
  if (!r.ok()) return Fail{r.error()};
  std::lock_guard<std::mutex> lock(mu_);
  // Two threads may attach at once; keep the first, clunk the other.
  auto [it, inserted] = roots_.emplace(uid, attach.fid);
  if (!inserted) {
    ninep::Tclunk clunk;
    clunk.fid = attach.fid;
    connection_->Post(clunk);
  }
  return std::make_shared<Fid>(shared_from_this(), it->second, false);
}

Client::Client(Address address, ClientOptions options)
    : address_(std::move(address)), options_(std::move(options)) {}

Client::~Client() { Shutdown(); }

Result<std::shared_ptr<Session>> Client::Dial(std::uint64_t epoch) {
  ZEROFS_ASSIGN_OR_RETURN(auto connection,
                          Connection::Open(address_, options_.msize, options_.connect_timeout_ms));
  return std::make_shared<Session>(std::move(connection), epoch, options_.aname);
}

Status Client::Connect(std::uint32_t uid) {
  ZEROFS_ASSIGN_OR_RETURN(auto session, Dial(1));
  auto root = session->Root(uid);
  if (!root.ok()) {
    return Status::FromErrno(root.error() == kErrNotSent || root.error() == kErrLost
                                 ? ECONNRESET
                                 : root.error(),
                             "Tattach to " + address_.ToString());
  }
  ninep::Tgetattr getattr;
  getattr.fid = (*root)->id;
  getattr.request_mask = ninep::kGetattrBasic;
  auto attr = session->Call<ninep::Rgetattr>(getattr);
  if (!attr.ok()) {
    return Status::FromErrno(IsConnectionError(attr.error()) ? ECONNRESET : attr.error(),
                             "Tgetattr of the root on " + address_.ToString());
  }
  std::lock_guard<std::mutex> lock(mu_);
  current_ = std::move(session);
  return Status::Ok();
}

std::shared_ptr<Session> Client::Current() {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

std::shared_ptr<Session> Client::Reconnect(const std::shared_ptr<Session>& failed) {
  auto deadline = std::chrono::steady_clock::now() + options_.reconnect_timeout;
  std::unique_lock<std::mutex> dial_lock(dial_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (current_ && current_ != failed && current_->alive()) return current_;
  }
  std::uint64_t epoch = failed ? failed->epoch() + 1 : 1;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (current_) epoch = std::max(epoch, current_->epoch() + 1);
  }
  auto backoff = std::chrono::milliseconds(50);
  Status last;
  for (int attempt = 0; !shutdown_.load(); ++attempt) {
    auto session = Dial(epoch);
    if (session.ok()) {
      ZEROFS_LOG(kInfo) << "reconnected to " << address_.ToString() << " (session " << epoch
                        << ")";
      reconnects_.fetch_add(1);
      std::lock_guard<std::mutex> lock(mu_);
      current_ = *session;
      return current_;
    }
    if (attempt == 0 || session.status().message() != last.message()) {
      ZEROFS_LOG(kWarn) << "reconnect: " << session.status().message();
    }
    last = session.status();
    if (std::chrono::steady_clock::now() + backoff > deadline) break;
    std::unique_lock<std::mutex> lock(mu_);
    shutdown_cv_.wait_for(lock, backoff, [&] { return shutdown_.load(); });
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
  ZEROFS_LOG(kError) << "giving up on " << address_.ToString() << " for now: "
                     << last.message();
  return nullptr;
}

void Client::Shutdown() {
  shutdown_.store(true);
  std::shared_ptr<Session> s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    s = current_;
    shutdown_cv_.notify_all();
  }
  if (s) s->connection().Close();
}

}  // namespace zerofs::mount
