//! A validator of the EMRR reports' field rules, written apart from the crate's parser: record
//! types, field counts, lengths, types and mandatory fields of each report, the rows count, and
//! the classification — what a recipient's own checker would apply.
#![allow(dead_code)]

fn time(f: &str) -> bool {
    let b = f.as_bytes();
    if b.len() != 15 || b[8] != b'T' {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if !digits(0..8) || !digits(9..15) {
        return false;
    }
    let n = |r: std::ops::Range<usize>| f[r].parse::<u32>().unwrap_or(99);
    let (y, mo, d, h, mi, s) = (n(0..4), n(4..6), n(6..8), n(9..11), n(11..13), n(13..15));
    let days = match mo {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
        2 => 28,
        _ => 0,
    };
    (2000..=9999).contains(&y) && (1..=days).contains(&d) && h < 24 && mi < 60 && s < 60
}

fn digits(f: &str, max: usize) -> bool {
    !f.is_empty() && f.len() <= max && f.bytes().all(|c| c.is_ascii_digit())
}

fn text(f: &str, max: usize) -> bool {
    let n = f.chars().count();
    n >= 1 && n <= max && !f.contains([',', '\r', '\n'])
}

fn eui(f: &str) -> bool {
    let parts: Vec<&str> = f.split('-').collect();
    parts.len() == 8
        && parts.iter().all(|p| {
            p.len() == 2
                && p.bytes()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
        })
}

const TYPES: [&str; 8] = [
    "ESME", "GSME", "CHF", "GPF", "PPMID", "IHD", "CAD", "HCALCS",
];
const CATEGORIES: [&str; 5] = [
    "communications failure",
    "device refused",
    "invalid response",
    "excluded",
    "DCC to resolve",
];

/// The detail record's fields after `10` for report `id`.
fn detail(id: &str, f: &[&str]) -> Result<(), String> {
    let device = |f: &[&str]| -> Result<(), String> {
        let checks = [
            ("device ID", eui(f[0])),
            ("device type", TYPES.contains(&f[1])),
            ("manufacturer", text(f[2], 30)),
            ("model", text(f[3], 30)),
            ("firmware", text(f[4], 8)),
            ("date-time", time(f[5])),
        ];
        match checks.iter().find(|c| !c.1) {
            Some((name, _)) => Err(format!("{name}: {f:?}")),
            None => Ok(()),
        }
    };
    let count = |want: usize| -> Result<(), String> {
        if f.len() != want {
            return Err(format!("{id}: {} detail fields, want {want}", f.len()));
        }
        Ok(())
    };
    match id {
        "ECOSMIG-005" | "ECOSMIG-007" => {
            count(if id == "ECOSMIG-005" { 2 } else { 5 })?;
            match f.iter().find(|v| !digits(v, 9)) {
                Some(v) => Err(format!("count {v}")),
                None => Ok(()),
            }
        }
        "ECOSMIG-001" | "ECOSMIG-004" => {
            count(6)?;
            device(f)
        }
        "ECOSMIG-002" => {
            count(8)?;
            device(f)?;
            if !CATEGORIES.contains(&f[6]) {
                return Err(format!("category {}", f[6]));
            }
            if !(f[7].is_empty()
                || (digits(f[7], 3) && f[7].parse::<u16>().is_ok_and(|v| v <= 255)))
            {
                return Err(format!("GBCS status {}", f[7]));
            }
            Ok(())
        }
        "ECOSMIG-006" => {
            count(7)?;
            device(f)?;
            if f[6] != "Installed" || f[6].len() > 9 {
                return Err(format!("ECoS status {}", f[6]));
            }
            Ok(())
        }
        _ => Err(format!("unknown report {id}")),
    }
}

/// Checks one report's text (comma-separated, LF line ends, rows count = detail records).
pub fn validate(report: &str) -> Result<(), String> {
    if !report.ends_with('\n') || report.contains('\r') {
        return Err("line ends".into());
    }
    let lines: Vec<&str> = report.lines().collect();
    if lines.len() < 2 || lines.iter().any(|l| l.is_empty()) {
        return Err("records".into());
    }
    let header: Vec<&str> = lines[0].split(',').collect();
    if header.len() != 9 || header[0] != "00" || header[8] != "DCC Controlled" {
        return Err(format!("header {header:?}"));
    }
    let id = header[1];
    let party = header[2];
    if party.is_empty() || party.len() > 6 || !party.bytes().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!("recipient {party}"));
    }
    if !digits(header[3], 6) || header[3].parse::<u32>().unwrap_or(0) == 0 {
        return Err(format!("sequence {}", header[3]));
    }
    if !text(header[4], 100) || !(5..8).all(|i| time(header[i])) {
        return Err(format!("header {header:?}"));
    }
    if header[6] > header[7] {
        return Err("the period ends before it starts".into());
    }
    let trailer: Vec<&str> = lines[lines.len() - 1].split(',').collect();
    let details = &lines[1..lines.len() - 1];
    if trailer.len() != 3 || trailer[0] != "99" || trailer[2] != "DCC Controlled" {
        return Err(format!("trailer {trailer:?}"));
    }
    if !digits(trailer[1], 6) || trailer[1].parse::<usize>().ok() != Some(details.len()) {
        return Err(format!(
            "rows count {} for {} details",
            trailer[1],
            details.len()
        ));
    }
    if matches!(id, "ECOSMIG-005" | "ECOSMIG-007") && details.len() != 1 {
        return Err(format!("{id} has {} detail records", details.len()));
    }
    for d in details {
        let f: Vec<&str> = d.split(',').collect();
        if f[0] != "10" {
            return Err(format!("record type {}", f[0]));
        }
        detail(id, &f[1..]).map_err(|e| format!("{id}: {e}"))?;
    }
    Ok(())
}
