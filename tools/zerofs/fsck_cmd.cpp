// zerofs fsck: verify a volume offline (fsck_checks.h), without disturbing a running server.
//
//   zerofs fsck [--config F] [--url U] [--password-file F] [--quick] [--json] [--jobs N]
//
// Prints one line per finding ("problem: KIND: OBJECT: MESSAGE", or "note: ..."), then a
// summary. A progress line (objects verified / total) goes to stderr when it is a terminal.
// With --json, stdout holds one JSON document instead (docs/cli.md describes it).
// Exit codes: 0 no problems (notes allowed), 7 problems found, 1 the check could not run,
// 2 usage, 3 no volume, 5 wrong password.
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "commands.h"
#include "fsck_checks.h"
#include "volume_access.h"

namespace zerofs::cli {
namespace {

struct FsckCommandOptions {
  VolumeAccessOptions access;
  bool deep = true;  // --quick: skip the data frames
  bool deep_flag = false;  // --deep: the default, accepted
  bool json = false;
  unsigned jobs = 8;
};

nlohmann::json StatsJson(const FsckStats& s) {
  return {{"volume_uuid", s.volume_uuid},
          {"writer_epoch", s.writer_epoch},
          {"journal_start_seq", s.journal_start_seq},
          {"chain_end_seq", s.chain_end_seq},
          {"snapshot_covers_seq", s.snapshot_covers_seq},
          {"objects", s.objects},
          {"objects_checked", s.objects_checked},
          {"segments", s.segments},
          {"segment_bytes", s.segment_bytes},
          {"reclaimable_segments", s.reclaimable_segments},
          {"index_objects", s.index_objects},
          {"checkpoints", s.checkpoints},
          {"index_checked", s.index_checked},
          {"inodes", s.inodes},
          {"directories", s.directories},
          {"files", s.files},
          {"symlinks", s.symlinks},
          {"extents", s.extents},
          {"live_extent_bytes", s.live_extent_bytes},
          {"used_bytes", s.used_bytes},
          {"orphans", s.orphans},
          {"pending_drops", s.pending_drops}};
}

void PrintFinding(const FsckFinding& f) {
  std::printf("%s: %s: %s: %s\n", f.problem ? "problem" : "note", f.kind.c_str(), f.object.c_str(),
              f.message.c_str());
  std::fflush(stdout);
}

int RunFsckCommand(const FsckCommandOptions& opts) {
  auto config = ResolveCliConfig(opts.access);
  if (!config.ok()) return ReportError(config.status());

  const bool progress = isatty(STDERR_FILENO) != 0;
  FsckOptions options;
  options.deep = opts.deep;
  options.jobs = opts.jobs;
  if (progress) {
    options.progress = [](std::uint64_t done, std::uint64_t total) {
      std::fprintf(stderr, "\rfsck: %llu/%llu objects checked",
                   static_cast<unsigned long long>(done), static_cast<unsigned long long>(total));
      std::fflush(stderr);
    };
  }
  if (!opts.json) {
    options.on_finding = [progress](const FsckFinding& f) {
      if (progress) std::fprintf(stderr, "\r\033[K");
      PrintFinding(f);
    };
  }
  auto report = RunFsck(*config, options);
  if (progress) std::fprintf(stderr, "\r\033[K");
  if (!report.ok()) return ReportError(report.status().WithContext("fsck cannot check the volume"));

  const FsckStats& s = report->stats;
  const std::uint64_t problems = report->problems();
  const std::uint64_t notes = report->findings.size() - problems;
  if (opts.json) {
    nlohmann::json findings = nlohmann::json::array();
    for (const FsckFinding& f : report->findings) {
      findings.push_back({{"severity", f.problem ? "problem" : "note"},
                          {"kind", f.kind},
                          {"object", f.object},
                          {"message", f.message}});
    }
    const nlohmann::json doc = {
        {"url", config->storage.url}, {"deep", opts.deep}, {"clean", problems == 0},
        {"problems", problems},       {"notes", notes},    {"findings", std::move(findings)},
        {"stats", StatsJson(s)}};
    std::printf("%s\n", doc.dump(2).c_str());
  } else {
    std::printf(
        "volume %s at %s: %llu objects checked (%llu segments, %llu bytes; %llu index objects; "
        "%llu checkpoints)%s\n",
        s.volume_uuid.c_str(), config->storage.url.c_str(),
        static_cast<unsigned long long>(s.objects_checked),
        static_cast<unsigned long long>(s.segments),
        static_cast<unsigned long long>(s.segment_bytes),
        static_cast<unsigned long long>(s.index_objects),
        static_cast<unsigned long long>(s.checkpoints),
        opts.deep ? ", every frame read" : " (--quick: data frames not read)");
    if (s.index_checked) {
      std::printf(
          "index: %llu inodes (%llu directories, %llu files, %llu symlinks), %llu bytes of files, "
          "%llu extents; journal %llu..%llu\n",
          static_cast<unsigned long long>(s.inodes), static_cast<unsigned long long>(s.directories),
          static_cast<unsigned long long>(s.files), static_cast<unsigned long long>(s.symlinks),
          static_cast<unsigned long long>(s.used_bytes), static_cast<unsigned long long>(s.extents),
          static_cast<unsigned long long>(s.journal_start_seq),
          static_cast<unsigned long long>(s.chain_end_seq));
    }
    std::printf("%s: %llu problem(s), %llu note(s)\n", problems == 0 ? "clean" : "PROBLEMS FOUND",
                static_cast<unsigned long long>(problems), static_cast<unsigned long long>(notes));
  }
  std::fflush(stdout);
  return problems == 0 ? 0 : kExitFsckProblems;
}

}  // namespace

void AddFsckCommand(CLI::App& app, CommandRunner& run) {
  auto opts = std::make_shared<FsckCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "fsck",
      "Verify a volume in its bucket: every object decrypts and verifies, the index agrees\n"
      "with the segments, the namespace is consistent, nothing leaks. Read-only: opens the\n"
      "volume as a read replica, so it never fences a running server (whose concurrent\n"
      "writes may show up as findings). Exit codes: 0 clean, 7 problems found, 1 cannot\n"
      "check, 2 usage, 3 no volume, 5 wrong password.");
  AddVolumeAccessOptions(cmd, opts->access, false);
  cmd->add_flag("!--quick", opts->deep,
                "skip the data frames: verify every object's header, directory, journal and "
                "MACs but do not read and decrypt every data frame (the default reads the "
                "whole bucket)");
  cmd->add_flag("--deep", opts->deep_flag, "the default: read and decrypt every data frame");
  cmd->add_flag("--json", opts->json, "print one JSON report on stdout");
  cmd->add_option("-j,--jobs", opts->jobs, "segments verified in parallel")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->callback([&run, opts] { run = [opts] { return RunFsckCommand(*opts); }; });
}

}  // namespace zerofs::cli
