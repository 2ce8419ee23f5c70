// Requests and failed requests per operation of a protocol (NFS procedures, 9P message
// types, NBD commands), for `zerofs stats` and the metrics endpoint.
//
// The operations are numbered by the protocol's own codes (an NFS procedure number, a 9P
// message type, an NBD command type); names are fixed at construction. A code without a
// name is counted under "other". Count is lock-free and may be called from any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace zerofs::server {

struct OpCount {
  std::string name;
  std::uint64_t requests = 0;
  std::uint64_t errors = 0;  // answered with an error (a protocol status, not a crash)
};

class OpCounters {
 public:
  // names[code] is the name of operation `code`; empty names are "other".
  explicit OpCounters(std::vector<std::string> names);

  void Count(std::size_t code, bool error) const;
  // The operations asked for at least once, in code order ("other" last).
  std::vector<OpCount> Snapshot() const;

 private:
  std::vector<std::string> names_;  // + "other" at the end
  std::unique_ptr<std::atomic<std::uint64_t>[]> requests_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> errors_;
};

}  // namespace zerofs::server
