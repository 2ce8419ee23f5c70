// Shared command-line plumbing of the server binaries; see cli.h.
#include "zerofs/server/cli.h"

#include <pthread.h>

#include <cerrno>
#include <cstdio>
#include <mutex>

#include "zerofs/common/log.h"
#include "zerofs/common/result.h"
#include "zerofs/server/endpoint.h"

namespace zerofs::server {

void AddListenFlag(CLI::App& app, CommonFlags& flags, const ProgramInfo& info) {
  app.add_option("--listen", flags.listen,
                 "TCP address to listen on, ADDR:PORT (repeatable; IPv6 as [ADDR]:PORT; port 0 "
                 "picks a free one). Default " +
                     std::string(info.default_listen) + ", or [servers." +
                     std::string(info.section) + "] listen");
}

void AddUnixFlag(CLI::App& app, CommonFlags& flags, const ProgramInfo& info) {
  std::string help = "Unix socket path to listen on (repeatable)";
  if (info.unix_socket_from_config) {
    help += "; or [servers." + std::string(info.section) + "] unix_socket";
  }
  app.add_option("--unix", flags.unix_sockets, help);
}

void AddConfigFlag(CLI::App& app, CommonFlags& flags, const ProgramInfo& info) {
  app.add_option("--config", flags.config_path,
                 "config file (TOML): [storage], [s3], [cache], [servers." +
                     std::string(info.section) + "] listen" +
                     (info.unix_socket_from_config ? " and unix_socket" : "") +
                     ", [log] level; flags override it");
}

void AddLogLevelFlag(CLI::App& app, CommonFlags& flags) {
  app.add_option("--log-level", flags.log_level, "debug, info, warn, error or off (default info)");
  app.add_option("--log-file", flags.log_file,
                 "append the log to FILE instead of stderr (reopened on SIGHUP); or [log] file");
}

Status ApplyConfig(CommonFlags& flags, const ProgramInfo& info) {
  std::string level_name = "info";
  if (!flags.config_path.empty()) {
    ZEROFS_ASSIGN_OR_RETURN(flags.config, LoadConfigFile(flags.config_path));
    const Config& config = flags.config;
    const ServerConfig& section = config.*info.config;
    if (flags.listen.empty()) flags.listen = section.listen;
    if (info.unix_socket_from_config && flags.unix_sockets.empty() &&
        !section.unix_socket.empty()) {
      flags.unix_sockets.push_back(section.unix_socket);
    }
    if (!config.log.level.empty()) level_name = config.log.level;
    if (!config.storage.url.empty() && !info.storage_note.empty()) {
      std::fprintf(stderr, "%.*s: note: %.*s\n", static_cast<int>(info.program.size()),
                   info.program.data(), static_cast<int>(info.storage_note.size()),
                   info.storage_note.data());
    }
  }
  if (!flags.log_level.empty()) level_name = flags.log_level;
  std::string log_file = flags.log_file.empty() ? flags.config.log.file : flags.log_file;
  if (!log_file.empty()) ZEROFS_RETURN_IF_ERROR(OpenLogFile(log_file));
  ZEROFS_ASSIGN_OR_RETURN(log::Level level, log::ParseLevel(level_name));
  log::SetLevel(level);
  return Status::Ok();
}

Status FinishListen(CommonFlags& flags, const ProgramInfo& info) {
  if (flags.listen.empty() && flags.unix_sockets.empty()) {
    flags.listen.emplace_back(info.default_listen);
  }
  for (const std::string& l : flags.listen) {
    ZEROFS_RETURN_IF_ERROR(ParseListenAddress(l, info.default_listen).status());
  }
  return Status::Ok();
}

int ExitForParseError(CLI::App& app, const CLI::ParseError& error, std::string_view program) {
  if (error.get_exit_code() == 0) return app.exit(error);  // --help, --version
  std::fprintf(stderr, "%.*s: %s; see --help\n", static_cast<int>(program.size()), program.data(),
               error.what());
  return 2;
}

int Fail(const ProgramInfo& info, std::string_view message) {
  std::fprintf(stderr, "%.*s: %.*s\n", static_cast<int>(info.program.size()), info.program.data(),
               static_cast<int>(message.size()), message.data());
  return 2;
}

namespace {

// The log file and its path, for the sink and for reopening on SIGHUP.
struct LogFile {
  std::mutex mu;
  std::string path;
  std::FILE* file = nullptr;
};

LogFile& TheLogFile() {
  static LogFile* log_file = new LogFile;  // lives as long as the process (the sink uses it)
  return *log_file;
}

}  // namespace

Status OpenLogFile(const std::string& path) {
  LogFile& lf = TheLogFile();
  std::FILE* file = std::fopen(path.c_str(), "ae");
  if (file == nullptr) return Status::FromErrno(errno, "cannot open log file " + path);
  {
    std::lock_guard<std::mutex> lock(lf.mu);
    if (lf.file != nullptr) std::fclose(lf.file);
    lf.file = file;
    lf.path = path;
  }
  log::SetSink([&lf](log::Level, std::string_view line) {
    std::lock_guard<std::mutex> lock(lf.mu);
    if (lf.file == nullptr) return;
    std::fwrite(line.data(), 1, line.size(), lf.file);
    std::fputc('\n', lf.file);
    std::fflush(lf.file);
  });
  return Status::Ok();
}

Status ReopenLogFile() {
  LogFile& lf = TheLogFile();
  std::string path;
  {
    std::lock_guard<std::mutex> lock(lf.mu);
    path = lf.path;
  }
  if (path.empty()) return Status::Ok();  // logging to stderr: nothing to reopen
  std::FILE* file = std::fopen(path.c_str(), "ae");
  if (file == nullptr) return Status::FromErrno(errno, "cannot reopen log file " + path);
  std::lock_guard<std::mutex> lock(lf.mu);
  if (lf.file != nullptr) std::fclose(lf.file);
  lf.file = file;
  return Status::Ok();
}

TerminationSignals::TerminationSignals() {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGINT);
  sigaddset(&signals_, SIGTERM);
  sigaddset(&signals_, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

const char* TerminationSignals::Wait() {
  for (;;) {
    int received = 0;
    sigwait(&signals_, &received);
    if (received == SIGHUP) {
      Status reopened = ReopenLogFile();
      if (reopened.ok()) {
        ZEROFS_LOG(kInfo) << "SIGHUP: log file reopened";
      } else {
        std::fprintf(stderr, "%s\n", reopened.message().c_str());
      }
      continue;
    }
    return received == SIGINT ? "SIGINT" : "SIGTERM";
  }
}

}  // namespace zerofs::server
