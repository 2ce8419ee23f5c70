// The node of MemoryNfsHandler's tree, shared by its two source files. Internal to
// servers/nfs; every field is guarded by the handler's mutex.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "zerofs/nfs/memory_handler.h"

namespace zerofs::nfs {

inline constexpr std::uint64_t kMemoryRootId = 1;

struct MemoryNfsHandler::Node {
  std::uint64_t fileid = 0;
  Ftype3 type = Ftype3::kReg;
  std::uint32_t mode = 0, uid = 0, gid = 0, nlink = 1;
  std::uint32_t major = 0, minor = 0;
  std::string data;  // file bytes or symlink target
  std::map<std::string, std::uint64_t> children;
  std::uint64_t parent = kMemoryRootId;
  std::uint64_t dir_generation = 1;  // cookie verifier of a directory
  std::optional<Verifier> create_verf;
  NfsTime3 atime, mtime, ctime;
};

namespace memory_internal {

inline NfsTime3 Now() {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  return {static_cast<std::uint32_t>(ns / 1000000000), static_cast<std::uint32_t>(ns % 1000000000)};
}

}  // namespace memory_internal

}  // namespace zerofs::nfs
