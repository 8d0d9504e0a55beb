//! Reading back what a step wrote: before a write that must change nothing
//! if refused, and after it, what the target kept must be what the rules
//! say (the payload signed, or what was there before).

use bytes::Bytes;

use super::Session;
use crate::probe::{Kept, ReadBack, Step};
use crate::rules::Cited;
use crate::verdict::Outcome;
use sigconform_core::time::{Clock, SystemClock};

/// What a read-back found against the step's answer.
pub(crate) struct Finding {
    pub(crate) outcome: Outcome,
    pub(crate) expected: String,
    pub(crate) observed: String,
    pub(crate) rule: Cited,
}

impl Session {
    /// The resource `step` writes, read before it is sent, where the step
    /// must leave it unchanged if refused.
    pub(crate) async fn read_before(&self, step: &Step) -> Option<Result<(u16, Bytes), String>> {
        let read_back = step.read_back.as_ref()?;
        if read_back.kept != Kept::Unchanged {
            return None;
        }
        Some(self.read(read_back).await)
    }

    /// What reading the resource back says about a step that passed
    /// (`accepted` or refused): nothing when it holds what it must.
    pub(crate) async fn read_after(
        &self,
        step: &Step,
        outcome: Outcome,
        accepted: bool,
        before: Option<Result<(u16, Bytes), String>>,
    ) -> Option<Finding> {
        let read_back = step.read_back.as_ref()?;
        if outcome != Outcome::Pass {
            return None;
        }
        let finding = |outcome, expected: &str, observed: String| Finding {
            outcome,
            expected: expected.to_owned(),
            observed,
            rule: read_back.rule.clone(),
        };
        match (&read_back.kept, accepted) {
            (Kept::Payload(payload), true) => {
                let expected = "a signed GET reads back exactly the payload signed";
                match self.read(read_back).await {
                    Ok((200..=299, body)) if body == *payload => None,
                    Ok((200..=299, body)) => Some(finding(
                        Outcome::Fail,
                        expected,
                        format!(
                            "accepted, but a signed GET reads back {} bytes, not the {} signed: {}",
                            body.len(),
                            payload.len(),
                            shown(&body)
                        ),
                    )),
                    Ok((404, _)) => Some(finding(
                        Outcome::Fail,
                        expected,
                        "accepted, but a signed GET finds nothing kept (404)".into(),
                    )),
                    Ok((status, body)) => Some(finding(
                        Outcome::Error,
                        expected,
                        format!(
                            "accepted; the signed GET that reads it back was answered {status} {}",
                            shown(&body)
                        ),
                    )),
                    Err(e) => Some(finding(
                        Outcome::Error,
                        expected,
                        format!("accepted; the signed GET that reads it back failed: {e}"),
                    )),
                }
            }
            (Kept::Unchanged, false) => {
                let expected = "refused, and a signed GET reads back what was there before";
                let after = self.read(read_back).await;
                match (before?, after) {
                    (Ok(before), Ok(after)) if before == after => None,
                    (Ok(before), Ok(after)) if readable(before.0) && readable(after.0) => {
                        Some(finding(
                            Outcome::Fail,
                            expected,
                            format!(
                                "refused, but the resource changed: before {} {}, after {} {}",
                                before.0,
                                shown(&before.1),
                                after.0,
                                shown(&after.1)
                            ),
                        ))
                    }
                    (Ok((status, body)), _) | (_, Ok((status, body))) if !readable(status) => {
                        Some(finding(
                            Outcome::Error,
                            expected,
                            format!(
                                "refused; the signed GET that reads it back was answered {status} {}",
                                shown(&body)
                            ),
                        ))
                    }
                    (Err(e), _) | (_, Err(e)) => Some(finding(
                        Outcome::Error,
                        expected,
                        format!("refused; the signed GET that reads it back failed: {e}"),
                    )),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// Sends `read_back`'s request, signed at the target's clock now.
    async fn read(&self, read_back: &ReadBack) -> Result<(u16, Bytes), String> {
        let now = SystemClock.now_ms().saturating_add_signed(self.offset_ms);
        let (request, _) = read_back.request.at(now, 0)?;
        self.transport
            .fetch(&request, self.timeout, read_back.limit)
            .await
    }
}

/// Whether a read answered with what a resource holds: 2xx, or 404 for
/// nothing.
fn readable(status: u16) -> bool {
    (200..300).contains(&status) || status == 404
}

/// The start of `body`, as text.
fn shown(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(120)]);
    if body.len() > 120 {
        format!("{text:?}…")
    } else {
        format!("{text:?}")
    }
}
