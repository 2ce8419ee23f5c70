"""zerofs-nbd serving a volume, checked through libnbd's Python bindings (nbdsh's library).

usage:
  nbd_volume.py semantics URI            URI = nbd://127.0.0.1:PORT/EXPORT (a 64M export)
  nbd_volume.py crash-write URI STATE SEED
  nbd_volume.py crash-verify URI STATE SEED

semantics: structured replies, TRIM, WRITE_ZEROES (+NO_HOLE, FAST_ZERO), FUA, FLUSH, CACHE,
multi-conn, refused requests. Exits non-zero on the first failed expectation.

crash-write: writes batches of random data (batch i from SEED and i) to distinct places,
each followed by FLUSH; after every successful FLUSH it records i in STATE (fsync'ed), and
goes on until the server dies (the caller kills it with SIGKILL). crash-verify: after the
restart, every batch up to the recorded one must read back exactly.
"""
import errno
import os
import random
import sys

import nbd

MiB = 1 << 20
BATCH_BYTES = 512 << 10
BATCH_WRITES = 8  # pipelined writes of BATCH_BYTES / BATCH_WRITES each


def connect(uri):
    h = nbd.NBD()
    h.set_request_structured_replies(True)
    h.connect_uri(uri)
    return h


def expect(cond, what):
    if not cond:
        print(f"FAIL: {what}", flush=True)
        sys.exit(1)
    print(f"ok: {what}", flush=True)


def expect_errno(fn, want, what):
    try:
        fn()
    except nbd.Error as e:
        expect(e.errnum == want, f"{what}: {errno.errorcode.get(e.errnum, e.errnum)}")
        return
    expect(False, f"{what}: succeeded, expected {errno.errorcode[want]}")


def chunks_of(h, count, offset):
    seen = []

    def chunk(subbuf, off, status, err):
        seen.append((status, off, len(subbuf)))
        return 0

    h.pread_structured(count, offset, chunk)
    return seen


def semantics(uri):
    rng = random.Random(int.from_bytes(os.urandom(8), "little"))
    h = connect(uri)
    size = h.get_size()
    expect(size == 64 * MiB, f"export size {size}")
    expect(h.get_structured_replies_negotiated(), "structured replies negotiated")
    expect(not h.is_read_only(), "writable")
    for name in ("can_flush", "can_fua", "can_trim", "can_zero", "can_fast_zero",
                 "can_multi_conn", "can_cache"):
        expect(getattr(h, name)(), name)

    data = rng.randbytes(4 * MiB)
    h.pwrite(data, 0)
    expect(h.pread(4 * MiB, 0) == data, "4 MiB written and read back")

    # TRIM: the range reads as zeros, and comes back as a hole chunk.
    h.trim(1 * MiB, 2 * MiB)
    expect(h.pread(1 * MiB, 1 * MiB) == data[1 * MiB:2 * MiB], "data before the trim intact")
    expect(h.pread(1 * MiB, 2 * MiB) == bytes(1 * MiB), "trimmed range reads as zeros")
    expect(h.pread(1 * MiB, 3 * MiB) == data[3 * MiB:], "data after the trim intact")
    chunks = chunks_of(h, 1 * MiB, 2 * MiB)
    expect(any(s == nbd.READ_HOLE for s, _, _ in chunks),
           f"trimmed range read as a hole chunk ({len(chunks)} chunks)")

    # WRITE_ZEROES: as a hole, with NO_HOLE, with FAST_ZERO.
    h.pwrite(rng.randbytes(MiB), 8 * MiB)
    h.zero(MiB, 8 * MiB)
    expect(h.pread(MiB, 8 * MiB) == bytes(MiB), "write-zeroes reads as zeros")
    h.pwrite(rng.randbytes(MiB), 9 * MiB)
    h.zero(MiB, 9 * MiB, flags=nbd.CMD_FLAG_NO_HOLE)
    expect(h.pread(MiB, 9 * MiB) == bytes(MiB), "write-zeroes with NO_HOLE reads as zeros")
    h.pwrite(rng.randbytes(MiB), 10 * MiB)
    h.zero(MiB, 10 * MiB, flags=nbd.CMD_FLAG_FAST_ZERO)
    expect(h.pread(MiB, 10 * MiB) == bytes(MiB), "write-zeroes with FAST_ZERO succeeds")
    kept = rng.randbytes(MiB)
    h.pwrite(kept, 11 * MiB)
    expect_errno(lambda: h.zero(MiB, 11 * MiB,
                                flags=nbd.CMD_FLAG_FAST_ZERO | nbd.CMD_FLAG_NO_HOLE),
                 errno.ENOTSUP, "FAST_ZERO with NO_HOLE refused fast")
    expect(h.pread(MiB, 11 * MiB) == kept, "refused fast zero changed nothing")

    # FUA and FLUSH.
    fua = rng.randbytes(64 << 10)
    h.pwrite(fua, 12 * MiB, flags=nbd.CMD_FLAG_FUA)
    h.flush()
    h.trim(64 << 10, 13 * MiB, flags=nbd.CMD_FLAG_FUA)
    h.zero(64 << 10, 14 * MiB, flags=nbd.CMD_FLAG_FUA)
    expect(h.pread(64 << 10, 12 * MiB) == fua, "FUA write, FLUSH, FUA trim and zero")
    h.cache(4 * MiB, 0)
    expect(True, "CACHE")

    # Multi-conn: a write on one connection, FLUSH on another, read on a third.
    h2 = connect(uri)
    h3 = connect(uri)
    other = rng.randbytes(256 << 10)
    h2.pwrite(other, 20 * MiB)
    h3.flush()
    expect(h.pread(256 << 10, 20 * MiB) == other, "writes visible across connections")

    # Pipelined requests: many writes in flight, then read back.
    pieces = [rng.randbytes(64 << 10) for _ in range(64)]
    cookies = [h.aio_pwrite(p, 32 * MiB + i * (64 << 10)) for i, p in enumerate(pieces)]
    for c in cookies:
        while not h.aio_command_completed(c):
            h.poll(-1)
    expect(h.pread(64 * (64 << 10), 32 * MiB) == b"".join(pieces), "64 pipelined writes")

    # Refusals.
    expect_errno(lambda: h.pwrite(b"x" * 4096, size - 2048), errno.ENOSPC,
                 "write past the end")
    expect_errno(lambda: h.pread(4096, size), errno.EINVAL, "read past the end")
    for conn in (h, h2, h3):
        conn.shutdown()


def crash_write(uri, state, seed):
    h = connect(uri)
    size = h.get_size()
    batches = size // BATCH_BYTES
    piece = BATCH_BYTES // BATCH_WRITES
    for i in range(batches):
        data = random.Random(seed * 1000003 + i).randbytes(BATCH_BYTES)
        try:
            cookies = [h.aio_pwrite(data[j * piece:(j + 1) * piece], i * BATCH_BYTES + j * piece)
                       for j in range(BATCH_WRITES)]
            for c in cookies:
                while not h.aio_command_completed(c):
                    h.poll(-1)
            h.flush()
        except nbd.Error as e:
            print(f"crash-write: batch {i} failed after the crash: {e}", flush=True)
            return
        with open(state + ".tmp", "w") as f:
            f.write(str(i))
            f.flush()
            os.fsync(f.fileno())
        os.replace(state + ".tmp", state)
    print(f"crash-write: all {batches} batches written before the crash", flush=True)


def crash_verify(uri, state, seed):
    last = int(open(state).read()) if os.path.exists(state) else -1
    expect(last >= 0, f"at least one flushed batch before the crash (last {last})")
    h = connect(uri)
    bad = []
    for i in range(last + 1):
        want = random.Random(seed * 1000003 + i).randbytes(BATCH_BYTES)
        if h.pread(BATCH_BYTES, i * BATCH_BYTES) != want:
            bad.append(i)
    expect(not bad, f"all {last + 1} flushed batches intact after SIGKILL and restart "
                    f"(bad: {bad[:10]})")
    h.shutdown()


def main():
    mode = sys.argv[1]
    if mode == "semantics":
        semantics(sys.argv[2])
    elif mode == "crash-write":
        crash_write(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif mode == "crash-verify":
        crash_verify(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
