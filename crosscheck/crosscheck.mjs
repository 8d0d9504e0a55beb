// Independent confirmation of the vectors with Node's standard library only.
//
// For every step that has a canonical string, recompute it from the request
// and the scheme's rules, recompute the tag with node:crypto, and compare.
// For valid steps the tag in the request's headers must match too.
// `partner`'s canonical JSON is JSON.parse + recursive key sort +
// JSON.stringify (canonical-json.mjs): the real JavaScript engine, not a
// re-implementation.
// A profile's file carries the profile (`profile`): its template, header
// format and secret decoding are interpreted here from their documented
// meaning (profiles/schema.json), not from the Rust engine.
//
// Usage: node crosscheck/crosscheck.mjs DIR   (DIR = `cargo xtask vectors export` output)
import { createHmac, createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from './canonical-json.mjs';
import { signatureBase } from './rfc9421.mjs';

const dir = process.argv[2];
if (!dir) { console.error('usage: crosscheck.mjs DIR'); process.exit(2); }

const header = (req, name) => {
  const h = req.headers.find(([n]) => n.toLowerCase() === name.toLowerCase());
  return h ? h[1] : undefined;
};
const bodyOf = (req) => req.body_base64 !== undefined ? Buffer.from(req.body_base64, 'base64')
  : Buffer.from(req.body ?? '', 'utf8');
const hmac = (alg, key, msg) => createHmac(alg, key).update(msg).digest();

function authParams(value) {
  const params = {};
  for (const m of value.slice('Signature '.length).matchAll(/([A-Za-z0-9_-]+)="([^"]*)"/g)) params[m[1]] = m[2];
  return params;
}
// Form-data decoding as in application/x-www-form-urlencoded.
function formPairs(query) {
  return [...new URLSearchParams(query)].sort((a, b) =>
    a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);
}

// Each scheme: [canonical bytes, key id, hash algorithm, tag encoding, tag in the header].
const schemes = {
  partner(req) {
    const [id, ts, tag] = header(req, 'X-Signature').split('.');
    return [Buffer.from(canonicalJson(bodyOf(req)) + ts, 'utf8'), id, 'sha256', 'hex', tag];
  },
  authorization(req) {
    const p = authParams(header(req, 'Authorization'));
    const alg = p.algorithm === 'HMAC-SHA512' ? 'sha512' : 'sha256';
    const lines = [req.method.toUpperCase(), req.path];
    const names = (p.headers ?? '').split(' ').filter(Boolean).map((n) => n.toLowerCase()).sort();
    for (const n of names) lines.push(`${n}:${header(req, n) ?? ''}`);
    if (req.query) lines.push(formPairs(req.query).map(([k, v]) => `${k}=${v}`).join('&'));
    const body = bodyOf(req);
    if (body.length) lines.push(`body-hash:${createHash('sha256').update(body).digest('hex')}`);
    lines.push(`timestamp:${p.timestamp}`, `nonce:${p.nonce}`);
    return [Buffer.from(lines.join('\n'), 'utf8'), p.keyId, alg, 'hex', p.signature];
  },
  webhook(req, config) {
    const ts = header(req, config.timestamp_header ?? 'X-Webhook-Timestamp');
    const sig = header(req, config.signature_header ?? 'X-Webhook-Signature');
    return [Buffer.concat([Buffer.from(`${ts}.`), bodyOf(req)]), 'default', 'sha256', 'hex', sig];
  },
  a2a(req) {
    const parts = [req.method.toUpperCase(), req.path, header(req, 'X-Timestamp'), header(req, 'X-Nonce')];
    const bodyHash = header(req, 'X-Body-Hash');
    if (bodyHash !== undefined) parts.push(bodyHash);
    return [Buffer.from(parts.join('\n'), 'utf8'), header(req, 'X-API-Key-ID'), 'sha256', 'base64', header(req, 'X-Signature')];
  },
  'ia-json'(req, config) {
    const prefix = config.header_prefix ?? 'X-IA-';
    const ts = header(req, `${prefix}Timestamp`);
    return [Buffer.concat([Buffer.from(`${ts}.`), bodyOf(req)]), header(req, `${prefix}Key`),
      config.algorithm ?? 'sha256', 'hex', header(req, `${prefix}Signature`)];
  },
  quable(req, config) {
    const head = `${req.method.toUpperCase()}|${config.endpoint}|${header(req, 'X-Timestamp')}|`;
    return [Buffer.concat([Buffer.from(head), bodyOf(req)]), 'default', 'sha256', 'base64', header(req, 'X-Signature')];
  },  sigv4,
  // RFC 9421 with hmac-sha256 (rfc9421.mjs).
  rfc9421(req, config) {
    const [base, keyId, tag] = signatureBase(req, config);
    return [base, keyId, 'sha256', 'base64', tag];
  },
};

// AWS Signature Version 4, from the AWS IAM User Guide's description.
// Percent-decoding works on bytes (a decoded path need not be UTF-8).
function percentDecode(text) {
  const out = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '%' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      out.push(parseInt(text.slice(i + 1, i + 3), 16)); i += 2;
    } else out.push(...Buffer.from(text[i], 'utf8'));
  }
  return Buffer.from(out);
}
function awsEncode(bytes, keepSlash) {
  let out = '';
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-._~]/.test(c) || (keepSlash && c === '/') ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
function sigv4Path(path, config) {
  const s3 = (config.service ?? 's3') === 's3';
  if (config.normalize_path ?? !s3) {
    const kept = [];
    for (const seg of path.split('/')) {
      if (seg === '..') kept.pop(); else if (seg !== '' && seg !== '.') kept.push(seg);
    }
    let normal = `/${kept.join('/')}`;
    if (path.endsWith('/') && normal !== '/') normal += '/';
    path = normal;
  }
  const once = (config.uri_encoding ?? (s3 ? 'once' : 'twice')) === 'once';
  return awsEncode(once ? percentDecode(path) : Buffer.from(path, 'utf8'), true);
}
function sigv4(req, config) {
  const s3 = (config.service ?? 's3') === 's3';
  const pairs = (req.query ?? '').split('&').filter(Boolean).map((p) => {
    const at = p.indexOf('=');
    return at < 0 ? [p, ''] : [p.slice(0, at), p.slice(at + 1)];
  });
  const auth = header(req, 'Authorization');
  let credential; let signed; let tag; let date; let skip = [];
  if (auth !== undefined) {
    const [algorithm, ...rest] = auth.split(' ');
    if (algorithm !== 'AWS4-HMAC-SHA256') throw new Error(`algorithm ${algorithm}`);
    const parts = Object.fromEntries(rest.join(' ').split(',').map((c) => {
      const t = c.trim(); const at = t.indexOf('=');
      return [t.slice(0, at), t.slice(at + 1)];
    }));
    ({ Credential: credential, SignedHeaders: signed, Signature: tag } = parts);
    date = header(req, 'X-Amz-Date');
  } else {
    const q = Object.fromEntries(pairs.map(([k, v]) => [k, percentDecode(v).toString('utf8')]));
    ({ 'X-Amz-Credential': credential, 'X-Amz-SignedHeaders': signed, 'X-Amz-Signature': tag, 'X-Amz-Date': date } = q);
    skip = ['X-Amz-Signature', ...(config.token_added_after_signing ? ['X-Amz-Security-Token'] : [])];
  }
  const slash = credential.indexOf('/');
  const [keyId, scope] = [credential.slice(0, slash), credential.slice(slash + 1)];
  const query = pairs.filter(([k]) => !skip.includes(k))
    .map(([k, v]) => [awsEncode(percentDecode(k), false), awsEncode(percentDecode(v), false)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`).join('&');
  const headerLines = signed.split(';').map((name) => {
    const values = req.headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v.trim().replace(/[ \t]+/g, ' '));
    return `${name}:${values.join(',')}`;
  });
  const payload = header(req, 'x-amz-content-sha256')
    ?? (s3 && auth === undefined ? 'UNSIGNED-PAYLOAD' : createHash('sha256').update(bodyOf(req)).digest('hex'));
  const canonicalRequest = [req.method, sigv4Path(req.path, config), query, ...headerLines, '', signed, payload].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', date, scope, createHash('sha256').update(canonicalRequest, 'utf8').digest('hex')].join('\n');
  return [Buffer.from(toSign, 'utf8'), keyId, 'sha256', 'hex', tag];
}
// kSigning for the scope on the third line of the string to sign.
function sigv4SigningKey(secret, stringToSign) {
  return stringToSign.toString('utf8').split('\n')[2].split('/')
    .reduce((key, part) => hmac('sha256', key, part), Buffer.from(`AWS4${secret}`, 'utf8'));
}

// A profile template as [{lit: Buffer} | {part: name} | {body: pieces}].
function templatePieces(text) {
  const pieces = []; let group = null; let literal = '';
  const target = () => group ?? pieces;
  const flush = (into) => { if (literal) { into.push({ lit: Buffer.from(literal, 'utf8') }); literal = ''; } };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if ('{[}]'.includes(c) && text[i + 1] === c) { literal += c; i++; continue; }
    if (c === '{') {
      flush(target());
      const end = text.indexOf('}', i);
      target().push({ part: text.slice(i + 1, end) });
      i = end;
    } else if (c === '[') { flush(pieces); group = []; }
    else if (c === ']') { flush(group); pieces.push({ body: group }); group = null; }
    else literal += c;
  }
  flush(pieces);
  return pieces;
}

// A scheme function for a profile: the signed string rendered from its
// template, and every tag its signature header carries.
function profileScheme(profile) {
  return (req, config) => {
    const prefix = config.header_prefix ?? profile.header_prefix ?? '';
    const name = (h) => h.replaceAll('{prefix}', prefix);
    const spec = profile.signature;
    const value = header(req, config.signature_header ?? name(spec.header));
    const fields = { timestamp: undefined, key_id: undefined };
    let tags = [];
    if (spec.prefix !== undefined) {
      if (!value.startsWith(spec.prefix)) throw new Error('no prefix');
      tags = [value.slice(spec.prefix.length)];
    } else if (spec.list) {
      for (const item of value.split(spec.list.separator).filter(Boolean)) {
        const at = item.indexOf(spec.list.assign);
        const [key, v] = at < 0 ? [item, ''] : [item.slice(0, at), item.slice(at + 1)];
        if (key === spec.list.tag) tags.push(v);
        else if (key === spec.list.timestamp) fields.timestamp = v;
      }
    } else if (spec.parts) {
      const parts = value.split(spec.parts.separator);
      spec.parts.fields.forEach((f, i) => { if (f === 'tag') tags.push(parts[i]); else fields[f] = parts[i]; });
    } else tags = [value];
    if (profile.timestamp?.header) fields.timestamp = header(req, config.timestamp_header ?? name(profile.timestamp.header));
    if (profile.key_id) fields.key_id = header(req, name(profile.key_id.header));
    const nonce = profile.nonce ? header(req, name(profile.nonce.header)) : undefined;
    let bodyHash;
    if (profile.body_hash) {
      bodyHash = profile.body_hash.header ? header(req, name(profile.body_hash.header))
        : new URLSearchParams(req.query ?? '').get(profile.body_hash.query) ?? undefined;
    }
    const endpoint = config.endpoint ?? profile.endpoint ?? '';
    const body = bodyOf(req);
    const text = (s) => Buffer.from(s ?? '', 'utf8');
    const part = (p) => {
      switch (p) {
        case 'body': return body;
        case 'body_json': return text(canonicalJson(body));
        case 'timestamp': return text(fields.timestamp);
        case 'nonce': return text(nonce);
        case 'method': return text(req.method.toUpperCase());
        case 'path': return text(req.path);
        case 'endpoint': return text(endpoint);
        // The endpoint's scheme and authority, then the path and query as sent.
        case 'url': return text(endpoint.replace(/^((?:[^:/]*:\/\/)?[^/]*).*$/s, '$1') + req.path + (req.query ? `?${req.query}` : ''));
        case 'body_hash': return text(bodyHash);
        // Sorted by name, then value; each name then value, no separators.
        case 'form': return text(formPairs(body.toString('utf8')).map(([k, v]) => k + v).join(''));
        default:
          if (p.startsWith('header:')) return text(header(req, p.slice('header:'.length)));
          throw new Error(`unknown placeholder ${p}`);
      }
    };
    const render = (pieces) => Buffer.concat(pieces.map((piece) => piece.lit ?? (piece.part !== undefined
      ? part(piece.part) : (body.length ? render(piece.body) : Buffer.alloc(0)))));
    const alg = config.algorithm ?? profile.hash ?? 'sha256';
    return [render(templatePieces(profile.signed)), fields.key_id ?? 'default', alg, profile.encoding, tags];
  };
}

// The HMAC key of a secret: its UTF-8 bytes, or (a profile that says so)
// its base64, after an optional `whsec_`.
function keyBytes(profile, secret) {
  const decoding = profile?.secret ?? 'utf8';
  if (decoding === 'utf8') return Buffer.from(secret, 'utf8');
  const encoded = decoding === 'whsec' && secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  return Buffer.from(encoded, 'base64');
}

let checked = 0; let validChecked = 0; const failures = [];
for (const name of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
  const file = JSON.parse(readFileSync(join(dir, name), 'utf8'));
  const scheme = file.profile ? profileScheme(file.profile) : schemes[file.scheme];
  for (const c of file.cases) {
    const keys = { ...file.keys, ...(c.keys ?? {}) };
    c.steps.forEach((step, i) => {
      const at = `${c.id} step ${i + 1}`;
      const hasCanonical = step.canonical !== undefined || step.canonical_base64 !== undefined;
      if (step.result === 'valid' && !hasCanonical) { failures.push(`${at}: valid step without canonical`); return; }
      if (!hasCanonical) return;
      let canonical, keyId, alg, enc, headerTags;
      try {
        [canonical, keyId, alg, enc, headerTags] = scheme(step.request, c.config ?? file.config ?? {});
      } catch (e) {
        failures.push(`${at}: cannot recompute: ${e.message}`); return;
      }
      const expected = step.canonical_base64 !== undefined ? Buffer.from(step.canonical_base64, 'base64')
        : Buffer.from(step.canonical, 'utf8');
      if (!canonical.equals(expected)) {
        failures.push(`${at}: canonical differs\n  vector: ${JSON.stringify(expected.toString())}\n  node:   ${JSON.stringify(canonical.toString())}`);
        return;
      }
      checked++;
      if (step.tag === undefined) return;
      const secret = keys[keyId];
      if (secret === undefined) { failures.push(`${at}: key ${keyId} not in file`); return; }
      // RFC 9421's shared secrets are bytes, given in base64.
      const key = file.scheme === 'sigv4' ? sigv4SigningKey(secret, canonical)
        : file.scheme === 'rfc9421' ? Buffer.from(secret, 'base64') : keyBytes(file.profile, secret);
      const tag = hmac(alg, key, canonical).toString(enc);
      if (tag !== step.tag) failures.push(`${at}: tag differs: vector ${step.tag}, node ${tag}`);
      if (step.result === 'valid') {
        validChecked++;
        const tags = Array.isArray(headerTags) ? headerTags : [headerTags];
        if (!tags.includes(tag)) failures.push(`${at}: no tag in the header (${tags}) is the correct tag ${tag}`);
      }
    });
  }
}
for (const f of failures) console.error(f);
console.log(`node cross-check: ${checked} canonical strings, ${validChecked} valid tags confirmed`);
console.log(`${checked} passed, ${failures.length} failed`);
process.exit(failures.length ? 1 : 0);
