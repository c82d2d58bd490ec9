//! LLM-driven extraction, summaries, keywords and answers.

pub mod cache;
pub mod extract;
pub mod limit;
pub mod parse;
pub mod prompts;
pub mod summary;
