#!/usr/bin/env python3
"""Rebuild vector.profile from the inputs in vector.json, independently of
the Go code, following docs/FORMAT.md (profile section).

Needs the Python `cryptography` package (>= 44, for Argon2id). XChaCha20 is
HChaCha20 (written out below) followed by ChaCha20-Poly1305 (RFC 7539).
Usage: python3 check_vector.py [vector.json]
"""
import hashlib, json, struct, sys, pathlib
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

def rotl(v, n):
    return ((v << n) & 0xffffffff) | (v >> (32 - n))

def hchacha20(key, nonce16):
    s = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]
    s += list(struct.unpack("<8I", key)) + list(struct.unpack("<4I", nonce16))
    def qr(a, b, c, d):
        s[a] = (s[a] + s[b]) & 0xffffffff; s[d] = rotl(s[d] ^ s[a], 16)
        s[c] = (s[c] + s[d]) & 0xffffffff; s[b] = rotl(s[b] ^ s[c], 12)
        s[a] = (s[a] + s[b]) & 0xffffffff; s[d] = rotl(s[d] ^ s[a], 8)
        s[c] = (s[c] + s[d]) & 0xffffffff; s[b] = rotl(s[b] ^ s[c], 7)
    for _ in range(10):
        qr(0, 4, 8, 12); qr(1, 5, 9, 13); qr(2, 6, 10, 14); qr(3, 7, 11, 15)
        qr(0, 5, 10, 15); qr(1, 6, 11, 12); qr(2, 7, 8, 13); qr(3, 4, 9, 14)
    return struct.pack("<8I", *(s[0:4] + s[12:16]))

def record(tag, value):
    return bytes([tag]) + struct.pack(">H", len(value)) + value if value else b""

path = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).with_name("vector.json"))
v = json.loads(path.read_text())
kdf = v["kdf"]
salt, nonce = bytes.fromhex(v["salt"]), bytes.fromhex(v["nonce"])

payload = b"".join([
    record(0x01, bytes.fromhex(v["master_key"])),
    record(0x02, v["access_key_id"].encode()),
    record(0x03, v["secret_access_key"].encode()),
    record(0x04, v["bucket"].encode()),
    record(0x05, v["region"].encode()),
    record(0x06, v["endpoint"].encode()),
    record(0x07, v["prefix"].encode()),
    record(0x08, b"\x01" if v["path_style"] else b""),
])
assert payload.hex() == v["payload"], "payload differs"

header = b"OGIVEPRF" + bytes([0x02, 0x01]) + struct.pack(">IIB", kdf["time"], kdf["memory_kib"], kdf["threads"]) + salt + nonce
assert len(header) == 59
key = Argon2id(salt=salt, length=32, iterations=kdf["time"], lanes=kdf["threads"], memory_cost=kdf["memory_kib"]).derive(v["password"].encode())
subkey = hchacha20(key, nonce[:16])
ciphertext = ChaCha20Poly1305(subkey).encrypt(b"\0\0\0\0" + nonce[16:], payload, header)
body = header + ciphertext
file = body + hashlib.sha256(body).digest()
assert file.hex() == v["file"], "file differs"
assert file == path.with_name("vector.profile").read_bytes(), "vector.profile differs"
print("ok: vector.json and vector.profile match the documented format")
