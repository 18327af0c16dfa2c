//! The sender-history replay flags of train, eval and bench.

use clap::Args;
use impostor_history::HistoryParams;

/// How training and evaluation give messages their sender history.
#[derive(Args, Debug, Clone, Default)]
pub struct ReplayArgs {
    /// Leave the sender-history features at zero. By default each
    /// source's mail (a generated corpus's timeline/ apart) is replayed in
    /// date order: every message gets the history_* features of what an
    /// in-memory store knew strictly before it, then is learnt.
    #[arg(long)]
    pub no_history_replay: bool,
    /// How long after a message the replay's store learns it (an attacker
    /// cannot warm an address by writing first): e.g. 4h, 30m, 0s.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "4h")]
    pub history_delay: i64,
}

impl ReplayArgs {
    /// The replay's parameters; `None` with --no-history-replay.
    pub fn params(&self) -> Option<HistoryParams> {
        (!self.no_history_replay).then(|| HistoryParams {
            delay_secs: self.history_delay,
            ..HistoryParams::default()
        })
    }
}

/// A duration in seconds from `90`, `90s`, `30m`, `4h` or `2d`.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let n: i64 = number
        .parse()
        .map_err(|_| format!("\"{text}\" is not a duration; write e.g. 90s, 30m, 4h or 2d"))?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(format!("\"{text}\": the unit is s, m, h or d")),
    };
    n.checked_mul(scale)
        .ok_or_else(|| format!("\"{text}\" is too long a duration"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_seconds_minutes_hours_and_days() {
        assert_eq!(parse_duration("0s"), Ok(0));
        assert_eq!(parse_duration("90"), Ok(90));
        assert_eq!(parse_duration("30m"), Ok(1_800));
        assert_eq!(parse_duration("4h"), Ok(14_400));
        assert_eq!(parse_duration("2d"), Ok(172_800));
        assert!(parse_duration("4 weeks").is_err());
        assert!(parse_duration("h").is_err());
    }
}
