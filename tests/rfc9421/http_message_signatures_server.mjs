// A verifying server around npm's http-message-signatures, as its README
// shows it: a key store of `{ id, algs, verify: createVerifier(secret,
// 'hmac-sha256') }` looked up by `keyid`, and `httpbis.verifyMessage(config,
// { method, url, headers })`, with the options its VerifyConfig documents
// set to the policy the runner is told: `@method`, `@authority` and `@path`
// covered, `created` and `keyid` required, a maximum age of 300 s and no
// tolerance. (The library compares no Content-Digest with the body; its
// README shows none.)
//
// 200 with the key id when it verifies; 401 when it returns false or throws
// (its README catches every error of `verifyMessage`; many are plain
// `Error`s), with the error's message.
//
// Usage: node http_message_signatures_server.mjs PORT KEY_ID BASE64_SECRET
import { createServer } from 'node:http';
import { createRequire } from 'node:module';

// NODE_PACKAGES: the folder whose node_modules holds the library.
const require = createRequire(process.env.NODE_PACKAGES + '/');
const { httpbis: { verifyMessage }, createVerifier } = require('http-message-signatures');

const [port, keyId, secret] = process.argv.slice(2);
const keys = new Map();
keys.set(keyId, { id: keyId, algs: ['hmac-sha256'], verify: createVerifier(Buffer.from(secret, 'base64'), 'hmac-sha256') });

createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    const answer = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    try {
      const verified = await verifyMessage({
        async keyLookup(params) {
          return keys.get(params.keyid);
        },
        requiredFields: ['@method', '@authority', '@path'],
        requiredParams: ['created', 'keyid'],
        maxAge: 300,
        tolerance: 0,
      }, {
        method: req.method,
        url: `http://${req.headers.host}${req.url}`,
        headers: req.headers,
      });
      if (verified) answer(200, { ok: true, key_id: keyId });
      else answer(401, { ok: false });
    } catch (e) {
      answer(401, { ok: false, error: String(e.message) });
    }
  });
}).listen(Number(port), '127.0.0.1');
