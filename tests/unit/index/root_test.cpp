// The root object: its JSON payload (docs/format.md §8.2, including the worked example of
// §10.4), and compare-and-swap over a store.
#include "zerofs/index/root.h"

#include <catch2/catch.hpp>
#include <string>

#include "index_test_util.h"
#include "zerofs/crypto/envelope.h"
#include "zerofs/objstore/memory_store.h"

using namespace zerofs;
using namespace zerofs::index;
using testing::TestUuid;

namespace {

RootRecord WithSnapshot() {
  RootRecord root;
  root.writer_epoch = 9;
  root.snapshot = SnapshotRef{"index/manifest-0000000000000063-0badc0de", 99};
  root.journal_start_seq = 100;
  root.next_seq = 123;
  return root;
}

Result<RootRecord> Decode(std::string_view json) {
  return DecodeRootPayload(json, TestUuid());
}

bool Corrupt(std::string_view json) {
  return Decode(json).status().code() == StatusCode::kCorruption;
}

}  // namespace

TEST_CASE("root payload is the JSON of docs/format.md", "[index][root]") {
  // The payload of the worked example (docs/format.md §10.4).
  const std::string example =
      R"({"version":1,"volume_uuid":"5daf1d44-ef06-4079-aac7-f2550e2db161","writer_epoch":3,)"
      R"("journal_start_seq":1,"next_seq":43,"snapshot":null})";
  RootRecord root;
  root.writer_epoch = 3;
  root.journal_start_seq = 1;
  root.next_seq = 43;
  CHECK(EncodeRootPayload(root, TestUuid()) == example);
  CHECK(*Decode(example) == root);

  const std::string with_snapshot = EncodeRootPayload(WithSnapshot(), TestUuid());
  CHECK(with_snapshot ==
        R"({"version":1,"volume_uuid":"5daf1d44-ef06-4079-aac7-f2550e2db161","writer_epoch":9,)"
        R"("journal_start_seq":100,"next_seq":123,"snapshot":{"manifest":)"
        R"("index/manifest-0000000000000063-0badc0de","covers_seq":99}})");
  CHECK(*Decode(with_snapshot) == WithSnapshot());
  // Whitespace and member order are free.
  CHECK(Decode(R"( { "snapshot" : null, "next_seq": 1, "journal_start_seq": 1,
                     "writer_epoch": 0, "volume_uuid": "5daf1d44-ef06-4079-aac7-f2550e2db161",
                     "version": 1 } )")
            .ok());
}

TEST_CASE("root payload decoder rejects what is not a v1 root of this volume", "[index][root]") {
  const std::string good = EncodeRootPayload(WithSnapshot(), TestUuid());
  const auto replace = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const std::size_t at = s.find(from);
    REQUIRE(at != std::string::npos);
    s.replace(at, from.size(), to);
    return s;
  };
  CHECK(Corrupt(""));
  CHECK(Corrupt("[]"));
  CHECK(Corrupt("{"));
  CHECK(Corrupt(good.substr(0, good.size() - 1)));
  CHECK(Corrupt(replace("\"version\":1", "\"version\":2")));
  CHECK(Corrupt(replace("\"version\":1", "\"version\":\"1\"")));
  CHECK(Corrupt(replace("5daf1d44", "5daf1d45")));  // another volume
  CHECK(Corrupt(replace("\"writer_epoch\":9", "\"writer_epoch\":-9")));
  CHECK(Corrupt(replace("\"writer_epoch\":9", "\"writer_epoch\":9.5")));
  CHECK(Corrupt(replace("\"writer_epoch\":9", "\"writer_epoch\":18446744073709551616")));
  CHECK(Corrupt(replace("\"writer_epoch\":9,", "")));  // missing
  CHECK(Corrupt(replace("\"writer_epoch\":9", "\"writer_epoch\":9,\"extra\":1")));
  CHECK(Corrupt(replace("\"covers_seq\":99", "\"covers_seq\":99,\"files\":[]")));
  CHECK(Corrupt(replace("\"journal_start_seq\":100", "\"journal_start_seq\":99")));
  CHECK(Corrupt(replace("index/manifest-", "index/other-")));
  CHECK(Corrupt(replace("index/manifest-", "segments/manifest-")));
  CHECK(Corrupt(replace("0badc0de", "0badc0d/")));
  CHECK(Corrupt(replace("\"manifest\":", "\"manifesto\":")));
  CHECK(Corrupt(std::string(70000, ' ') + good));
  CHECK(Corrupt(R"({"version":1,"volume_uuid":"5daf1d44-ef06-4079-aac7-f2550e2db161",)"
                R"("writer_epoch":0,"journal_start_seq":0,"next_seq":1,"snapshot":null})"));
  CHECK(Corrupt(std::string("\xff\xfe{}", 4)));
}

TEST_CASE("root is created once and replaced only by compare-and-swap", "[index][root]") {
  objstore::MemoryStore store;
  const auto keys = testing::FixedKeys();
  CHECK(ReadRoot(store, *keys, TestUuid()).status().code() == StatusCode::kNotFound);

  RootRecord root;
  root.writer_epoch = 1;
  const auto created =
      WriteRoot(store, *keys, TestUuid(), root, objstore::PutOptions::IfNoneMatch());
  REQUIRE(created.ok());
  auto read = ReadRoot(store, *keys, TestUuid());
  REQUIRE(read.ok());
  CHECK(read->first == root);
  CHECK(read->second == *created);

  // A second creator loses.
  CHECK(WriteRoot(store, *keys, TestUuid(), root, objstore::PutOptions::IfNoneMatch())
            .status()
            .code() == StatusCode::kPreconditionFailed);

  // Two writers read the same etag; the first swap wins, the second is refused.
  RootRecord mine = read->first;
  mine.writer_epoch = 2;
  const auto swapped =
      WriteRoot(store, *keys, TestUuid(), mine, objstore::PutOptions::IfMatch(read->second));
  REQUIRE(swapped.ok());
  CHECK(*swapped != *created);
  RootRecord theirs = read->first;
  theirs.writer_epoch = 7;
  CHECK(WriteRoot(store, *keys, TestUuid(), theirs, objstore::PutOptions::IfMatch(read->second))
            .status()
            .code() == StatusCode::kPreconditionFailed);
  read = ReadRoot(store, *keys, TestUuid());
  REQUIRE(read.ok());
  CHECK(read->first == mine);
  CHECK(read->second == *swapped);

  // Pointing it at a snapshot.
  const auto again =
      WriteRoot(store, *keys, TestUuid(), WithSnapshot(), objstore::PutOptions::IfMatch(*swapped));
  REQUIRE(again.ok());
  CHECK(ReadRoot(store, *keys, TestUuid())->first == WithSnapshot());
}

TEST_CASE("an invalid root is never written", "[index][root]") {
  objstore::MemoryStore store;
  const auto keys = testing::FixedKeys();
  RootRecord bad = WithSnapshot();
  bad.journal_start_seq = 5;
  CHECK(WriteRoot(store, *keys, TestUuid(), bad, {}).status().code() ==
        StatusCode::kInvalidArgument);
  bad = WithSnapshot();
  bad.snapshot->manifest = "index/000001.sst";
  CHECK(ValidateRootRecord(bad).code() == StatusCode::kInvalidArgument);
  CHECK(store.ObjectCount() == 0);
}

TEST_CASE("a root sealed for another volume or key does not open", "[index][root]") {
  objstore::MemoryStore store;
  const auto keys = testing::FixedKeys();
  REQUIRE(WriteRoot(store, *keys, TestUuid(), WithSnapshot(), {}).ok());
  CHECK(ReadRoot(store, *testing::FixedKeys(1), TestUuid()).status().code() ==
        StatusCode::kCorruption);
  const auto other = crypto::VolumeUuid::Parse("0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f0").value();
  CHECK(ReadRoot(store, *keys, other).status().code() == StatusCode::kCorruption);
  // A sealed root whose payload names another volume (sealed with the right keys).
  const std::string foreign = EncodeRootPayload(WithSnapshot(), other);
  const auto sealed = crypto::SealEnvelope(*keys, crypto::EnvelopeKind::kRoot, TestUuid(), "root",
                                           foreign, crypto::CompressionOptions::None());
  REQUIRE(sealed.ok());
  REQUIRE(store.Put("root", *sealed).ok());
  CHECK(ReadRoot(store, *keys, TestUuid()).status().code() == StatusCode::kCorruption);
}
