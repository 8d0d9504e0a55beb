"""A verifying server around PyPI's http-message-signatures, as its README
shows it: `HTTPMessageVerifier` with `algorithms.HMAC_SHA256` and a key
resolver, `verify(request, body=...)`, trusting only what `verify` returns
(the README's "See what is signed": the method, authority and path required
covered, `require_components`). The library's own defaults stand: a
signature may be a day old (`max_age`), five seconds ahead (`max_clock_skew`).

200 with the key id when the library verifies; 401 when it raises one of its
exceptions; anything else it raises is a 500 with the exception's name, as
a server that does not expect it would answer.

Usage: python http_message_signatures_server.py PORT KEY_ID BASE64_SECRET
"""
import base64
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from http_message_signatures import HTTPMessageVerifier, HTTPSignatureKeyResolver, algorithms
from http_message_signatures.exceptions import HTTPMessageSignaturesException

PORT, KEY_ID, SECRET = int(sys.argv[1]), sys.argv[2], base64.b64decode(sys.argv[3])


class KeyResolver(HTTPSignatureKeyResolver):
    keys = {KEY_ID: SECRET}

    def resolve_public_key(self, key_id):
        return self.keys[key_id]


verifier = HTTPMessageVerifier(signature_algorithm=algorithms.HMAC_SHA256, key_resolver=KeyResolver())


class Request:
    """The received request as the library reads one: method, URL, header lines."""

    def __init__(self, handler):
        self.method = handler.command
        self.url = "http://%s%s" % (handler.headers.get("Host", ""), handler.path)
        self.headers = Headers(handler.headers.items())


class Headers:
    def __init__(self, lines):
        self.lines = list(lines)

    def items(self):
        return list(self.lines)

    def __iter__(self):
        return iter(dict.fromkeys(n for n, _ in self.lines))

    def __contains__(self, name):
        return any(n.lower() == name.lower() for n, _ in self.lines)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = self.read_chunks()
        else:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
        try:
            results = verifier.verify(Request(self), body=body,
                                      require_components=("@method", "@authority", "@path"))
            self.answer(200, {"ok": True, "key_id": results[0].parameters.get("keyid")})
        except HTTPMessageSignaturesException as e:
            self.answer(401, {"ok": False, "error": str(e)})
        except Exception as e:  # what the library did not expect to raise
            self.answer(500, {"ok": False, "error": type(e).__name__})

    def read_chunks(self):
        """A body in HTTP/1.1 chunks (http.server does not decode them)."""
        body = b""
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return body
            body += self.rfile.read(size)
            self.rfile.readline()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
