//! Transfer: how the model does on mail unlike any it was fitted on,
//! measured by retraining on the artifact's own training data
//! (training.parquet) without reading mail again.
//!
//! - **Leave one source out.** Each real source (one none of whose rows is
//!   synthetic) is a unit; a source whose members lie in folders below
//!   their label folder (`lists-2019-2026/ham/<list>/…`) is one unit per
//!   folder instead, as such a corpus is split by list, never by message.
//!   For each unit its rows become the test role, every other row keeps
//!   its role, and the model is trained again with the artifact's rules
//!   and settings ([`impostor_train::training::train`]); the new model's
//!   rates on the unit stand beside the artifact's own model on the unit's
//!   rows that were in its test role (the in-source figure).
//! - **Across eras.** Rows are dated by their Date header, before
//!   [`ERA_CUT`] or from it on. A model trained on one period (its rows
//!   keeping their roles, the other period's removed) is measured on the
//!   other period's real rows, in both directions where the training side
//!   can be trained.
//!
//! Roles never split a duplicate group: rows of other units (or of the
//! training period) sharing a group with a tested row are held out with
//! it, and counted. Flagging is as the gateway flags: the calibrated score
//! with the floor rules applied ([`Model::floored`]), at the level asked.

use crate::error::EvalError;
use impostor_corpus::Progress;
use impostor_model::artifact::{self, Artifact};
use impostor_model::stats::Rate;
use impostor_model::{Level, Model, RuleSet};
use impostor_train::training::{data_table, train, Balance, Example, Role, TrainParams};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Instant;

/// The era boundary: 2015-01-01T00:00:00Z, seconds since the epoch. The
/// real ham of the older corpora is 2002–2010, the modern corpora 2019 on.
pub const ERA_CUT: i64 = 1_420_070_400;

/// [`ERA_CUT`] as a date.
pub const ERA_CUT_DATE: &str = "2015-01-01";

/// The levels measured, low to high.
const LEVELS: [Level; 3] = [Level::Low, Level::Medium, Level::High];

/// One unit left out: a real source, or one folder of a source split by
/// folder.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Unit {
    /// `source`, or `source/folder`.
    pub name: String,
    /// The source.
    pub source: String,
    /// The folder, for a source split by folder.
    pub folder: Option<String>,
}

/// A rate measured two ways: by the model trained without the mail, and
/// by the artifact's own model on the same kind of mail it held out.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    /// The model trained without the unit, on all of the unit's rows.
    pub out_of_source: Rate,
    /// The artifact's model on the unit's rows of its test role.
    pub in_source: Rate,
    /// `out_of_source − in_source`, in percentage points; `None` when
    /// either is.
    pub difference_points: Option<f64>,
}

impl Comparison {
    fn new(out_of_source: Rate, in_source: Rate) -> Comparison {
        let difference_points = match (out_of_source.value, in_source.value) {
            (Some(o), Some(i)) => Some(100.0 * (o - i)),
            _ => None,
        };
        Comparison {
            out_of_source,
            in_source,
            difference_points,
        }
    }
}

/// A unit's rates at one level.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnitLevel {
    /// The level flagged from.
    pub level: Level,
    /// Ham flagged, of the unit's ham.
    pub false_positive_rate: Comparison,
    /// Attacks flagged, of the unit's attacks.
    pub detection_rate: Comparison,
}

/// One unit left out and what the model did on it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnitTransfer {
    /// The unit.
    #[serde(flatten)]
    pub unit: Unit,
    /// Its ham rows.
    pub ham: u64,
    /// Its attack rows.
    pub attacks: u64,
    /// Its rows in the artifact's test role (the in-source figure's).
    pub in_source_test_rows: u64,
    /// Rows of other units held out with it (a shared duplicate group).
    pub held_out_with_group: u64,
    /// Why no model could be trained without it; `None` when one was.
    pub not_trained: Option<String>,
    /// Each level's rates, low to high; empty when not trained.
    pub levels: Vec<UnitLevel>,
}

impl UnitTransfer {
    /// The rates at `level`.
    pub fn at(&self, level: Level) -> Option<&UnitLevel> {
        self.levels.iter().find(|l| l.level == level)
    }
}

/// A period's real rows of one source, judged by the model trained on the
/// other period.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SourceRates {
    /// The source.
    pub source: String,
    /// Ham flagged, of its ham in the period.
    pub false_positive_rate: Rate,
    /// Attacks flagged, of its attacks in the period.
    pub detection_rate: Rate,
}

/// One direction of the cross-era test.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EraTransfer {
    /// The period trained on.
    pub trained_on: String,
    /// The period tested on.
    pub tested_on: String,
    /// Rows of the training period given to training (synthetic ones
    /// included).
    pub training_rows: u64,
    /// Of those, synthetic.
    pub training_synthetic: u64,
    /// Training-period rows left out because a tested row shares their
    /// duplicate group.
    pub held_out_with_group: u64,
    /// Why this direction could not be trained or tested; `None` when it
    /// was.
    pub not_trained: Option<String>,
    /// All the tested period's real rows, at the default level.
    pub overall: SourceRates,
    /// Per source, at the default level.
    pub by_source: Vec<SourceRates>,
}

/// The transfer section of metrics.json.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Transfer {
    /// The level rates are quoted at unless a level is named.
    pub default_level: Level,
    /// The era boundary (rows dated on or after it are the later period).
    pub era_cut: String,
    /// Real sources in the training data.
    pub real_sources: Vec<String>,
    /// Synthetic rows in the training data.
    pub synthetic_rows: u64,
    /// Rows without a date, left out of the cross-era test.
    pub undated_rows: u64,
    /// Each unit left out.
    pub units: Vec<UnitTransfer>,
    /// The cross-era test, earlier → later first.
    pub eras: Vec<EraTransfer>,
}

/// The folder a row lies in below its last label folder, if any.
fn folder(e: &Example) -> Option<&str> {
    e.folder()
}

/// The units of `examples`: each real source, or, for a real source all of
/// whose rows lie in folders below their label folder, each such folder.
/// Sorted by name.
pub fn units(examples: &[Example]) -> Vec<Unit> {
    let mut synthetic: BTreeMap<&str, bool> = BTreeMap::new();
    let mut folders: BTreeMap<&str, Option<BTreeSet<&str>>> = BTreeMap::new();
    for e in examples {
        *synthetic.entry(&e.source).or_default() |= e.synthetic;
        let f = folders
            .entry(&e.source)
            .or_insert_with(|| Some(BTreeSet::new()));
        match (folder(e), f.as_mut()) {
            (Some(name), Some(set)) => {
                set.insert(name);
            }
            _ => *f = None,
        }
    }
    let mut out = Vec::new();
    for (source, any_synthetic) in synthetic {
        if any_synthetic {
            continue;
        }
        match &folders[source] {
            Some(set) if !set.is_empty() => out.extend(set.iter().map(|f| Unit {
                name: format!("{source}/{f}"),
                source: source.to_string(),
                folder: Some(f.to_string()),
            })),
            _ => out.push(Unit {
                name: source.to_string(),
                source: source.to_string(),
                folder: None,
            }),
        }
    }
    out
}

impl Unit {
    /// Whether `e` belongs to the unit.
    pub fn holds(&self, e: &Example) -> bool {
        e.source == self.source
            && match &self.folder {
                None => true,
                Some(f) => folder(e) == Some(f.as_str()),
            }
    }
}

/// The rules and training settings the artifact was trained with: its
/// rules as the manifest records them, and the folds, seed and targets of
/// its recorded settings (the defaults where none are recorded), its
/// default level.
pub fn training_setup(artifact: &Artifact) -> Result<(RuleSet, TrainParams), EvalError> {
    let manifest = &artifact.manifest;
    let rules = impostor_train::artifact_rules(artifact)?;
    let settings = &manifest.training.details["settings"];
    let defaults = TrainParams::default();
    let targets = settings["targets"]
        .as_array()
        .and_then(|t| {
            let t: Vec<f64> = t.iter().filter_map(|v| v.as_f64()).collect();
            <[f64; 3]>::try_from(t).ok()
        })
        .unwrap_or(defaults.targets);
    let params = TrainParams {
        folds: settings["folds"]
            .as_u64()
            .map_or(defaults.folds, |v| v as usize),
        seed: settings["seed"].as_u64().unwrap_or(defaults.seed),
        targets,
        default_level: manifest.model.levels.default_level,
        balance: settings["balance"]
            .as_str()
            .and_then(Balance::parse)
            .unwrap_or(defaults.balance),
        prior: settings["prior"].as_f64().unwrap_or(defaults.prior),
        ..defaults
    };
    Ok((rules, params))
}

/// Transfer measured on the artifact's training data, with its rules and
/// settings; one line on `progress` per model trained. Trains one model
/// per unit and one per era direction, in turn (each fit is parallel on
/// the current rayon pool).
pub fn measure(artifact: &Artifact, progress: &dyn Progress) -> Result<Transfer, EvalError> {
    let data = artifact::read_file(artifact, data_table::FILE)?;
    let origin = artifact.dir.join(data_table::FILE).display().to_string();
    let examples = data_table::from_parquet(&data, &origin)?;
    let (rules, params) = training_setup(artifact)?;
    Ok(measure_examples(
        &examples,
        &rules,
        &params,
        &artifact.model,
        progress,
    ))
}

/// Which rows a model flags at each of [`LEVELS`] (`[low, medium, high]`),
/// floors applied.
fn flags(model: &Model, rows: &[&Example]) -> Vec<Level> {
    rows.par_iter()
        .map_init(Vec::new, |fired, e| {
            fired.clear();
            let s = model.score_with(&e.values, fired);
            model.floored(s.probability, fired).1
        })
        .collect()
}

/// False-positive and detection rates of `rows` judged `levels`, flagged
/// from `at`.
fn rates(rows: &[&Example], levels: &[Level], at: Level) -> (Rate, Rate) {
    let (mut ham, mut fp, mut attacks, mut tp) = (0, 0, 0, 0);
    for (e, l) in rows.iter().zip(levels) {
        let flagged = u64::from(*l >= at);
        if e.is_attack() {
            attacks += 1;
            tp += flagged;
        } else {
            ham += 1;
            fp += flagged;
        }
    }
    (Rate::new(fp, ham), Rate::new(tp, attacks))
}

/// `examples` as `train` needs them, trained; the log is dropped (one
/// progress line per model is enough here).
fn fit(
    examples: &[Example],
    rules: &RuleSet,
    params: &TrainParams,
) -> Result<Model, impostor_train::TrainError> {
    let trained = train(examples, rules, params, &mut |_| {})?;
    Model::new(trained.params).map_err(|e| impostor_train::TrainError::Invalid(e.to_string()))
}

/// [`measure`] on rows already read: `in_source` is the model that was
/// trained on them with their roles (the artifact's).
pub fn measure_examples(
    examples: &[Example],
    rules: &RuleSet,
    params: &TrainParams,
    in_source: &Model,
    progress: &dyn Progress,
) -> Transfer {
    let units = units(examples);
    let real_sources: Vec<String> = units
        .iter()
        .map(|u| u.source.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut results = Vec::with_capacity(units.len());
    for (k, unit) in units.iter().enumerate() {
        let started = Instant::now();
        let r = leave_out(examples, unit, rules, params, in_source);
        let elapsed = started.elapsed().as_secs_f64();
        progress.say(&format!(
            "transfer {}/{}: without {}: {} ({elapsed:.0} s)",
            k + 1,
            units.len(),
            unit.name,
            unit_line(&r, params.default_level)
        ));
        results.push(r);
    }
    let mut eras = Vec::new();
    if !real_sources.is_empty() {
        for (k, (train_later, name)) in [(false, "earlier → later"), (true, "later → earlier")]
            .into_iter()
            .enumerate()
        {
            let started = Instant::now();
            let r = across_eras(examples, train_later, rules, params);
            progress.say(&format!(
                "transfer, eras {}/2 ({name}): {} ({:.0} s)",
                k + 1,
                r.not_trained.clone().unwrap_or_else(|| format!(
                    "false positives {}, detection {}",
                    short(&r.overall.false_positive_rate),
                    short(&r.overall.detection_rate)
                )),
                started.elapsed().as_secs_f64()
            ));
            eras.push(r);
        }
    }
    Transfer {
        default_level: params.default_level,
        era_cut: ERA_CUT_DATE.into(),
        real_sources,
        synthetic_rows: examples.iter().filter(|e| e.synthetic).count() as u64,
        undated_rows: examples.iter().filter(|e| e.timestamp.is_none()).count() as u64,
        units: results,
        eras,
    }
}

/// `12.5% (25/200)` or `n/a`.
fn short(r: &Rate) -> String {
    r.value.map_or("n/a".into(), |v| {
        format!("{} ({}/{})", crate::report::pct(v), r.count, r.total)
    })
}

/// A unit's result in one progress line.
fn unit_line(r: &UnitTransfer, level: Level) -> String {
    if let Some(why) = &r.not_trained {
        return why.clone();
    }
    let Some(l) = r.at(level) else {
        return "no rates".into();
    };
    let mut parts = Vec::new();
    for (what, c, n) in [
        ("false positives", &l.false_positive_rate, r.ham),
        ("detection", &l.detection_rate, r.attacks),
    ] {
        if n > 0 {
            parts.push(format!(
                "{what} {} (in-source {})",
                short(&c.out_of_source),
                short(&c.in_source)
            ));
        }
    }
    parts.join(", ")
}

/// Trains without `unit` and measures it.
fn leave_out(
    examples: &[Example],
    unit: &Unit,
    rules: &RuleSet,
    params: &TrainParams,
    in_source: &Model,
) -> UnitTransfer {
    let inside: Vec<bool> = examples.iter().map(|e| unit.holds(e)).collect();
    let groups: HashSet<&str> = examples
        .iter()
        .zip(&inside)
        .filter(|(_, i)| **i)
        .map(|(e, _)| e.group.as_str())
        .collect();
    let mut held_out_with_group = 0;
    let mut changed = examples.to_vec();
    for (e, i) in changed.iter_mut().zip(&inside) {
        if *i || groups.contains(e.group.as_str()) {
            held_out_with_group += u64::from(!*i);
            e.role = Role::Test;
        }
    }
    let rows: Vec<&Example> = examples
        .iter()
        .zip(&inside)
        .filter(|(_, i)| **i)
        .map(|(e, _)| e)
        .collect();
    let tested: Vec<&Example> = rows
        .iter()
        .copied()
        .filter(|e| e.role == Role::Test)
        .collect();
    let attacks = rows.iter().filter(|e| e.is_attack()).count() as u64;
    let mut result = UnitTransfer {
        unit: unit.clone(),
        ham: rows.len() as u64 - attacks,
        attacks,
        in_source_test_rows: tested.len() as u64,
        held_out_with_group,
        not_trained: None,
        levels: Vec::new(),
    };
    let model = match fit(&changed, rules, params) {
        Ok(m) => m,
        Err(e) => {
            result.not_trained = Some(format!("could not train without it: {e}"));
            return result;
        }
    };
    let (out_levels, in_levels) = (flags(&model, &rows), flags(in_source, &tested));
    result.levels = LEVELS
        .into_iter()
        .map(|level| {
            let (out_fp, out_tp) = rates(&rows, &out_levels, level);
            let (in_fp, in_tp) = rates(&tested, &in_levels, level);
            UnitLevel {
                level,
                false_positive_rate: Comparison::new(out_fp, in_fp),
                detection_rate: Comparison::new(out_tp, in_tp),
            }
        })
        .collect();
    result
}

/// The period a timestamp falls in: `false` before [`ERA_CUT`].
fn later(ts: i64) -> bool {
    ts >= ERA_CUT
}

/// A period's name.
fn period(later: bool) -> String {
    if later {
        format!("{ERA_CUT_DATE} or later")
    } else {
        format!("before {ERA_CUT_DATE}")
    }
}

/// Trains on one period (`train_later`) and measures the other's real rows.
fn across_eras(
    examples: &[Example],
    train_later: bool,
    rules: &RuleSet,
    params: &TrainParams,
) -> EraTransfer {
    let in_period = |e: &Example, want: bool| e.timestamp.is_some_and(|t| later(t) == want);
    let tested: Vec<&Example> = examples
        .iter()
        .filter(|e| !e.synthetic && in_period(e, !train_later))
        .collect();
    let groups: HashSet<&str> = tested.iter().map(|e| e.group.as_str()).collect();
    let side: Vec<&Example> = examples
        .iter()
        .filter(|e| in_period(e, train_later))
        .collect();
    let training: Vec<Example> = side
        .iter()
        .filter(|e| !groups.contains(e.group.as_str()))
        .map(|e| (*e).clone())
        .collect();
    let mut result = EraTransfer {
        trained_on: period(train_later),
        tested_on: period(!train_later),
        training_rows: training.len() as u64,
        training_synthetic: training.iter().filter(|e| e.synthetic).count() as u64,
        held_out_with_group: (side.len() - training.len()) as u64,
        not_trained: None,
        overall: SourceRates {
            source: "all real rows".into(),
            false_positive_rate: Rate::new(0, 0),
            detection_rate: Rate::new(0, 0),
        },
        by_source: Vec::new(),
    };
    if tested.is_empty() {
        result.not_trained = Some(format!(
            "no real rows dated {} to test on",
            result.tested_on
        ));
        return result;
    }
    let count = |role: Role, attack: bool| {
        training
            .iter()
            .filter(|e| e.role == role && e.is_attack() == attack)
            .count()
    };
    let (ham, attacks, val_ham) = (
        count(Role::Train, false),
        count(Role::Train, true),
        count(Role::Validation, false),
    );
    if ham == 0 || attacks == 0 || val_ham == 0 {
        result.not_trained = Some(format!(
            "cannot be trained: the rows dated {} hold {ham} ham and {attacks} attacks in the train role and {val_ham} ham in the validation role; training needs both classes to fit and ham to choose the levels on",
            result.trained_on
        ));
        return result;
    }
    let model = match fit(&training, rules, params) {
        Ok(m) => m,
        Err(e) => {
            result.not_trained = Some(format!("could not train: {e}"));
            return result;
        }
    };
    let levels = flags(&model, &tested);
    let at = params.default_level;
    let (fp, tp) = rates(&tested, &levels, at);
    result.overall.false_positive_rate = fp;
    result.overall.detection_rate = tp;
    let sources: BTreeSet<&str> = tested.iter().map(|e| e.source.as_str()).collect();
    for source in sources {
        let (rows, judged): (Vec<&Example>, Vec<Level>) = tested
            .iter()
            .zip(&levels)
            .filter(|(e, _)| e.source == source)
            .map(|(e, l)| (*e, *l))
            .unzip();
        let (fp, tp) = rates(&rows, &judged, at);
        result.by_source.push(SourceRates {
            source: source.into(),
            false_positive_rate: fp,
            detection_rate: tp,
        });
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use impostor_corpus::Label;
    use impostor_features::{Feature, FeatureVector};

    fn row(id: &str, source: &str, label: Label, synthetic: bool) -> Example {
        Example {
            id: id.into(),
            source: source.into(),
            group: id.into(),
            label,
            technique: None,
            synthetic,
            timestamp: None,
            sha1: None,
            role: Role::Train,
            values: FeatureVector::default(),
        }
    }

    #[test]
    fn units_are_real_sources_and_the_list_folders_of_a_source_kept_in_them() {
        let rows = vec![
            row(
                "lists-2019-2026:lists-2019-2026/ham/usrp-users.lists.ettus.com/a.eml",
                "lists-2019-2026",
                Label::Ham,
                false,
            ),
            row(
                "lists-2019-2026:ham/jailhouse-dev.googlegroups.com/b.eml",
                "lists-2019-2026",
                Label::Ham,
                false,
            ),
            row(
                "lists-2019-2026:ham/jailhouse-dev.googlegroups.com/c.eml",
                "lists-2019-2026",
                Label::Ham,
                false,
            ),
            // SpamAssassin's easy-ham-1 is a label folder, not a list.
            row(
                "spamassassin-2002:spamassassin-2002/ham/easy-ham-1/00001.7c53",
                "spamassassin-2002",
                Label::Ham,
                false,
            ),
            row(
                "phishing-pot:phishing-pot/phish/sample-1.eml",
                "phishing-pot",
                Label::Phish,
                false,
            ),
            // One folder-less member keeps its source whole.
            row("mixed:ham/list-a/1.eml", "mixed", Label::Ham, false),
            row("mixed:phish/2.eml", "mixed", Label::Phish, false),
            row("inbox:inbox.mbox#3", "inbox", Label::Ham, false),
            // A source with one synthetic row is not real.
            row("injected:ham/x/1.eml", "injected", Label::Ham, false),
            row("injected:phish/2.eml", "injected", Label::Phish, true),
            row("kestrel:ham/1.eml", "kestrel", Label::Ham, true),
        ];
        let names: Vec<String> = units(&rows).into_iter().map(|u| u.name).collect();
        assert_eq!(
            names,
            [
                "inbox",
                "lists-2019-2026/jailhouse-dev.googlegroups.com",
                "lists-2019-2026/usrp-users.lists.ettus.com",
                "mixed",
                "phishing-pot",
                "spamassassin-2002",
            ]
        );
        let jailhouse = &units(&rows)[1];
        let held: Vec<&str> = rows
            .iter()
            .filter(|e| jailhouse.holds(e))
            .map(|e| e.id.as_str())
            .collect();
        assert_eq!(
            held,
            [
                "lists-2019-2026:ham/jailhouse-dev.googlegroups.com/b.eml",
                "lists-2019-2026:ham/jailhouse-dev.googlegroups.com/c.eml"
            ]
        );
    }

    /// Two features decide, with noise so neither class is separable:
    /// attacks mostly carry a mismatched envelope sender (which may only
    /// raise a score), ham mostly a DKIM pass (which may lower it).
    fn dataset() -> Vec<Example> {
        let (a, b) = (Feature::EnvelopeFromDomainMismatch, Feature::AuthDkimPass);
        let mut out = Vec::new();
        for (source, date, ham, attacks) in [
            ("north", 1_100_000_000_i64, 150, 60),
            ("south", 1_700_000_000, 150, 60),
            ("gen", 1_700_000_000, 100, 40),
        ] {
            for i in 0..ham + attacks {
                let attack = i >= ham;
                let mut e = row(
                    &format!("{source}:{}/{i}.eml", if attack { "phish" } else { "ham" }),
                    source,
                    if attack { Label::Phish } else { Label::Ham },
                    source == "gen",
                );
                let mut v = FeatureVector::default();
                v.set(a, f32::from(if attack { i % 7 != 0 } else { i % 11 == 0 }));
                v.set(b, f32::from(!attack || i % 10 == 0));
                e.values = v;
                e.timestamp = Some(date + i as i64);
                e.role = match i % 5 {
                    0 => Role::Validation,
                    1 => Role::Test,
                    _ => Role::Train,
                };
                out.push(e);
            }
        }
        // An attack injected into a north message: the same group.
        let mut copy = out[3].clone();
        copy.id = "gen:copy".into();
        copy.source = "gen".into();
        copy.synthetic = true;
        copy.label = Label::Bec;
        out.push(copy);
        out
    }

    fn builtin_rules() -> RuleSet {
        RuleSet::from_toml(impostor_model::BUILTIN_RULES, "built in").unwrap()
    }

    #[test]
    fn leaving_each_source_out_gives_one_row_per_unit_with_its_counts_and_both_figures() {
        let rows = dataset();
        let rules = builtin_rules();
        let params = TrainParams {
            folds: 3,
            ..TrainParams::default()
        };
        let in_source = fit(&rows, &rules, &params).unwrap();
        let said = std::sync::Mutex::new(Vec::new());
        struct Lines<'a>(&'a std::sync::Mutex<Vec<String>>);
        impl Progress for Lines<'_> {
            fn say(&self, line: &str) {
                self.0.lock().unwrap().push(line.to_string());
            }
            fn warn(&self, line: &str) {
                self.say(line);
            }
            fn stage(&self, _: &str, _: Option<u64>) -> Box<dyn impostor_corpus::Stage + '_> {
                Box::new(impostor_corpus::Silent)
            }
        }
        let t = measure_examples(&rows, &rules, &params, &in_source, &Lines(&said));
        assert_eq!(t.real_sources, ["north", "south"]);
        assert_eq!(t.synthetic_rows, 141);
        let names: Vec<&str> = t.units.iter().map(|u| u.unit.name.as_str()).collect();
        assert_eq!(names, ["north", "south"]);
        for u in &t.units {
            assert_eq!((u.ham, u.attacks), (150, 60), "{}", u.unit.name);
            assert_eq!(u.in_source_test_rows, 42, "{}", u.unit.name);
            assert!(u.not_trained.is_none(), "{:?}", u.not_trained);
            assert_eq!(u.levels.len(), 3);
            let m = u.at(Level::Medium).unwrap();
            assert_eq!(m.false_positive_rate.out_of_source.total, 150);
            assert_eq!(m.detection_rate.out_of_source.total, 60);
            assert_eq!(
                m.false_positive_rate.in_source.total + m.detection_rate.in_source.total,
                42
            );
            // The attacks carry the first feature: most are found.
            assert!(m.detection_rate.out_of_source.value.unwrap() > 0.5);
            let d = m.detection_rate.difference_points.unwrap();
            let want = 100.0
                * (m.detection_rate.out_of_source.value.unwrap()
                    - m.detection_rate.in_source.value.unwrap());
            assert!((d - want).abs() < 1e-9);
        }
        // The injected copy shares a north group: held out with north.
        assert_eq!(t.units[0].held_out_with_group, 1);
        assert_eq!(t.units[1].held_out_with_group, 0);

        // Earlier → later: north alone (1.1e9 is 2004) trains; south is
        // tested (gen is synthetic). Later → earlier: south and gen train.
        assert_eq!(t.eras.len(), 2);
        let (early, late) = (&t.eras[0], &t.eras[1]);
        assert!(early.trained_on.starts_with("before"));
        assert!(early.not_trained.is_none(), "{:?}", early.not_trained);
        let sources: Vec<&str> = early.by_source.iter().map(|s| s.source.as_str()).collect();
        assert_eq!(sources, ["south"]);
        assert_eq!(early.overall.false_positive_rate.total, 150);
        // The injected copy is dated with its north carrier: it trains on
        // the earlier side, and is never tested (synthetic).
        assert_eq!(early.training_synthetic, 1);
        assert_eq!(late.training_synthetic, 140);
        assert_eq!(late.held_out_with_group, 0);
        assert_eq!(late.by_source[0].source, "north");
        assert_eq!(late.overall.detection_rate.total, 60);

        let lines = said.lock().unwrap();
        assert_eq!(lines.len(), 4, "{lines:?}");
        assert!(
            lines[0].starts_with("transfer 1/2: without north:"),
            "{lines:?}"
        );
    }

    #[test]
    fn a_period_without_attacks_says_it_cannot_be_trained_and_why() {
        let mut rows = dataset();
        // The earlier period keeps only ham.
        rows.retain(|e| !(e.source == "north" && e.is_attack()) && e.id != "gen:copy");
        let rules = builtin_rules();
        let r = across_eras(&rows, false, &rules, &TrainParams::default());
        let why = r.not_trained.unwrap();
        assert!(
            why.contains("cannot be trained") && why.contains("0 attacks"),
            "{why}"
        );
        assert!(r.by_source.is_empty());
    }
}
