//! Sample request bodies of a chosen size: the runner's large-body
//! acceptance case and the benchmarks send the same documents.

/// A JSON object of exactly `len` bytes (for `len` of 12 and more): order
/// lines such as an API receives, padded to size by a `note` string. Below
/// 12 bytes, `{}` (and an empty body for 0).
pub fn json_document(len: usize) -> Vec<u8> {
    const MIN: usize = r#"{"note":""}"#.len() + 1;
    if len == 0 {
        return Vec::new();
    }
    if len < MIN {
        return b"{}".to_vec();
    }
    const HEAD: &str = r#"{"items":["#;
    const TAIL: &str = r#"],"note":""#;
    let mut items = String::new();
    for i in 0.. {
        let item = format!(
            r#"{{"sku":"SKU-{i:06}","qty":{},"price":{}.{:02},"tags":["a","b"]}}"#,
            i % 7 + 1,
            i % 90 + 10,
            // Never `.00`: JavaScript prints 10.00 as 10, Python as 10.0,
            // and the peers must agree with the reference on every request.
            i % 99 + 1
        );
        let separator = usize::from(!items.is_empty());
        // The document so far plus this item, the tail and the closing `"}`.
        if HEAD.len() + items.len() + separator + item.len() + TAIL.len() + 2 > len {
            break;
        }
        if separator == 1 {
            items.push(',');
        }
        items.push_str(&item);
    }
    let open = if items.is_empty() {
        r#"{"note":""#.to_owned()
    } else {
        format!("{HEAD}{items}{TAIL}")
    };
    let pad = "x".repeat(len - open.len() - 2);
    let doc = format!("{open}{pad}\"}}");
    debug_assert_eq!(doc.len(), len);
    doc.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_documents_have_the_asked_size_and_parse() {
        for len in [12, 13, 40, 100, 256, 1000, 1024, 4096, 16 * 1024] {
            let doc = json_document(len);
            assert_eq!(doc.len(), len);
            let value: serde_json::Value = serde_json::from_slice(&doc).unwrap();
            assert!(value["note"].is_string(), "{len}");
        }
        assert!(json_document(0).is_empty());
        assert_eq!(json_document(5), b"{}");
    }
}
