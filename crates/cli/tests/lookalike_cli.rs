//! `impostor lookalike` end to end, through the real binary: the JSON
//! contract of design.md §5, the text form, standard input, exit codes.

use serde_json::Value;
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn impostor(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_impostor"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the impostor binary runs");
    let mut pipe = child.stdin.take().unwrap();
    if let Some(input) = stdin {
        pipe.write_all(input.as_bytes()).unwrap();
    }
    drop(pipe);
    child.wait_with_output().unwrap()
}

fn json_lines(o: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect()
}

#[test]
fn one_json_object_per_domain_with_the_contract_fields() {
    let o = impostor(
        &[
            "lookalike",
            "kestre1foods.com",
            "mail.example.org",
            "coldchain-partner.eu",
        ],
        None,
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let lines = json_lines(&o);
    assert_eq!(lines.len(), 3);
    let first = &lines[0];
    assert_eq!(first["domain"], "kestre1foods.com");
    assert_eq!(first["lookalike"], true);
    assert_eq!(first["target"], "kestrelfoods.com");
    assert_eq!(first["distance"], 1);
    assert!(first["kinds"]
        .as_array()
        .unwrap()
        .contains(&"homoglyph".into()));
    assert_eq!(lines[1]["lookalike"], false);
    assert_eq!(lines[1]["target"], Value::Null);
    assert_eq!(lines[2]["target"], "coldchain-partners.eu");
    assert_eq!(lines[2]["kinds"], serde_json::json!(["omission"]));
}

#[test]
fn idn_is_shown_decoded_and_mixed_scripts_flagged() {
    let o = impostor(&["lookalike", "xn--kstrelfoods-okj.com"], None);
    let line = &json_lines(&o)[0];
    assert_eq!(line["unicode"], "kеstrelfoods.com");
    assert_eq!(line["mixed_script"], true);
    assert_eq!(line["target"], "kestrelfoods.com");
}

#[test]
fn standard_input_text_form_and_bad_names() {
    let o = impostor(
        &["lookalike", "--format", "text", "-"],
        Some("kestrelfoods-payroll.com\n\nnot a domain\nd.brandt@kestrelfood.com\n"),
    );
    // One input was not a domain name: its own error line, exit 1.
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].contains("LOOKALIKE of kestrelfoods.com") && lines[0].contains("dictionary"));
    assert!(lines[1].starts_with("not a domain\terror:"), "{out}");
    assert!(lines[2].contains("omission"), "{out}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("1 inputs were not domain names"));
}

#[test]
fn brands_file_and_brand_tlds() {
    let dir = tempfile::tempdir().unwrap();
    let brands = dir.path().join("brands.txt");
    std::fs::write(&brands, "# brands\npaypal.com\n").unwrap();
    let tlds = dir.path().join("tlds.txt");
    std::fs::write(&tlds, "zip\n").unwrap();
    let brands = brands.to_str().unwrap();
    let o = impostor(
        &[
            "lookalike",
            "--brands",
            brands,
            "paypal.zip",
            "paypal.xyz",
            "paypal.de",
        ],
        None,
    );
    let lines = json_lines(&o);
    assert_eq!(
        lines
            .iter()
            .map(|l| l["lookalike"].as_bool().unwrap())
            .collect::<Vec<_>>(),
        [false, true, false],
        "built-in brand TLDs: .xyz counts, .zip and .de do not"
    );
    let o = impostor(
        &[
            "lookalike",
            "--brands",
            brands,
            "--brand-tlds",
            tlds.to_str().unwrap(),
            "paypal.zip",
            "paypal.xyz",
        ],
        None,
    );
    let lines = json_lines(&o);
    assert_eq!(lines[0]["lookalike"], true);
    assert_eq!(lines[1]["lookalike"], false);
}

#[test]
fn a_bad_org_file_is_a_configuration_error() {
    let o = impostor(
        &["lookalike", "--org", "/nonexistent/org.toml", "example.com"],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/org.toml"));
}
