"""The published Python variant of `partner`'s canonical JSON, as a
long-running peer for the expected-difference test
(tests/canonical_json_js.rs):

    json.dumps(body or {}, sort_keys=True, separators=(",", ":"))

where `body` is the request body read with json.loads. It is not the
scheme's definition (that is JavaScript's, docs/rules/partner.md); the test
checks that it differs from it exactly where the vectors' interop-python
flags say.

Reads one document per line, base64-encoded; answers each with one line:
`=` and the base64 of the variant's text, or `!` and the error's name when
Python refuses the document.
"""
import base64
import json
import sys


def variant(document):
    body = json.loads(document.decode("utf-8"))
    return json.dumps(body or {}, sort_keys=True, separators=(",", ":"))


for line in sys.stdin:
    try:
        answer = "=" + base64.b64encode(variant(base64.b64decode(line)).encode("utf-8")).decode()
    except Exception as e:  # the variant's refusal is an answer, not a crash
        answer = "!" + type(e).__name__
    print(answer, flush=True)
