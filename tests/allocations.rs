//! Heap allocations per verification: the hot path allocates nothing where
//! it can avoid it (issue 5), and this keeps it that way.
//!
//! A counting global allocator counts the allocations made on the calling
//! thread while one request is verified; other tests' threads do not
//! disturb the count.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;

use sigconform_bench::workload::Workload;
use sigconform_core::Secret;
use sigconform_core::nonce::ForgetfulNonces;
use sigconform_core::scheme::SchemeId;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counter is a const-initialised thread-local without a destructor, which
// never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract is passed on as it is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// The most allocations one accepted verification of the benchmark's
/// request may make, by scheme and body size.
fn allowed(scheme: SchemeId, body: usize) -> usize {
    match scheme {
        // The covered header names, sorted for the signing string. (The
        // query's decoded pairs are sorted inline, up to four of them.)
        SchemeId::Authorization => 1,
        // Canonical JSON gathers the document in buffers to sort each
        // object's keys; how many follows the document, not the verifier.
        SchemeId::Partner if body > 0 => usize::MAX,
        _ => 0,
    }
}

#[test]
fn verification_allocates_only_where_it_must() {
    let secret = Secret::new("allocation-test-secret");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for scheme in SchemeId::ALL {
        for body in [0, 1024] {
            let w = Workload::new(
                scheme,
                body,
                4,
                "api.example.com",
                &secret,
                1_700_000_000_000,
            )
            .unwrap();
            // The in-memory store allocates when its table grows, which is
            // amortised and not the verifier's doing: left out here.
            let verifier = w.verifier(Arc::new(ForgetfulNonces));
            // The first verification may set up lazily initialised state.
            runtime.block_on(verifier.verify(&w.requests[0])).unwrap();
            for req in &w.requests[1..] {
                let before = ALLOCATIONS.with(Cell::get);
                let verified = runtime.block_on(verifier.verify(req));
                let made = ALLOCATIONS.with(Cell::get) - before;
                assert!(verified.is_ok(), "{scheme} {body} B: {verified:?}");
                assert!(
                    made <= allowed(scheme, body),
                    "{scheme} with a {body}-byte body: {made} allocations per verification, at most {} expected",
                    allowed(scheme, body)
                );
            }
        }
    }
}
