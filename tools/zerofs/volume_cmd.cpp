// zerofs init | passwd: create a volume in the bucket; change its password.
//
//   zerofs init   --config FILE [--url URL] [--password-file FILE] [--argon2-opslimit N]
//                 [--argon2-memlimit-mib N]
//   zerofs passwd --config FILE [--url URL] [--password-file FILE] [--new-password-file FILE]
//                 [--argon2-...]
//
// The (current) password comes from the config (storage.password / storage.password_file),
// else --password-file, else the environment variable ZEROFS_PASSWORD, else (init only) an
// echo-free prompt, asked twice, when stdin is a terminal.
// The new password of `passwd` comes from --new-password-file, else the environment
// variable ZEROFS_NEW_PASSWORD, else an echo-free prompt when stdin is a terminal. It never
// comes from the command line, where other users could read it in the process list.
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>

#include "commands.h"
#include "zerofs/crypto/key_file.h"
#include "zerofs/engine/volume.h"
#include "zerofs/objstore/open.h"
#include "zerofs/server/config.h"

namespace zerofs::cli {
namespace {

constexpr const char* kNewPasswordEnv = "ZEROFS_NEW_PASSWORD";
constexpr const char* kPasswordEnv = "ZEROFS_PASSWORD";

struct VolumeOptions {
  std::string config_path;
  std::string url;
  std::uint64_t argon2_opslimit = 0;      // 0: default / keep
  std::uint64_t argon2_memlimit_mib = 0;  // 0: default / keep
  std::string password_file;
  std::string new_password_file;
};

struct OpenedStore {
  server::Config config;
  std::shared_ptr<objstore::ObjectStore> store;
};

Result<OpenedStore> OpenStore(const VolumeOptions& opts) {
  ZEROFS_ASSIGN_OR_RETURN(server::Config cfg, server::LoadConfigFile(opts.config_path));
  if (!opts.url.empty()) cfg.storage.url = opts.url;
  if (cfg.storage.url.empty()) {
    return Status::InvalidArgument(opts.config_path + ": 'storage.url' is not set (or pass --url)");
  }
  if (cfg.storage.password.empty() && !opts.password_file.empty()) {
    ZEROFS_RETURN_IF_ERROR(server::ReadPasswordFile(opts.password_file, &cfg.storage.password));
  }
  if (cfg.storage.password.empty()) {
    if (const char* env = std::getenv(kPasswordEnv); env != nullptr && env[0] != '\0') {
      cfg.storage.password = Secret(std::string(env));
    }
  }
  ZEROFS_ASSIGN_OR_RETURN(auto store, objstore::Open(cfg.storage.url, cfg.s3));
  return OpenedStore{std::move(cfg), std::move(store)};
}

Status NoPassword(const VolumeOptions& opts) {
  return Status::InvalidArgument(opts.config_path +
                                 ": no volume password; set 'storage.password' (e.g. "
                                 "\"${ZEROFS_PASSWORD}\") or 'storage.password_file', pass "
                                 "--password-file FILE, or set ZEROFS_PASSWORD");
}

// The cost parameters the flags ask for, starting from `base`; nullopt if no flag was given.
Result<std::optional<crypto::Argon2Params>> KdfFromFlags(const VolumeOptions& opts,
                                                         crypto::Argon2Params base) {
  if (opts.argon2_opslimit == 0 && opts.argon2_memlimit_mib == 0) {
    return std::optional<crypto::Argon2Params>();
  }
  if (opts.argon2_opslimit != 0) base.opslimit = opts.argon2_opslimit;
  if (opts.argon2_memlimit_mib != 0) {
    if (opts.argon2_memlimit_mib > (format::kArgon2MaxMemlimitBytes >> 20)) {
      return Status::InvalidArgument("--argon2-memlimit-mib is at most " +
                                     std::to_string(format::kArgon2MaxMemlimitBytes >> 20));
    }
    base.memlimit_bytes = opts.argon2_memlimit_mib << 20;
  }
  ZEROFS_RETURN_IF_ERROR(base.Validate());
  return std::optional<crypto::Argon2Params>(base);
}

std::string StripNewline(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

// Restores the terminal's echo on every exit path of the prompt.
class EchoOff {
 public:
  EchoOff() {
    if (tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    active_ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
  }
  ~EchoOff() {
    if (active_) tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_);
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

Result<Secret> Prompt(const char* question) {
  std::fprintf(stderr, "%s", question);
  std::fflush(stderr);
  std::string line;
  {
    EchoOff echo_off;
    std::getline(std::cin, line);
  }
  std::fprintf(stderr, "\n");
  if (!std::cin) return Status::InvalidArgument("no password entered");
  return Secret(StripNewline(std::move(line)));
}

Result<Secret> NewPassword(const VolumeOptions& opts) {
  if (!opts.new_password_file.empty()) {
    std::ifstream in(opts.new_password_file, std::ios::binary);
    if (!in) return Status::FromErrno(errno, "cannot read " + opts.new_password_file);
    Secret pw(StripNewline(
        std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>())));
    if (pw.empty()) return Status::InvalidArgument(opts.new_password_file + " is empty");
    return pw;
  }
  if (const char* env = std::getenv(kNewPasswordEnv); env != nullptr && env[0] != '\0') {
    return Secret(env);
  }
  if (isatty(STDIN_FILENO) == 0) {
    return Status::InvalidArgument(std::string("no new password: set ") + kNewPasswordEnv +
                                   ", pass --new-password-file FILE, or run on a terminal");
  }
  ZEROFS_ASSIGN_OR_RETURN(Secret first, Prompt("New volume password: "));
  ZEROFS_ASSIGN_OR_RETURN(Secret second, Prompt("Repeat the new password: "));
  if (!(first == second)) return Status::InvalidArgument("the passwords do not match");
  if (first.empty()) return Status::InvalidArgument("the new password is empty");
  return first;
}

// The password of a new volume, when neither the config, --password-file nor the
// environment gave one: asked twice on the terminal.
Result<Secret> PromptNewVolumePassword(const VolumeOptions& opts) {
  if (isatty(STDIN_FILENO) == 0) return NoPassword(opts);
  ZEROFS_ASSIGN_OR_RETURN(Secret first, Prompt("Password for the new volume: "));
  ZEROFS_ASSIGN_OR_RETURN(Secret second, Prompt("Repeat the password: "));
  if (!(first == second)) return Status::InvalidArgument("the passwords do not match");
  if (first.empty()) return Status::InvalidArgument("the password is empty");
  return first;
}

int RunInit(const VolumeOptions& opts) {
  auto opened = OpenStore(opts);
  if (!opened.ok()) return ReportError(opened.status());
  if (opened->config.storage.password.empty()) {
    auto pw = PromptNewVolumePassword(opts);
    if (!pw.ok()) return ReportError(pw.status());
    opened->config.storage.password = std::move(*pw);
  }
  auto kdf = KdfFromFlags(opts, crypto::Argon2Params::Default());
  if (!kdf.ok()) return ReportError(kdf.status());
  engine::CreateOptions create;
  create.kdf = kdf->value_or(crypto::Argon2Params::Default());
  auto key = engine::Volume::Create(*opened->store, opened->config.storage.password, create);
  if (!key.ok()) return ReportError(key.status());
  std::printf("created volume %s at %s\n", key->uuid.ToString().c_str(),
              opened->store->Describe().c_str());
  return 0;
}

int RunPasswd(const VolumeOptions& opts) {
  auto opened = OpenStore(opts);
  if (!opened.ok()) return ReportError(opened.status());
  if (opened->config.storage.password.empty()) return ReportError(NoPassword(opts));
  auto kdf = KdfFromFlags(opts, crypto::Argon2Params::Default());
  if (!kdf.ok()) return ReportError(kdf.status());
  // Check the current password before asking for a new one.
  auto current = engine::Volume::OpenKey(*opened->store, opened->config.storage.password);
  if (!current.ok()) return ReportError(current.status());
  auto fresh = NewPassword(opts);
  if (!fresh.ok()) return ReportError(fresh.status());
  engine::ChangePasswordOptions change;
  if (kdf->has_value()) {
    change.kdf = **kdf;
  }
  auto key = engine::Volume::ChangePassword(*opened->store, opened->config.storage.password, *fresh,
                                            change);
  if (!key.ok()) return ReportError(key.status());
  std::printf(
      "changed the password of volume %s; update storage.password or "
      "storage.password_file in %s\n",
      key->uuid.ToString().c_str(), opts.config_path.c_str());
  return 0;
}

void AddCommonOptions(CLI::App* cmd, const std::shared_ptr<VolumeOptions>& opts) {
  cmd->add_option("--config", opts->config_path, "TOML config ([storage] url and password)")
      ->required();
  cmd->add_option("--url", opts->url, "store URL, overriding storage.url");
  cmd->add_option("--password-file", opts->password_file,
                  "file holding the volume password (one line), when the config names none "
                  "(else ZEROFS_PASSWORD, else init asks on the terminal)");
  cmd->add_option("--argon2-opslimit", opts->argon2_opslimit, "Argon2id passes (1..32; default 3)");
  cmd->add_option("--argon2-memlimit-mib", opts->argon2_memlimit_mib,
                  "Argon2id memory in MiB (default 256)");
}

}  // namespace

void AddVolumeCommands(CLI::App& app, CommandRunner& run) {
  auto opts = std::make_shared<VolumeOptions>();
  CLI::App* init = app.add_subcommand(
      "init",
      "Create a volume in the bucket: a random data key, wrapped by the password.\n"
      "Refuses (exit 1, 'volume already exists') if the bucket already holds one.");
  AddCommonOptions(init, opts);
  init->callback([&run, opts] { run = [opts] { return RunInit(*opts); }; });

  CLI::App* passwd = app.add_subcommand(
      "passwd",
      "Change the volume password (the data key stays; one small object is rewritten).\n"
      "The new password comes from --new-password-file, ZEROFS_NEW_PASSWORD, or a prompt.");
  AddCommonOptions(passwd, opts);
  passwd->add_option("--new-password-file", opts->new_password_file,
                     "file holding the new password (one line)");
  passwd->callback([&run, opts] { run = [opts] { return RunPasswd(*opts); }; });
}

}  // namespace zerofs::cli
