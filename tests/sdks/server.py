"""Providers' official Python SDKs verifying webhooks exactly as their
documentation shows, each behind Python's own HTTP server: the targets of
tests/sdks.rs. `python server.py PROVIDER PORT`, the secret in SECRET.

Each handler gets the raw body and the headers, calls the SDK, and answers
2xx when it accepts and 400 when it raises the error its documentation
catches (401 where the SDK returns a verdict instead); anything else
propagates and becomes a 500, as it would in the application."""
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from werkzeug.exceptions import HTTPException

SECRET = os.environ["SECRET"]


def stripe_verify(body, headers):
    # docs.stripe.com/webhooks: construct_event, catching ValueError and
    # SignatureVerificationError.
    import stripe
    try:
        stripe.Webhook.construct_event(body, headers.get("Stripe-Signature"), SECRET)
    except ValueError:
        return 400
    except stripe.SignatureVerificationError:
        return 400
    return 200


def webhook_library(module):
    """Svix's and Standard Webhooks' libraries, which share their API
    (docs.svix.com; standard-webhooks' Python library README):
    Webhook(secret).verify(raw body, headers)."""

    def verify(body, headers):
        library = __import__(module, fromlist=["Webhook", "WebhookVerificationError"])
        try:
            library.Webhook(SECRET).verify(body, dict(headers))
        except library.WebhookVerificationError:
            return 400
        return 204

    return verify


def slack_verify(body, headers):
    # slack_sdk's README: SignatureVerifier.is_valid_request.
    from slack_sdk.signature import SignatureVerifier
    verifier = SignatureVerifier(signing_secret=SECRET)
    return 200 if verifier.is_valid_request(body, dict(headers)) else 401


def twilio_verify(body, headers, path):
    # twilio.com/docs/usage/security (Flask): RequestValidator(auth_token)
    # .validate(request.url, request.form, X-Twilio-Signature). The form is
    # parsed as Flask parses it (werkzeug); the URL is the public one Twilio
    # requested (ENDPOINT), as behind a proxy.
    from twilio.request_validator import RequestValidator
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request
    environ = EnvironBuilder(
        path=path.split("?")[0],
        query_string=path.partition("?")[2],
        method="POST",
        # The body as the WSGI server hands it over: de-chunked, with its length.
        headers=[(k, v) for k, v in headers.items() if k.lower() != "transfer-encoding"],
        data=body,
    ).get_environ()
    request = Request(environ)
    url = os.environ["ENDPOINT"] + path
    # Form posts: the parsed form; JSON bodies (`bodySHA256` in the URL):
    # the body as text.
    params = request.get_data(as_text=True) if sys.argv[1] == "twilio-json" else request.form
    valid = RequestValidator(SECRET).validate(
        url, params, headers.get("X-Twilio-Signature", "")
    )
    return 200 if valid else 401


PROVIDERS = {
    "stripe": stripe_verify,
    "svix": webhook_library("svix.webhooks"),
    "standard-webhooks": webhook_library("standardwebhooks.webhooks"),
    "slack": slack_verify,
    "twilio": twilio_verify,
    "twilio-json": twilio_verify,
}


class Handler(BaseHTTPRequestHandler):
    verify = None

    def do_POST(self):
        if self.path.split("?")[0] != "/webhook":
            return self.answer(404)
        body = self.read_body()
        try:
            verify = PROVIDERS[sys.argv[1]]
            if sys.argv[1].startswith("twilio"):
                status = verify(body, self.headers, self.path)
            else:
                status = verify(body, self.headers)
        except HTTPException as e:  # what Flask answers with its own status (a 413)
            status = e.code
        except Exception as e:  # what the application would not catch
            print(f"500: {type(e).__name__}: {e}", file=sys.stderr)
            status = 500
        self.answer(status)

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
        text = b"ok" if status < 300 else b"refused"
        self.send_response(status)
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), Handler).serve_forever()
