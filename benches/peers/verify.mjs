// The Node peer for `cargo xtask bench --compare`.
//
// Verifies the same signed requests as the Rust reference with Node's
// standard library only, written the straightforward way the seeds'
// examples and the providers' documentation are (crypto.createHmac per
// request, createHash, Buffer base64, JSON.parse/JSON.stringify, a Map of
// used nonces): what a team would write by hand. The built-in profiles get
// the verifier their provider documents (a profile of a seed, the seed's). Every scheme checks what the reference checks (timestamp syntax
// and window, key, body hash, tag in constant time, nonce), so the two do
// the same work.
//
// Usage: node benches/peers/verify.mjs WORKLOAD.json [SECONDS]
// Prints one JSON line: scheme, body_bytes, requests, accepted, per_second.
import crypto from "node:crypto";
import fs from "node:fs";

const plainInt = (t) => typeof t === "string" && t.length > 0 && t.length <= 19 && /^[0-9]+$/.test(t);
const within = (ts, now, past, future) => now - ts <= past && ts - now <= future;

// Constant-time comparison of two strings of the same encoding.
function sameTag(expected, received) {
  const a = Buffer.from(expected);
  const b = Buffer.from(received ?? "");
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

function record(nonces, keyId, nonce) {
  const key = keyId + "\n" + nonce;
  if (nonces.has(key)) return false;
  nonces.set(key, true);
  return true;
}

function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === "object") {
    const out = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys(v[k]);
    return out;
  }
  return v;
}

function verifyPartner(req, w) {
  const parts = (req.h["x-signature"] ?? "").split(".");
  if (parts.length !== 3 || !parts[0] || !plainInt(parts[1])) return false;
  const [integrationId, ts, tag] = parts;
  if (!within(Number(ts), w.now_ms, 300000, 300000)) return false;
  const secret = w.keys.get(integrationId);
  if (secret === undefined) return false;
  // Seed 000: canonical JSON of the parsed body, keys sorted.
  const body = req.body.length ? JSON.parse(req.body.toString("utf8")) : {};
  const canonical = JSON.stringify(sortKeys(body ?? {}));
  const expected = crypto.createHmac("sha256", secret).update(canonical + ts).digest("hex");
  return sameTag(expected, tag);
}

function verifyAuthorization(req, w, nonces) {
  const value = req.h["authorization"] ?? "";
  if (!value.startsWith("Signature ")) return false;
  const params = {};
  for (const part of value.slice("Signature ".length).split(",")) {
    const i = part.indexOf("=");
    const name = part.slice(0, i).trim();
    const quoted = part.slice(i + 1);
    if (name in params || quoted.length < 2 || quoted[0] !== '"' || quoted.at(-1) !== '"') return false;
    params[name] = quoted.slice(1, -1);
  }
  const { timestamp: ts, nonce, keyId } = params;
  if (!plainInt(ts) || !nonce || !keyId) return false;
  if (!within(Number(ts), Math.floor(w.now_ms / 1000), 300, 30)) return false;
  const secret = w.keys.get(keyId);
  if (secret === undefined) return false;
  const algorithm = { "HMAC-SHA256": "sha256", "HMAC-SHA512": "sha512" }[params.algorithm ?? "HMAC-SHA256"];
  if (!algorithm) return false;
  const lines = [req.method.toUpperCase(), req.path];
  const names = (params.headers ?? "").split(" ").filter(Boolean).map((h) => h.toLowerCase()).sort();
  for (const name of names) lines.push(name + ":" + (req.h[name] ?? ""));
  if (req.query) {
    const pairs = [...new URLSearchParams(req.query)].sort((a, b) =>
      a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);
    lines.push(pairs.map(([k, v]) => k + "=" + v).join("&"));
  }
  if (req.body.length) lines.push("body-hash:" + crypto.createHash("sha256").update(req.body).digest("hex"));
  lines.push("timestamp:" + ts, "nonce:" + nonce);
  const expected = crypto.createHmac(algorithm, secret).update(lines.join("\n")).digest("hex");
  if (!sameTag(expected, params.signature)) return false;
  return record(nonces, keyId, nonce);
}

function timestampDotBody(req, w, signatureHeader, timestampHeader, keyHeader, past, future) {
  const ts = req.h[timestampHeader];
  const tag = req.h[signatureHeader];
  if (!plainInt(ts) || tag === undefined) return false;
  if (!within(Number(ts), Math.floor(w.now_ms / 1000), past, future)) return false;
  const secret = w.keys.get(keyHeader ? req.h[keyHeader] : "default");
  if (secret === undefined) return false;
  const expected = crypto.createHmac("sha256", secret).update(ts + ".").update(req.body).digest("hex");
  return sameTag(expected, tag);
}

function verifyA2a(req, w, nonces) {
  // Seed 002's verifier: headers, window, body hash, canonical string, tag.
  const h = req.h;
  const keyId = h["x-api-key-id"], ts = h["x-timestamp"], nonce = h["x-nonce"], signature = h["x-signature"];
  if (!keyId || !nonce || signature === undefined || !plainInt(ts)) return false;
  if (!within(Number(ts), Math.floor(w.now_ms / 1000), 300, 300)) return false;
  const bodyHash = h["x-body-hash"];
  if (req.body.length) {
    if (bodyHash !== crypto.createHash("sha256").update(req.body).digest("base64")) return false;
  } else if (bodyHash !== undefined) return false;
  const secret = w.keys.get(keyId);
  if (secret === undefined) return false;
  const parts = [req.method.toUpperCase(), req.path, ts, nonce];
  if (bodyHash) parts.push(bodyHash);
  const expected = crypto.createHmac("sha256", secret).update(parts.join("\n")).digest("base64");
  if (!sameTag(expected, signature)) return false;
  return record(nonces, keyId, nonce);
}

function verifyQuable(req, w) {
  const ts = req.h["x-timestamp"], signature = req.h["x-signature"];
  if (!plainInt(ts) || signature === undefined) return false;
  if (!within(Number(ts), Math.floor(w.now_ms / 1000), 300, 300)) return false;
  const expected = crypto.createHmac("sha256", w.keys.get("default"))
    .update([req.method.toUpperCase(), w.endpoint, ts, ""].join("|")).update(req.body).digest("base64");
  return sameTag(expected, signature);
}

const nowS = (w) => Math.floor(w.now_ms / 1000);
const key = (w) => w.keys.get("default");

function verifyStripe(req, w) {
  // Stripe's manual verification: t and every v1 from Stripe-Signature.
  const items = (req.h["stripe-signature"] ?? "").split(",").map((i) => {
    const at = i.indexOf("=");
    return at < 0 ? [i, undefined] : [i.slice(0, at), i.slice(at + 1)];
  });
  const ts = items.filter(([k]) => k === "t").map(([, v]) => v);
  const tags = items.filter(([k, v]) => k === "v1" && v !== undefined).map(([, v]) => v);
  if (ts.length !== 1 || !plainInt(ts[0]) || !tags.length) return false;
  if (Number(ts[0]) < nowS(w) - 300) return false;
  const expected = crypto.createHmac("sha256", key(w)).update(ts[0] + ".").update(req.body).digest("hex");
  return tags.some((tag) => sameTag(expected, tag));
}

function verifyGithub(req, w) {
  const signature = req.h["x-hub-signature-256"] ?? "";
  if (!signature.startsWith("sha256=")) return false;
  return sameTag("sha256=" + crypto.createHmac("sha256", key(w)).update(req.body).digest("hex"), signature);
}

function verifyGithubSha1(req, w) {
  const signature = req.h["x-hub-signature"] ?? "";
  if (!signature.startsWith("sha1=")) return false;
  return sameTag("sha1=" + crypto.createHmac("sha1", key(w)).update(req.body).digest("hex"), signature);
}

function verifySlack(req, w) {
  const ts = req.h["x-slack-request-timestamp"];
  if (!plainInt(ts) || Math.abs(nowS(w) - Number(ts)) > 300) return false;
  const expected = "v0=" + crypto.createHmac("sha256", key(w)).update(`v0:${ts}:`).update(req.body).digest("hex");
  return sameTag(expected, req.h["x-slack-signature"]);
}

const standardWebhooks = (prefix) => (req, w, nonces) => {
  const id = req.h[`${prefix}-id`], ts = req.h[`${prefix}-timestamp`], signatures = req.h[`${prefix}-signature`];
  if (!id || !plainInt(ts) || signatures === undefined) return false;
  if (Math.abs(nowS(w) - Number(ts)) > 300) return false;
  const expected = crypto.createHmac("sha256", key(w)).update(`${id}.${ts}.`).update(req.body).digest("base64");
  for (const versioned of signatures.split(" ")) {
    const at = versioned.indexOf(",");
    if (versioned.slice(0, at) === "v1" && sameTag(expected, versioned.slice(at + 1))) return record(nonces, "default", id);
  }
  return false;
};

function verifyShopify(req, w) {
  const expected = crypto.createHmac("sha256", key(w)).update(req.body).digest("base64");
  return sameTag(expected, req.h["x-shopify-hmac-sha256"]);
}

// The configured URL's scheme and host, then the path and query requested.
const twilioUrl = (req, w) => w.endpoint.replace(/^((?:[^:/]*:\/\/)?[^/]*).*$/s, "$1") + req.path + (req.query ? `?${req.query}` : "");

function verifyTwilio(req, w) {
  let data = twilioUrl(req, w);
  const pairs = [...new URLSearchParams(req.body.toString("utf8"))].sort((a, b) =>
    a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);
  for (const [name, value] of pairs) data += name + value;
  return sameTag(crypto.createHmac("sha1", key(w)).update(data).digest("base64"), req.h["x-twilio-signature"]);
}

function verifyTwilioJson(req, w) {
  const claimed = new URLSearchParams(req.query).get("bodySHA256");
  if (claimed === null || !sameTag(crypto.createHash("sha256").update(req.body).digest("hex"), claimed)) return false;
  return sameTag(crypto.createHmac("sha1", key(w)).update(twilioUrl(req, w)).digest("base64"), req.h["x-twilio-signature"]);
}

function verifySquare(req, w) {
  const expected = crypto.createHmac("sha256", key(w)).update(w.endpoint).update(req.body).digest("base64");
  return sameTag(expected, req.h["x-square-hmacsha256-signature"]);
}

function verifyPaddle(req, w) {
  let ts; const tags = [];
  for (const item of (req.h["paddle-signature"] ?? "").split(";")) {
    const at = item.indexOf("=");
    const [k, v] = at < 0 ? [item, ""] : [item.slice(0, at), item.slice(at + 1)];
    if (k === "ts") ts = v; else if (k === "h1") tags.push(v);
  }
  if (!plainInt(ts) || !tags.length || nowS(w) > Number(ts) + 5) return false;
  const expected = crypto.createHmac("sha256", key(w)).update(`${ts}:`).update(req.body).digest("hex");
  return tags.some((tag) => sameTag(expected, tag));
}

const webhook = (r, w) => timestampDotBody(r, w, "x-webhook-signature", "x-webhook-timestamp", null, 300, 30);
const iaJson = (r, w) => timestampDotBody(r, w, "x-ia-signature", "x-ia-timestamp", "x-ia-key", 60, 60);

const VERIFY = {
  partner: verifyPartner,
  authorization: verifyAuthorization,
  webhook,
  a2a: verifyA2a,
  "ia-json": iaJson,
  quable: verifyQuable,
  stripe: verifyStripe,
  github: verifyGithub,
  "github-sha1": verifyGithubSha1,
  slack: verifySlack,
  "standard-webhooks": standardWebhooks("webhook"),
  svix: standardWebhooks("svix"),
  shopify: verifyShopify,
  twilio: verifyTwilio,
  "twilio-json": verifyTwilioJson,
  square: verifySquare,
  paddle: verifyPaddle,
  "seed-partner": verifyPartner,
  "seed-webhook": webhook,
  "seed-a2a": verifyA2a,
  "seed-ia-json": iaJson,
  "seed-quable": verifyQuable,
};

// The HMAC key: the secret's bytes, or (Standard Webhooks, Svix) the
// base64 after `whsec_`, as their libraries decode it.
const keyBytes = (w) => ["standard-webhooks", "svix"].includes(w.scheme)
  ? Buffer.from(w.secret.replace(/^whsec_/, ""), "base64") : Buffer.from(w.secret, "utf8");

const w = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const seconds = Number(process.argv[3] ?? 1);
const body = Buffer.from(w.body_base64, "base64");
w.keys = new Map([[w.key_id, keyBytes(w)], ["default", keyBytes(w)]]);
// What a web framework hands a verifier: headers in an object (lower-case
// names), path and query apart, the body as a Buffer. Built before timing.
const requests = w.requests.map((r) => {
  const [path, query = ""] = r.target.split("?");
  return { method: r.method, path, query, h: Object.fromEntries(r.headers), body };
});
const verify = VERIFY[w.scheme];
let best = 0, spent = 0, accepted = null;
// Rounds over every request, each with a fresh nonce store, until the time
// is spent; the best round counts (as for the Rust side).
while (spent < seconds || accepted === null) {
  const nonces = new Map();
  const started = process.hrtime.bigint();
  let ok = 0;
  for (const r of requests) if (verify(r, w, nonces)) ok++;
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  spent += elapsed;
  accepted = accepted === null ? ok : Math.min(accepted, ok);
  best = Math.max(best, requests.length / elapsed);
}
console.log(JSON.stringify({ peer: "node", scheme: w.scheme, body_bytes: w.body_bytes,
  requests: requests.length, accepted, per_second: best }));
