//! The model card: what the model was trained on, how, what it measured,
//! and what it cannot be trusted with.

use super::example::Example;
use super::TrainReport;
use impostor_model::artifact::TrainingRecord;
use impostor_model::model::ModelParams;
use std::collections::BTreeMap;
use std::fmt::Write as _;

fn pct(x: Option<f64>) -> String {
    x.map_or("n/a".into(), |v| format!("{:.3}%", 100.0 * v))
}

fn auc(x: Option<f64>) -> String {
    x.map_or("n/a".into(), |v| format!("{v:.4}"))
}

fn rate(x: &impostor_model::stats::rates::Rate) -> String {
    if x.total == 0 {
        return "–".into();
    }
    format!(
        "{}/{} = {} ({} – {})",
        x.count,
        x.total,
        pct(x.value),
        pct(x.ci95.map(|c| c.low)),
        pct(x.ci95.map(|c| c.high))
    )
}

/// Renders MODEL_CARD.md.
pub fn render(
    params: &ModelParams,
    report: &TrainReport,
    record: &TrainingRecord,
    examples: &[Example],
    validation_rule: &str,
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Model card\n");
    let _ = writeln!(s, "- Date: {}", record.date);
    let _ = writeln!(s, "- Command: `impostor {}`", record.command);
    let _ = writeln!(
        s,
        "- Training data manifest SHA-256: `{}`",
        record.data_manifest_sha256
    );
    let _ = writeln!(
        s,
        "- Detects: envelope_from_spoof, header_from_spoof, lookalike_domain, freemail_impersonation, account_compromise; score = calibrated probability that a message is phishing or BEC."
    );
    let _ = writeln!(s, "\n## Data\n");
    let _ = writeln!(s, "| source | role | ham | attacks | synthetic |");
    let _ = writeln!(s, "|---|---|---:|---:|---:|");
    let mut table: BTreeMap<(&str, &str), (usize, usize, usize)> = BTreeMap::new();
    for e in examples {
        let c = table
            .entry((e.source.as_str(), e.role.as_str()))
            .or_default();
        if e.is_attack() {
            c.1 += 1;
        } else {
            c.0 += 1;
        }
        c.2 += usize::from(e.synthetic);
    }
    for ((source, role), (h, a, syn)) in &table {
        let _ = writeln!(s, "| {source} | {role} | {h} | {a} | {syn} |");
    }
    let _ = writeln!(s, "\nHeld out: {validation_rule}; the held-out groups are halved by a seeded hash into validation (chooses the levels) and test (never used to fit or choose anything). Duplicate groups never straddle roles.");
    let b = &report.sample_weights;
    let _ = writeln!(
        s,
        "\nSample weights on the train role ({} ham, {} attacks): {}.\n",
        b.ham, b.attacks, b.method
    );
    let _ = writeln!(
        s,
        "| class | source | rows | weight per row | share of class |"
    );
    let _ = writeln!(s, "|---|---|---:|---:|---:|");
    for g in &b.groups {
        let _ = writeln!(
            s,
            "| {} | {}{} | {} | {:.3} | {:.1}% |",
            g.class,
            g.source,
            if g.added { " (added)" } else { "" },
            g.rows,
            g.row_weight,
            100.0 * g.share_of_class
        );
    }
    let _ = writeln!(s, "\n## Model\n");
    let may_lower: Vec<&str> = params
        .rules
        .rules
        .iter()
        .filter(|r| {
            impostor_model::rules::Rule::resolve(r.rule.clone()).is_ok_and(|r| r.may_lower_score())
        })
        .map(|r| r.rule.code.as_str())
        .collect();
    let _ = writeln!(
        s,
        "- {} expert rules with learned weights (L2 {}); {} of them got a weight above 0.05. Only rules that read verified facts alone may weigh below zero ({}); every other rule, and every rule reading something the sender writes, is held at or above zero.",
        params.rules.rules.len(),
        params.rules.l2,
        params.rules.rules.iter().filter(|r| r.weight > 0.05).count(),
        if may_lower.is_empty() { "none".to_string() } else { may_lower.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ") }
    );
    let pinned: Vec<&str> = params
        .classifier
        .inputs
        .iter()
        .filter(|i| i.weight == 0.0)
        .map(|i| i.feature.as_str())
        .collect();
    let _ = writeln!(
        s,
        "- linfa-logistic over {} features: counts and lengths as ln(1 + x), standardised; flags centred, not scaled (a rare flag keeps the L2 penalty of any 0/1 input); L2 {}. Rates per 1,000 characters are not inputs (added text dilutes them). Sign constraints by an active-set refit around linfa-logistic: a feature the sender writes never weighs below zero; {} inputs are held at zero by it{}.",
        params.classifier.inputs.len(),
        params.classifier.l2,
        pinned.len(),
        if pinned.is_empty() { String::new() } else { format!(" ({})", pinned.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")) }
    );
    let c = &params.calibration;
    let _ = writeln!(
        s,
        "- Platt calibration: p = σ({:.4} · rules + {:.4} · classifier + {:.4}), fitted on {}; slopes held at or above zero.",
        c.rules_coef, c.classifier_coef, c.offset, c.fitted_on
    );
    if let Some(prior) = c.prior {
        let _ = writeln!(
            s,
            "- The score is the probability that a message is an attack where one message in {:.0} is (prior {prior}). The levels are thresholds on it chosen for their false-positive rates, so the prior moves the scores, not what each level flags.",
            1.0 / prior
        );
    }
    if let Some(history) = record.details["settings"]["history"].as_str() {
        let _ = writeln!(
            s,
            "- Sender history: {history}. Each message's history_* features are what an in-memory store knew strictly before it (see README, Sender history)."
        );
    }
    let _ = writeln!(s, "\n## Confound audit\n");
    let _ = writeln!(
        s,
        "Features whose values tell the corpora or eras apart rather than attacks from ham, measured on the train role. {} A provenance-only feature is not a model input: the classifier does not read it and a rule reading nothing else weighs zero. Any other listed feature keeps a classifier weight of at most {} in size (it is dropped otherwise), and a rule reading one stays within the same bound. Floors and ceilings are exempt: they are declared (listed below with the reason), not learned.\n",
        report.confound.criteria(),
        report.confound_bound
    );
    let weight_of = |name: &str| {
        params
            .classifier
            .inputs
            .iter()
            .find(|i| i.feature == name)
            .map(|i| i.weight)
    };
    let table = report.confound.render_markdown(weight_of);
    let _ = writeln!(s, "{}", table.trim_end());
    let mut top: Vec<_> = params.rules.rules.iter().collect();
    top.sort_by(|a, b| {
        b.weight
            .total_cmp(&a.weight)
            .then_with(|| a.rule.code.cmp(&b.rule.code))
    });
    let _ = writeln!(s, "\nHeaviest rules:\n");
    let _ = writeln!(s, "| rule | weight | says |");
    let _ = writeln!(s, "|---|---:|---|");
    for r in top.iter().take(10) {
        let _ = writeln!(
            s,
            "| `{}` | {:.3} | {} |",
            r.rule.code, r.weight, r.rule.says
        );
    }
    let floors: Vec<_> = params
        .rules
        .rules
        .iter()
        .filter_map(|r| r.rule.floor.as_deref().map(|f| (r, f)))
        .collect();
    // Whether the rules declare a floor or a ceiling (said again at the levels).
    let mut bounded = !floors.is_empty();
    if !floors.is_empty() {
        let _ = writeln!(
            s,
            "\nFloors: when one of these rules fires the verdict is at least the level named (`flagged`: the default level), with its technique and reason, whatever its weight. Declared in the rule file, not learned.\n"
        );
        let _ = writeln!(s, "| rule | floor | weight | says |");
        let _ = writeln!(s, "|---|---|---:|---|");
        for (r, floor) in floors {
            let _ = writeln!(
                s,
                "| `{}` | {} | {:.3} | {} |",
                r.rule.code, floor, r.weight, r.rule.says
            );
        }
        let _ = writeln!(
            s,
            "\nFloors are exempt from the confound bound: they are declared evidence (header ambiguity, a DMARC failure the owner asks to refuse, DNS facts), not associations the corpora taught."
        );
    }
    let ceilings: Vec<_> = params
        .rules
        .rules
        .iter()
        .filter_map(|r| r.rule.ceiling.as_deref().map(|c| (r, c)))
        .collect();
    bounded |= !ceilings.is_empty();
    if !ceilings.is_empty() {
        let _ = writeln!(
            s,
            "\nCeilings: when one of these rules fires and no floor does, the verdict is at most the level named. Declared in the rule file for mail that reaches no victim, on verified facts only.\n"
        );
        let _ = writeln!(s, "| rule | ceiling | weight | says |");
        let _ = writeln!(s, "|---|---|---:|---|");
        for (r, ceiling) in ceilings {
            let _ = writeln!(
                s,
                "| `{}` | {} | {:.3} | {} |",
                r.rule.code, ceiling, r.weight, r.rule.says
            );
        }
    }
    let _ = writeln!(s, "\n## Cross-validation\n");
    let _ = writeln!(s, "| fold | fitted on | held out | attacks | AUC |");
    let _ = writeln!(s, "|---:|---:|---:|---:|---:|");
    for f in &report.folds {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            f.fold,
            f.train_rows,
            f.held_out_rows,
            f.held_out_attacks,
            auc(f.auc)
        );
    }
    let _ = writeln!(s, "\nOut-of-fold AUC: {}.", auc(report.out_of_fold_auc));
    let _ = writeln!(s, "\n## Levels\n");
    // The served verdict is not what these tables count: say so where the
    // figures start, so nobody compares them with a report unawares.
    if bounded {
        let _ = writeln!(
            s,
            "The thresholds and every rate from here on are the model's score (rules and classifier, calibrated) before the floors and ceilings listed above. A served verdict (`scan`, the milter, the HTTP service, `eval`'s report) applies them, so its rates can differ: a ceiling keeps some ham unflagged, a floor flags some mail the score leaves below the level.\n"
        );
    }
    let _ = writeln!(
        s,
        "Chosen on the validation role; the default flagging level is **{:?}** (`flagged` = level ≥ it).\n",
        params.levels.default_level
    );
    let _ = writeln!(s, "| level | threshold | target FPR | validation FPR (95% CI) | validation detection | resolvable |");
    let _ = writeln!(s, "|---|---:|---:|---|---|---|");
    for (name, p) in [
        ("low", &params.levels.low),
        ("medium", &params.levels.medium),
        ("high", &params.levels.high),
    ] {
        let _ = writeln!(
            s,
            "| {name} | {:.6} | {} | {}/{} = {} ({} – {}) | {}/{} | {} |",
            p.threshold,
            p.target_fpr,
            p.validation_ham_flagged,
            p.validation_ham,
            pct(Some(p.validation_fpr)),
            pct(Some(p.validation_fpr_ci95.low)),
            pct(Some(p.validation_fpr_ci95.high)),
            p.validation_attacks_flagged,
            p.validation_attacks,
            if p.resolvable {
                "yes"
            } else {
                "no: fewer validation ham than 1 / target"
            }
        );
    }
    for m in [&report.validation, &report.test] {
        let _ = writeln!(
            s,
            "\n### {} role: {} ham, {} attacks, AUC {}\n",
            m.role,
            m.ham,
            m.attacks,
            auc(m.auc)
        );
        let _ = writeln!(
            s,
            "| level | false-positive rate (95% CI) | detection rate (95% CI) |"
        );
        let _ = writeln!(s, "|---|---|---|");
        for l in &m.levels {
            let r = rate;
            let _ = writeln!(
                s,
                "| {:?} | {} | {} |",
                l.level,
                r(&l.false_positive_rate),
                r(&l.detection_rate)
            );
        }
    }
    let _ = writeln!(
        s,
        "\n### Each level per source\n\nThe thresholds are chosen on the validation ham of every source pooled; here is what each flags of each source's held-out mail.\n"
    );
    let _ = writeln!(
        s,
        "| role | source | level | false-positive rate (95% CI) | detection rate (95% CI) |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|");
    for r in &report.levels_by_source {
        let _ = writeln!(
            s,
            "| {} | {} | {:?} | {} | {} |",
            r.role,
            r.source,
            r.level,
            rate(&r.false_positive_rate),
            rate(&r.detection_rate)
        );
    }
    let _ = writeln!(
        s,
        "\n### Test role at the default level ({:?}), per source and technique\n",
        params.levels.default_level
    );
    let _ = writeln!(
        s,
        "| by | name | false-positive rate (95% CI) | detection rate (95% CI) |"
    );
    let _ = writeln!(s, "|---|---|---|---|");
    for g in &report.test_breakdown {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            g.by,
            g.name,
            rate(&g.false_positive_rate),
            rate(&g.detection_rate)
        );
    }
    let _ = writeln!(s, "\n## Known limits\n");
    let _ = writeln!(s, "- The attacks of the techniques are mostly injected into real or generated ham (labelled synthetic); there is almost no public BEC with full headers. Detection rates on synthetic attacks measure the features, not the attackers' skill.");
    let _ = writeln!(s, "- Sources, eras and header styles differ between ham and phishing corpora; per-source metrics and the source probe of `impostor corpus index` say how much a model could learn the source instead of the attack.");
    let _ = writeln!(s, "- A level whose target rate needs more validation ham than there is (resolvable: no) is only bounded by the interval shown; do not rely on it before validating on your own mail.");
    let _ = writeln!(s, "- Features depend on the org profile (internal domains, high-profile users, trusted authserv-ids): a model trained for one organisation's profile scores another's mail with that profile's lists.");
    s
}
