#!/usr/bin/env python3
#
# netprobe: one bad thing at a time against a running netd, for
# regress/netbad_test.sh.  A client of doc/protocol.md written with the
# standard library and Debian's python3-nacl (nacl.bindings: Ed25519,
# X25519, ChaCha20-Poly1305 IETF); BLAKE2b from hashlib.  Its handshake
# follows regress/wire_vectors.py, the other Python reading of the
# document.
#
#	netprobe.py [-H HOST] -p PORT [-b BIND] [-k KEYFILE] [-t SECONDS]
#	    PROBE [ARGS]
#
# Each probe connects, does its one bad thing and checks that the
# server closed the connection (end of file, a reset, or a close frame
# with the expected code) within the deadline.  It prints "local
# ADDR:PORT" for each connection it makes (the address netd logs), then
# one result line, and exits 0 if the server behaved, 1 with a message
# if not, 2 on a usage error.  `netprobe.py -k FILE pubkey' makes FILE
# (an Ed25519 seed) if missing and prints the public key in base64.

import argparse
import base64
import errno
import hashlib
import json
import os
import select
import socket
import struct
import sys
import time
import uuid

import nacl.bindings as nb
import nacl.exceptions

# --- the protocol (doc/protocol.md) -----------------------------------

DOMAIN = b"lethd handshake v1"
LABEL_R = b"lethd handshake v1 responder"
LABEL_I = b"lethd handshake v1 initiator"
LABEL_MSG = b"lethd message v1"
ZERO_NONCE = bytes(12)
HS1, HS2, HS3, RECORD = 0x01, 0x02, 0x03, 0x10
REC_MESSAGE, REC_REKEY = 0x00, 0x01
ROLE_CONTROLLER = 1
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
SPREAD_BASE = 10	# -b spread: sources 127.0.11.1, 127.0.12.1, ...

# Close codes (RFC 6455, 7.4.1) the probes expect.
CLOSE_NORMAL = 1000
CLOSE_PROTOCOL = 1002
CLOSE_UNSUPPORTED = 1003
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009


def H(m):
    return hashlib.blake2b(m, digest_size=64).digest()


def KDF(key, label, h=b""):
    return hashlib.blake2b(label + h, digest_size=32, key=key).digest()


def seal(k, nonce, ad, pt):
    return nb.crypto_aead_chacha20poly1305_ietf_encrypt(pt, ad, nonce, k)


def unseal(k, nonce, ad, ct):
    return nb.crypto_aead_chacha20poly1305_ietf_decrypt(ct, ad, nonce, k)


def sign(sk, m):
    return nb.crypto_sign(m, sk)[:64]


def verify(pk, sig, m):
    try:
        nb.crypto_sign_open(sig + m, pk)
        return True
    except nacl.exceptions.BadSignatureError:
        return False


def ident(pk, role, name):
    return pk + bytes([role, len(name)]) + name


def node_id(pk):
    return pk[:16].hex()


class Key:
    """An Ed25519 node key from a 32-byte seed."""

    def __init__(self, seed=None):
        self.seed = seed if seed is not None else os.urandom(32)
        self.pk, self.sk = nb.crypto_sign_seed_keypair(self.seed)

    @classmethod
    def load(cls, path):
        if not os.path.exists(path):
            with open(path, "w") as f:
                f.write(os.urandom(32).hex() + "\n")
        with open(path) as f:
            return cls(bytes.fromhex(f.read().strip()))

    def b64(self):
        return base64.b64encode(self.pk).decode()


class ProbeFailed(Exception):
    pass


class Closed(Exception):
    """The server closed while we expected more: how, and the code."""

    def __init__(self, how, code=None):
        Exception.__init__(self, how)
        self.how = how
        self.code = code


# --- a WebSocket client on a plain socket -----------------------------

class WS:
    def __init__(self, args, bind=None):
        self.args = args
        self.buf = b""
        self.upgraded = False
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        src = bind if bind is not None else args.bind
        if src == "spread":
            # each connection from its own address in its own /24
            args.spread = getattr(args, "spread", 0) + 1
            src = "127.0.%d.1" % (SPREAD_BASE + args.spread)
        if src:
            self.sock.bind((src, 0))
        self.sock.settimeout(args.timeout)
        self.sock.connect((args.host, args.port))
        la = self.sock.getsockname()
        self.local = "%s:%d" % (la[0], la[1])
        print("local %s" % self.local, flush=True)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        try:
            self.sock.sendall(data)
        except OSError as e:
            if e.errno in (errno.EPIPE, errno.ECONNRESET):
                raise Closed("reset")
            raise

    def upgrade(self, path="/ws", extra=b""):
        key = base64.b64encode(os.urandom(16))
        self.send(b"GET " + path.encode() + b" HTTP/1.1\r\n"
                  b"Host: 127.0.0.1\r\nUpgrade: websocket\r\n"
                  b"Connection: Upgrade\r\nSec-WebSocket-Key: " + key +
                  b"\r\nSec-WebSocket-Version: 13\r\n" + extra + b"\r\n")
        deadline = time.monotonic() + self.args.timeout
        while b"\r\n\r\n" not in self.buf:
            self._fill(deadline)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        if not lines[0].startswith(b"HTTP/1.1 101"):
            raise ProbeFailed("upgrade refused: %r" % lines[0])
        want = base64.b64encode(hashlib.sha1(key + WS_GUID).digest())
        got = None
        for ln in lines[1:]:
            name, _, val = ln.partition(b":")
            if name.strip().lower() == b"sec-websocket-accept":
                got = val.strip()
        if got != want:
            raise ProbeFailed("bad Sec-WebSocket-Accept %r" % got)
        self.upgraded = True

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise ProbeFailed("no answer in %g s" % self.args.timeout)
        r, _, _ = select.select([self.sock], [], [], left)
        if not r:
            raise ProbeFailed("no answer in %g s" % self.args.timeout)
        try:
            d = self.sock.recv(65536)
        except OSError as e:
            if e.errno == errno.ECONNRESET:
                raise Closed("reset")
            raise
        if not d:
            raise Closed("eof")
        self.buf += d

    @staticmethod
    def frame(op, payload, fin=True, rsv=0, mask=True):
        b0 = (0x80 if fin else 0) | (rsv << 4) | op
        n = len(payload)
        mbit = 0x80 if mask else 0
        if n < 126:
            hdr = bytes([b0, mbit | n])
        elif n < 65536:
            hdr = bytes([b0, mbit | 126]) + struct.pack(">H", n)
        else:
            hdr = bytes([b0, mbit | 127]) + struct.pack(">Q", n)
        if not mask:
            return hdr + payload
        mk = os.urandom(4)
        return hdr + mk + bytes(c ^ mk[i % 4] for i, c in
                                enumerate(payload))

    def send_frame(self, op, payload, **kw):
        self.send(self.frame(op, payload, **kw))

    def send_binary(self, payload):
        self.send_frame(0x2, payload)

    def _frame(self, deadline):
        """One whole server frame: (opcode, payload)."""
        while True:
            if len(self.buf) >= 2:
                b0, b1 = self.buf[0], self.buf[1]
                if b1 & 0x80:
                    raise ProbeFailed("server frame is masked")
                n, off = b1 & 0x7f, 2
                if n == 126 and len(self.buf) >= 4:
                    n, off = struct.unpack(">H", self.buf[2:4])[0], 4
                elif n == 127 and len(self.buf) >= 10:
                    n, off = struct.unpack(">Q", self.buf[2:10])[0], 10
                elif n >= 126:
                    off = None
                if off is not None and len(self.buf) >= off + n:
                    payload = self.buf[off:off + n]
                    self.buf = self.buf[off + n:]
                    if not b0 & 0x80:
                        raise ProbeFailed("server sent a fragment")
                    return b0 & 0x0f, payload
            self._fill(deadline)

    def recv_message(self, timeout=None):
        """The next binary message; pings answered on the way."""
        deadline = time.monotonic() + (timeout if timeout is not None
                                       else self.args.timeout)
        while True:
            op, payload = self._frame(deadline)
            if op == 0x2:
                return payload
            if op == 0x9:
                self.send_frame(0xa, payload)
            elif op == 0x8:
                code = struct.unpack(">H", payload[:2])[0] \
                    if len(payload) >= 2 else None
                self._close_reply(payload[:2])
                raise Closed("close", code)
            elif op != 0xa:
                raise ProbeFailed("server sent opcode %#x" % op)

    def _close_reply(self, code_bytes):
        try:
            self.send_frame(0x8, code_bytes)
        except (OSError, Closed):
            pass

    def expect_closed(self, codes=None, timeout=None):
        """
        Wait for the server to end the connection.  With codes, a close
        frame must carry one of them; end of file and a reset are fine
        before the upgrade and for a server that drops at once.
        """
        deadline = time.monotonic() + (timeout if timeout is not None
                                       else self.args.timeout)
        try:
            while True:
                if self.upgraded:
                    self.recv_message(deadline - time.monotonic())
                else:
                    self._fill(deadline)
        except Closed as c:
            if c.how == "close":
                if codes is not None and c.code not in codes:
                    raise ProbeFailed("closed with code %s, not %s" %
                                      (c.code, codes))
                self._drain(deadline)
                return "closed %s" % (c.code if c.code is not None
                                       else "without a code")
            return "closed (%s)" % c.how
        except ProbeFailed as e:
            raise ProbeFailed("still open: %s" % e)

    def _drain(self, deadline):
        """After a close frame: the server drops the TCP connection."""
        try:
            while True:
                self._fill(deadline + 2)
        except (Closed, ProbeFailed):
            pass

    def close_normally(self):
        try:
            self.send_frame(0x8, struct.pack(">H", CLOSE_NORMAL))
            self.expect_closed(timeout=3)
        except (Closed, ProbeFailed, OSError):
            pass
        self.close()


# --- the handshake and records ------------------------------------------

class Session:
    """An initiator's session over a WS, per doc/protocol.md."""

    def __init__(self, ws, key, name=b"netprobe", role=ROLE_CONTROLLER):
        self.ws, self.key, self.name, self.role = ws, key, name, role
        self.peer_pk = None
        self.hs1 = self.hs3 = None
        self.tx_ctr = self.rx_ctr = 0

    def handshake(self, bad_sig=False, hs1=None, hs3=None):
        """
        Run the handshake; bad_sig signs HS3 wrongly; hs1/hs3 replay
        captured messages instead of fresh ones (the result is then
        meaningless: only the server's refusal matters).
        """
        e_sk = os.urandom(32)
        e_i = nb.crypto_scalarmult_base(e_sk)
        rnd = os.urandom(32)
        if hs1 is None:
            hs1 = bytes([HS1, 0x01]) + e_i + rnd
        self.hs1 = hs1
        self.ws.send_binary(hs1)
        hs2 = self.ws.recv_message()
        if len(hs2) < 147 or len(hs2) > 211 or hs2[0] != HS2:
            raise ProbeFailed("bad HS2 (%d bytes)" % len(hs2))
        e_r, c2 = hs2[1:33], hs2[33:]
        dh = nb.crypto_scalarmult(e_sk, e_r)
        T = DOMAIN + hs1 + bytes([HS2]) + e_r
        h2 = H(T)
        k2 = KDF(dh, b"lethd hs2", h2)
        try:
            p2 = unseal(k2, ZERO_NONCE, h2, c2)
        except nacl.exceptions.CryptoError:
            if hs3 is not None:
                p2 = None
            else:
                raise ProbeFailed("HS2 does not open")
        if hs3 is not None:
            self.ws.send_binary(hs3)
            return None
        nlen = p2[33]
        id_r, sig_r = p2[:34 + nlen], p2[34 + nlen:]
        T += id_r
        if not verify(id_r[:32], sig_r, LABEL_R + H(T)):
            raise ProbeFailed("HS2 signature does not verify")
        self.peer_pk = id_r[:32]
        T += c2 + bytes([HS3])
        h3 = H(T)
        k3 = KDF(dh, b"lethd hs3", h3)
        id_i = ident(self.key.pk, self.role, self.name)
        T += id_i
        sig_i = sign(self.key.sk, LABEL_I + H(T))
        if bad_sig:
            sig_i = bytes([sig_i[0] ^ 0x01]) + sig_i[1:]
        c3 = seal(k3, ZERO_NONCE, h3, id_i + sig_i)
        self.hs3 = bytes([HS3]) + c3
        self.ws.send_binary(self.hs3)
        T += c3
        th = H(T)
        self.tx = KDF(dh, b"lethd i2r", th)
        self.rx = KDF(dh, b"lethd r2i", th)
        return self.peer_pk

    def record(self, data, inner=REC_MESSAGE, ctr=None):
        """Seal one record; the counter moves on unless one is given."""
        if ctr is None:
            ctr = self.tx_ctr
            self.tx_ctr += 1
        hdr = bytes([RECORD]) + struct.pack(">Q", ctr)
        return hdr + seal(self.tx, bytes(4) + struct.pack(">Q", ctr), hdr,
                          bytes([inner]) + data)

    def recv(self, timeout=None):
        """The next message record's data (re-keys followed)."""
        while True:
            rec = self.ws.recv_message(timeout)
            if len(rec) < 26 or rec[0] != RECORD:
                raise ProbeFailed("not a record from the server")
            ctr = struct.unpack(">Q", rec[1:9])[0]
            if ctr != self.rx_ctr:
                raise ProbeFailed("server record counter %d, want %d" %
                                  (ctr, self.rx_ctr))
            try:
                pt = unseal(self.rx, bytes(4) + rec[1:9], rec[:9], rec[9:])
            except nacl.exceptions.CryptoError:
                raise ProbeFailed("server record does not open")
            self.rx_ctr += 1
            if pt[0] == REC_REKEY:
                self.rx = KDF(self.rx, b"lethd rekey")
                self.rx_ctr = 0
                continue
            return pt[1:]

    # signed application messages

    def message(self, mtype, payload, to=None, ts=None, mid=None,
                from_=None):
        mid = mid if mid is not None else str(uuid.uuid4())
        body = {"id": mid, "type": mtype,
                "from": from_ if from_ is not None else
                node_id(self.key.pk),
                "to": to if to is not None else node_id(self.peer_pk),
                "ts": ts if ts is not None else int(time.time() * 1000),
                "payload": payload}
        raw = json.dumps(body, separators=(",", ":")).encode()
        return mid, sign(self.key.sk, LABEL_MSG + H(raw)) + raw

    def ping(self, **kw):
        return self.message("ping", {"sentAt": int(time.time() * 1000)},
                            **kw)

    def answer(self, timeout=None):
        """The next application message from the server, verified."""
        data = self.recv(timeout)
        sig, raw = data[:64], data[64:]
        if not verify(self.peer_pk, sig, LABEL_MSG + H(raw)):
            raise ProbeFailed("the server's message signature fails")
        m = json.loads(raw)
        if m.get("from") != node_id(self.peer_pk) or \
                m.get("to") != node_id(self.key.pk):
            raise ProbeFailed("the server's message has from %r to %r" %
                              (m.get("from"), m.get("to")))
        return m

    def expect_pong(self, mid):
        m = self.answer()
        if m.get("type") != "pong" or m.get("replyTo") != mid:
            raise ProbeFailed("wanted the pong to %s, got %s" %
                              (mid, json.dumps(m)))
        return m


# --- the probes ----------------------------------------------------------

PROBES = {}


def probe(name):
    def reg(f):
        PROBES[name] = f
        return f
    return reg


def raw_request(args, data, codes=None):
    ws = WS(args)
    try:
        ws.send(data)
    except Closed:
        return "closed (reset while sending)"
    return ws.expect_closed(codes)


@probe("http-get")
def p_http_get(args):
    """A plain HTTP GET of /ws with no upgrade."""
    return raw_request(args, b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       b"Accept: */*\r\n\r\n")


@probe("garbage")
def p_garbage(args):
    """A request line that is no HTTP."""
    return raw_request(args, b"\x16\x03\x01 HELLO THERE\r\n\r\n")


def upgrade_without(drop=None, key=None):
    h = [b"GET /ws HTTP/1.1", b"Host: 127.0.0.1", b"Upgrade: websocket",
         b"Connection: Upgrade",
         b"Sec-WebSocket-Key: " + (key if key is not None else
                                   base64.b64encode(os.urandom(16))),
         b"Sec-WebSocket-Version: 13"]
    return b"\r\n".join(x for x in h if drop is None or
                        not x.startswith(drop)) + b"\r\n\r\n"


@probe("no-key")
def p_no_key(args):
    """An upgrade with no Sec-WebSocket-Key."""
    return raw_request(args, upgrade_without(drop=b"Sec-WebSocket-Key"))


@probe("bad-key")
def p_bad_key(args):
    """A Sec-WebSocket-Key of 20 random bytes, not 16."""
    return raw_request(args, upgrade_without(
        key=base64.b64encode(os.urandom(20))))


@probe("big-header")
def p_big_header(args):
    """An upgrade with 16 KiB of headers."""
    filler = b"".join(b"X-Filler-%d: %s\r\n" % (i, b"a" * 200)
                      for i in range(80))
    return raw_request(args, upgrade_without()[:-2] + filler + b"\r\n")


@probe("wrong-path")
def p_wrong_path(args):
    return raw_request(args, upgrade_without().replace(b"/ws", b"/nope",
                                                        1))


@probe("slowloris")
def p_slowloris(args):
    """Half an upgrade, then nothing: the handshake timeout closes it."""
    ws = WS(args)
    ws.send(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n")
    t0 = time.monotonic()
    r = ws.expect_closed()
    return "%s after %.1f s" % (r, time.monotonic() - t0)


def after_upgrade(args, data, codes):
    ws = WS(args)
    ws.upgrade()
    ws.send(data)
    return ws.expect_closed(codes)


@probe("unmasked")
def p_unmasked(args):
    return after_upgrade(args, WS.frame(0x2, bytes(66), mask=False),
                         [CLOSE_PROTOCOL])


@probe("reserved-opcode")
def p_reserved_opcode(args):
    return after_upgrade(args, WS.frame(0x3, b"x"), [CLOSE_PROTOCOL])


@probe("rsv1")
def p_rsv1(args):
    return after_upgrade(args, WS.frame(0x2, bytes(66), rsv=4),
                         [CLOSE_PROTOCOL])


# A control frame that breaks the frame layer: libwslay answers it with
# a close frame without a status code (RFC 6455 allows that, 7.1.5),
# although doc/protocol.md says 1002; either is a clean close here.
FRAME_LAYER = [CLOSE_PROTOCOL, None]


@probe("fragmented-ping")
def p_fragmented_ping(args):
    return after_upgrade(args, WS.frame(0x9, b"ping", fin=False),
                         FRAME_LAYER)


@probe("big-ping")
def p_big_ping(args):
    return after_upgrade(args, WS.frame(0x9, bytes(126)), FRAME_LAYER)


@probe("text")
def p_text(args):
    return after_upgrade(args, WS.frame(0x1, b"hello"), [CLOSE_UNSUPPORTED])


@probe("big-message")
def p_big_message(args):
    """A binary message of SIZE bytes (over the server's limit)."""
    return after_upgrade(args, WS.frame(0x2, bytes(args.size)),
                         [CLOSE_TOO_BIG])


def session(args, key=None, **kw):
    ws = WS(args)
    ws.upgrade()
    s = Session(ws, key if key is not None else args.key)
    s.handshake(**kw)
    return s


@probe("bad-signature")
def p_bad_signature(args):
    """HS3 whose signature is one bit off."""
    s = session(args, bad_sig=True)
    return s.ws.expect_closed([CLOSE_POLICY])


@probe("unknown-key")
def p_unknown_key(args):
    """A correct handshake with a fresh key that nobody allowed."""
    s = session(args, key=Key())
    return s.ws.expect_closed([CLOSE_POLICY])


@probe("replay-hs1")
def p_replay_hs1(args):
    """HS1 again after the server answered the first with HS2."""
    ws = WS(args)
    ws.upgrade()
    hs1 = bytes([HS1, 0x01]) + nb.crypto_scalarmult_base(os.urandom(32)) + \
        os.urandom(32)
    ws.send_binary(hs1)
    ws.recv_message()
    ws.send_binary(hs1)
    return ws.expect_closed([CLOSE_PROTOCOL, CLOSE_POLICY])


@probe("replay-hs3")
def p_replay_hs3(args):
    """
    A good handshake with an allowed key, captured; then its HS1 and HS3
    replayed on a second connection, where HS3 cannot match.
    """
    s = session(args)
    s.ws.close_normally()
    ws = WS(args)
    ws.upgrade()
    Session(ws, args.key).handshake(hs1=s.hs1, hs3=s.hs3)
    return ws.expect_closed([CLOSE_POLICY])


def good_session(args):
    """A session with an allowed key that a ping proves."""
    s = session(args)
    mid, m = s.ping()
    s.ws.send_binary(s.record(m))
    s.expect_pong(mid)
    return s


@probe("flip-bit")
def p_flip_bit(args):
    s = good_session(args)
    _, m = s.ping()
    rec = bytearray(s.record(m))
    rec[40] ^= 0x08
    s.ws.send_binary(bytes(rec))
    return s.ws.expect_closed([CLOSE_POLICY])


@probe("replay-record")
def p_replay_record(args):
    s = session(args)
    mid, m = s.ping()
    rec = s.record(m)
    s.ws.send_binary(rec)
    s.expect_pong(mid)
    s.ws.send_binary(rec)
    return s.ws.expect_closed([CLOSE_POLICY])


@probe("out-of-order")
def p_out_of_order(args):
    s = good_session(args)
    _, m1 = s.ping()
    _, m2 = s.ping()
    r1, r2 = s.record(m1), s.record(m2)
    s.ws.send_binary(r2)
    s.ws.send_binary(r1)
    return s.ws.expect_closed([CLOSE_POLICY])


@probe("ping")
def p_ping(args):
    """A valid signed ping over an allowed key's session: a pong."""
    s = good_session(args)
    s.ws.close_normally()
    return "pong from %s" % node_id(s.peer_pk)


def refused_then_pong(s, bad_mid, bad):
    """
    Send a refused message, then a good ping: the first answer must be
    the pong to the good one, so nothing answered the refused one.
    """
    s.ws.send_binary(s.record(bad))
    mid, m = s.ping()
    s.ws.send_binary(s.record(m))
    got = s.answer()
    if got.get("replyTo") == bad_mid:
        raise ProbeFailed("the refused message got an answer: %s" %
                          json.dumps(got))
    if got.get("type") != "pong" or got.get("replyTo") != mid:
        raise ProbeFailed("wanted the pong to %s, got %s" %
                          (mid, json.dumps(got)))
    s.ws.close_normally()
    return "refused %s, then pong" % bad_mid


@probe("wrong-to")
def p_wrong_to(args):
    s = good_session(args)
    mid, m = s.ping(to=os.urandom(16).hex())
    return refused_then_pong(s, mid, m)


@probe("stale-ts")
def p_stale_ts(args):
    s = good_session(args)
    mid, m = s.ping(ts=int(time.time() * 1000) - 600 * 1000)
    return refused_then_pong(s, mid, m)


@probe("replay-id")
def p_replay_id(args):
    s = session(args)
    mid, m = s.ping()
    s.ws.send_binary(s.record(m))
    s.expect_pong(mid)
    # the same id, a fresh ts and signature: only the cache can tell
    time.sleep(0.01)
    _, m2 = s.ping(mid=mid)
    return refused_then_pong(s, mid, m2)


@probe("conns")
def p_conns(args):
    """
    COUNT connections at once: at least MIN of them closed by the
    server, at least one kept; the kept ones held for HOLD seconds.
    """
    socks = [WS(args) for _ in range(args.count)]
    time.sleep(1)
    closed = 0
    for ws in socks:
        ws.sock.setblocking(False)
        try:
            if ws.sock.recv(1) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    print("closed %d of %d" % (closed, len(socks)), flush=True)
    if closed < args.min or closed == len(socks):
        raise ProbeFailed("%d of %d closed, want %d to %d" %
                          (closed, len(socks), args.min, len(socks) - 1))
    print("holding", flush=True)
    time.sleep(args.hold)
    for ws in socks:
        ws.close()
    return "closed %d of %d" % (closed, len(socks))


@probe("flood")
def p_flood(args):
    """
    Keep COUNT half-open connections (TCP only, nothing sent) for HOLD
    seconds, or until the file STOP exists, opening a new one for each
    the server closes; the server must close at least MIN.
    """
    socks, opened, refused = [], 0, 0
    deadline = time.monotonic() + args.hold
    said = False
    why = "time is up"
    while True:
        while len(socks) < args.count:
            try:
                ws = WS(args)
            except OSError:
                time.sleep(0.05)
                break
            ws.sock.setblocking(False)
            socks.append(ws)
            opened += 1
        time.sleep(0.2)
        for ws in list(socks):
            try:
                if ws.sock.recv(1) != b"":
                    continue
            except BlockingIOError:
                continue
            except OSError:
                pass
            refused += 1
            ws.close()
            socks.remove(ws)
        if not said and opened >= args.count:
            print("flooding: %d opened, %d closed by the server" %
                  (opened, refused), flush=True)
            said = True
        if args.stop is not None and os.path.exists(args.stop):
            why = "asked to stop"
            break
        if time.monotonic() >= deadline:
            break
    for ws in socks:
        ws.close()
    if refused < args.min:
        raise ProbeFailed("the server closed only %d of %d" %
                          (refused, opened))
    return "%d opened, %d closed by the server, %s" % (opened, refused,
                                                       why)


@probe("pubkey")
def p_pubkey(args):
    return None


def main():
    ap = argparse.ArgumentParser(prog="netprobe.py")
    ap.add_argument("-H", dest="host", default="127.0.0.1")
    ap.add_argument("-p", dest="port", type=int, default=0)
    ap.add_argument("-b", dest="bind", default=None,
                    help="source address")
    ap.add_argument("-k", dest="keyfile", default=None,
                    help="Ed25519 seed in hex, made if missing")
    ap.add_argument("-t", dest="timeout", type=float, default=5.0,
                    help="seconds to wait for the server")
    ap.add_argument("--size", type=int, default=16384)
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--min", type=int, default=1)
    ap.add_argument("--hold", type=float, default=0)
    ap.add_argument("--stop", default=None)
    ap.add_argument("probe", choices=sorted(PROBES))
    args = ap.parse_args()
    args.key = Key.load(args.keyfile) if args.keyfile else Key()
    if args.probe == "pubkey":
        print(args.key.b64())
        return 0
    if args.port == 0:
        ap.error("-p PORT is needed")
    try:
        r = PROBES[args.probe](args)
    except ProbeFailed as e:
        print("netprobe %s: %s" % (args.probe, e), file=sys.stderr)
        return 1
    except Closed as c:
        print("netprobe %s: the server closed too early (%s %s)" %
              (args.probe, c.how, c.code if c.code is not None else ""),
              file=sys.stderr)
        return 1
    except OSError as e:
        print("netprobe %s: %s" % (args.probe, e), file=sys.stderr)
        return 1
    print("ok %s: %s" % (args.probe, r), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
