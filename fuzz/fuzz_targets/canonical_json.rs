//! `partner`'s canonical JSON: total on any bytes, and a fixed point —
//! canonicalising the canonical form gives it back, and it parses to the
//! same value (numbers compared as the doubles JavaScript sees).
#![no_main]
use libfuzzer_sys::fuzz_target;
use sigconform::canonical_json::canonical_json;

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

fuzz_target!(|data: &[u8]| {
    let Ok(canonical) = canonical_json(data) else {
        return;
    };
    assert_eq!(
        canonical_json(canonical.as_bytes()).unwrap(),
        canonical,
        "not a fixed point"
    );
    if !data.is_empty() {
        let original: serde_json::Value = serde_json::from_slice(data).unwrap();
        if !original.is_null() {
            let reparsed: serde_json::Value = serde_json::from_str(&canonical).unwrap();
            assert_eq!(as_doubles(original), as_doubles(reparsed));
        }
    }
});
