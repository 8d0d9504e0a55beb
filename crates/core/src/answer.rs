//! What the pluggable stores answer with: a value at once, or a future.
//!
//! [`KeyLookup`](crate::KeyLookup) and [`NonceStore`](crate::NonceStore)
//! are asynchronous because real backends (a database, Redis) are. But the
//! in-memory implementations, and caches in front of real ones, usually
//! know the answer at once; an [`Answer`] lets them give it without boxing
//! a future, so the verifier's hot path stays off the heap. Backends that
//! must wait return [`later`].

use std::future::Future;

use futures_util::future::{BoxFuture, Either, Ready, ready};

/// A value now, or a boxed future of it. Awaiting either gives the value.
pub type Answer<'a, T> = Either<Ready<T>, BoxFuture<'a, T>>;

/// An answer known at once.
pub fn now<'a, T>(value: T) -> Answer<'a, T> {
    Either::Left(ready(value))
}

/// An answer that needs waiting for.
pub fn later<'a, T>(future: impl Future<Output = T> + Send + 'a) -> Answer<'a, T> {
    Either::Right(Box::pin(future))
}
