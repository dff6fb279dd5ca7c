//! The nom grammar of the records of the EMRR reports: the header and trailer every report
//! shares, and each report's detail record.

use nom::bytes::complete::{tag, take_while, take_while_m_n};
use nom::character::complete::char;
use nom::combinator::{eof, map_opt, map_res, verify};
use nom::Parser;

use super::devices::{DeviceReportKind, DeviceRow, Failure, ECOS_STATUS_INSTALLED};
use super::{ReportError, SupplierCounts, CLASSIFICATION, MAX_SEQUENCE};
use crate::cos::ledger::{Descriptor, NoticeCategory};
use crate::cos::party::SecPartyId;
use crate::cos::route::DeviceType;
use crate::cos::ModelKey;
use crate::frame::EntityId;
use crate::payload::GeneralizedTime;
use crate::payload::StatusCode;

/// Where a record left the grammar: the rest of the line there, and the field.
pub(super) struct Stop<'a> {
    rest: &'a str,
    field: &'static str,
}

impl Stop<'_> {
    pub(super) fn at(&self, line: usize, whole: &str) -> ReportError {
        ReportError::Malformed {
            line,
            column: whole.chars().count() - self.rest.chars().count() + 1,
            field: self.field,
        }
    }
}

type NomError<'a> = nom::error::Error<&'a str>;

/// Runs `parser` on `input` for `field`: the value and the rest, or where it stopped.
fn field<'a, T>(
    input: &'a str,
    name: &'static str,
    mut parser: impl Parser<&'a str, Output = T, Error = NomError<'a>>,
) -> Result<(&'a str, T), Stop<'a>> {
    parser.parse(input).map_err(|_| Stop {
        rest: input,
        field: name,
    })
}

/// `SEP value`, the value read by `parser`.
fn next<'a, T>(
    input: &'a str,
    sep: char,
    name: &'static str,
    parser: impl Parser<&'a str, Output = T, Error = NomError<'a>>,
) -> Result<(&'a str, T), Stop<'a>> {
    let (rest, _) = field(input, "separator", char(sep))?;
    field(rest, name, parser)
}

fn digits<'a>(
    min: usize,
    max: usize,
) -> impl Parser<&'a str, Output = &'a str, Error = NomError<'a>> {
    take_while_m_n(min, max, |c: char| c.is_ascii_digit())
}

/// A whole field: everything up to the separator or the end of the line, which `parser`
/// must consume entirely.
fn whole<'a, T>(
    sep: char,
    mut parser: impl Parser<&'a str, Output = T, Error = NomError<'a>>,
) -> impl Parser<&'a str, Output = T, Error = NomError<'a>> {
    map_opt(take_while(move |c: char| c != sep), move |text: &'a str| {
        let (rest, value) = parser.parse(text).ok()?;
        rest.is_empty().then_some(value)
    })
}

/// 1 to `max` digits.
fn number<'a>(sep: char, max: usize) -> impl Parser<&'a str, Output = u64, Error = NomError<'a>> {
    whole(sep, map_res(digits(1, max), str::parse::<u64>))
}

/// `YYYYMMDDThhmmss`, exactly 15 characters, a real date and time.
fn time<'a>(sep: char) -> impl Parser<&'a str, Output = GeneralizedTime, Error = NomError<'a>> {
    whole(
        sep,
        map_opt(
            (digits(8, 8), char('T'), digits(6, 6)),
            |(date, _, clock): (&str, char, &str)| {
                let n = |s: &str, a: usize, b: usize| s.get(a..b)?.parse::<u16>().ok();
                let n8 =
                    |s: &str, a: usize, b: usize| n(s, a, b).and_then(|v| u8::try_from(v).ok());
                GeneralizedTime::new(
                    n(date, 0, 4)?,
                    n8(date, 4, 6)?,
                    n8(date, 6, 8)?,
                    n8(clock, 0, 2)?,
                    n8(clock, 2, 4)?,
                    n8(clock, 4, 6)?,
                )
            },
        ),
    )
}

pub(super) type Header<'a> = (
    SecPartyId,
    u32,
    &'a str,
    GeneralizedTime,
    GeneralizedTime,
    GeneralizedTime,
);

/// The header of report `id`.
pub(super) fn header<'a>(line: &'a str, sep: char, id: &str) -> Result<Header<'a>, Stop<'a>> {
    let (r, _) = field(line, "record type", tag("00"))?;
    let (r, _) = next(r, sep, "report identifier", tag(id))?;
    let (r, recipient) = next(
        r,
        sep,
        "recipient",
        map_res(take_while(|c: char| c != sep), SecPartyId::new),
    )?;
    let (r, seq) = next(
        r,
        sep,
        "sequence number",
        map_res(number(sep, 6), |n| {
            u32::try_from(n)
                .ok()
                .filter(|n| *n <= MAX_SEQUENCE)
                .ok_or(())
        }),
    )?;
    let (r, title) = next(
        r,
        sep,
        "title",
        verify(take_while(|c: char| c != sep), |t: &str| {
            (1..=100).contains(&t.chars().count()) && !t.contains(['\r', '\n'])
        }),
    )?;
    let (r, created) = next(r, sep, "creation date-time", time(sep))?;
    let (r, start) = next(r, sep, "start date-time", time(sep))?;
    let (r, end) = next(r, sep, "end date-time", time(sep))?;
    let (r, _) = next(r, sep, "classification", tag(CLASSIFICATION))?;
    field(r, "end of the header record", eof)?;
    Ok((recipient, seq, title, created, start, end))
}

pub(super) fn detail(line: &str, sep: char) -> Result<SupplierCounts, Stop<'_>> {
    let (r, _) = field(line, "detail record", tag("10"))?;
    let (r, migrations_completed) =
        next(r, sep, "migrations successfully completed", number(sep, 9))?;
    let (r, failed_attempts) = next(r, sep, "failed migration attempts", number(sep, 9))?;
    let (r, ecos_installed) = next(r, sep, "ECoS installed devices", number(sep, 9))?;
    let (r, remaining_tcos) = next(r, sep, "remaining TCoS devices", number(sep, 9))?;
    let (r, non_migratable) = next(r, sep, "non-migratable devices", number(sep, 9))?;
    field(r, "end of the detail record", eof)?;
    Ok(SupplierCounts {
        migrations_completed,
        failed_attempts,
        ecos_installed,
        remaining_tcos,
        non_migratable,
    })
}

/// ECOSMIG-005's detail: migrations successfully completed and failed migration attempts.
pub(super) fn reconciliation_detail(line: &str, sep: char) -> Result<(u64, u64), Stop<'_>> {
    let (r, _) = field(line, "detail record", tag("10"))?;
    let (r, completed) = next(r, sep, "migrations successfully completed", number(sep, 9))?;
    let (r, failed) = next(r, sep, "failed migration attempts", number(sep, 9))?;
    field(r, "end of the detail record", eof)?;
    Ok((completed, failed))
}

pub(super) fn trailer(line: &str, sep: char, rows: u64) -> Result<(), Stop<'_>> {
    let (r, _) = field(line, "trailer record", tag("99"))?;
    let (r, _) = next(r, sep, "rows count", verify(number(sep, 6), |n| *n == rows))?;
    let (r, _) = next(r, sep, "classification", tag(CLASSIFICATION))?;
    field(r, "end of the trailer record", eof)?;
    Ok(())
}

/// 1 to `max` characters of text (anything but the separator and a line end's characters,
/// as the writer refuses them).
fn text<'a>(sep: char, max: usize) -> impl Parser<&'a str, Output = &'a str, Error = NomError<'a>> {
    verify(take_while(move |c: char| c != sep), move |t: &str| {
        (1..=max).contains(&t.chars().count()) && !t.contains(['\r', '\n'])
    })
}

/// A DUIS `EUI`: eight pairs of hex digits joined by `-`.
fn eui<'a>(sep: char) -> impl Parser<&'a str, Output = EntityId, Error = NomError<'a>> {
    whole(
        sep,
        map_opt(take_while(move |c: char| c != sep), |t: &str| {
            let mut bytes = [0u8; 8];
            let mut parts = t.split('-');
            for b in &mut bytes {
                let p = parts.next()?;
                if p.len() != 2 || !p.bytes().all(|c| c.is_ascii_hexdigit()) {
                    return None;
                }
                *b = u8::from_str_radix(p, 16).ok()?;
            }
            parts.next().is_none().then_some(EntityId(bytes))
        }),
    )
}

/// One detail record of the per-device report `kind`.
pub(super) fn device_row(
    line: &str,
    sep: char,
    kind: DeviceReportKind,
) -> Result<DeviceRow, Stop<'_>> {
    let (r, _) = field(line, "detail record", tag("10"))?;
    let (r, device) = next(r, sep, "device ID", eui(sep))?;
    let (r, device_type) = next(
        r,
        sep,
        "device type",
        map_opt(take_while(|c: char| c != sep), DeviceType::from_name),
    )?;
    let (r, manufacturer) = next(r, sep, "manufacturer", text(sep, 30))?;
    let (r, model) = next(r, sep, "device model", text(sep, 30))?;
    let (r, firmware) = next(r, sep, "firmware version", text(sep, 8))?;
    let (r, at) = next(r, sep, kind.time_field(), time(sep))?;
    let (r, failure) = match kind {
        DeviceReportKind::Failed => {
            let (r, category) = next(
                r,
                sep,
                "failure category",
                map_opt(take_while(|c: char| c != sep), NoticeCategory::from_name),
            )?;
            let (r, status) = next(
                r,
                sep,
                "GBCS status",
                whole(
                    sep,
                    map_opt(digits(0, 3), |d: &str| {
                        if d.is_empty() {
                            return Some(None);
                        }
                        d.parse::<u8>().ok().map(|v| Some(StatusCode(v)))
                    }),
                ),
            )?;
            (r, Some(Failure { category, status }))
        }
        DeviceReportKind::EcosInstalled => {
            let (r, _) = next(r, sep, "ECoS status", tag(ECOS_STATUS_INSTALLED))?;
            (r, None)
        }
        DeviceReportKind::Migrated | DeviceReportKind::NonMigratable => (r, None),
    };
    field(r, "end of the detail record", eof)?;
    Ok(DeviceRow {
        device,
        descriptor: Descriptor {
            device_type,
            model: ModelKey::new(manufacturer, model),
            firmware: firmware.into(),
            meter_asset_provider: None,
        },
        at,
        failure,
    })
}
