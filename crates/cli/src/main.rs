//! `impostor`: a thin command-line layer over the Impostor libraries.

mod commands;
mod config;
mod gateway;
mod history_replay;
mod org;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

// Many small, short-lived allocations per message (header values, decoded
// text, evidence): mimalloc serves them markedly faster than glibc malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Research, train, evaluate and deploy detectors of forged email and
/// Business Email Compromise.
///
/// Every message is treated as hostile: one that cannot be read gets an
/// error of its own and the run goes on. Exit status: 0 when every message
/// was processed, 1 when some could not be read, 2 for a usage or
/// configuration error.
#[derive(Parser)]
#[command(
    name = "impostor",
    version,
    propagate_version = true,
    max_term_width = 100
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Bench(Box<commands::bench::BenchArgs>),
    Corpus(commands::corpus::CorpusArgs),
    Eval(Box<commands::eval::EvalArgs>),
    Extract(Box<commands::extract::ExtractArgs>),
    Features(commands::features::FeaturesArgs),
    Feedback(Box<commands::feedback::FeedbackArgs>),
    Gen(commands::gen::GenArgs),
    History(commands::history::HistoryCommandArgs),
    Keys(commands::keys::KeysArgs),
    Lookalike(commands::lookalike::LookalikeArgs),
    Milter(Box<commands::milter::MilterArgs>),
    Model(commands::model::ModelCommandArgs),
    Scan(Box<commands::scan::ScanArgs>),
    Serve(Box<commands::serve::ServeArgs>),
    Train(Box<commands::train::TrainArgs>),
}

fn main() -> ExitCode {
    // Fail points exist only in test builds; FAILPOINTS is read only there.
    let _faults = impostor_features::FAULT_INJECTION.then(fail::FailScenario::setup);
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Bench(args) => commands::bench::run(*args),
        Command::Corpus(args) => commands::corpus::run(args),
        Command::Eval(args) => commands::eval::run(*args),
        Command::Extract(args) => commands::extract::run(*args),
        Command::Features(args) => commands::features::run(args),
        Command::Feedback(args) => commands::feedback::run(*args),
        Command::Gen(args) => commands::gen::run(args),
        Command::History(args) => commands::history::run(args),
        Command::Keys(args) => commands::keys::run(args),
        Command::Lookalike(args) => commands::lookalike::run(args),
        Command::Milter(args) => commands::milter::run(*args),
        Command::Model(args) => commands::model::run(args),
        Command::Scan(args) => commands::scan::run(*args),
        Command::Serve(args) => commands::serve::run(*args),
        Command::Train(args) => commands::train::run(*args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("impostor: error: {err:#}");
            ExitCode::from(2)
        }
    }
}
