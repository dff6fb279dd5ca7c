//! Helpers shared by the tests split out of `tests/duis_krp.rs`.
#![allow(dead_code)]

use gbcs::duis::schema::SchemaProblem;
use gbcs::duis::DuisError;
use gbcs::payload::UpdateSecurityCredentialsCommand;

/// The schema fault of a refused request.
pub fn schema_fault<T: std::fmt::Debug>(
    r: Result<T, DuisError>,
) -> gbcs::duis::schema::SchemaError {
    match r {
        Err(DuisError::Schema(e)) => e,
        other => panic!("expected a schema fault, got {other:?}"),
    }
}

/// The 1-based line of the first `needle` in `xml`.
pub fn line_of(xml: &str, needle: &str) -> u32 {
    let at = xml.find(needle).expect("needle");
    u32::try_from(xml[..at].matches('\n').count() + 1).expect("line")
}

/// Asserts a schema fault: `element`, a value of the wrong type, on `needle`'s line.
pub fn assert_bad_value<T: std::fmt::Debug>(r: Result<T, DuisError>, element: &str, line: u32) {
    let e = schema_fault(r);
    assert_eq!(e.element, element, "{e}");
    assert!(matches!(e.problem, SchemaProblem::Value(_)), "{e}");
    assert_eq!(e.line, line, "{e}");
}

/// Specialist floors as (usage, floor).
pub type Specialists = Vec<(u8, u64)>;

/// The fields compared: everything but certificates, counters and the protection.
#[derive(Debug, PartialEq, Eq)]
pub struct Shape {
    pub code: u16,
    pub originator: gbcs::frame::EntityId,
    pub recipient: gbcs::frame::EntityId,
    pub mode: u8,
    pub key: bool,
    pub cpv: Option<u8>,
    pub cell: Option<gbcs::payload::TrustAnchorCellIdentifier>,
    pub floor: Option<u64>,
    pub specialist: Option<Specialists>,
    pub others: Option<Vec<(u8, u64, Option<Specialists>)>>,
    pub targets: Vec<gbcs::payload::TrustAnchorCellIdentifier>,
    pub path_len: usize,
    pub execution: Option<gbcs::payload::GeneralizedTime>,
}

pub fn shape(
    h: &gbcs::frame::GroupingHeader<'_>,
    c: &UpdateSecurityCredentialsCommand<'_>,
) -> Shape {
    let ctl = &c.control;
    Shape {
        code: h.message_code().0,
        originator: h.originator,
        recipient: h.recipient,
        mode: ctl.mode.0,
        key: ctl.plain_text_symmetric_key.is_some(),
        cpv: ctl.apply_time_based_cpv_checks.map(|v| v.0),
        cell: ctl.authorising_cell,
        floor: ctl.new_floor_seq_number,
        specialist: ctl
            .new_specialist_floor_seq_numbers
            .map(|s| s.iter().map(|x| (x.usage.0, x.seq_number)).collect()),
        others: ctl.other_seq_number_changes.map(|s| {
            s.iter()
                .map(|x| {
                    (
                        x.role.0,
                        x.floor_seq_number,
                        x.specialist_floor_seq_numbers
                            .map(|y| y.iter().map(|z| (z.usage.0, z.seq_number)).collect()),
                    )
                })
                .collect()
        }),
        targets: c.replacements.iter().map(|r| r.target_cell).collect(),
        path_len: c.certification_path.iter().count(),
        execution: c.execution_date_time,
    }
}

/// What a reader's result must be for any input: a value, or an error that says what is wrong
/// and, when it names a line, a line of the document.
pub fn assert_told<T>(xml: &str, r: &Result<T, DuisError>) {
    if let Err(e) = r {
        assert!(!e.to_string().is_empty());
        if let Some(line) = e.line() {
            let lines = u32::try_from(xml.lines().count().max(1)).unwrap_or(u32::MAX);
            assert!((1..=lines).contains(&line), "line {line} of {lines}: {e}");
        }
    }
}
