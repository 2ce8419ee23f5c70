// The checks of `zerofs fsck`: a read-only verification of a whole volume in its bucket.
//
// RunFsck reads, never writes: the volume is opened as a read replica (it does not fence a
// running writer) in a private local directory, and every object of the bucket is fetched
// and verified against the format (docs/format.md) and against the index:
//
//   objects    the key file and the root open with the password; every index snapshot
//              object opens and an SST's content hash matches its name; every checkpoint
//              opens and names an existing snapshot; every segment's header, footer MAC,
//              directory and journal record verify (with `deep`, every extent frame is
//              also decrypted and decompressed: the whole object is read)
//   index      every extent-map entry points at an existing segment, at a frame whose
//              directory entry (and so whose AAD) names that inode and extent index with
//              the same offset and lengths; per-segment usage records equal what the map
//              refers to; the volume counters equal the inodes' totals
//   namespace  every entry names an existing inode of its type, both directory tables
//              agree, link counts equal the names (plus subdirectories), every inode is
//              reachable from the root or recorded as an orphan
//   space      segment objects that nothing refers to and that lie beyond the end of the
//              journal are leaks (a future writer would collide with them); index objects
//              that no manifest names are leaks
//
// Findings are problems (the volume is damaged or leaks space) or notes (expected states
// worth knowing: files unlinked while open, segments the collector will delete).
//
// Thread-safety: RunFsck may run concurrently with anything that only reads the bucket; a
// live writer changing the bucket meanwhile can cause spurious findings.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "zerofs/common/result.h"
#include "zerofs/objstore/object_store.h"
#include "zerofs/server/config.h"

namespace zerofs::cli {

struct FsckFinding {
  bool problem = true;  // false: a note
  std::string kind;     // "corrupt", "missing", "leak", ... (docs/cli.md lists them)
  std::string object;   // the object key, or the index item ("inode 7", "segment usage 12")
  std::string message;
};

struct FsckStats {
  std::string volume_uuid;
  std::uint64_t writer_epoch = 0;
  std::uint64_t journal_start_seq = 0;
  std::uint64_t chain_end_seq = 0;  // the seq the next writer continues at
  std::uint64_t snapshot_covers_seq = 0;
  std::uint64_t objects = 0;
  std::uint64_t objects_checked = 0;
  std::uint64_t segments = 0;
  std::uint64_t segment_bytes = 0;
  std::uint64_t reclaimable_segments = 0;
  std::uint64_t index_objects = 0;
  std::uint64_t checkpoints = 0;
  std::uint64_t inodes = 0;
  std::uint64_t directories = 0;
  std::uint64_t files = 0;
  std::uint64_t symlinks = 0;
  std::uint64_t extents = 0;
  std::uint64_t live_extent_bytes = 0;  // sealed bytes the extent map refers to
  std::uint64_t used_bytes = 0;         // logical bytes of regular files
  std::uint64_t orphans = 0;
  std::uint64_t pending_drops = 0;
  bool index_checked = false;  // false when the volume did not open
};

struct FsckReport {
  std::vector<FsckFinding> findings;
  FsckStats stats;
  std::uint64_t problems() const;
};

struct FsckOptions {
  bool deep = false;
  unsigned jobs = 8;  // objects verified in parallel
  // Called (from any one thread at a time) as objects are verified.
  std::function<void(std::uint64_t done, std::uint64_t total)> progress;
  // Called with each finding as it is made (from any one thread at a time).
  std::function<void(const FsckFinding&)> on_finding;
};

// `config` is resolved (server::ResolveVolumeConfig): URL, password, and the cache
// directory to use (empty: a private temporary one). Fails only when the check cannot run
// at all: no store, no volume (kNotFound), wrong password (kPermissionDenied), the key file
// or the listing unreadable. Everything else becomes a finding.
Result<FsckReport> RunFsck(const server::Config& config, const FsckOptions& options);

}  // namespace zerofs::cli
