//! ECOSMIG-007: the exact text both ways, the monthly period computed from the creation time,
//! and refusal of values that do not fit. And the remaining rows of the classification table.

use gbcs::cos::classify::{classify_credential, UnknownReason};
use gbcs::cos::report::{
    monthly_period, scheduled_creation, Ecosmig007, ReportError, ReportFormat, RowsCount,
};
use gbcs::cos::{
    CosParty, CosRegistry, CosState, Credential, MatchKind, SecPartyId, SupplierCounts,
};
use gbcs::frame::EntityId;
use gbcs::payload::{GeneralizedTime, KeyId};

fn t(y: u16, mo: u8, d: u8, h: u8, mi: u8, s: u8) -> GeneralizedTime {
    GeneralizedTime::new(y, mo, d, h, mi, s).expect("valid")
}

fn report() -> Ecosmig007 {
    Ecosmig007::monthly(
        SecPartyId::new("SUPA01").expect("id"),
        42,
        t(2026, 12, 1, 6, 0, 0),
        SupplierCounts {
            migrations_completed: 8123,
            failed_attempts: 977,
            ecos_installed: 8400,
            remaining_tcos: 1200,
            non_migratable: 300,
        },
    )
}

const TEXT: &str = "00,ECOSMIG-007,SUPA01,42,Summary Report: ECoS Total Counts,20261201T060000,20261101T000000,20261130T235959,DCC Controlled\n\
10,8123,977,8400,1200,300\n\
99,1,DCC Controlled\n";

#[test]
fn builds_and_parses_the_exact_layout() {
    let r = report();
    assert_eq!(r.to_text(&ReportFormat::default()).expect("text"), TEXT);
    assert_eq!(
        Ecosmig007::parse(TEXT, &ReportFormat::default()).expect("parse"),
        r
    );
    let crlf = ReportFormat {
        separator: ';',
        line_end: "\r\n",
        ..ReportFormat::default()
    };
    let text = r.to_text(&crlf).expect("text");
    assert!(text.starts_with("00;ECOSMIG-007;SUPA01;42;"));
    assert_eq!(Ecosmig007::parse(&text, &crlf).expect("parse"), r);
}

#[test]
fn the_period_is_the_previous_calendar_month() {
    assert_eq!(
        monthly_period(t(2026, 12, 1, 6, 0, 0)),
        (t(2026, 11, 1, 0, 0, 0), t(2026, 11, 30, 23, 59, 59))
    );
    assert_eq!(
        monthly_period(t(2027, 1, 1, 6, 0, 0)),
        (t(2026, 12, 1, 0, 0, 0), t(2026, 12, 31, 23, 59, 59))
    );
    assert_eq!(
        monthly_period(t(2028, 3, 1, 6, 0, 0)),
        (t(2028, 2, 1, 0, 0, 0), t(2028, 2, 29, 23, 59, 59))
    );
    assert_eq!(
        monthly_period(t(2027, 3, 1, 6, 0, 0)).1,
        t(2027, 2, 28, 23, 59, 59)
    );
    assert_eq!(scheduled_creation(2026, 11), t(2026, 12, 1, 6, 0, 0));
    assert_eq!(scheduled_creation(2026, 12), t(2027, 1, 1, 6, 0, 0));
}

#[test]
fn values_that_do_not_fit_are_errors_not_truncations() {
    let mut r = report();
    r.counts.failed_attempts = 1_000_000_000;
    assert_eq!(
        r.to_text(&ReportFormat::default()),
        Err(ReportError::DoesNotFit {
            field: "failed migration attempts"
        })
    );
    let mut r = report();
    r.sequence_number = 1_000_000;
    assert_eq!(
        r.to_text(&ReportFormat::default()),
        Err(ReportError::DoesNotFit {
            field: "sequence number"
        })
    );
    let mut r = report();
    r.title = "x".repeat(101);
    assert_eq!(
        r.to_text(&ReportFormat::default()),
        Err(ReportError::DoesNotFit { field: "title" })
    );
    let mut r = report();
    r.title = "a, b".into();
    assert_eq!(
        r.to_text(&ReportFormat::default()),
        Err(ReportError::InvalidCharacter { field: "title" })
    );
    assert!(SecPartyId::new("SUPPLIER").is_err());
    assert!(SecPartyId::new("").is_err());
    assert!(SecPartyId::new("A B").is_err());
}

#[test]
fn parse_errors_name_the_line_and_field() {
    let f = ReportFormat::default();
    let err = |text: &str| Ecosmig007::parse(text, &f).expect_err("must fail");
    assert_eq!(
        err(&TEXT.replace("ECOSMIG-007", "ECOSMIG-006")),
        ReportError::Malformed {
            line: 1,
            column: 4,
            field: "report identifier"
        }
    );
    assert_eq!(
        err(&TEXT.replace("20261201T060000", "20261301T060000")),
        ReportError::Malformed {
            line: 1,
            column: 60,
            field: "creation date-time"
        }
    );
    assert_eq!(
        err(&TEXT.replace(",977,", ",97x,")),
        ReportError::Malformed {
            line: 2,
            column: 9,
            field: "failed migration attempts"
        }
    );
    assert_eq!(
        err(&TEXT.replace(",977,", ",1000000000,")),
        ReportError::Malformed {
            line: 2,
            column: 9,
            field: "failed migration attempts"
        }
    );
    assert_eq!(
        err(&TEXT.replace("99,1,", "99,2,")),
        ReportError::Malformed {
            line: 3,
            column: 4,
            field: "rows count"
        }
    );
    assert_eq!(
        err(&TEXT.replace("99,1,DCC Controlled\n", "")),
        ReportError::Malformed {
            line: 3,
            column: 1,
            field: "record count"
        }
    );
    assert_eq!(
        err(&TEXT.replace(",42,", ",1234567,")),
        ReportError::Malformed {
            line: 1,
            column: 23,
            field: "sequence number"
        }
    );
}

#[test]
fn parse_refuses_short_dates_empty_titles_and_trailing_fields() {
    let f = ReportFormat::default();
    let err = |text: &str| match Ecosmig007::parse(text, &f).expect_err(text) {
        ReportError::Malformed { line, field, .. } => (line, field),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        err(&TEXT.replace("20261201T060000", "20261201T0600")),
        (1, "creation date-time")
    );
    assert_eq!(
        err(&TEXT.replace("20261201T060000", "20261201T0600000")),
        (1, "creation date-time")
    );
    assert_eq!(
        err(&TEXT.replace("Summary Report: ECoS Total Counts", "")),
        (1, "title")
    );
    assert_eq!(
        err(&TEXT.replace(",300\n", ",300,7\n")),
        (2, "end of the detail record")
    );
    assert_eq!(err(&TEXT.replace("SUPA01", "SUPPLIER")), (1, "recipient"));
    assert_eq!(
        err(&TEXT.replace("10,8123", "11,8123")),
        (2, "detail record")
    );
}

#[test]
fn classification_table_rows() {
    let e = |n: u64| EntityId::from_u64(n);
    let k = |n: u8| KeyId([n; 8]);
    let mut r = CosRegistry::new();
    r.add(
        CosParty::Tcos,
        Credential {
            entity_id: e(1),
            key_id: k(1),
        },
    );
    r.add(
        CosParty::Ecos,
        Credential {
            entity_id: e(2),
            key_id: k(2),
        },
    );
    // An entity shared by both parties (different keys), and a credential in both sets.
    r.add(
        CosParty::Tcos,
        Credential {
            entity_id: e(3),
            key_id: k(3),
        },
    );
    r.add(
        CosParty::Ecos,
        Credential {
            entity_id: e(3),
            key_id: k(4),
        },
    );
    r.add(
        CosParty::Tcos,
        Credential {
            entity_id: e(5),
            key_id: k(5),
        },
    );
    r.add(
        CosParty::Ecos,
        Credential {
            entity_id: e(5),
            key_id: k(5),
        },
    );
    let c = |entity, key| {
        classify_credential(
            &r,
            Credential {
                entity_id: e(entity),
                key_id: k(key),
            },
        )
    };
    assert_eq!(c(1, 1), (CosState::Tcos, Some(MatchKind::Key)));
    assert_eq!(c(2, 2), (CosState::Ecos, Some(MatchKind::Key)));
    assert_eq!(c(1, 9), (CosState::Tcos, Some(MatchKind::EntityOnly)));
    assert_eq!(c(2, 9), (CosState::Ecos, Some(MatchKind::EntityOnly)));
    assert_eq!(c(3, 9), (CosState::Unknown(UnknownReason::Ambiguous), None));
    assert_eq!(c(3, 3), (CosState::Tcos, Some(MatchKind::Key)));
    assert_eq!(c(5, 5), (CosState::Unknown(UnknownReason::Ambiguous), None));
    assert_eq!(
        c(7, 7),
        (CosState::Unknown(UnknownReason::Unrecognised), None)
    );
}

#[test]
fn refuses_a_separator_that_can_occur_inside_a_field() {
    for separator in ['a', 'Z', '0', '9', ' ', '\t', '-', '\n'] {
        let f = ReportFormat {
            separator,
            ..ReportFormat::default()
        };
        assert_eq!(
            report().to_text(&f),
            Err(ReportError::InvalidFormat),
            "{separator:?}"
        );
        assert_eq!(
            Ecosmig007::parse(TEXT, &f),
            Err(ReportError::InvalidFormat),
            "{separator:?}"
        );
    }
    for separator in [',', ';', '|', '~'] {
        let f = ReportFormat {
            separator,
            ..ReportFormat::default()
        };
        let text = report().to_text(&f).expect("text");
        assert_eq!(Ecosmig007::parse(&text, &f).expect("parse"), report());
    }
    let f = ReportFormat {
        line_end: "\r",
        ..ReportFormat::default()
    };
    assert_eq!(report().to_text(&f), Err(ReportError::InvalidFormat));
}

#[test]
fn refuses_an_empty_title_both_ways() {
    let mut r = report();
    r.title.clear();
    assert_eq!(
        r.to_text(&ReportFormat::default()),
        Err(ReportError::Empty { field: "title" })
    );
    let text = TEXT.replace("Summary Report: ECoS Total Counts", "");
    assert!(matches!(
        Ecosmig007::parse(&text, &ReportFormat::default()),
        Err(ReportError::Malformed {
            line: 1,
            field: "title",
            ..
        })
    ));
}

#[test]
fn refuses_date_times_of_the_wrong_width() {
    for bad in [
        "20261201T06000",
        "20261201T0600000",
        "2026121T060000",
        "20261201 060000",
    ] {
        let text = TEXT.replace("20261201T060000", bad);
        assert!(
            matches!(
                Ecosmig007::parse(&text, &ReportFormat::default()),
                Err(ReportError::Malformed {
                    line: 1,
                    field: "creation date-time",
                    ..
                })
            ),
            "{bad}"
        );
    }
}

#[test]
fn the_rows_count_is_a_policy_value_the_parser_reads_in_every_form_the_builder_writes() {
    for rows in [RowsCount::DetailRecords, RowsCount::AllRecords] {
        let f = ReportFormat {
            rows_count: rows,
            ..ReportFormat::default()
        };
        let text = report().to_text(&f).expect("text");
        assert!(text.ends_with(&format!("99,{},DCC Controlled\n", rows.value())));
        assert_eq!(Ecosmig007::parse(&text, &f).expect("parse"), report());
        // With leading zeros, as a fixed-width writer would put it.
        let padded = text.replace(
            &format!("99,{},", rows.value()),
            &format!("99,{:06},", rows.value()),
        );
        assert_eq!(Ecosmig007::parse(&padded, &f).expect("padded"), report());
        // The other policy's count is refused.
        let other = if rows == RowsCount::DetailRecords {
            RowsCount::AllRecords
        } else {
            RowsCount::DetailRecords
        };
        let f_other = ReportFormat {
            rows_count: other,
            ..ReportFormat::default()
        };
        assert!(matches!(
            Ecosmig007::parse(&text, &f_other),
            Err(ReportError::Malformed {
                line: 3,
                field: "rows count",
                ..
            })
        ));
    }
}
