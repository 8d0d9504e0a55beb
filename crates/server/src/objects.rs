//! The reference server as an object store, the way an S3-compatible store
//! answers (the reference for `sigv4` under S3's rules): a verified PUT
//! keeps its payload under its path, a verified GET of that path reads it
//! back (404 where nothing is kept), a verified DELETE removes it. The
//! runner reads objects back to see what a store kept of the requests it
//! accepted and refused.
//!
//! The payload of an aws-chunked upload is its chunks' data, without their
//! framing; the runner's tests swap how objects are kept ([`Keeping`]).

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;

use sigconform_core::request::Request;
use sigconform_core::scheme::sigv4::chunked;

/// How a store keeps what a PUT sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Keeping {
    /// The payload that was signed, once the request verified.
    #[default]
    AsSigned,
    /// The body as received, an aws-chunked upload with its framing.
    Framed,
    /// The payload, written before the signature is checked: a refused PUT
    /// changes the object too.
    BeforeVerifying,
}

/// Objects by path.
#[derive(Debug, Default)]
pub(crate) struct Objects {
    kept: Mutex<HashMap<String, Bytes>>,
}

impl Objects {
    fn kept(&self) -> std::sync::MutexGuard<'_, HashMap<String, Bytes>> {
        // A poisoned lock held only a map of bodies: still usable.
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps `req`'s payload under its path, as `keeping` says.
    pub(crate) fn put(&self, req: &Request, keeping: Keeping) {
        let body = match keeping {
            Keeping::Framed => req.body().clone(),
            Keeping::AsSigned | Keeping::BeforeVerifying => payload(req),
        };
        self.kept().insert(req.uri().path().to_owned(), body);
    }

    /// What is kept under `req`'s path.
    pub(crate) fn get(&self, req: &Request) -> Option<Bytes> {
        self.kept().get(req.uri().path()).cloned()
    }

    /// Removes what is kept under `req`'s path.
    pub(crate) fn delete(&self, req: &Request) {
        self.kept().remove(req.uri().path());
    }
}

/// The payload a PUT sends: the data of an aws-chunked upload (where its
/// framing reads), otherwise the body.
fn payload(req: &Request) -> Bytes {
    let aws_chunked = req
        .headers()
        .get_all(http::header::CONTENT_ENCODING)
        .iter()
        .any(|v| {
            v.to_str()
                .is_ok_and(|v| v.split(',').any(|e| e.trim() == "aws-chunked"))
        });
    match aws_chunked.then(|| chunked::decode(req.body())) {
        Some(Ok(data)) => data.into(),
        _ => req.body().clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_aws_chunked_upload_is_kept_without_its_framing() {
        let body = b"5;chunk-signature=00\r\nhello\r\n0;chunk-signature=00\r\n\r\n";
        let req = http::Request::put("/b/o")
            .header("content-encoding", "aws-chunked")
            .body(Bytes::from_static(body))
            .unwrap();
        let objects = Objects::default();
        objects.put(&req, Keeping::AsSigned);
        assert_eq!(objects.get(&req).unwrap(), "hello");
        objects.put(&req, Keeping::Framed);
        assert_eq!(objects.get(&req).unwrap(), &body[..]);
        objects.delete(&req);
        assert_eq!(objects.get(&req), None);
    }
}
