//! One module per subcommand.

pub mod bench;
pub mod corpus;
pub mod eval;
pub mod extract;
pub mod features;
pub mod gen;
pub mod lookalike;
pub mod milter;
pub mod peers;
pub mod scan;
pub mod serve;
pub mod train;

/// An argument as a POSIX shell reads it back: quoted when it holds white
/// space or a character the shell would interpret. For the commands that
/// artifacts and reports record.
pub fn shell_word(arg: &str) -> String {
    if arg
        .chars()
        .any(|c| c.is_whitespace() || "'\"$`\\".contains(c))
    {
        format!("'{}'", arg.replace('\'', r"'\''"))
    } else {
        arg.to_string()
    }
}

/// A spinner counting messages on standard error (hidden with --quiet).
pub fn spinner(quiet: bool, what: &str) -> indicatif::ProgressBar {
    let p = if quiet {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new_spinner()
    };
    p.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{spinner}} {what}: {{pos}} messages, {{per_sec}}, {{elapsed}}"
        ))
        .expect("static template"),
    );
    p
}
