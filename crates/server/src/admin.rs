//! The key lifecycle API of the reference server, as seed 002 describes it:
//!
//! ```text
//! POST   /api/v1/admin/api-keys                 create (the secret is shown once)
//! GET    /api/v1/admin/api-keys                 list
//! GET    /api/v1/admin/api-keys/{key_id}        one key
//! POST   /api/v1/admin/api-keys/{key_id}/rotate a new secret; the old one stops working
//! DELETE /api/v1/admin/api-keys/{key_id}        revoke
//! ```
//!
//! Every call carries `Authorization: Bearer {admin token}`. Answers are
//! JSON; errors are `{"error": CODE, "message": ...}` with 400, 401, 404,
//! 405, 409 or 503. Secrets appear only in the answers to create and
//! rotate, marked `Cache-Control: no-store`, and never in logs.

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::sql_keys::{Issued, KeyRecord, SqlKeys, StoreError};
use sigconform_core::crypto::sha256;
use sigconform_core::keys::{Permissions, Secret};

/// Where the API lives.
pub const PREFIX: &str = "/api/v1/admin/api-keys";

/// An answer: status, body, and whether it holds a secret.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: Value,
    /// The body holds a secret: not to be stored by caches.
    pub secret: bool,
}

fn reply(status: u16, body: Value) -> Reply {
    Reply {
        status,
        body,
        secret: false,
    }
}

fn error(status: u16, code: &str, message: impl std::fmt::Display) -> Reply {
    reply(
        status,
        json!({"error": code, "message": message.to_string()}),
    )
}

fn store_error(e: &StoreError) -> Reply {
    match e {
        StoreError::Unavailable(_) => error(503, "key_store_unavailable", e),
        StoreError::Exists(_) => error(409, "key_exists", e),
        StoreError::Revoked(_) => error(409, "key_revoked", e),
        StoreError::NotFound(_) => error(404, "not_found", e),
        StoreError::Invalid(_) => error(400, "invalid_request", e),
    }
}

fn time(ms: u64) -> String {
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms))
        .to_string()
}

/// A key as the API shows it.
pub fn record_json(record: &KeyRecord) -> Value {
    json!({
        "key_id": record.key_id,
        "active": record.active,
        "permissions": record.permissions.names(),
        "description": record.description,
        "created_at": time(record.created_at_ms),
        "rotated_at": record.rotated_at_ms.map(time),
        "revoked_at": record.revoked_at_ms.map(time),
    })
}

fn issued(status: u16, issued: &Issued) -> Reply {
    let mut body = record_json(&issued.record);
    body["secret"] = issued.secret.expose().into();
    Reply {
        status,
        body,
        secret: true,
    }
}

/// What a create request may hold.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateRequest {
    key_id: Option<String>,
    #[serde(default)]
    permissions: Vec<String>,
    #[serde(default)]
    description: String,
}

/// Whether the request carries the admin token. The two are compared as
/// SHA-256 digests, so the comparison's time says nothing about the token.
fn authorized(req: &http::Request<Bytes>, token: &Secret) -> bool {
    req.headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|given| sha256(given.as_bytes()) == sha256(token.expose().as_bytes()))
}

/// Answers one admin API request (its path starts with [`PREFIX`]).
pub async fn handle(store: &SqlKeys, token: &Secret, req: &http::Request<Bytes>) -> Reply {
    if !authorized(req, token) {
        return error(401, "unauthorized", "an admin bearer token is required");
    }
    let rest = req.uri().path()[PREFIX.len()..].trim_end_matches('/');
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let method = req.method();
    let result = match (segments.as_slice(), method) {
        ([], &http::Method::GET) => store.list().await.map(|keys| {
            reply(
                200,
                json!({"keys": keys.iter().map(record_json).collect::<Vec<_>>()}),
            )
        }),
        ([], &http::Method::POST) => {
            let request: CreateRequest = match serde_json::from_slice(req.body()) {
                Ok(r) => r,
                Err(e) => return error(400, "invalid_request", format!("body: {e}")),
            };
            let permissions =
                match Permissions::from_names(request.permissions.iter().map(String::as_str)) {
                    Ok(p) => p,
                    Err(e) => return error(400, "invalid_request", e),
                };
            store
                .create(request.key_id.as_deref(), permissions, &request.description)
                .await
                .map(|i| issued(201, &i))
        }
        ([key_id], &http::Method::GET) => {
            store.get(key_id).await.map(|r| reply(200, record_json(&r)))
        }
        ([key_id], &http::Method::DELETE) => store
            .revoke(key_id)
            .await
            .map(|r| reply(200, record_json(&r))),
        ([key_id, "rotate"], &http::Method::POST) => {
            store.rotate(key_id).await.map(|i| issued(200, &i))
        }
        ([] | [_] | [_, "rotate"], _) => {
            return error(
                405,
                "method_not_allowed",
                format!("{method} is not served here"),
            );
        }
        _ => return error(404, "not_found", "no such admin route"),
    };
    result.unwrap_or_else(|e| store_error(&e))
}
