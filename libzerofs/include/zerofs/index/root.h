// The root: the one mutable object of a volume, naming where its committed state starts.
//
// `root` holds the writer epoch (fencing), the index snapshot to load, and the first
// journal seq to replay after it. It is a sealed envelope (kind root) whose payload is a
// small UTF-8 JSON object (docs/format.md §8.2), replaced only by compare-and-swap: a writer
// reads it with its etag and writes it back with If-Match, so two writers cannot both win.
// Checkpoints embed the same JSON payload (EncodeRootPayload / DecodeRootPayload).
//
// Thread-safety: plain value types and functions that may run concurrently (the store is
// thread-safe; the compare-and-swap is the only coordination between writers).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "zerofs/common/result.h"
#include "zerofs/crypto/key_ring.h"
#include "zerofs/crypto/volume_uuid.h"
#include "zerofs/objstore/object_store.h"

namespace zerofs::index {

// An index snapshot in the bucket (snapshot.h).
struct SnapshotRef {
  std::string manifest;          // object key, "index/manifest-<covers_seq hex>-<random hex>"
  std::uint64_t covers_seq = 0;  // the snapshot holds the journal records of seqs <= this

  friend bool operator==(const SnapshotRef&, const SnapshotRef&) = default;
};

struct RootRecord {
  // Bumped by compare-and-swap whenever a writer opens the volume.
  std::uint64_t writer_epoch = 0;
  // The snapshot to load; none for a volume whose journal starts at seq 1.
  std::optional<SnapshotRef> snapshot;
  // The first seq whose journal record is not in the snapshot (covers_seq + 1 when there is
  // one); recovery replays contiguous seqs from here.
  std::uint64_t journal_start_seq = 1;
  // A lower bound for the next seq to write, so a writer need not list every segment.
  // A hint: the segments in the bucket are the truth.
  std::uint64_t next_seq = 1;

  friend bool operator==(const RootRecord&, const RootRecord&) = default;
};

// kInvalidArgument unless: journal_start_seq >= 1; with a snapshot, its manifest is a valid
// "index/manifest-..." key and journal_start_seq == covers_seq + 1.
Status ValidateRootRecord(const RootRecord& root);

// The JSON payload of a root that ValidateRootRecord accepts. Members in a fixed order,
// no whitespace: {"version":1,"volume_uuid":"...","writer_epoch":N,"journal_start_seq":N,
// "next_seq":N,"snapshot":null|{"manifest":"index/...","covers_seq":N}}.
std::string EncodeRootPayload(const RootRecord& root, const crypto::VolumeUuid& uuid);

// Parses and validates a payload. kCorruption naming `object_name` if it is not one, has an
// unknown version or member, or belongs to another volume than `uuid`.
Result<RootRecord> DecodeRootPayload(std::string_view payload, const crypto::VolumeUuid& uuid,
                                     std::string_view object_name = "root");

// Reads `root`: the record and the etag to pass to WriteRoot(PutOptions::IfMatch(etag)).
// kNotFound if the volume has no root yet; kCorruption if it does not open or parse.
Result<std::pair<RootRecord, std::string /*etag*/>> ReadRoot(objstore::ObjectStore& store,
                                                             const crypto::KeyRing& keys,
                                                             const crypto::VolumeUuid& uuid);

// Seals and PUTs `root` with `options` (IfNoneMatch to create, IfMatch(etag) to replace);
// returns the new etag. kPreconditionFailed when the condition fails (another writer won);
// kInvalidArgument if ValidateRootRecord fails (nothing is written).
Result<std::string /*etag*/> WriteRoot(objstore::ObjectStore& store, const crypto::KeyRing& keys,
                                       const crypto::VolumeUuid& uuid, const RootRecord& root,
                                       const objstore::PutOptions& options);

}  // namespace zerofs::index
