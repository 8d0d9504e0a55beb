"""Independent confirmation of the vectors with Python's standard library only.

For every step that has a canonical string, recompute it from the request
and the scheme's rules, recompute the tag with hmac/hashlib, and compare.
For valid steps the tag in the request's headers must match too.

`partner`'s canonical JSON is re-implemented here from the JavaScript rules
(JSON.parse semantics, Number.prototype.toString, array-index keys first),
separately from the Rust code and from Node's engine.

A profile's file carries the profile (`profile`): its template, signature
header format and secret decoding are interpreted here from the profile's
documented meaning (profiles/schema.json), not from the Rust engine.

Usage: python3 crosscheck/crosscheck.py DIR   (DIR = `cargo xtask vectors export` output)
"""
import base64
import hashlib
import hmac
import json
import math
import os
import re
import sys
import urllib.parse

import rfc9421 as message_signatures


def header(req, name):
    for n, v in req["headers"]:
        if n.lower() == name.lower():
            return v
    return None


def body_of(req):
    if "body_base64" in req:
        return base64.b64decode(req["body_base64"])
    return req.get("body", "").encode()


def js_number(x):
    """Number.prototype.toString for a finite double (ECMA-262 Number::toString)."""
    if math.isinf(x):
        return "null"  # JSON.parse reads digits beyond the double range as an infinity
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    r = repr(abs(x))  # shortest round-trip digits, as JavaScript uses
    mantissa, _, exp = r.partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    digits = (int_part + frac_part).lstrip("0")
    n = len(int_part) + int(exp or 0) - (len(int_part + frac_part) - len((int_part + frac_part).lstrip("0")))
    digits = digits.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        s = digits + "0" * (n - k)
    elif 0 < n <= 21:
        s = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        s = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        s = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + ("+" if e >= 0 else "-") + str(abs(e))
    return sign + s


def js_string(s):
    out = ['"']
    short = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
    for ch in s:
        if ch in short:
            out.append(short[ch])
        elif ord(ch) < 0x20 or 0xD800 <= ord(ch) <= 0xDFFF:
            # A lone surrogate (json.loads keeps one, as JSON.parse does) is
            # escaped, as JSON.stringify has done since ES2019.
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


ARRAY_INDEX = re.compile(r"^(0|[1-9][0-9]*)$")


def key_order(k):
    # JavaScript objects enumerate array-index keys first, numerically;
    # other keys keep insertion order, here the UTF-16 code-unit sort.
    if ARRAY_INDEX.fullmatch(k) and int(k) <= 2**32 - 2:
        return (0, int(k), b"")
    return (1, 0, k.encode("utf-16-be", "surrogatepass"))


def js_stringify(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, float):
        return js_number(v)
    if isinstance(v, str):
        return js_string(v)
    if isinstance(v, list):
        return "[" + ",".join(js_stringify(x) for x in v) + "]"
    return "{" + ",".join(js_string(k) + ":" + js_stringify(v[k]) for k in sorted(v, key=key_order)) + "}"


def canonical_json(body):
    if not body:
        return "{}"
    # JSON.parse: every number is a double; a repeated key keeps its last value.
    value = json.loads(body.decode(), parse_int=float, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    return "{}" if value is None else js_stringify(value)


def auth_params(value):
    return dict(re.findall(r'([A-Za-z0-9_-]+)="([^"]*)"', value[len("Signature "):]))


def partner(req, config):
    key_id, ts, tag = header(req, "X-Signature").split(".")
    return (canonical_json(body_of(req)) + ts).encode(), key_id, "sha256", "hex", tag


def authorization(req, config):
    p = auth_params(header(req, "Authorization"))
    lines = [req["method"].upper(), req["path"]]
    for name in sorted(n.lower() for n in p.get("headers", "").split(" ") if n):
        lines.append("%s:%s" % (name, header(req, name) or ""))
    if req.get("query"):
        pairs = sorted(urllib.parse.parse_qsl(req["query"], keep_blank_values=True))
        lines.append("&".join("%s=%s" % kv for kv in pairs))
    body = body_of(req)
    if body:
        lines.append("body-hash:" + hashlib.sha256(body).hexdigest())
    lines += ["timestamp:" + p["timestamp"], "nonce:" + p["nonce"]]
    alg = "sha512" if p.get("algorithm") == "HMAC-SHA512" else "sha256"
    return "\n".join(lines).encode(), p["keyId"], alg, "hex", p["signature"]


def webhook(req, config):
    ts = header(req, config.get("timestamp_header", "X-Webhook-Timestamp"))
    sig = header(req, config.get("signature_header", "X-Webhook-Signature"))
    return ts.encode() + b"." + body_of(req), "default", "sha256", "hex", sig


def a2a(req, config):
    parts = [req["method"].upper(), req["path"], header(req, "X-Timestamp"), header(req, "X-Nonce")]
    if header(req, "X-Body-Hash") is not None:
        parts.append(header(req, "X-Body-Hash"))
    return "\n".join(parts).encode(), header(req, "X-API-Key-ID"), "sha256", "base64", header(req, "X-Signature")


def ia_json(req, config):
    prefix = config.get("header_prefix", "X-IA-")
    ts = header(req, prefix + "Timestamp")
    return (ts.encode() + b"." + body_of(req), header(req, prefix + "Key"), config.get("algorithm", "sha256"),
            "hex", header(req, prefix + "Signature"))


def quable(req, config):
    head = "%s|%s|%s|" % (req["method"].upper(), config["endpoint"], header(req, "X-Timestamp"))
    return head.encode() + body_of(req), "default", "sha256", "base64", header(req, "X-Signature")


def sigv4_encode(data, keep_slash):
    """SigV4's percent-encoding: all but A-Z a-z 0-9 - . _ ~ (and / in paths)."""
    safe = b"-._~/" if keep_slash else b"-._~"
    return "".join(chr(b) if chr(b).isalnum() and b < 128 or b in safe else "%%%02X" % b for b in data)


def sigv4_path(path, config):
    s3 = config.get("service", "s3") == "s3"
    if config.get("normalize_path", not s3):
        segments = []
        for seg in path.split("/"):
            if seg == "..":
                segments = segments[:-1]
            elif seg not in ("", "."):
                segments.append(seg)
        normal = "/" + "/".join(segments)
        if path.endswith("/") and normal != "/":
            normal += "/"
        path = normal
    if config.get("uri_encoding", "once" if s3 else "twice") == "once":
        return sigv4_encode(urllib.parse.unquote_to_bytes(path), True)
    return sigv4_encode(path.encode(), True)


def sigv4(req, config):
    """AWS Signature Version 4, from the AWS IAM User Guide's description."""
    s3 = config.get("service", "s3") == "s3"
    pairs = [p.split("=", 1) if "=" in p else [p, ""] for p in (req.get("query") or "").split("&") if p]
    auth = header(req, "Authorization")
    if auth is not None:
        algorithm, rest = auth.split(" ", 1)
        parts = dict(c.strip(" ").split("=", 1) for c in rest.split(","))
        credential, signed, tag = parts["Credential"], parts["SignedHeaders"], parts["Signature"]
        date, skip = header(req, "X-Amz-Date"), []
    else:
        q = {k: urllib.parse.unquote(v) for k, v in pairs}
        algorithm, credential, signed = q["X-Amz-Algorithm"], q["X-Amz-Credential"], q["X-Amz-SignedHeaders"]
        date, tag = q["X-Amz-Date"], q["X-Amz-Signature"]
        skip = ["X-Amz-Signature"] + (["X-Amz-Security-Token"] if config.get("token_added_after_signing") else [])
    assert algorithm == "AWS4-HMAC-SHA256"
    key_id, scope = credential.split("/", 1)
    query = sorted((sigv4_encode(urllib.parse.unquote_to_bytes(k), False),
                    sigv4_encode(urllib.parse.unquote_to_bytes(v), False)) for k, v in pairs if k not in skip)
    lines = [req["method"], sigv4_path(req["path"], config), "&".join("%s=%s" % kv for kv in query)]
    for name in signed.split(";"):
        values = [" ".join(v.split()) for n, v in req["headers"] if n.lower() == name]
        lines.append("%s:%s" % (name, ",".join(values)))
    payload = header(req, "x-amz-content-sha256")
    if payload is None:
        payload = "UNSIGNED-PAYLOAD" if s3 and auth is None else hashlib.sha256(body_of(req)).hexdigest()
    lines += ["", signed, payload]
    canonical_request = "\n".join(lines).encode()
    to_sign = "\n".join(["AWS4-HMAC-SHA256", date, scope, hashlib.sha256(canonical_request).hexdigest()])
    return to_sign.encode(), key_id, "sha256", "hex", tag


def sigv4_chunks_verify(req, key, string_to_sign):
    """A chunk-signed body's chain: each chunk's signature from the one
    before it, the first from the request's own; None where the body is
    not chunk-signed, else whether every chunk verifies."""
    if header(req, "x-amz-content-sha256") != "STREAMING-AWS4-HMAC-SHA256-PAYLOAD":
        return None
    lines = string_to_sign.split(b"\n")
    previous = hmac.new(key, string_to_sign, "sha256").hexdigest()
    rest, total = body_of(req), 0
    while True:
        line, _, rest = rest.partition(b"\r\n")
        size, _, signature = line.decode().partition(";chunk-signature=")
        if not size:
            return False
        size = int(size, 16)
        data, rest = rest[:size], rest[size + 2:]
        text = b"\n".join([b"AWS4-HMAC-SHA256-PAYLOAD", lines[1], lines[2], previous.encode(),
                           hashlib.sha256(b"").hexdigest().encode(), hashlib.sha256(data).hexdigest().encode()])
        previous = hmac.new(key, text, "sha256").hexdigest()
        if previous != signature:
            return False
        total += size
        if size == 0:
            return rest == b"" and str(total) == header(req, "x-amz-decoded-content-length")


def sigv4_signing_key(secret, string_to_sign):
    """kSigning for the scope on the third line of the string to sign."""
    key = ("AWS4" + secret).encode()
    for part in string_to_sign.split(b"\n")[2].split(b"/"):
        key = hmac.new(key, part, "sha256").digest()
    return key


def template_pieces(text):
    """A profile template as [("lit", bytes) | ("part", name) | ("body", [pieces])]."""
    pieces, group, literal, i = [], None, "", 0
    target = lambda: group if group is not None else pieces

    def flush(into):
        nonlocal literal
        if literal:
            into.append(("lit", literal.encode()))
            literal = ""
    while i < len(text):
        c = text[i]
        if c in "{[}]" and text[i + 1:i + 2] == c:
            literal += c
            i += 2
            continue
        if c == "{":
            flush(target())
            end = text.index("}", i)
            target().append(("part", text[i + 1:end]))
            i = end + 1
            continue
        if c == "[":
            flush(pieces)
            group = []
        elif c == "]":
            flush(group)
            pieces.append(("body", group))
            group = None
        else:
            literal += c
        i += 1
    flush(pieces)
    return pieces


def query_param(req, name):
    for k, v in urllib.parse.parse_qsl(req.get("query") or "", keep_blank_values=True):
        if k == name:
            return v
    return None


def profile_scheme(profile):
    """A scheme function for a profile: the signed string rendered from its
    template, and every tag the signature header carries."""
    def scheme(req, config):
        prefix = config.get("header_prefix", profile.get("header_prefix", ""))
        name = lambda h: h.replace("{prefix}", prefix)
        spec = profile["signature"]
        value = header(req, config.get("signature_header") or name(spec["header"]))
        fields = {"timestamp": None, "key_id": None}
        if "prefix" in spec:
            if not value.startswith(spec["prefix"]):
                raise ValueError("no prefix")
            tags = [value[len(spec["prefix"]):]]
        elif "list" in spec:
            lst, tags = spec["list"], []
            for item in filter(None, value.split(lst["separator"])):
                key, _, item_value = item.partition(lst["assign"])
                if key == lst["tag"]:
                    tags.append(item_value)
                elif key == lst.get("timestamp"):
                    fields["timestamp"] = item_value
        elif "parts" in spec:
            parts = value.split(spec["parts"]["separator"])
            tags = []
            for field, part in zip(spec["parts"]["fields"], parts):
                if field == "tag":
                    tags.append(part)
                else:
                    fields[field] = part
        else:
            tags = [value]
        ts_spec = profile.get("timestamp") or {}
        if "header" in ts_spec:
            fields["timestamp"] = header(req, config.get("timestamp_header") or name(ts_spec["header"]))
        if "key_id" in profile:
            fields["key_id"] = header(req, name(profile["key_id"]["header"]))
        nonce = header(req, name(profile["nonce"]["header"])) if "nonce" in profile else None
        body_hash = None
        if "body_hash" in profile:
            bh = profile["body_hash"]
            body_hash = header(req, name(bh["header"])) if "header" in bh else query_param(req, bh["query"])
        endpoint = config.get("endpoint", profile.get("endpoint", ""))
        body = body_of(req)

        def part(p):
            if p == "body":
                return body
            if p == "body_json":
                return canonical_json(body).encode()
            if p == "timestamp":
                return (fields["timestamp"] or "").encode()
            if p == "nonce":
                return (nonce or "").encode()
            if p == "method":
                return req["method"].upper().encode()
            if p == "path":
                return req["path"].encode()
            if p == "endpoint":
                return endpoint.encode()
            if p == "url":
                # The endpoint's scheme and authority, then the path and query as sent.
                scheme_end = endpoint.find("://") + 3 if "://" in endpoint else 0
                slash = endpoint.find("/", scheme_end)
                origin = endpoint if slash < 0 else endpoint[:slash]
                return (origin + req["path"] + ("?" + req["query"] if req.get("query") else "")).encode()
            if p == "body_hash":
                return (body_hash or "").encode()
            if p == "form":
                # Sorted by name, then value; each name then value, no separators.
                pairs = sorted(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
                return "".join(k + v for k, v in pairs).encode()
            if p.startswith("header:"):
                return (header(req, p[len("header:"):]) or "").encode()
            raise ValueError("unknown placeholder " + p)

        def render(pieces):
            out = b""
            for kind, x in pieces:
                if kind == "lit":
                    out += x
                elif kind == "part":
                    out += part(x)
                elif body:
                    out += render(x)
            return out
        alg = config.get("algorithm", profile.get("hash", "sha256"))
        return render(template_pieces(profile["signed"])), fields["key_id"] or "default", alg, profile["encoding"], tags
    return scheme


def key_bytes(profile, secret):
    """The HMAC key of a secret: its UTF-8 bytes, or (a profile that says so)
    its base64, after an optional `whsec_`."""
    decoding = (profile or {}).get("secret", "utf8")
    if decoding == "utf8":
        return secret.encode()
    if decoding == "whsec" and secret.startswith("whsec_"):
        secret = secret[len("whsec_"):]
    return base64.b64decode(secret + "=" * (-len(secret) % 4), validate=True)


def rfc9421(req, config):
    """RFC 9421 with hmac-sha256 (rfc9421.py)."""
    base, key_id, tag = message_signatures.signature_base(req, config)
    return base, key_id, "sha256", "base64", tag


SCHEMES = {"partner": partner, "authorization": authorization, "webhook": webhook,
           "a2a": a2a, "ia-json": ia_json, "quable": quable, "sigv4": sigv4, "rfc9421": rfc9421}


def main(directory):
    checked = valid_checked = 0
    failures = []
    for name in sorted(f for f in os.listdir(directory) if f.endswith(".json")):
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            vector_file = json.load(f)
        profile = vector_file.get("profile")
        scheme = profile_scheme(profile) if profile else SCHEMES[vector_file["scheme"]]
        for case in vector_file["cases"]:
            config = case.get("config", vector_file.get("config", {}))
            keys = dict(vector_file["keys"], **case.get("keys", {}))
            for i, step in enumerate(case["steps"], 1):
                at = "%s step %d" % (case["id"], i)
                if "canonical" in step:
                    expected = step["canonical"].encode()
                elif "canonical_base64" in step:
                    expected = base64.b64decode(step["canonical_base64"])
                else:
                    if step["result"] == "valid":
                        failures.append(at + ": valid step without canonical")
                    continue
                try:
                    canonical, key_id, alg, encoding, header_tags = scheme(step["request"], config)
                except Exception as e:  # a vector this script cannot read is a failure, not a crash
                    failures.append("%s: cannot recompute: %r" % (at, e))
                    continue
                if canonical != expected:
                    failures.append("%s: canonical differs\n  vector: %r\n  python: %r" % (at, expected, canonical))
                    continue
                checked += 1
                if "tag" not in step:
                    continue
                if vector_file["scheme"] == "sigv4":
                    secret = sigv4_signing_key(keys[key_id], canonical)
                elif vector_file["scheme"] == "rfc9421":
                    # RFC 9421's shared secrets are bytes, given in base64.
                    secret = base64.b64decode(keys[key_id], validate=True)
                else:
                    secret = key_bytes(profile, keys[key_id])
                mac = hmac.new(secret, canonical, alg).digest()
                tag = mac.hex() if encoding == "hex" else base64.b64encode(mac).decode()
                if tag != step["tag"]:
                    failures.append("%s: tag differs: vector %s, python %s" % (at, step["tag"], tag))
                if vector_file["scheme"] == "sigv4":
                    chunks = sigv4_chunks_verify(step["request"], secret, canonical)
                    if chunks is not None and chunks != (step["result"] == "valid"):
                        failures.append("%s: the chunks %s, the step is %s" % (at, "verify" if chunks else "do not verify", step["result"]))
                if step["result"] == "valid":
                    valid_checked += 1
                    if isinstance(header_tags, str):
                        header_tags = [header_tags]
                    if tag not in header_tags:
                        failures.append("%s: no tag in the header (%s) is the correct tag %s" % (at, header_tags, tag))
    for failure in failures:
        print(failure, file=sys.stderr)
    print("python cross-check: %d canonical strings, %d valid tags confirmed" % (checked, valid_checked))
    print("%d passed, %d failed" % (checked, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: crosscheck.py DIR", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
