//! One module per subcommand.

pub mod bench;
pub mod corpus;
pub mod eval;
pub mod extract;
pub mod features;
pub mod feedback;
pub mod gen;
pub mod history;
pub mod keys;
pub mod lookalike;
pub mod milter;
pub mod model;
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

/// The arguments this process was started with, shell-quoted, for the
/// commands that artifacts and reports record; with `leave_out_output`,
/// without -o / --output and --sign (the same training written elsewhere,
/// or signed, is the same artifact).
pub fn arguments(leave_out_output: bool) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if leave_out_output {
            if a == "-o" || a == "--output" || a == "--sign" {
                args.next();
                continue;
            }
            if a.starts_with("--output=")
                || a.starts_with("--sign=")
                || (a.starts_with("-o") && a.len() > 2 && !a.starts_with("--"))
            {
                continue;
            }
        }
        out.push(shell_word(&a));
    }
    out.join(" ")
}

/// A run's account on standard error: its lines, a spinner for a stage of
/// unknown size and a bar for one of known size; nothing with --quiet.
pub struct Console {
    quiet: bool,
}

impl Console {
    pub fn new(quiet: bool) -> Console {
        Console { quiet }
    }
}

impl impostor_corpus::Progress for Console {
    fn say(&self, line: &str) {
        if !self.quiet {
            eprintln!("{line}");
        }
    }

    fn warn(&self, line: &str) {
        eprintln!("{line}");
    }

    fn stage(&self, what: &str, total: Option<u64>) -> Box<dyn impostor_corpus::Stage + '_> {
        let bar = match total {
            None => spinner(self.quiet, what),
            Some(_) if self.quiet => indicatif::ProgressBar::hidden(),
            Some(len) => {
                let bar = indicatif::ProgressBar::new(len);
                bar.set_style(
                    indicatif::ProgressStyle::with_template(&format!(
                        "{{bar:30}} {{pos}}/{{len}} messages {what}, {{per_sec}}, eta {{eta}}"
                    ))
                    .expect("static template"),
                );
                bar
            }
        };
        Box::new(Bar(bar))
    }
}

/// A stage's bar, cleared when the stage ends.
struct Bar(indicatif::ProgressBar);

impl impostor_corpus::Stage for Bar {
    fn done(&self, n: u64) {
        self.0.set_position(n);
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.0.finish_and_clear();
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
