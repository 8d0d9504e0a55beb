"""The Python peer for RFC 9421 in `cargo xtask bench --compare`: PyPI's
http-message-signatures, as its README shows (`HTTPMessageVerifier` with
`algorithms.HMAC_SHA256`, the body's digest checked: `verify(request,
body=...)`), over every request of the workload.

Usage: python rfc9421_python.py WORKLOAD.json [SECONDS]   (the library installed)
Prints one JSON line: scheme, body_bytes, requests, accepted, per_second.
"""
import base64
import json
import sys
import time

from http_message_signatures import HTTPMessageVerifier, MappingKeyResolver, algorithms
from http_message_signatures.exceptions import HTTPMessageSignaturesException


class Headers:
    def __init__(self, lines):
        self.lines = [(n, v) for n, v in lines]

    def items(self):
        return list(self.lines)

    def __iter__(self):
        return iter(dict.fromkeys(n for n, _ in self.lines))

    def __contains__(self, name):
        return any(n.lower() == name.lower() for n, _ in self.lines)


class Message:
    def __init__(self, req):
        host = next(v for n, v in req["headers"] if n == "host")
        self.method = req["method"]
        self.url = "https://" + host + req["target"]
        self.headers = Headers(req["headers"])


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        w = json.load(f)
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    body = base64.b64decode(w["body_base64"])
    verifier = HTTPMessageVerifier(
        signature_algorithm=algorithms.HMAC_SHA256,
        key_resolver=MappingKeyResolver(public_keys={w["key_id"]: base64.b64decode(w["secret"])}, private_keys={}),
    )
    messages = [Message(r) for r in w["requests"]]

    def verify(message):
        try:
            verifier.verify(message, body=body)
            return True
        except HTTPMessageSignaturesException:
            return False

    best, spent, accepted = 0.0, 0.0, None
    while spent < seconds or accepted is None:
        started = time.perf_counter()
        ok = sum(1 for m in messages if verify(m))
        elapsed = time.perf_counter() - started
        spent += elapsed
        accepted = ok if accepted is None else min(accepted, ok)
        best = max(best, len(messages) / elapsed)
    print(json.dumps({"peer": "http-message-signatures", "scheme": w["scheme"], "body_bytes": w["body_bytes"],
                      "requests": len(messages), "accepted": accepted, "per_second": best}))


if __name__ == "__main__":
    main()
