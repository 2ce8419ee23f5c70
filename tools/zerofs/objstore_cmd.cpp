// zerofs objstore ls|get|put|rm|head: direct access to the bucket for scripts.
//
// Objects are named by URL. Without --url, each argument names store and key together:
//   s3://bucket/key/path      store s3://bucket, key "key/path"
//   memory://name/key         store memory://name, key "key"
//   file:///dir/sub/name      store file:///dir/sub, key "name" (a directory is a store)
// With --url STORE, arguments are keys (or prefixes) relative to that store, which is how
// to address a key with '/' in a file:// store or under an s3:// prefix.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>

#include "commands.h"
#include "zerofs/objstore/open.h"
#include "zerofs/server/config.h"

namespace zerofs::cli {
namespace {

struct ObjstoreOptions {
  std::string config_path;
  std::string store_url;
  std::string endpoint;
  std::string region;
  std::vector<std::string> targets;
  std::string single;  // the one URL of get and put
  std::string output = "-";
  std::string input = "-";
  std::string range;
  bool if_none_match = false;
  std::string if_match;
};

struct Target {
  std::string store_url;
  std::string key;  // or prefix for ls
};

Result<Target> SplitTarget(const ObjstoreOptions& opts, const std::string& arg, bool is_prefix) {
  if (!opts.store_url.empty()) return Target{opts.store_url, arg};
  ZEROFS_ASSIGN_OR_RETURN(objstore::StoreUrl url, objstore::ParseUrl(arg));
  switch (url.scheme) {
    case objstore::Scheme::kS3: return Target{"s3://" + url.bucket, url.prefix};
    case objstore::Scheme::kMemory: {
      const size_t slash = url.bucket.find('/');
      if (slash == std::string::npos) return Target{"memory://" + url.bucket, ""};
      return Target{"memory://" + url.bucket.substr(0, slash), url.bucket.substr(slash + 1)};
    }
    case objstore::Scheme::kFile: {
      if (is_prefix) return Target{"file://" + url.path, ""};
      const size_t slash = url.path.rfind('/');
      if (slash == 0 || slash == std::string::npos) {
        return Status::InvalidArgument("'" + arg + "' names no object inside a directory");
      }
      return Target{"file://" + url.path.substr(0, slash), url.path.substr(slash + 1)};
    }
  }
  return Status::Internal("unreachable");
}

class StoreCache {
 public:
  explicit StoreCache(objstore::S3Options s3) : s3_(std::move(s3)) {}
  Result<std::shared_ptr<objstore::ObjectStore>> Get(const std::string& url) {
    auto it = stores_.find(url);
    if (it != stores_.end()) return it->second;
    ZEROFS_ASSIGN_OR_RETURN(auto store, objstore::Open(url, s3_));
    stores_[url] = store;
    return store;
  }

 private:
  objstore::S3Options s3_;
  std::map<std::string, std::shared_ptr<objstore::ObjectStore>> stores_;
};

Result<objstore::S3Options> LoadS3Config(const ObjstoreOptions& opts) {
  objstore::S3Options s3;
  if (!opts.config_path.empty()) {
    ZEROFS_ASSIGN_OR_RETURN(server::Config cfg, server::LoadConfigFile(opts.config_path));
    s3 = cfg.s3;
  }
  if (!opts.endpoint.empty()) s3.endpoint = opts.endpoint;
  if (!opts.region.empty()) s3.region = opts.region;
  return s3;
}

Result<std::optional<objstore::ByteRange>> ParseRange(const std::string& text) {
  if (text.empty()) return std::optional<objstore::ByteRange>();
  const size_t colon = text.find(':');
  try {
    if (colon == std::string::npos) throw std::invalid_argument("no colon");
    size_t used = 0;
    const std::string off = text.substr(0, colon), len = text.substr(colon + 1);
    objstore::ByteRange r{std::stoull(off, &used), 0};
    if (used != off.size()) throw std::invalid_argument("junk");
    r.length = std::stoull(len, &used);
    if (used != len.size()) throw std::invalid_argument("junk");
    return std::optional<objstore::ByteRange>(r);
  } catch (const std::exception&) {
    return Status::InvalidArgument("--range must be OFFSET:LENGTH in bytes, not '" + text + "'");
  }
}

int RunLs(const ObjstoreOptions& opts, StoreCache& stores) {
  std::vector<std::string> targets = opts.targets;
  if (targets.empty()) {
    if (opts.store_url.empty()) return ReportError(Status::InvalidArgument("ls needs a URL"));
    targets.emplace_back();
  }
  for (const std::string& arg : targets) {
    auto t = SplitTarget(opts, arg, true);
    if (!t.ok()) return ReportError(t.status());
    auto store = stores.Get(t->store_url);
    if (!store.ok()) return ReportError(store.status());
    auto list = (*store)->List(t->key);
    if (!list.ok()) return ReportError(list.status());
    for (const auto& obj : *list) {
      std::printf("%12llu  %-34s  %s\n", static_cast<unsigned long long>(obj.size),
                  obj.etag.c_str(), obj.key.c_str());
    }
  }
  return 0;
}

int RunHead(const ObjstoreOptions& opts, StoreCache& stores) {
  for (const std::string& arg : opts.targets) {
    auto t = SplitTarget(opts, arg, false);
    if (!t.ok()) return ReportError(t.status());
    auto store = stores.Get(t->store_url);
    if (!store.ok()) return ReportError(store.status());
    auto info = (*store)->Head(t->key);
    if (!info.ok()) return ReportError(info.status());
    std::printf("key: %s\nsize: %llu\netag: %s\n", info->key.c_str(),
                static_cast<unsigned long long>(info->size), info->etag.c_str());
  }
  return 0;
}

int RunGet(const ObjstoreOptions& opts, StoreCache& stores) {
  auto range = ParseRange(opts.range);
  if (!range.ok()) return ReportError(range.status());
  auto t = SplitTarget(opts, opts.targets.at(0), false);
  if (!t.ok()) return ReportError(t.status());
  auto store = stores.Get(t->store_url);
  if (!store.ok()) return ReportError(store.status());
  auto got = (*store)->Get(t->key, *range);
  if (!got.ok()) return ReportError(got.status());
  if (opts.output == "-") {
    std::fwrite(got->data.data(), 1, got->data.size(), stdout);
    std::fflush(stdout);
    return ferror(stdout) ? ReportError(Status::IoError("writing to stdout failed")) : 0;
  }
  std::ofstream out(opts.output, std::ios::binary | std::ios::trunc);
  out.write(got->data.data(), static_cast<std::streamsize>(got->data.size()));
  out.close();
  if (!out) return ReportError(Status::IoError("cannot write " + opts.output));
  return 0;
}

int RunPut(const ObjstoreOptions& opts, StoreCache& stores) {
  if (opts.if_none_match && !opts.if_match.empty()) {
    return ReportError(
        Status::InvalidArgument("--if-none-match and --if-match exclude each other"));
  }
  std::string data;
  if (opts.input == "-") {
    data.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(opts.input, std::ios::binary);
    if (!in) return ReportError(Status::FromErrno(errno, "cannot read " + opts.input));
    data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  auto t = SplitTarget(opts, opts.targets.at(0), false);
  if (!t.ok()) return ReportError(t.status());
  auto store = stores.Get(t->store_url);
  if (!store.ok()) return ReportError(store.status());
  objstore::PutOptions put;
  if (opts.if_none_match) put = objstore::PutOptions::IfNoneMatch();
  if (!opts.if_match.empty()) put = objstore::PutOptions::IfMatch(opts.if_match);
  auto info = (*store)->Put(t->key, data, put);
  if (!info.ok()) return ReportError(info.status());
  std::printf("%s\n", info->etag.c_str());
  return 0;
}

int RunRm(const ObjstoreOptions& opts, StoreCache& stores) {
  std::map<std::string, std::vector<std::string>> by_store;
  for (const std::string& arg : opts.targets) {
    auto t = SplitTarget(opts, arg, false);
    if (!t.ok()) return ReportError(t.status());
    by_store[t->store_url].push_back(t->key);
  }
  for (const auto& [url, keys] : by_store) {
    auto store = stores.Get(url);
    if (!store.ok()) return ReportError(store.status());
    if (Status s = (*store)->DeleteMany(keys); !s.ok()) return ReportError(s);
  }
  return 0;
}

}  // namespace

int ReportError(const Status& status) {
  std::fprintf(stderr, "zerofs: %s\n", status.ToString().c_str());
  switch (status.code()) {
    case StatusCode::kOk: return 0;
    case StatusCode::kInvalidArgument: return 2;
    case StatusCode::kNotFound: return 3;
    case StatusCode::kPreconditionFailed: return 4;
    case StatusCode::kPermissionDenied: return 5;
    case StatusCode::kUnavailable:
      // Another live writer holds the volume (OpenServedVolume refused to fence it).
      return status.message().find("volume in use") != std::string::npos ? kExitVolumeInUse : 1;
    default: return 1;
  }
}

void AddObjstoreCommand(CLI::App& app, CommandRunner& run) {
  auto opts = std::make_shared<ObjstoreOptions>();
  CLI::App* cmd = app.add_subcommand(
      "objstore",
      "Read and write bucket objects directly (for scripts and debugging).\n"
      "URLs name store and key: s3://bucket/key, memory://name/key, file:///dir/key\n"
      "(a file URL's last component is the key). With --url STORE, arguments are keys.\n"
      "Exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 precondition failed,\n"
      "5 permission denied.");
  cmd->require_subcommand(1);
  cmd->add_option("--config", opts->config_path, "TOML config; its [s3] table is used");
  cmd->add_option("--url", opts->store_url, "store URL; arguments are then keys");
  cmd->add_option("--endpoint", opts->endpoint, "S3 endpoint, e.g. http://127.0.0.1:7480");
  cmd->add_option("--region", opts->region, "S3 region");

  auto stores_for = [opts]() -> Result<std::shared_ptr<StoreCache>> {
    ZEROFS_ASSIGN_OR_RETURN(objstore::S3Options s3, LoadS3Config(*opts));
    return std::make_shared<StoreCache>(std::move(s3));
  };
  auto bind = [&run, opts, stores_for](CLI::App* sub,
                                       int (*fn)(const ObjstoreOptions&, StoreCache&)) {
    sub->callback([&run, opts, stores_for, fn] {
      run = [opts, stores_for, fn] {
        if (!opts->single.empty()) opts->targets = {opts->single};
        auto stores = stores_for();
        if (!stores.ok()) return ReportError(stores.status());
        return fn(*opts, **stores);
      };
    });
  };

  CLI::App* ls = cmd->add_subcommand("ls", "list objects: size, etag, key");
  ls->add_option("URL", opts->targets, "store URL (with a key prefix for s3/memory)");
  bind(ls, RunLs);

  CLI::App* head = cmd->add_subcommand("head", "print size and etag of objects");
  head->add_option("URL", opts->targets, "object URLs")->required();
  bind(head, RunHead);

  CLI::App* get = cmd->add_subcommand("get", "write an object (or a byte range) to a file");
  get->add_option("URL", opts->single, "object URL")->required();
  get->add_option("-o,--output", opts->output, "output file, - for stdout")->capture_default_str();
  get->add_option("--range", opts->range, "OFFSET:LENGTH in bytes");
  bind(get, RunGet);

  CLI::App* put = cmd->add_subcommand("put", "store a file as an object; prints its etag");
  put->add_option("URL", opts->single, "object URL")->required();
  put->add_option("FILE", opts->input, "input file, - for stdin")->capture_default_str();
  put->add_flag("--if-none-match", opts->if_none_match, "create only; fail if it exists");
  put->add_option("--if-match", opts->if_match, "replace only if the etag is still ETAG");
  bind(put, RunPut);

  CLI::App* rm = cmd->add_subcommand("rm", "delete objects (missing ones are not an error)");
  rm->add_option("URL", opts->targets, "object URLs")->required();
  bind(rm, RunRm);
}

}  // namespace zerofs::cli
