// Volume::Create, OpenKey and ChangePassword: the key file in the bucket.
#include <atomic>
#include <catch2/catch.hpp>
#include <mutex>
#include <thread>

#include "../crypto/test_keys.h"
#include "zerofs/crypto/frame.h"
#include "zerofs/engine/volume.h"
#include "zerofs/objstore/memory_store.h"

using namespace zerofs;
using crypto::Argon2Params;

namespace {

engine::CreateOptions Fast() {
  return {Argon2Params::Minimum(), nullptr};
}

// Records the operations that reach the store, and can run a hook before a put.
class RecordingStore final : public objstore::ObjectStore {
 public:
  std::string Describe() const override { return "recording"; }
  std::vector<std::string> Log() {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
  }
  objstore::MemoryStore inner{"inner"};
  std::function<void()> before_put;

 protected:
  Result<objstore::GetResult> DoGet(std::string_view key,
                                    std::optional<objstore::ByteRange> range) override {
    Record("get " + std::string(key));
    return inner.Get(key, range);
  }
  Result<objstore::ObjectInfo> DoPut(std::string_view key, std::string_view data,
                                     const objstore::PutOptions& options) override {
    Record("put " + std::string(key));
    if (before_put) before_put();
    return inner.Put(key, data, options);
  }
  Result<objstore::ObjectInfo> DoHead(std::string_view key) override {
    Record("head " + std::string(key));
    return inner.Head(key);
  }
  Result<objstore::ListPageResult> DoListPage(std::string_view prefix, std::string_view after,
                                              std::uint32_t max_keys) override {
    Record("list " + std::string(prefix));
    return inner.ListPage(prefix, after, max_keys);
  }
  Status DoDelete(std::string_view key) override {
    Record("delete " + std::string(key));
    return inner.Delete(key);
  }

 private:
  void Record(std::string op) {
    std::lock_guard<std::mutex> lock(mu_);
    log_.push_back(std::move(op));
  }
  std::mutex mu_;
  std::vector<std::string> log_;
};

}  // namespace

TEST_CASE("a created volume opens with its password and yields the same keys") {
  objstore::MemoryStore store;
  Result<crypto::VolumeKey> created = engine::Volume::Create(store, Secret("pw"), Fast());
  REQUIRE(created.ok());
  Result<crypto::VolumeKey> opened = engine::Volume::OpenKey(store, Secret("pw"));
  REQUIRE(opened.ok());
  CHECK(opened->uuid == created->uuid);
  CHECK(opened->kdf == Argon2Params::Minimum());
  CHECK(testing::SameKeys(*opened->keys, *created->keys));
  // Two volumes never share a uuid or keys.
  objstore::MemoryStore other;
  Result<crypto::VolumeKey> second = engine::Volume::Create(other, Secret("pw"), Fast());
  REQUIRE(second.ok());
  CHECK(second->uuid != created->uuid);
  CHECK_FALSE(testing::SameKeys(*second->keys, *created->keys));
}

TEST_CASE("creating a volume where one exists fails clearly and changes nothing") {
  objstore::MemoryStore store;
  REQUIRE(engine::Volume::Create(store, Secret("pw"), Fast()).ok());
  const std::string before = store.Get(format::kKeyObjectName)->data;
  Result<crypto::VolumeKey> again = engine::Volume::Create(store, Secret("other"), Fast());
  REQUIRE_FALSE(again.ok());
  CHECK(again.status().code() == StatusCode::kAlreadyExists);
  CHECK_THAT(again.status().message(), Catch::Contains("volume already exists"));
  CHECK(store.Get(format::kKeyObjectName)->data == before);
}

TEST_CASE("racing creates: exactly one wins, the others get the clear error") {
  for (int round = 0; round < 5; ++round) {
    objstore::MemoryStore store;
    std::atomic<int> wins{0};
    std::atomic<int> already{0};
    std::vector<std::thread> threads;
    std::mutex mu;
    std::vector<std::string> winners;
    for (int t = 0; t < 6; ++t) {
      threads.emplace_back([&] {
        Result<crypto::VolumeKey> r = engine::Volume::Create(store, Secret("pw"), Fast());
        if (r.ok()) {
          ++wins;
          std::lock_guard<std::mutex> lock(mu);
          winners.push_back(r->uuid.ToString());
        } else if (r.status().code() == StatusCode::kAlreadyExists &&
                   r.status().message().find("volume already exists") != std::string::npos) {
          ++already;
        }
      });
    }
    for (auto& th : threads) th.join();
    REQUIRE(wins == 1);
    CHECK(already == 5);
    // The key in the bucket is the winner's.
    Result<crypto::VolumeKey> opened = engine::Volume::OpenKey(store, Secret("pw"));
    REQUIRE(opened.ok());
    CHECK(opened->uuid.ToString() == winners.at(0));
  }
}

TEST_CASE("a wrong password is one clear error, before anything else is touched") {
  RecordingStore store;
  Result<crypto::VolumeKey> created = engine::Volume::Create(store, Secret("right"), Fast());
  REQUIRE(created.ok());
  store.inner.Put("segments/0000000000000001", "data").value();
  const std::size_t ops_before = store.Log().size();

  Result<crypto::VolumeKey> r = engine::Volume::OpenKey(store, Secret("wrong"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kPermissionDenied);
  CHECK(r.status().message() == "wrong password for volume " + created->uuid.ToString());
  const std::vector<std::string> log = store.Log();
  REQUIRE(log.size() == ops_before + 1);
  CHECK(log.back() == "get zerofs.key");
}

TEST_CASE("opening where there is no volume says so") {
  objstore::MemoryStore store;
  Result<crypto::VolumeKey> r = engine::Volume::OpenKey(store, Secret("pw"));
  CHECK(r.status().code() == StatusCode::kNotFound);
  CHECK_THAT(r.status().message(), Catch::Contains("zerofs init"));
  CHECK(engine::Volume::OpenKey(store, Secret("")).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("changing the password keeps the data key and retires the old password") {
  objstore::MemoryStore store;
  Result<crypto::VolumeKey> created = engine::Volume::Create(store, Secret("old"), Fast());
  REQUIRE(created.ok());
  // Data sealed before the change must stay readable after it.
  std::string frame;
  const std::string file_before = store.Get(format::kKeyObjectName)->data;
  crypto::SealFrame(created->keys->Subkey(crypto::KeyPurpose::kSegmentFrame), "aad", "payload",
                    crypto::CompressionOptions::None(), crypto::SystemRandom(), &frame);

  engine::ChangePasswordOptions options;
  options.kdf = Argon2Params{2, 16384};
  Result<crypto::VolumeKey> changed =
      engine::Volume::ChangePassword(store, Secret("old"), Secret("new"), options);
  REQUIRE(changed.ok());
  CHECK(changed->uuid == created->uuid);
  CHECK(store.Get(format::kKeyObjectName)->data != file_before);
  CHECK(changed->kdf == (Argon2Params{2, 16384}));

  CHECK(engine::Volume::OpenKey(store, Secret("old")).status().code() ==
        StatusCode::kPermissionDenied);
  Result<crypto::VolumeKey> reopened = engine::Volume::OpenKey(store, Secret("new"));
  REQUIRE(reopened.ok());
  CHECK(testing::SameKeys(*reopened->keys, *created->keys));
  Result<std::string> data = crypto::OpenFrame(
      reopened->keys->Subkey(crypto::KeyPurpose::kSegmentFrame), "aad", frame, 100, "f");
  REQUIRE(data.ok());
  CHECK(*data == "payload");
}

TEST_CASE("changing the password needs the old one") {
  objstore::MemoryStore store;
  REQUIRE(engine::Volume::Create(store, Secret("old"), Fast()).ok());
  const std::string before = store.Get(format::kKeyObjectName)->data;
  Result<crypto::VolumeKey> r =
      engine::Volume::ChangePassword(store, Secret("guess"), Secret("new"));
  CHECK(r.status().code() == StatusCode::kPermissionDenied);
  CHECK(store.Get(format::kKeyObjectName)->data == before);
  CHECK(engine::Volume::ChangePassword(store, Secret("old"), Secret("")).status().code() ==
        StatusCode::kInvalidArgument);
}

TEST_CASE("a concurrent change of the key file is detected, not overwritten") {
  RecordingStore store;
  REQUIRE(engine::Volume::Create(store, Secret("old"), Fast()).ok());
  std::string sneaked;
  store.before_put = [&] {
    // Another administrator changes the password between our read and our write.
    store.before_put = nullptr;
    Result<crypto::VolumeKey> other =
        engine::Volume::ChangePassword(store.inner, Secret("old"), Secret("theirs"));
    REQUIRE(other.ok());
    sneaked = store.inner.Get(format::kKeyObjectName)->data;
  };
  Result<crypto::VolumeKey> r =
      engine::Volume::ChangePassword(store, Secret("old"), Secret("mine"));
  CHECK(r.status().code() == StatusCode::kPreconditionFailed);
  CHECK(store.inner.Get(format::kKeyObjectName)->data == sneaked);
  CHECK(engine::Volume::OpenKey(store, Secret("theirs")).ok());
}
