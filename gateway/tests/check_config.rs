//! `motcua check-config` on the sample configuration and on a deliberately broken
//! copy of it: the sample passes, and the copy's every problem is reported with its
//! key path.

// A test's helpers say "this cannot fail here" the way its test functions do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{path::PathBuf, process::Command};

fn sample_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../config/gateway.toml")
}

fn check(path: &std::path::Path) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_motcua")).arg("check-config").arg(path).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

/// Writes `text` beside the sample (so that its relative key paths still resolve).
fn write_beside_sample(name: &str, text: &str) -> PathBuf {
    let path = sample_path().with_file_name(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "{from:?} must occur once in the sample");
    text.replacen(from, to, 1)
}

#[test]
fn the_sample_configuration_passes_with_a_summary() {
    let (ok, stdout, stderr) = check(&sample_path());
    assert!(ok, "{stderr}");
    for expected in ["OK", "clients     8", "desks       5", "procedures  15", "2027 (provisional)"] {
        assert!(stdout.contains(expected), "{expected:?} missing from:\n{stdout}");
    }
}

#[test]
fn a_broken_copy_reports_every_problem_with_its_key_path() {
    let sample = std::fs::read_to_string(sample_path()).unwrap();
    let mut broken = sample.clone();
    broken = replace_once(&broken, "serves = [\"04609\"]", "serves = [\"99999\"]");
    // Units of the main file come before those of the unit files: a second Xã Trạm Tấu
    // overlapping the real one, and a successor that begins only months later.
    broken.push_str(
        "\n[[units]]\ncode = \"04606\"\nname = \"Xã Trạm Tấu (trùng)\"\nlevel = \"xa\"\nparent = \"15\"\nvalid_from = \"2025-07-01\"\n\
         \n[[units]]\ncode = \"99001\"\nname = \"Xã Thử\"\nlevel = \"xa\"\nparent = \"15\"\nvalid_until = \"2025-06-30\"\nsuccessor = \"99002\"\n\
         \n[[units]]\ncode = \"99002\"\nname = \"Xã Thử Hai\"\nlevel = \"xa\"\nparent = \"15\"\nvalid_from = \"2026-01-01\"\n",
    );
    broken = replace_once(
        &broken,
        "name = \"Cấp giấy xác nhận tình trạng hôn nhân\"\nlevels = [\"xa\"]\nprocessing = \"3d\"\n",
        "name = \"Cấp giấy xác nhận tình trạng hôn nhân\"\nlevels = [\"xa\"]\n",
    );
    broken = replace_once(&broken, "key_file = \"dev/portal-dev.pub.pem\"", "key_file = \"dev/khong-co.pub.pem\"");
    broken = replace_once(&broken, "agency_code = \"000.08.20.H38\"", "agency_code = \"000.08.H38\"");
    broken = replace_once(
        &broken,
        "code = \"1.001731\"\nname = \"Hỗ trợ chi phí mai táng cho đối tượng bảo trợ xã hội\"\nlevels = [\"xa\"]",
        "code = \"1.001731\"\nname = \"Hỗ trợ chi phí mai táng cho đối tượng bảo trợ xã hội\"\nlevels = [\"thon\"]",
    );
    broken = replace_once(&broken, "centre_desk = \"hcc-tinh\"", "centre_desk = \"hcc-khong-co\"");
    broken = replace_once(&broken, "\"2026-04-30..2026-05-03\"", "\"2026-04-31..2026-05-03\"");
    let path = write_beside_sample("broken-check-config-test.toml", &broken);

    let (ok, stdout, stderr) = check(&path);
    std::fs::remove_file(&path).unwrap();
    assert!(!ok, "a broken configuration must fail:\n{stdout}");
    for expected in [
        "broken-check-config-test.toml: desks[4].serves[0]: no current unit has code \"99999\"",
        "(04606).code: unit 04606 overlaps in time with \"Xã Trạm Tấu (trùng)\"",
        "units[1] (99001).successor: unit 99002 does not exist on 2025-07-01, the day it would take over",
        "procedures[4] (1.004873).processing: a procedure needs a processing time",
        "clients[0] (portal-dev).key_file: cannot read",
        "desks[4].agency_code: invalid agency code",
        "procedures[14] (1.001731).levels[0]: no unit has level \"thon\"",
        "deadlines.centre_desk: desk \"hcc-khong-co\" is not configured",
        "calendar.years[0].holidays[3]",
    ] {
        assert!(stderr.contains(expected), "{expected:?} missing from:\n{stderr}");
    }
    assert!(stderr.contains(": 9 problem(s)"), "{stderr}");
}

#[test]
fn a_file_that_is_not_toml_fails_with_its_position() {
    let path = write_beside_sample("unparsable-check-config-test.toml", "[gateway\nlisten = 1");
    let (ok, _, stderr) = check(&path);
    std::fs::remove_file(&path).unwrap();
    assert!(!ok);
    assert!(stderr.contains("unparsable-check-config-test.toml") && stderr.contains("line 1"), "{stderr}");
}

#[test]
fn unknown_keys_are_refused() {
    let sample = std::fs::read_to_string(sample_path()).unwrap();
    let path = write_beside_sample(
        "unknown-key-check-config-test.toml",
        &sample.replacen("[store]\n", "[store]\ncache_capcity_mb = 1\n", 1),
    );
    let (ok, _, stderr) = check(&path);
    std::fs::remove_file(&path).unwrap();
    assert!(!ok);
    assert!(stderr.contains("cache_capcity_mb"), "{stderr}");
}

#[test]
fn published_development_keys_and_tls_are_warned_about() {
    let (ok, _, stderr) = check(&sample_path());
    assert!(ok);
    assert!(stderr.contains("WARNING: gateway.signing_key_file is the published development key"), "{stderr}");
    assert!(stderr.contains("WARNING: client portal-dev uses the published development key"), "{stderr}");
    assert!(stderr.contains("WARNING: gateway.tls = \"dev\""), "{stderr}");
    let sample = std::fs::read_to_string(sample_path()).unwrap();
    let off = write_beside_sample(
        ".tls-off.toml",
        &sample.replacen("tls = \"dev\"", "tls = \"off\"", 1).replacen("127.0.0.1:8443", "0.0.0.0:8443", 1),
    );
    let (ok, _, stderr) = check(&off);
    std::fs::remove_file(&off).unwrap();
    assert!(ok);
    assert!(stderr.contains("not a loopback address"), "{stderr}");
}

#[test]
fn a_certificate_and_a_key_that_do_not_belong_together_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let make = |name: &str| {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap().self_signed(&key).unwrap();
        std::fs::write(dir.path().join(format!("{name}.pem")), cert.pem()).unwrap();
        std::fs::write(dir.path().join(format!("{name}.key.pem")), key.serialize_pem()).unwrap();
    };
    make("a");
    make("b");
    let sample = std::fs::read_to_string(sample_path()).unwrap();
    let tls = |cert: &str, key: &str| {
        format!(
            "tls = {{ cert_file = \"{}\", key_file = \"{}\" }}",
            dir.path().join(cert).display(),
            dir.path().join(key).display()
        )
    };
    let good = write_beside_sample(".tls-good.toml", &sample.replacen("tls = \"dev\"", &tls("a.pem", "a.key.pem"), 1));
    let bad = write_beside_sample(".tls-bad.toml", &sample.replacen("tls = \"dev\"", &tls("a.pem", "b.key.pem"), 1));
    let (good_ok, _, good_err) = check(&good);
    let (bad_ok, _, bad_err) = check(&bad);
    std::fs::remove_file(good).unwrap();
    std::fs::remove_file(bad).unwrap();
    assert!(good_ok, "{good_err}");
    assert!(!bad_ok && bad_err.contains("gateway.tls"), "{bad_err}");
}

#[test]
fn a_year_without_a_calendar_is_warned_about() {
    let sample = std::fs::read_to_string(sample_path()).unwrap();
    let start = sample.find("[[calendar.years]]\nyear = 2027").unwrap();
    let end = sample[start..].find("[deadlines]").unwrap() + start;
    let path = write_beside_sample(".no-2027.toml", &format!("{}{}", &sample[..start], &sample[end..]));
    let (ok, _, stderr) = check(&path);
    std::fs::remove_file(&path).unwrap();
    assert!(ok);
    assert!(stderr.contains("WARNING: calendar: 2027 has no days off configured"), "{stderr}");
    let (_, _, stderr) = check(&sample_path());
    assert!(!stderr.contains("WARNING: calendar:"), "both years are configured in the sample: {stderr}");
}

#[test]
fn the_units_file_is_what_the_import_makes_of_the_reference_lists() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("lao-cai.toml");
    let repo = sample_path().parent().unwrap().parent().unwrap().to_owned();
    let run = Command::new(env!("CARGO_BIN_EXE_motcua"))
        .current_dir(&repo)
        .args(["units", "import", "--province", "15", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(String::from_utf8_lossy(&run.stdout).contains("99 communes in force"));
    assert_eq!(String::from_utf8_lossy(&run.stderr).lines().filter(|l| l.starts_with("to settle:")).count(), 13);
    let committed = std::fs::read_to_string(repo.join("config/units/lao-cai.toml")).unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), committed, "config/units/lao-cai.toml is the import's output");
}
