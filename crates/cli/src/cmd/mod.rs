//! One module per subcommand.

pub mod cache;
pub mod check;
pub mod delete;
pub mod export;
pub mod graph;
pub mod healthcheck;
pub mod import;
pub mod insert;
pub mod migrate;
pub mod query;
pub mod serve;
pub mod status;
