"""A Slack slash command's route, as slack_sdk's documentation shows it
behind Python's own HTTP server: the target of tests/fitting.rs for a
verifier of form posts. `python slack_commands.py PORT`, the signing
secret in SECRET.

The signature is checked with SignatureVerifier.is_valid_request; the
command's form is then parsed strictly, as a command handler reads it. A
body that is not a form (JSON) is the handler's error, a 500; a request
that does not verify, 401."""
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from slack_sdk.signature import SignatureVerifier

VERIFIER = SignatureVerifier(signing_secret=os.environ["SECRET"])


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        if self.path != "/slack/commands":
            return self.answer(404)
        body = self.read_body()
        try:
            if not VERIFIER.is_valid_request(body, dict(self.headers)):
                return self.answer(401)
            form = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        except Exception as e:  # what the application would not catch
            print(f"500: {type(e).__name__}: {e}", file=sys.stderr)
            return self.answer(500)
        return self.answer(200 if form else 400)

    def read_body(self):
        # What a web framework does for the application: the body by its
        # Content-Length, or decoded from chunks.
        if "chunked" not in (self.headers.get("Transfer-Encoding") or "").lower():
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b""
        while True:
            size = int(self.rfile.readline().split(b";")[0], 16)
            if size == 0:
                self.rfile.readline()
                return body
            body += self.rfile.read(size)
            self.rfile.readline()

    def answer(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
