//! Strict hex and base64 tag decoding: whatever decodes re-encodes to the
//! same text (so no two spellings of one tag are both accepted).
#![no_main]
use libfuzzer_sys::fuzz_target;
use sigconform_core::crypto::TagEncoding;

fuzz_target!(|text: &str| {
    for encoding in [TagEncoding::LowerHex, TagEncoding::Base64] {
        if let Ok(bytes) = encoding.decode(text) {
            assert_eq!(encoding.encode(&bytes), text);
        }
    }
});
