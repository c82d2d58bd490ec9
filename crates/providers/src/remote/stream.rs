//! Reading a streamed reply: bytes are cut into NDJSON lines (Ollama) or SSE `data:` payloads
//! (OpenAI-compatible), each payload is parsed by the adapter into content or an end marker,
//! and the idle (gap between chunks) and total limits are enforced while waiting.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use futures::stream::{BoxStream, StreamExt};
use lightrag_core::error::Result;

use super::http::{chain, Endpoint};

/// How payloads are delimited in the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// One JSON object per line.
    Ndjson,
    /// Server-sent events; a payload is the `data:` lines of one event.
    Sse,
}

/// What one payload means.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Event {
    /// A piece of the reply (may be empty: a role header, usage, reasoning text).
    pub(crate) content: String,
    /// The model finished; the server may still send trailing payloads.
    pub(crate) finish: bool,
    /// The end of the stream.
    pub(crate) done: bool,
}

/// Cuts bytes into payloads.
pub(crate) struct Frames {
    framing: Framing,
    buf: Vec<u8>,
    data: Option<String>,
}

impl Frames {
    pub(crate) fn new(framing: Framing) -> Frames {
        Frames {
            framing,
            buf: Vec::new(),
            data: None,
        }
    }

    /// Adds received bytes; complete payloads go to `out`.
    pub(crate) fn push(&mut self, bytes: &[u8], out: &mut VecDeque<String>) {
        self.buf.extend_from_slice(bytes);
        while let Some(i) = self.buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.buf.drain(..=i).collect();
            let line = String::from_utf8_lossy(&line[..i]);
            self.line(line.trim_end_matches('\r'), out);
        }
    }

    /// The body ended: what is left is a last payload.
    pub(crate) fn finish(&mut self, out: &mut VecDeque<String>) {
        if !self.buf.is_empty() {
            let rest = std::mem::take(&mut self.buf);
            let line = String::from_utf8_lossy(&rest);
            self.line(line.trim_end_matches('\r'), out);
        }
        if let Some(d) = self.data.take() {
            out.push_back(d);
        }
    }

    fn line(&mut self, line: &str, out: &mut VecDeque<String>) {
        match self.framing {
            Framing::Ndjson => {
                if !line.trim().is_empty() {
                    out.push_back(line.to_string());
                }
            }
            Framing::Sse => {
                if line.is_empty() {
                    if let Some(d) = self.data.take() {
                        out.push_back(d);
                    }
                } else if let Some(rest) = line.strip_prefix("data:") {
                    let rest = rest.strip_prefix(' ').unwrap_or(rest);
                    match &mut self.data {
                        Some(d) => {
                            d.push('\n');
                            d.push_str(rest);
                        }
                        None => self.data = Some(rest.to_string()),
                    }
                }
                // Comments (`:`), `event:`, `id:` and `retry:` lines carry nothing we use.
            }
        }
    }
}

/// The rest of a streamed reply after its first chunk.
pub(crate) struct Reader {
    ep: Arc<Endpoint>,
    op: &'static str,
    body: BoxStream<'static, reqwest::Result<Vec<u8>>>,
    frames: Frames,
    pending: VecDeque<String>,
    parse: fn(&str) -> std::result::Result<Event, String>,
    deadline: Instant,
    finish_seen: bool,
    eof: bool,
    finished: bool,
}

impl Reader {
    pub(crate) fn new(
        ep: Arc<Endpoint>,
        op: &'static str,
        body: BoxStream<'static, reqwest::Result<Vec<u8>>>,
        framing: Framing,
        parse: fn(&str) -> std::result::Result<Event, String>,
        deadline: Instant,
    ) -> Reader {
        Reader {
            ep,
            op,
            body,
            frames: Frames::new(framing),
            pending: VecDeque::new(),
            parse,
            deadline,
            finish_seen: false,
            eof: false,
            finished: false,
        }
    }

    /// The content pieces, starting with those in `first` (the chunk already received).
    pub(crate) fn into_stream(mut self, first: Vec<u8>) -> BoxStream<'static, Result<String>> {
        self.frames.push(&first, &mut self.pending);
        futures::stream::unfold(self, |mut r| async move {
            let item = r.next_piece().await?;
            Some((item, r))
        })
        .boxed()
    }

    fn stop(&mut self, detail: &str) -> Option<Result<String>> {
        self.finished = true;
        Some(Err(self.ep.fail(self.op, detail)))
    }

    async fn next_piece(&mut self) -> Option<Result<String>> {
        loop {
            if self.finished {
                return None;
            }
            if let Some(payload) = self.pending.pop_front() {
                match (self.parse)(&payload) {
                    Ok(ev) => {
                        self.finish_seen |= ev.finish;
                        self.finished |= ev.done;
                        if !ev.content.is_empty() {
                            return Some(Ok(ev.content));
                        }
                    }
                    Err(e) => return self.stop(&format!("mid-stream: {e}")),
                }
                continue;
            }
            if self.eof {
                if self.finish_seen {
                    self.finished = true;
                    return None;
                }
                return self.stop("the stream ended before its end marker");
            }
            let left = self.deadline.saturating_duration_since(Instant::now());
            let total = self.ep.timeouts.total;
            if left.is_zero() {
                return self.stop(&format!(
                    "reply not finished within {total:?} (total timeout)"
                ));
            }
            let idle = self.ep.timeouts.idle.filter(|i| *i < left);
            match tokio::time::timeout(idle.unwrap_or(left), self.body.next()).await {
                Err(_) => {
                    return match idle {
                        Some(i) => {
                            self.stop(&format!("no data for {i:?} mid-stream (idle timeout)"))
                        }
                        None => self.stop(&format!(
                            "reply not finished within {total:?} (total timeout)"
                        )),
                    }
                }
                Ok(None) => {
                    self.eof = true;
                    self.frames.finish(&mut self.pending);
                }
                Ok(Some(Err(e))) => return self.stop(&format!("the stream broke: {}", chain(&e))),
                Ok(Some(Ok(bytes))) => self.frames.push(&bytes, &mut self.pending),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(framing: Framing, parts: &[&[u8]]) -> Vec<String> {
        let mut f = Frames::new(framing);
        let mut out = VecDeque::new();
        for p in parts {
            f.push(p, &mut out);
        }
        f.finish(&mut out);
        out.into_iter().collect()
    }

    #[test]
    fn ndjson_lines_across_chunks() {
        let out = cut(
            Framing::Ndjson,
            &[b"{\"a\":1}\n{\"b\"", b":2}\r\n\n{\"c\":3}"],
        );
        assert_eq!(out, ["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"]);
    }

    #[test]
    fn sse_events_and_multibyte_split() {
        let text =
            "data: {\"x\":\"é\"}\n\n: keep-alive\n\nevent: m\ndata: a\ndata: b\n\ndata: [DONE]\n\n";
        let bytes = text.as_bytes();
        // Split inside the two-byte 'é'.
        let i = text.find('é').unwrap() + 1;
        let out = cut(Framing::Sse, &[&bytes[..i], &bytes[i..]]);
        assert_eq!(out, ["{\"x\":\"é\"}", "a\nb", "[DONE]"]);
    }
}
