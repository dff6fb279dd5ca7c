//! Numbers and times as a person reads them.

use alloc::format;
use alloc::string::{String, ToString};

use crate::payload::GeneralizedTime;

/// `n` with thousands separators: `1,234,567`.
#[must_use]
pub fn number(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `secs` (Unix seconds) as RFC 3339 UTC: `2026-12-07T06:00:00Z`.
#[must_use]
pub fn instant(secs: i64) -> String {
    GeneralizedTime::from_unix_seconds(secs).map_or_else(
        || format!("{secs} s"),
        |t| {
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                t.year, t.month, t.day, t.hour, t.minute, t.second
            )
        },
    )
}

/// `secs` as short as a bucket of `width` seconds needs: a date for days, a date and time
/// for hours, a time for seconds and minutes.
#[must_use]
pub fn time_label(secs: i64, width: i64) -> String {
    let Some(t) = GeneralizedTime::from_unix_seconds(secs) else {
        return format!("{secs}");
    };
    if width >= 86_400 {
        format!("{:04}-{:02}-{:02}", t.year, t.month, t.day)
    } else if width >= 3_600 {
        format!("{:02}-{:02} {:02}:00", t.month, t.day, t.hour)
    } else if width >= 60 {
        format!("{:02}:{:02}", t.hour, t.minute)
    } else {
        format!("{:02}:{:02}:{:02}", t.hour, t.minute, t.second)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_times_read_as_people_write_them() {
        assert_eq!(number(0), "0");
        assert_eq!(number(999), "999");
        assert_eq!(number(1_000), "1,000");
        assert_eq!(number(1_234_567), "1,234,567");
        assert_eq!(instant(1_796_860_800), "2026-12-10T00:00:00Z");
        assert_eq!(time_label(1_796_860_800, 86_400), "2026-12-10");
        assert_eq!(time_label(1_796_860_805, 1), "00:00:05");
    }
}
