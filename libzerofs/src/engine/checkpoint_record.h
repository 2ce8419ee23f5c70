// The checkpoint object: checkpoints/<name>, a frozen root plus the segments it keeps
// (docs/format.md §8.3, docs/engine.md "Checkpoints").
//
// A checkpoint names an index snapshot (its root's SnapshotRef, with journal position
// covers_seq: nothing after it is part of the checkpoint) and the set of segment seqs that
// held live extents when it was taken, as sorted, disjoint, inclusive ranges. Every extent
// the checkpoint's index refers to lies in one of those segments, so the collector keeps
// every segment in the set while the checkpoint exists, whatever the current state says.
//
// Thread-safety: plain values and pure functions, plus Read/Write that use the store.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "zerofs/common/result.h"
#include "zerofs/crypto/key_ring.h"
#include "zerofs/crypto/volume_uuid.h"
#include "zerofs/index/root.h"
#include "zerofs/objstore/object_store.h"

namespace zerofs::engine {

// The largest checkpoint payload a reader accepts (the segment list dominates it).
inline constexpr std::uint64_t kMaxCheckpointPayloadBytes = 64ULL << 20;
inline constexpr std::uint32_t kCheckpointPayloadVersion = 1;

struct CheckpointRecord {
  std::string name;
  std::uint64_t created_unix_ms = 0;
  index::RootRecord root;  // has a snapshot; journal_start_seq = its covers_seq + 1
  // Segments kept, as [first, last] seq ranges: sorted, disjoint, not adjacent.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> segments;

  bool Keeps(std::uint64_t seq) const;
  std::uint64_t segment_count() const;
};

// Builds the ranges from any collection of seqs (sorted or not, duplicates allowed).
std::vector<std::pair<std::uint64_t, std::uint64_t>> SeqRanges(std::vector<std::uint64_t> seqs);

// kInvalidArgument unless `name` is 1..200 of [A-Za-z0-9._-] and not "." or "..".
Status ValidateCheckpointName(std::string_view name);
std::string CheckpointObjectName(std::string_view name);

std::string EncodeCheckpointPayload(const CheckpointRecord& record, const crypto::VolumeUuid& uuid);
// kCorruption naming `object_name` if the payload is malformed, of another version or volume.
Result<CheckpointRecord> DecodeCheckpointPayload(std::string_view payload,
                                                 const crypto::VolumeUuid& uuid,
                                                 std::string_view object_name);

// Reads checkpoints/<name> (kNotFound if absent).
Result<CheckpointRecord> ReadCheckpoint(objstore::ObjectStore& store, const crypto::KeyRing& keys,
                                        const crypto::VolumeUuid& uuid, std::string_view name);
// Writes it create-only (kAlreadyExists if the name is taken).
Status WriteCheckpoint(objstore::ObjectStore& store, const crypto::KeyRing& keys,
                       const crypto::VolumeUuid& uuid, const CheckpointRecord& record);
// Every checkpoint of the volume, by name.
Result<std::vector<CheckpointRecord>> ReadAllCheckpoints(objstore::ObjectStore& store,
                                                         const crypto::KeyRing& keys,
                                                         const crypto::VolumeUuid& uuid);

}  // namespace zerofs::engine
