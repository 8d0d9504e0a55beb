// What Node's Buffer and parseInt make of decorated values, for the lenient
// decoders `crates/core/src/lenient.rs` models (see lenient_decoders.py).
//
// Usage: node crosscheck/lenient_decoders.mjs FILE
import { readFileSync } from 'node:fs';

const DECODERS = {
  base64: { 'Buffer.from(base64)': (t) => Buffer.from(t, 'base64').toString('base64') },
  hex: { 'Buffer.from(hex)': (t) => Buffer.from(t, 'hex').toString('hex') },
  decimal: {
    parseInt: (t) => {
      const n = parseInt(t, 10);
      return Number.isNaN(n) ? null : String(n);
    },
  },
};

const items = JSON.parse(readFileSync(process.argv[2], 'utf8'));
console.log(JSON.stringify(items.map((item) => Object.fromEntries(
  Object.entries(DECODERS[item.alphabet]).map(([name, read]) => [name, read(item.text)]),
))));
