// The ObjectStore contract as executable checks. Every store implementation (memory, local,
// S3, and wrappers around them) runs RunStoreConformance against a fresh, empty store so
// that they all agree on semantics: conditional puts, ranges, listing order and pagination,
// idempotent delete, etags.
#pragma once

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "zerofs/objstore/object_store.h"

namespace zerofs::testing {

inline void RunStoreConformance(objstore::ObjectStore& store) {
  using objstore::ByteRange;
  using objstore::PutOptions;

  SECTION("put then get returns the bytes, size and etag") {
    std::string data(100000, '\0');
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + 3);
    auto put = store.Put("dir/obj", data);
    REQUIRE(put.ok());
    CHECK(put->size == data.size());
    CHECK_FALSE(put->etag.empty());
    auto got = store.Get("dir/obj");
    REQUIRE(got.ok());
    CHECK(got->data == data);
    CHECK(got->info.size == data.size());
    CHECK(got->info.etag == put->etag);
    auto head = store.Head("dir/obj");
    REQUIRE(head.ok());
    CHECK(head->size == data.size());
    CHECK(head->etag == put->etag);
  }

  SECTION("empty objects") {
    REQUIRE(store.Put("empty", "").ok());
    auto got = store.Get("empty");
    REQUIRE(got.ok());
    CHECK(got->data.empty());
    CHECK(got->info.size == 0);
  }

  SECTION("ranged gets") {
    REQUIRE(store.Put("r", "0123456789").ok());
    auto mid = store.Get("r", ByteRange{2, 3});
    REQUIRE(mid.ok());
    CHECK(mid->data == "234");
    CHECK(mid->info.size == 10);
    auto tail = store.Get("r", ByteRange{8, 100});
    REQUIRE(tail.ok());
    CHECK(tail->data == "89");
    auto end = store.Get("r", ByteRange{10, 5});
    REQUIRE(end.ok());
    CHECK(end->data.empty());
    auto past = store.Get("r", ByteRange{11, 1});
    REQUIRE_FALSE(past.ok());
    CHECK(past.status().code() == StatusCode::kInvalidArgument);
  }

  SECTION("missing objects are kNotFound") {
    CHECK(store.Get("nope").status().code() == StatusCode::kNotFound);
    CHECK(store.Head("nope").status().code() == StatusCode::kNotFound);
    CHECK(store.Get("nope", ByteRange{0, 4}).status().code() == StatusCode::kNotFound);
  }

  SECTION("replacing changes the etag") {
    auto a = store.Put("k", "one");
    auto b = store.Put("k", "two");
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(a->etag != b->etag);
    CHECK(store.Get("k")->data == "two");
  }

  SECTION("If-None-Match: * creates once") {
    auto first = store.Put("once", "a", PutOptions::IfNoneMatch());
    REQUIRE(first.ok());
    auto second = store.Put("once", "b", PutOptions::IfNoneMatch());
    REQUIRE_FALSE(second.ok());
    CHECK(second.status().code() == StatusCode::kPreconditionFailed);
    CHECK(store.Get("once")->data == "a");
  }

  SECTION("If-Match replaces only the expected version") {
    auto v1 = store.Put("cas", "v1");
    REQUIRE(v1.ok());
    auto v2 = store.Put("cas", "v2", PutOptions::IfMatch(v1->etag));
    REQUIRE(v2.ok());
    auto stale = store.Put("cas", "v3", PutOptions::IfMatch(v1->etag));
    REQUIRE_FALSE(stale.ok());
    CHECK(stale.status().code() == StatusCode::kPreconditionFailed);
    CHECK(store.Get("cas")->data == "v2");
    auto missing = store.Put("cas-missing", "x", PutOptions::IfMatch(v1->etag));
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.status().code() == StatusCode::kPreconditionFailed);
    CHECK(store.Head("cas-missing").status().code() == StatusCode::kNotFound);
  }

  SECTION("listing is ordered, prefixed and paginated") {
    std::vector<std::string> keys;
    for (int i = 0; i < 25; ++i) {
      char name[32];
      std::snprintf(name, sizeof name, "list/%03d", i);
      keys.emplace_back(name);
    }
    // Put in reverse order: the listing must sort.
    for (auto it = keys.rbegin(); it != keys.rend(); ++it) REQUIRE(store.Put(*it, *it).ok());
    REQUIRE(store.Put("listx", "outside").ok());
    REQUIRE(store.Put("lis", "outside").ok());

    auto all = store.List("list/");
    REQUIRE(all.ok());
    REQUIRE(all->size() == keys.size());
    for (size_t i = 0; i < keys.size(); ++i) {
      CHECK((*all)[i].key == keys[i]);
      CHECK((*all)[i].size == keys[i].size());
    }

    auto page = store.ListPage("list/", "", 10);
    REQUIRE(page.ok());
    CHECK(page->objects.size() <= 10);
    CHECK(page->truncated);
    auto after = store.ListPage("list/", "list/020", 1000);
    REQUIRE(after.ok());
    REQUIRE(after->objects.size() == 4);
    CHECK(after->objects.front().key == "list/021");
    CHECK_FALSE(after->truncated);

    auto none = store.List("nothing-here/");
    REQUIRE(none.ok());
    CHECK(none->empty());
  }

  SECTION("delete is idempotent and delete-many removes all") {
    REQUIRE(store.Put("d/1", "x").ok());
    REQUIRE(store.Delete("d/1").ok());
    CHECK(store.Head("d/1").status().code() == StatusCode::kNotFound);
    CHECK(store.Delete("d/1").ok());
    std::vector<std::string> many;
    for (int i = 0; i < 30; ++i) {
      many.push_back("m/" + std::to_string(i));
      REQUIRE(store.Put(many.back(), "v").ok());
    }
    many.push_back("m/never-existed");
    REQUIRE(store.DeleteMany(many).ok());
    auto left = store.List("m/");
    REQUIRE(left.ok());
    CHECK(left->empty());
  }

  SECTION("invalid keys are rejected before touching the store") {
    for (const char* bad : {"", "/abs", "trailing/", "a//b", "a/../b", "./x"}) {
      INFO("key: " << bad);
      CHECK(store.Put(bad, "x").status().code() == StatusCode::kInvalidArgument);
    }
  }
}

}  // namespace zerofs::testing
