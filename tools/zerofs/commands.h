// The subcommands of the zerofs tool. Each Add*Command registers its CLI11 subcommand and,
// when that subcommand is chosen, stores the function that runs it into `run`.
//
// Exit codes, common to all subcommands (scripts rely on them):
//   0 success, 1 error, 2 usage error, 3 not found, 4 precondition failed (a conditional
//   put lost), 5 permission denied (credentials, password).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

#include "zerofs/common/status.h"

namespace zerofs::cli {

using CommandRunner = std::function<int()>;

void AddObjstoreCommand(CLI::App& app, CommandRunner& run);
// `init` and `passwd` (volume_cmd.cpp).
void AddVolumeCommands(CLI::App& app, CommandRunner& run);

// Prints "zerofs: <status>" to stderr and returns the exit code for it.
int ReportError(const Status& status);

}  // namespace zerofs::cli
