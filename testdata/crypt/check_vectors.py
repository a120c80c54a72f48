#!/usr/bin/env python3
"""Rebuild testdata/crypt/vectors.json from docs/FORMAT.md §1 alone, with no ogive code.

Needs the `cryptography` package. Run from anywhere:
    python3 testdata/crypt/check_vectors.py
Exits non-zero on the first difference.
"""
import base64
import hashlib
import json
import pathlib
import struct
import sys

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PACKAGE = 65536


def hkdf(master, salt, info, length):
    return HKDF(hashes.SHA256(), length, salt, info.encode()).derive(master)


def storage_id(name_key, salt, name):
    header = b"\x02" + salt
    raw = header + AESGCM(name_key).encrypt(b"\x00" * 12, name.encode(), header)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def stream(data_key, nonce, plain):
    payload = plain + b"\x01"
    chunks = [payload[i:i + PACKAGE] for i in range(0, len(payload), PACKAGE)]
    out = []
    for seq, chunk in enumerate(chunks):
        final = seq == len(chunks) - 1
        h = bytearray(nonce)
        h[0] = (h[0] & 0x7F) | (0x80 if final else 0)
        header = bytes([0x20, 0x00]) + struct.pack("<H", len(chunk) - 1) + bytes(h)
        aead_nonce = bytes(h[:8]) + struct.pack("<I", struct.unpack("<I", bytes(h[8:]))[0] ^ seq)
        out.append(header + AESGCM(data_key).encrypt(aead_nonce, chunk, header[:4]))
    return b"".join(out)


def main():
    path = pathlib.Path(__file__).with_name("vectors.json")
    for v in json.loads(path.read_text())["vectors"]:
        master, salt = bytes.fromhex(v["master_key"]), bytes.fromhex(v["salt"])
        data_key = hkdf(master, salt, "ogive v2 data key", 32)
        name_key = hkdf(master, salt, "ogive v2 name key", 32)
        nonce = hkdf(master, salt, "ogive v2 stream nonce", 12)
        if "plaintext_pattern" in v:
            assert v["plaintext_pattern"] == "byte i = i mod 251"
            plain = bytes(i % 251 for i in range(v["plaintext_size"]))
        else:
            plain = bytes.fromhex(v["plaintext"])
        ct = stream(data_key, nonce, plain)
        checks = {
            "data_key": data_key.hex(),
            "name_key": name_key.hex(),
            "stream_nonce": nonce.hex(),
            "storage_id": storage_id(name_key, salt, v["filename"]),
            "plaintext_size": len(plain),
            "ciphertext_size": len(ct),
            "ciphertext_sha256": hashlib.sha256(ct).hexdigest(),
        }
        if "ciphertext" in v:
            checks["ciphertext"] = ct.hex()
        if "first_package" in v:
            checks["first_package"] = ct[:PACKAGE + 32].hex()
        for field, want in checks.items():
            if v[field] != want:
                sys.exit(f"{v['name']}: {field} differs from the specification")
        print(f"{v['name']}: ok")


if __name__ == "__main__":
    main()
