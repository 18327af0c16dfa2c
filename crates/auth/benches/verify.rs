//! Live verification of a realistic signed message (RSA-2048 DKIM, SPF,
//! DMARC p=reject) against Knot on loopback with a warm cache, alone and
//! with feature extraction from the same parsed view, on one thread.
//! Criterion's `thrpt` line is messages per second.
//!
//! `cargo bench -p impostor-auth --features loopback --bench verify`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use impostor_auth::loopback::{business_message, DkimKey, KnotServer, Zone};
use impostor_auth::{Subject, Verifier, VerifierConfig};
use impostor_features::{AuthResult, Context, Envelope, Extractor, Inputs, OrgProfile};
use std::hint::black_box;
use std::time::Duration;

fn bench(c: &mut Criterion) {
    let key = DkimKey::rsa("sender.test", "s2048", 2048);
    let server = KnotServer::start(&[
        Zone::new("test"),
        Zone::new("sender.test")
            .txt("@", "v=spf1 ip4:192.0.2.0/24 -all")
            .txt("_dmarc", "v=DMARC1; p=reject")
            .record("@", "MX", "10 mx.sender.test.")
            .record("mx", "A", "192.0.2.10")
            .dkim_key(&key),
    ])
    .expect("the benchmark needs knotd (Debian package knot)");
    let verifier = Verifier::new(VerifierConfig::new(server.addr())).unwrap();
    let signed = key.sign(&business_message()).unwrap();
    let envelope = Envelope {
        mail_from: Some("bounce@sender.test".into()),
        client_ip: Some("192.0.2.10".parse().unwrap()),
        helo: Some("mx.sender.test".into()),
        ..Envelope::default()
    };
    let ctx = Context::builder(OrgProfile::default()).build().unwrap();
    let x = Extractor::new(&ctx);
    let view = x.parse(&signed, &envelope).unwrap();
    let subject = Subject::from_view(&view, &envelope);
    // Warm the cache, and check the benchmark measures what it says.
    let e = verifier.verify_blocking(&signed, &subject).unwrap();
    assert_eq!(e.auth.dkim[0].result, AuthResult::Pass);
    assert_eq!(e.auth.spf, AuthResult::Pass);
    assert_eq!(e.auth.dmarc, AuthResult::Pass);

    let mut g = c.benchmark_group("live");
    g.throughput(Throughput::Elements(1));
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("verify_rsa2048_spf_dmarc_warm", |b| {
        b.iter(|| {
            black_box(
                verifier
                    .verify_blocking(black_box(&signed), &subject)
                    .unwrap(),
            )
        })
    });
    g.bench_function("parse_verify_extract_warm", |b| {
        b.iter(|| {
            let view = x.parse(black_box(&signed), &envelope).unwrap();
            let e = verifier
                .verify_view_blocking(&signed, &view, &envelope)
                .unwrap();
            let mut inputs = Inputs::new(envelope.clone());
            e.apply(&mut inputs);
            black_box(x.extract_view(view, &inputs).unwrap())
        })
    });
    g.bench_function("parse_extract_without_verification", |b| {
        b.iter(|| {
            let view = x.parse(black_box(&signed), &envelope).unwrap();
            black_box(
                x.extract_view(view, &Inputs::new(envelope.clone()))
                    .unwrap(),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
