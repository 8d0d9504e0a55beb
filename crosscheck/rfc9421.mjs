// RFC 9421 HTTP Message Signatures (hmac-sha256) for the Node cross-check,
// written from RFC 9421 and RFC 8941 with Node's standard library only:
// a structured-field parser and serializer, the component values, the
// signature base. `signatureBase(req, config)` returns
// [base, key id, tag in the header] or throws where the RFC says the base
// cannot be made.

class Token { constructor(text) { this.text = text; } }

// RFC 8941 section 4.2. Values: items are {value, params}, inner lists
// {items, params}; params are [key, value] pairs in order.
class Parser {
  constructor(text) { this.s = text; this.i = 0; }
  peek() { return this.s[this.i] ?? ''; }
  fail(why) { throw new Error(`structured field: ${why} at ${this.i} in ${JSON.stringify(this.s)}`); }
  top(kind) {
    while (this.peek() === ' ') this.i++;
    const value = kind === 'dict' ? this.dict() : kind === 'list' ? this.list() : this.item();
    while (this.peek() === ' ') this.i++;
    if (this.i !== this.s.length) this.fail('trailing characters');
    return value;
  }
  members(one) {
    while (this.i < this.s.length) {
      one();
      while (this.peek() === ' ' || this.peek() === '\t') this.i++;
      if (this.i === this.s.length) return;
      if (this.peek() !== ',') this.fail('expected a comma');
      this.i++;
      while (this.peek() === ' ' || this.peek() === '\t') this.i++;
      if (this.i === this.s.length) this.fail('a trailing comma');
    }
  }
  dict() {
    const out = new Map();
    this.members(() => {
      const key = this.key();
      let value;
      if (this.peek() === '=') { this.i++; value = this.entry(); } else value = { value: true, params: this.params() };
      out.delete(key);
      out.set(key, value);
    });
    return out;
  }
  list() { const out = []; this.members(() => out.push(this.entry())); return out; }
  entry() { return this.peek() === '(' ? this.innerList() : this.item(); }
  innerList() {
    this.i++;
    const items = [];
    for (;;) {
      while (this.peek() === ' ') this.i++;
      if (this.peek() === ')') { this.i++; return { items, params: this.params() }; }
      items.push(this.item());
      if (this.peek() !== ' ' && this.peek() !== ')') this.fail('an item not followed by a space');
    }
  }
  item() { return { value: this.bare(), params: this.params() }; }
  params() {
    let out = [];
    while (this.peek() === ';') {
      this.i++;
      while (this.peek() === ' ') this.i++;
      const key = this.key();
      let value = true;
      if (this.peek() === '=') { this.i++; value = this.bare(); }
      out = out.filter(([k]) => k !== key).concat([[key, value]]);
    }
    return out;
  }
  match(re) {
    re.lastIndex = this.i;
    const m = re.exec(this.s);
    if (!m) return null;
    this.i = re.lastIndex;
    return m;
  }
  key() { const m = this.match(/[a-z*][a-z0-9_\-.*]*/y); if (!m) this.fail('expected a key'); return m[0]; }
  bare() {
    const c = this.peek();
    if (c === '-' || /[0-9]/.test(c)) {
      const m = this.match(/-?[0-9]+(\.[0-9]+)?/y);
      if (!m) this.fail('a number');
      if (m[1]) return { decimal: Number(m[0]) };
      if (m[0].replace('-', '').length > 15) this.fail('an integer too long');
      return BigInt(m[0]);
    }
    if (c === '"') {
      this.i++;
      let out = '';
      for (;;) {
        const ch = this.peek();
        if (ch === '') this.fail('an unterminated string');
        this.i++;
        if (ch === '\\') {
          const next = this.peek();
          if (next !== '"' && next !== '\\') this.fail('a bad escape');
          out += next; this.i++;
        } else if (ch === '"') return out;
        else if (ch < ' ' || ch > '~') this.fail('a character outside strings');
        else out += ch;
      }
    }
    if (c === ':') {
      const end = this.s.indexOf(':', this.i + 1);
      if (end < 0) this.fail('an unterminated byte sequence');
      const text = this.s.slice(this.i + 1, end);
      if (!/^[A-Za-z0-9+/=]*$/.test(text)) this.fail('not base64');
      this.i = end + 1;
      return Buffer.from(text, 'base64');
    }
    if (c === '?') {
      const b = this.s[this.i + 1];
      if (b !== '0' && b !== '1') this.fail('a boolean');
      this.i += 2;
      return b === '1';
    }
    const m = this.match(/[A-Za-z*][A-Za-z0-9:/!#$%&'*+\-.^_`|~]*/y);
    if (!m) this.fail('an unknown bare item');
    return new Token(m[0]);
  }
}

function serBare(v) {
  if (v === true) return '?1';
  if (v === false) return '?0';
  if (typeof v === 'bigint') return v.toString();
  if (v && v.decimal !== undefined) {
    const text = v.decimal.toFixed(3).replace(/0+$/, '');
    return text.endsWith('.') ? `${text}0` : text;
  }
  if (Buffer.isBuffer(v)) return `:${v.toString('base64')}:`;
  if (v instanceof Token) return v.text;
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
const serParams = (params) => params.map(([k, v]) => (v === true ? `;${k}` : `;${k}=${serBare(v)}`)).join('');
function serEntry(e) {
  if (e.items) return `(${e.items.map(serEntry).join(' ')})${serParams(e.params)}`;
  return serBare(e.value) + serParams(e.params);
}
const serDict = (d) => [...d].map(([k, v]) => (v.value === true ? k + serParams(v.params) : `${k}=${serEntry(v)}`)).join(', ');

const DICTIONARIES = new Set(['signature', 'signature-input', 'accept-signature', 'content-digest', 'repr-digest',
  'want-content-digest', 'want-repr-digest', 'priority', 'example-dict']);
const LISTS = new Set(['cache-status', 'proxy-status', 'example-list']);

const fieldLines = (req, name) => req.headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v.replace(/^[ \t]+|[ \t]+$/g, ''));

// The URL standard's form serializer, with %20 for a space (the RFC's examples).
const formEncode = (text) => [...Buffer.from(text, 'utf8')].map((b) => {
  const c = String.fromCharCode(b);
  return /[A-Za-z0-9*\-._]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
}).join('');

function authority(req, scheme) {
  let host = fieldLines(req, 'host')[0].toLowerCase();
  const port = { http: '80', https: '443' }[scheme];
  const at = host.lastIndexOf(':');
  if (at >= 0 && host.slice(at + 1) === port) host = host.slice(0, at);
  return host;
}

function componentValue(req, name, params, config) {
  const p = Object.fromEntries(params);
  if (name.startsWith('@')) {
    const scheme = config.target_scheme ?? 'https';
    const path = req.path || '/';
    const query = req.query;
    const withQuery = path + (query !== undefined && query !== null ? `?${query}` : '');
    switch (name) {
      case '@method': return req.method;
      case '@authority': return authority(req, scheme);
      case '@scheme': return scheme;
      case '@path': return path;
      case '@query': return `?${query ?? ''}`;
      case '@request-target': return withQuery;
      case '@target-uri': return `${scheme}://${fieldLines(req, 'host')[0]}${withQuery}`;
      case '@query-param': {
        const wanted = new URLSearchParams(`${p.name}=`).keys().next().value;
        const values = new URLSearchParams(query ?? '').getAll(wanted);
        if (values.length !== 1) throw new Error(`query parameter ${wanted}: ${values.length} values`);
        return formEncode(values[0]);
      }
      default: throw new Error(`derived component ${name}`);
    }
  }
  const lines = fieldLines(req, name);
  if (!lines.length) throw new Error(`field ${name} absent`);
  if (p.bs) return lines.map((l) => `:${Buffer.from(l, 'utf8').toString('base64')}:`).join(', ');
  const combined = lines.join(', ');
  if (p.key !== undefined) {
    const member = new Parser(combined).top('dict').get(p.key);
    if (!member) throw new Error(`no member ${p.key}`);
    return serEntry(member);
  }
  if (p.sf) {
    if (DICTIONARIES.has(name)) return serDict(new Parser(combined).top('dict'));
    if (LISTS.has(name)) return new Parser(combined).top('list').map(serEntry).join(', ');
    throw new Error(`sf on ${name}, a field of unknown type`);
  }
  return combined;
}

export function signatureBase(req, config) {
  const inputs = new Parser(fieldLines(req, 'signature-input').join(', ')).top('dict');
  const signatures = new Parser(fieldLines(req, 'signature').join(', ')).top('dict');
  const label = config.label ?? inputs.keys().next().value;
  const input = inputs.get(label);
  const lines = []; const seen = new Set();
  for (const item of input.items) {
    const name = item.value;
    const id = serEntry(item);
    if (seen.has(id)) throw new Error('a component covered twice');
    seen.add(id);
    const allowed = name === '@query-param' ? ['name'] : name.startsWith('@') ? [] : ['sf', 'key', 'bs'];
    if (item.params.some(([k]) => !allowed.includes(k))) throw new Error(`a parameter that does not apply: ${id}`);
    lines.push(`${id}: ${componentValue(req, name, item.params, config)}`);
  }
  lines.push(`"@signature-params": ${serEntry(input)}`);
  const base = lines.join('\n');
  if (!/^[\x00-\x7f]*$/.test(base)) throw new Error('a non-ASCII base');
  const keyId = Object.fromEntries(input.params).keyid ?? 'default';
  const tag = signatures.get(label)?.value;
  return [Buffer.from(base, 'utf8'), keyId, Buffer.isBuffer(tag) ? tag.toString('base64') : String(tag)];
}
