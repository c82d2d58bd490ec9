//! Entry points an API front end needs beyond insert, process, query and delete: the answer
//! model for direct (non-RAG) calls. Hand edits of the graph are [`crate::graph_edit`].

pub use crate::graph_edit;

use std::sync::Arc;

use crate::engine::Rag;
use crate::ports::ChatModel;

impl Rag {
    /// The answer model, for calls that bypass retrieval (Ollama `/api/generate`, `bypass`);
    /// `None` on the offline path.
    pub fn query_model(&self) -> Option<Arc<dyn ChatModel>> {
        self.chat.as_ref().map(|c| c.query.clone())
    }
}
