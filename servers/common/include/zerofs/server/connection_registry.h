// ConnectionRegistry: the live connections of one server, so that Stop() can reach them
// (Snapshot) and Wait() can tell when they are gone (WaitEmpty). It also enforces the
// server's connection limit: Add() refuses once max_connections are registered.
//
// Ownership: the registry holds weak pointers only; a connection owns itself (through its
// coroutine and pending operations) and calls Remove() with its id when it is destroyed,
// so the registry must outlive every connection it registered.
// Thread-safety: every member function may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "zerofs/common/log.h"

namespace zerofs::server {

template <typename Connection>
class ConnectionRegistry {
 public:
  explicit ConnectionRegistry(unsigned max_connections) : max_connections_(max_connections) {}
  ConnectionRegistry(const ConnectionRegistry&) = delete;
  ConnectionRegistry& operator=(const ConnectionRegistry&) = delete;

  // The connection's id, never 0; 0 when the server is full.
  std::uint64_t Add(const std::shared_ptr<Connection>& connection) {
    std::lock_guard lock(mu_);
    if (live_.size() >= max_connections_) return 0;
    const std::uint64_t id = next_id_++;
    live_.emplace(id, connection);
    return id;
  }

  void Remove(std::uint64_t id) {
    {
      std::lock_guard lock(mu_);
      live_.erase(id);
    }
    cv_.notify_all();
  }

  // The connections still alive, kept alive by the returned pointers.
  std::vector<std::shared_ptr<Connection>> Snapshot() {
    std::lock_guard lock(mu_);
    std::vector<std::shared_ptr<Connection>> out;
    for (auto& [id, weak] : live_) {
      if (auto c = weak.lock()) out.push_back(std::move(c));
    }
    return out;
  }

  std::size_t size() {
    std::lock_guard lock(mu_);
    return live_.size();
  }

  // Waits until no connection is left or `deadline` passes; true when none is left.
  bool WaitEmpty(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mu_);
    return cv_.wait_until(lock, deadline, [&] { return live_.empty(); });
  }

  // WaitEmpty for at most `grace_ms`, with a warning (prefixed by `name`) when connections
  // are left, which the caller then cuts.
  bool Drain(std::uint32_t grace_ms, std::string_view name) {
    const bool clean =
        WaitEmpty(std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms));
    if (!clean) {
      ZEROFS_LOG(kWarn) << name << ": " << size()
                        << " connections still busy after the grace period; cutting them";
    }
    return clean;
  }

 private:
  const unsigned max_connections_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t next_id_ = 1;                                          // GUARDED_BY(mu_)
  std::unordered_map<std::uint64_t, std::weak_ptr<Connection>> live_;  // GUARDED_BY(mu_)
};

}  // namespace zerofs::server
