//! `GeneralizedTime` as GBCS uses it: `YYYYMMDDHHMMSSZ`, UTC, whole seconds.

use core::fmt;

use crate::ber::{self, Decode, Encode, Tagged};
use crate::codec::{LengthForm, Reader, Writer};
use crate::error::{Error, ErrorKind, Result};

/// A `GeneralizedTime` of the form `YYYYMMDDHHMMSSZ` (UTC, whole seconds), the only form GBCS
/// uses. `99991231235959Z` is the cancellation value of a future-dated command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GeneralizedTime {
    /// Year, 0–9999.
    pub year: u16,
    /// Month, 1–12.
    pub month: u8,
    /// Day, 1–31 (checked against the month).
    pub day: u8,
    /// Hour, 0–23.
    pub hour: u8,
    /// Minute, 0–59.
    pub minute: u8,
    /// Second, 0–59.
    pub second: u8,
}

impl GeneralizedTime {
    /// `99991231235959Z`: "never", the execution date-time that cancels a pending command.
    pub const CANCELLATION: Self = Self {
        year: 9999,
        month: 12,
        day: 31,
        hour: 23,
        minute: 59,
        second: 59,
    };

    /// A checked time; `None` for an impossible date or time.
    #[must_use]
    pub const fn new(
        year: u16,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
    ) -> Option<Self> {
        let t = Self {
            year,
            month,
            day,
            hour,
            minute,
            second,
        };
        if t.is_valid() {
            Some(t)
        } else {
            None
        }
    }

    const fn is_valid(&self) -> bool {
        self.year <= 9999
            && self.month >= 1
            && self.month <= 12
            && self.day >= 1
            && self.day <= days_in_month(self.year, self.month)
            && self.hour < 24
            && self.minute < 60
            && self.second < 60
    }

    /// Seconds since 1970-01-01T00:00:00Z (negative before).
    #[must_use]
    pub const fn unix_seconds(&self) -> i64 {
        let days = days_from_civil(self.year as i64, self.month as i64, self.day as i64);
        days * 86_400 + (self.hour as i64) * 3600 + (self.minute as i64) * 60 + self.second as i64
    }

    /// The time at `secs` seconds since the Unix epoch; `None` outside years 0–9999.
    #[must_use]
    pub fn from_unix_seconds(secs: i64) -> Option<Self> {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        Some(Self {
            year: u16::try_from(y).ok().filter(|y| *y <= 9999)?,
            month: u8::try_from(m).ok()?,
            day: u8::try_from(d).ok()?,
            hour: u8::try_from(rem / 3600).ok()?,
            minute: u8::try_from(rem % 3600 / 60).ok()?,
            second: u8::try_from(rem % 60).ok()?,
        })
    }

    /// Whether this is the cancellation value.
    #[must_use]
    pub fn is_cancellation(&self) -> bool {
        *self == Self::CANCELLATION
    }

    fn digits(&self) -> [u8; 15] {
        let mut out = [b'0'; 15];
        let mut put = |at: usize, width: usize, v: u16| {
            let mut v = v;
            for i in (at..at + width).rev() {
                if let Some(slot) = out.get_mut(i) {
                    // `v % 10` is below 10.
                    *slot = b'0' + u8::try_from(v % 10).unwrap_or(0);
                }
                v /= 10;
            }
        };
        put(0, 4, self.year);
        put(4, 2, self.month.into());
        put(6, 2, self.day.into());
        put(8, 2, self.hour.into());
        put(10, 2, self.minute.into());
        put(12, 2, self.second.into());
        out[14] = b'Z';
        out
    }
}

const fn is_leap(y: u16) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

const fn days_in_month(y: u16, m: u8) -> u8 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

// Howard Hinnant's days-from-civil algorithms.
const fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

const fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl fmt::Display for GeneralizedTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// `YYYYMMDDHHMMSSZ`.
#[cfg(feature = "serde")]
impl serde::Serialize for GeneralizedTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Tagged for GeneralizedTime {
    const TAG: u8 = ber::GENERALIZED_TIME;
}

impl Decode<'_> for GeneralizedTime {
    fn decode_value(r: &mut Reader<'_>) -> Result<Self> {
        const F: &str = "GeneralizedTime";
        let at = r.offset();
        let invalid = Error::new(ErrorKind::InvalidTime, at, F);
        let s: [u8; 15] = r.remaining().try_into().map_err(|_| invalid)?;
        r.take(15, F)?;
        let n = |from: usize, to: usize| -> Result<u16> {
            s.get(from..to)
                .unwrap_or_default()
                .iter()
                .try_fold(0u16, |acc, c| {
                    if c.is_ascii_digit() {
                        Ok(acc * 10 + u16::from(c - b'0'))
                    } else {
                        Err(invalid)
                    }
                })
        };
        let narrow = |v: u16| u8::try_from(v).map_err(|_| invalid);
        let (year, month, day) = (n(0, 4)?, narrow(n(4, 6)?)?, narrow(n(6, 8)?)?);
        let (hour, minute, second) = (narrow(n(8, 10)?)?, narrow(n(10, 12)?)?, narrow(n(12, 14)?)?);
        if s[14] != b'Z' {
            return Err(invalid);
        }
        Self::new(year, month, day, hour, minute, second).ok_or(invalid)
    }
}

impl Encode for GeneralizedTime {
    fn value_len_in(&self, _: LengthForm) -> usize {
        15
    }
    fn encode_value(&self, w: &mut Writer<'_>) -> Result<()> {
        if !self.is_valid() {
            return Err(Error::new(
                ErrorKind::InvalidTime,
                w.position(),
                "GeneralizedTime",
            ));
        }
        w.put(&self.digits(), "GeneralizedTime")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn generalized_time_round_trips_and_rejects_nonsense() {
        let der = *b"\x18\x0f20300102000000Z";
        let t = GeneralizedTime::from_ber(&der).unwrap();
        assert_eq!(t, GeneralizedTime::new(2030, 1, 2, 0, 0, 0).unwrap());
        let mut buf = [0u8; 17];
        assert_eq!(t.encode_to_slice(&mut buf).unwrap(), &der);
        let never = GeneralizedTime::from_ber(b"\x18\x0f99991231235959Z").unwrap();
        assert!(never.is_cancellation());
        for bad in [
            &b"\x18\x0f20300230000000Z"[..],
            b"\x18\x0f2030010200000+Z",
            b"\x18\x0d203001020000Z",
            b"\x18\x0f20300102000000X",
        ] {
            assert_eq!(
                GeneralizedTime::from_ber(bad).unwrap_err().kind(),
                ErrorKind::InvalidTime
            );
        }
        assert_eq!(
            GeneralizedTime::from_unix_seconds(t.unix_seconds()),
            Some(t)
        );
        assert_eq!(
            GeneralizedTime::new(1970, 1, 1, 0, 0, 0)
                .unwrap()
                .unix_seconds(),
            0
        );
    }
}
