"""What Python's standard library makes of decorated values, for the
lenient decoders `crates/core/src/lenient.rs` models.

Reads a JSON list of {"alphabet": "hex"|"base64"|"decimal", "text": ...}
and prints, for each, what each decoder of that alphabet reads, written
canonically (lower-case hex, padded base64, decimal digits), or null where
it raises.

Usage: python3 crosscheck/lenient_decoders.py FILE
"""
import base64
import json
import sys


def attempt(decode, encode, text):
    try:
        return encode(decode(text))
    except (ValueError, TypeError):
        return None


def b64(data):
    return base64.b64encode(data).decode()


DECODERS = {
    "base64": {
        "b64decode": lambda t: attempt(base64.b64decode, b64, t),
        "b64decode(validate=True)": lambda t: attempt(
            lambda s: base64.b64decode(s, validate=True), b64, t
        ),
    },
    "hex": {
        "bytes.fromhex": lambda t: attempt(bytes.fromhex, bytes.hex, t),
    },
    "decimal": {
        "int": lambda t: attempt(int, str, t),
    },
}

with open(sys.argv[1]) as f:
    items = json.load(f)
print(json.dumps([
    {name: read(item["text"]) for name, read in DECODERS[item["alphabet"]].items()}
    for item in items
]))
