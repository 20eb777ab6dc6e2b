//! Password-policy checks and identity parsing.
//!
//! What it measures: `PasswordPolicy::check` in classic and NIST mode on a good password, on
//! a common one (hits the 20,000-entry blocklist), and on a 128-character one (the longest
//! accepted; NFKC normalisation and the character-class scans are linear in it), with the
//! email local part given as register does; then `Email::parse` and `Username::parse`.
//! The blocklist set is built once, on first use, during criterion's warm-up: these numbers
//! are the steady state, not that one-off cost.
//!
//! Why it matters: register, reset and change-password run the policy before any hashing, and
//! login and register parse an email or username on every request. Both must stay far below
//! the argon2 hash they precede.

use std::hint::black_box;

use authgate_core::domain::{Email, Username};
use authgate_core::policy::{PasswordPolicy, PolicyMode};
use criterion::{criterion_group, criterion_main, Criterion};

fn bench_policy(c: &mut Criterion) {
    let long = format!("Aa1{}", "x".repeat(125));
    assert_eq!(long.chars().count(), 128);
    let passwords: [(&str, &str, bool); 3] = [
        ("good", "Analytical7Engine", true),
        ("common", "Password123", false),
        ("128_chars", &long, true),
    ];
    let modes = [
        ("classic", PasswordPolicy::default()),
        (
            "nist",
            PasswordPolicy {
                mode: PolicyMode::Nist,
                ..Default::default()
            },
        ),
    ];
    for (mode, policy) in &modes {
        let mut group = c.benchmark_group(format!("password_policy/{mode}"));
        for (name, password, accepted) in &passwords {
            assert_eq!(policy.check(password, Some("ada")).is_ok(), *accepted);
            group.bench_function(*name, |b| {
                b.iter(|| policy.check(black_box(password), black_box(Some("ada"))))
            });
        }
        group.finish();
    }

    let mut group = c.benchmark_group("identity_parse");
    group.bench_function("email", |b| {
        b.iter(|| Email::parse(black_box("  Ada.Lovelace@Example.COM ")).expect("valid"))
    });
    group.bench_function("email_local_part", |b| {
        let email = Email::parse("Ada.Lovelace@Example.COM").expect("valid");
        b.iter(|| black_box(&email).local_part())
    });
    group.bench_function("username", |b| {
        b.iter(|| Username::parse(black_box("ada_lovelace-1815")).expect("valid"))
    });
    group.finish();
}

criterion_group!(benches, bench_policy);
criterion_main!(benches);
