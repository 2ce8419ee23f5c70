// The subcommands of the zerofs tool. Each Add*Command registers its CLI11 subcommand and,
// when that subcommand is chosen, stores the function that runs it into `run`.
//
// Exit codes, common to all subcommands (scripts rely on them):
//   0 success, 1 error, 2 usage error, 3 not found, 4 precondition failed (a conditional
//   put lost), 5 permission denied (credentials, password), 6 volume in use (another live
//   writer serves the volume), 7 fsck found problems. docs/cli.md lists them per command.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

#include "zerofs/common/status.h"

namespace zerofs::cli {

using CommandRunner = std::function<int()>;

void AddObjstoreCommand(CLI::App& app, CommandRunner& run);
// `init` and `passwd` (volume_cmd.cpp).
void AddVolumeCommands(CLI::App& app, CommandRunner& run);
// `nbd create|list|resize|delete` (nbd_cmd.cpp).
void AddNbdCommands(CLI::App& app, CommandRunner& run);

// `ls`, `cat`, `get`, `put`, `mkdir`, `rm` on the volume without a server (fs_cmd.cpp).
void AddFsCommands(CLI::App& app, CommandRunner& run);
// `fsck` (fsck_cmd.cpp).
void AddFsckCommand(CLI::App& app, CommandRunner& run);
// `gc` (gc_cmd.cpp) and `checkpoint create|list|info|delete` (checkpoint_cmd.cpp).
void AddGcCommand(CLI::App& app, CommandRunner& run);
void AddCheckpointCommand(CLI::App& app, CommandRunner& run);
// `config example|check` (config_cmd.cpp).
void AddConfigCommand(CLI::App& app, CommandRunner& run);
// `run` (run_cmd.cpp).
void AddRunCommand(CLI::App& app, CommandRunner& run);
// `flush` and `stats`, through a running server's control socket (control_cmd.cpp).
void AddControlCommands(CLI::App& app, CommandRunner& run);

inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitVolumeInUse = 6;
inline constexpr int kExitFsckProblems = 7;

// Prints "zerofs: <status>" to stderr and returns the exit code for it.
int ReportError(const Status& status);

}  // namespace zerofs::cli
