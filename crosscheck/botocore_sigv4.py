"""A third implementation of the SigV4 vectors: botocore's own signer.

For every valid step of `sigv4.json` (a `vectors export` file) whose rules
botocore follows, the request is rebuilt without its signature and signed
again by botocore (`SigV4Auth`, `SigV4QueryAuth` and their S3 variants) at the
vector's time; the signature must be the vector's tag.

botocore always normalises and re-encodes the path of services other than
S3, signs every header it is given, and reads a repeated query name once:
cases outside those conventions are skipped, each with its reason, and the
script fails if it confirms fewer than it should.

Usage: python crosscheck/botocore_sigv4.py DIR   (with botocore installed)
"""
import json
import os
import sys
import urllib.parse

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

AUTH_PARAMS = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
               "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token")


class Unsupported(Exception):
    """A vector botocore's signer cannot express."""


def why_not(case, config, step):
    if config.get("uri_encoding") == "once" and config.get("service") != "s3":
        return "a path given unencoded (botocore encodes the path as sent again)"
    if config.get("normalize_path") is False:
        return "an unnormalised path of a service other than S3"
    if config.get("token_added_after_signing"):
        return "a session token added after signing"
    if step["request"].get("body") and "X-Amz-Signature" in (step["request"].get("query") or ""):
        return "a presigned request with a body (botocore moves a form body into the query)"
    if any(n == "x-amz-content-sha256" and v.startswith("STREAMING-") for n, v in step["request"]["headers"]):
        return "a chunk-signed upload (botocore's signer does not write aws-chunked bodies)"
    query = step["request"].get("query") or ""
    names = [p.split("=", 1)[0] for p in query.split("&") if p]
    if len(names) != len(set(names)):
        return "a repeated query name"
    return None


def sign(step, config, keys):
    req = step["request"]
    headers = {}
    auth = None
    for name, value in req["headers"]:
        if name.lower() == "authorization":
            auth = value
        elif name.lower() != "x-amz-date":
            headers.setdefault(name, []).append(value)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(req.get("query") or "", keep_blank_values=True)]
    if auth:
        parts = dict(c.strip().split("=", 1) for c in auth.split(" ", 1)[1].split(","))
        credential, signed, timestamp = parts["Credential"], parts["SignedHeaders"], None
        timestamp = next(v for n, v in req["headers"] if n.lower() == "x-amz-date")
        token = next((v for n, v in req["headers"] if n.lower() == "x-amz-security-token"), None)
    else:
        q = dict(query)
        credential, signed, timestamp = q["X-Amz-Credential"], q["X-Amz-SignedHeaders"], q["X-Amz-Date"]
        token, expires = q.get("X-Amz-Security-Token"), int(q["X-Amz-Expires"])
        query = [(k, v) for k, v in query if k not in AUTH_PARAMS]
    key_id, date, region, service, _ = credential.split("/")
    # botocore signs every header it is given: give it the signed ones.
    kept = {n: v for n, v in headers.items() if n.lower() in signed.split(";") and n.lower() != "x-amz-security-token"}
    host = kept.pop("host")[0]
    url = "https://" + host + req["path"] + ("?" + urllib.parse.urlencode(query, quote_via=urllib.parse.quote) if query else "")
    request = AWSRequest(method=req["method"], url=url, data=req.get("body", "").encode())
    for name, values in kept.items():
        request.headers[name] = ",".join(values) if len(values) > 1 else values[0]
    request.context["timestamp"] = timestamp
    if kept.get("x-amz-content-sha256") == ["UNSIGNED-PAYLOAD"]:
        # botocore's documented switch: Config(s3={"payload_signing_enabled": False}).
        request.context["client_config"] = Config(s3={"payload_signing_enabled": False})
    if token is not None and auth and "x-amz-security-token" not in signed.split(";"):
        raise Unsupported("a session token added after signing")
    credentials = Credentials(key_id, keys[key_id], token)
    if auth:
        signer = (S3SigV4Auth if service == "s3" else SigV4Auth)(credentials, service, region)
    else:
        signer = (S3SigV4QueryAuth if service == "s3" else SigV4QueryAuth)(credentials, service, region, expires)
    # What `add_auth` does before signing: X-Amz-Date and the token (the
    # header form), or the X-Amz-* query parameters (the query form).
    signer._modify_request_before_signing(request)
    canonical_request = signer.canonical_request(request)
    return signer.signature(signer.string_to_sign(request, canonical_request), request)


def main(directory):
    with open(os.path.join(directory, "sigv4.json"), encoding="utf-8") as f:
        vectors = json.load(f)
    confirmed, skipped, failures = 0, [], []
    for case in vectors["cases"]:
        config = case.get("config", vectors.get("config", {}))
        keys = dict(vectors["keys"], **case.get("keys", {}))
        for i, step in enumerate(case["steps"], 1):
            if step["result"] != "valid":
                continue
            at = "%s step %d" % (case["id"], i)
            reason = why_not(case, config, step)
            if reason:
                skipped.append("%s: %s" % (at, reason))
                continue
            try:
                signature = sign(step, config, keys)
            except Unsupported as e:
                skipped.append("%s: %s" % (at, e))
                continue
            except Exception as e:  # a vector botocore cannot sign is a failure, not a crash
                failures.append("%s: botocore cannot sign it: %r" % (at, e))
                continue
            if signature != step["tag"]:
                failures.append("%s: botocore signs %s, the vector says %s" % (at, signature, step["tag"]))
            else:
                confirmed += 1
    for line in failures:
        print(line, file=sys.stderr)
    for line in skipped:
        print("skipped " + line)
    print("botocore cross-check: %d valid signatures confirmed, %d skipped, %d failed"
          % (confirmed, len(skipped), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: botocore_sigv4.py DIR", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
