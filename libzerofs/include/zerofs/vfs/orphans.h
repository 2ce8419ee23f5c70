// Orphans: the index meta names by which the VFS remembers files unlinked while open
// (docs/format.md §12.1).
//
// The transaction that removes a file's last link while a handle is open puts the meta key
// "orphan_<ino as 16 lower-case hex digits>" (empty value); the one that finally reclaims
// the file deletes it, and a writer that opens the volume reclaims every orphan left by a
// process that died. The VFS owns these names; fsck reads them.
//
// Thread-safety: constants and pure functions only.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "zerofs/common/coding.h"
#include "zerofs/vfs/types.h"

namespace zerofs::vfs {

inline constexpr std::string_view kOrphanMetaPrefix = "orphan_";

// The meta name (index::MetaKey makes it a key) marking `ino` as an orphan.
inline std::string OrphanMetaName(Ino ino) {
  return coding::HexU64Name(kOrphanMetaPrefix, ino);
}

// The inode of an orphan meta name; nullopt for any other name.
inline std::optional<Ino> ParseOrphanMetaName(std::string_view name) {
  return coding::ParseHexU64Name(name, kOrphanMetaPrefix);
}

}  // namespace zerofs::vfs
