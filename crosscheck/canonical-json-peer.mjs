// A long-running JavaScript peer for the differential test of `partner`'s
// canonical JSON (tests/canonical_json_js.rs).
//
// Reads one document per line, base64-encoded; answers each with one line:
// `=` and the base64 of its canonical JSON (canonical-json.mjs), or `!` and
// the error's name when JavaScript refuses the document.
import { createInterface } from 'node:readline';
import { canonicalJson } from './canonical-json.mjs';

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on('line', (line) => {
  let answer;
  try {
    answer = '=' + Buffer.from(canonicalJson(Buffer.from(line, 'base64')), 'utf8').toString('base64');
  } catch (e) {
    answer = '!' + e.name;
  }
  process.stdout.write(answer + '\n');
});
