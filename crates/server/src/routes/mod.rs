//! One router per area; handlers are thin translations between HTTP and the engine.

pub mod documents;
pub mod graph;
pub mod health;
pub mod ollama;
pub mod query;
