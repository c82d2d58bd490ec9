//! `lightrag bench`: measurements on generated data (see docs/benchmarks.md).

use anyhow::{bail, Result};
use lightrag_core::config::Config;

use crate::args::BenchArgs;

pub async fn run(_cfg: Config, args: &BenchArgs) -> Result<()> {
    bail!("bench --component {} is not built yet", args.component)
}
