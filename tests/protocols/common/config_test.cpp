// The config file: its schema, strict TOML parsing, ${NAME} substitution, password_file and
// the conversion of [gc] to the engine's settings (zerofs/server/config.h).
#include "zerofs/server/config.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

using namespace zerofs;
using namespace zerofs::server;

namespace {

std::optional<std::string> FakeEnv(const std::string& name) {
  static const std::map<std::string, std::string> env = {
      {"ZEROFS_PASSWORD", "s3cr3t-pass"}, {"BUCKET", "demo"}, {"EMPTY", ""}};
  auto it = env.find(name);
  if (it == env.end()) return std::nullopt;
  return it->second;
}

}  // namespace

TEST_CASE("the documented example config parses") {
  const char* text = R"(
[storage]
url = "s3://${BUCKET}/vol1"
password = "${ZEROFS_PASSWORD}"
[s3]
endpoint = "http://127.0.0.1:9000"
region = "eu-west-1"
access_key_id = "AKID"
secret_access_key = "SECRET"
path_style = true
max_parallel = 16
[cache]
dir = "/var/cache/zerofs"
memory_mb = 512
disk_gb = 20
[servers.nfs]
listen = ["127.0.0.1:2049"]
commit = "relaxed"
[servers.ninep]
listen = ["127.0.0.1:5564"]
unix_socket = "/run/zerofs/9p.sock"
[servers.nbd]
listen = "127.0.0.1:10809"
[control]
socket = "/run/zerofs/control.sock"
[metrics]
listen = "127.0.0.1:9091"
[log]
level = "debug"
)";
  auto cfg = ParseConfig(text, "zerofs.toml", FakeEnv);
  REQUIRE(cfg.ok());
  CHECK(cfg->storage.url == "s3://demo/vol1");
  CHECK(cfg->storage.password.reveal() == "s3cr3t-pass");
  CHECK(cfg->s3.endpoint == "http://127.0.0.1:9000");
  CHECK(cfg->s3.region == "eu-west-1");
  CHECK(cfg->s3.secret_access_key.reveal() == "SECRET");
  CHECK(cfg->s3.max_parallel == 16);
  CHECK(cfg->cache.memory_mb == 512);
  CHECK(cfg->nfs.enabled);
  CHECK(cfg->nfs.listen == std::vector<std::string>{"127.0.0.1:2049"});
  CHECK(cfg->nfs.commit == "relaxed");
  CHECK(cfg->ninep.unix_socket == "/run/zerofs/9p.sock");
  CHECK(cfg->nbd.listen == std::vector<std::string>{"127.0.0.1:10809"});
  CHECK(cfg->control_socket == "/run/zerofs/control.sock");
  CHECK(cfg->metrics_listen == "127.0.0.1:9091");
  CHECK(cfg->log.level == "debug");
}

TEST_CASE("unknown keys are rejected with the key and file named") {
  auto top = ParseConfig("[storage]\nurl = \"memory://x\"\n[bogus]\nx = 1\n", "a.toml", FakeEnv);
  REQUIRE_FALSE(top.ok());
  CHECK(top.status().code() == StatusCode::kInvalidArgument);
  CHECK(top.status().message() == "a.toml: 'bogus' is not a known setting");

  auto nested = ParseConfig("[storage]\nurll = \"memory://x\"\n", "b.toml", FakeEnv);
  REQUIRE_FALSE(nested.ok());
  CHECK(nested.status().message() == "b.toml: 'storage.urll' is not a known setting");

  auto server = ParseConfig("[servers.nfs]\nlisten = []\nport = 1\n", "c.toml", FakeEnv);
  REQUIRE_FALSE(server.ok());
  CHECK(server.status().message() == "c.toml: 'servers.nfs.port' is not a known setting");
}

TEST_CASE("servers.nfs.commit is durable by default and only durable or relaxed") {
  auto plain = ParseConfig("[servers.nfs]\nlisten = []\n", "g.toml", FakeEnv);
  REQUIRE(plain.ok());
  CHECK(plain->nfs.commit == "durable");
  auto bad = ParseConfig("[servers.nfs]\ncommit = \"fast\"\n", "h.toml", FakeEnv);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() ==
        "h.toml: 'servers.nfs.commit' must be \"durable\" or \"relaxed\", not 'fast'");
  auto other = ParseConfig("[servers.ninep]\ncommit = \"relaxed\"\n", "i.toml", FakeEnv);
  REQUIRE_FALSE(other.ok());
  CHECK(other.status().message() == "i.toml: 'servers.ninep.commit' is not a known setting");
}

TEST_CASE("wrong types and ranges name the key") {
  auto t = ParseConfig("[cache]\nmemory_mb = \"lots\"\n", "d.toml", FakeEnv);
  REQUIRE_FALSE(t.ok());
  CHECK(t.status().message() == "d.toml: 'cache.memory_mb' must be an integer");
  auto r = ParseConfig("[s3]\nmax_parallel = 0\n", "e.toml", FakeEnv);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("'s3.max_parallel' must be between 1 and 1024") !=
        std::string::npos);
}

TEST_CASE("TOML syntax errors give file, line and column") {
  auto t = ParseConfig("[storage]\nurl = \n", "f.toml", FakeEnv);
  REQUIRE_FALSE(t.ok());
  CHECK(t.status().message().rfind("f.toml:2:", 0) == 0);
}

TEST_CASE("environment substitution") {
  CHECK(*ExpandEnv("a${BUCKET}b", "k", FakeEnv) == "ademob");
  CHECK(*ExpandEnv("${NOPE:-fallback}", "k", FakeEnv) == "fallback");
  CHECK(*ExpandEnv("${EMPTY:-fallback}", "k", FakeEnv) == "fallback");
  CHECK(*ExpandEnv("cost $$5 and $x", "k", FakeEnv) == "cost $5 and $x");
  auto missing = ExpandEnv("${NOPE}", "storage.password", FakeEnv);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().message() ==
        "'storage.password' refers to environment variable NOPE, which is not set");
  CHECK_FALSE(ExpandEnv("${BUCKET", "k", FakeEnv).ok());
  CHECK_FALSE(ExpandEnv("${A-B}", "k", FakeEnv).ok());
  auto in_file = ParseConfig("[storage]\npassword = \"${NOPE}\"\n", "g.toml", FakeEnv);
  REQUIRE_FALSE(in_file.ok());
  CHECK(in_file.status().message().find("g.toml") != std::string::npos);
}

TEST_CASE("password_file is read, and conflicts with password") {
  const auto path = std::filesystem::temp_directory_path() / "zerofs-config-test-password";
  {
    std::ofstream out(path);
    out << "from-file\n";
  }
  auto cfg =
      ParseConfig("[storage]\npassword_file = \"" + path.string() + "\"\n", "h.toml", FakeEnv);
  REQUIRE(cfg.ok());
  CHECK(cfg->storage.password.reveal() == "from-file");
  auto both =
      ParseConfig("[storage]\npassword = \"x\"\npassword_file = \"" + path.string() + "\"\n",
                  "i.toml", FakeEnv);
  CHECK_FALSE(both.ok());
  std::filesystem::remove(path);
  auto gone =
      ParseConfig("[storage]\npassword_file = \"" + path.string() + "\"\n", "j.toml", FakeEnv);
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.status().message().find(path.string()) != std::string::npos);
}

TEST_CASE("secrets in a config never print") {
  auto cfg = ParseConfig("[storage]\npassword = \"topsecret\"\n", "k.toml", FakeEnv);
  REQUIRE(cfg.ok());
  std::ostringstream os;
  os << cfg->storage.password << cfg->s3.secret_access_key;
  CHECK(os.str().find("topsecret") == std::string::npos);
}

TEST_CASE("storage.compression is checked") {
  auto ok = ParseConfig("[storage]\ncompression = \"zstd:7\"\n", "l.toml", FakeEnv);
  REQUIRE(ok.ok());
  CHECK(ok->storage.compression == "zstd:7");
  CHECK(ParseConfig("[storage]\n", "l.toml", FakeEnv)->storage.compression == "zstd:3");
  for (const char* bad : {"zstd:0", "zstd:20", "gzip", "zstd:", "zstd:x"}) {
    INFO(bad);
    auto r =
        ParseConfig(std::string("[storage]\ncompression = \"") + bad + "\"\n", "m.toml", FakeEnv);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("'storage.compression' must be") != std::string::npos);
  }
}

TEST_CASE("the gc table gives the engine's settings in its units") {
  auto cfg = ParseConfig(
      "[gc]\nbackground = false\ninterval_s = 30\nrewrite_mb_per_round = 8\n"
      "deletes_per_round = 10\ncompact_below_live_percent = 40\n"
      "max_amplification_percent = 150\nsmall_segment_mb = 2\ndeletion_grace_s = 5\n"
      "rewrite_mb_per_s = 3\nmax_busy_percent = 20\n",
      "n.toml", FakeEnv);
  REQUIRE(cfg.ok());
  const engine::GcSettings gc = GcSettingsFromConfig(cfg->gc);
  CHECK_FALSE(gc.background);
  CHECK(gc.interval == std::chrono::seconds(30));
  CHECK(gc.rewrite_bytes_per_round == 8ULL << 20);
  CHECK(gc.deletes_per_round == 10);
  CHECK(gc.compact_below_live_fraction == Approx(0.4));
  CHECK(gc.max_amplification == Approx(1.5));
  CHECK(gc.small_segment_bytes == 2ULL << 20);
  CHECK(gc.deletion_grace == std::chrono::seconds(5));
  CHECK(gc.rewrite_bytes_per_second == 3ULL << 20);
  CHECK(gc.max_busy_percent == 20);
  // The file's defaults are the engine's defaults.
  const engine::GcSettings defaults = GcSettingsFromConfig(GcConfig{});
  const engine::GcSettings engine_defaults;
  CHECK(defaults.interval == engine_defaults.interval);
  CHECK(defaults.rewrite_bytes_per_round == engine_defaults.rewrite_bytes_per_round);
  CHECK(defaults.compact_below_live_fraction ==
        Approx(engine_defaults.compact_below_live_fraction));
  CHECK(defaults.max_amplification == Approx(engine_defaults.max_amplification));
  CHECK(defaults.small_segment_bytes == engine_defaults.small_segment_bytes);
  CHECK(defaults.deletion_grace == engine_defaults.deletion_grace);
}
