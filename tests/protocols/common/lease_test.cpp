// The writer lease: a second writer is refused while the first renews; an expired lease or
// --takeover lets it in; a clean release removes the lease.
#include "zerofs/server/lease.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "zerofs/objstore/memory_store.h"

namespace {

using zerofs::StatusCode;
using zerofs::server::kLeaseKey;
using zerofs::server::LeaseOptions;
using zerofs::server::WriterLease;

LeaseOptions Options(const char* program, int ttl_ms, bool takeover = false) {
  LeaseOptions o;
  o.program = program;
  o.ttl = std::chrono::milliseconds(ttl_ms);
  o.takeover = takeover;
  return o;
}

std::string FirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string ThisHost() {
  char name[256] = {};
  REQUIRE(::gethostname(name, sizeof(name) - 1) == 0);
  return name;
}

std::string ThisPidNamespace() {
  char buf[64] = {};
  const ssize_t n = ::readlink("/proc/self/ns/pid", buf, sizeof(buf) - 1);
  REQUIRE(n > 0);
  return std::string(buf, static_cast<std::size_t>(n));
}

// Field 22 of /proc/PID/stat (the command name in field 2 has no spaces here).
long long StartTicksOf(pid_t pid) {
  std::istringstream fields(FirstLine("/proc/" + std::to_string(pid) + "/stat"));
  std::string field;
  for (int i = 1; i <= 22; ++i) fields >> field;
  return std::stoll(field);
}

// A fresh lease (renewed now, ttl 60 s) as a writer on this host with `pid` would leave it.
nlohmann::json LocalLease(pid_t pid, long long start_ticks) {
  return {{"holder", "x"},
          {"host", ThisHost()},
          {"pid", pid},
          {"boot_id", FirstLine("/proc/sys/kernel/random/boot_id")},
          {"pid_ns", ThisPidNamespace()},
          {"pid_start_ticks", start_ticks},
          {"program", "zerofs-9p"},
          {"renewed_unix_ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count()},
          {"ttl_ms", 60000}};
}

// A child process that waits until it is killed.
pid_t SpawnSleeper() {
  const pid_t pid = ::fork();
  if (pid == 0) {
    for (;;) ::pause();
  }
  REQUIRE(pid > 0);
  return pid;
}

void Reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
}

}  // namespace

TEST_CASE("lease: a holder on this host that no longer runs is taken over at once") {
  const pid_t child = SpawnSleeper();
  const long long ticks = StartTicksOf(child);
  Reap(child);  // the holder "was SIGKILLed": its fresh lease stays behind
  auto store = std::make_shared<zerofs::objstore::MemoryStore>();
  REQUIRE(store->Put(kLeaseKey, LocalLease(child, ticks).dump()).ok());
  auto taken = WriterLease::Acquire(store, Options("zerofs-9p", 60000));
  REQUIRE(taken.ok());
  auto body = store->Get(kLeaseKey);
  REQUIRE(body.ok());
  const auto now = nlohmann::json::parse(body->data);
  CHECK(now["pid"] == static_cast<long long>(::getpid()));
  CHECK(now["boot_id"] == FirstLine("/proc/sys/kernel/random/boot_id"));
  CHECK(now["pid_start_ticks"] == StartTicksOf(::getpid()));
}

TEST_CASE("lease: a live holder on this host, another host's or an old-format lease is refused") {
  const pid_t child = SpawnSleeper();
  const long long ticks = StartTicksOf(child);
  const pid_t gone = SpawnSleeper();
  Reap(gone);
  auto store = std::make_shared<zerofs::objstore::MemoryStore>();

  REQUIRE(store->Put(kLeaseKey, LocalLease(child, ticks).dump()).ok());
  auto live = WriterLease::Acquire(store, Options("b", 60000));
  CHECK(live.status().code() == StatusCode::kUnavailable);

  nlohmann::json other_host = LocalLease(gone, ticks);
  other_host["host"] = ThisHost() + "-elsewhere";
  REQUIRE(store->Put(kLeaseKey, other_host.dump()).ok());
  CHECK(WriterLease::Acquire(store, Options("b", 60000)).status().code() ==
        StatusCode::kUnavailable);

  nlohmann::json other_boot = LocalLease(gone, ticks);
  other_boot["boot_id"] = "00000000-0000-0000-0000-000000000000";
  REQUIRE(store->Put(kLeaseKey, other_boot.dump()).ok());
  CHECK(WriterLease::Acquire(store, Options("b", 60000)).status().code() ==
        StatusCode::kUnavailable);

  nlohmann::json old_format = LocalLease(gone, ticks);
  old_format.erase("boot_id");
  REQUIRE(store->Put(kLeaseKey, old_format.dump()).ok());
  CHECK(WriterLease::Acquire(store, Options("b", 60000)).status().code() ==
        StatusCode::kUnavailable);

  // The pid was reused by another process (its start time differs): the holder is gone.
  REQUIRE(store->Put(kLeaseKey, LocalLease(child, ticks + 1).dump()).ok());
  CHECK(WriterLease::Acquire(store, Options("b", 60000)).ok());
  Reap(child);
}

TEST_CASE("lease: a live holder keeps others out, release lets them in") {
  auto store = std::make_shared<zerofs::objstore::MemoryStore>();
  auto first = WriterLease::Acquire(store, Options("zerofs run", 60000));
  REQUIRE(first.ok());
  auto second = WriterLease::Acquire(store, Options("zerofs put", 60000));
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().code() == StatusCode::kUnavailable);
  CHECK(second.status().message().find("volume in use by zerofs run") != std::string::npos);
  CHECK(second.status().message().find("--takeover") != std::string::npos);
  (*first)->Release();
  CHECK(store->Head(kLeaseKey).status().code() == StatusCode::kNotFound);
  auto third = WriterLease::Acquire(store, Options("zerofs put", 60000));
  CHECK(third.ok());
}

TEST_CASE("lease: renewal keeps it alive past its ttl, a dead holder's lease expires") {
  auto store = std::make_shared<zerofs::objstore::MemoryStore>();
  auto holder = WriterLease::Acquire(store, Options("a", 300));
  REQUIRE(holder.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  // Renewed every 100 ms: still live.
  auto refused = WriterLease::Acquire(store, Options("b", 300));
  CHECK(refused.status().code() == StatusCode::kUnavailable);

  // A holder that died (its lease is never renewed): after the ttl it is free.
  const nlohmann::json stale{{"holder", "x"},  {"host", "h"},     {"pid", 1},
                             {"program", "p"}, {"renewed_unix_ms", 1}, {"ttl_ms", 300}};
  auto other = std::make_shared<zerofs::objstore::MemoryStore>();
  REQUIRE(other->Put(kLeaseKey, stale.dump()).ok());
  CHECK(WriterLease::Acquire(other, Options("c", 300)).ok());
}

TEST_CASE("lease: takeover fences the old holder's lease") {
  auto store = std::make_shared<zerofs::objstore::MemoryStore>();
  auto old_holder = WriterLease::Acquire(store, Options("old", 300));
  REQUIRE(old_holder.ok());
  auto new_holder = WriterLease::Acquire(store, Options("new", 300, /*takeover=*/true));
  REQUIRE(new_holder.ok());
  // The old one notices at its next renewal and does not delete the new one's lease.
  for (int i = 0; i < 50 && (*old_holder)->held(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK_FALSE((*old_holder)->held());
  (*old_holder)->Release();
  CHECK(store->Head(kLeaseKey).ok());
  CHECK((*new_holder)->held());
}
