// Local file helpers for index snapshots: bounded whole-file reads and crash-safe writes.
//
// Snapshot restore rebuilds a database directory file by file; every file is written to a
// temporary name, fsynced and renamed into place, so a crash leaves either the old file,
// the new one, or a stray temporary that the next restore removes. Errors are Status values
// from errno (ENOSPC -> kNoSpace, ...).
//
// Thread-safety: functions on distinct paths may run concurrently.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "zerofs/common/result.h"

namespace zerofs::index {

// The whole file; kInvalidArgument if it is longer than `max_bytes`.
Result<std::string> ReadWholeFile(const std::filesystem::path& path, std::uint64_t max_bytes);

// Writes `contents` to dir/name via dir/name.restore-tmp: write, fsync, rename. The
// directory itself is not fsynced (SyncDirectory, once after many files).
Status WriteFileDurably(const std::filesystem::path& dir, std::string_view name,
                        std::string_view contents);

// fsync of a directory, so that renames and unlinks in it survive a crash.
Status SyncDirectory(const std::filesystem::path& dir);

// The temporary-file suffix of WriteFileDurably; such files are leftovers of a crash.
inline constexpr std::string_view kRestoreTempSuffix = ".restore-tmp";

}  // namespace zerofs::index
