#include "checkpoint_record.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "zerofs/crypto/envelope.h"
#include "zerofs/format.h"

namespace zerofs::engine {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

Status Bad(std::string_view object_name, const std::string& why) {
  return Status::Corruption(std::string(object_name) + ": checkpoint payload: " + why);
}

}  // namespace

bool CheckpointRecord::Keeps(std::uint64_t seq) const {
  auto it = std::upper_bound(segments.begin(), segments.end(), seq,
                             [](std::uint64_t s, const auto& range) { return s < range.first; });
  if (it == segments.begin()) return false;
  --it;
  return seq >= it->first && seq <= it->second;
}

std::uint64_t CheckpointRecord::segment_count() const {
  std::uint64_t n = 0;
  for (const auto& [first, last] : segments) n += last - first + 1;
  return n;
}

std::vector<std::pair<std::uint64_t, std::uint64_t>> SeqRanges(std::vector<std::uint64_t> seqs) {
  std::sort(seqs.begin(), seqs.end());
  seqs.erase(std::unique(seqs.begin(), seqs.end()), seqs.end());
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
  for (std::uint64_t s : seqs) {
    if (!ranges.empty() && ranges.back().second + 1 == s) {
      ranges.back().second = s;
    } else {
      ranges.emplace_back(s, s);
    }
  }
  return ranges;
}

std::string CheckpointObjectName(std::string_view name) {
  return std::string(format::kCheckpointPrefix) + std::string(name);
}

Status ValidateCheckpointName(std::string_view name) {
  Status s =
      crypto::ValidateEnvelopeName(crypto::EnvelopeKind::kCheckpoint, CheckpointObjectName(name));
  if (!s.ok()) {
    return Status::InvalidArgument("invalid checkpoint name '" + std::string(name) +
                                   "': use 1 to 200 characters of [A-Za-z0-9._-], not . or ..");
  }
  return Status::Ok();
}

std::string EncodeCheckpointPayload(const CheckpointRecord& record,
                                    const crypto::VolumeUuid& uuid) {
  OrderedJson doc = OrderedJson::object();
  doc["version"] = kCheckpointPayloadVersion;
  doc["name"] = record.name;
  doc["created_unix_ms"] = record.created_unix_ms;
  doc["root"] = OrderedJson::parse(index::EncodeRootPayload(record.root, uuid));
  OrderedJson segments = OrderedJson::array();
  for (const auto& [first, last] : record.segments) segments.push_back({first, last});
  doc["segments"] = std::move(segments);
  return doc.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
}

Result<CheckpointRecord> DecodeCheckpointPayload(std::string_view payload,
                                                 const crypto::VolumeUuid& uuid,
                                                 std::string_view object_name) {
  if (payload.size() > kMaxCheckpointPayloadBytes) return Bad(object_name, "too large");
  const Json doc = Json::parse(payload.begin(), payload.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return Bad(object_name, "not a JSON object");
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    static constexpr std::string_view kMembers[] = {"version", "name", "created_unix_ms", "root",
                                                    "segments"};
    if (std::find(std::begin(kMembers), std::end(kMembers), it.key()) == std::end(kMembers)) {
      return Bad(object_name, "unknown member '" + it.key() + "'");
    }
  }
  auto u64 = [&](const char* member) -> std::optional<std::uint64_t> {
    auto it = doc.find(member);
    if (it == doc.end() || !it->is_number_unsigned()) return std::nullopt;
    return it->get<std::uint64_t>();
  };
  const auto version = u64("version");
  if (!version.has_value()) return Bad(object_name, "missing version");
  if (*version != kCheckpointPayloadVersion) {
    return Bad(object_name, "unknown version " + std::to_string(*version));
  }
  CheckpointRecord record;
  const auto name_it = doc.find("name");
  if (name_it == doc.end() || !name_it->is_string()) return Bad(object_name, "missing name");
  record.name = name_it->get<std::string>();
  if (CheckpointObjectName(record.name) != object_name) {
    return Bad(object_name, "names checkpoint '" + record.name + "'");
  }
  const auto created = u64("created_unix_ms");
  if (!created.has_value()) return Bad(object_name, "missing created_unix_ms");
  record.created_unix_ms = *created;
  const auto root_it = doc.find("root");
  if (root_it == doc.end() || !root_it->is_object()) return Bad(object_name, "missing root");
  ZEROFS_ASSIGN_OR_RETURN(record.root,
                          index::DecodeRootPayload(root_it->dump(), uuid, object_name));
  if (!record.root.snapshot.has_value()) return Bad(object_name, "root without a snapshot");
  const auto seg_it = doc.find("segments");
  if (seg_it == doc.end() || !seg_it->is_array()) return Bad(object_name, "missing segments");
  for (const Json& range : *seg_it) {
    if (!range.is_array() || range.size() != 2 || !range[0].is_number_unsigned() ||
        !range[1].is_number_unsigned()) {
      return Bad(object_name, "malformed segment range");
    }
    const auto first = range[0].get<std::uint64_t>();
    const auto last = range[1].get<std::uint64_t>();
    if (first > last || (!record.segments.empty() && first <= record.segments.back().second + 1)) {
      return Bad(object_name, "segment ranges not sorted and disjoint");
    }
    record.segments.emplace_back(first, last);
  }
  return record;
}

Result<CheckpointRecord> ReadCheckpoint(objstore::ObjectStore& store, const crypto::KeyRing& keys,
                                        const crypto::VolumeUuid& uuid, std::string_view name) {
  ZEROFS_RETURN_IF_ERROR(ValidateCheckpointName(name));
  const std::string object = CheckpointObjectName(name);
  auto got = store.Get(object);
  if (got.status().IsNotFound()) {
    return Status::NotFound("no checkpoint named '" + std::string(name) + "'");
  }
  ZEROFS_RETURN_IF_ERROR(got.status());
  ZEROFS_ASSIGN_OR_RETURN(const std::string payload,
                          crypto::OpenEnvelope(keys, crypto::EnvelopeKind::kCheckpoint, uuid,
                                               object, got->data, kMaxCheckpointPayloadBytes));
  return DecodeCheckpointPayload(payload, uuid, object);
}

Status WriteCheckpoint(objstore::ObjectStore& store, const crypto::KeyRing& keys,
                       const crypto::VolumeUuid& uuid, const CheckpointRecord& record) {
  ZEROFS_RETURN_IF_ERROR(ValidateCheckpointName(record.name));
  const std::string object = CheckpointObjectName(record.name);
  ZEROFS_ASSIGN_OR_RETURN(
      const std::string sealed,
      crypto::SealEnvelope(keys, crypto::EnvelopeKind::kCheckpoint, uuid, object,
                           EncodeCheckpointPayload(record, uuid), crypto::CompressionOptions{}));
  auto put = store.Put(object, sealed, objstore::PutOptions::IfNoneMatch());
  if (put.status().IsPreconditionFailed()) {
    return Status::AlreadyExists("a checkpoint named '" + record.name + "' already exists");
  }
  return put.status();
}

Result<std::vector<CheckpointRecord>> ReadAllCheckpoints(objstore::ObjectStore& store,
                                                         const crypto::KeyRing& keys,
                                                         const crypto::VolumeUuid& uuid) {
  ZEROFS_ASSIGN_OR_RETURN(std::vector<objstore::ObjectInfo> objects,
                          store.List(format::kCheckpointPrefix));
  std::vector<CheckpointRecord> records;
  for (const objstore::ObjectInfo& info : objects) {
    const std::string_view name =
        std::string_view(info.key).substr(format::kCheckpointPrefix.size());
    auto record = ReadCheckpoint(store, keys, uuid, name);
    // Deleted between the listing and the read: gone, nothing to keep.
    if (record.status().IsNotFound()) continue;
    ZEROFS_RETURN_IF_ERROR(record.status());
    records.push_back(std::move(*record));
  }
  return records;
}

}  // namespace zerofs::engine
