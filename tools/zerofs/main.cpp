// zerofs: the command-line tool. Subcommands are added as the layers land; each lives in
// its own file and registers itself here.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "commands.h"
#include "zerofs/common/log.h"
#include "zerofs/server/cli.h"

int main(int argc, char** argv) {
  CLI::App app{
      "zerofs: an S3-compatible bucket as a filesystem and block devices.\n"
      "Exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 precondition failed,\n"
      "5 permission denied, 6 volume in use, 7 fsck found problems (docs/cli.md)."};
  app.set_version_flag("--version", "zerofs 0.1.0");
  app.require_subcommand(1);
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "debug, info, warn, error or off")
      ->capture_default_str();

  zerofs::cli::CommandRunner run;
  zerofs::cli::AddObjstoreCommand(app, run);
  zerofs::cli::AddVolumeCommands(app, run);
  zerofs::cli::AddFsCommands(app, run);
  zerofs::cli::AddFsckCommand(app, run);
  zerofs::cli::AddConfigCommand(app, run);
  zerofs::cli::AddGcCommand(app, run);
  zerofs::cli::AddCheckpointCommand(app, run);
  zerofs::cli::AddNbdCommands(app, run);
  zerofs::cli::AddRunCommand(app, run);
  zerofs::cli::AddControlCommands(app, run);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every other parse error is a usage error (exit 2).
    return zerofs::server::ExitForParseError(app, e, "zerofs");
  }
  auto level = zerofs::log::ParseLevel(log_level);
  if (!level.ok()) {
    std::fprintf(stderr, "zerofs: %s\n", level.status().message().c_str());
    return 2;
  }
  zerofs::log::SetLevel(*level);
  return run ? run() : 2;
}
