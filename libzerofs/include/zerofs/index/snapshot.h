// Index snapshots: copies of the IndexDb in the bucket, so that recovery need not replay the
// whole journal and a new machine can start from the bucket alone.
//
// UploadSnapshot takes a consistent checkpoint of the database (IndexDb::CreateCheckpoint),
// uploads every SST file the bucket does not have yet as "index/<content hash>.sst", then a
// manifest object naming them and embedding the small files (snapshot_manifest.h). SST
// files are immutable, so a file is hashed and uploaded once; later snapshots share it.
// RestoreSnapshot rebuilds a database directory from a manifest, reusing local SSTs whose
// size and hash match. The engine then points `root` at the returned SnapshotRef (root.h)
// and, once no kept root or checkpoint refers to an older snapshot,
// DeleteUnreferencedIndexObjects removes what only older snapshots used.
//
// Every object is a sealed envelope of kind index file (docs/format.md §8, §12.4).
//
// Thread-safety: the functions are safe to call from any thread, with two rules the caller
// keeps: one UploadSnapshot at a time per SnapshotUploadState (and IndexDb), and no
// DeleteUnreferencedIndexObjects while an UploadSnapshot to the same bucket runs (it would
// see the new SSTs before their manifest exists and delete them). RestoreSnapshot needs the
// target directory to itself: no IndexDb may be open on it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "zerofs/common/result.h"
#include "zerofs/crypto/key_ring.h"
#include "zerofs/crypto/random.h"
#include "zerofs/crypto/volume_uuid.h"
#include "zerofs/index/index_db.h"
#include "zerofs/index/root.h"
#include "zerofs/objstore/object_store.h"

namespace zerofs::index {

// What the engine remembers between snapshots of one database directory: which local SST
// files are known to be in the bucket. Entries are keyed by file name and checked against
// the file's size; RocksDB never reuses an SST name within one database directory. After
// IndexDb::Destroy of the directory, start from an empty state.
struct SnapshotUploadState {
  struct File {
    std::uint64_t size = 0;
    std::string hash;  // ContentHash, 16 raw bytes
  };
  std::map<std::string, File, std::less<>> files;

  // Counts of the last UploadSnapshot, for logs and tests.
  std::size_t last_uploaded_files = 0;
  std::uint64_t last_uploaded_bytes = 0;  // plaintext bytes of uploaded SSTs
  std::size_t last_reused_files = 0;      // SSTs known to be in the bucket already
};

struct SnapshotOptions {
  // The manifest's random name suffix comes from here (null: the system's generator).
  crypto::RandomSource* random = nullptr;
};

// Snapshots `db` into the bucket and returns the reference to store in `root`; its
// covers_seq is the database's applied seq at the checkpoint.
Result<SnapshotRef> UploadSnapshot(IndexDb& db, objstore::ObjectStore& store,
                                   const crypto::KeyRing& keys, const crypto::VolumeUuid& uuid,
                                   SnapshotUploadState& state, const SnapshotOptions& options = {});

struct RestoreStats {
  std::uint64_t covers_seq = 0;
  std::size_t files = 0;             // files the snapshot has (SSTs and embedded)
  std::size_t downloaded_files = 0;  // SSTs fetched from the bucket
  std::uint64_t downloaded_bytes = 0;
  std::size_t reused_files = 0;   // SSTs already in the directory, with matching hash
  std::size_t removed_files = 0;  // stale files deleted from the directory
  // The snapshot's SSTs, known to be in the bucket: the state for the next UploadSnapshot
  // of the restored database.
  SnapshotUploadState upload_state;
};

// Makes `dir` (created if missing) exactly the database of the snapshot: downloads the SSTs
// not already present with the right size and hash, writes the embedded files, deletes
// every other file in it, and writes CURRENT last, so an interrupted restore leaves a
// directory that IndexDb::Open refuses (no CURRENT) or the whole snapshot. Afterwards
// IndexDb::Open(dir) has applied_seq() == ref.covers_seq. kCorruption if the manifest or an
// SST does not open, parse or match its hash.
Result<RestoreStats> RestoreSnapshot(objstore::ObjectStore& store, const crypto::KeyRing& keys,
                                     const crypto::VolumeUuid& uuid, const SnapshotRef& ref,
                                     const std::filesystem::path& dir);

// The object keys the snapshot consists of: its manifest and its SSTs.
Result<std::vector<std::string>> ListSnapshotObjects(objstore::ObjectStore& store,
                                                     const crypto::KeyRing& keys,
                                                     const crypto::VolumeUuid& uuid,
                                                     const SnapshotRef& ref);

// Deletes every manifest and SST under index/ that no snapshot in `keep` refers to, and
// returns the deleted keys. Objects under index/ with other names are left alone. If a kept
// manifest cannot be read, nothing is deleted (the error is returned). When `state` is
// given, files whose object was deleted are forgotten in it.
Result<std::vector<std::string>> DeleteUnreferencedIndexObjects(
    objstore::ObjectStore& store, const crypto::KeyRing& keys, const crypto::VolumeUuid& uuid,
    const std::vector<SnapshotRef>& keep, SnapshotUploadState* state = nullptr);

}  // namespace zerofs::index
