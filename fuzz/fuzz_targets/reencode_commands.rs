//! Re-encode oracle: a command or pre-command that parses re-encodes to the same header and
//! payload bytes, unless its payload used a BER length form (devices only; commands are DER).
#![no_main]

use gbcs::frame::CraFlag;
use gbcs::message::{self, CommandHeader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(m) = gbcs::parse(data) else { return };
    let h = m.header();
    if h.cra_flag != CraFlag::COMMAND
        || !m.payload().is_typed()
        || h.date_time.is_some()
        || !h.other_information.supplementary.is_empty()
    {
        return;
    }
    let header = CommandHeader {
        message_code: h.message_code(),
        counter: h.originator_counter,
        originator: h.originator,
        recipient: h.recipient,
    };
    let Ok(pre) = message::build_precommand(&header, m.payload()) else {
        return;
    };
    let original = m.frame().general_signing().precommand_bytes();
    if pre != original {
        // Only a non-canonical (but accepted) length form may differ: re-parse ours and compare
        // the typed values instead.
        let again = gbcs::parse(&pre).expect("our own encoding parses");
        assert_eq!(again.payload(), m.payload());
        assert_eq!(again.header().originator_counter, h.originator_counter);
        assert!(pre.len() <= original.len(), "canonical is never longer");
    }
});
