"""A `webhook` verifier as a plain ASGI application (served by uvicorn in
tests/stacks.rs): the raw body gathered, a repeated header refused, then
the timestamp window and a constant-time compare of the hex tag."""
import hashlib
import hmac
import os
import re
import time

SECRET = os.environ["SECRET"].encode()
TIMESTAMP = re.compile(rb"[0-9]{1,19}")


def verify(headers, body):
    ts = headers.get(b"x-webhook-timestamp")
    tag = headers.get(b"x-webhook-signature")
    if ts is None or tag is None:
        return 401
    if not TIMESTAMP.fullmatch(ts):
        return 400
    age = time.time() - int(ts)
    if age > 300 or age < -30:
        return 401
    expected = hmac.new(SECRET, ts + b"." + body, hashlib.sha256).hexdigest().encode()
    return 200 if hmac.compare_digest(expected, tag) else 401


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["path"] != "/hook":
        status, headers = 404, []
    elif scope["method"] != "POST":
        status, headers = 405, [(b"allow", b"POST")]
    else:
        headers = {}
        repeated = False
        for name, value in scope["headers"]:
            repeated |= name.lower() in headers
            headers.setdefault(name.lower(), value)
        # A header read as one value must come once: a proxy and this
        # application could each take another copy.
        status = 400 if repeated else verify(headers, body)
        headers = []
    text = b"ok" if status == 200 else b"denied"
    await send({"type": "http.response.start", "status": status,
                "headers": headers + [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": text})
