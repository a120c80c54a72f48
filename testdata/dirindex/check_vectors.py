#!/usr/bin/env python3
"""Rebuild the hex of testdata/dirindex/vectors.json from its fields, by docs/FORMAT.md §7.3
alone, with no ogive code, and check the example of §7.3 the same way.

Standard library only. Run from anywhere:
    python3 testdata/dirindex/check_vectors.py
Exits non-zero on the first difference.
"""
import hashlib
import json
import pathlib
import re
import struct
import sys

HERE = pathlib.Path(__file__).resolve().parent
FORMAT = HERE.parent.parent / "docs" / "FORMAT.md"


def encode(ix):
    out = b"ogiveidx" + bytes([1])
    id_ = ix["id"].encode("ascii")
    out += struct.pack(">H", len(id_)) + id_
    out += struct.pack(">QI", ix["stream_size"], len(ix["entries"]))
    for e in ix["entries"]:
        out += struct.pack(">BHqIIIQIQ", e["kind"], e["mode"], e["seconds"], e["nanoseconds"],
                           e["uid"], e["gid"], e["offset"], e["header_length"], e["size"])
        if e["kind"] == 1:
            out += bytes.fromhex(e["sha256"])
        for field, width in (("path", "H"), ("link", "H"), ("uname", "B"), ("gname", "B")):
            v = e[field].encode("utf-8", "surrogateescape")
            out += struct.pack(">" + width, len(v)) + v
    return out


def check_tiling(ix):
    off = 0
    for e in ix["entries"]:
        if e["offset"] != off:
            sys.exit(f"{e['path']}: offset {e['offset']}, not {off}")
        off += e["header_length"] + (e["size"] + 511) // 512 * 512
    if ix["stream_size"] != off + 1024:
        sys.exit(f"stream size {ix['stream_size']}, not {off + 1024}")


def main():
    v = json.loads((HERE / "vectors.json").read_text())
    check_tiling(v["index"])
    got = encode(v["index"]).hex()
    if got != v["hex"]:
        sys.exit(f"vectors.json: the fields encode to\n{got}\nnot\n{v['hex']}")
    for e in v["index"]["entries"]:
        if e["path"] == "photos/a.txt" and e["sha256"] != hashlib.sha256(b"hello\n").hexdigest():
            sys.exit("photos/a.txt: wrong sha256")

    # FORMAT.md §7.3's example: the index of its prose, and its "index:" block.
    doc = FORMAT.read_text()
    section = doc[doc.index("### 7.3 Index plaintext"):]
    block = re.search(r"^index:(.*?)^```", section, re.S | re.M).group(1)
    want = "".join(block.split())
    sha = hashlib.sha256(b"hello world\n").hexdigest()
    common = {"mode": 0o755, "seconds": 1700000000, "nanoseconds": 0, "uid": 1000, "gid": 100,
              "header_length": 512, "link": "", "uname": "ann", "gname": "users"}
    example = {"id": "A-example-storage-id", "stream_size": 2560, "entries": [
        dict(common, kind=2, offset=0, size=0, path="docs"),
        dict(common, kind=1, mode=0o644, offset=512, size=12, sha256=sha, path="docs/a.txt"),
    ]}
    check_tiling(example)
    got = encode(example).hex()
    if got != want:
        sys.exit(f"FORMAT.md §7.3 example: the prose encodes to\n{got}\nthe block is\n{want}")
    print("ok")


if __name__ == "__main__":
    main()
