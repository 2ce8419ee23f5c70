// The shared listener: acceptors, accept loops and io threads; see listener.h.
#include "zerofs/server/listener.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <type_traits>

#include "zerofs/common/log.h"
#include "zerofs/common/result.h"
#include "zerofs/server/endpoint.h"

namespace zerofs::server {

namespace asio = boost::asio;

Listener::Listener(std::string name, std::string example_listen)
    : name_(std::move(name)), example_listen_(std::move(example_listen)) {}

Listener::~Listener() {
  Join();
}

Status Listener::BindTcp(const std::string& text) {
  ZEROFS_ASSIGN_OR_RETURN(ListenAddress address, ParseListenAddress(text, example_listen_));
  const Tcp::endpoint endpoint(asio::ip::make_address(address.host), address.port);
  auto acceptor = std::make_unique<Tcp::acceptor>(io_);
  boost::system::error_code ec;
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(Tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::IoError("cannot listen on " + text + ": " + ec.message());
  const Tcp::endpoint bound = acceptor->local_endpoint(ec);
  const std::string host = bound.address().is_v6() ? "[" + bound.address().to_string() + "]"
                                                   : bound.address().to_string();
  endpoints_.push_back(host + ":" + std::to_string(bound.port()));
  ports_.push_back(bound.port());
  tcp_acceptors_.push_back(std::move(acceptor));
  return Status::Ok();
}

Status Listener::BindUnix(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return Status::AlreadyExists("cannot listen on " + path + ": exists and is not a socket");
    }
    Local::socket probe(io_);
    boost::system::error_code probe_ec;
    probe.connect(Local::endpoint(path), probe_ec);
    if (!probe_ec) {
      return Status::AlreadyExists("cannot listen on " + path + ": another server answers there");
    }
    ::unlink(path.c_str());  // stale socket of a server that is gone
  }
  auto acceptor = std::make_unique<Local::acceptor>(io_);
  boost::system::error_code ec;
  acceptor->open(Local(), ec);
  if (!ec) acceptor->bind(Local::endpoint(path), ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::IoError("cannot listen on " + path + ": " + ec.message());
  endpoints_.push_back("unix:" + path);
  unix_paths_.push_back(path);
  unix_acceptors_.push_back(std::move(acceptor));
  return Status::Ok();
}

Status Listener::Bind(const std::vector<std::string>& tcp,
                      const std::vector<std::string>& unix_paths) {
  Status status;
  for (const std::string& text : tcp) {
    status = BindTcp(text);
    if (!status.ok()) break;
  }
  for (const std::string& path : unix_paths) {
    if (!status.ok()) break;
    status = BindUnix(path);
  }
  if (!status.ok()) {
    tcp_acceptors_.clear();
    unix_acceptors_.clear();
    RemoveSocketFiles();
    endpoints_.clear();
    ports_.clear();
  }
  return status;
}

template <typename Acceptor>
asio::awaitable<void> Listener::Accept(Acceptor& acceptor) {
  for (;;) {
    boost::system::error_code ec;
    auto socket = co_await acceptor.async_accept(asio::make_strand(io_),
                                                 asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      ZEROFS_LOG(kWarn) << name_ << ": accept failed: " << ec.message();
      continue;
    }
    if constexpr (std::is_same_v<Acceptor, Tcp::acceptor>) {
      socket.set_option(Tcp::no_delay(true), ec);
      std::string peer = "?";
      const Tcp::endpoint remote = socket.remote_endpoint(ec);
      if (!ec) peer = remote.address().to_string() + ":" + std::to_string(remote.port());
      on_tcp_(std::move(socket), std::move(peer));
    } else {
      on_unix_(std::move(socket));
    }
  }
}

void Listener::Start(unsigned io_threads, TcpHandler on_tcp, UnixHandler on_unix) {
  on_tcp_ = std::move(on_tcp);
  on_unix_ = std::move(on_unix);
  for (auto& a : tcp_acceptors_) asio::co_spawn(io_, Accept(*a), asio::detached);
  for (auto& a : unix_acceptors_) asio::co_spawn(io_, Accept(*a), asio::detached);
  work_.emplace(io_.get_executor());
  for (unsigned i = 0; i < std::max(1U, io_threads); ++i) {
    threads_.emplace_back([this] { io_.run(); });
  }
}

void Listener::Close(std::function<void()> then) {
  asio::post(io_, [this, then = std::move(then)] {
    boost::system::error_code ignored;
    for (auto& a : tcp_acceptors_) a->close(ignored);
    for (auto& a : unix_acceptors_) a->close(ignored);
    if (then) then();
  });
}

void Listener::Join() {
  work_.reset();
  io_.stop();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

void Listener::RemoveSocketFiles() {
  for (const std::string& path : unix_paths_) ::unlink(path.c_str());
  unix_paths_.clear();
}

}  // namespace zerofs::server
