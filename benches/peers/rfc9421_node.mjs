// The Node peer for RFC 9421 in `cargo xtask bench --compare`: npm's
// http-message-signatures, as its README shows (a key store of
// `createVerifier(secret, 'hmac-sha256')` looked up by `keyid`,
// `httpbis.verifyMessage`), over every request of the workload. The
// library compares no Content-Digest with the body, which the application
// then does (as the Python peer's library does itself): `sha-256` of the
// body, with node:crypto, so that both peers verify what sigconform does.
//
// Usage: NODE_PACKAGES=DIR node rfc9421_node.mjs WORKLOAD.json [SECONDS]
// (DIR's node_modules holds the library)
// Prints one JSON line: scheme, body_bytes, requests, accepted, per_second.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(process.env.NODE_PACKAGES + '/');
const { httpbis: { verifyMessage }, createVerifier } = require('http-message-signatures');

const w = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const seconds = Number(process.argv[3] ?? 1);
const keys = new Map([[w.key_id, {
  id: w.key_id, algs: ['hmac-sha256'], verify: createVerifier(Buffer.from(w.secret, 'base64'), 'hmac-sha256'),
}]]);
const config = { async keyLookup(params) { return keys.get(params.keyid); } };
const messages = w.requests.map((r) => {
  const headers = {};
  for (const [n, v] of r.headers) headers[n] = headers[n] === undefined ? v : `${headers[n]}, ${v}`;
  return { method: r.method, url: `https://${headers.host}${r.target}`, headers };
});

const body = Buffer.from(w.body_base64, 'base64');

// The application's check of the body against a signed `sha-256` digest.
function digestMatches(m) {
  const digest = m.headers['content-digest'];
  if (digest === undefined) return body.length === 0;
  const declared = /(?:^|,)\s*sha-256=:([A-Za-z0-9+/=]*):/.exec(digest);
  if (!declared) return false;
  const expected = createHash('sha256').update(body).digest();
  const received = Buffer.from(declared[1], 'base64');
  return received.length === expected.length && timingSafeEqual(received, expected);
}

async function round() {
  let ok = 0;
  for (const m of messages) {
    try {
      if (await verifyMessage(config, m) && digestMatches(m)) ok++;
    } catch { /* refused */ }
  }
  return ok;
}

let best = 0; let spent = 0; let accepted = null;
while (spent < seconds || accepted === null) {
  const started = process.hrtime.bigint();
  const ok = await round();
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  spent += elapsed;
  accepted = accepted === null ? ok : Math.min(accepted, ok);
  best = Math.max(best, messages.length / elapsed);
}
console.log(JSON.stringify({ peer: 'http-message-signatures', scheme: w.scheme, body_bytes: w.body_bytes,
  requests: messages.length, accepted, per_second: best }));
