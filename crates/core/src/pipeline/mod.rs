//! The document pipeline: documents are enqueued (`pending`), then processed one stage after
//! another (`processing` → `processed` | `failed`). Every stage writes through the stores, so an
//! interrupted run (even kill -9) resumes on the next start: `processing` rows are picked up
//! again, cached per-chunk extraction results are reused, and the merge is idempotent.

pub mod enqueue;
pub mod process;

pub use enqueue::{
    duplicate_row_id, is_extraction_failure, EnqueueOutcome, NewDocument, FILE_EXTRACTION_ERROR,
};
pub use process::{ProcessReport, Progress, ProgressEvent};
