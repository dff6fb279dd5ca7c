//! The DUIS 5.4 simple types the schema check judges values by: each value's lexical space,
//! with white space collapsed as its type says, and the text of an element as XML defines it.

use alloc::borrow::Cow;
use alloc::string::String;

use roxmltree::Node;

/// A simple type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Value {
    RequestId,
    Boolean,
    CommandVariant,
    ServiceReference,
    ServiceReferenceVariant,
    DateTime,
    Floor,
    Base64,
    Role,
    /// `ImportMPxN`: `xs:string`, 1 to 13 characters.
    MpxnString,
}

impl Value {
    pub(super) const fn type_name(self) -> &'static str {
        match self {
            Self::RequestId => "RequestID (originator:target:counter)",
            Self::Boolean => "xs:boolean",
            Self::CommandVariant => "CommandVariant (1 to 9)",
            Self::ServiceReference => "ServiceReference of a service gbcs reads",
            Self::ServiceReferenceVariant => "ServiceReferenceVariant of a service gbcs reads",
            Self::DateTime => "xs:dateTime",
            Self::Floor => "floor sequence number (0 to 2^63-1)",
            Self::Base64 => "xs:base64Binary",
            Self::Role => "RemotePartyRole",
            Self::MpxnString => "ImportMPxN (1 to 13 characters)",
        }
    }
}

/// XSD `collapse`: runs of white space become one space, none at either end.
pub(super) fn collapse(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split([' ', '\t', '\n', '\r']).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

pub(super) fn value_ok(v: Value, raw: &str) -> bool {
    // base64Binary is checked on the raw text (collapsing only turns white space into the
    // single spaces it allows); the other values are short.
    if v == Value::Base64 {
        return base64(raw);
    }
    let c = collapse(raw);
    let s = c.as_str();
    match v {
        Value::RequestId => request_id(s),
        Value::Boolean => matches!(s, "true" | "false" | "1" | "0"),
        Value::CommandVariant => integer(s, false).is_some_and(|n| (1..=9).contains(&n)),
        Value::ServiceReference => ["6.15", "6.21", "6.23", "6.24", "8.5"].contains(&raw),
        Value::ServiceReferenceVariant => {
            ["6.15.1", "6.21", "6.23", "6.24.1", "8.5"].contains(&raw)
        }
        Value::DateTime => date_time(s).is_some(),
        Value::Floor => integer(s, true).is_some_and(|n| n <= 9_223_372_036_854_775_807),
        Value::Base64 => base64(s),
        Value::Role => matches!(
            s,
            "ACB"
                | "NetworkOperator"
                | "Recovery"
                | "Root"
                | "Supplier"
                | "TransCoS"
                | "LoadController"
        ),
        Value::MpxnString => (1..=13).contains(&raw.chars().count()),
    }
}

/// `[+-]?digits` as an integer value (u128, saturating at absurd lengths); `-` only for zero
/// when `non_negative` (XSD allows `-0`), never otherwise.
fn integer(s: &str, non_negative: bool) -> Option<u128> {
    let (neg, digits) = match (s.strip_prefix('+'), s.strip_prefix('-')) {
        (Some(d), _) => (false, d),
        (_, Some(d)) => (true, d),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let trimmed = digits.trim_start_matches('0');
    let value = if trimmed.len() > 30 {
        u128::MAX
    } else if trimmed.is_empty() {
        0
    } else {
        trimmed.parse().ok()?
    };
    if neg && (value != 0 || !non_negative) {
        return None;
    }
    Some(value)
}

pub(super) fn decimal(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    !(int.is_empty() && frac.is_empty()) && digits(int) && digits(frac) && s != "."
}

fn hex_pairs_dashed(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 23
        && b.iter().enumerate().all(|(i, c)| {
            if i % 3 == 2 {
                *c == b'-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// The schema's RequestIDType pattern.
fn request_id(s: &str) -> bool {
    let mut parts = s.split(':');
    let (Some(a), Some(b), Some(n), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    hex_pairs_dashed(a)
        && hex_pairs_dashed(b)
        && !n.is_empty()
        && n.bytes().all(|c| c.is_ascii_digit())
        && (n == "0" || !n.starts_with('0'))
        && n.parse::<u64>().is_ok()
}

/// XSD base64Binary: the base64 alphabet in groups of four, `=` padding only in the last
/// group, whose last symbol then leaves no stray bits (`xx==` ends in one of `AQgw`, `xxx=`
/// in one of `AEIMQUYcgkosw048`), XML white space allowed between characters (collapse makes
/// it the single spaces the lexical form allows). Checked without decoding or allocating.
fn base64(s: &str) -> bool {
    let mut n = 0usize;
    let mut pad = 0usize;
    let mut last = 0u8;
    for b in s.bytes() {
        let value = match b {
            b' ' | b'\t' | b'\n' | b'\r' => continue,
            b'=' => {
                pad += 1;
                n += 1;
                continue;
            }
            // Nothing after padding.
            _ if pad > 0 => return false,
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return false,
        };
        last = value;
        n += 1;
    }
    let no_stray_bits = match pad {
        0 => true,
        1 => last & 0b11 == 0,
        2 => last & 0b1111 == 0,
        _ => false,
    };
    n % 4 == 0 && no_stray_bits
}

/// An `xs:dateTime`: the instant in UTC, as Unix seconds with the fraction dropped, and
/// whether a time zone was given. Years 0001–9999 (`-` years and 5-digit years are refused
/// here, as no GBCS time can carry them).
pub(crate) fn date_time(s: &str) -> Option<(i64, bool)> {
    let (date, rest) = s.split_once('T')?;
    let d: [&str; 3] = {
        let mut it = date.split('-');
        [it.next()?, it.next()?, it.next()?]
    };
    if date.split('-').count() != 3
        || d[0].len() != 4
        || d[1].len() != 2
        || d[2].len() != 2
        || !date.bytes().all(|b| b.is_ascii_digit() || b == b'-')
    {
        return None;
    }
    let (year, month, day) = (
        d[0].parse::<u16>().ok()?,
        d[1].parse::<u8>().ok()?,
        d[2].parse::<u8>().ok()?,
    );
    if year == 0 {
        return None;
    }
    // Time zone: Z, ±hh:mm, or none.
    let (time, zone) = if let Some(t) = rest.strip_suffix('Z') {
        (t, Some(0i64))
    } else if let Some((t, z)) = rest
        .len()
        .checked_sub(6)
        .and_then(|at| rest.split_at_checked(at))
        .filter(|(_, z)| z.starts_with(['+', '-']))
    {
        let sign = if z.starts_with('-') { -1 } else { 1 };
        let (h, m) = z.get(1..)?.split_once(':')?;
        // Two digits each, nothing else: `"+1".parse()` would take a second sign.
        let two_digits = |t: &str| t.len() == 2 && t.bytes().all(|b| b.is_ascii_digit());
        if !two_digits(h) || !two_digits(m) {
            return None;
        }
        let (h, m) = (h.parse::<i64>().ok()?, m.parse::<i64>().ok()?);
        if m > 59 || h > 14 || (h == 14 && m != 0) {
            return None;
        }
        (t, Some(sign * (h * 60 + m)))
    } else {
        (rest, None)
    };
    let (hms, fraction) = match time.split_once('.') {
        Some((hms, f)) => (hms, Some(f)),
        None => (time, None),
    };
    if fraction.is_some_and(|f| f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let t: [&str; 3] = {
        let mut it = hms.split(':');
        [it.next()?, it.next()?, it.next()?]
    };
    if hms.split(':').count() != 3
        || t.iter()
            .any(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let (hour, minute, second) = (
        t[0].parse::<u8>().ok()?,
        t[1].parse::<u8>().ok()?,
        t[2].parse::<u8>().ok()?,
    );
    // 24:00:00 is the end of the day.
    let end_of_day = hour == 24
        && minute == 0
        && second == 0
        && fraction.is_none_or(|f| f.bytes().all(|b| b == b'0'));
    let base = crate::payload::GeneralizedTime::new(
        year,
        month,
        day,
        if end_of_day { 0 } else { hour },
        minute,
        second,
    )?;
    let secs = base.unix_seconds() + if end_of_day { 86_400 } else { 0 };
    Some((secs - zone.unwrap_or(0) * 60, zone.is_some()))
}

/// An element's value: its whole character data, every text node joined — CDATA sections are
/// character data, comments and processing instructions are not (XML 1.0 §2.5, §2.6), so
/// `1<!--c-->0` is `10` — as XML Schema and xmllint read it. The schema check and every reader
/// take values through this one function, so what is checked is what is read. Borrowed when
/// there is a single text node (the usual case).
pub(crate) fn element_text<'a>(node: Node<'a, '_>) -> Cow<'a, str> {
    let mut texts = node
        .children()
        .filter(Node::is_text)
        .filter_map(|t| t.text());
    let Some(first) = texts.next() else {
        return Cow::Borrowed("");
    };
    match texts.next() {
        None => Cow::Borrowed(first),
        Some(second) => {
            let mut all = String::from(first);
            all.push_str(second);
            texts.for_each(|t| all.push_str(t));
            Cow::Owned(all)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{base64, date_time};

    #[test]
    fn base64_lexical_forms_known_answers() {
        for ok in [
            "",
            "TWFu",
            "TWE=",
            "TQ==",
            "TW Fu",
            "TW\nFu\r\n",
            "AA==",
            "AAA=",
        ] {
            assert!(base64(ok), "{ok:?}");
        }
        // Wrong length, stray bits before padding, padding in the middle or three of it,
        // characters outside the alphabet.
        for bad in [
            "TWF", "TR==", "TWF=x", "TWE=TWFu", "A===", "TW!u", "TW-u", "T===", "=",
        ] {
            assert!(!base64(bad), "{bad:?}");
        }
        // Agrees with the decoder on every four-symbol group of a small alphabet.
        let alphabet = ["A", "B", "Q", "g", "/", "="];
        for a in alphabet {
            for b in alphabet {
                for c in alphabet {
                    for d in alphabet {
                        let s = alloc::format!("{a}{b}{c}{d}");
                        assert_eq!(base64(&s), crate::duis::decode_base64(&s).is_some(), "{s}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_time_zone_is_two_digits_each_side_and_nothing_else() {
        assert_eq!(
            date_time("2030-01-15T00:00:00+01:00"),
            Some((1_894_662_000, true))
        );
        assert_eq!(
            date_time("2030-01-15T00:00:00-00:30"),
            Some((1_894_667_400, true))
        );
        for bad in [
            "2030-01-15T00:00:00++1:00",
            "2030-01-15T00:00:00+-1:00",
            "2030-01-15T00:00:00+01:+0",
            "2030-01-15T00:00:00+1:000",
            "2030-01-15T00:00:00+ 1:00",
            "2030-01-15T00:00:00+15:00",
        ] {
            assert_eq!(date_time(bad), None, "{bad}");
        }
    }
}
