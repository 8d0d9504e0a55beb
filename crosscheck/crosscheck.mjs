// Independent confirmation of the vectors with Node's standard library only.
//
// For every step that has a canonical string, recompute it from the request
// and the scheme's rules, recompute the tag with node:crypto, and compare.
// For valid steps the tag in the request's headers must match too.
// `partner`'s canonical JSON is JSON.parse + recursive key sort +
// JSON.stringify: the real JavaScript engine, not a re-implementation.
//
// Usage: node crosscheck/crosscheck.mjs DIR   (DIR = `cargo xtask vectors export` output)
import { createHmac, createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (!dir) { console.error('usage: crosscheck.mjs DIR'); process.exit(2); }

const header = (req, name) => {
  const h = req.headers.find(([n]) => n.toLowerCase() === name.toLowerCase());
  return h ? h[1] : undefined;
};
const bodyOf = (req) => req.body_base64 !== undefined ? Buffer.from(req.body_base64, 'base64')
  : Buffer.from(req.body ?? '', 'utf8');
const hmac = (alg, secret, msg) => createHmac(alg, Buffer.from(secret, 'utf8')).update(msg).digest();

function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const out = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys(v[k]);
    return out;
  }
  return v;
}
function canonicalJson(body) {
  if (body.length === 0) return '{}';
  const parsed = JSON.parse(body.toString('utf8'));
  return parsed === null ? '{}' : JSON.stringify(sortKeys(parsed));
}
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
  },
};

let checked = 0; let validChecked = 0; const failures = [];
for (const name of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
  const file = JSON.parse(readFileSync(join(dir, name), 'utf8'));
  const scheme = schemes[file.scheme];
  for (const c of file.cases) {
    c.steps.forEach((step, i) => {
      const at = `${c.id} step ${i + 1}`;
      const hasCanonical = step.canonical !== undefined || step.canonical_base64 !== undefined;
      if (step.result === 'valid' && !hasCanonical) { failures.push(`${at}: valid step without canonical`); return; }
      if (!hasCanonical) return;
      let canonical, keyId, alg, enc, headerTag;
      try {
        [canonical, keyId, alg, enc, headerTag] = scheme(step.request, c.config ?? file.config ?? {});
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
      const secret = file.keys[keyId];
      if (secret === undefined) { failures.push(`${at}: key ${keyId} not in file`); return; }
      const tag = hmac(alg, secret, canonical).toString(enc);
      if (tag !== step.tag) failures.push(`${at}: tag differs: vector ${step.tag}, node ${tag}`);
      if (step.result === 'valid') {
        validChecked++;
        if (headerTag !== tag) failures.push(`${at}: header tag ${headerTag} is not the correct tag ${tag}`);
      }
    });
  }
}
for (const f of failures) console.error(f);
console.log(`node cross-check: ${checked} canonical strings, ${validChecked} valid tags confirmed`);
console.log(`${checked} passed, ${failures.length} failed`);
process.exit(failures.length ? 1 : 0);
