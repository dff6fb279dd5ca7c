//! Running `xmllint --schema` (Debian's `libxml2-utils`, which `.ci/run` installs) over files.
//!
//! When `GBCS_REQUIRE_XMLLINT` is set (CI sets it), a missing xmllint fails the test;
//! otherwise the validation is skipped, and the skip is printed where it is seen
//! ([`skip::skipped`]).
#![allow(dead_code)]

#[allow(clippy::duplicate_mod)] // each support module may bring it; one test may use several
#[path = "skip.rs"]
mod skip;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// xmllint's verdict on each file (true: it validates against `schema`), or `None` when
/// xmllint is not installed and not required.
pub fn verdicts(schema: &Path, files: &[PathBuf]) -> Option<BTreeMap<PathBuf, bool>> {
    let mut verdicts = BTreeMap::new();
    for chunk in files.chunks(400) {
        let out = match Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(schema)
            .args(chunk)
            .output()
        {
            Ok(out) => out,
            Err(e) => {
                assert!(
                    !skip::required("GBCS_REQUIRE_XMLLINT"),
                    "xmllint (libxml2-utils) is required with GBCS_REQUIRE_XMLLINT set: {e}"
                );
                skip::skipped(
                    "validation with xmllint --schema",
                    &format!(
                        "xmllint cannot be run ({e}); install libxml2-utils, or set \
                         GBCS_REQUIRE_XMLLINT=1 to make this a failure"
                    ),
                );
                return None;
            }
        };
        let report = String::from_utf8_lossy(&out.stderr);
        for f in chunk {
            let shown = f.display().to_string();
            let ok = report.lines().any(|l| l == format!("{shown} validates"));
            let bad = report
                .lines()
                .any(|l| l.starts_with(&shown) && l.ends_with("fails to validate"));
            assert!(ok != bad, "no verdict for {shown}:\n{report}");
            verdicts.insert(f.clone(), ok);
        }
    }
    Some(verdicts)
}

/// Asserts that every file validates against `schema` (unless xmllint is absent and not
/// required), printing xmllint's report of each that does not.
pub fn assert_all_validate(schema: &Path, files: &[PathBuf]) {
    let Some(verdicts) = verdicts(schema, files) else {
        return;
    };
    let failed: Vec<String> = verdicts
        .iter()
        .filter(|(_, ok)| !**ok)
        .map(|(f, _)| {
            let out = Command::new("xmllint")
                .arg("--noout")
                .arg("--schema")
                .arg(schema)
                .arg(f)
                .output()
                .expect("xmllint");
            String::from_utf8_lossy(&out.stderr).into_owned()
        })
        .collect();
    assert!(
        failed.is_empty(),
        "schema validation failed:\n{}",
        failed.join("\n")
    );
}

/// Asserts that `file` does not validate (unless xmllint is absent and not required).
pub fn assert_refused(schema: &Path, file: &Path) {
    if let Some(v) = verdicts(schema, &[file.to_path_buf()]) {
        assert_eq!(
            v.values().next(),
            Some(&false),
            "xmllint accepted {}",
            file.display()
        );
    }
}
