//! The text inputs: DUIS requests (the schema check and every reader), the EMRR reports
//! (each one it accepts writes back to text that parses the same), registry files, ledger CSV
//! files, hex and base64 never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// Certificates checked under the request's own CAs at a fixed time (2026-12-07T09:30:00Z).
const TRUST: gbcs::duis::CertificateTrust<'static> =
    gbcs::duis::CertificateTrust::new(None, 1_796_635_800);

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = gbcs::duis::schema::validate(text);
    let _ = gbcs::duis::service_variant(text);
    let _ = gbcs::duis::Srv623Request::from_xml(text, &TRUST);
    let _ = gbcs::duis::KrpRequest::from_xml(text, &TRUST);
    let _ = gbcs::duis::OptOutRequest::from_xml(text, &TRUST);
    let _ = gbcs::duis::ReadRequest::from_xml(text);
    let format = gbcs::cos::report::ReportFormat::default();
    let _ = gbcs::cos::Ecosmig007::parse(text, &format);
    if let Ok(report) = gbcs::cos::report::Made::parse(text, &format) {
        let again = report.to_text(&format).expect("an accepted report writes back");
        assert_eq!(gbcs::cos::report::Made::parse(&again, &format).ok(), Some(report));
    }
    let _ = gbcs::cos::CosRegistry::from_text(text);
    let _ = gbcs::cos::ledger::csv_file::read_csv(text);
    let _ = gbcs::cli::read_message(data, gbcs::cli::InputFormat::Auto);
});
