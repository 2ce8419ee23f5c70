// S3Store against a real radosgw (scripts/radosgw.sh), directly and through FaultProxy.
// Each test works under its own random prefix of the shared test bucket and removes what
// it wrote. Without the server these tests fail; they never skip.
#include "zerofs/objstore/s3_store.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <limits>
#include <random>
#include <thread>

#include "fault_proxy.h"
#include "s3_test_env.h"
#include "store_conformance.h"

namespace zerofs::objstore {
namespace {

using testing::FaultProxy;

std::shared_ptr<S3Store> OpenOrFail(const S3Options& config, const std::string& bucket,
                                    const std::string& prefix) {
  auto store = S3Store::Open(bucket, prefix, config);
  if (!store.ok()) FAIL("S3Store::Open failed: " << store.status());
  return std::move(store).value();
}

// Opens a store under a fresh prefix and empties that prefix again at the end.
class ScopedStore {
 public:
  explicit ScopedStore(const std::string& name, std::optional<S3Options> config = std::nullopt)
      : server_(testing::LoadS3TestServer()),
        prefix_(testing::UniqueS3Prefix(name)),
        store_(OpenOrFail(config.value_or(server_.Options()), server_.bucket, prefix_)) {}
  ~ScopedStore() {
    auto cleanup = OpenOrFail(server_.Options(), server_.bucket, prefix_);
    auto all = cleanup->List("");
    if (!all.ok()) return;
    std::vector<std::string> keys;
    for (const ObjectInfo& o : *all) keys.push_back(o.key);
    (void)cleanup->DeleteMany(keys);
  }
  ScopedStore(const ScopedStore&) = delete;
  ScopedStore& operator=(const ScopedStore&) = delete;

  S3Store& operator*() { return *store_; }
  S3Store* operator->() { return store_.get(); }
  const testing::S3TestServer& server() const { return server_; }
  const std::string& prefix() const { return prefix_; }

 private:
  testing::S3TestServer server_;
  std::string prefix_;
  std::shared_ptr<S3Store> store_;
};

std::string RandomBytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

// Puts `keys` on `threads` threads; returns the first failure.
Status PutParallel(ObjectStore& store, const std::vector<std::string>& keys, int threads) {
  std::atomic<std::size_t> next{0};
  std::mutex mu;
  Status first;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (std::size_t i = next++; i < keys.size(); i = next++) {
        auto r = store.Put(keys[i], keys[i]);
        if (!r.ok()) {
          std::lock_guard lock(mu);
          if (first.ok()) first = r.status();
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  return first;
}

// "http://127.0.0.1:1234" -> 1234
std::uint16_t PortOf(const std::string& endpoint) {
  return static_cast<std::uint16_t>(std::stoi(endpoint.substr(endpoint.rfind(':') + 1)));
}

TEST_CASE("S3Store passes the store conformance suite on radosgw") {
  ScopedStore store("conformance");
  testing::RunStoreConformance(*store);
}

TEST_CASE("S3Store probes conditional puts and enforces both kinds") {
  ScopedStore store("conditional");
  const Capabilities caps = store->capabilities();
  CHECK(caps.conditional_create);
  CHECK(caps.conditional_replace);

  auto created = store->Put("root", "epoch-1", PutOptions::IfNoneMatch());
  REQUIRE(created.ok());
  auto again = store->Put("root", "epoch-1b", PutOptions::IfNoneMatch());
  CHECK(again.status().code() == StatusCode::kPreconditionFailed);

  auto swapped = store->Put("root", "epoch-2", PutOptions::IfMatch(created->etag));
  REQUIRE(swapped.ok());
  auto stale = store->Put("root", "epoch-3", PutOptions::IfMatch(created->etag));
  CHECK(stale.status().code() == StatusCode::kPreconditionFailed);
  CHECK(stale.status().message().find("root") != std::string::npos);
  CHECK(store->Get("root")->data == "epoch-2");

  // The probe object is gone again.
  auto listed = store->List("");
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().key == "root");
}

TEST_CASE("S3Store ranged gets") {
  ScopedStore store("ranges");
  const std::string data = RandomBytes(1 << 20, 7);
  REQUIRE(store->Put("obj", data).ok());
  struct Case {
    std::uint64_t offset, length;
  };
  const Case cases[] = {{0, 1},
                        {0, data.size()},
                        {1000, 5000},
                        {data.size() - 1, 1},
                        {data.size() - 10, 100},
                        {12345, std::numeric_limits<std::uint64_t>::max()}};
  for (const Case& c : cases) {
    INFO("offset " << c.offset << " length " << c.length);
    auto got = store->Get("obj", ByteRange{c.offset, c.length});
    REQUIRE(got.ok());
    CHECK(got->data == data.substr(c.offset, c.length));
    CHECK(got->info.size == data.size());
    CHECK_FALSE(got->info.etag.empty());
  }
  // Zero-length ranges inside and at the end are empty; past the end is invalid.
  auto zero = store->Get("obj", ByteRange{500, 0});
  REQUIRE(zero.ok());
  CHECK(zero->data.empty());
  CHECK(zero->info.size == data.size());
  auto at_end = store->Get("obj", ByteRange{data.size(), 10});
  REQUIRE(at_end.ok());
  CHECK(at_end->data.empty());
  CHECK(store->Get("obj", ByteRange{data.size() + 1, 0}).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(store->Get("obj", ByteRange{data.size() + 1, 5}).status().code() ==
        StatusCode::kInvalidArgument);
  // Keys that need encoding.
  const std::string odd = "dir/sp ace+plus%pct&amp?q=1#h/caf\xC3\xA9~";
  REQUIRE(store->Put(odd, "odd").ok());
  CHECK(store->Get(odd, ByteRange{1, 1})->data == "d");
  auto listed = store->List("dir/");
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().key == odd);
}

TEST_CASE("S3Store lists and deletes more than 1000 keys") {
  ScopedStore store("many");
  std::vector<std::string> keys;
  for (int i = 0; i < 1234; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "k/%05d", i);
    keys.emplace_back(name);
  }
  REQUIRE(PutParallel(*store, keys, 16).ok());

  auto first = store->ListPage("k/", "", 1000);
  REQUIRE(first.ok());
  CHECK(first->truncated);
  CHECK(first->objects.size() <= 1000);
  auto all = store->List("k/");
  REQUIRE(all.ok());
  REQUIRE(all->size() == keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) REQUIRE((*all)[i].key == keys[i]);

  std::vector<std::string> doomed = keys;
  doomed.push_back("k/never-existed");
  REQUIRE(store->DeleteMany(doomed).ok());
  auto left = store->List("k/");
  REQUIRE(left.ok());
  CHECK(left->empty());
}

TEST_CASE("S3Store multipart upload above the threshold") {
  testing::S3TestServer server = testing::LoadS3TestServer();
  S3Options config = server.Options();
  config.multipart_threshold_bytes = 5ULL << 20;
  config.multipart_part_bytes = 5ULL << 20;
  ScopedStore store("multipart", config);
  const std::string data = RandomBytes((12 << 20) + 12345, 11);

  auto put = store->Put("big", data);
  REQUIRE(put.ok());
  CHECK(put->size == data.size());
  CHECK(put->etag.size() > 2);
  CHECK(put->etag.substr(put->etag.size() - 2) == "-3");  // three parts
  auto got = store->Get("big");
  REQUIRE(got.ok());
  CHECK(got->data == data);
  CHECK(got->info.etag == put->etag);
  // A range across the first part boundary.
  auto across = store->Get("big", ByteRange{(5 << 20) - 100, 200});
  REQUIRE(across.ok());
  CHECK(across->data == data.substr((5 << 20) - 100, 200));

  // Conditional puts above the threshold keep their guarantees.
  auto created = store->Put("big-once", data, PutOptions::IfNoneMatch());
  REQUIRE(created.ok());
  CHECK(store->Put("big-once", data, PutOptions::IfNoneMatch()).status().code() ==
        StatusCode::kPreconditionFailed);
  CHECK(store->Put("big-once", "x", PutOptions::IfMatch(put->etag)).status().code() ==
        StatusCode::kPreconditionFailed);
  CHECK(store->Put("big-once", "x", PutOptions::IfMatch(created->etag)).ok());
}

TEST_CASE("S3Store retries through injected faults") {
  const testing::S3TestServer server = testing::LoadS3TestServer();
  FaultProxy proxy("127.0.0.1", PortOf(server.endpoint));
  S3Options config = server.Options();
  config.endpoint = proxy.endpoint();
  config.max_retries = 6;
  ScopedStore store("faults", config);
  const std::string data = RandomBytes(300000, 3);

  SECTION("503 SlowDown answers") {
    proxy.InjectNext(FaultProxy::Fault::kStatus503, 3);
    REQUIRE(store->Put("a", data).ok());
    CHECK(proxy.faults_injected() == 3);
    proxy.InjectNext(FaultProxy::Fault::kStatus503, 3);
    auto got = store->Get("a");
    REQUIRE(got.ok());
    CHECK(got->data == data);
    proxy.InjectNext(FaultProxy::Fault::kStatus503, 2);
    REQUIRE(store->List("").ok());
    CHECK(proxy.pending() == 0);
  }
  SECTION("connections closed mid-request") {
    proxy.InjectNext(FaultProxy::Fault::kDropRequest, 2);
    REQUIRE(store->Put("a", data).ok());
    CHECK(proxy.faults_injected() == 2);
    proxy.InjectNext(FaultProxy::Fault::kDropRequest, 2);
    REQUIRE(store->Head("a").ok());
  }
  SECTION("connections closed mid-response") {
    REQUIRE(store->Put("a", data).ok());
    proxy.InjectNext(FaultProxy::Fault::kTruncateResponse, 2, "GET");
    auto got = store->Get("a");
    REQUIRE(got.ok());
    CHECK(got->data == data);
    CHECK(proxy.faults_injected() == 2);
  }
  SECTION("a conditional create whose answer was lost still succeeds") {
    proxy.InjectNext(FaultProxy::Fault::kDropResponse, 1, "PUT");
    auto created = store->Put("seg", data, PutOptions::IfNoneMatch());
    REQUIRE(created.ok());
    CHECK(proxy.faults_injected() == 1);
    CHECK(store->Get("seg")->data == data);
    // And a real conflict is still reported.
    CHECK(store->Put("seg", "other", PutOptions::IfNoneMatch()).status().code() ==
          StatusCode::kPreconditionFailed);
  }
  SECTION("a compare-and-swap whose answer was lost still succeeds") {
    auto v1 = store->Put("root", "v1");
    REQUIRE(v1.ok());
    proxy.InjectNext(FaultProxy::Fault::kDropResponse, 1, "PUT");
    auto v2 = store->Put("root", "v2", PutOptions::IfMatch(v1->etag));
    REQUIRE(v2.ok());
    CHECK(store->Get("root")->data == "v2");
    CHECK(store->Put("root", "v3", PutOptions::IfMatch(v1->etag)).status().code() ==
          StatusCode::kPreconditionFailed);
  }
  SECTION("delete-many retries keys that failed transiently and reports the others") {
    std::vector<std::string> keys;
    for (int i = 0; i < 5; ++i) keys.push_back("d/" + std::to_string(i));
    for (const std::string& k : keys) REQUIRE(store->Put(k, "x").ok());
    proxy.InjectNext(FaultProxy::Fault::kDeleteKeyError, 1, "POST", "delete", "InternalError");
    REQUIRE(store->DeleteMany(keys).ok());
    CHECK(proxy.faults_injected() == 1);
    CHECK(store->List("d/")->empty());

    for (const std::string& k : keys) REQUIRE(store->Put(k, "x").ok());
    proxy.InjectNext(FaultProxy::Fault::kDeleteKeyError, 1, "POST", "delete", "AccessDenied");
    Status denied = store->DeleteMany(keys);
    CHECK(denied.code() == StatusCode::kPermissionDenied);
    CHECK(denied.message().find("/d/0") != std::string::npos);
    CHECK(denied.message().find("AccessDenied") != std::string::npos);
  }
  SECTION("multipart parts and completion survive faults") {
    S3Options mp = config;
    mp.multipart_threshold_bytes = 5ULL << 20;
    mp.multipart_part_bytes = 5ULL << 20;
    auto big_store = OpenOrFail(mp, server.bucket, store.prefix());
    const std::string big = RandomBytes(11 << 20, 5);
    // Parts lost on the way, then 503s on a part and on the completion.
    proxy.InjectNext(FaultProxy::Fault::kDropRequest, 2, "PUT", "partNumber=");
    REQUIRE(big_store->Put("big", big).ok());
    CHECK(proxy.faults_injected() == 2);
    proxy.InjectNext(FaultProxy::Fault::kStatus503, 2, "", "uploadId=");
    REQUIRE(big_store->Put("big", big).ok());
    CHECK(proxy.faults_injected() == 4);
    // The completion takes effect but its answer is lost. radosgw answers a repeated
    // completion again; S3 says NoSuchUpload, and then the store must recognise the
    // object as its own by its etag. Both are checked.
    proxy.InjectNext(FaultProxy::Fault::kDropResponse, 1, "POST", "uploadId=");
    auto completed = big_store->Put("big2", big);
    REQUIRE(completed.ok());
    CHECK(proxy.faults_injected() == 5);
    CHECK(store->Get("big2")->data == big);
    CHECK(store->Head("big2")->etag == completed->etag);
    proxy.InjectNext(FaultProxy::Fault::kDropResponse, 1, "POST", "uploadId=");
    proxy.InjectNext(FaultProxy::Fault::kNoSuchUpload, 1, "POST", "uploadId=");
    auto recognised = big_store->Put("big3", big);
    REQUIRE(recognised.ok());
    CHECK(proxy.faults_injected() == 7);
    CHECK(store->Get("big3")->data == big);
    // A NoSuchUpload that is not explained by an earlier lost answer stays an error.
    proxy.InjectNext(FaultProxy::Fault::kNoSuchUpload, 1, "POST", "uploadId=");
    CHECK(big_store->Put("big4", big).status().code() == StatusCode::kNotFound);
    CHECK(store->Head("big4").status().code() == StatusCode::kNotFound);
  }
}

TEST_CASE("S3Store keeps at most max_parallel requests in flight") {
  const testing::S3TestServer server = testing::LoadS3TestServer();
  FaultProxy proxy("127.0.0.1", PortOf(server.endpoint));
  S3Options config = server.Options();
  config.endpoint = proxy.endpoint();
  config.max_parallel = 3;
  ScopedStore store("parallel", config);
  std::vector<std::string> keys;
  for (int i = 0; i < 120; ++i) keys.push_back("p/" + std::to_string(i));
  REQUIRE(PutParallel(*store, keys, 12).ok());
  CHECK(proxy.max_in_flight() >= 2);  // the callers did overlap
  CHECK(proxy.max_in_flight() <= 3);
  auto all = store->List("p/");
  REQUIRE(all.ok());
  CHECK(all->size() == keys.size());
}

TEST_CASE("S3Store without retries reports kUnavailable") {
  const testing::S3TestServer server = testing::LoadS3TestServer();
  FaultProxy proxy("127.0.0.1", PortOf(server.endpoint));
  S3Options config = server.Options();
  config.endpoint = proxy.endpoint();
  config.max_retries = 0;
  ScopedStore store("noretry", config);
  REQUIRE(store->Put("a", "data").ok());

  proxy.InjectNext(FaultProxy::Fault::kStatus503, 1);
  auto slow = store->Get("a");
  REQUIRE_FALSE(slow.ok());
  CHECK(slow.status().code() == StatusCode::kUnavailable);
  CHECK(slow.status().message().find("SlowDown") != std::string::npos);

  // Two drops: libcurl itself resends once when a reused connection turns out dead.
  proxy.InjectNext(FaultProxy::Fault::kDropRequest, 2);
  auto dropped = store->Put("b", "data");
  REQUIRE_FALSE(dropped.ok());
  CHECK(dropped.status().code() == StatusCode::kUnavailable);
  proxy.ClearFaults();

  proxy.InjectNext(FaultProxy::Fault::kTruncateResponse, 1);
  CHECK(store->Get("a").status().code() == StatusCode::kUnavailable);
  // Once the faults stop, the same store works again.
  CHECK(store->Get("a").ok());
}

TEST_CASE("S3Store rejects wrong credentials clearly") {
  const testing::S3TestServer server = testing::LoadS3TestServer();
  S3Options config = server.Options();
  const std::string wrong_secret = "definitely-not-the-secret-0123456789";

  SECTION("wrong secret") {
    config.secret_access_key = Secret(wrong_secret);
    auto r = S3Store::Open(server.bucket, "test/creds", config);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kPermissionDenied);
    const std::string& msg = r.status().message();
    CHECK(msg.find(server.access_key) != std::string::npos);
    CHECK(msg.find(server.endpoint) != std::string::npos);
    CHECK(msg.find("SignatureDoesNotMatch") != std::string::npos);
    CHECK(msg.find(wrong_secret) == std::string::npos);
    CHECK(msg.find(server.secret_key) == std::string::npos);
  }
  SECTION("unknown access key id") {
    config.access_key_id = "ZEROFSUNKNOWNKEY0000";
    auto r = S3Store::Open(server.bucket, "test/creds", config);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kPermissionDenied);
    CHECK(r.status().message().find("ZEROFSUNKNOWNKEY0000") != std::string::npos);
    CHECK(r.status().message().find(server.secret_key) == std::string::npos);
  }
  SECTION("missing bucket") {
    auto r = S3Store::Open("zerofs-no-such-bucket", "", config);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kNotFound);
    CHECK(r.status().message().find("zerofs-no-such-bucket") != std::string::npos);
  }
  SECTION("nothing listening") {
    // A port bound but not listening refuses connections, and nobody else can take it.
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    REQUIRE(bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    const std::string endpoint = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
    config.endpoint = endpoint;
    config.max_retries = 1;
    auto r = S3Store::Open(server.bucket, "", config);
    close(fd);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kUnavailable);
    CHECK(r.status().message().find(endpoint) != std::string::npos);
  }
}

}  // namespace
}  // namespace zerofs::objstore
