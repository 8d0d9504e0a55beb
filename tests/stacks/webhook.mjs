// A `webhook` verifier on Node's own `http` server, as a Node application
// writes one: the raw body gathered as bytes, then the timestamp window and
// a constant-time compare of the hex tag. Used by tests/stacks.rs to show
// that the runner's verdicts hold on this stack run after run.
import { createServer } from "node:http";
import { createHmac, timingSafeEqual } from "node:crypto";

const secret = process.env.SECRET;
const port = Number(process.env.PORT);

function verify(headers, body) {
  const ts = headers["x-webhook-timestamp"];
  const tag = headers["x-webhook-signature"];
  if (typeof ts !== "string" || typeof tag !== "string") return 401;
  if (!/^[0-9]{1,19}$/.test(ts)) return 400;
  const age = Date.now() / 1000 - Number(ts);
  if (age > 300 || age < -30) return 401;
  const expected = createHmac("sha256", secret)
    .update(Buffer.concat([Buffer.from(`${ts}.`), body]))
    .digest("hex");
  const received = Buffer.from(tag, "latin1");
  if (received.length !== expected.length) return 401;
  return timingSafeEqual(received, Buffer.from(expected)) ? 200 : 401;
}

createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    if (req.url.split("?")[0] !== "/hook") {
      res.writeHead(404).end();
      return;
    }
    if (req.method !== "POST") {
      res.writeHead(405, { allow: "POST" }).end();
      return;
    }
    const status = verify(req.headers, Buffer.concat(chunks));
    res.writeHead(status, { "content-type": "text/plain" }).end(status === 200 ? "ok" : "denied");
  });
}).listen(port, "127.0.0.1");
