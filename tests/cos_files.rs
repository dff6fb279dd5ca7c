//! The cos layer's file formats: the registry text (nom grammar, errors with line and column)
//! and the ledger CSV (csv + serde, errors with the line).

use gbcs::cos::ledger::csv_file::{read_csv, write_csv, HEADER};
use gbcs::cos::{CosParty, CosRegistry, Credential, SecPartyId, SupplierCounts};

const TCOS: &str = "tcos 90B3D51F30000004 4B38EB47561D93E8";

#[test]
fn registry_text_reads_credentials_comments_and_any_case() {
    let text = format!("# parties\n\n  {TCOS}   # renewed below\nTCOS 90B3D51F30000004 4F3F10855696FEF2\necos 90b3d51f30000099 41fb49221588c570\n");
    let r = CosRegistry::from_text(&text).expect("reads");
    assert_eq!(r.tcos().count(), 2);
    assert_eq!(r.ecos().count(), 1);
    let ecos = Credential {
        entity_id: "90B3D51F30000099".parse().unwrap(),
        key_id: "41FB49221588C570".parse().unwrap(),
    };
    assert!(r.holds(CosParty::Ecos, &ecos));
    assert_eq!(CosRegistry::from_text(&r.to_text()).expect("round trip"), r);
    assert_eq!(
        CosRegistry::from_text("").expect("empty"),
        CosRegistry::new()
    );
}

#[test]
fn registry_text_errors_name_line_column_and_what_was_expected() {
    for (text, line, column, expected) in [
        (
            "acb 90B3D51F30000004 4B38EB47561D93E8",
            1,
            1,
            "tcos or ecos",
        ),
        (
            "# x\ntcos90B3D51F30000004 4B38EB47561D93E8",
            2,
            5,
            "white space",
        ),
        (
            "tcos 90B3D51F3000000 4B38EB47561D93E8",
            1,
            6,
            "an entity ID (16 hex digits)",
        ),
        (
            "tcos 90B3D51F3000000G 4B38EB47561D93E8",
            1,
            6,
            "an entity ID (16 hex digits)",
        ),
        ("tcos 90B3D51F30000004", 1, 22, "white space"),
        (
            "tcos 90B3D51F30000004 4B38EB47",
            1,
            23,
            "a key ID (16 hex digits)",
        ),
        (
            "tcos 90B3D51F30000004 4B38EB47561D93E8F",
            1,
            39,
            "the end of the line or a # comment",
        ),
        (
            "tcos 90B3D51F30000004 4B38EB47561D93E8 ecos",
            1,
            39,
            "the end of the line or a # comment",
        ),
    ] {
        let e = CosRegistry::from_text(text).expect_err(text);
        assert_eq!(
            (e.line, e.column, e.expected),
            (line, column, expected),
            "{text:?}"
        );
    }
}

fn counts(n: u64) -> SupplierCounts {
    SupplierCounts {
        migrations_completed: n,
        failed_attempts: n + 1,
        ecos_installed: n + 2,
        remaining_tcos: n + 3,
        non_migratable: n + 4,
    }
}

#[test]
fn ledger_csv_round_trips_and_is_only_a_header_when_empty() {
    let a = SecPartyId::new("SUPA").unwrap();
    let b = SecPartyId::new("SUPB").unwrap();
    let rows = [(&a, &counts(1)), (&b, &counts(7))];
    let text = write_csv(rows).expect("writes");
    assert!(
        text.starts_with(&format!("{HEADER}\nSUPA,1,2,3,4,5\n")),
        "{text}"
    );
    let back = read_csv(&text).expect("reads");
    assert_eq!(back.get(&a), Some(&counts(1)));
    assert_eq!(back.get(&b), Some(&counts(7)));
    let empty = write_csv(std::iter::empty()).expect("writes");
    assert_eq!(empty, format!("{HEADER}\n"));
    assert!(read_csv(&empty).expect("reads").is_empty());
}

#[test]
fn ledger_csv_refuses_bad_headers_counts_ids_and_repeats_naming_the_line() {
    let body = |rows: &str| format!("{HEADER}\n{rows}");
    for (text, line) in [
        ("supplier,completed\nSUPA,1\n".to_owned(), 1),
        (body("SUPA,1,2,3,4,5\nSUPB,1,-2,3,4,5\n"), 3),
        (body("SUPA,1,2,3,4\n"), 2),
        (body("TOOLONG7,1,2,3,4,5\n"), 2),
        (body("SUPA,1,2,3,4,5\nSUPA,1,2,3,4,5\n"), 3),
    ] {
        let e = read_csv(&text).expect_err(&text);
        assert_eq!(e.line, line, "{text}: {e}");
    }
}

proptest::proptest! {
    /// The text formats are total: mutated valid texts and arbitrary ones give a value or an
    /// error, never a panic, and an error's line and column lie inside the text.
    #[test]
    fn text_formats_never_panic_and_point_inside_the_text(
        cut in 0usize..200,
        insert in proptest::string::string_regex("[ -~\n,#]{0,12}").expect("regex"),
        noise in proptest::string::string_regex("[ -~\n]{0,200}").expect("regex"),
    ) {
        use gbcs::cos::report::{Ecosmig007, ReportError, ReportFormat};
        let registry = format!("# parties\n{TCOS}\necos 90B3D51F30000099 41FB49221588C570\n");
        let report = "00,ECOSMIG-007,SUPA01,42,Summary Report: ECoS Total Counts,20261201T060000,20261101T000000,20261130T235959,DCC Controlled\n10,8123,977,8400,1200,300\n99,1,DCC Controlled\n";
        let ledger = format!("{HEADER}\nSUPA,1,2,3,4,5\n");
        for base in [registry.as_str(), report, ledger.as_str(), noise.as_str()] {
            let at = base.char_indices().map(|(i, _)| i).nth(cut).unwrap_or(base.len());
            let text = format!("{}{insert}{}", &base[..at], &base[at..]);
            let lines = text.lines().count().max(1);
            if let Err(e) = CosRegistry::from_text(&text) {
                proptest::prop_assert!(e.line >= 1 && e.line <= lines && e.column >= 1);
            }
            if let Err(ReportError::Malformed { line, column, .. }) =
                Ecosmig007::parse(&text, &ReportFormat::default())
            {
                proptest::prop_assert!(line >= 1 && line <= lines.max(3) + 1 && column >= 1);
            }
            let _ = read_csv(&text);
        }
    }
}
