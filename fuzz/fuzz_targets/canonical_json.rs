//! `partner`'s canonical JSON: total on any bytes; a fixed point —
//! canonicalising the canonical form gives it back (but for `null`, the
//! canonical form of a root beyond the double range); and the same grammar
//! as serde_json, a well-kept parser of its own: whatever serde_json
//! reads, we read, to the same value (numbers compared as the doubles
//! JavaScript sees); whatever we read and serde_json refuses is one of
//! the inputs where JavaScript and serde_json part (a lone surrogate, a
//! number beyond the double range, nesting past serde_json's limit).
#![no_main]
use libfuzzer_sys::fuzz_target;
use sigconform_core::canonical_json::canonical_json;

fn as_doubles(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Number(n) => serde_json::Number::from_f64(n.as_f64().unwrap_or(f64::NAN))
            .map_or(Value::Null, |n| {
                Value::Number(if n.as_f64() == Some(0.0) { 0.into() } else { n })
            }),
        Value::Array(items) => Value::Array(items.into_iter().map(as_doubles).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, as_doubles(v))).collect())
        }
        other => other,
    }
}

/// serde_json's refusals where `JSON.parse` accepts.
const JAVASCRIPT_ACCEPTS: [&str; 5] = [
    "lone leading surrogate",
    "invalid unicode code point",
    "unexpected end of hex escape",
    "number out of range",
    "recursion limit exceeded",
];

fuzz_target!(|data: &[u8]| {
    let ours = canonical_json(data);
    let theirs = (!data.is_empty()).then(|| serde_json::from_slice::<serde_json::Value>(data));
    let canonical = match (ours, theirs) {
        (Err(_), Some(Ok(_))) => panic!("refused what serde_json reads"),
        (Err(_), _) => return,
        (Ok(canonical), Some(Err(e))) => {
            let why = e.to_string();
            assert!(
                JAVASCRIPT_ACCEPTS.iter().any(|known| why.contains(known)),
                "read what serde_json refuses: {why}"
            );
            canonical
        }
        (Ok(canonical), Some(Ok(original))) => {
            if !original.is_null() {
                let reparsed: serde_json::Value = serde_json::from_str(&canonical).unwrap();
                assert_eq!(as_doubles(original), as_doubles(reparsed));
            }
            canonical
        }
        (Ok(canonical), None) => canonical,
    };
    // A root beyond the double range prints as `null`, which signs as `{}`:
    // the one text that is not a fixed point, in JavaScript as here.
    if canonical != "null" {
        assert_eq!(
            canonical_json(canonical.as_bytes()).unwrap(),
            canonical,
            "not a fixed point"
        );
    }
});
