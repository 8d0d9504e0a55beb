"""The Python peer for SigV4 in `cargo xtask bench --compare`: botocore, the
AWS SDK for Python's signer. Verifying a SigV4 request is signing it again
and comparing, so each request is rebuilt without its signature, signed by
botocore (`S3SigV4Auth`, or `S3SigV4QueryAuth` for a presigned URL) at the
workload's time, and its signature compared with the one it carries.

Usage: python sigv4_botocore.py WORKLOAD.json [SECONDS]   (botocore installed)
Prints one JSON line: scheme, body_bytes, requests, accepted, per_second.
"""
import base64
import hmac
import json
import sys
import time
import urllib.parse

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SIGNATURE_PARAMETERS = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
                        "X-Amz-SignedHeaders", "X-Amz-Signature")


def verify(req, w, credentials, body):
    path, _, query = req["target"].partition("?")
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    params = dict(pairs)
    headers = dict(req["headers"])
    if "X-Amz-Signature" in params:
        received, signed = params["X-Amz-Signature"], params["X-Amz-SignedHeaders"]
        timestamp, expires = params["X-Amz-Date"], int(params["X-Amz-Expires"])
        pairs = [(k, v) for k, v in pairs if k not in SIGNATURE_PARAMETERS]
        signer = S3SigV4QueryAuth(credentials, "s3", "us-east-1", expires)
    else:
        authorization = headers["authorization"]
        received = authorization.rsplit("Signature=", 1)[1]
        signed = authorization.split("SignedHeaders=", 1)[1].split(",", 1)[0]
        timestamp = headers["x-amz-date"]
        signer = S3SigV4Auth(credentials, "s3", "us-east-1")
    url = "https://" + headers["host"] + path
    if pairs:
        url += "?" + urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote)
    # A presigned URL signs no payload, and botocore would move a body
    # into the query of one: the body is left out of its request.
    data = b"" if "X-Amz-Signature" in params else body
    request = AWSRequest(method=req["method"], url=url, data=data)
    for name in signed.split(";"):
        if name not in ("host", "x-amz-date", "x-amz-content-sha256"):
            request.headers[name] = headers[name]
    request.context["timestamp"] = timestamp
    # What `add_auth` does: X-Amz-Date and the payload hash, or the query.
    signer._modify_request_before_signing(request)
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    return hmac.compare_digest(expected, received)


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        w = json.load(f)
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    body = base64.b64decode(w["body_base64"])
    credentials = Credentials(w["key_id"], w["secret"])
    requests = w["requests"]
    best, spent, accepted = 0.0, 0.0, None
    while spent < seconds or accepted is None:
        started = time.perf_counter()
        ok = sum(1 for r in requests if verify(r, w, credentials, body))
        elapsed = time.perf_counter() - started
        spent += elapsed
        accepted = ok if accepted is None else min(accepted, ok)
        best = max(best, len(requests) / elapsed)
    print(json.dumps({"peer": "botocore", "scheme": w["scheme"], "body_bytes": w["body_bytes"],
                      "requests": len(requests), "accepted": accepted, "per_second": best}))


if __name__ == "__main__":
    main()
