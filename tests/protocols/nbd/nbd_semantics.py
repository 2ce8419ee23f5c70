"""Protocol semantics of zerofs-nbd checked through libnbd's Python bindings (nbdsh's
library): structured replies, TRIM, WRITE_ZEROES with NO_HOLE and FAST_ZERO, FUA, FLUSH,
CACHE, errno of refused requests, many requests in flight, and several connections.

usage: nbd_semantics.py URI   (URI = nbd://127.0.0.1:PORT or nbd+unix:///?socket=PATH)
The server must serve: disk (64M), slowzero (16M, slow-zero), aligned (16M, min-block=512),
ro (1M, read-only). Exits non-zero on the first failed expectation.
"""
import errno
import os
import sys

import nbd

BASE = sys.argv[1]
MiB = 1 << 20


def uri(name):
    if BASE.startswith("nbd+unix"):
        query = BASE.partition("?")[2]
        return f"nbd+unix:///{name}?{query}"
    return f"{BASE}/{name}"


def connect(name, strict=True):
    h = nbd.NBD()
    h.set_request_structured_replies(True)
    if not strict:
        h.set_strict_mode(0)  # send what libnbd would refuse, to see the server's answer
    h.connect_uri(uri(name))
    return h


def expect(cond, what):
    if not cond:
        print(f"FAIL: {what}")
        sys.exit(1)
    print(f"ok: {what}")


def expect_errno(fn, want, what):
    try:
        fn()
    except nbd.Error as e:
        expect(e.errnum == want, f"{what}: {errno.errorcode.get(e.errnum, e.errnum)}")
        return
    expect(False, f"{what}: succeeded, expected {errno.errorcode[want]}")


def chunks_of(h, count, offset, flags=0):
    seen = []

    def chunk(subbuf, off, status, err):
        seen.append((status, off, len(subbuf)))
        return 0

    h.pread_structured(count, offset, chunk, flags)
    return seen


h = connect("disk")
size = h.get_size()
expect(size == 64 * MiB, "size of disk is 64 MiB")
expect(h.get_structured_replies_negotiated(), "structured replies negotiated")
for name in ("can_flush", "can_fua", "can_trim", "can_zero", "can_fast_zero", "can_cache",
             "can_multi_conn", "can_df"):
    expect(getattr(h, name)(), name)
expect(not h.is_read_only(), "disk is writable")

# Plain and FUA writes, read back, FLUSH, CACHE.
data = os.urandom(4 * MiB)
h.pwrite(data, 0)
h.pwrite(b"F" * 65536, 8 * MiB, nbd.CMD_FLAG_FUA)
expect(h.pread(4 * MiB, 0) == data, "4 MiB written and read back")
expect(h.pread(65536, 8 * MiB) == b"F" * 65536, "FUA write read back")
h.flush()
expect(True, "FLUSH")
h.cache(MiB, 0)
expect(True, "CACHE")

# Structured replies are used for reads: a sparse range arrives as data + hole chunks.
h.zero(2 * MiB, 16 * MiB)
h.pwrite(b"d" * 65536, 16 * MiB)
chunks = chunks_of(h, 2 * MiB, 16 * MiB)
expect(any(s == nbd.READ_DATA for s, _, _ in chunks), "structured read has a data chunk")
expect(any(s == nbd.READ_HOLE for s, _, _ in chunks), "structured read reports the hole")
expect(sum(n for _, _, n in chunks) == 2 * MiB, "chunks cover the whole read")
df = chunks_of(h, 2 * MiB, 16 * MiB, nbd.CMD_FLAG_DF)
expect(len(df) == 1 and df[0][0] == nbd.READ_DATA, "DF read comes as one data chunk")

# TRIM and WRITE_ZEROES (plain, NO_HOLE, FAST_ZERO) leave zeroes.
zeros = bytes(MiB)
h.trim(MiB, 0)
expect(h.pread(MiB, 0) == zeros, "trimmed range reads as zeroes")
h.pwrite(data[:MiB], 0)
h.zero(MiB, 0, nbd.CMD_FLAG_NO_HOLE)
expect(h.pread(MiB, 0) == zeros, "WRITE_ZEROES with NO_HOLE")
h.pwrite(data[:MiB], 0)
h.zero(MiB, 0, nbd.CMD_FLAG_FAST_ZERO)
expect(h.pread(MiB, 0) == zeros, "WRITE_ZEROES with FAST_ZERO on a fast device")
h.pwrite(data[:MiB], 0)
h.zero(MiB, 0, nbd.CMD_FLAG_FUA)
expect(h.pread(MiB, 0) == zeros, "WRITE_ZEROES with FUA")

slow = connect("slowzero")
expect(slow.can_fast_zero(), "slowzero still advertises FAST_ZERO (to answer ENOTSUP)")
slow.pwrite(b"s" * 65536, 0)
expect_errno(lambda: slow.zero(65536, 0, nbd.CMD_FLAG_FAST_ZERO), errno.ENOTSUP,
             "FAST_ZERO on a slow-zero device")
expect(slow.pread(65536, 0) == b"s" * 65536, "failed FAST_ZERO left the data alone")
slow.zero(65536, 0)
expect(slow.pread(65536, 0) == bytes(65536), "WRITE_ZEROES without FAST_ZERO still zeroes")
slow.shutdown()

# Refused requests carry the protocol's errno (libnbd's own checks turned off).
raw = connect("disk", strict=False)
expect_errno(lambda: raw.pread(4096, size), errno.EINVAL, "read past the end")
expect_errno(lambda: raw.pread(8192, size - 4096), errno.EINVAL, "read across the end")
expect_errno(lambda: raw.pwrite(b"ab", size - 1), errno.ENOSPC, "write across the end")
expect_errno(lambda: raw.zero(4096, size), errno.ENOSPC, "WRITE_ZEROES past the end")
expect_errno(lambda: raw.trim(4096, size), errno.EINVAL, "TRIM past the end")
expect_errno(lambda: raw.pread(33 * MiB, 0), errno.EINVAL, "read above the maximum block size")
expect(raw.pread(4, 8 * MiB) == b"FFFF", "connection still usable after the errors")
raw.shutdown()

aligned = connect("aligned", strict=False)
expect(aligned.get_block_size(nbd.SIZE_MINIMUM) == 512, "minimum block size 512 advertised")
expect(aligned.get_block_size(nbd.SIZE_MAXIMUM) == 32 * MiB, "maximum block size 32 MiB")
expect_errno(lambda: aligned.pread(100, 0), errno.EINVAL, "misaligned length")
expect_errno(lambda: aligned.pwrite(b"x" * 512, 100), errno.EINVAL, "misaligned offset")
aligned.pwrite(b"y" * 512, 512)
expect(aligned.pread(512, 512) == b"y" * 512, "aligned I/O works")
aligned.shutdown()

ro = connect("ro", strict=False)
expect(ro.is_read_only(), "ro is read-only")
expect_errno(lambda: ro.pwrite(b"x", 0), errno.EPERM, "write to a read-only export")
expect_errno(lambda: ro.trim(512, 0), errno.EPERM, "TRIM on a read-only export")
ro.shutdown()

# Many requests in flight at once, completing in any order.
blocks = [os.urandom(65536) for _ in range(256)]
cookies = [h.aio_pwrite(b, i * 65536) for i, b in enumerate(blocks)]
peak = h.aio_in_flight()
while h.aio_in_flight() > 0:
    h.poll(-1)
expect(all(h.aio_command_completed(c) for c in cookies), "256 pipelined writes completed")
bufs = [nbd.Buffer(65536) for _ in blocks]
reads = [h.aio_pread(b, i * 65536) for i, b in enumerate(bufs)]
while h.aio_in_flight() > 0:
    h.poll(-1)
expect(all(h.aio_command_completed(c) for c in reads), "256 pipelined reads completed")
expect(all(b.to_bytearray() == blk for b, blk in zip(bufs, blocks)),
       f"256 pipelined writes then reads agree (up to {peak} in flight)")

# Two connections to one export (CAN_MULTI_CONN): a flush on one covers what the other reads.
h2 = connect("disk")
payload = os.urandom(MiB)
h.pwrite(payload, 32 * MiB)
h.flush()
expect(h2.pread(MiB, 32 * MiB) == payload, "second connection sees the first one's write")
h2.pwrite(payload[::-1], 40 * MiB, nbd.CMD_FLAG_FUA)
expect(h.pread(MiB, 40 * MiB) == payload[::-1], "first connection sees the second one's FUA write")
h2.shutdown()

# NBD_OPT_INFO and NBD_OPT_LIST in option mode, then GO.
o = nbd.NBD()
o.set_opt_mode(True)
o.set_full_info(True)
o.connect_uri(uri("ro"))
names = []
o.opt_list(lambda name, desc: names.append(name) or 0)
expect(sorted(names) == ["aligned", "disk", "ro", "slowzero"], f"NBD_OPT_LIST: {names}")
o.set_export_name("slowzero")
o.opt_info()
expect(o.get_size() == 16 * MiB, "NBD_OPT_INFO reports the size")
expect("memory export" in o.get_export_description(), "NBD_OPT_INFO reports the description")
o.set_export_name("nope")
try:
    o.opt_info()
    expect(False, "NBD_OPT_INFO of a missing export fails")
except nbd.Error:
    expect(True, "NBD_OPT_INFO of a missing export fails")
o.set_export_name("disk")
o.opt_go()
expect(o.get_size() == 64 * MiB and o.pread(MiB, 32 * MiB) == payload, "NBD_OPT_GO after INFO")
o.shutdown()
h.shutdown()
print("all semantics checks passed")
