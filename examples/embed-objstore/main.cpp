// Embeds libzerofs: opens a bucket by URL, stores an object only if it does not exist yet,
// reads part of it back, and replaces it with compare-and-swap on its etag.
//
//   embed-objstore [URL]     (default memory://example)
#include <zerofs/objstore/open.h>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  const std::string url = argc > 1 ? argv[1] : "memory://example";
  auto store = zerofs::objstore::Open(url);
  if (!store.ok()) {
    std::fprintf(stderr, "open %s: %s\n", url.c_str(), store.status().ToString().c_str());
    return 1;
  }
  auto& bucket = **store;

  auto created = bucket.Put("greeting", "hello, bucket", zerofs::objstore::PutOptions::IfNoneMatch());
  if (!created.ok() && !created.status().IsPreconditionFailed()) {
    std::fprintf(stderr, "put: %s\n", created.status().ToString().c_str());
    return 1;
  }
  auto head = bucket.Head("greeting");
  if (!head.ok()) {
    std::fprintf(stderr, "head: %s\n", head.status().ToString().c_str());
    return 1;
  }
  auto part = bucket.Get("greeting", zerofs::objstore::ByteRange{7, 6});
  if (!part.ok()) {
    std::fprintf(stderr, "get: %s\n", part.status().ToString().c_str());
    return 1;
  }
  auto swapped = bucket.Put("greeting", "hello again",
                            zerofs::objstore::PutOptions::IfMatch(head->etag));
  if (!swapped.ok()) {
    std::fprintf(stderr, "cas: %s\n", swapped.status().ToString().c_str());
    return 1;
  }
  std::printf("%s: read '%s' from a %llu-byte object; replaced it (etag %s)\n",
              bucket.Describe().c_str(), part->data.c_str(),
              static_cast<unsigned long long>(head->size), swapped->etag.c_str());
  return 0;
}
