// `partner`'s canonical JSON as `docs/rules/partner.md` defines it, computed by
// JavaScript itself: JSON.stringify of JSON.parse's result with object keys
// sorted recursively (the default sort: UTF-16 code units); `{}` for an
// empty body and for JSON null. Shared by crosscheck.mjs and the
// differential test's peer (canonical-json-peer.mjs).
//
// Keys are copied as data properties (Object.defineProperty), not assigned:
// `out[k] = v` with k = "__proto__" would set the prototype instead, and the
// key JSON.parse kept would vanish from the output.

function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const out = {};
    for (const k of Object.keys(v).sort()) {
      Object.defineProperty(out, k, { value: sortKeys(v[k]), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return v;
}

// `body`: a Buffer. A body that is not UTF-8 throws (JSON text is UTF-8),
// rather than being read with U+FFFD in place of the bad bytes.
export function canonicalJson(body) {
  if (body.length === 0) return '{}';
  const parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  return parsed === null ? '{}' : JSON.stringify(sortKeys(parsed));
}
