//! The `lightrag` command: the engine on the embedded default, from any directory.

mod args;
mod backup;
mod bench;
mod cmd;
mod files;
mod progress;
mod setup;
mod shared_logins;

use anyhow::Result;
use clap::Parser;

use args::{Cli, Command};
use setup::Engine;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let level = match cli.global.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    if let Command::Healthcheck(a) = &cli.command {
        return cmd::healthcheck::run(a);
    }
    let cfg = setup::load_config(&cli.global)?;
    match &cli.command {
        Command::RebuildVectors => return cmd::check::rebuild_fresh(cfg).await,
        Command::Bench(a) => return bench::run(cfg, a).await,
        Command::Serve(a) => return cmd::serve::run(cfg, &cli.global, a).await,
        Command::Migrate(a) => return cmd::migrate::run(cfg, a).await,
        Command::Export(a) => return cmd::export::run(cfg, cli.global.no_cache, a).await,
        Command::Import(a) => return cmd::import::run(cfg, a).await,
        _ => {}
    }
    let engine = Engine::open(cfg).await?;
    let result = match &cli.command {
        Command::Insert(a) => cmd::insert::run(&engine, a).await,
        Command::Query(a) => cmd::query::run(&engine, a).await,
        Command::Status(a) => cmd::status::run(&engine, a).await,
        Command::Delete(a) => cmd::delete::run(&engine, a).await,
        Command::Graph { command } => cmd::graph::run(&engine, command).await,
        Command::Cache { command } => cmd::cache::run(&engine, command).await,
        Command::Check(a) => cmd::check::check(&engine, a).await,
        Command::RebuildVectors
        | Command::Bench(_)
        | Command::Serve(_)
        | Command::Migrate(_)
        | Command::Export(_)
        | Command::Import(_)
        | Command::Healthcheck(_) => Ok(()),
    };
    engine.close().await?;
    result
}
