#!/usr/bin/env python3
"""Rebuild testdata/profile/paper-vector.txt from docs/FORMAT.md, section 4,
with no ogive code, and compare. Run from the repository root:

    python3 testdata/profile/check_paper_vector.py
"""
import base64
import hashlib
import json
import struct
import sys

RFC4648 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def crockford(data: bytes) -> str:
    text = base64.b32encode(data).decode().rstrip("=")
    return text.translate(str.maketrans(RFC4648, CROCKFORD))


def check_chars(digest: bytes, n: int) -> str:
    return crockford(digest)[:n]


def field(name: str, value: str) -> str:
    return name + ":" + " " * max(1, 16 - len(name) - 1) + value + "\n"


def quote(s: str) -> str:
    # Enough of Go's strconv.Quote for the vector's plain ASCII values.
    assert all(0x20 <= ord(c) < 0x7F for c in s)
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main() -> int:
    v = json.load(open("testdata/profile/vector.json"))
    key = bytes.fromhex(v["master_key"])
    block = key + hashlib.sha256(b"ogive paper key check" + key).digest()[:8]
    chars = crockford(block)
    assert len(chars) == 64

    out = (
        "# ogive recovery sheet\n"
        "# It holds the master key of an ogive profile: whoever has it can decrypt\n"
        "# every archive. Keep it as safe as the profile. It holds no AWS key.\n"
        "# Rebuild the profile with: ogive init --recover --sheet FILE\n"
    )
    out += field("format", "ogive-paper-1")
    for i in range(4):
        data = chars[16 * i:16 * (i + 1)]
        check = check_chars(hashlib.sha256(b"ogive paper key line" + bytes([i + 1]) + data.encode()).digest(), 2)
        groups = " ".join(data[g:g + 4] for g in range(0, 16, 4))
        out += field("key %d" % (i + 1), groups + "  " + check)

    settings = b"ogive paper settings"
    for name in ("bucket", "region", "endpoint", "prefix"):
        value = v[name].encode()
        settings += struct.pack(">I", len(value)) + value
    settings += bytes([int(v["path_style"]), 0])  # path-style, 2019 archives
    for name in ("bucket", "region", "endpoint", "prefix"):
        out += field(name, quote(v[name]))
    out += field("path-style", "yes" if v["path_style"] else "no")
    out += field("2019 archives", "no")
    out += field("settings check", check_chars(hashlib.sha256(settings).digest(), 4))

    want = open("testdata/profile/paper-vector.txt").read()
    if out != want:
        sys.stdout.write(out)
        print("paper-vector.txt differs from the sheet rebuilt from FORMAT.md §4", file=sys.stderr)
        return 1
    print("paper-vector.txt matches FORMAT.md §4")
    return 0


if __name__ == "__main__":
    sys.exit(main())
