// Opening the volume a server serves; see volume.h.
#include "zerofs/server/volume.h"

#include <array>
#include <chrono>
#include <cstdlib>
#include <utility>

#include "zerofs/common/coding.h"
#include "zerofs/common/log.h"
#include "zerofs/crypto/codec.h"
#include "zerofs/crypto/key_file.h"
#include "zerofs/crypto/random.h"
#include "zerofs/engine/space.h"
#include "zerofs/format.h"
#include "zerofs/objstore/latency_store.h"
#include "zerofs/objstore/memory_store.h"
#include "zerofs/objstore/open.h"

namespace zerofs::server {

namespace {

constexpr const char* kPasswordEnv = "ZEROFS_PASSWORD";

std::string Quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

}  // namespace

void AddVolumeFlags(CLI::App& app, VolumeFlags& flags) {
  app.add_option("--url", flags.url,
                 "volume URL (file:///path, s3://bucket/prefix, memory://name); overrides "
                 "[storage] url");
  app.add_option("--password-file", flags.password_file,
                 "file holding the volume password, when [storage] names none (else the "
                 "ZEROFS_PASSWORD environment variable)");
  app.add_option("--cache-dir", flags.cache_dir,
                 "local cache directory (index and disk cache); overrides [cache] dir");
  app.add_flag("--read-only", flags.read_only,
               "serve a read replica: no fencing of the writer, writes fail with EROFS");
  app.add_option("--checkpoint", flags.checkpoint,
                 "serve the named checkpoint, read-only");
  app.add_flag("--takeover", flags.takeover,
               "open as the writer even while another live process serves the volume (that "
               "one is fenced and stops acknowledging writes)");
}

Result<Config> ResolveVolumeConfig(const VolumeFlags& flags, Config config) {
  const std::string origin =
      config.source.empty() ? std::string("the command line") : config.source.string();
  if (!flags.url.empty()) config.storage.url = flags.url;
  if (!flags.cache_dir.empty()) config.cache.dir = flags.cache_dir;
  if (config.storage.url.empty()) {
    return Status::InvalidArgument("no volume: pass --url or set 'storage.url' in --config");
  }
  if (config.storage.password.empty() && !flags.password_file.empty()) {
    ZEROFS_RETURN_IF_ERROR(ReadPasswordFile(flags.password_file, &config.storage.password));
    config.storage.password_file = flags.password_file;
  }
  if (config.storage.password.empty()) {
    if (const char* env = std::getenv(kPasswordEnv); env != nullptr && env[0] != '\0') {
      config.storage.password = Secret(env);
    }
  }
  if (config.storage.password.empty()) {
    return Status::InvalidArgument(
        "no volume password in " + origin +
        ": set 'storage.password' (e.g. \"${ZEROFS_PASSWORD}\") or 'storage.password_file', "
        "pass --password-file FILE, or set ZEROFS_PASSWORD");
  }
  return config;
}

ServedVolume::ServedVolume(std::shared_ptr<engine::Volume> volume,
                           std::shared_ptr<vfs::Filesystem> fs, std::string url,
                           std::shared_ptr<objstore::MeteredStore> meter,
                           std::unique_ptr<WriterLease> lease)
    : volume_(std::move(volume)),
      fs_(std::move(fs)),
      url_(std::move(url)),
      meter_(std::move(meter)),
      lease_(std::move(lease)) {}

ServedVolume::~ServedVolume() {
  Status closed = Close();
  if (!closed.ok()) {
    ZEROFS_LOG(kError) << "closing volume " << url_ << ": " << closed;
  }
}

Status ServedVolume::Close() {
  if (closed_) return Status::Ok();
  closed_ = true;
  Status synced = Status::Ok();
  if (!volume_->read_only()) synced = fs_->SyncAll();
  // The filesystem goes before the volume it lives on (filesystem.h).
  fs_.reset();
  Status closed = volume_->Close();
  // Only once the volume is closed may another writer take over.
  if (lease_ != nullptr) lease_->Release();
  if (!synced.ok()) return synced;
  return closed;
}

Result<std::unique_ptr<ServedVolume>> OpenServedVolume(const VolumeFlags& flags,
                                                       const Config& config,
                                                       std::string_view program) {
  ZEROFS_ASSIGN_OR_RETURN(Config resolved, ResolveVolumeConfig(flags, config));
  const std::string& url = resolved.storage.url;
  auto store = objstore::Open(url, resolved.s3);
  if (!store.ok()) return store.status().WithContext("opening " + Quoted(url));
  if (resolved.storage.simulate_rtt_ms != 0 || resolved.storage.simulate_mb_per_s != 0) {
    objstore::LatencyOptions latency;
    latency.round_trip = std::chrono::milliseconds(resolved.storage.simulate_rtt_ms);
    latency.bytes_per_second = resolved.storage.simulate_mb_per_s << 20;
    ZEROFS_LOG(kWarn) << program << ": simulating a remote bucket: "
                      << resolved.storage.simulate_rtt_ms << " ms per request, "
                      << (resolved.storage.simulate_mb_per_s == 0
                              ? std::string("unlimited")
                              : std::to_string(resolved.storage.simulate_mb_per_s) + " MiB/s")
                      << " each way ([storage] simulate_*)";
    *store = std::make_shared<objstore::LatencyStore>(std::move(*store), latency);
  }

  auto meter = std::make_shared<objstore::MeteredStore>(std::move(*store));
  const bool writer = !flags.read_only && flags.checkpoint.empty();
  std::unique_ptr<WriterLease> lease;
  if (writer) {
    LeaseOptions lease_options;
    lease_options.program = std::string(program);
    lease_options.takeover = flags.takeover;
    auto acquired = WriterLease::Acquire(meter, std::move(lease_options));
    if (!acquired.ok()) return acquired.status().WithContext(Quoted(url));
    lease = std::move(*acquired);
  }
  engine::VolumeOptions options;
  options.store = meter;
  options.password = resolved.storage.password;
  options.cache_dir = resolved.cache.dir;
  options.mode = writer ? engine::OpenMode::kWrite : engine::OpenMode::kReadOnly;
  options.checkpoint = flags.checkpoint;
  options.gc = GcSettingsFromConfig(resolved.gc);
  options.memory_cache_bytes = resolved.cache.memory_mb << 20;
  options.disk_cache_bytes = resolved.cache.disk_gb << 30;
  auto compression = crypto::ParseCompression(resolved.storage.compression);
  if (!compression.ok()) return compression.status().WithContext("storage.compression");
  options.compression = *compression;

  auto volume = engine::Volume::Open(std::move(options));
  if (!volume.ok()) {
    Status status = volume.status();
    if (status.code() == StatusCode::kNotFound) {
      const bool volume_exists = meter->Head(format::kKeyObjectName).ok();
      if (volume_exists && !flags.checkpoint.empty()) {
        return status.WithContext("no checkpoint " + Quoted(flags.checkpoint) + " in the volume at " +
                                  Quoted(url) + " (`zerofs checkpoint list` shows them)");
      }
      return status.WithContext("no volume at " + Quoted(url) + " (create one with `zerofs init`)");
    }
    if (status.code() == StatusCode::kPermissionDenied) {
      return status.WithContext("cannot open the volume at " + Quoted(url) +
                                " (wrong password?)");
    }
    return status.WithContext("opening the volume at " + Quoted(url));
  }
  std::shared_ptr<engine::Volume> shared_volume(std::move(*volume));

  vfs::FilesystemOptions fs_options;
  fs_options.volume = shared_volume;
  auto fs = vfs::Filesystem::Open(std::move(fs_options));
  if (!fs.ok()) {
    Status closed = shared_volume->Close();
    (void)closed;  // the filesystem's error is the one to report
    return fs.status().WithContext("opening the filesystem of " + Quoted(url));
  }
  std::shared_ptr<vfs::Filesystem> shared_fs(std::move(*fs));

  const engine::VolumeStats stats = shared_volume->stats();
  ZEROFS_LOG(kInfo) << program << ": volume " << url
                    << (flags.checkpoint.empty() ? "" : " checkpoint " + flags.checkpoint)
                    << (shared_volume->read_only() ? " (read-only)" : "") << ", epoch "
                    << stats.writer_epoch << ", " << stats.replayed_segments
                    << " segments replayed";
  return std::make_unique<ServedVolume>(std::move(shared_volume), std::move(shared_fs), url,
                                        std::move(meter), std::move(lease));
}

Result<std::unique_ptr<ServedVolume>> OpenEphemeralServedVolume() {
  auto store = std::make_shared<objstore::MeteredStore>(std::make_shared<objstore::MemoryStore>());
  std::array<std::uint8_t, 24> raw{};
  crypto::SystemRandom().Fill(raw);
  std::string password;
  for (std::uint8_t b : raw) password += coding::HexDigit(b);
  Secret secret(std::move(password));
  engine::CreateOptions create;
  create.kdf = crypto::Argon2Params::Minimum();  // the password never leaves the process
  ZEROFS_RETURN_IF_ERROR(engine::Volume::Create(*store, secret, create).status());
  engine::VolumeOptions options;
  options.store = store;
  options.password = secret;
  ZEROFS_ASSIGN_OR_RETURN(std::unique_ptr<engine::Volume> volume,
                          engine::Volume::Open(std::move(options)));
  std::shared_ptr<engine::Volume> shared(std::move(volume));
  vfs::FilesystemOptions fs_options;
  fs_options.volume = shared;
  fs_options.root_mode = 0777;  // any user may write, as a scratch space should
  auto fs = vfs::Filesystem::Open(std::move(fs_options));
  if (!fs.ok()) {
    (void)shared->Close();
    return fs.status();
  }
  return std::make_unique<ServedVolume>(shared, std::shared_ptr<vfs::Filesystem>(std::move(*fs)),
                                        "memory:// (ephemeral)", store);
}

}  // namespace zerofs::server
