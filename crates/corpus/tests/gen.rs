//! The generator without ../shared: reproducible, and generated ham and
//! attacks not separable by their form.

use impostor_corpus::gen::{write_corpus, Generator};
use impostor_corpus::probe::separability;
use impostor_corpus::surface::surface_features;
use impostor_corpus::Label;

#[test]
fn the_same_seed_writes_the_same_bytes_and_another_seed_does_not() {
    let a = Generator::new(5).unwrap().default_corpus(200, 100);
    let b = Generator::new(5).unwrap().default_corpus(200, 100);
    let c = Generator::new(6).unwrap().default_corpus(200, 100);
    assert_eq!(a.len(), 300);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.member, y.member);
        assert!(
            x.bytes == y.bytes,
            "{} differs between two runs of one seed",
            x.member
        );
    }
    let same = a.iter().zip(&c).filter(|(x, y)| x.bytes == y.bytes).count();
    assert_eq!(same, 0, "another seed, other messages");
    // Injection into given carriers too.
    let carriers = vec![
        b"From: a@b.example\nTo: c@d.example\nSubject: hi\nDate: Tue, 20 Aug 2002 10:00:00 +0100\n\nhello\n".to_vec(),
    ];
    let x = Generator::new(5).unwrap().inject_into(&carriers, 10);
    let y = Generator::new(5).unwrap().inject_into(&carriers, 10);
    assert!(x.iter().zip(&y).all(|(p, q)| p.bytes == q.bytes));
    // And on disk: the same labels file.
    let dir = tempfile::tempdir().unwrap();
    write_corpus(&dir.path().join("one"), &a).unwrap();
    write_corpus(&dir.path().join("two"), &b).unwrap();
    let labels = |d: &str| std::fs::read(dir.path().join(d).join("labels.tsv")).unwrap();
    assert_eq!(labels("one"), labels("two"));
    assert!(
        write_corpus(&dir.path().join("one"), &a).is_err(),
        "never writes over a corpus"
    );
}

#[test]
fn generated_ham_and_attacks_are_not_separable_by_form() {
    let corpus = Generator::new(3).unwrap().default_corpus(3000, 1500);
    let (ham, attacks): (Vec<_>, Vec<_>) = corpus.iter().partition(|m| m.label == Label::Ham);
    let surface = |v: &[&impostor_corpus::gen::Generated]| -> Vec<Vec<f64>> {
        v.iter().map(|m| surface_features(&m.bytes)).collect()
    };
    let (h, a) = (surface(&ham), surface(&attacks));
    let result = separability(&h, &a, 1).unwrap();
    eprintln!("surface probe, generated ham vs attacks: {result:?}");
    assert!(
        result.auc < 0.7,
        "generated attacks are told apart by form: {result:?}; largest differences: {:?}",
        largest_differences(&h, &a)
    );
    // The probe itself can tell forms apart: Japanese-only vs English-only
    // ham differ in encoding, and it notices.
    let (ja, en): (Vec<_>, Vec<_>) = ham
        .iter()
        .partition(|m| std::str::from_utf8(&m.bytes).is_ok_and(|t| t.contains("charset=utf-8")));
    let control = separability(&surface(&ja), &surface(&en), 1).unwrap();
    assert!(
        control.auc > 0.9,
        "the probe sees a real difference in form: {control:?}"
    );
}

/// The surface features whose means differ most between the sets, in
/// standard deviations, to say what gives a failing corpus away.
fn largest_differences(a: &[Vec<f64>], b: &[Vec<f64>]) -> Vec<(String, f64)> {
    let names = impostor_corpus::surface::surface_feature_names();
    let stat = |rows: &[Vec<f64>], c: usize| {
        let n = rows.len() as f64;
        let mean = rows.iter().map(|r| r[c]).sum::<f64>() / n;
        let var = rows.iter().map(|r| (r[c] - mean).powi(2)).sum::<f64>() / n;
        (mean, var)
    };
    let mut out: Vec<(String, f64)> = (0..names.len())
        .map(|c| {
            let ((ma, va), (mb, vb)) = (stat(a, c), stat(b, c));
            (
                names[c].clone(),
                (ma - mb) / ((va + vb) / 2.0).sqrt().max(1e-9),
            )
        })
        .collect();
    out.sort_by(|x, y| y.1.abs().total_cmp(&x.1.abs()));
    out.truncate(6);
    out
}

#[test]
fn a_gen_config_writes_its_corpus_and_counts_it_by_label_and_technique() {
    use impostor_corpus::gen::GenConfig;
    let dir = tempfile::tempdir().unwrap();
    let config = GenConfig {
        output: dir.path().join("corpus"),
        ham: 20,
        attacks: 10,
        timeline: 0,
        ..GenConfig::default()
    };
    let counts = config.run(&impostor_corpus::Silent).unwrap();
    assert_eq!(counts.values().sum::<usize>(), 30);
    assert_eq!(counts[&("ham".to_string(), "none".to_string())], 20);
    // The five techniques in turn: two attacks each, phishing or BEC.
    let mut by_technique = std::collections::BTreeMap::new();
    for ((label, technique), n) in &counts {
        if label != "ham" {
            *by_technique.entry(technique.as_str()).or_insert(0) += n;
        }
    }
    assert_eq!(by_technique.len(), 5, "{counts:?}");
    assert!(by_technique.values().all(|n| *n == 2), "{counts:?}");
    let labels = std::fs::read_to_string(dir.path().join("corpus/labels.tsv")).unwrap();
    assert_eq!(labels.lines().count(), 31);
    // Carriers without ham are refused, and nothing is written.
    let empty = dir.path().join("no-ham");
    std::fs::create_dir_all(empty.join("spam")).unwrap();
    std::fs::write(empty.join("spam/1.eml"), "Subject: x\n\nbuy\n").unwrap();
    let err = GenConfig {
        output: dir.path().join("injected"),
        carriers: vec![empty],
        ..GenConfig::default()
    }
    .run(&impostor_corpus::Silent)
    .unwrap_err();
    assert!(err.to_string().contains("no ham carriers"), "{err}");
    assert!(!dir.path().join("injected").exists());
}
