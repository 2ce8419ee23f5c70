// The command-line plumbing the server binaries share: the --listen, --unix, --config and
// --log-level flags (added one at a time, so each binary keeps its own --help order), the
// reading of [servers.<protocol>] and [log] from the config file, the default listen
// address, and waiting for SIGINT or SIGTERM.
//
// For main() only: these functions print to stderr and set the process-wide log level and
// signal mask, so call them from the main thread before the server starts its threads.
#pragma once

#include <signal.h>

#include <CLI/CLI.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "zerofs/common/status.h"
#include "zerofs/server/config.h"

namespace zerofs::server {

// A binary's own words for the flags and messages it shares with the others.
struct ProgramInfo {
  std::string_view program;         // "zerofs-nbd": prefixes error lines
  std::string_view section;         // "nbd", as in [servers.nbd]
  ServerConfig Config::*config;     // &Config::nbd
  std::string_view default_listen;  // used when neither flags nor file name an address
  bool unix_socket_from_config;     // whether [servers.<section>] unix_socket is read
  std::string_view storage_note;    // printed (after "note: ") when the file has [storage]
};

// The flags' values; filled by CLI11, then completed by ApplyConfig and FinishListen.
struct CommonFlags {
  std::vector<std::string> listen;
  std::vector<std::string> unix_sockets;
  std::string config_path;
  std::string log_level;
  std::string log_file;
  Config config;  // the file's settings after ApplyConfig (the defaults without --config)
};

void AddListenFlag(CLI::App& app, CommonFlags& flags, const ProgramInfo& info);
void AddUnixFlag(CLI::App& app, CommonFlags& flags, const ProgramInfo& info);
void AddConfigFlag(CLI::App& app, CommonFlags& flags, const ProgramInfo& info);
// --log-level and --log-file.
void AddLogLevelFlag(CLI::App& app, CommonFlags& flags);

// Loads --config, if given, into `flags.config`: its [servers.<section>] fills the
// addresses the flags left empty, and its [log] level applies unless --log-level was given.
// Sets the log level.
Status ApplyConfig(CommonFlags& flags, const ProgramInfo& info);

// Falls back to the default address when nothing is to be listened on, and checks every
// TCP address.
Status FinishListen(CommonFlags& flags, const ProgramInfo& info);

// Prints "<program>: <message>" to stderr and returns the exit code for bad usage (2).
int Fail(const ProgramInfo& info, std::string_view message);

// The exit code for a command line that did not parse: --help and --version print what
// they print and give 0; anything else prints one line "<program>: <what>; see --help"
// and gives 2 (bad usage).
int ExitForParseError(CLI::App& app, const CLI::ParseError& error, std::string_view program);

// Sends the log to `path` (appending) instead of stderr.
Status OpenLogFile(const std::string& path);
// Reopens the log file (after logrotate moved it); nothing when logging to stderr.
Status ReopenLogFile();

// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread, so that every thread started
// afterwards inherits the mask and the signals reach Wait(); ignores SIGPIPE.
class TerminationSignals {
 public:
  TerminationSignals();
  // Blocks until SIGINT or SIGTERM arrives; returns its name. SIGHUP reopens the log file.
  const char* Wait();

 private:
  sigset_t signals_;
};

}  // namespace zerofs::server
