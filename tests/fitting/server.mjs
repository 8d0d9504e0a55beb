// Webhook receivers deployed the ways a runner must fit, each verifying
// with a provider's official Node SDK as its documentation shows, behind
// Node's own `http` server: the targets of tests/fitting.rs.
// `node server.mjs DEPLOYMENT PORT`, the secret in SECRET, the SDKs under
// SDK_DIR (`--prefix` of `npm install`). The route is /webhook.
//
//   hides-route   GitHub (@octokit/webhooks-methods): every request that
//                 does not verify gets 404, so that nobody learns the
//                 route exists
//   exact-route   Stripe: the route matched as `req.url === "/webhook"`,
//                 so a query makes it another URL (404)
//   envelope      Stripe: the verified event is dispatched on its `type` to
//                 the application's handler, which reads its customer
//                 (`event.data.object.customer`): an event of another shape
//                 is the application's 500
//   dies          GitHub: the process exits once it has refused a request
//   wrong-secret  Stripe, configured with a secret the sender does not use:
//                 it refuses everything
//   keeps         GitHub: every delivery it accepts is kept, and a GET of
//                 /webhook/last reads back the last one kept
//   keeps-first   the same, but it keeps a delivery before it verifies it
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const require = createRequire(process.env.SDK_DIR + "/");
const [deployment, port] = process.argv.slice(2);
const secret = deployment === "wrong-secret" ? `${process.env.SECRET}-rotated` : process.env.SECRET;

/** An SDK that is an ES module only, imported from where npm put it. */
async function importSdk(name) {
  const dir = `${process.env.SDK_DIR}/node_modules/${name}`;
  const manifest = JSON.parse(readFileSync(`${dir}/package.json`, "utf8"));
  let entry = manifest.exports?.["."] ?? manifest.exports ?? manifest.module ?? manifest.main;
  while (typeof entry === "object") entry = entry.import ?? entry.node ?? entry.default;
  return import(pathToFileURL(`${dir}/${entry}`).href);
}

// @octokit/webhooks-methods' README: await verify(secret, payload, signature).
async function github(body, headers) {
  const { verify } = await importSdk("@octokit/webhooks-methods");
  const signature = headers["x-hub-signature-256"];
  return signature !== undefined && (await verify(secret, body.toString(), signature));
}

// docs.stripe.com/webhooks: constructEvent(raw body, header, secret) in a
// try; the error it documents is a refusal.
function stripeEvent(body, headers) {
  const stripe = require("stripe")("sk_test_unused");
  try {
    return stripe.webhooks.constructEvent(body, headers["stripe-signature"], secret);
  } catch (err) {
    if (err.type === "StripeSignatureVerificationError") return null;
    throw err;
  }
}

// The application's handlers, by event type (docs.stripe.com: "handle the event").
const handlers = {
  "invoice.paid": (invoice) => invoice.customer.length,
};

// What `keeps` and `keeps-first` kept of the last delivery.
let kept = null;

const deployments = {
  "hides-route": async (req, body) => ((await github(body, req.headers)) ? 200 : 404),
  "exact-route": async (req, body) => {
    if (req.url !== "/webhook") return 404;
    return stripeEvent(body, req.headers) ? 200 : 400;
  },
  envelope: async (req, body) => {
    const event = stripeEvent(body, req.headers);
    if (!event) return 400;
    handlers[event.type](event.data.object);
    return 200;
  },
  dies: async (req, body) => {
    if (await github(body, req.headers)) return 200;
    setImmediate(() => process.exit(1));
    return 401;
  },
  "wrong-secret": async (req, body) => (stripeEvent(body, req.headers) ? 200 : 400),
  keeps: async (req, body) => {
    if (!(await github(body, req.headers))) return 401;
    kept = body;
    return 200;
  },
  "keeps-first": async (req, body) => {
    kept = body;
    return (await github(body, req.headers)) ? 200 : 401;
  },
};

createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", async () => {
    let status;
    if (req.method === "GET" && req.url === "/webhook/last" && deployment.startsWith("keeps")) {
      if (kept === null) return res.writeHead(404).end();
      return res.writeHead(200, { "content-type": "application/octet-stream" }).end(kept);
    }
    if (deployment !== "exact-route" && req.url.split("?")[0] !== "/webhook") {
      status = 404;
    } else {
      try {
        status = await deployments[deployment](req, Buffer.concat(chunks));
      } catch (err) {
        console.error(`500: ${err.name}: ${err.message}`);
        status = 500;
      }
    }
    res.writeHead(status, { "content-type": "text/plain" }).end(status < 300 ? "ok" : "refused");
  });
}).listen(Number(port), "127.0.0.1");
