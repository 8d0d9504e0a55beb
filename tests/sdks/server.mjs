// Providers' official Node SDKs verifying webhooks exactly as their
// documentation shows, each behind Node's own `http` server: the targets of
// tests/sdks.rs. `node server.mjs PROVIDER PORT`, the secret in SECRET, the
// SDKs found under NODE_PATH's parent (`--prefix` of `npm install`).
//
// Each handler gets the raw body as the documentation has it (a Buffer, or
// its text where the SDK takes a string) and the headers, calls the SDK,
// and answers 2xx when it accepts and 400 when it throws the error its
// documentation catches; anything else becomes a 500, as it would in the
// application.
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const require = createRequire(process.env.SDK_DIR + "/");

/** An SDK that is an ES module only, imported from where npm put it. */
async function importSdk(name) {
  const dir = `${process.env.SDK_DIR}/node_modules/${name}`;
  const manifest = JSON.parse(readFileSync(`${dir}/package.json`, "utf8"));
  let entry = manifest.exports?.["."] ?? manifest.exports ?? manifest.module ?? manifest.main;
  while (typeof entry === "object") entry = entry.import ?? entry.node ?? entry.default;
  return import(pathToFileURL(`${dir}/${entry}`).href);
}
const secret = process.env.SECRET;
const [provider, port] = process.argv.slice(2);

/** Svix's and Standard Webhooks' libraries, which share their API. */
function webhookLibrary(name) {
  return async (body, headers) => {
    const { Webhook, WebhookVerificationError } = require(name);
    try {
      new Webhook(secret).verify(body, headers);
    } catch (err) {
      if (err instanceof WebhookVerificationError) return 400;
      throw err;
    }
    return 204;
  };
}

const providers = {
  // docs.stripe.com/webhooks: constructEvent(raw body, header, secret) in a try.
  stripe: async (body, headers) => {
    const stripe = require("stripe")("sk_test_unused");
    try {
      stripe.webhooks.constructEvent(body, headers["stripe-signature"], secret);
    } catch (err) {
      if (err.type === "StripeSignatureVerificationError") return 400;
      throw err;
    }
    return 200;
  },
  // docs.svix.com, and standard-webhooks' JavaScript library README:
  // new Webhook(secret).verify(raw body, headers) in a try.
  svix: webhookLibrary("svix"),
  "standard-webhooks": webhookLibrary("standardwebhooks"),
  // paddle-node-sdk's README: await paddle.webhooks.unmarshal(raw body as
  // text, secret, Paddle-Signature) in a try.
  paddle: async (body, headers) => {
    const { Paddle } = require("@paddle/paddle-node-sdk");
    const paddle = new Paddle("unused-api-key");
    try {
      await paddle.webhooks.unmarshal(body.toString(), secret, headers["paddle-signature"] ?? "");
    } catch (err) {
      console.error(`400: ${err.name}: ${err.message}`);
      return 400;
    }
    return 200;
  },
  // Square's documentation (validate notifications): await
  // WebhooksHelper.verifySignature({ requestBody (text), signatureHeader,
  // signatureKey, notificationUrl }), the URL as configured in Square.
  square: async (body, headers) => {
    const { WebhooksHelper } = require("square");
    const valid = await WebhooksHelper.verifySignature({
      requestBody: body.toString(),
      signatureHeader: headers["x-square-hmacsha256-signature"],
      signatureKey: secret,
      notificationUrl: process.env.NOTIFICATION_URL,
    });
    return valid ? 200 : 401;
  },
  // @octokit/webhooks-methods' README: await verify(secret, payload, signature).
  github: async (body, headers) => {
    const { verify } = await importSdk("@octokit/webhooks-methods");
    return (await verify(secret, body.toString(), headers["x-hub-signature-256"])) ? 200 : 401;
  },
  // x-hub-signature's README (GitHub's legacy X-Hub-Signature):
  // new XHubSignature("sha1", secret).verify(header value, raw body).
  "github-sha1": async (body, headers) => {
    const { default: XHubSignature } = await importSdk("x-hub-signature");
    return new XHubSignature("sha1", secret).verify(headers["x-hub-signature"], body) ? 200 : 401;
  },
};

createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", async () => {
    let status;
    if (req.url.split("?")[0] !== "/webhook") {
      status = 404;
    } else {
      try {
        status = await providers[provider](Buffer.concat(chunks), req.headers);
      } catch (err) {
        console.error(`500: ${err.name}: ${err.message}`);
        status = 500;
      }
    }
    res.writeHead(status, { "content-type": "text/plain" }).end(status < 300 ? "ok" : "refused");
  });
}).listen(Number(port), "127.0.0.1");
