#!/usr/bin/env python3
"""nats_jwt.py DIR - decentralized NATS auth for the tests, without nsc
(not packaged in Debian 12): an operator, an account with JetStream and
a user, as nkeys and JWTs signed the way nats-io/jwt v2 signs them
(ed25519 over "header.claims", "alg": "ed25519-nkey").

Writes DIR/auth.conf (operator, MEMORY resolver with the account
preloaded: include it in nats-server's config), DIR/user.creds (the
user's JWT and seed, the format nats.c's
natsOptions_SetUserCredentialsFromFiles reads, mode 0600) and
DIR/other.creds (a user of an account the server does not know)."""
import base64, hashlib, json, os, sys, time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

# nkeys' prefix bytes (nats-io/nkeys strkey.go)
SEED, OPERATOR, ACCOUNT, USER = 18 << 3, 14 << 3, 0, 20 << 3


def crc16(data):  # CRC-16/XMODEM, as nkeys' crc16.go
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def b32(raw):
    raw += crc16(raw).to_bytes(2, "little")
    return base64.b32encode(raw).decode().rstrip("=")


class Key:
    def __init__(self, prefix):
        self.prefix = prefix
        self.sk = Ed25519PrivateKey.generate()
        pub = self.sk.public_key().public_bytes(serialization.Encoding.Raw,
                                                serialization.PublicFormat.Raw)
        priv = self.sk.private_bytes(serialization.Encoding.Raw,
                                     serialization.PrivateFormat.Raw,
                                     serialization.NoEncryption())
        self.pub = b32(bytes([prefix]) + pub)
        self.seed = b32(bytes([SEED | (prefix >> 5), (prefix & 31) << 3]) + priv)


def b64u(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def jwt(issuer, subject, name, nats):
    claims = {"iat": int(time.time()), "iss": issuer.pub, "name": name,
              "sub": subject.pub, "nats": dict(nats, version=2)}
    claims["jti"] = base64.b32encode(hashlib.sha256(
        json.dumps(claims, sort_keys=True).encode()).digest()).decode().rstrip("=")
    head = b64u(json.dumps({"typ": "JWT", "alg": "ed25519-nkey"}).encode())
    body = b64u(json.dumps(claims).encode())
    sig = issuer.sk.sign((head + "." + body).encode())
    return head + "." + body + "." + b64u(sig)


def creds(path, user_jwt, user):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("-----BEGIN NATS USER JWT-----\n%s\n------END NATS USER JWT------\n\n"
                "-----BEGIN USER NKEY SEED-----\n%s\n------END USER NKEY SEED------\n"
                % (user_jwt, user.seed))


def main(d):
    op, acc, sysacc, usr = Key(OPERATOR), Key(ACCOUNT), Key(ACCOUNT), Key(USER)
    stranger_acc, stranger = Key(ACCOUNT), Key(USER)
    unlimited = {"subs": -1, "data": -1, "payload": -1, "imports": -1,
                 "exports": -1, "wildcards": True, "conn": -1, "leaf": -1}
    js = {"mem_storage": -1, "disk_storage": -1, "streams": -1, "consumer": -1}
    op_jwt = jwt(op, op, "podtrail-test", {"type": "operator",
                                           "system_account": sysacc.pub})
    acc_jwt = jwt(op, acc, "podtrail", {"type": "account",
                                        "limits": dict(unlimited, **js)})
    sys_jwt = jwt(op, sysacc, "SYS", {"type": "account", "limits": unlimited})
    user_jwt = jwt(acc, usr, "node", {"type": "user", "pub": {}, "sub": {},
                                      "subs": -1, "data": -1, "payload": -1})
    other_jwt = jwt(stranger_acc, stranger, "stranger",
                    {"type": "user", "pub": {}, "sub": {}, "subs": -1,
                     "data": -1, "payload": -1})
    with open(os.path.join(d, "auth.conf"), "w") as f:
        f.write('operator: "%s"\nsystem_account: %s\nresolver: MEMORY\n'
                'resolver_preload: {\n  %s: "%s"\n  %s: "%s"\n}\n'
                % (op_jwt, sysacc.pub, acc.pub, acc_jwt, sysacc.pub, sys_jwt))
    creds(os.path.join(d, "user.creds"), user_jwt, usr)
    creds(os.path.join(d, "other.creds"), other_jwt, stranger)


if __name__ == "__main__":
    main(sys.argv[1])
