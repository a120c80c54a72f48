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


def open_id(master, id_text):
    """Open a storage ID of version 2 or 3 as docs/FORMAT.md §1.2 says.

    Returns (name, mode, (seconds, nanoseconds)), mode and time None when not recorded,
    or None if the ID must be refused.
    """
    try:
        raw = base64.urlsafe_b64decode(id_text + "=" * (-len(id_text) % 4))
    except ValueError:
        return None
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != id_text:
        return None
    if len(id_text) > 1024 or len(raw) < 34 or raw[0] not in (2, 3):
        return None
    name_key = hkdf(master, raw[1:17], "ogive v2 name key", 32)
    try:
        plain = AESGCM(name_key).decrypt(b"\x00" * 12, raw[17:], raw[:17])
    except Exception:
        return None
    mode = mtime = None
    if raw[0] == 3:
        flags, plain = plain[0], plain[1:]
        if flags == 0 or flags & ~0x07:  # bit 2: a directory archive (§7)
            return None
        if flags & 0x01:
            if len(plain) < 2:
                return None
            mode, plain = struct.unpack(">H", plain[:2])[0], plain[2:]
            if mode > 0o7777:
                return None
        if flags & 0x02:
            if len(plain) < 12:
                return None
            mtime, plain = struct.unpack(">qI", plain[:12]), plain[12:]
            if mtime[1] >= 10**9:
                return None
    try:
        name = plain.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if name in ("", ".", "..") or "/" in name or "\0" in name:
        return None
    return name, mode, mtime


def storage_id_v3(name_key, salt, name, mode, mtime, tree=False):
    flags = (0x01 if mode is not None else 0) | (0x02 if mtime is not None else 0) | (0x04 if tree else 0)
    block = bytes([flags])
    if mode is not None:
        block += struct.pack(">H", mode)
    if mtime is not None:
        block += struct.pack(">qI", *mtime)
    header = b"\x03" + salt
    plain = block + name.encode()
    raw = header + AESGCM(name_key).encrypt(b"\x00" * 12, plain, header)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode(), plain


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


def decrypt(data_key, nonce, ct):
    """Decrypt a whole stream as docs/FORMAT.md §1.3 says; None if it must be refused."""
    payload, seq = b"", 0
    while True:
        if len(ct) < 16:
            return None
        header = ct[:16]
        length = struct.unpack("<H", header[2:4])[0] + 1
        final = header[4] & 0x80 != 0
        want = bytearray(nonce)
        want[0] = (want[0] & 0x7F) | (header[4] & 0x80)
        # The header-nonce rule: every header carries N, final flag aside.
        if header[:2] != b"\x20\x00" or header[4:16] != bytes(want) or len(ct) < 32 + length:
            return None
        if not final and length != PACKAGE:
            return None
        aead_nonce = header[4:12] + struct.pack("<I", struct.unpack("<I", header[12:16])[0] ^ seq)
        try:
            payload += AESGCM(data_key).decrypt(aead_nonce, ct[16:32 + length], header[:4])
        except Exception:
            return None
        ct, seq = ct[32 + length:], seq + 1
        if final:
            if ct or payload[-1:] != b"\x01":
                return None
            return payload[:-1]


def main():
    path = pathlib.Path(__file__).with_name("vectors.json")
    doc = json.loads(path.read_text())
    keys = {}
    for v in doc["vectors"]:
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
        if decrypt(data_key, nonce, ct) != plain:
            sys.exit(f"{v['name']}: the specification's decryptor does not give the plaintext")
        keys[v["name"]] = (data_key, nonce)
        print(f"{v['name']}: ok")
    for r in doc["must_fail"]:
        data_key, nonce = keys[r["vector"]]
        ct = bytes.fromhex(r["ciphertext"])
        # AES-GCM alone, with the AEAD nonce from the header as stored, accepts it...
        plain = AESGCM(data_key).decrypt(ct[4:16], ct[16:], ct[:4])
        if plain != bytes.fromhex(r["plaintext_without_the_check"]) + b"\x01":
            sys.exit(f"{r['name']}: not the relabelled stream it claims to be")
        # ...and the header-nonce rule refuses it.
        if decrypt(data_key, nonce, ct) is not None:
            sys.exit(f"{r['name']}: accepted, but must fail")
        print(f"{r['name']}: refused, ok")
    for v in doc["ids"]:
        master, salt = bytes.fromhex(v["master_key"]), bytes.fromhex(v["salt"])
        name_key = hkdf(master, salt, "ogive v2 name key", 32)
        mode = int(v["mode"], 8) if "mode" in v else None
        mtime = (v["mtime_seconds"], v["mtime_nanoseconds"]) if "mtime_seconds" in v else None
        tree = v.get("tree", False)
        id_text, plain = storage_id_v3(name_key, salt, v["filename"], mode, mtime, tree)
        if v["name_key"] != name_key.hex() or v["sealed_plaintext"] != plain.hex() or v["storage_id"] != id_text:
            sys.exit(f"{v['name']}: differs from the specification")
        if tree and (v["index_key"] != hkdf(master, salt, "ogive v2 index key", 32).hex()
                     or v["index_nonce"] != hkdf(master, salt, "ogive v2 index nonce", 12).hex()):
            sys.exit(f"{v['name']}: index keys differ from the specification (§7.2)")
        if open_id(master, id_text) != (v["filename"], mode, mtime):
            sys.exit(f"{v['name']}: the specification's reader does not open it")
        print(f"{v['name']}: ok")
    for r in doc["ids_must_fail"]:
        master = bytes.fromhex(r["master_key"])
        if "gcm_plaintext" in r:
            # It authenticates: only the rules on the metadata block refuse it.
            raw = base64.urlsafe_b64decode(r["storage_id"] + "=" * (-len(r["storage_id"]) % 4))
            name_key = hkdf(master, raw[1:17], "ogive v2 name key", 32)
            if AESGCM(name_key).decrypt(b"\x00" * 12, raw[17:], raw[:17]).hex() != r["gcm_plaintext"]:
                sys.exit(f"{r['name']}: does not authenticate as it claims")
        if open_id(master, r["storage_id"]) is not None:
            sys.exit(f"{r['name']}: accepted, but must fail")
        print(f"{r['name']}: refused, ok")


if __name__ == "__main__":
    main()
