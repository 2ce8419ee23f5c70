#!/usr/bin/env python3
"""Malformed ONC RPC (RFC 5531) against a running zerofs-nfs, over loopback TCP.

  e2e-malformed.py --port P --idle-timeout S [--pid PID] [--seed N] [--expect-entry NAME]

While one well-behaved connection keeps sending NFS NULL calls (a thread, every 0.2 s, each
reply checked), other connections send truncated records, oversized record marks, calls to
a wrong program / version / rpcvers / procedure, garbage arguments, bad credentials, a
REPLY instead of a CALL, seeded random bytes, fragmented records and slow partial records.
Each must get the reply RFC 5531 asks for, or (for bytes that are no call at all) a close
of that connection only; after each, the well-behaved connection must still be answered.
At the end `nfs-ls` lists the export (and NAME in it). The server must have been started
with --idle-timeout S (connections stuck halfway through a record must be closed after it).

Exit status 0 when every expectation held; each failure is printed with "FAIL:". The seed
of the random cases is printed; --seed (or ZEROFS_TEST_SEED) replays it. Python 3 stdlib.
"""
import argparse
import os
import random
import socket
import struct
import subprocess
import sys
import threading
import time

# RFC 5531 constants.
CALL, REPLY = 0, 1
MSG_ACCEPTED, MSG_DENIED = 0, 1
SUCCESS, PROG_UNAVAIL, PROG_MISMATCH, PROC_UNAVAIL, GARBAGE_ARGS, SYSTEM_ERR = range(6)
RPC_MISMATCH, AUTH_ERROR = 0, 1
AUTH_OK, AUTH_BADCRED, AUTH_REJECTEDCRED, AUTH_BADVERF, AUTH_REJECTEDVERF, AUTH_TOOWEAK = range(6)
AUTH_NONE, AUTH_SYS, RPCSEC_GSS = 0, 1, 6
LAST = 0x80000000
NFS_PROG, NFS_VERS = 100003, 3
MOUNT_PROG, MOUNT_VERS = 100005, 3
NFS3ERR_BADHANDLE = 10001
ACCEPT_NAMES = ["SUCCESS", "PROG_UNAVAIL", "PROG_MISMATCH", "PROC_UNAVAIL", "GARBAGE_ARGS",
                "SYSTEM_ERR"]

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, flush=True)


def ok(msg):
    print("ok: " + msg, flush=True)


# --- XDR and record marking -------------------------------------------------------------

def u32(*vals):
    return struct.pack(">%dI" % len(vals), *vals)


def opaque(data):
    pad = (4 - len(data) % 4) % 4
    return u32(len(data)) + data + b"\0" * pad


def auth_sys(uid=0, gid=0, gids=(), machine=b"malformed-test"):
    return opaque_auth(AUTH_SYS, u32(1) + opaque(machine) + u32(uid, gid, len(gids), *gids))


def opaque_auth(flavor, body=b""):
    return u32(flavor) + opaque(body)


NONE_AUTH = opaque_auth(AUTH_NONE)


def call(xid, prog=NFS_PROG, vers=NFS_VERS, proc=0, cred=NONE_AUTH, verf=NONE_AUTH, args=b"",
         rpcvers=2):
    return u32(xid, CALL, rpcvers, prog, vers, proc) + cred + verf + args


def record(body, splits=None):
    """body as one record; splits: fragment sizes (the rest goes in the last fragment)."""
    if not splits:
        return u32(LAST | len(body)) + body
    out, pos = b"", 0
    for n in splits:
        out += u32(n) + body[pos:pos + n]
        pos += n
    return out + u32(LAST | (len(body) - pos)) + body[pos:]


class Closed(Exception):
    pass


class Conn:
    """One TCP connection to the server, reading reply records."""

    def __init__(self, port, timeout=5.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def send(self, data):
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError) as e:
            raise Closed("send: %s" % e)

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError()
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise TimeoutError()
        except (ConnectionResetError, BrokenPipeError) as e:
            raise Closed("reset (%s)" % e)
        if not data:
            raise Closed("end of stream")
        self.buf += data

    def recv_record(self, timeout=5.0):
        """One reply record's body. Raises Closed, or TimeoutError after `timeout` s."""
        deadline = time.monotonic() + timeout
        body, pos = b"", 0
        while True:
            while len(self.buf) < pos + 4:
                self._fill(deadline)
            mark = struct.unpack(">I", self.buf[pos:pos + 4])[0]
            n = mark & ~LAST
            if n > 8 << 20:
                raise ValueError("reply fragment of %d bytes" % n)
            while len(self.buf) < pos + 4 + n:
                self._fill(deadline)
            body += self.buf[pos + 4:pos + 4 + n]
            pos += 4 + n
            if mark & LAST:
                self.buf = self.buf[pos:]
                return body

    def call(self, body, timeout=5.0):
        self.send(record(body))
        return parse_reply(self.recv_record(timeout))

    def wait_closed(self, timeout=5.0):
        """(closed, bytes received before the close or the timeout)."""
        deadline = time.monotonic() + timeout
        got = self.buf
        self.buf = b""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False, got
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return False, got
            except (ConnectionResetError, BrokenPipeError):
                return True, got
            if not data:
                return True, got
            got += data

    def close(self):
        self.sock.close()


class Reply:
    def __init__(self, **kw):
        self.__dict__.update(kw)

    def __repr__(self):
        return "Reply(%s)" % ", ".join("%s=%r" % kv for kv in sorted(self.__dict__.items())
                                        if kv[0] != "results")


AUTH_NAMES = ["AUTH_OK", "AUTH_BADCRED", "AUTH_REJECTEDCRED", "AUTH_BADVERF",
              "AUTH_REJECTEDVERF", "AUTH_TOOWEAK"]


def describe(r):
    if r.stat == MSG_ACCEPTED:
        name = ACCEPT_NAMES[r.accept] if r.accept < len(ACCEPT_NAMES) else str(r.accept)
        return "MSG_ACCEPTED " + name + (" %d..%d" % (r.low, r.high) if r.low is not None else "")
    if r.reject == RPC_MISMATCH:
        return "MSG_DENIED RPC_MISMATCH %d..%d" % (r.low, r.high)
    return "MSG_DENIED AUTH_ERROR " + (AUTH_NAMES[r.auth] if r.auth < len(AUTH_NAMES)
                                       else str(r.auth))


def parse_reply(body):
    """Decodes a reply header; raises ValueError when it is not a well-formed reply."""
    def word(i):
        if len(body) < 4 * (i + 1):
            raise ValueError("reply cut short at word %d (%d bytes)" % (i, len(body)))
        return struct.unpack(">I", body[4 * i:4 * i + 4])[0]

    r = Reply(xid=word(0), mtype=word(1), stat=word(2), accept=None, reject=None, auth=None,
              low=None, high=None, results=b"")
    if r.mtype != REPLY:
        raise ValueError("msg_type %d in a reply" % r.mtype)
    if r.stat == MSG_ACCEPTED:
        vlen = word(4)
        if vlen > 400:
            raise ValueError("reply verifier of %d bytes" % vlen)
        i = 5 + (vlen + 3) // 4
        r.accept = word(i)
        if r.accept == PROG_MISMATCH:
            r.low, r.high = word(i + 1), word(i + 2)
            i += 2
        r.results = body[4 * (i + 1):]
    elif r.stat == MSG_DENIED:
        r.reject = word(3)
        if r.reject == RPC_MISMATCH:
            r.low, r.high = word(4), word(5)
        elif r.reject == AUTH_ERROR:
            r.auth = word(4)
        else:
            raise ValueError("reject_stat %d" % r.reject)
    else:
        raise ValueError("reply_stat %d" % r.stat)
    return r


def parse_reply_stream(data):
    """Checks that `data` is whole reply records; returns how many, or raises ValueError."""
    n = 0
    while data:
        body = b""
        while True:
            if len(data) < 4:
                raise ValueError("%d stray bytes" % len(data))
            mark = struct.unpack(">I", data[:4])[0]
            size = mark & ~LAST
            if len(data) < 4 + size:
                raise ValueError("record cut short")
            body += data[4:4 + size]
            data = data[4 + size:]
            if mark & LAST:
                break
        parse_reply(body)
        n += 1
    return n


# --- the well-behaved connection ----------------------------------------------------------

class Keeper(threading.Thread):
    """Sends a NULL call every 0.2 s on one connection and checks every reply."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.conn = Conn(port)
        self.answered = 0
        self.error = None
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.xid = 0x10000000

    def ping(self):
        with self.lock:
            self.xid += 1
            xid = self.xid
            # Alternate AUTH_NONE and AUTH_SYS, as clients do.
            cred = NONE_AUTH if xid % 2 else auth_sys(1000, 1000, (1000,))
            r = self.conn.call(call(xid, cred=cred))
            if r.xid != xid or r.stat != MSG_ACCEPTED or r.accept != SUCCESS or r.results:
                raise ValueError("NULL xid %#x answered %r" % (xid, r))
            self.answered += 1

    def run(self):
        while not self.stop.is_set():
            try:
                self.ping()
            except (Closed, TimeoutError, ValueError, OSError) as e:
                self.error = "%s: %s" % (type(e).__name__, e)
                return
            self.stop.wait(0.2)


def check_keeper(keeper, after):
    """The well-behaved connection is answered after the case `after`."""
    start = keeper.answered
    deadline = time.monotonic() + 5
    while keeper.answered < start + 2 and keeper.error is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if keeper.error is not None:
        fail("after %s: the well-behaved connection failed: %s" % (after, keeper.error))
        raise SystemExit(report())
    if keeper.answered < start + 2:
        fail("after %s: the well-behaved connection got no answers for 5 s" % after)
        raise SystemExit(report())


def report():
    if failures:
        print("e2e-malformed: %d failures" % len(failures))
        return 1
    print("e2e-malformed: all passed")
    return 0


# --- cases --------------------------------------------------------------------------------

# nfsstat3 (RFC 1813 section 2.6).
NFS3_STATUSES = {0, 1, 2, 5, 6, 13, 17, 18, 19, 20, 21, 22, 27, 28, 30, 31, 63, 66, 69, 70, 71,
                 10001, 10002, 10003, 10004, 10005, 10006, 10007, 10008}


class ArgGen:
    """Random NFSv3 / MOUNT v3 arguments, well-formed field by field (RFC 1813)."""

    def __init__(self, rng, root):
        self.rng = rng
        self.root = root

    def u32(self):
        return u32(self.rng.choice([0, 1, 2, 4096, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
                                    self.rng.getrandbits(32)]))

    def u64(self):
        v = self.rng.choice([0, 1, 4096, 1 << 40, (1 << 63) - 1, (1 << 64) - 1,
                             self.rng.getrandbits(64)])
        return struct.pack(">Q", v)

    def bytes_(self, lo, hi):
        return bytes(self.rng.getrandbits(8) for _ in range(self.rng.randint(lo, hi)))

    def fh(self):
        x = self.rng.random()
        if x < 0.6:
            return opaque(self.root)
        if x < 0.8:  # the root's handle with one byte changed
            h = bytearray(self.root)
            h[self.rng.randrange(len(h))] ^= 1 << self.rng.randrange(8)
            return opaque(bytes(h))
        return opaque(self.bytes_(0, 64))

    def name(self):
        x = self.rng.random()
        if x < 0.2:
            return opaque(self.rng.choice([b"", b".", b"..", b"a/b", b"x\0y", b"n" * 256]))
        alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789-_."
        return opaque(bytes(self.rng.choice(alphabet) for _ in range(self.rng.randint(1, 40))))

    def opt(self, field):
        return u32(1) + field() if self.rng.random() < 0.5 else u32(0)

    def time_how(self):
        how = self.rng.choice([0, 1, 2, 3])  # DONT_CHANGE, SERVER, CLIENT; 3 is invalid
        return u32(how) + (u32(self.rng.getrandbits(32), self.rng.getrandbits(32))
                           if how == 2 else b"")

    def sattr(self):
        return (self.opt(self.u32) + self.opt(self.u32) + self.opt(self.u32) +
                self.opt(self.u64) + self.time_how() + self.time_how())

    def nfs_args(self, proc):
        r, fh, name = self.rng, self.fh, self.name
        if proc == 0:
            return b""
        if proc in (1, 5, 18, 19, 20):  # GETATTR READLINK FSSTAT FSINFO PATHCONF
            return fh()
        if proc == 2:  # SETATTR: guard = optional ctime
            return fh() + self.sattr() + self.opt(lambda: u32(r.getrandbits(32), 0))
        if proc in (3, 12, 13):  # LOOKUP REMOVE RMDIR
            return fh() + name()
        if proc == 4:  # ACCESS
            return fh() + self.u32()
        if proc in (6, 21):  # READ COMMIT
            return fh() + self.u64() + self.u32()
        if proc == 7:  # WRITE: the count may disagree with the data
            data = self.bytes_(0, 64)
            count = u32(len(data)) if r.random() < 0.7 else self.u32()
            return fh() + self.u64() + count + u32(r.choice([0, 1, 2, 3])) + opaque(data)
        if proc == 8:  # CREATE: UNCHECKED / GUARDED with attributes, EXCLUSIVE with a verifier
            how = r.choice([0, 1, 2, 3])
            return fh() + name() + u32(how) + (self.bytes_(8, 8) if how == 2 else self.sattr())
        if proc == 9:  # MKDIR
            return fh() + name() + self.sattr()
        if proc == 10:  # SYMLINK
            return fh() + name() + self.sattr() + opaque(self.bytes_(0, 100))
        if proc == 11:  # MKNOD
            ftype = r.choice([1, 2, 3, 4, 5, 6, 7, 8, 0])
            extra = b""
            if ftype in (3, 4):
                extra = self.sattr() + self.u32() + self.u32()
            elif ftype in (6, 7):
                extra = self.sattr()
            return fh() + name() + u32(ftype) + extra
        if proc == 14:  # RENAME
            return fh() + name() + fh() + name()
        if proc == 15:  # LINK
            return fh() + fh() + name()
        if proc == 16:  # READDIR
            return fh() + self.u64() + self.bytes_(8, 8) + self.u32()
        if proc == 17:  # READDIRPLUS
            return fh() + self.u64() + self.bytes_(8, 8) + self.u32() + self.u32()
        return self.bytes_(0, 64)

    def mount_args(self, proc):
        if proc in (1, 3):  # MNT, UMNT: dirpath<1024>
            return opaque(self.rng.choice([b"/", b"/nope", b"", b"//", b"x" * 1025]))
        return b""

    def mutate(self, args):
        x = self.rng.random()
        if x < 0.6 or not args:
            return args
        if x < 0.75:
            return args[:self.rng.randrange(len(args))]
        if x < 0.9:
            return args + self.bytes_(1, 8)
        b = bytearray(args)
        b[self.rng.randrange(len(b))] ^= 1 << self.rng.randrange(8)
        return bytes(b)


class Tester:
    def __init__(self, port, idle_timeout, pid, rng):
        self.port = port
        self.idle_timeout = idle_timeout
        self.pid = pid
        self.rng = rng
        self.xid = 1

    def next_xid(self):
        self.xid += 1
        return self.xid

    def server_alive(self, what):
        if self.pid is None:
            return True
        try:
            os.kill(self.pid, 0)
            return True
        except ProcessLookupError:
            fail("zerofs-nfs (pid %d) is gone after %s" % (self.pid, what))
            raise SystemExit(report())

    def expect_reply(self, name, body, check, conn=None, splits=None):
        """Sends `body` as a call record; check(reply) returns an error string or None. The
        connection must stay usable: a NULL call on it afterwards is answered."""
        own = conn is None
        conn = conn or Conn(self.port)
        try:
            conn.send(record(body, splits))
            r = parse_reply(conn.recv_record())
            xid = struct.unpack(">I", body[:4])[0]
            problem = "xid %#x instead of %#x" % (r.xid, xid) if r.xid != xid else check(r)
            if problem:
                fail("%s: %s (%r)" % (name, problem, r))
                return None
            after = conn.call(call(self.next_xid()))
            if after.accept != SUCCESS:
                fail("%s: the next NULL call on the same connection got %r" % (name, after))
                return None
            ok("%s (got %s)" % (name, describe(r)))
            return r
        except Closed as e:
            fail("%s: the server closed the connection (%s) instead of replying" % (name, e))
        except TimeoutError:
            fail("%s: no reply within 5 s" % name)
        except ValueError as e:
            fail("%s: malformed reply: %s" % (name, e))
        finally:
            if own:
                conn.close()
        return None

    def expect_close(self, name, data, half_close=False, timeout=5.0, allow_silence=False):
        """Sends `data`; the server must send no reply and close this connection (or, with
        allow_silence, may also ignore it: then a NULL call on it must still be answered)."""
        conn = Conn(self.port)
        try:
            try:
                conn.send(data)
            except Closed:
                ok("%s: closed by the server while sending" % name)
                return
            if half_close:
                conn.sock.shutdown(socket.SHUT_WR)
            closed, got = conn.wait_closed(timeout)
            if got:
                fail("%s: the server sent %d bytes (%r...) instead of closing" %
                     (name, len(got), got[:32]))
            elif closed:
                ok("%s: connection closed, no reply" % name)
            elif allow_silence:
                r = conn.call(call(self.next_xid()))
                if r.accept == SUCCESS:
                    ok("%s: ignored, the connection still answers" % name)
                else:
                    fail("%s: ignored, then NULL got %r" % (name, r))
            else:
                fail("%s: the connection is still open %.0f s later" % (name, timeout))
        except (Closed, TimeoutError, ValueError) as e:
            fail("%s: %s: %s" % (name, type(e).__name__, e))
        finally:
            conn.close()

    # Record marking.
    def truncated(self):
        body = call(self.next_xid()) + b"\0" * 60  # 100 bytes
        conn = Conn(self.port)
        conn.send(u32(LAST | 100) + body[:20])
        conn.close()
        ok("truncated record (mark 100, 20 bytes sent, then close)")
        # With a half-close the server sees end of stream mid-record: no reply, it closes.
        self.expect_close("truncated record then half-close", u32(LAST | 100) + body[:20],
                          half_close=True)

    def oversized(self):
        for name, mark in (("record mark 2^31-1 (last fragment)", LAST | 0x7FFFFFFF),
                           ("record mark 2^31-1 (not last)", 0x7FFFFFFF),
                           ("record mark 64 MiB", LAST | (64 << 20)),
                           ("record mark 2 MiB", LAST | (2 << 20))):
            self.expect_close(name, u32(mark) + b"\0" * 1024)
        # Fragments each within bounds whose sum is not: reassembly must be bounded too.
        frag = b"\0" * (512 << 10)
        self.expect_close("3 fragments of 512 KiB (1.5 MiB record)",
                          u32(len(frag)) + frag + u32(len(frag)) + frag + u32(LAST | len(frag))
                          + frag)

    def not_a_call(self):
        x = self.next_xid()
        reply = u32(x, REPLY, MSG_ACCEPTED, AUTH_NONE, 0, SUCCESS)
        self.expect_close("a REPLY message instead of a CALL", record(reply), allow_silence=True)
        self.expect_close("a record of 4 bytes (xid only)", record(u32(x)))
        self.expect_close("an empty record", u32(LAST))
        self.expect_close("msg_type 7", record(u32(x, 7) + b"\0" * 32))

    # Accepted errors.
    def wrong_program(self):
        def prog_unavail(r):
            return None if r.stat == MSG_ACCEPTED and r.accept == PROG_UNAVAIL else \
                "expected MSG_ACCEPTED PROG_UNAVAIL"
        self.expect_reply("program 100099 -> PROG_UNAVAIL",
                          call(self.next_xid(), prog=100099), prog_unavail)
        self.expect_reply("program 0 -> PROG_UNAVAIL", call(self.next_xid(), prog=0),
                          prog_unavail)

    def wrong_version(self):
        def mismatch(r):
            if r.stat != MSG_ACCEPTED or r.accept != PROG_MISMATCH:
                return "expected MSG_ACCEPTED PROG_MISMATCH"
            return None if (r.low, r.high) == (3, 3) else "expected low = high = 3"
        for prog, vers in ((NFS_PROG, 2), (NFS_PROG, 4), (NFS_PROG, 0xFFFFFFFF),
                           (MOUNT_PROG, 1)):
            self.expect_reply("program %d version %d -> PROG_MISMATCH 3..3" % (prog, vers),
                              call(self.next_xid(), prog=prog, vers=vers), mismatch)

    def wrong_rpcvers(self):
        def rpc_mismatch(r):
            if r.stat != MSG_DENIED or r.reject != RPC_MISMATCH:
                return "expected MSG_DENIED RPC_MISMATCH"
            return None if (r.low, r.high) == (2, 2) else "expected low = high = 2"
        for v in (0, 1, 3, 0xFFFFFFFF):
            self.expect_reply("rpcvers %d -> MSG_DENIED RPC_MISMATCH 2..2" % v,
                              call(self.next_xid(), rpcvers=v), rpc_mismatch)

    def unknown_procedure(self):
        def proc_unavail(r):
            return None if r.stat == MSG_ACCEPTED and r.accept == PROC_UNAVAIL else \
                "expected MSG_ACCEPTED PROC_UNAVAIL"
        for prog, proc in ((NFS_PROG, 22), (NFS_PROG, 0xFFFFFFFF), (MOUNT_PROG, 6)):
            self.expect_reply("program %d procedure %d -> PROC_UNAVAIL" % (prog, proc),
                              call(self.next_xid(), prog=prog, proc=proc), proc_unavail)

    def garbage_args(self):
        def garbage(r):
            return None if r.stat == MSG_ACCEPTED and r.accept == GARBAGE_ARGS else \
                "expected MSG_ACCEPTED GARBAGE_ARGS"
        cases = (("GETATTR without arguments", b""),
                 ("GETATTR handle length 2^32-1", u32(0xFFFFFFFF)),
                 ("GETATTR handle of 65 bytes (over NFS3_FHSIZE)", opaque(b"Z" * 65)),
                 ("GETATTR handle length 28, 10 bytes given", u32(28) + b"\1" * 10),
                 ("GETATTR 3 bytes", b"\0\0\0"))
        for name, args in cases:
            self.expect_reply(name + " -> GARBAGE_ARGS",
                              call(self.next_xid(), proc=1, args=args), garbage)
        self.expect_reply("NULL with arguments -> GARBAGE_ARGS",
                          call(self.next_xid(), args=u32(1, 2)), garbage)

        def badhandle(r):
            if r.stat != MSG_ACCEPTED or r.accept != SUCCESS or len(r.results) < 4:
                return "expected MSG_ACCEPTED SUCCESS with a status"
            status = struct.unpack(">I", r.results[:4])[0]
            return None if status == NFS3ERR_BADHANDLE else "status %d" % status
        self.expect_reply("GETATTR of a random 28-byte handle -> NFS3ERR_BADHANDLE",
                          call(self.next_xid(), proc=1,
                               args=opaque(bytes(self.rng.getrandbits(8) for _ in range(28)))),
                          badhandle)

    def credentials(self):
        def auth_error(*allowed):
            def check(r):
                if r.stat != MSG_DENIED or r.reject != AUTH_ERROR:
                    return "expected MSG_DENIED AUTH_ERROR"
                return None if r.auth in allowed else "auth_stat %d, expected one of %s" % (
                    r.auth, allowed)
            return check
        x = self.next_xid
        bad_sys = u32(1) + u32(1000) + b"m" * 16 + u32(0, 0, 0)  # machinename<255> of 1000
        self.expect_reply("AUTH_SYS with a 1000-byte machine name -> AUTH_BADCRED",
                          call(x(), cred=opaque_auth(AUTH_SYS, bad_sys)), auth_error(AUTH_BADCRED))
        self.expect_reply("AUTH_SYS with 17 groups -> AUTH_BADCRED",
                          call(x(), cred=auth_sys(1, 1, tuple(range(17)))),
                          auth_error(AUTH_BADCRED))
        self.expect_reply("AUTH_SYS with trailing bytes -> AUTH_BADCRED",
                          call(x(), cred=opaque_auth(AUTH_SYS, auth_sys()[8:] + b"\0" * 4)),
                          auth_error(AUTH_BADCRED))
        self.expect_reply("credential body of 401 bytes (over 400) -> AUTH_BADCRED",
                          call(x(), cred=opaque_auth(AUTH_SYS, b"\0" * 401)),
                          auth_error(AUTH_BADCRED))
        self.expect_reply("RPCSEC_GSS credential -> AUTH_ERROR",
                          call(x(), cred=opaque_auth(RPCSEC_GSS, b"\0" * 16)),
                          auth_error(AUTH_TOOWEAK, AUTH_REJECTEDCRED, AUTH_BADCRED))
        self.expect_reply("verifier body of 401 bytes -> AUTH_BADVERF or AUTH_BADCRED",
                          call(x(), verf=opaque_auth(AUTH_NONE, b"\0" * 401)),
                          auth_error(AUTH_BADVERF, AUTH_BADCRED))
        # A CALL header that breaks off after the version: no procedure, no credential.
        self.expect_reply("CALL header cut after the version -> MSG_DENIED AUTH_ERROR",
                          u32(x(), CALL, 2, NFS_PROG, NFS_VERS),
                          auth_error(AUTH_BADCRED, AUTH_REJECTEDCRED))

    def names(self):
        """Names no directory entry can have, in each procedure that takes one: an error
        status, never NFS3ERR_IO or SERVERFAULT (RFC 1813: a hard error, e.g. of a disk). A
        name over 255 bytes: NAMETOOLONG, or GARBAGE_ARGS as Linux's knfsd answers."""
        root = opaque(self.root_handle())
        cred = auth_sys(0, 0)  # as root, so that permissions decide nothing
        sattr = u32(0, 0, 0, 0, 0, 0)
        long_ok = opaque(b"n" * 255)

        def ops(n):
            return (("LOOKUP", 3, root + n), ("CREATE", 8, root + n + u32(0) + sattr),
                    ("MKDIR", 9, root + n + sattr), ("REMOVE", 12, root + n),
                    ("RMDIR", 13, root + n), ("LINK", 15, root + root + n),
                    ("RENAME from", 14, root + n + root + opaque(b"renamed")),
                    ("RENAME to", 14, root + long_ok + root + n))

        conn = Conn(self.port)
        try:
            def status(proc, args):
                r = conn.call(call(self.next_xid(), proc=proc, cred=cred, args=args))
                if r.stat != MSG_ACCEPTED or r.accept != SUCCESS or len(r.results) < 4:
                    return describe(r)
                return struct.unpack(">I", r.results[:4])[0]

            # The longest name there may be: created and removed (RENAME to uses it).
            if status(8, root + long_ok + u32(0) + sattr) != 0:
                fail("CREATE of a 255-byte name failed")
            for label, name in (("''", b""), ("'.'", b"."), ("'..'", b".."), ("'a/b'", b"a/b"),
                                ("'x\\0y'", b"x\0y")):
                got, before = [], len(failures)
                for op, proc, args in ops(opaque(name)):
                    st = status(proc, args)
                    got.append("%s %s" % (op, st))
                    if op == "LOOKUP" and name in (b".", b".."):
                        if st != 0:
                            fail("LOOKUP %s in the root: %s, expected NFS3_OK" % (label, st))
                    elif st in (0, 5, 10006) or not isinstance(st, int):
                        fail("%s %s: %s, expected an error status other than NFS3ERR_IO or "
                             "SERVERFAULT" % (op, label, st))
                print("%s: name %s: %s" % ("ok" if len(failures) == before else "seen", label,
                                           ", ".join(got)), flush=True)
            got, before = [], len(failures)
            for op, proc, args in ops(opaque(b"n" * 256)):
                st = status(proc, args)
                got.append("%s %s" % (op, st))
                if st not in (63, "MSG_ACCEPTED GARBAGE_ARGS"):
                    fail("%s of a 256-byte name: %s, expected NFS3ERR_NAMETOOLONG (63) or "
                         "GARBAGE_ARGS" % (op, st))
            print("%s: name of 256 bytes: %s" % ("ok" if len(failures) == before else "seen",
                                                 ", ".join(got)), flush=True)
            if status(12, root + long_ok) != 0:
                fail("REMOVE of the 255-byte name failed")
        except (Closed, TimeoutError, ValueError) as e:
            fail("names: %s: %s" % (type(e).__name__, e))
        finally:
            conn.close()

    def fragments(self):
        def null_ok(r):
            return None if r.stat == MSG_ACCEPTED and r.accept == SUCCESS and not r.results \
                else "expected SUCCESS with no results"
        body = call(self.next_xid())
        # Three fragments, one send() each, with pauses in between.
        conn = Conn(self.port)
        try:
            data = record(body, [16, 12])
            conn.send(data[:20])
            time.sleep(0.1)
            conn.send(data[20:36])
            time.sleep(0.1)
            conn.send(data[36:])
            r = parse_reply(conn.recv_record())
            if r.xid != struct.unpack(">I", body[:4])[0] or null_ok(r):
                fail("NULL in 3 fragments sent apart: %r" % r)
            else:
                ok("NULL in 3 fragments sent apart -> SUCCESS")
        except (Closed, TimeoutError, ValueError) as e:
            fail("NULL in 3 fragments sent apart: %s: %s" % (type(e).__name__, e))
        finally:
            conn.close()
        self.expect_reply("NULL in 3 fragments in one send -> SUCCESS", call(self.next_xid()),
                          null_ok, splits=[16, 12])
        # RFC 5531 section 11: a fragment holds 0 to 2^31-1 bytes.
        self.expect_reply("NULL with empty first and last fragments -> SUCCESS",
                          call(self.next_xid()), null_ok, splits=[0, 40])
        self.expect_reply("NULL in 40 fragments of 1 byte -> SUCCESS", call(self.next_xid()),
                          null_ok, splits=[1] * 39)

    def random_bytes(self):
        rng = self.rng
        # Raw random streams, then end of stream: closed; anything sent back is a reply.
        for i in range(12):
            data = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 4096)))
            self._random_stream("random stream %d (%d bytes)" % (i, len(data)), data)
        # A valid record mark around random bytes.
        for i in range(12):
            body = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 2048)))
            self._random_stream("random record %d (%d bytes)" % (i, len(body)), record(body))
        # Valid NFS and MOUNT call headers whose arguments are built field by field from
        # random values (handles: the real root's, mutated or random), then in 40% of the
        # calls cut, extended or with a byte flipped; pipelined on one connection. Each must
        # get a reply with its xid: SUCCESS with an RFC 1813 status, or GARBAGE_ARGS.
        gen = ArgGen(rng, self.root_handle())
        conn = Conn(self.port)
        sent = {}
        answers = {SUCCESS: 0, GARBAGE_ARGS: 0}
        statuses = set()
        try:
            for _ in range(10):
                data = b""
                for _ in range(40):
                    xid = self.next_xid()
                    if rng.random() < 0.1:
                        prog, proc = MOUNT_PROG, rng.randrange(0, 6)
                        args = gen.mount_args(proc)
                    else:
                        prog, proc = NFS_PROG, rng.randrange(0, 22)
                        args = gen.nfs_args(proc)
                    args = gen.mutate(args)
                    # As nobody (AUTH_NONE) or an unknown AUTH_SYS user: neither may change
                    # the root directory, whatever the arguments say.
                    cred = NONE_AUTH if rng.random() < 0.6 else \
                        auth_sys(rng.randint(1000, 60000), rng.randint(1000, 60000))
                    sent[xid] = (prog, proc, args)
                    data += record(call(xid, prog=prog, proc=proc, cred=cred, args=args))
                conn.send(data)
                for _ in range(40):
                    r = parse_reply(conn.recv_record(10))
                    what = sent.pop(r.xid, None)
                    if what is None:
                        fail("random calls: reply with unknown xid %#x" % r.xid)
                        continue
                    bad = None
                    if r.stat != MSG_ACCEPTED or r.accept not in (SUCCESS, GARBAGE_ARGS):
                        bad = describe(r)
                    elif r.accept == SUCCESS and what[0] == NFS_PROG and what[1] != 0:
                        status = struct.unpack(">I", r.results[:4])[0] if len(r.results) >= 4 \
                            else None
                        if status not in NFS3_STATUSES:
                            bad = "SUCCESS with nfsstat3 %r" % status
                        elif status in (5, 10006):
                            bad = "NFS3ERR_IO or SERVERFAULT (%d) for bad arguments" % status
                        statuses.add(status)
                    if bad:
                        fail("random calls: program %d procedure %d, arguments %s: %s" %
                             (what[0], what[1], what[2].hex(), bad))
                    else:
                        answers[r.accept] += 1
            if sent:
                fail("random calls: %d calls unanswered" % len(sent))
            else:
                ok("400 calls with random arguments: %d SUCCESS (nfsstat3 %s), %d GARBAGE_ARGS"
                   % (answers[SUCCESS], sorted(statuses), answers[GARBAGE_ARGS]))
        except (Closed, TimeoutError, ValueError) as e:
            fail("random calls: %s: %s (%d unanswered)" % (type(e).__name__, e, len(sent)))
        finally:
            conn.close()

    def _random_stream(self, name, data):
        conn = Conn(self.port)
        try:
            try:
                conn.send(data)
                conn.sock.shutdown(socket.SHUT_WR)
            except (Closed, OSError):
                pass  # closed while sending: fine
            closed, got = conn.wait_closed(5)
            try:
                replies = parse_reply_stream(got)
            except ValueError as e:
                fail("%s: the server sent bytes that are no reply: %s" % (name, e))
                return
            if not closed:
                fail("%s: still open 5 s after end of stream" % name)
        finally:
            conn.close()
        print("ok: %s: closed after %d replies" % (name, replies), flush=True)

    def root_handle(self):
        conn = Conn(self.port)
        try:
            r = conn.call(call(self.next_xid(), prog=MOUNT_PROG, proc=1, args=opaque(b"/")))
            if r.accept != SUCCESS or len(r.results) < 8:
                raise ValueError("MNT / answered %r" % r)
            status, n = struct.unpack(">II", r.results[:8])
            if status != 0 or n == 0 or n > 64:
                raise ValueError("MNT / status %d, handle of %d bytes" % (status, n))
            return r.results[8:8 + n]
        except (Closed, TimeoutError, ValueError) as e:
            fail("MNT /: %s" % e)
            raise SystemExit(report())
        finally:
            conn.close()

    def slowloris(self, keeper):
        # A record sent one byte at a time, 0.1 s apart: a slow client, still served.
        body = call(self.next_xid())
        data = record(body)
        conn = Conn(self.port)
        try:
            for b in data:
                conn.send(bytes([b]))
                time.sleep(0.1)
            r = parse_reply(conn.recv_record())
            if r.accept != SUCCESS:
                fail("NULL sent a byte every 0.1 s: %r" % r)
            else:
                ok("NULL sent a byte every 0.1 s (%.1f s) -> SUCCESS" % (len(data) * 0.1))
        except (Closed, TimeoutError, ValueError) as e:
            fail("NULL sent a byte every 0.1 s: %s: %s" % (type(e).__name__, e))
        finally:
            conn.close()
        check_keeper(keeper, "a slow record")
        # 64 connections stuck halfway through a record: a new connection is still served,
        # and each stuck one is closed after the idle timeout.
        stuck = []
        for i in range(64):
            c = Conn(self.port)
            partial = record(call(self.next_xid()))
            c.send(partial[:2] if i % 2 else partial[:23])
            stuck.append(c)
        start = time.monotonic()
        self.expect_reply("a new connection while 64 are stuck mid-record",
                          call(self.next_xid()),
                          lambda r: None if r.accept == SUCCESS else "expected SUCCESS")
        limit = self.idle_timeout + 5
        open_ones = 0
        for c in stuck:
            closed, got = c.wait_closed(max(0.1, start + limit - time.monotonic()))
            if got:
                fail("a connection stuck mid-record got %d bytes" % len(got))
            if not closed:
                open_ones += 1
            c.close()
        if open_ones:
            fail("%d of 64 connections stuck mid-record still open %d s later (--idle-timeout "
                 "%d)" % (open_ones, limit, self.idle_timeout))
        else:
            ok("64 connections stuck mid-record closed after %.1f s (--idle-timeout %d)" %
               (time.monotonic() - start, self.idle_timeout))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--idle-timeout", type=int, required=True,
                    help="the server's --idle-timeout, in seconds")
    ap.add_argument("--pid", type=int, help="the server's pid, checked alive after each case")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--expect-entry", help="a name nfs-ls must list in the export")
    args = ap.parse_args()
    seed = args.seed
    if seed is None and os.environ.get("ZEROFS_TEST_SEED"):
        seed = int(os.environ["ZEROFS_TEST_SEED"])
    if seed is None:
        seed = int.from_bytes(os.urandom(4), "big")
    print("seed: %d (replay with --seed %d or ZEROFS_TEST_SEED=%d)" % (seed, seed, seed),
          flush=True)
    t = Tester(args.port, args.idle_timeout, args.pid, random.Random(seed))
    keeper = Keeper(args.port)
    try:
        keeper.ping()
    except (Closed, TimeoutError, ValueError, OSError) as e:
        fail("the well-behaved NULL call: %s" % e)
        return report()
    ok("well-behaved connection: NULL answered SUCCESS with no results")
    keeper.start()

    cases = [("truncated record", t.truncated), ("oversized record marks", t.oversized),
             ("messages that are no call", t.not_a_call), ("wrong program", t.wrong_program),
             ("wrong version", t.wrong_version), ("wrong rpcvers", t.wrong_rpcvers),
             ("unknown procedure", t.unknown_procedure), ("garbage arguments", t.garbage_args),
             ("bad credentials", t.credentials), ("names no entry can have", t.names),
             ("fragmented records", t.fragments),
             ("random bytes (seed %d)" % seed, t.random_bytes),
             ("slow partial records", lambda: t.slowloris(keeper))]
    for name, case in cases:
        print("== " + name, flush=True)
        case()
        t.server_alive(name)
        check_keeper(keeper, name)
    keeper.stop.set()
    keeper.join()
    if keeper.error:
        fail("the well-behaved connection: %s" % keeper.error)
    else:
        ok("the well-behaved connection was answered %d times throughout" % keeper.answered)

    # 32 calls in one send on the well-behaved connection: 32 replies.
    try:
        xids = [t.next_xid() for _ in range(32)]
        keeper.conn.send(b"".join(record(call(x)) for x in xids))
        got = sorted(parse_reply(keeper.conn.recv_record()).xid for _ in xids)
        if got == sorted(xids):
            ok("32 pipelined NULL calls on the well-behaved connection answered")
        else:
            fail("32 pipelined NULL calls: xids %s" % got)
    except (Closed, TimeoutError, ValueError) as e:
        fail("32 pipelined NULL calls: %s: %s" % (type(e).__name__, e))
    keeper.conn.close()

    url = "nfs://127.0.0.1/?version=3&nfsport=%d&mountport=%d" % (args.port, args.port)
    try:
        ls = subprocess.run(["nfs-ls", url], capture_output=True, text=True, timeout=30)
        if ls.returncode != 0:
            fail("nfs-ls %s: exit %d: %s" % (url, ls.returncode, ls.stderr.strip()))
        elif args.expect_entry and not any(line.split()[-1:] == [args.expect_entry]
                                           for line in ls.stdout.splitlines()):
            fail("nfs-ls does not list %s:\n%s" % (args.expect_entry, ls.stdout))
        else:
            ok("nfs-ls lists the export%s" %
               (" with " + args.expect_entry if args.expect_entry else ""))
    except (OSError, subprocess.TimeoutExpired) as e:
        fail("nfs-ls: %s" % e)
    return report()


if __name__ == "__main__":
    sys.exit(main())
