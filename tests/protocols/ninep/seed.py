#!/usr/bin/env python3
"""Creates a small tree on a 9P2000.L server: hello.txt, docs/inner.txt and a 300000-byte
big.bin. A deliberately independent encoder (struct, little-endian) so that the e2e test
does not only check the server against its own codec."""
import socket
import struct
import sys

TVERSION, TATTACH, TWALK, TLCREATE, TWRITE, TCLUNK, TMKDIR = 100, 104, 110, 14, 118, 120, 72
RLERROR = 7
NOFID = 0xFFFFFFFF


def s(text):
    b = text.encode()
    return struct.pack("<H", len(b)) + b


class Client:
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=10)
        self.tag = 0

    def call(self, mtype, body, tag=None):
        if tag is None:
            self.tag += 1
            tag = self.tag
        self.sock.sendall(struct.pack("<IBH", 7 + len(body), mtype, tag) + body)
        head = self.recv(7)
        size, rtype, rtag = struct.unpack("<IBH", head)
        payload = self.recv(size - 7)
        if rtag != tag:
            sys.exit(f"reply tag {rtag} != {tag}")
        if rtype == RLERROR:
            sys.exit(f"type {mtype}: Rlerror {struct.unpack('<I', payload)[0]}")
        if rtype != mtype + 1:
            sys.exit(f"type {mtype}: unexpected reply type {rtype}")
        return payload

    def recv(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                sys.exit("server closed the connection")
            out += chunk
        return out


def main():
    c = Client(sys.argv[1], int(sys.argv[2]))
    r = c.call(TVERSION, struct.pack("<I", 65536) + s("9P2000.L"), tag=0xFFFF)
    msize = struct.unpack("<I", r[:4])[0]
    c.call(TATTACH, struct.pack("<II", 0, NOFID) + s("root") + s("") + struct.pack("<I", 0))

    def create(dir_names, name, data):
        c.call(TWALK, struct.pack("<IIH", 0, 1, len(dir_names)) + b"".join(s(n) for n in dir_names))
        c.call(TLCREATE, struct.pack("<I", 1) + s(name) + struct.pack("<III", 0o1101, 0o644, 0))
        chunk = msize - 24
        for off in range(0, len(data), chunk):
            piece = data[off:off + chunk]
            r = c.call(TWRITE, struct.pack("<IQI", 1, off, len(piece)) + piece)
            assert struct.unpack("<I", r)[0] == len(piece)
        c.call(TCLUNK, struct.pack("<I", 1))

    create([], "hello.txt", b"hello from zerofs-9p")
    c.call(TMKDIR, struct.pack("<I", 0) + s("docs") + struct.pack("<II", 0o755, 0))
    create(["docs"], "inner.txt", b"inner file\n")
    create([], "big.bin", bytes((i * 7) % 251 for i in range(300000)))
    c.call(TCLUNK, struct.pack("<I", 0))


if __name__ == "__main__":
    main()
