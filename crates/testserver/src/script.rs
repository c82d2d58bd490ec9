//! Scripted behaviour: which reply, failure, delay or stall a request gets.
//!
//! A script is a list of rules tried in order; the first whose `match` is a substring of the
//! request's text (the last user message or the system message of a chat, any input of an
//! embedding call) decides. A rule with a non-200 `status` fails the first `fail_times` matching
//! requests and answers the later ones normally; with `fail_times: 0` it fails every time.

use std::sync::Mutex;
use std::time::Duration;

use serde::Deserialize;

/// The reply when no rule matches and the script sets none.
pub const DEFAULT_REPLY: &str = "This is a test reply.";

/// Which endpoint family a rule applies to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    #[default]
    Chat,
    Embed,
    /// The rerank routes; a rule's `reply` replaces the whole response body.
    Rerank,
}

/// One scripted behaviour.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rule {
    /// Substring of the request text; empty matches everything.
    #[serde(rename = "match")]
    pub matches: String,
    pub kind: RuleKind,
    /// The reply text (chat); `{{prompt}}` is replaced by the last user message.
    pub reply: Option<String>,
    /// Reasoning text sent beside the reply (Ollama `thinking`, OpenAI `reasoning_content`)
    /// unless the request turned thinking off.
    pub thinking: Option<String>,
    /// Wait before the response headers.
    pub delay_ms: u64,
    /// HTTP status of a failure (200 = no failure).
    pub status: Option<u16>,
    /// How many matching requests fail before the rule answers normally (0 = all of them).
    pub fail_times: u32,
    /// `Retry-After` seconds sent with a failure.
    pub retry_after: Option<u64>,
    /// After the headers (non-streaming) or the first chunk (streaming), stall this long.
    pub hang_ms: u64,
    /// Gap between streamed chunks.
    pub chunk_delay_ms: u64,
    /// Drop the connection after this many streamed chunks.
    pub abort_after_chunks: Option<usize>,
}

/// A whole script: rules plus the fallback reply.
#[derive(Debug, Clone, Default)]
pub struct Script {
    pub rules: Vec<Rule>,
    pub default_reply: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ScriptFile {
    Rules(Vec<Rule>),
    Full {
        #[serde(default)]
        rules: Vec<Rule>,
        #[serde(default, alias = "default")]
        default_reply: Option<String>,
    },
}

impl Script {
    /// Parses a script: a JSON list of rules, or `{"rules": [...], "default_reply": "..."}`.
    pub fn from_json(text: &str) -> Result<Script, serde_json::Error> {
        Ok(match serde_json::from_str::<ScriptFile>(text)? {
            ScriptFile::Rules(rules) => Script {
                rules,
                default_reply: None,
            },
            ScriptFile::Full {
                rules,
                default_reply,
            } => Script {
                rules,
                default_reply,
            },
        })
    }
}

/// What a request gets.
#[derive(Debug, Clone)]
pub struct Plan {
    pub outcome: Outcome,
    /// Whether the reply is a rule's own `reply` (not the default one).
    pub scripted_reply: bool,
    pub thinking: Option<String>,
    pub delay: Duration,
    pub hang: Duration,
    pub chunk_delay: Duration,
    pub abort_after_chunks: Option<usize>,
}

/// A reply or a failure.
#[derive(Debug, Clone)]
pub enum Outcome {
    Reply(String),
    Fail {
        status: u16,
        message: String,
        retry_after: Option<u64>,
    },
}

/// A script with its per-rule match counters.
pub struct Scripted {
    script: Script,
    seen: Mutex<Vec<u32>>,
}

impl Scripted {
    pub fn new(script: Script) -> Self {
        let n = script.rules.len();
        Scripted {
            script,
            seen: Mutex::new(vec![0; n]),
        }
    }

    /// How many requests each rule matched so far, in rule order.
    pub fn hits(&self) -> Vec<u32> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Forgets how often each rule matched.
    pub fn reset(&self) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.iter_mut().for_each(|c| *c = 0);
    }

    /// The plan for a request of `kind` whose texts are `texts`; `prompt` fills `{{prompt}}`.
    pub fn plan(&self, kind: RuleKind, texts: &[&str], prompt: &str) -> Plan {
        let hit = self.script.rules.iter().enumerate().find(|(_, r)| {
            r.kind == kind && (r.matches.is_empty() || texts.iter().any(|t| t.contains(&r.matches)))
        });
        let default = self
            .script
            .default_reply
            .as_deref()
            .unwrap_or(DEFAULT_REPLY)
            .replace("{{prompt}}", prompt);
        let Some((i, rule)) = hit else {
            return Plan {
                outcome: Outcome::Reply(default),
                scripted_reply: false,
                thinking: None,
                delay: Duration::ZERO,
                hang: Duration::ZERO,
                chunk_delay: Duration::ZERO,
                abort_after_chunks: None,
            };
        };
        let count = {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            seen[i] += 1;
            seen[i]
        };
        let status = rule.status.unwrap_or(200);
        let fails = status != 200 && (rule.fail_times == 0 || count <= rule.fail_times);
        let outcome = if fails {
            Outcome::Fail {
                status,
                message: format!(
                    "scripted failure {count} of rule {i} (match {:?})",
                    rule.matches
                ),
                retry_after: rule.retry_after,
            }
        } else {
            let reply = rule.reply.clone().unwrap_or(default);
            Outcome::Reply(reply.replace("{{prompt}}", prompt))
        };
        Plan {
            scripted_reply: !fails && rule.reply.is_some(),
            outcome,
            thinking: rule.thinking.clone(),
            delay: Duration::from_millis(rule.delay_ms),
            hang: Duration::from_millis(rule.hang_ms),
            chunk_delay: Duration::from_millis(rule.chunk_delay_ms),
            abort_after_chunks: rule.abort_after_chunks,
        }
    }
}

/// Cuts a reply into streaming pieces: one word with its trailing whitespace each.
pub fn pieces(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_space = false;
    for c in text.chars() {
        if in_space && !c.is_whitespace() {
            out.push(std::mem::take(&mut cur));
        }
        in_space = c.is_whitespace();
        cur.push(c);
    }
    if !cur.is_empty() || out.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_rejoin() {
        for t in ["", "one", "a b  c\n", " lead"] {
            assert_eq!(pieces(t).concat(), t);
        }
        assert_eq!(pieces("a b").len(), 2);
    }

    #[test]
    fn fail_times_then_success() {
        let s = Script::from_json(r#"[{"match":"x","reply":"ok","status":429,"fail_times":2}]"#)
            .unwrap();
        let s = Scripted::new(s);
        let kinds: Vec<bool> = (0..3)
            .map(|_| {
                matches!(
                    s.plan(RuleKind::Chat, &["x"], "x").outcome,
                    Outcome::Fail { .. }
                )
            })
            .collect();
        assert_eq!(kinds, [true, true, false]);
        let d = s.plan(RuleKind::Chat, &["y"], "y");
        assert!(matches!(d.outcome, Outcome::Reply(ref r) if r == DEFAULT_REPLY));
    }
}
