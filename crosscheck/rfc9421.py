"""RFC 9421 HTTP Message Signatures (hmac-sha256) for the Python cross-check,
written from RFC 9421 and RFC 8941 with the standard library only: a
structured-field parser and serializer, the component values, the
signature base.

`signature_base(req, config)` returns (base bytes, key id, tag in the
header), or raises ValueError where the RFC says the base cannot be made.
"""
import base64
import re
import urllib.parse


class Token(str):
    """An RFC 8941 token (a string is a plain str)."""


class Parser:
    """RFC 8941 section 4.2, for dictionaries, lists and items."""

    def __init__(self, text):
        self.s, self.i = text, 0

    def peek(self):
        return self.s[self.i] if self.i < len(self.s) else ""

    def sp(self):
        while self.peek() == " ":
            self.i += 1

    def ows(self):
        while self.peek() in (" ", "\t") and self.peek():
            self.i += 1

    def fail(self, why):
        raise ValueError("structured field: %s at %d in %r" % (why, self.i, self.s))

    def top(self, kind):
        self.sp()
        value = {"dict": self.dictionary, "list": self.list, "item": self.item}[kind]()
        self.sp()
        if self.i != len(self.s):
            self.fail("trailing characters")
        return value

    def members(self, one):
        out = []
        while self.i < len(self.s):
            out.append(one())
            self.ows()
            if self.i == len(self.s):
                return out
            if self.peek() != ",":
                self.fail("expected a comma")
            self.i += 1
            self.ows()
            if self.i == len(self.s):
                self.fail("a trailing comma")
        return out

    def dictionary(self):
        out = {}

        def member():
            key = self.key()
            if self.peek() == "=":
                self.i += 1
                value = self.item_or_inner()
            else:
                value = (True, self.params())
            out.pop(key, None)
            out[key] = value
        self.members(member)
        return out

    def list(self):
        return self.members(self.item_or_inner)

    def item_or_inner(self):
        if self.peek() == "(":
            return self.inner_list()
        return self.item()

    def inner_list(self):
        self.i += 1
        items = []
        while True:
            self.sp()
            if self.peek() == ")":
                self.i += 1
                return (items, self.params(), "inner")
            items.append(self.item())
            if self.peek() not in (" ", ")"):
                self.fail("an inner list item not followed by a space")

    def item(self):
        return (self.bare(), self.params())

    def params(self):
        out = []
        while self.peek() == ";":
            self.i += 1
            self.sp()
            key = self.key()
            value = True
            if self.peek() == "=":
                self.i += 1
                value = self.bare()
            out = [(k, v) for k, v in out if k != key] + [(key, value)]
        return out

    def key(self):
        m = re.compile(r"[a-z*][a-z0-9_\-.*]*").match(self.s, self.i)
        if not m:
            self.fail("expected a key")
        self.i = m.end()
        return m.group()

    def bare(self):
        c = self.peek()
        if c == "-" or c.isdigit():
            m = re.compile(r"-?[0-9]+(\.[0-9]+)?").match(self.s, self.i)
            if not m:
                self.fail("a number")
            self.i = m.end()
            text = m.group()
            if m.group(1):
                whole, frac = text.split(".")
                if len(whole.lstrip("-")) > 12 or len(frac) > 3:
                    self.fail("a decimal too long")
                return float(text)
            if len(text.lstrip("-")) > 15:
                self.fail("an integer too long")
            return int(text)
        if c == '"':
            self.i += 1
            out = []
            while True:
                c = self.peek()
                if not c:
                    self.fail("an unterminated string")
                self.i += 1
                if c == "\\":
                    nxt = self.peek()
                    if nxt not in ('"', "\\"):
                        self.fail("a bad escape")
                    out.append(nxt)
                    self.i += 1
                elif c == '"':
                    return "".join(out)
                elif not (" " <= c <= "~"):
                    self.fail("a character outside strings")
                else:
                    out.append(c)
        if c == ":":
            end = self.s.find(":", self.i + 1)
            if end < 0:
                self.fail("an unterminated byte sequence")
            text = self.s[self.i + 1:end]
            if not re.fullmatch(r"[A-Za-z0-9+/=]*", text):
                self.fail("not base64")
            self.i = end + 1
            return base64.b64decode(text + "=" * (-len(text) % 4))
        if c == "?":
            if self.s[self.i + 1:self.i + 2] not in ("0", "1"):
                self.fail("a boolean")
            self.i += 2
            return self.s[self.i - 1] == "1"
        m = re.compile(r"[A-Za-z*][A-Za-z0-9:/!#$%&'*+\-.^_`|~]*").match(self.s, self.i)
        if not m:
            self.fail("an unknown bare item")
        self.i = m.end()
        return Token(m.group())


def ser_bare(v):
    if isinstance(v, bool):
        return "?1" if v else "?0"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        text = ("%.3f" % v).rstrip("0")
        return text + "0" if text.endswith(".") else text
    if isinstance(v, bytes):
        return ":%s:" % base64.b64encode(v).decode()
    if isinstance(v, Token):
        return str(v)
    return '"%s"' % v.replace("\\", "\\\\").replace('"', '\\"')


def ser_params(params):
    return "".join(";" + k if v is True else ";%s=%s" % (k, ser_bare(v)) for k, v in params)


def ser_entry(entry):
    if len(entry) == 3:
        items, params, _ = entry
        return "(%s)%s" % (" ".join(ser_entry(i) for i in items), ser_params(params))
    return ser_bare(entry[0]) + ser_params(entry[1])


def ser_dict(d):
    out = []
    for k, v in d.items():
        if len(v) == 2 and v[0] is True:
            out.append(k + ser_params(v[1]))
        else:
            out.append("%s=%s" % (k, ser_entry(v)))
    return ", ".join(out)


DICTIONARIES = {"signature", "signature-input", "accept-signature", "content-digest", "repr-digest",
                "want-content-digest", "want-repr-digest", "priority", "example-dict"}
LISTS = {"cache-status", "proxy-status", "example-list"}


def field_lines(req, name):
    return [v.strip(" \t") for n, v in req["headers"] if n.lower() == name]


def form_encode(text):
    return urllib.parse.quote(text, safe="*-._")


def authority(req, scheme):
    host = next(v for n, v in req["headers"] if n.lower() == "host").lower()
    default = {"http": "80", "https": "443"}.get(scheme)
    if ":" in host and host.rsplit(":", 1)[1] == default:
        host = host.rsplit(":", 1)[0]
    return host


def component_value(req, name, params, config):
    p = dict(params)
    if name.startswith("@"):
        scheme = config.get("target_scheme", "https")
        path = req["path"] or "/"
        query = req.get("query")
        if name == "@method":
            return req["method"]
        if name == "@authority":
            return authority(req, scheme)
        if name == "@scheme":
            return scheme
        if name == "@path":
            return path
        if name == "@query":
            return "?" + (query or "")
        if name == "@request-target":
            return path + ("?" + query if query is not None else "")
        if name == "@target-uri":
            host = next(v for n, v in req["headers"] if n.lower() == "host")
            return "%s://%s%s" % (scheme, host, path + ("?" + query if query is not None else ""))
        if name == "@query-param":
            wanted = urllib.parse.unquote_plus(p["name"])
            values = [v for k, v in urllib.parse.parse_qsl(query or "", keep_blank_values=True) if k == wanted]
            if len(values) != 1:
                raise ValueError("query parameter %s: %d values" % (wanted, len(values)))
            return form_encode(values[0])
        raise ValueError("derived component %s" % name)
    lines = field_lines(req, name)
    if not lines:
        raise ValueError("field %s absent" % name)
    if p.get("bs"):
        return ", ".join(":%s:" % base64.b64encode(l.encode()).decode() for l in lines)
    combined = ", ".join(lines)
    if "key" in p:
        d = Parser(combined).top("dict")
        return ser_entry(d[p["key"]])
    if p.get("sf"):
        if name in DICTIONARIES:
            return ser_dict(Parser(combined).top("dict"))
        if name in LISTS:
            return ", ".join(ser_entry(e) for e in Parser(combined).top("list"))
        raise ValueError("sf on %s, a field of unknown type" % name)
    return combined


def signature_base(req, config):
    inputs = Parser(", ".join(field_lines(req, "signature-input"))).top("dict")
    signatures = Parser(", ".join(field_lines(req, "signature"))).top("dict")
    label = config.get("label") or next(iter(inputs))
    items, params, _ = inputs[label]
    lines, seen = [], set()
    for item in items:
        name, item_params = item
        identifier = ser_entry(item)
        if identifier in seen:
            raise ValueError("a component covered twice")
        seen.add(identifier)
        allowed = {"name"} if name == "@query-param" else set() if name.startswith("@") else {"sf", "key", "bs"}
        if any(k not in allowed for k, _ in item_params):
            raise ValueError("a component parameter that does not apply: %s" % identifier)
        value = component_value(req, name, item_params, config)
        lines.append("%s: %s" % (identifier, value))
    lines.append('"@signature-params": ' + ser_entry(inputs[label]))
    base = "\n".join(lines)
    if not base.isascii():
        raise ValueError("a non-ASCII base")
    keyid = dict(params).get("keyid", "default")
    tag = signatures.get(label, (b"",))[0]
    return base.encode(), keyid, base64.b64encode(tag).decode() if isinstance(tag, bytes) else str(tag)
