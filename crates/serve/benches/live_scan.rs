//! The gateway's whole path on one thread: raw message + envelope → live
//! verification (RSA-2048 DKIM, SPF, DMARC against Knot on loopback, cache
//! warm) → features → score, through `impostor_serve::Engine`; and the
//! same engine without a resolver (trusted headers), for the cost of
//! verifying. Criterion's `thrpt` line is messages per second.
//!
//! `cargo bench -p impostor-serve --bench live_scan`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use impostor_auth::loopback::{business_message, DkimKey, KnotServer, Zone};
use impostor_auth::{Verifier, VerifierConfig};
use impostor_features::{AuthResult, AuthSource, Context, Envelope, OrgProfile};
use impostor_model::artifact;
use impostor_serve::Engine;
use std::hint::black_box;
use std::sync::Arc;
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
    let verifier = Arc::new(Verifier::new(VerifierConfig::new(server.addr())).unwrap());
    let engine = || {
        let ctx = Context::builder(OrgProfile::default()).build().unwrap();
        Engine::new(ctx, artifact::builtin().unwrap(), None)
    };
    let live = engine().with_verifier(verifier);
    let headers_only = engine();
    let signed = key.sign(&business_message()).unwrap();
    let envelope = Envelope {
        mail_from: Some("bounce@sender.test".into()),
        client_ip: Some("192.0.2.10".parse().unwrap()),
        helo: Some("mx.sender.test".into()),
        ..Envelope::default()
    };
    // Warm the cache, and check the benchmark measures what it says.
    let v = live.scan(&signed, &envelope).unwrap();
    assert_eq!(v.auth.source, AuthSource::Live);
    assert_eq!(v.auth.dkim[0].result, AuthResult::Pass);
    assert_eq!(v.auth.spf, AuthResult::Pass);
    assert_eq!(v.auth.dmarc.result, AuthResult::Pass);

    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(1));
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("scan_live_rsa2048_spf_dmarc_warm", |b| {
        b.iter(|| black_box(live.scan(black_box(&signed), &envelope).unwrap()))
    });
    g.bench_function("scan_without_resolver", |b| {
        b.iter(|| black_box(headers_only.scan(black_box(&signed), &envelope).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
