#!/usr/bin/env python3
#
# A second implementation of doc/protocol.md (handshake, session keys,
# records, re-keying), written from the document alone with Python's
# hashlib and the 'cryptography' package (Debian: python3-cryptography).
# It computes the test vectors from their inputs and compares them with
# regress/wire_vectors.h, which regress/wire_test.c checks against
# common/wire.c and against the document.
#
#	regress/wire_vectors.py [path/to/wire_vectors.h]
#
# Exits 0 when every value agrees, 1 otherwise.

import hashlib
import os
import re
import struct
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import \
    Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import \
    X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

RAW = dict(encoding=serialization.Encoding.Raw,
           format=serialization.PublicFormat.Raw)
ZERO_NONCE = bytes(12)


def H(m):
    return hashlib.blake2b(m, digest_size=64).digest()


def KDF(key, label, h=b""):
    return hashlib.blake2b(label + h, digest_size=32, key=key).digest()


def AEAD(k, nonce, ad, pt):
    return ChaCha20Poly1305(k).encrypt(nonce, pt, ad)


def x25519_pub(sk):
    return X25519PrivateKey.from_private_bytes(sk).public_key() \
        .public_bytes(**RAW)


def DH(sk, pk):
    out = X25519PrivateKey.from_private_bytes(sk).exchange(
        X25519PublicKey.from_public_bytes(pk))
    assert out != bytes(32)
    return out


def ident(pk, role, name):
    return pk + bytes([role, len(name)]) + name


def record(key, ctr, inner, data):
    hdr = b"\x10" + struct.pack(">Q", ctr)
    nonce = bytes(4) + struct.pack(">Q", ctr)
    return hdr + AEAD(key, nonce, hdr, bytes([inner]) + data)


def load(path):
    src = open(path).read()
    vec = {}
    for name, body in re.findall(r'\{ "(\w+)",\s*((?:"[0-9a-f]*"\s*)+)\}',
                                 src):
        vec[name] = bytes.fromhex("".join(re.findall(r'"([0-9a-f]*)"',
                                                     body)))
    return vec


def compute(v):
    out = {}
    key_i = Ed25519PrivateKey.from_private_bytes(v["seed_i"])
    key_r = Ed25519PrivateKey.from_private_bytes(v["seed_r"])
    pk_i = key_i.public_key().public_bytes(**RAW)
    pk_r = key_r.public_key().public_bytes(**RAW)
    e_i, e_r = x25519_pub(v["e_sk_i"]), x25519_pub(v["e_sk_r"])
    id_i = ident(pk_i, 1, b"controller-1")
    id_r = ident(pk_r, 2, b"rig-07")
    dh = DH(v["e_sk_r"], e_i)
    assert dh == DH(v["e_sk_i"], e_r)

    T = b"lethd handshake v1"
    hs1 = bytes([0x01, 0x01]) + e_i + v["random"]
    T += hs1
    T += b"\x02" + e_r
    h2 = H(T)
    k2 = KDF(dh, b"lethd hs2", h2)
    T += id_r
    th_r = H(T)
    sig_r = key_r.sign(b"lethd handshake v1 responder" + th_r)
    c2 = AEAD(k2, ZERO_NONCE, h2, id_r + sig_r)
    hs2 = b"\x02" + e_r + c2
    T += c2 + b"\x03"
    h3 = H(T)
    k3 = KDF(dh, b"lethd hs3", h3)
    T += id_i
    th_i = H(T)
    sig_i = key_i.sign(b"lethd handshake v1 initiator" + th_i)
    c3 = AEAD(k3, ZERO_NONCE, h3, id_i + sig_i)
    hs3 = b"\x03" + c3
    T += c3
    th = H(T)
    i2r = KDF(dh, b"lethd i2r", th)
    r2i = KDF(dh, b"lethd r2i", th)
    nxt = KDF(i2r, b"lethd rekey")

    out.update(pk_i=pk_i, pk_r=pk_r, e_pk_i=e_i, e_pk_r=e_r, hs1=hs1,
               dh=dh, h2=h2, k2=k2, th_r=th_r, sig_r=sig_r, hs2=hs2, h3=h3,
               k3=k3, th_i=th_i, sig_i=sig_i, hs3=hs3, th_final=th,
               k_i2r=i2r, k_r2i=r2i, k_i2r_next=nxt)
    out["rec_i2r_0"] = record(i2r, 0, 0, b"hello, responder")
    out["rec_r2i_0"] = record(r2i, 0, 0, b"hello, initiator")
    out["rec_i2r_rekey"] = record(i2r, 1, 1, b"")
    out["rec_i2r_next_0"] = record(nxt, 0, 0, b"after rekey")
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    path = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.join(here, "wire_vectors.h")
    vec = load(path)
    got = compute(vec)
    inputs = ("seed_i", "seed_r", "e_sk_i", "e_sk_r", "random")
    bad = 0
    for name in vec:
        if name in inputs:
            continue
        if name not in got:
            print("%s: not computed here" % name)
            bad = 1
        elif got[name] != vec[name]:
            print("%s differs:\n  vector %s\n  here   %s" %
                  (name, vec[name].hex(), got[name].hex()))
            bad = 1
    for name in got:
        if name not in vec:
            print("%s: no such vector" % name)
            bad = 1
    if not bad:
        print("all %d vectors agree" % (len(vec) - len(inputs)))
    return bad


if __name__ == "__main__":
    sys.exit(main())
