// Services over a served volume: the control socket's flush and stats, and the metrics.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "../../unit/engine/engine_test_support.h"
#include "zerofs/objstore/memory_store.h"
#include "zerofs/objstore/open.h"
#include "zerofs/server/services.h"
#include "zerofs/server/volume.h"

namespace {

using nlohmann::json;
using zerofs::server::Config;
using zerofs::StatusCode;
using zerofs::server::CallControl;
using zerofs::server::OpenServedVolume;
using zerofs::server::ServiceFlags;
using zerofs::server::Services;
using zerofs::server::VolumeFlags;

Config MemoryConfig(const std::string& name) {
  Config config;
  config.storage.url = "memory://" + name;
  config.storage.password = zerofs::testing::TestPassword();
  return config;
}

}  // namespace

TEST_CASE("services: flush and stats through the control socket, metrics count requests") {
  const std::string name = "services-test-" + std::to_string(::getpid());
  auto store = zerofs::objstore::Open("memory://" + name);
  REQUIRE(store.ok());
  zerofs::testing::InitVolume(**store);

  auto served = OpenServedVolume(VolumeFlags{}, MemoryConfig(name), "test");
  REQUIRE(served.ok());

  const auto dir = std::filesystem::temp_directory_path() /
                   ("zerofs-services-test-" + std::to_string(::getpid()));
  ServiceFlags flags;
  flags.control_socket = (dir / "control.sock").string();
  flags.metrics_listen = "127.0.0.1:0";
  Services services(flags, Config{}, /*default_control=*/false);
  services.AddVolume(**served);
  services.AddProtocol("test", [] {
    zerofs::server::ProtocolCounters c;
    c.requests = 7;
    c.ops = {{"LOOKUP", 5, 2}, {"READ", 2, 0}};
    return c;
  });
  REQUIRE(services.Start().ok());

  // A change, then flush: it is durable.
  auto& fs = *(*served)->filesystem();
  const auto stats_before = (*served)->volume().stats();
  auto made = fs.Mkdir(zerofs::vfs::Credentials::Root(), zerofs::vfs::kRootIno, "d", 0755);
  REQUIRE(made.ok());
  auto flushed = CallControl(flags.control_socket, "flush", json::object());
  REQUIRE(flushed.ok());
  const auto stats_after = (*served)->volume().stats();
  // The flush uploaded the change: a new segment is durable, and the next batch is a later one.
  CHECK(stats_after.durable_seq > stats_before.durable_seq);
  CHECK(stats_after.committed_seq > stats_before.committed_seq);

  auto stats = CallControl(flags.control_socket, "stats", json::object());
  REQUIRE(stats.ok());
  CHECK((*stats)["volume"]["url"] == "memory://" + name);
  CHECK((*stats)["volume"]["store"]["put_requests"].get<std::uint64_t>() > 0);
  CHECK((*stats)["protocols"]["test"]["requests"] == 7);
  CHECK((*stats)["protocols"]["test"]["ops"]["LOOKUP"]["errors"] == 2);
  CHECK((*stats)["volume"]["flush_latency"]["count"].get<std::uint64_t>() > 0);
  CHECK((*stats)["volume"].contains("cache"));

  CHECK(stats->contains("space"));
  CHECK((*stats)["space"]["segment_count"].get<std::uint64_t>() > 0);

  // Checkpoints and GC through the socket.
  auto made_cp = CallControl(flags.control_socket, "checkpoint.create", json{{"name", "c1"}});
  INFO(made_cp.status().ToString());
  REQUIRE(made_cp.ok());
  CHECK((*made_cp)["name"] == "c1");
  auto again = CallControl(flags.control_socket, "checkpoint.create", json{{"name", "c1"}});
  CHECK(again.status().code() == StatusCode::kAlreadyExists);
  auto listed = CallControl(flags.control_socket, "checkpoint.list", json::object());
  REQUIRE(listed.ok());
  REQUIRE((*listed)["checkpoints"].size() == 1);
  CHECK((*listed)["checkpoints"][0]["name"] == "c1");
  auto no_name = CallControl(flags.control_socket, "checkpoint.info", json::object());
  CHECK(no_name.status().code() == StatusCode::kInvalidArgument);
  auto gc = CallControl(flags.control_socket, "gc", json{{"grace_s", 0}});
  INFO(gc.status().ToString());
  REQUIRE(gc.ok());
  CHECK(gc->contains("segments_deleted"));
  CHECK((*gc)["space"]["checkpoints"] == 1);
  REQUIRE(CallControl(flags.control_socket, "checkpoint.delete", json{{"name", "c1"}}).ok());
  auto gone = CallControl(flags.control_socket, "checkpoint.info", json{{"name", "c1"}});
  CHECK(gone.status().code() == StatusCode::kNotFound);

  const std::string text = services.metrics().Render();
  CHECK(text.find("zerofs_stored_bytes") != std::string::npos);
  CHECK(text.find("zerofs_store_requests_total{op=\"put\"}") != std::string::npos);
  CHECK(text.find("zerofs_protocol_requests_total{protocol=\"test\"} 7") != std::string::npos);
  CHECK(text.find("zerofs_protocol_ops_total{protocol=\"test\",op=\"LOOKUP\"} 5") !=
        std::string::npos);
  CHECK(text.find("zerofs_protocol_op_errors_total{protocol=\"test\",op=\"LOOKUP\"} 2") !=
        std::string::npos);
  // The flush above was cut and became durable: the histogram counted it.
  CHECK(text.find("zerofs_flush_latency_seconds_bucket{le=\"+Inf\"}") != std::string::npos);
  CHECK(text.find("zerofs_flush_latency_seconds_count 0\n") == std::string::npos);
  CHECK(text.find("zerofs_cache_hit_ratio{cache=\"any\"}") != std::string::npos);
  CHECK(text.find("zerofs_cache_frames_total{source=\"bucket\"}") != std::string::npos);
  CHECK(text.find("zerofs_store_bytes_total{direction=\"out\",op=\"put\"}") !=
        std::string::npos);

  services.Stop();
  REQUIRE((*served)->Close().ok());
}

TEST_CASE("services: opening a volume names what is wrong") {
  VolumeFlags flags;
  Config none;
  auto no_url = OpenServedVolume(flags, none, "test");
  CHECK(no_url.status().code() == StatusCode::kInvalidArgument);
  CHECK(no_url.status().message().find("--url") != std::string::npos);

  Config empty = MemoryConfig("services-test-empty-" + std::to_string(::getpid()));
  auto missing = OpenServedVolume(flags, empty, "test");
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK(missing.status().message().find("zerofs init") != std::string::npos);

  const std::string name = "services-test-pw-" + std::to_string(::getpid());
  auto store = zerofs::objstore::Open("memory://" + name);
  REQUIRE(store.ok());
  zerofs::testing::InitVolume(**store);
  Config wrong = MemoryConfig(name);
  wrong.storage.password = zerofs::Secret("not the password");
  auto denied = OpenServedVolume(flags, wrong, "test");
  CHECK(denied.status().code() == StatusCode::kPermissionDenied);
}

TEST_CASE("services: a second writer is refused while the first serves, readers are not") {
  const std::string name = "services-test-lease-" + std::to_string(::getpid());
  auto store = zerofs::objstore::Open("memory://" + name);
  REQUIRE(store.ok());
  zerofs::testing::InitVolume(**store);
  auto first = OpenServedVolume(VolumeFlags{}, MemoryConfig(name), "first");
  REQUIRE(first.ok());
  auto second = OpenServedVolume(VolumeFlags{}, MemoryConfig(name), "second");
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().code() == StatusCode::kUnavailable);
  CHECK(second.status().message().find("volume in use by first") != std::string::npos);
  // A replica sees what is in the bucket: the root directory once the writer flushed it.
  REQUIRE((*first)->filesystem()->SyncAll().ok());
  VolumeFlags reader;
  reader.read_only = true;
  auto replica = OpenServedVolume(reader, MemoryConfig(name), "reader");
  INFO(replica.status().ToString());
  REQUIRE(replica.ok());
  REQUIRE((*replica)->Close().ok());
  REQUIRE((*first)->Close().ok());
  auto third = OpenServedVolume(VolumeFlags{}, MemoryConfig(name), "third");
  REQUIRE(third.ok());
  REQUIRE((*third)->Close().ok());
}
