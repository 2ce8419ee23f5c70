// zerofs-posix-suite: POSIX semantics checks of a mounted filesystem against ext4's
// answers. See tests/posix/README.md.
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "suite.h"

namespace {

constexpr const char* kUsage =
    "usage: zerofs-posix-suite [--profile ext4|fuse|9p|nfs] [--user UID:GID] [--only GROUP]...\n"
    "                          [--seed N] [--list] [--verbose] DIR\n"
    "Runs POSIX checks in a fresh directory under DIR and removes it afterwards.\n"
    "Expected results are ext4's; --profile relaxes only the documented protocol-inherent\n"
    "client differences (tests/posix/README.md). Run as root, checks needing an unprivileged\n"
    "caller run as --user (default 65534:65534); run unprivileged, root-only checks are\n"
    "reported as not run. Exit status: 0 no failure, 1 a check failed, 2 usage error.\n";

bool ParseUint(const char* s, unsigned long long* out) {
  if (s == nullptr || *s == '\0') return false;
  char* end = nullptr;
  errno = 0;
  *out = std::strtoull(s, &end, 10);
  return errno == 0 && *end == '\0';
}

}  // namespace

int main(int argc, char** argv) {
  using zerofs::posix::Options;
  using zerofs::posix::Profile;
  Options options;
  struct timeval tv {};
  ::gettimeofday(&tv, nullptr);
  options.seed =
      static_cast<std::uint64_t>(tv.tv_sec) * 1000000u + static_cast<std::uint64_t>(tv.tv_usec);
  bool list_only = false;
  std::string dir;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    auto need_value = [&]() {
      if (value == nullptr) {
        std::fprintf(stderr, "zerofs-posix-suite: %s needs a value\n%s", arg.c_str(), kUsage);
        std::exit(2);
      }
      ++i;
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--profile") {
      need_value();
      std::string p = value;
      if (p == "ext4") {
        options.profile = Profile::kExt4;
      } else if (p == "fuse") {
        options.profile = Profile::kFuse;
      } else if (p == "9p") {
        options.profile = Profile::k9p;
      } else if (p == "nfs") {
        options.profile = Profile::kNfs;
      } else {
        std::fprintf(stderr, "zerofs-posix-suite: unknown profile '%s'\n%s", value, kUsage);
        return 2;
      }
    } else if (arg == "--user") {
      need_value();
      std::string v = value;
      auto colon = v.find(':');
      unsigned long long u = 0, g = 0;
      if (colon == std::string::npos || !ParseUint(v.substr(0, colon).c_str(), &u) ||
          !ParseUint(v.substr(colon + 1).c_str(), &g) || u == 0 || u > 0xfffffffeULL ||
          g > 0xfffffffeULL) {
        std::fprintf(stderr, "zerofs-posix-suite: --user wants UID:GID with UID > 0\n%s", kUsage);
        return 2;
      }
      options.user_uid = static_cast<uid_t>(u);
      options.user_gid = static_cast<gid_t>(g);
    } else if (arg == "--only") {
      need_value();
      options.only_groups.emplace_back(value);
    } else if (arg == "--seed") {
      need_value();
      unsigned long long s = 0;
      if (!ParseUint(value, &s)) {
        std::fprintf(stderr, "zerofs-posix-suite: bad --seed '%s'\n%s", value, kUsage);
        return 2;
      }
      options.seed = s;
    } else if (arg == "--list") {
      list_only = true;
    } else if (arg == "--verbose") {
      options.verbose = true;
    } else if (!arg.empty() && arg[0] == '-') {
      std::fprintf(stderr, "zerofs-posix-suite: unknown option '%s'\n%s", arg.c_str(), kUsage);
      return 2;
    } else if (dir.empty()) {
      dir = arg;
    } else {
      std::fprintf(stderr, "zerofs-posix-suite: one DIR only\n%s", kUsage);
      return 2;
    }
  }
  if (dir.empty() && !list_only) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  return zerofs::posix::RunSuite(options, dir, list_only);
}
