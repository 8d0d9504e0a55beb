//! Minimising findings and grouping them.
//!
//! A finding is sent again with one operator fewer at a time, each
//! operator still making the change it made (its seed is kept); an
//! operator whose removal keeps the finding is left out, until no single
//! removal keeps it. The operators left are the finding's signature
//! (`body-flip+sign-after`), and findings of one signature and kind are
//! one group. A finding whose operators include a group's is counted in
//! that group without being sent again.

use tokio::time::Instant;

use super::assess::{Finding, Kind};
use super::case::Chosen;
use super::run::{Fuzzer, Raw};

/// A group of findings.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    /// The fewest operators that make the finding.
    pub(crate) ops: Vec<Chosen>,
    pub(crate) kind: Kind,
    /// The finding as last made (by the fewest operators).
    pub(crate) finding: Finding,
    /// How many findings of the run it holds.
    pub(crate) count: u64,
    /// How many requests the run had sent before the first of them.
    pub(crate) first_at: u64,
    /// Whether it was sent again and made the same finding (a finding
    /// that was not is reported with all its operators).
    pub(crate) reproduced: bool,
}

/// How much minimising may cost.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    /// At most so many requests.
    pub(crate) requests: u64,
    /// Not after this.
    pub(crate) until: Instant,
}

/// How many times a finding is sent again before it counts as not
/// reproduced; a removal is tried this often for the findings of a race.
const ATTEMPTS: usize = 3;

impl Fuzzer<'_> {
    /// `raws` minimised and grouped, in the order their groups were first
    /// met.
    pub(crate) async fn group(&mut self, mut raws: Vec<Raw>, budget: Budget) -> Vec<Group> {
        // The findings of fewest operators first: they minimise soonest,
        // and their groups then hold the larger ones without a request.
        raws.sort_by_key(|raw| raw.ops.len());
        let mut groups: Vec<Group> = Vec::new();
        for raw in raws {
            let kind = raw.finding.kind;
            let holds = |g: &Group| {
                g.kind == kind && g.ops.iter().all(|o| raw.ops.iter().any(|r| r.op == o.op))
            };
            if let Some(g) = groups.iter_mut().find(|g| holds(g)) {
                g.count += 1;
                g.first_at = g.first_at.min(raw.at_request);
                continue;
            }
            let spent = |f: &Fuzzer<'_>| {
                f.stats.minimising >= budget.requests || Instant::now() >= budget.until
            };
            let minimised = if spent(self) {
                None
            } else {
                self.minimise(&raw.ops, kind, &budget).await
            };
            let group = match minimised {
                Some((ops, finding)) => Group {
                    ops,
                    kind,
                    finding,
                    count: 1,
                    first_at: raw.at_request,
                    reproduced: true,
                },
                None => Group {
                    ops: raw.ops.clone(),
                    kind,
                    finding: raw.finding.clone(),
                    count: 1,
                    first_at: raw.at_request,
                    reproduced: false,
                },
            };
            let same = |g: &Group| g.kind == kind && same_operators(&g.ops, &group.ops);
            match groups.iter_mut().find(|g| same(g)) {
                Some(g) => {
                    g.count += 1;
                    g.first_at = g.first_at.min(group.first_at);
                }
                None => groups.push(group),
            }
        }
        groups.sort_by_key(|g| g.first_at);
        groups
    }

    /// The fewest of `ops` that still make a finding of `kind`, with that
    /// finding; `None` where neither they nor fewer make it again. (An
    /// operator's change can depend on the request's fresh values: a tag
    /// in base64url is the same text where it has no `+` or `/`. Fewer
    /// operators may make the finding where all of them no longer do.)
    async fn minimise(
        &mut self,
        ops: &[Chosen],
        kind: Kind,
        budget: &Budget,
    ) -> Option<(Vec<Chosen>, Finding)> {
        let race = kind == Kind::BothAccepted;
        let mut last = None;
        let mut ops = ops.to_vec();
        'fewer: while ops.len() > 1 {
            for i in 0..ops.len() {
                if self.stats.minimising >= budget.requests || Instant::now() >= budget.until {
                    break 'fewer;
                }
                let mut fewer = ops.clone();
                fewer.remove(i);
                let attempts = if race { ATTEMPTS } else { 1 };
                if let Some(finding) = self.again(&fewer, kind, attempts).await {
                    ops = fewer;
                    last = Some(finding);
                    continue 'fewer;
                }
            }
            break;
        }
        let last = match last {
            Some(finding) => finding,
            None => self.again(&ops, kind, ATTEMPTS).await?,
        };
        Some((ops, last))
    }

    /// The finding of `kind` that `ops` make, in up to `attempts` tries.
    async fn again(&mut self, ops: &[Chosen], kind: Kind, attempts: usize) -> Option<Finding> {
        for _ in 0..attempts {
            if let Some(finding) = self.reproduce(ops, kind).await {
                return Some(finding);
            }
        }
        None
    }
}

/// Whether `a` and `b` are the same operators (their seeds aside).
fn same_operators(a: &[Chosen], b: &[Chosen]) -> bool {
    let mut a: Vec<usize> = a.iter().map(|c| c.op).collect();
    let mut b: Vec<usize> = b.iter().map(|c| c.op).collect();
    a.sort_unstable();
    b.sort_unstable();
    a == b
}
