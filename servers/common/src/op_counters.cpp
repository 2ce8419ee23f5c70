// Per-operation request counters; see op_counters.h.
#include "zerofs/server/op_counters.h"

#include <utility>

namespace zerofs::server {

OpCounters::OpCounters(std::vector<std::string> names) : names_(std::move(names)) {
  names_.emplace_back("other");
  requests_ = std::make_unique<std::atomic<std::uint64_t>[]>(names_.size());
  errors_ = std::make_unique<std::atomic<std::uint64_t>[]>(names_.size());
}

void OpCounters::Count(std::size_t code, bool error) const {
  std::size_t slot = names_.size() - 1;
  if (code + 1 < names_.size() && !names_[code].empty()) slot = code;
  requests_[slot].fetch_add(1, std::memory_order_relaxed);
  if (error) errors_[slot].fetch_add(1, std::memory_order_relaxed);
}

std::vector<OpCount> OpCounters::Snapshot() const {
  std::vector<OpCount> out;
  for (std::size_t i = 0; i < names_.size(); ++i) {
    const std::uint64_t requests = requests_[i].load(std::memory_order_relaxed);
    if (requests == 0) continue;
    out.push_back(OpCount{names_[i], requests, errors_[i].load(std::memory_order_relaxed)});
  }
  return out;
}

}  // namespace zerofs::server
