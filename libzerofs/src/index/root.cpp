#include "zerofs/index/root.h"

#include <algorithm>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>

#include "zerofs/crypto/envelope.h"
#include "zerofs/format.h"
#include "zerofs/index/index_format.h"
#include "zerofs/index/snapshot_manifest.h"

namespace zerofs::index {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

Status Bad(std::string_view object_name, const std::string& why) {
  return Status::Corruption(std::string(object_name) + ": root payload: " + why);
}

const char* RootProblem(const RootRecord& root) {
  if (root.journal_start_seq == 0) return "journal_start_seq is 0";
  if (root.snapshot.has_value()) {
    if (!IsManifestObjectName(root.snapshot->manifest)) return "invalid snapshot manifest name";
    if (root.snapshot->covers_seq == UINT64_MAX ||
        root.journal_start_seq != root.snapshot->covers_seq + 1) {
      return "journal_start_seq is not the snapshot's covers_seq + 1";
    }
  }
  return nullptr;
}

// The unsigned integer member `name` of `object`, or nullopt if missing or not one.
std::optional<std::uint64_t> U64Member(const Json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end() || !it->is_number_unsigned()) return std::nullopt;
  return it->get<std::uint64_t>();
}

bool OnlyMembers(const Json& object, std::initializer_list<std::string_view> names) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (std::find(names.begin(), names.end(), it.key()) == names.end()) return false;
  }
  return true;
}

}  // namespace

Status ValidateRootRecord(const RootRecord& root) {
  if (const char* problem = RootProblem(root)) {
    return Status::InvalidArgument(std::string("root: ") + problem);
  }
  return Status::Ok();
}

std::string EncodeRootPayload(const RootRecord& root, const crypto::VolumeUuid& uuid) {
  OrderedJson doc = OrderedJson::object();
  doc["version"] = format::kRootPayloadVersion;
  doc["volume_uuid"] = uuid.ToString();
  doc["writer_epoch"] = root.writer_epoch;
  doc["journal_start_seq"] = root.journal_start_seq;
  doc["next_seq"] = root.next_seq;
  if (root.snapshot.has_value()) {
    OrderedJson snapshot = OrderedJson::object();
    snapshot["manifest"] = root.snapshot->manifest;
    snapshot["covers_seq"] = root.snapshot->covers_seq;
    doc["snapshot"] = std::move(snapshot);
  } else {
    doc["snapshot"] = nullptr;
  }
  // replace: never throw, even on a (caller's) invalid UTF-8 name.
  return doc.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
}

Result<RootRecord> DecodeRootPayload(std::string_view payload, const crypto::VolumeUuid& uuid,
                                     std::string_view object_name) {
  if (payload.size() > format::kMaxRootPayloadBytes) return Bad(object_name, "too large");
  const Json doc = Json::parse(payload.begin(), payload.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return Bad(object_name, "not a JSON object");
  if (!OnlyMembers(doc, {"version", "volume_uuid", "writer_epoch", "journal_start_seq", "next_seq",
                         "snapshot"})) {
    return Bad(object_name, "unknown member");
  }
  const std::optional<std::uint64_t> version = U64Member(doc, "version");
  if (!version.has_value()) return Bad(object_name, "missing version");
  if (*version != format::kRootPayloadVersion) {
    return Bad(object_name, "unknown version " + std::to_string(*version));
  }
  const auto uuid_it = doc.find("volume_uuid");
  if (uuid_it == doc.end() || !uuid_it->is_string()) return Bad(object_name, "missing volume_uuid");
  if (uuid_it->get_ref<const std::string&>() != uuid.ToString()) {
    return Bad(object_name,
               "belongs to volume " + uuid_it->get<std::string>() + ", not " + uuid.ToString());
  }

  RootRecord root;
  const std::optional<std::uint64_t> epoch = U64Member(doc, "writer_epoch");
  const std::optional<std::uint64_t> start = U64Member(doc, "journal_start_seq");
  const std::optional<std::uint64_t> next = U64Member(doc, "next_seq");
  if (!epoch || !start || !next) return Bad(object_name, "missing or non-integer member");
  root.writer_epoch = *epoch;
  root.journal_start_seq = *start;
  root.next_seq = *next;

  const auto snap_it = doc.find("snapshot");
  if (snap_it == doc.end()) return Bad(object_name, "missing snapshot");
  if (!snap_it->is_null()) {
    if (!snap_it->is_object() || !OnlyMembers(*snap_it, {"manifest", "covers_seq"})) {
      return Bad(object_name, "malformed snapshot");
    }
    const auto manifest_it = snap_it->find("manifest");
    const std::optional<std::uint64_t> covers = U64Member(*snap_it, "covers_seq");
    if (manifest_it == snap_it->end() || !manifest_it->is_string() || !covers) {
      return Bad(object_name, "malformed snapshot");
    }
    root.snapshot = SnapshotRef{manifest_it->get<std::string>(), *covers};
  }
  if (const char* problem = RootProblem(root)) return Bad(object_name, problem);
  return root;
}

Result<std::pair<RootRecord, std::string>> ReadRoot(objstore::ObjectStore& store,
                                                    const crypto::KeyRing& keys,
                                                    const crypto::VolumeUuid& uuid) {
  const std::string_view name = format::kRootObjectName;
  ZEROFS_ASSIGN_OR_RETURN(objstore::GetResult got, store.Get(name));
  ZEROFS_ASSIGN_OR_RETURN(const std::string payload,
                          crypto::OpenEnvelope(keys, crypto::EnvelopeKind::kRoot, uuid, name,
                                               got.data, format::kMaxRootPayloadBytes));
  ZEROFS_ASSIGN_OR_RETURN(RootRecord root, DecodeRootPayload(payload, uuid, name));
  return std::make_pair(std::move(root), std::move(got.info.etag));
}

Result<std::string> WriteRoot(objstore::ObjectStore& store, const crypto::KeyRing& keys,
                              const crypto::VolumeUuid& uuid, const RootRecord& root,
                              const objstore::PutOptions& options) {
  ZEROFS_RETURN_IF_ERROR(ValidateRootRecord(root));
  const std::string_view name = format::kRootObjectName;
  ZEROFS_ASSIGN_OR_RETURN(
      const std::string sealed,
      crypto::SealEnvelope(keys, crypto::EnvelopeKind::kRoot, uuid, name,
                           EncodeRootPayload(root, uuid), crypto::CompressionOptions::None()));
  ZEROFS_ASSIGN_OR_RETURN(objstore::ObjectInfo info, store.Put(name, sealed, options));
  return std::move(info.etag);
}

}  // namespace zerofs::index
