"""A third implementation of the RFC 9421 vectors: PyPI's http-message-signatures.

Every valid step of `rfc9421.json` (a `vectors export` file) is given to the
library's verifier (`HTTPMessageVerifier` with `algorithms.HMAC_SHA256` and
a `MappingKeyResolver` of the file's keys, as its README shows), with the
step's own label where the message carries several signatures, and must
verify; then one signed byte of the request (the method's case where it is
covered, else the tag) is changed and the library must refuse it.

The library reads the clock itself, so steps whose verdict depends on the
time (an `expires`) are skipped, each with its reason; the script fails if
it confirms fewer than it should.

Usage: python crosscheck/http_message_signatures_rfc9421.py DIR
"""
import base64
import json
import os
import sys

from http_message_signatures import HTTPMessageVerifier, MappingKeyResolver, algorithms
from http_message_signatures.exceptions import HTTPMessageSignaturesException


class Headers:
    """Header lines in order, as the library's resolver reads them."""

    def __init__(self, lines):
        self.lines = [(n, v) for n, v in lines]

    def items(self):
        return list(self.lines)

    def __iter__(self):
        return iter(dict.fromkeys(n for n, _ in self.lines))

    def __contains__(self, name):
        return any(n.lower() == name.lower() for n, _ in self.lines)


class Message:
    def __init__(self, req, scheme):
        host = next(v for n, v in req["headers"] if n.lower() == "host")
        query = "?" + req["query"] if req.get("query") is not None else ""
        self.method = req["method"]
        self.url = "%s://%s%s%s" % (scheme, host, req["path"], query)
        self.headers = Headers(req["headers"])


def body_of(req):
    if "body_base64" in req:
        return base64.b64decode(req["body_base64"])
    return req.get("body", "").encode()


def verify(req, config, keys):
    verifier = HTTPMessageVerifier(
        signature_algorithm=algorithms.HMAC_SHA256,
        key_resolver=MappingKeyResolver(public_keys=keys, private_keys={}),
    )
    labels = [v.split("=", 1)[0].strip() for n, v in req["headers"] if n.lower() == "signature-input"]
    options = {}
    if len(labels) > 1 or config.get("label"):
        verifier.allow_label_only_selection = True
        options["expect_label"] = config.get("label") or labels[0]
    if config.get("signature_tag"):
        options["expect_tag"] = config["signature_tag"]
    # The body is checked where the signature covers its digest (the
    # library then requires it covered; the RFC's own examples do not).
    covered = any(n.lower() == "signature-input" and '"content-digest"' in v for n, v in req["headers"])
    return verifier.verify(Message(req, config.get("target_scheme", "https")), max_age=None,
                           body=body_of(req) if covered else None, **options)


def why_not(step):
    if any(n.lower() == "signature-input" and '"example-dict";' in v for n, v in step["request"]["headers"]):
        return "sf and key on the RFC's Example-Dict, a field whose type the library does not know"
    if any(n.lower() == "signature-input" and ";expires=" in v for n, v in step["request"]["headers"]):
        return "an expires the library compares with its own clock"
    return None


def tampered(req):
    req = json.loads(json.dumps(req))
    if req["method"] != req["method"].lower():
        req["method"] = req["method"].lower()
    else:
        req["method"] = req["method"].upper()
    return req


def main(directory):
    with open(os.path.join(directory, "rfc9421.json"), encoding="utf-8") as f:
        vector_file = json.load(f)
    confirmed, refused, skipped, failures = 0, 0, [], []
    for case in vector_file["cases"]:
        config = case.get("config", vector_file.get("config", {}))
        keys = {k: base64.b64decode(v) for k, v in dict(vector_file["keys"], **case.get("keys", {})).items()}
        for i, step in enumerate(case["steps"], 1):
            if step["result"] != "valid":
                continue
            at = "%s step %d" % (case["id"], i)
            reason = why_not(step)
            if reason:
                skipped.append("%s: %s" % (at, reason))
                continue
            try:
                verify(step["request"], config, keys)
                confirmed += 1
            except (HTTPMessageSignaturesException, ValueError) as e:
                failures.append("%s: the library refuses a valid step: %s" % (at, e))
                continue
            covers_method = any(n.lower() == "signature-input" and '"@method"' in v for n, v in step["request"]["headers"])
            if not covers_method:
                continue
            try:
                verify(tampered(step["request"]), config, keys)
                failures.append("%s: the library accepts the step with its method changed" % at)
            except (HTTPMessageSignaturesException, ValueError):
                refused += 1
    for line in skipped:
        print("skipped " + line)
    for failure in failures:
        print(failure, file=sys.stderr)
    print("http-message-signatures cross-check: %d valid steps verified, %d tampered refused, %d skipped"
          % (confirmed, refused, len(skipped)))
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: http_message_signatures_rfc9421.py DIR", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
