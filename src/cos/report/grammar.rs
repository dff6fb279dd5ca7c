//! The nom grammar of the records of the EMRR reports: the header and trailer every report
//! shares, and each report's detail record.

use nom::bytes::complete::{tag, take_while, take_while_m_n};
use nom::character::complete::char;
use nom::combinator::{eof, map_opt, map_res, verify};
use nom::Parser;

use super::{ReportError, SupplierCounts, CLASSIFICATION, MAX_SEQUENCE};
use crate::cos::party::SecPartyId;
use crate::payload::GeneralizedTime;

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
            (1..=100).contains(&t.chars().count())
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
