//! An evaluation run, as `impostor eval` and `impostor bench` start it:
//! labelled mail and a model artifact → every detector on the same
//! messages in one run → the benchmark report.
//!
//! [`EvalConfig`] is what the caller sets; its [`Default`] holds every
//! default once. [`evaluate`] indexes the mail as training does, keeps
//! what the model may be measured on ([`crate::selection`]), scores it
//! through Impostor, its ablations, the simple baselines and the peers
//! that answer, and writes the report whole.

use crate::detectors::{AuthenticationOnly, Impostor, Keywords, Part, PeerConfig};
use crate::error::EvalError;
use crate::metrics::Item;
use crate::report::{self, DataInfo, LevelInfo, MetricsFile, ModelInfo, ReportInput};
use crate::run::Scorer;
use crate::selection::{message_key, select, MessageKey};
use crate::Detector;
use impostor_corpus::manifest::{input_of, is_generated_messages, source_name};
use impostor_corpus::CorpusError;
use impostor_corpus::ManifestRow;
use impostor_corpus::{
    check_inputs, generated_labels, index_inputs, read_labels, summarise, IndexOptions, Progress,
};
use impostor_features::sender_history::{HistorySnapshot, MessageFacts};
use impostor_features::{Context, DEFAULT_VERDICT_HEADERS};
use impostor_features::{Envelope, Extractor, Inputs};
use impostor_history::{replay, CheckedHistoryParams, HistoryParams, ReplayItem};
use impostor_mailsource::{read_inputs, ReadOptions, DEFAULT_MAX_MESSAGE_BYTES};
use impostor_model::artifact::{self, Artifact};
use impostor_train::extract::for_each_batch;
use impostor_train::replay::replay_groups;
use impostor_train::training::{data_table, Role};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Messages scored together: large enough to keep the workers busy, small
/// enough to bound memory.
const SCORE_BATCH: usize = 64;

/// False-positive rates at which every detector's detection rate is
/// compared; each lies strictly between 0 and 1.
#[derive(Clone, Debug, PartialEq)]
pub struct MatchedFprs(Vec<f64>);

impl MatchedFprs {
    /// Checks that every rate lies strictly between 0 and 1.
    pub fn new(rates: Vec<f64>) -> Result<MatchedFprs, EvalError> {
        match rates.iter().find(|r| !(**r > 0.0 && **r < 1.0)) {
            Some(r) => Err(EvalError::NotARate(*r)),
            None => Ok(MatchedFprs(rates)),
        }
    }

    /// The rates, in the order given.
    pub fn rates(&self) -> &[f64] {
        &self.0
    }
}

impl Default for MatchedFprs {
    fn default() -> Self {
        MatchedFprs(vec![1e-2, 1e-3])
    }
}

/// The report's title unless told otherwise.
pub const DEFAULT_TITLE: &str = "Impostor benchmark report";

/// Everything an evaluation needs besides the model and the organisation.
#[derive(Clone, Debug, PartialEq)]
pub struct EvalConfig {
    /// Labelled messages: .eml, directories, mbox, Maildir, .tar.gz.
    pub paths: Vec<PathBuf>,
    /// A labels file (member, label, technique, synthetic), as training
    /// reads it.
    pub labels: Option<PathBuf>,
    /// The report directory to write (an existing report there is
    /// replaced, anything else refused).
    pub output: PathBuf,
    /// Evaluate the mail the model trained or chose its levels on too; the
    /// report's leakage check then fails.
    pub keep_seen: bool,
    /// The peer filters to compare with.
    pub peers: PeerConfig,
    /// The matched false-positive rates of the comparison.
    pub matched_fpr: MatchedFprs,
    /// The report's title.
    pub title: String,
    /// Worker threads; `None`: one per core.
    pub threads: Option<usize>,
    /// Headers hidden from the features besides the built-in verdict
    /// headers (as the organisation's Context hides them); the source
    /// probe leaves them out too.
    pub hide_headers: Vec<String>,
    /// How the report describes the evaluated data; `None`: the labelled
    /// mail of `paths` less what the model saw. A caller that knows the
    /// splits (bench) says more.
    pub selection: Option<String>,
    /// The command the report records as the one that made it.
    pub command: String,
    /// Retrain without each real source and across eras
    /// ([`crate::transfer`]): a full training fit per source left out and
    /// two for the eras, one after another.
    pub transfer: bool,
    /// Sender history by replay: every source's mail (a generated
    /// corpus's `timeline/` apart) in date order, each evaluated message
    /// extracted with what was known strictly before it; `None`: no
    /// history.
    pub history: Option<HistoryParams>,
}

impl Default for EvalConfig {
    fn default() -> Self {
        EvalConfig {
            paths: Vec::new(),
            labels: None,
            output: PathBuf::new(),
            keep_seen: false,
            peers: PeerConfig::default(),
            matched_fpr: MatchedFprs::default(),
            title: DEFAULT_TITLE.into(),
            threads: None,
            hide_headers: Vec::new(),
            selection: None,
            command: String::new(),
            transfer: false,
            history: None,
        }
    }
}

/// The SHA-1 of every message of the artifact's training data, with its
/// role.
pub fn training_roles(artifact: &Artifact) -> Result<HashMap<String, Role>, EvalError> {
    let data = artifact::read_file(artifact, data_table::FILE)?;
    let origin = artifact.dir.join(data_table::FILE).display().to_string();
    Ok(data_table::from_parquet(&data, &origin)?
        .into_iter()
        .filter_map(|e| Some((e.sha1?, e.role)))
        .collect())
}

/// Evaluates `artifact` against the baselines on the mail of `config`,
/// features extracted for the organisation of `ctx`, and writes the
/// report; returns its metrics. Peers that do not answer are skipped (a
/// warning on `progress`, and the report says why).
pub fn evaluate(
    config: &EvalConfig,
    artifact: &Artifact,
    ctx: &Context,
    progress: &dyn Progress,
) -> Result<MetricsFile, EvalError> {
    check_inputs(&config.paths)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(config.threads.unwrap_or(0))
        .build()
        .map_err(EvalError::Threads)?;
    let roles = training_roles(artifact)?;

    let labels = match &config.labels {
        Some(p) => read_labels(p)?,
        None => Default::default(),
    };
    let options = IndexOptions {
        source: None,
        labels,
        labels_by_input: generated_labels(&config.paths)?,
        read: ReadOptions {
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
        },
    };
    let index = {
        let stage = progress.stage("indexing", None);
        pool.install(|| index_inputs(&config.paths, &options, &|n| stage.done(n)))
    };
    let hidden: Vec<String> = DEFAULT_VERDICT_HEADERS
        .iter()
        .map(|s| s.to_string())
        .chain(config.hide_headers.iter().cloned())
        .collect();
    let summary = summarise(&index, &hidden, 1);
    let mut selection = select(&index.rows, &roles, config.keep_seen);
    fill_kinds(&config.paths, &selection.keys, &mut selection.items)?;
    if selection.items.is_empty() {
        return Err(EvalError::NothingToEvaluate {
            inputs: inputs_text(config),
            excluded: selection.excluded_text(),
        });
    }
    progress.say(&format!(
        "{} messages to evaluate ({} of the model's test role, {} new to it); left out: {}",
        selection.items.len(),
        selection.in_test_role,
        selection.new_to_model,
        selection.excluded_text()
    ));

    let model_id = artifact.manifest_sha256.clone();
    let mut detectors: Vec<Box<dyn Detector>> = vec![
        Box::new(Impostor::new(artifact.model.clone(), Part::Full, &model_id)),
        Box::new(Impostor::new(
            artifact.model.clone(),
            Part::RulesOnly,
            &model_id,
        )),
        Box::new(Impostor::new(
            artifact.model.clone(),
            Part::ClassifierOnly,
            &model_id,
        )),
        Box::new(AuthenticationOnly),
        Box::new(Keywords),
    ];
    let (peers, skipped) = config.peers.connect();
    for s in &skipped {
        progress.warn(&format!("{}: skipped: {}", s.detector, s.reason));
    }
    detectors.extend(peers);

    let history = match &config.history {
        Some(params) => {
            let params = params
                .clone()
                .check()
                .map_err(|e| EvalError::History(e.to_string()))?;
            let stage = progress.stage("replaying sender history in date order", None);
            let snapshots = pool
                .install(|| replay_snapshots(config, ctx, &index.rows, &selection.keys, &params))?;
            stage.done(snapshots.len() as u64);
            snapshots
        }
        None => HashMap::new(),
    };
    let (order, scores, carriers) = {
        let stage = progress.stage(
            "scored by every detector",
            Some(selection.items.len() as u64),
        );
        score(
            config,
            &pool,
            &detectors,
            ctx,
            &selection.keys,
            &history,
            &|n| stage.done(n),
        )?
    };
    // Scores come in reading order; put the items in the same order.
    let items: Vec<Item> = order
        .iter()
        .zip(&carriers)
        .map(|(&i, carrier)| Item {
            carrier: carrier.map(|c| c.name().to_string()),
            ..selection.items[i].clone()
        })
        .collect();
    let transfer = if config.transfer {
        progress.say(
            "transfer: retraining on the model's training data without each real source, then across eras (a full fit each)",
        );
        Some(pool.install(|| crate::transfer::measure(artifact, progress))?)
    } else {
        None
    };

    let levels = &artifact.model.params().levels;
    let level_infos: Vec<LevelInfo> = [
        ("low", &levels.low),
        ("medium", &levels.medium),
        ("high", &levels.high),
    ]
    .into_iter()
    .map(|(name, p)| LevelInfo {
        name: name.into(),
        threshold: p.threshold,
        target_fpr: p.target_fpr,
        resolvable: p.resolvable,
    })
    .collect();
    let input = ReportInput {
        title: config.title.clone(),
        command: config.command.clone(),
        model: Some(ModelInfo {
            source: artifact.dir.display().to_string(),
            manifest_sha256: model_id,
            default_level: levels.default_level.as_str().into(),
            levels: level_infos.clone(),
        }),
        data: DataInfo {
            selection: config.selection.clone().unwrap_or_else(|| {
                format!(
                    "Labelled ham, phishing and BEC from {}, less what the model trained on or chose its levels on.",
                    inputs_text(config)
                )
            }),
            excluded: selection.excluded_by_reason(),
            notes: summary.warnings.clone(),
        },
        leakage: selection.leakage_checks(&summary),
        skipped,
        points: report::standard_points(&level_infos, config.matched_fpr.rates()),
        items,
        scores,
        concurrency: pool.current_num_threads(),
        transfer,
    };
    report::write(&config.output, &input)
}

/// The generator's kind of every member of the labels file at `path`
/// (its `member` and `kind` columns); empty when the header names no
/// `kind` column, as labels files not written by `impostor gen` do.
fn read_kinds(path: &Path) -> Result<HashMap<String, String>, EvalError> {
    let text = std::fs::read_to_string(path).map_err(|source| CorpusError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut lines = text.lines();
    let columns: Vec<&str> = lines
        .next()
        .unwrap_or_default()
        .split('\t')
        .map(str::trim)
        .collect();
    let col = |name: &str| columns.iter().position(|c| *c == name);
    let (Some(member_col), Some(kind_col)) = (col("member"), col("kind")) else {
        return Ok(HashMap::new());
    };
    Ok(lines
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('\t').map(str::trim).collect();
            let (member, kind) = (*cells.get(member_col)?, *cells.get(kind_col)?);
            (!member.is_empty() && !kind.is_empty()).then(|| (member.to_string(), kind.to_string()))
        })
        .collect())
}

/// Sets each item's kind from the `labels.tsv` of the generated corpus
/// whose `messages` directory (among `paths`) it was read from; `keys[i]`
/// says where `items[i]` was read. Other items keep `None`.
fn fill_kinds(paths: &[PathBuf], keys: &[MessageKey], items: &mut [Item]) -> Result<(), EvalError> {
    let mut by_input: HashMap<&Path, (String, HashMap<String, String>)> = HashMap::new();
    for p in paths.iter().filter(|p| is_generated_messages(p)) {
        let Some(corpus) = p.parent() else {
            continue;
        };
        let kinds = read_kinds(&corpus.join("labels.tsv"))?;
        if !kinds.is_empty() {
            by_input.insert(p.as_path(), (source_name(p), kinds));
        }
    }
    if by_input.is_empty() {
        return Ok(());
    }
    for ((path, member, _), item) in keys.iter().zip(items) {
        let Some(member) = member.as_deref() else {
            continue;
        };
        let input = input_of(Path::new(path), Some(member));
        if let Some((source, kinds)) = by_input.get(input) {
            if item.source == *source {
                item.kind = kinds.get(member).cloned();
            }
        }
    }
    Ok(())
}

/// The inputs, comma-separated, as given.
fn inputs_text(config: &EvalConfig) -> String {
    config
        .paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads the inputs again and scores the messages at `keys` through every
/// detector, in batches on `pool`; `done` hears how many are scored.
/// Returns, in reading order, each scored message's position in `keys`,
/// and the detectors' scores.
/// Reading order (positions in the selection), every detector's scores
/// and each message's lure carrier, in that order.
type Scored = (
    Vec<usize>,
    Vec<crate::metrics::DetectorScores>,
    Vec<Option<impostor_features::LureCarrier>>,
);

fn score(
    config: &EvalConfig,
    pool: &rayon::ThreadPool,
    detectors: &[Box<dyn Detector>],
    ctx: &Context,
    keys: &[MessageKey],
    history: &HashMap<MessageKey, HistorySnapshot>,
    done: &dyn Fn(u64),
) -> Result<Scored, EvalError> {
    let wanted: HashMap<&MessageKey, usize> = keys.iter().zip(0..).collect();
    let mut scorer = Scorer::new(detectors, ctx);
    let mut order: Vec<usize> = Vec::with_capacity(keys.len());
    let mut batch: Vec<Vec<u8>> = Vec::new();
    let mut inputs: Vec<Inputs> = Vec::new();
    let flush =
        |batch: &mut Vec<Vec<u8>>, inputs: &mut Vec<Inputs>, scorer: &mut Scorer, scored: usize| {
            let refs: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
            pool.install(|| scorer.score_with_inputs(&refs, inputs));
            done(scored as u64);
            batch.clear();
            inputs.clear();
        };
    let read = ReadOptions {
        max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
    };
    for m in read_inputs(&config.paths, &read) {
        let key = message_key(&m.origin);
        let (Some(&at), Ok(bytes)) = (wanted.get(&key), m.bytes) else {
            continue;
        };
        order.push(at);
        // The mbox sender as `train` and `scan` pass it (the Context says
        // whether it counts).
        let mut given = Inputs::new(Envelope {
            mbox_sender: m.mbox_sender,
            ..Envelope::default()
        });
        given.history = history.get(&key).cloned();
        inputs.push(given);
        batch.push(bytes);
        if batch.len() >= SCORE_BATCH {
            flush(&mut batch, &mut inputs, &mut scorer, order.len());
        }
    }
    flush(&mut batch, &mut inputs, &mut scorer, order.len());
    if order.len() != keys.len() {
        return Err(EvalError::InputsChanged {
            read: order.len(),
            wanted: keys.len(),
        });
    }
    let carriers = scorer.take_carriers();
    Ok((order, scorer.finish(), carriers))
}

/// What a replay's store knew before each message of `keys`: every
/// message of the inputs (evaluated or not) is read in date order per
/// source and learnt after it is judged.
fn replay_snapshots(
    config: &EvalConfig,
    ctx: &Context,
    rows: &[ManifestRow],
    keys: &[MessageKey],
    params: &CheckedHistoryParams,
) -> Result<HashMap<MessageKey, HistorySnapshot>, EvalError> {
    let groups: HashMap<MessageKey, String> = rows
        .iter()
        .zip(replay_groups(rows))
        .filter_map(|(r, g)| Some(((r.path.clone(), r.member.clone(), r.index), g?)))
        .collect();
    let extractor = Extractor::new(ctx);
    let read = ReadOptions {
        max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
    };
    let mut found: Vec<(MessageKey, Option<MessageFacts>)> = Vec::new();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(rayon::current_num_threads())
        .build()
        .map_err(EvalError::Threads)?;
    for_each_batch(
        &config.paths,
        &read,
        &pool,
        |m| {
            let key = message_key(&m.origin);
            let facts = m.bytes.as_ref().ok().and_then(|bytes| {
                let envelope = Envelope {
                    mbox_sender: m.mbox_sender.clone(),
                    ..Envelope::default()
                };
                let view = extractor.parse(bytes, &envelope).ok()?;
                Some(MessageFacts::read(&view, &envelope, ctx))
            });
            (key, facts)
        },
        |done| found.extend(done),
    );
    let wanted: HashSet<&MessageKey> = keys.iter().collect();
    let items: Vec<ReplayItem> = found
        .iter()
        .map(|(key, facts)| ReplayItem {
            group: groups.get(key).cloned().unwrap_or_default(),
            facts: facts.clone().filter(|_| groups.contains_key(key)),
        })
        .collect();
    let judged = replay(&items, params, &|i, _, snapshot| {
        wanted.contains(&found[i].0).then(|| snapshot.clone())
    })
    .map_err(|e| EvalError::History(e.to_string()))?;
    Ok(found
        .iter()
        .zip(judged)
        .filter_map(|((key, _), s)| Some((key.clone(), s.flatten()?)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, source: &str) -> Item {
        Item {
            id: id.into(),
            source: source.into(),
            label: "ham".into(),
            attack: false,
            technique: None,
            synthetic: true,
            kind: None,
            carrier: None,
        }
    }

    /// A generated corpus `dir/name` whose labels.tsv has `header` and
    /// `lines`; returns its messages directory.
    fn corpus(dir: &Path, name: &str, header: &str, lines: &[&str]) -> PathBuf {
        let messages = dir.join(name).join("messages");
        std::fs::create_dir_all(messages.join("timeline")).unwrap();
        let mut text = format!("{header}\n");
        for l in lines {
            text.push_str(l);
            text.push('\n');
        }
        std::fs::write(dir.join(name).join("labels.tsv"), text).unwrap();
        messages
    }

    #[test]
    fn kinds_come_from_the_labels_beside_each_generated_corpus() {
        let dir = tempfile::tempdir().unwrap();
        let header = "member\tlabel\ttechnique\tsynthetic\tkind\tcarrier_sha1\tvariant";
        let a = corpus(
            dir.path(),
            "a",
            header,
            &[
                "timeline/000001.eml\tham\t\ttrue\tit_notice\t\ttimeline",
                "timeline/000002.eml\tbec\taccount_compromise\ttrue\ttakeover_odd_hours\t\ttimeline",
            ],
        );
        // Another corpus names its members alike: its kinds stay its own.
        let b = corpus(
            dir.path(),
            "b",
            header,
            &["timeline/000001.eml\tham\t\ttrue\tinternal\t\ttimeline"],
        );
        // A labels file without the kind column leaves kinds unset.
        let c = corpus(
            dir.path(),
            "c",
            "member\tlabel",
            &["timeline/000001.eml\tham"],
        );
        let key = |messages: &Path, member: &str| {
            (
                messages.join(member).display().to_string(),
                Some(member.to_string()),
                None,
            )
        };
        let keys = vec![
            key(&a, "timeline/000002.eml"),
            key(&a, "timeline/000001.eml"),
            key(&b, "timeline/000001.eml"),
            key(&c, "timeline/000001.eml"),
            key(&a, "timeline/000009.eml"),
        ];
        let mut items = vec![
            item("a:timeline/000002.eml", "a"),
            item("a:timeline/000001.eml", "a"),
            item("b:timeline/000001.eml", "b"),
            item("c:timeline/000001.eml", "c"),
            item("a:timeline/000009.eml", "a"),
        ];
        fill_kinds(&[a, b, c], &keys, &mut items).unwrap();
        let kinds: Vec<Option<&str>> = items.iter().map(|i| i.kind.as_deref()).collect();
        assert_eq!(
            kinds,
            [
                Some("takeover_odd_hours"),
                Some("it_notice"),
                Some("internal"),
                None,
                None
            ]
        );
    }

    #[test]
    fn matched_rates_outside_zero_and_one_are_refused_at_construction() {
        for bad in [0.0, 1.0, 2.0, -0.1, f64::NAN] {
            let e = MatchedFprs::new(vec![1e-2, bad]).unwrap_err();
            assert!(matches!(e, EvalError::NotARate(r) if r.to_bits() == bad.to_bits()));
        }
        assert_eq!(
            MatchedFprs::new(vec![0.5, 1e-4]).unwrap().rates(),
            [0.5, 1e-4]
        );
    }

    #[test]
    fn the_default_evaluation_keeps_seen_mail_out_and_compares_at_two_rates() {
        let c = EvalConfig::default();
        assert!(!c.keep_seen);
        assert_eq!(c.matched_fpr.rates(), [1e-2, 1e-3]);
        assert_eq!(c.title, DEFAULT_TITLE);
        assert!(c.peers.off.is_none());
    }

    /// Scores each message by whether its features saw an envelope sender
    /// of another domain than From.
    struct EnvelopeSeen;

    impl Detector for EnvelopeSeen {
        fn name(&self) -> &str {
            "envelope_seen"
        }
        fn description(&self) -> String {
            "1 when the features saw an envelope sender of another domain".into()
        }
        fn needs_features(&self) -> bool {
            true
        }
        fn judge(
            &self,
            sample: &crate::Sample<'_>,
        ) -> Result<crate::Judgement, crate::DetectorError> {
            let seen = sample
                .features()?
                .vector
                .get(impostor_features::Feature::EnvelopeFromDomainMismatch);
            Ok(crate::Judgement {
                score: f64::from(seen),
                flagged: None,
                hits: Vec::new(),
            })
        }
    }

    #[test]
    fn an_mbox_separators_sender_reaches_the_features_as_in_train_and_scan() {
        let dir = tempfile::tempdir().unwrap();
        let mbox = dir.path().join("inbox.mbox");
        // No Return-Path: the separator's sender is the only envelope.
        let message = "From: Ann <ann@kestrelfoods.com>\nTo: bo@kestrelfoods.com\n\
                       Subject: lunch\nMessage-ID: <1@kestrelfoods.com>\n\nAt noon?\n";
        let text = format!(
            "From bounce@elsewhere.example Thu Jan  1 00:00:00 2026\n{message}\n\
             From ann@kestrelfoods.com Thu Jan  1 00:01:00 2026\n{}\n",
            message.replace("<1@", "<2@")
        );
        std::fs::write(&mbox, text).unwrap();
        let config = EvalConfig {
            paths: vec![mbox.clone()],
            ..EvalConfig::default()
        };
        let read = ReadOptions {
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
        };
        let keys: Vec<MessageKey> = read_inputs(&config.paths, &read)
            .map(|m| message_key(&m.origin))
            .collect();
        assert_eq!(keys.len(), 2);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let detectors: Vec<Box<dyn Detector>> = vec![Box::new(EnvelopeSeen)];
        let seen = |trust: bool| {
            let org = impostor_features::OrgProfile::default();
            let ctx = Context::builder(org)
                .trust_mbox_envelope(trust)
                .build()
                .unwrap();
            let (order, scores, _) = score(
                &config,
                &pool,
                &detectors,
                &ctx,
                &keys,
                &HashMap::new(),
                &|_| {},
            )
            .unwrap();
            assert_eq!(order, [0, 1]);
            scores[0].scores.clone()
        };
        // Told to trust the separators, the first message's envelope is
        // another domain's; the second's is the From domain.
        assert_eq!(seen(true), [Some(1.0), Some(0.0)]);
        assert_eq!(seen(false), [Some(0.0), Some(0.0)]);
    }
}
