// Conversion of rocksdb::Status into zerofs::Status, the one place RocksDB errors cross into
// the rest of ZeroFS (CONVENTIONS.md: convert at the edge).
//
// Thread-safety: a pure function.
#pragma once

#include <rocksdb/status.h>

#include <string_view>

#include "zerofs/common/status.h"

namespace zerofs::index {

// `what` says what was being done ("index get", "index open /var/cache/zerofs/index").
// Corruption -> kCorruption; I/O errors -> kIoError, with no-space -> kNoSpace and
// path-not-found -> kNotFound; NotFound -> kNotFound; InvalidArgument -> kInvalidArgument;
// NotSupported -> kNotSupported; Busy/TimedOut/TryAgain -> kUnavailable;
// Aborted/ShutdownInProgress -> kCancelled; anything else -> kInternal.
Status FromRocksDb(const rocksdb::Status& status, std::string_view what);

}  // namespace zerofs::index
