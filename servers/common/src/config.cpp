// The config file's schema and TOML parser; see config.h.
#include "zerofs/server/config.h"

#include <toml++/toml.h>

#include <fstream>
#include <limits>
#include <set>
#include <sstream>

namespace zerofs::server {

engine::GcSettings GcSettingsFromConfig(const GcConfig& config) {
  engine::GcSettings s;
  s.background = config.background;
  s.interval = std::chrono::seconds(config.interval_s);
  s.rewrite_bytes_per_round = config.rewrite_mb_per_round << 20;
  s.deletes_per_round = config.deletes_per_round;
  s.compact_below_live_fraction = config.compact_below_live_percent / 100.0;
  s.max_amplification = config.max_amplification_percent / 100.0;
  s.small_segment_bytes = config.small_segment_mb << 20;
  s.deletion_grace = std::chrono::seconds(config.deletion_grace_s);
  s.rewrite_bytes_per_second = config.rewrite_mb_per_s << 20;
  s.max_busy_percent = config.max_busy_percent;
  return s;
}

Result<std::string> ExpandEnv(std::string_view value, std::string_view key, EnvLookup env) {
  std::string out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c != '$') {
      out += c;
      continue;
    }
    if (i + 1 < value.size() && value[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (i + 1 >= value.size() || value[i + 1] != '{') {
      out += c;  // a lone '$' is literal
      continue;
    }
    const size_t close = value.find('}', i + 2);
    if (close == std::string_view::npos) {
      return Status::InvalidArgument("'" + std::string(key) + "': unterminated ${...} reference");
    }
    std::string_view ref = value.substr(i + 2, close - i - 2);
    std::optional<std::string> fallback;
    if (const size_t dash = ref.find(":-"); dash != std::string_view::npos) {
      fallback = std::string(ref.substr(dash + 2));
      ref = ref.substr(0, dash);
    }
    if (ref.empty()) {
      return Status::InvalidArgument("'" + std::string(key) + "': empty ${} reference");
    }
    for (char rc : ref) {
      const bool ok = (rc >= 'A' && rc <= 'Z') || (rc >= 'a' && rc <= 'z') ||
                      (rc >= '0' && rc <= '9') || rc == '_';
      if (!ok) {
        return Status::InvalidArgument("'" + std::string(key) + "': invalid variable name '" +
                                       std::string(ref) + "' in ${...}");
      }
    }
    std::optional<std::string> v = env(std::string(ref));
    if (!v.has_value() || (v->empty() && fallback.has_value())) {
      if (!fallback.has_value()) {
        return Status::InvalidArgument("'" + std::string(key) +
                                       "' refers to environment variable " + std::string(ref) +
                                       ", which is not set");
      }
      v = fallback;
    }
    out += *v;
    i = close;
  }
  return out;
}

namespace {

// Walks one TOML table, checking each key against the schema. The first error wins and
// names the file and the dotted key.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string prefix, std::string_view origin, EnvLookup env,
              Status* error)
      : table_(table), prefix_(std::move(prefix)), origin_(origin), env_(env), error_(error) {}

  std::string Dotted(std::string_view key) const {
    return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
  }

  void Fail(std::string_view key, std::string_view what) {
    if (!error_->ok()) return;
    *error_ = Status::InvalidArgument(std::string(origin_) + ": '" + Dotted(key) + "' " +
                                      std::string(what));
  }

  void String(std::string_view key, std::string* out) {
    const toml::node* node = Take(key);
    if (node == nullptr) return;
    const auto* s = node->as_string();
    if (s == nullptr) return Fail(key, "must be a string");
    Result<std::string> expanded = ExpandEnv(s->get(), Dotted(key), env_);
    if (!expanded.ok()) {
      if (error_->ok()) *error_ = expanded.status().WithContext(std::string(origin_));
      return;
    }
    *out = std::move(expanded).value();
  }

  void SecretString(std::string_view key, Secret* out) {
    std::string plain;
    String(key, &plain);
    if (!plain.empty()) *out = Secret(std::move(plain));
    // `plain` held a copy; wipe it before it goes.
    Secret wipe(std::move(plain));
  }

  void Bool(std::string_view key, bool* out) {
    const toml::node* node = Take(key);
    if (node == nullptr) return;
    const auto* b = node->as_boolean();
    if (b == nullptr) return Fail(key, "must be true or false");
    *out = b->get();
  }

  template <typename T>
  void Unsigned(std::string_view key, T* out, T min_value = 0,
                T max_value = std::numeric_limits<T>::max()) {
    const toml::node* node = Take(key);
    if (node == nullptr) return;
    const auto* i = node->as_integer();
    if (i == nullptr) return Fail(key, "must be an integer");
    const std::int64_t v = i->get();
    if (v < 0 || static_cast<std::uint64_t>(v) < static_cast<std::uint64_t>(min_value) ||
        static_cast<std::uint64_t>(v) > static_cast<std::uint64_t>(max_value)) {
      std::ostringstream os;
      os << "must be between " << static_cast<std::uint64_t>(min_value) << " and "
         << static_cast<std::uint64_t>(max_value) << ", not " << v;
      return Fail(key, os.str());
    }
    *out = static_cast<T>(v);
  }

  // A string or an array of strings.
  void StringList(std::string_view key, std::vector<std::string>* out) {
    const toml::node* node = Take(key);
    if (node == nullptr) return;
    out->clear();
    auto add = [&](const toml::node& n) {
      const auto* s = n.as_string();
      if (s == nullptr) return Fail(key, "must be a string or an array of strings");
      Result<std::string> expanded = ExpandEnv(s->get(), Dotted(key), env_);
      if (!expanded.ok()) {
        if (error_->ok()) *error_ = expanded.status().WithContext(std::string(origin_));
        return;
      }
      out->push_back(std::move(expanded).value());
    };
    if (const auto* arr = node->as_array()) {
      for (const toml::node& n : *arr) add(n);
    } else {
      add(*node);
    }
  }

  const toml::table* Table(std::string_view key) {
    const toml::node* node = Take(key);
    if (node == nullptr) return nullptr;
    const auto* t = node->as_table();
    if (t == nullptr) Fail(key, "must be a table");
    return t;
  }

  // Call last: every key not taken is unknown.
  void RejectUnknown() {
    for (const auto& [k, v] : table_) {
      if (!taken_.contains(std::string(k.str()))) {
        Fail(k.str(), "is not a known setting");
        return;
      }
    }
  }

 private:
  const toml::node* Take(std::string_view key) {
    taken_.insert(std::string(key));
    return table_.get(key);
  }

  const toml::table& table_;
  std::string prefix_;
  std::string_view origin_;
  EnvLookup env_;
  Status* error_;
  std::set<std::string> taken_;
};

// The grammar crypto::ParseCompression accepts; checked here so that a bad value is a
// config error naming the key, before anything is opened.
bool ValidCompressionName(const std::string& name) {
  if (name == "none" || name == "lz4" || name == "zstd") return true;
  if (name.rfind("zstd:", 0) != 0 || name.size() < 6 || name.size() > 7) return false;
  int level = 0;
  for (char c : name.substr(5)) {
    if (c < '0' || c > '9') return false;
    level = level * 10 + (c - '0');
  }
  return level >= 1 && level <= 19;
}

void ReadServer(TableReader& root, std::string_view name, bool with_socket, ServerConfig* out,
                std::string_view origin, EnvLookup env, Status* error) {
  const toml::table* t = root.Table(name);
  if (t == nullptr) return;
  out->enabled = true;
  TableReader r(*t, "servers." + std::string(name), origin, env, error);
  r.Bool("enabled", &out->enabled);
  r.StringList("listen", &out->listen);
  if (with_socket) r.String("unix_socket", &out->unix_socket);
  if (name == "nfs") {
    r.String("commit", &out->commit);
    if (out->commit != "durable" && out->commit != "relaxed") {
      r.Fail("commit", "must be \"durable\" or \"relaxed\", not '" + out->commit + "'");
    }
    r.String("portmapper", &out->portmapper);
  }
  r.RejectUnknown();
}

}  // namespace

Result<Config> ParseConfig(std::string_view toml_text, std::string_view origin, EnvLookup env) {
  toml::table doc;
  try {
    doc = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << origin << ":" << e.source().begin.line << ":" << e.source().begin.column
       << ": invalid TOML: " << e.description();
    return Status::InvalidArgument(os.str());
  }

  Config cfg;
  cfg.source = std::filesystem::path(origin);
  Status error;
  TableReader top(doc, "", origin, env, &error);

  std::string password_file;
  if (const toml::table* t = top.Table("storage")) {
    TableReader r(*t, "storage", origin, env, &error);
    r.String("url", &cfg.storage.url);
    r.SecretString("password", &cfg.storage.password);
    r.String("password_file", &password_file);
    r.String("compression", &cfg.storage.compression);
    r.Unsigned<std::uint64_t>("simulate_rtt_ms", &cfg.storage.simulate_rtt_ms, 0, 10000);
    r.Unsigned<std::uint64_t>("simulate_mb_per_s", &cfg.storage.simulate_mb_per_s, 0, 1000000);
    r.RejectUnknown();
    if (!ValidCompressionName(cfg.storage.compression)) {
      r.Fail("compression", "must be none, lz4, zstd or zstd:N with N from 1 to 19, not '" +
                                cfg.storage.compression + "'");
    }
  }
  if (const toml::table* t = top.Table("s3")) {
    TableReader r(*t, "s3", origin, env, &error);
    objstore::S3Options& s3 = cfg.s3;
    r.String("endpoint", &s3.endpoint);
    r.String("region", &s3.region);
    r.String("access_key_id", &s3.access_key_id);
    r.SecretString("secret_access_key", &s3.secret_access_key);
    r.SecretString("session_token", &s3.session_token);
    r.String("profile", &s3.profile);
    r.Bool("path_style", &s3.path_style);
    r.Bool("verify_tls", &s3.verify_tls);
    r.String("ca_file", &s3.ca_file);
    r.Unsigned<std::uint32_t>("max_parallel", &s3.max_parallel, 1, 1024);
    r.Unsigned<std::uint32_t>("max_retries", &s3.max_retries, 0, 100);
    r.Unsigned<std::uint32_t>("retry_base_delay_ms", &s3.retry_base_delay_ms, 1, 60000);
    r.Unsigned<std::uint32_t>("retry_max_delay_ms", &s3.retry_max_delay_ms, 1, 600000);
    r.Unsigned<std::uint32_t>("connect_timeout_ms", &s3.connect_timeout_ms, 100, 600000);
    r.Unsigned<std::uint32_t>("request_timeout_ms", &s3.request_timeout_ms, 100, 3600000);
    r.Unsigned<std::uint64_t>("multipart_threshold_bytes", &s3.multipart_threshold_bytes,
                              5ULL << 20, 5ULL << 30);
    r.Unsigned<std::uint64_t>("multipart_part_bytes", &s3.multipart_part_bytes, 5ULL << 20,
                              5ULL << 30);
    r.RejectUnknown();
  }
  if (const toml::table* t = top.Table("cache")) {
    TableReader r(*t, "cache", origin, env, &error);
    r.String("dir", &cfg.cache.dir);
    r.Unsigned<std::uint64_t>("memory_mb", &cfg.cache.memory_mb, 0, 1ULL << 24);
    r.Unsigned<std::uint64_t>("disk_gb", &cfg.cache.disk_gb, 0, 1ULL << 20);
    r.RejectUnknown();
  }
  if (const toml::table* t = top.Table("servers")) {
    TableReader r(*t, "servers", origin, env, &error);
    ReadServer(r, "nfs", false, &cfg.nfs, origin, env, &error);
    ReadServer(r, "ninep", true, &cfg.ninep, origin, env, &error);
    ReadServer(r, "nbd", true, &cfg.nbd, origin, env, &error);
    r.RejectUnknown();
  }
  if (const toml::table* t = top.Table("control")) {
    TableReader r(*t, "control", origin, env, &error);
    r.String("socket", &cfg.control_socket);
    r.RejectUnknown();
  }
  if (const toml::table* t = top.Table("metrics")) {
    TableReader r(*t, "metrics", origin, env, &error);
    r.String("listen", &cfg.metrics_listen);
    r.RejectUnknown();
  }
  if (const toml::table* t = top.Table("gc")) {
    TableReader r(*t, "gc", origin, env, &error);
    r.Bool("background", &cfg.gc.background);
    r.Unsigned<std::uint64_t>("interval_s", &cfg.gc.interval_s, 1, 86400 * 7);
    r.Unsigned<std::uint64_t>("rewrite_mb_per_round", &cfg.gc.rewrite_mb_per_round, 1, 1ULL << 20);
    r.Unsigned<std::uint32_t>("deletes_per_round", &cfg.gc.deletes_per_round, 1, 1000000);
    r.Unsigned<std::uint32_t>("compact_below_live_percent", &cfg.gc.compact_below_live_percent, 0,
                              100);
    r.Unsigned<std::uint32_t>("max_amplification_percent", &cfg.gc.max_amplification_percent, 100,
                              1000000);
    r.Unsigned<std::uint64_t>("small_segment_mb", &cfg.gc.small_segment_mb, 0, 1ULL << 12);
    r.Unsigned<std::uint64_t>("deletion_grace_s", &cfg.gc.deletion_grace_s, 0, 86400 * 7);
    r.Unsigned<std::uint64_t>("rewrite_mb_per_s", &cfg.gc.rewrite_mb_per_s, 0, 1ULL << 20);
    r.Unsigned<std::uint32_t>("max_busy_percent", &cfg.gc.max_busy_percent, 1, 100);
    r.RejectUnknown();
  }
  if (const toml::table* t = top.Table("log")) {
    TableReader r(*t, "log", origin, env, &error);
    r.String("level", &cfg.log.level);
    r.String("file", &cfg.log.file);
    r.RejectUnknown();
  }
  top.RejectUnknown();
  if (!error.ok()) return error;

  if (!password_file.empty()) {
    if (!cfg.storage.password.empty()) {
      return Status::InvalidArgument(std::string(origin) +
                                     ": set either 'storage.password' or "
                                     "'storage.password_file', not both");
    }
    ZEROFS_RETURN_IF_ERROR(ReadPasswordFile(password_file, &cfg.storage.password));
    cfg.storage.password_file = password_file;
  }
  if (cfg.s3.multipart_part_bytes > cfg.s3.multipart_threshold_bytes) {
    return Status::InvalidArgument(std::string(origin) +
                                   ": 's3.multipart_part_bytes' must not exceed "
                                   "'s3.multipart_threshold_bytes'");
  }
  return cfg;
}

Result<Config> LoadConfigFile(const std::filesystem::path& path, EnvLookup env) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::FromErrno(errno, "cannot read config file " + path.string());
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return ParseConfig(text, path.string(), env);
}

Status ReadPasswordFile(const std::string& path, Secret* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::FromErrno(errno, "cannot read password_file " + path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.empty()) return Status::InvalidArgument("password_file " + path + " is empty");
  *out = Secret(std::move(text));
  return Status::Ok();
}

}  // namespace zerofs::server
