// LocalStore: the ObjectStore contract on a directory, plus what only a directory can get
// wrong: files left behind, listing order across subdirectories, etag caching, full disks
// and writers that die mid-put.
#include "zerofs/objstore/local_store.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "local_dir_support.h"
#include "store_conformance.h"
#include "zerofs/objstore/open.h"

namespace fs = std::filesystem;
using namespace zerofs;
using objstore::ByteRange;
using objstore::LocalStore;
using objstore::PutOptions;
using zerofs::testing::CountFiles;
using zerofs::testing::OpenOrDie;
using zerofs::testing::RunInChild;
using zerofs::testing::TempDir;

TEST_CASE("LocalStore meets the ObjectStore contract") {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  testing::RunStoreConformance(*store);
}

TEST_CASE("LocalStore: objects and etags survive reopening") {
  TempDir dir;
  std::string etag_a, etag_b;
  {
    auto store = OpenOrDie(dir.path());
    auto a = store->Put("segments/0001", std::string(70000, 'a'));
    auto b = store->Put("root", "pointer");
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    etag_a = a->etag;
    etag_b = b->etag;
  }
  auto opened = objstore::Open("file://" + dir.path().string());
  REQUIRE(opened.ok());
  auto& store = **opened;
  CHECK(store.Describe() == "file://" + dir.path().string());
  auto a = store.Get("segments/0001");
  REQUIRE(a.ok());
  CHECK(a->data == std::string(70000, 'a'));
  CHECK(a->info.etag == etag_a);
  CHECK(store.Head("root")->etag == etag_b);
  auto all = store.List("");
  REQUIRE(all.ok());
  REQUIRE(all->size() == 2);
  CHECK((*all)[0].key == "root");
  CHECK((*all)[1].key == "segments/0001");
  CHECK((*all)[1].etag == etag_a);
  // A conditional replace with the etag from before the restart still works.
  CHECK(store.Put("root", "pointer2", PutOptions::IfMatch(etag_b)).ok());
}

TEST_CASE("LocalStore: objects are plain files and internal files are never listed") {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  REQUIRE(store->Put("a/b/c", "data").ok());
  REQUIRE(store->Put("top", "x").ok());
  std::ifstream in(dir.path() / "a/b/c");
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(content == "data");
  CHECK(fs::is_directory(dir.path() / ".zerofs-local" / "locks"));
  CHECK(CountFiles(dir.path() / ".zerofs-local" / "locks") > 0);

  auto all = store->List("");
  REQUIRE(all.ok());
  REQUIRE(all->size() == 2);
  CHECK((*all)[0].key == "a/b/c");
  CHECK((*all)[1].key == "top");
  CHECK(store->List(".zerofs")->empty());
  CHECK(store->List(".zerofs-local/")->empty());
  CHECK(store->List(".zerofs-local/locks/")->empty());
  // Prefixes that no valid key can have are empty listings, never a walk outside the root.
  CHECK(store->List("../")->empty());
  CHECK(store->List("a//")->empty());
  CHECK(store->List("/a")->empty());
}

TEST_CASE("LocalStore: reserved and conflicting keys") {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  for (const char* key : {".zerofs-local/locks/00", ".zerofs-local", ".zerofs-other/x"}) {
    INFO("key: " << key);
    CHECK(store->Put(key, "x").status().code() == StatusCode::kInvalidArgument);
    CHECK(store->Get(key).status().code() == StatusCode::kInvalidArgument);
    CHECK(store->Head(key).status().code() == StatusCode::kInvalidArgument);
    CHECK(store->Delete(key).code() == StatusCode::kInvalidArgument);
  }
  CHECK(fs::exists(dir.path() / ".zerofs-local" / "locks"));
  // Only the first component is reserved.
  REQUIRE(store->Put("a/.zerofs-x", "fine").ok());
  CHECK(store->Get("a/.zerofs-x")->data == "fine");

  // A file cannot also be a directory: the second key of each pair is refused, clearly.
  REQUIRE(store->Put("x", "file").ok());
  auto under_file = store->Put("x/y", "v");
  CHECK(under_file.status().code() == StatusCode::kNotSupported);
  CHECK(under_file.status().message().find("x/y") != std::string::npos);
  CHECK(store->Get("x")->data == "file");
  REQUIRE(store->Put("d/e", "v").ok());
  CHECK(store->Put("d", "v").status().code() == StatusCode::kNotSupported);
  CHECK(store->Put("d", "v", PutOptions::IfNoneMatch()).status().code() ==
        StatusCode::kNotSupported);
  CHECK(store->Get("d").status().IsNotFound());
  CHECK(store->Head("x/y").status().IsNotFound());
  CHECK(store->Delete("d").ok());  // no object "d": nothing to do
  CHECK(store->Get("d/e")->data == "v");

  // A component longer than the filesystem allows is the caller's problem, named.
  auto long_name = store->Put(std::string(300, 'n'), "v");
  CHECK(long_name.status().code() == StatusCode::kInvalidArgument);
  // Any other byte is fine.
  REQUIRE(store->Put("odd/sp ace\tand\xc3\xa9", "v").ok());
  CHECK(store->List("odd/")->size() == 1);
}

TEST_CASE("LocalStore: listing orders full keys across directories, as S3 does") {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  // '-' (0x2d) < '.' < '/' (0x2f) < '0': "a-b" and "a.x" sort before everything under
  // "a/", "a0" after it, whatever order readdir returns.
  const std::vector<std::string> keys = {"a-b",  "a.x", "a/b", "a/c-e", "a/c/d",
                                         "a/c0", "a0",  "b",   "c/z"};
  for (auto it = keys.rbegin(); it != keys.rend(); ++it) REQUIRE(store->Put(*it, *it).ok());
  std::vector<std::string> expected = keys;
  std::sort(expected.begin(), expected.end());
  auto all = store->List("");
  REQUIRE(all.ok());
  std::vector<std::string> got;
  for (const auto& info : *all) got.push_back(info.key);
  CHECK(got == expected);

  // Every page size resumes exactly where the previous page stopped.
  for (std::uint32_t page_size = 1; page_size <= 4; ++page_size) {
    std::vector<std::string> paged;
    std::string after;
    for (;;) {
      auto page = store->ListPage("", after, page_size);
      REQUIRE(page.ok());
      CHECK(page->objects.size() <= page_size);
      for (const auto& info : page->objects) paged.push_back(info.key);
      if (!page->truncated) break;
      after = paged.back();
    }
    CHECK(paged == expected);
  }
  auto under_a = store->List("a/c");
  REQUIRE(under_a.ok());
  REQUIRE(under_a->size() == 3);
  CHECK((*under_a)[0].key == "a/c-e");
  CHECK((*under_a)[1].key == "a/c/d");
  CHECK((*under_a)[2].key == "a/c0");
}

TEST_CASE("LocalStore: a large directory lists completely, page by page") {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  // Written behind the store's back (fast: no fsync per file), so the listing also has to
  // hash every object once for its etag.
  fs::create_directories(dir.path() / "segments");
  std::vector<std::string> keys;
  for (int i = 0; i < 1500; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "segments/%016x", static_cast<unsigned>(i * 7919 % 1500));
    keys.emplace_back(name);
    std::ofstream(dir.path() / name) << name;
  }
  std::sort(keys.begin(), keys.end());
  for (std::uint32_t page_size : {1000u, 7u}) {
    std::vector<std::string> listed;
    std::string after;
    for (;;) {
      auto page = store->ListPage("segments/", after, page_size);
      REQUIRE(page.ok());
      REQUIRE(page->objects.size() <= page_size);
      for (const auto& info : page->objects) listed.push_back(info.key);
      if (!page->truncated) break;
      after = listed.back();
    }
    CHECK(listed == keys);
  }
  CHECK(store->Get(keys[42])->data == keys[42]);
}

TEST_CASE("LocalStore: random listings match a sorted model") {
  const auto seed = Catch::rngSeed();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  auto pick = [&](std::string_view alphabet) {
    return alphabet[std::uniform_int_distribution<std::size_t>(0, alphabet.size() - 1)(rng)];
  };
  auto random_key = [&] {
    std::string key;
    const int depth = std::uniform_int_distribution<int>(1, 3)(rng);
    for (int d = 0; d < depth; ++d) {
      if (d > 0) key += '/';
      const int len = std::uniform_int_distribution<int>(1, 3)(rng);
      for (int i = 0; i < len; ++i) key += pick("ab-.0");
    }
    return key;
  };
  // Keys that conflict with a stored key (one is the other plus '/') cannot be stored.
  auto conflicts = [](const std::set<std::string>& model, const std::string& key) {
    for (const std::string& other : model) {
      if (other.starts_with(key + "/") || key.starts_with(other + "/")) return true;
    }
    return false;
  };

  TempDir dir;
  auto store = OpenOrDie(dir.path());
  std::set<std::string> model;
  while (model.size() < 40) {
    const std::string key = random_key();
    if (!objstore::ValidateKey(key).ok() || model.count(key) || conflicts(model, key)) continue;
    REQUIRE(store->Put(key, "v").ok());
    model.insert(key);
  }
  // Empty directories (left by a crash between unlink and rmdir, or made by hand) hold
  // no keys, wherever they sort.
  for (int i = 0; i < 15; ++i) {
    const std::string path = random_key();
    if (!objstore::ValidateKey(path).ok() || model.count(path)) continue;
    std::error_code ec;
    fs::create_directories(dir.path() / path, ec);  // fails under a file: fine
  }
  auto random_bound = [&]() -> std::string {
    switch (std::uniform_int_distribution<int>(0, 3)(rng)) {
      case 0: return "";
      case 1: {
        auto it = model.begin();
        std::advance(it, std::uniform_int_distribution<std::size_t>(0, model.size() - 1)(rng));
        return it->substr(0, std::uniform_int_distribution<std::size_t>(0, it->size())(rng));
      }
      default: return random_key().substr(0, 4);
    }
  };
  for (int query = 0; query < 300; ++query) {
    const std::string prefix = random_bound();
    const std::string start_after = random_bound();
    const auto max_keys = std::uniform_int_distribution<std::uint32_t>(1, 6)(rng);
    CAPTURE(query, prefix, start_after, max_keys);
    std::vector<std::string> want;
    for (const std::string& key : model) {
      if (key.starts_with(prefix) && key > start_after) want.push_back(key);
    }
    auto page = store->ListPage(prefix, start_after, max_keys);
    REQUIRE(page.ok());
    std::vector<std::string> got;
    for (const auto& info : page->objects) got.push_back(info.key);
    const bool more = want.size() > max_keys;
    if (more) want.resize(max_keys);
    CHECK(got == want);
    CHECK(page->truncated == more);
  }
}

TEST_CASE("LocalStore: etags are content hashes, cached in an xattr and recomputed without it") {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  auto a = store->Put("a", "same content");
  auto b = store->Put("dir/b", "same content");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->etag == b->etag);
  CHECK(a->etag.size() == 32);
  CHECK(store->Put("a", "other content")->etag != b->etag);
  CHECK(store->Put("a", "same content")->etag == b->etag);

  const std::string path = (dir.path() / "dir/b").string();
  if (store->caches_etags()) {
    char buf[128];
    CHECK(::getxattr(path.c_str(), "user.zerofs.etag", buf, sizeof buf) > 0);
    REQUIRE(::removexattr(path.c_str(), "user.zerofs.etag") == 0);
  }
  CHECK(store->Head("dir/b")->etag == b->etag);
  CHECK(store->Get("dir/b", ByteRange{1, 3})->info.etag == b->etag);

  // A file rewritten in place behind the store's back is rehashed, not trusted.
  {
    std::ofstream out(path, std::ios::trunc);
    out << "edited content";
  }
  struct timespec times[2] = {{0, UTIME_OMIT}, {1'000'000, 0}};  // a clearly different mtime
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
  auto edited = store->Head("dir/b");
  REQUIRE(edited.ok());
  CHECK(edited->etag != b->etag);
  CHECK(edited->etag == store->Put("c", "edited content")->etag);
  CHECK(store->Put("dir/b", "x", PutOptions::IfMatch(b->etag)).status().IsPreconditionFailed());
  CHECK(store->Put("dir/b", "x", PutOptions::IfMatch(edited->etag)).ok());
  // Quoted etags, as HTTP writes them, are accepted too.
  auto x = store->Head("dir/b");
  CHECK(store->Put("dir/b", "y", PutOptions::IfMatch("\"" + x->etag + "\"")).ok());
}

TEST_CASE("LocalStore: deletes remove empty directories") {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  REQUIRE(store->Put("p/q/r", "1").ok());
  REQUIRE(store->Put("p/s", "2").ok());
  REQUIRE(store->Delete("p/q/r").ok());
  CHECK_FALSE(fs::exists(dir.path() / "p/q"));
  CHECK(fs::exists(dir.path() / "p"));
  REQUIRE(store->DeleteMany(std::vector<std::string>{"p/s", "never/was"}).ok());
  CHECK_FALSE(fs::exists(dir.path() / "p"));
  CHECK(fs::exists(dir.path() / ".zerofs-local"));
  // A put recreates what a delete pruned.
  REQUIRE(store->Put("p/q/r", "3").ok());
  CHECK(store->Get("p/q/r")->data == "3");
}

TEST_CASE("LocalStore: Open checks the directory") {
  TempDir dir;
  { std::ofstream(dir.path() / "plain-file") << "x"; }
  CHECK_FALSE(LocalStore::Open(dir.path() / "plain-file").ok());
  CHECK_FALSE(LocalStore::Open(dir.path() / "plain-file" / "below").ok());
  // Missing parents are created; a trailing slash names the same directory.
  auto nested = LocalStore::Open(dir.path() / "x" / "y" / "z");
  REQUIRE(nested.ok());
  CHECK(fs::is_directory(dir.path() / "x/y/z/.zerofs-local/tmp"));
  auto slash = LocalStore::Open((dir.path() / "x" / "y" / "z").string() + "/");
  REQUIRE(slash.ok());
  CHECK((*slash)->Describe() == (*nested)->Describe());
}

TEST_CASE("LocalStore: concurrent threads racing If-None-Match: exactly one wins") {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  for (int round = 0; round < 10; ++round) {
    const std::string key = "race/" + std::to_string(round);
    std::atomic<int> wins{0};
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t) {
      threads.emplace_back([&, t] {
        auto r = store->Put(key, std::to_string(t), PutOptions::IfNoneMatch());
        if (r.ok()) {
          ++wins;
        } else if (!r.status().IsPreconditionFailed()) {
          ++errors;
        }
      });
    }
    for (auto& th : threads) th.join();
    CHECK(wins == 1);
    CHECK(errors == 0);
  }
  CHECK(CountFiles(dir.path() / ".zerofs-local" / "tmp") == 0);
}
