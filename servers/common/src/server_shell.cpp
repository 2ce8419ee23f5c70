// The protocol-independent half of a server: accept, register, stop, drain; see
// server_shell.h.
#include "zerofs/server/server_shell.h"

#include "zerofs/common/log.h"

namespace zerofs::server {

ServerShell::ServerShell(std::string name, std::string example_listen, unsigned max_connections,
                         ConnectionLimits limits, ProtocolFactory factory)
    : name_(name),
      max_connections_(max_connections),
      limits_(limits),
      factory_(std::move(factory)),
      registry_(max_connections),
      listener_(std::move(name), std::move(example_listen)) {}

ServerShell::~ServerShell() = default;

void ServerShell::Run(unsigned io_threads) {
  listener_.Start(
      io_threads,
      [this](Listener::Tcp::socket socket, std::string peer) {
        Adopt(StreamSocket(std::move(socket)), std::move(peer));
      },
      [this](Listener::Local::socket socket) {
        Adopt(StreamSocket(std::move(socket)), "unix socket");
      });
}

void ServerShell::Adopt(StreamSocket socket, std::string peer) {
  counters_.accepted.fetch_add(1, std::memory_order_relaxed);
  auto connection = std::make_shared<FramedConnection>(std::move(socket), name_, peer, limits_,
                                                       factory_(peer), &registry_, &counters_);
  const std::uint64_t id = registry_.Add(connection);
  if (id == 0) {
    counters_.refused.fetch_add(1, std::memory_order_relaxed);
    ZEROFS_LOG(kWarn) << name_ << ": refusing " << peer << ": " << max_connections_
                      << " connections already open";
    return;  // the socket closes with the connection object
  }
  FramedConnection::Start(connection, id);
}

void ServerShell::Stop(const std::function<void()>& also) {
  if (!lifecycle_.BeginStop()) return;
  if (also) also();
  listener_.Close([this] {
    for (auto& c : registry_.Snapshot()) c->Shutdown();
  });
}

bool ServerShell::Wait(std::uint32_t grace_ms, const std::function<void(bool clean)>& join_pools) {
  if (!lifecycle_.BeginWait(listener_.running())) return false;
  const bool clean = registry_.Drain(grace_ms, name_);
  listener_.Join();
  join_pools(clean);
  listener_.RemoveSocketFiles();
  ZEROFS_LOG(kInfo) << name_ << ": server stopped";
  return true;
}

}  // namespace zerofs::server
