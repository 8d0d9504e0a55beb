"""The Python peer for `cargo xtask bench --compare`.

Verifies the same signed requests as the Rust reference, with the Python
standard library only, written the straightforward way the seeds' examples
and the providers' documentation are (hmac.new per request, hashlib,
base64, json, a dict of used nonces): what a team would write by hand.
The built-in profiles get the verifier their provider documents (a
profile of a seed, the seed's). Every scheme checks what the reference
checks (timestamp syntax and window, key, body hash, tag in constant time,
nonce), so the two do the same work.

Usage: python3 benches/peers/verify.py WORKLOAD.json [SECONDS]
Prints one JSON line: scheme, body_bytes, requests, accepted, per_second.
"""
import base64
import hashlib
import hmac
import json
import sys
import time
import urllib.parse


def plain_int(text):
    return text is not None and 0 < len(text) <= 19 and text.isascii() and text.isdigit()


def within(ts, now, past, future):
    return -future <= now - ts <= past


def verify_partner(req, w, nonces):
    parts = req["h"].get("x-signature", "").split(".")
    if len(parts) != 3 or not parts[0] or not plain_int(parts[1]):
        return False
    integration_id, ts, tag = parts
    if not within(int(ts), w["now_ms"], 300000, 300000):
        return False
    secret = w["keys"].get(integration_id)
    if secret is None:
        return False
    # The seed's Python variant: json.dumps with sorted keys and no spaces.
    body = json.loads(req["body"]) if req["body"] else {}
    canonical = json.dumps({} if body is None else body, sort_keys=True,
                           separators=(",", ":"), ensure_ascii=False)
    expected = hmac.new(secret, (canonical + ts).encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, tag)


def verify_authorization(req, w, nonces):
    value = req["h"].get("authorization", "")
    if not value.startswith("Signature "):
        return False
    params = {}
    for part in value[len("Signature "):].split(","):
        name, _, quoted = part.strip().partition("=")
        if name in params or len(quoted) < 2 or quoted[0] != '"' or quoted[-1] != '"':
            return False
        params[name] = quoted[1:-1]
    ts, nonce, key_id = params.get("timestamp"), params.get("nonce"), params.get("keyId")
    if not plain_int(ts) or not nonce or not key_id:
        return False
    if not within(int(ts), w["now_ms"] // 1000, 300, 30):
        return False
    secret = w["keys"].get(key_id)
    if secret is None:
        return False
    digest = {"HMAC-SHA256": hashlib.sha256, "HMAC-SHA512": hashlib.sha512}.get(
        params.get("algorithm", "HMAC-SHA256"))
    if digest is None:
        return False
    lines = [req["method"].upper(), req["path"]]
    for name in sorted(h.lower() for h in params.get("headers", "").split() if h):
        lines.append(name + ":" + req["h"].get(name, ""))
    if req["query"]:
        pairs = sorted(urllib.parse.parse_qsl(req["query"], keep_blank_values=True))
        lines.append("&".join(k + "=" + v for k, v in pairs))
    if req["body"]:
        lines.append("body-hash:" + hashlib.sha256(req["body"]).hexdigest())
    lines.append("timestamp:" + ts)
    lines.append("nonce:" + nonce)
    expected = hmac.new(secret, "\n".join(lines).encode(), digest).hexdigest()
    if not hmac.compare_digest(expected, params.get("signature", "")):
        return False
    return record(nonces, key_id, nonce)


def verify_timestamp_dot_body(req, w, nonces, signature_header, timestamp_header, key_header, tolerance):
    h = req["h"]
    ts, tag = h.get(timestamp_header), h.get(signature_header)
    if not plain_int(ts) or tag is None:
        return False
    if not within(int(ts), w["now_ms"] // 1000, *tolerance):
        return False
    secret = w["keys"].get(h.get(key_header) if key_header else "default")
    if secret is None:
        return False
    expected = hmac.new(secret, ts.encode() + b"." + req["body"], hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, tag)


def verify_webhook(req, w, nonces):
    return verify_timestamp_dot_body(req, w, nonces, "x-webhook-signature", "x-webhook-timestamp", None, (300, 30))


def verify_ia_json(req, w, nonces):
    return verify_timestamp_dot_body(req, w, nonces, "x-ia-signature", "x-ia-timestamp", "x-ia-key", (60, 60))


def verify_a2a(req, w, nonces):
    # Seed 002's verifier: headers, window, body hash, canonical string, tag.
    h = req["h"]
    key_id, ts, nonce, signature = h.get("x-api-key-id"), h.get("x-timestamp"), h.get("x-nonce"), h.get("x-signature")
    if not key_id or not nonce or signature is None or not plain_int(ts):
        return False
    if not within(int(ts), w["now_ms"] // 1000, 300, 300):
        return False
    body_hash = h.get("x-body-hash")
    if req["body"]:
        if body_hash != base64.b64encode(hashlib.sha256(req["body"]).digest()).decode():
            return False
    elif body_hash is not None:
        return False
    secret = w["keys"].get(key_id)
    if secret is None:
        return False
    parts = [req["method"].upper(), req["path"], ts, nonce]
    if body_hash:
        parts.append(body_hash)
    expected = base64.b64encode(hmac.new(secret, "\n".join(parts).encode(), hashlib.sha256).digest()).decode()
    if not hmac.compare_digest(expected, signature):
        return False
    return record(nonces, key_id, nonce)


def verify_quable(req, w, nonces):
    h = req["h"]
    ts, signature = h.get("x-timestamp"), h.get("x-signature")
    if not plain_int(ts) or signature is None:
        return False
    if not within(int(ts), w["now_ms"] // 1000, 300, 300):
        return False
    message = "|".join([req["method"].upper(), w["endpoint"], ts, ""]).encode() + req["body"]
    expected = base64.b64encode(hmac.new(w["keys"]["default"], message, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, signature)


def now_s(w):
    return w["now_ms"] // 1000


def verify_stripe(req, w, nonces):
    # Stripe's manual verification: t and every v1 from Stripe-Signature.
    items = [item.split("=", 1) for item in req["h"].get("stripe-signature", "").split(",")]
    ts = [v for k, *v in items if k == "t"]
    tags = [v[0] for k, *v in items if k == "v1" and v]
    if len(ts) != 1 or not ts[0] or not plain_int(ts[0][0]) or not tags:
        return False
    if int(ts[0][0]) < now_s(w) - 300:
        return False
    expected = hmac.new(w["keys"]["default"], ts[0][0].encode() + b"." + req["body"], hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, tag) for tag in tags)


def verify_github(req, w, nonces):
    signature = req["h"].get("x-hub-signature-256", "")
    if not signature.startswith("sha256="):
        return False
    expected = "sha256=" + hmac.new(w["keys"]["default"], req["body"], hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def verify_github_sha1(req, w, nonces):
    signature = req["h"].get("x-hub-signature", "")
    if not signature.startswith("sha1="):
        return False
    expected = "sha1=" + hmac.new(w["keys"]["default"], req["body"], hashlib.sha1).hexdigest()
    return hmac.compare_digest(expected, signature)


def verify_slack(req, w, nonces):
    ts, signature = req["h"].get("x-slack-request-timestamp"), req["h"].get("x-slack-signature", "")
    if not plain_int(ts) or abs(now_s(w) - int(ts)) > 300:
        return False
    basestring = b"v0:" + ts.encode() + b":" + req["body"]
    expected = "v0=" + hmac.new(w["keys"]["default"], basestring, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def standard_webhooks(prefix):
    def verify(req, w, nonces):
        h = req["h"]
        msg_id, ts, signatures = h.get(prefix + "-id"), h.get(prefix + "-timestamp"), h.get(prefix + "-signature")
        if not msg_id or not plain_int(ts) or signatures is None:
            return False
        if abs(now_s(w) - int(ts)) > 300:
            return False
        content = msg_id.encode() + b"." + ts.encode() + b"." + req["body"]
        expected = base64.b64encode(hmac.new(w["keys"]["default"], content, hashlib.sha256).digest()).decode()
        for versioned in signatures.split(" "):
            version, _, signature = versioned.partition(",")
            if version == "v1" and hmac.compare_digest(signature, expected):
                return record(nonces, "default", msg_id)
        return False
    return verify


def verify_shopify(req, w, nonces):
    expected = base64.b64encode(hmac.new(w["keys"]["default"], req["body"], hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, req["h"].get("x-shopify-hmac-sha256", ""))


def twilio_url(req, w):
    # The configured URL's scheme and host, then the path and query requested.
    endpoint = w["endpoint"]
    start = endpoint.find("://") + 3 if "://" in endpoint else 0
    slash = endpoint.find("/", start)
    origin = endpoint if slash < 0 else endpoint[:slash]
    return origin + req["path"] + ("?" + req["query"] if req["query"] else "")


def verify_twilio(req, w, nonces):
    data = twilio_url(req, w)
    for name, value in sorted(urllib.parse.parse_qsl(req["body"].decode(), keep_blank_values=True)):
        data += name + value
    expected = base64.b64encode(hmac.new(w["keys"]["default"], data.encode(), hashlib.sha1).digest()).decode()
    return hmac.compare_digest(expected, req["h"].get("x-twilio-signature", ""))


def verify_twilio_json(req, w, nonces):
    claimed = dict(urllib.parse.parse_qsl(req["query"])).get("bodySHA256")
    if claimed is None or not hmac.compare_digest(hashlib.sha256(req["body"]).hexdigest(), claimed):
        return False
    url = twilio_url(req, w)
    expected = base64.b64encode(hmac.new(w["keys"]["default"], url.encode(), hashlib.sha1).digest()).decode()
    return hmac.compare_digest(expected, req["h"].get("x-twilio-signature", ""))


def verify_square(req, w, nonces):
    payload = w["endpoint"].encode() + req["body"]
    expected = base64.b64encode(hmac.new(w["keys"]["default"], payload, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, req["h"].get("x-square-hmacsha256-signature", ""))


def verify_paddle(req, w, nonces):
    ts, tags = None, []
    for item in req["h"].get("paddle-signature", "").split(";"):
        key, _, value = item.partition("=")
        if key == "ts":
            ts = value
        elif key == "h1":
            tags.append(value)
    if not plain_int(ts) or not tags or now_s(w) > int(ts) + 5:
        return False
    expected = hmac.new(w["keys"]["default"], ts.encode() + b":" + req["body"], hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, tag) for tag in tags)


def record(nonces, key_id, nonce):
    key = (key_id, nonce)
    if key in nonces:
        return False
    nonces[key] = True
    return True


VERIFY = {
    "partner": verify_partner,
    "authorization": verify_authorization,
    "webhook": verify_webhook,
    "a2a": verify_a2a,
    "ia-json": verify_ia_json,
    "quable": verify_quable,
    "stripe": verify_stripe,
    "github": verify_github,
    "github-sha1": verify_github_sha1,
    "slack": verify_slack,
    "standard-webhooks": standard_webhooks("webhook"),
    "svix": standard_webhooks("svix"),
    "shopify": verify_shopify,
    "twilio": verify_twilio,
    "twilio-json": verify_twilio_json,
    "square": verify_square,
    "paddle": verify_paddle,
    "seed-partner": verify_partner,
    "seed-webhook": verify_webhook,
    "seed-a2a": verify_a2a,
    "seed-ia-json": verify_ia_json,
    "seed-quable": verify_quable,
}


def key_bytes(w):
    """The HMAC key: the secret's bytes, or (Standard Webhooks, Svix) the
    base64 after `whsec_`, as their libraries decode it."""
    secret = w["secret"]
    if w["scheme"] in ("standard-webhooks", "svix"):
        return base64.b64decode(secret.removeprefix("whsec_"))
    return secret.encode()


def load(path):
    with open(path) as f:
        w = json.load(f)
    body = base64.b64decode(w["body_base64"])
    secret = key_bytes(w)
    w["keys"] = {w["key_id"]: secret, "default": secret}
    requests = []
    # What a web framework hands a verifier: headers in a dict (lower-case
    # names), path and query apart, the body as bytes. Built before timing.
    for r in w["requests"]:
        path, _, query = r["target"].partition("?")
        requests.append({"method": r["method"], "path": path, "query": query,
                         "h": {n: v for n, v in r["headers"]}, "body": body})
    return w, requests


def main():
    w, requests = load(sys.argv[1])
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    verify = VERIFY[w["scheme"]]
    best, spent, accepted = 0.0, 0.0, None
    # Rounds over every request, each with a fresh nonce store, until the
    # time is spent; the best round counts (as for the Rust side).
    while spent < seconds or accepted is None:
        nonces = {}
        started = time.perf_counter()
        ok = sum(1 for r in requests if verify(r, w, nonces))
        elapsed = time.perf_counter() - started
        spent += elapsed
        accepted = ok if accepted is None else min(accepted, ok)
        best = max(best, len(requests) / elapsed)
    print(json.dumps({"peer": "python", "scheme": w["scheme"], "body_bytes": w["body_bytes"],
                      "requests": len(requests), "accepted": accepted, "per_second": best}))


if __name__ == "__main__":
    main()
