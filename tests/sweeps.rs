//! Sweeps over every RTDS CS02 message (rustls `handshake_test` style): every truncation
//! fails with a typed error, every shortened inner length fails, and nothing panics.

#[path = "support/shared.rs"]
mod shared;

use gbcs::frame::SignatureTail;

#[test]
fn every_prefix_of_every_cs02_message_fails_with_a_typed_error() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let mut prefixes = 0usize;
    let files = shared::cs02_files(&dir);
    assert!(files.len() >= 60, "only {} CS02 files found", files.len());
    for file in files {
        let whole = gbcs::parse(&file.bytes).unwrap_or_else(|e| panic!("{}: {e}", file.name));
        // The one prefix of an unMAC'd signed command that is itself well formed: its
        // pre-command (grouping header and payload, no tail).
        let precommand_len = match (whole.frame().mac(), whole.tail(), whole.header().cra_flag) {
            (None, SignatureTail::Signature(_), gbcs::frame::CraFlag::COMMAND) => {
                Some(whole.frame().general_signing().precommand_bytes().len())
            }
            _ => None,
        };
        for len in 0..file.bytes.len() {
            let prefix = &file.bytes[..len];
            match gbcs::parse(prefix) {
                Err(e) => assert!(
                    e.offset() <= len,
                    "{} prefix {len}: offset {} beyond input",
                    file.name,
                    e.offset()
                ),
                Ok(m) => {
                    assert_eq!(
                        Some(len),
                        precommand_len,
                        "{}: prefix {len} parsed",
                        file.name
                    );
                    assert_eq!(m.tail(), &SignatureTail::Absent);
                }
            }
            prefixes += 1;
        }
    }
    assert!(prefixes > 10_000, "only {prefixes} prefixes");
    eprintln!("{prefixes} prefixes checked");
}

/// The offsets of every BER length field in a TLV stream, descending into constructed values
/// (but not into certificates, which are opaque to this codec).
fn length_fields(bytes: &[u8], base: usize, out: &mut Vec<(usize, usize)>) {
    let mut i = 0;
    while i + 2 <= bytes.len() {
        let tag = bytes[i];
        let first = bytes[i + 1];
        let (len, len_octets) = if first < 0x80 {
            (usize::from(first), 1)
        } else {
            let n = usize::from(first & 0x7F);
            let Some(octets) = bytes.get(i + 2..i + 2 + n) else {
                return;
            };
            (
                octets.iter().fold(0, |a, b| (a << 8) | usize::from(*b)),
                1 + n,
            )
        };
        let start = i + 1 + len_octets;
        let Some(value) = bytes.get(start..start + len) else {
            return;
        };
        out.push((base + i + 1, len_octets));
        let is_certificate = tag == 0x30
            && value.len() > 8
            && value[0] == 0x30
            && value.get(4..7) == Some(&[0xA0, 0x03, 0x02]);
        if tag & 0x20 != 0 && !is_certificate {
            length_fields(value, base + start, out);
        }
        i = start + len;
    }
}

#[test]
fn every_shortened_inner_length_fails() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let mut checked = 0usize;
    let files = shared::cs02_files(&dir);
    assert!(files.len() >= 60, "only {} CS02 files found", files.len());
    for file in files {
        let m = gbcs::parse(&file.bytes).unwrap_or_else(|e| panic!("{}: {e}", file.name));
        let mut fields = Vec::new();
        length_fields(m.frame().payload(), m.frame().payload_offset(), &mut fields);
        assert!(!fields.is_empty(), "{}", file.name);
        for (at, octets) in fields {
            let last = at + octets - 1;
            if file.bytes[last] == 0 {
                continue; // would borrow across octets: skip zero lengths
            }
            let mut altered = file.bytes.clone();
            altered[last] -= 1;
            assert!(
                gbcs::parse(&altered).is_err(),
                "{}: length at {at} shortened by one still parses",
                file.name
            );
            checked += 1;
        }
    }
    assert!(checked > 1_000, "only {checked} inner lengths");
    eprintln!("{checked} shortened inner lengths rejected");
}

#[test]
fn every_rtds_message_with_any_byte_changed_never_panics() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let files = shared::cs02_files(&dir);
    assert!(files.len() >= 60, "only {} CS02 files found", files.len());
    for file in files {
        let mut altered = file.bytes.clone();
        for i in 0..altered.len() {
            for x in [0x01u8, 0x80, 0xFF] {
                altered[i] ^= x;
                let _ = gbcs::parse(&altered);
                altered[i] ^= x;
            }
        }
    }
}
