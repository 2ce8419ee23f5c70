#!/usr/bin/env python3
"""check-sandbox.py UNIT TRACE SCRATCH_DIR WRITABLE_DIR...

Checks a server's system calls, recorded with `strace -f -y -qq -s 512 -o TRACE`, against
the sandbox of UNIT: every call is in the unit's SystemCallFilter= set (groups expanded
with `systemd-analyze syscall-filter`); every socket is of a family that
RestrictAddressFamilies= allows; no memory is writable and executable, or made executable
(MemoryDenyWriteExecute=); no namespace is made (RestrictNamespaces=); and every file or
directory it creates, writes, renames or removes is under one of WRITABLE_DIR (what
ProtectSystem=strict leaves writable: the unit's StateDirectory, CacheDirectory and
RuntimeDirectory, moved for the test into SCRATCH_DIR), or else outside SCRATCH_DIR in
/tmp (PrivateTmp=), /dev/null, or a thread's name in /proc. Exits 1 naming each call the
sandbox would refuse.
"""
import re
import subprocess
import sys

unit_path, trace_path, scratch, *writable = sys.argv[1:]
scratch = scratch.rstrip("/")
writable = [w.rstrip("/") for w in writable]
elsewhere = ["/tmp", "/var/tmp", "/dev/null"]


def under(path, dirs):
    return any(path == d or path.startswith(d + "/") for d in dirs)


settings = {}
with open(unit_path) as f:
    for line in f:
        m = re.match(r"^(\w+)=(.*)$", line.strip())
        if m:
            settings.setdefault(m.group(1), []).append(m.group(2))


def expand(names, seen):
    """The system calls of filter entries (groups start with @), recursively."""
    out = set()
    for name in names:
        if not name.startswith("@"):
            out.add(name)
            continue
        if name in seen:
            continue
        seen.add(name)
        text = subprocess.run(["systemd-analyze", "syscall-filter", name], check=True,
                              capture_output=True, text=True).stdout
        members = [l.strip() for l in text.splitlines()[1:]
                   if l.strip() and not l.strip().startswith("#")]
        out |= expand(members, seen)
    return out


allowed = set()
denied = set()
for value in settings.get("SystemCallFilter", []):
    words = value.split()
    if words and words[0].startswith("~"):
        denied |= expand([words[0][1:]] + words[1:], set())
    else:
        allowed |= expand(words, set())
if not allowed:
    sys.exit("FAIL: the unit has no SystemCallFilter= allow list")
families = set()
for value in settings.get("RestrictAddressFamilies", []):
    families |= set(value.split())

problems = []
calls = {}
# 123 openat(5</dir>, "name", O_WRONLY|O_CREAT...) = 7</dir/name>
line_re = re.compile(r"^\d+\s+(?:<\.\.\. )?([a-z0-9_]+)(?:\(| resumed>)(.*)$")
for line in open(trace_path, errors="replace"):
    m = line_re.match(line)
    if not m:
        continue
    name, rest = m.groups()
    calls[name] = calls.get(name, 0) + 1
    if "resumed>" in line:
        continue  # the arguments are on the unfinished half
    if name == "socket":
        family = rest.split(",")[0].strip()
        if families and family not in families:
            problems.append(f"socket of family {family}: {line.strip()}")
    # MemoryDenyWriteExecute=: no memory both writable and executable, none made
    # executable later. RestrictNamespaces=: no new namespaces.
    if settings.get("MemoryDenyWriteExecute") == ["yes"]:
        if name == "mmap" and "PROT_WRITE" in rest and "PROT_EXEC" in rest:
            problems.append(f"writable and executable memory: {line.strip()}")
        if name in ("mprotect", "pkey_mprotect") and "PROT_EXEC" in rest:
            problems.append(f"memory made executable: {line.strip()}")
    if settings.get("RestrictNamespaces") == ["yes"] and name in ("clone", "clone3", "unshare", "setns"):
        if "CLONE_NEW" in rest or name == "setns":
            problems.append(f"a new namespace: {line.strip()}")
    if " = -1 " in line:
        continue  # a failed call changed nothing

    def paths(args):
        # fd<path> annotations and quoted names, in argument order
        return re.findall(r'(\d+<([^>]*)>|"((?:[^"\\]|\\.)*)"|AT_FDCWD)', args)

    def target(args, which):
        """The which-th path argument (a directory fd plus a name, or a name), as a path."""
        tokens = paths(args)
        out = []
        base = None
        for tok, fdpath, quoted in tokens:
            if tok == "AT_FDCWD":
                base = ""
            elif fdpath and not quoted:
                base = fdpath
            else:
                if quoted.startswith("/") or base is None:
                    out.append(quoted)
                else:
                    out.append((base + "/" + quoted) if base else quoted)
                base = None
        return out[which] if which < len(out) else None

    written = []
    if name in ("open", "openat", "creat"):
        flags = rest
        if name == "creat" or re.search(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC", flags):
            written.append(target(rest, 0))
    elif name in ("mkdir", "mkdirat", "unlink", "unlinkat", "rmdir", "mknod", "mknodat",
                  "truncate", "setxattr", "lsetxattr", "removexattr", "chmod", "fchmodat",
                  "chown", "fchownat", "utimensat", "bind"):
        if name == "bind":
            m2 = re.search(r'sun_path="([^"]*)"', rest)
            if m2:
                written.append(m2.group(1))
        elif name == "utimensat" and "NULL" in rest.split(",")[1]:
            pass  # futimens on an open fd: written through that fd
        else:
            written.append(target(rest, 0))
    elif name in ("fsetxattr", "fremovexattr", "fchmod", "fchown", "ftruncate", "fallocate"):
        m2 = re.match(r"\s*\d+<([^>]*)>", rest)
        if m2:
            written.append(m2.group(1))
    elif name in ("rename", "renameat", "renameat2", "link", "linkat"):
        written += [target(rest, 0), target(rest, 1)]
    elif name in ("symlink", "symlinkat"):
        written.append(target(rest, 1))
    for path in written:
        if path is None:
            continue
        if not path.startswith("/"):
            problems.append(f"{name} of a relative path {path!r}: {line.strip()}")
            continue
        if re.fullmatch(r"/proc/(self|thread-self|\d+)(/task/\d+)?/comm", path):
            continue  # thread names: /proc stays writable (ProtectKernelTunables= guards /proc/sys)
        if under(path, writable) or (not under(path, [scratch]) and under(path, elsewhere)):
            continue
        problems.append(f"{name} writes {path}, which ProtectSystem=strict makes read-only")

for name in sorted(calls):
    if name not in allowed or name in denied:
        problems.append(f"system call {name} ({calls[name]} times) is not in SystemCallFilter=")

for p in problems:
    print("FAIL:", p)
if problems:
    sys.exit(1)
print(f"ok: {sum(calls.values())} calls of {len(calls)} kinds, all allowed by the unit's "
      f"SystemCallFilter= ({len(allowed)} calls); sockets of {sorted(families)} only; "
      f"writes only under {', '.join(writable + elsewhere)}")
