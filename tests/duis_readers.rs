//! DUIS readers at the edges (continued from `duis_krp.rs`): requests with bad certificates
//! or too large are refused and 6.23 dates map; meter points and date-times beyond what the
//! schema allows; readers refusing other services and bodies that do not match their variant.

#[path = "support/duis_krp_common.rs"]
mod common;
#[path = "support/shared.rs"]
mod shared;

use common::*;
use gbcs::cos::Execution;
use gbcs::duis::{DuisError, KrpRequest};

/// SRV 6.23 and the certificate rules every reader applies: a corrupted certificate, one in
/// the wrong element, a path certificate that is not a CA, and an oversized request are
/// refused naming the element; a future-dated 6.23 carries its date, a cancellation
/// `99991231235959Z` and no `[6]`.
#[test]
fn requests_with_bad_certificates_or_too_large_are_refused_and_6_23_dates_map() {
    use gbcs::duis::{Srv623Request, MAX_REQUEST_BYTES};
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let xml = std::fs::read_to_string(
        dir.join("duis/CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML"),
    )
    .expect("template");
    let ok = Srv623Request::from_xml(&xml, &shared::trust()).expect("reads");
    let element = |name: &str| -> (usize, usize) {
        let open = format!("<sr:{name}>");
        let start = xml.find(&open).expect("element") + open.len();
        let end = start + xml[start..].find('<').expect("end");
        (start, end)
    };
    let with = |name: &str, der: &[u8]| {
        use base64ct::Encoding as _;
        let (start, end) = element(name);
        format!(
            "{}{}{}",
            &xml[..start],
            base64ct::Base64::encode_string(der),
            &xml[end..]
        )
    };
    // A corrupted DER length in the first certificate: refused, not built.
    let mut ds = ok.supplier_ds.clone();
    ds[2] ^= 0x40;
    let e = Srv623Request::from_xml(&with("DigitalSigningCertificate", &ds), &shared::trust())
        .expect_err("corrupted DER");
    assert!(matches!(
        e.cause(),
        DuisError::Certificate {
            element: "DigitalSigningCertificate",
            ..
        }
    ));
    assert_eq!(
        e.line(),
        Some(line_of(&xml, "<sr:DigitalSigningCertificate>"))
    );
    // The KA certificate where the DS certificate belongs.
    let ka = ok.supplier_ka.clone().expect("KA");
    assert!(matches!(
        Srv623Request::from_xml(&with("DigitalSigningCertificate", &ka), &shared::trust())
            .map_err(|e| e.cause().clone()),
        Err(DuisError::Certificate {
            element: "DigitalSigningCertificate",
            ..
        })
    ));
    // An end-entity certificate in the certification path.
    assert!(matches!(
        Srv623Request::from_xml(&with("Certificate", &ka), &shared::trust())
            .map_err(|e| e.cause().clone()),
        Err(DuisError::Certificate {
            element: "Certificate",
            ..
        })
    ));
    // Too large, before parsing.
    let big = format!("{xml}<!--{}-->", "x".repeat(MAX_REQUEST_BYTES));
    assert!(matches!(
        Srv623Request::from_xml(&big, &shared::trust()),
        Err(DuisError::TooLarge(_))
    ));

    // Future-dated and cancelled forms (the template is immediate; the date goes first).
    let dated = |when: &str| {
        xml.replacen(
            "<sr:UpdateSecurityCredentialsCoS>",
            &format!("<sr:UpdateSecurityCredentialsCoS><sr:ExecutionDateTime>{when}</sr:ExecutionDateTime>"),
            1,
        )
    };
    let future = Srv623Request::from_xml(&dated("2030-01-15T00:00:00.00Z"), &shared::trust())
        .expect("future");
    let cancel = Srv623Request::from_xml(&dated("3000-12-31T00:00:00.00Z"), &shared::trust())
        .expect("cancel");
    for (req, want, six) in [
        (&future, Some("2030-01-15T00:00:00Z"), true),
        (&cancel, Some("9999-12-31T23:59:59Z"), false),
        (&ok, None, true),
    ] {
        req.with_request(|r| {
            let cmd = r.payload(6001).expect("payload");
            let c = cmd.view();
            assert_eq!(
                c.execution_date_time.map(|t| t.to_string()).as_deref(),
                want
            );
            assert_eq!(c.control.other_seq_number_changes.is_some(), six);
        });
    }
}

/// Rules beyond the schema, each refused at its element's line: a meter point that is neither
/// an MPAN core (13 digits) nor an MPRN (6–10 digits), an execution date-time without a time
/// zone. An offset is applied, not dropped.
#[test]
fn meter_points_and_date_times_beyond_the_schema() {
    use gbcs::duis::Srv623Request;
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let xml = std::fs::read_to_string(
        dir.join("duis/CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML"),
    )
    .expect("template");
    assert_eq!(
        Srv623Request::from_xml(&xml, &shared::trust())
            .expect("reads")
            .import_mpxn,
        "1312345678333",
        "the template's MPAN is read though its check digit does not hold"
    );
    let mpxn = |m: &str| {
        Srv623Request::from_xml(
            &xml.replace(
                "<sr:ImportMPxN>1312345678333<",
                &format!("<sr:ImportMPxN>{m}<"),
            ),
            &shared::trust(),
        )
    };
    for good in ["123456", "1234567890", "1234567890123"] {
        assert_eq!(mpxn(good).expect(good).import_mpxn, good);
    }
    let line = line_of(&xml, "<sr:ImportMPxN>");
    for bad in [
        "12345",
        "12345678901",
        "123456789012",
        "13123X",
        "1312345678 33",
    ] {
        let e = mpxn(bad).expect_err(bad);
        assert_eq!(e.cause(), &DuisError::Invalid("ImportMPxN"), "{bad}");
        assert_eq!(e.line(), Some(line), "{bad}");
    }
    // Over 13 characters breaks the schema itself.
    let e = schema_fault(mpxn("13123456783330"));
    assert_eq!(e.element, "ImportMPxN");

    let dated = |when: &str| {
        Srv623Request::from_xml(&xml.replacen(
            "<sr:UpdateSecurityCredentialsCoS>",
            &format!(
                "<sr:UpdateSecurityCredentialsCoS>\n<sr:ExecutionDateTime>{when}</sr:ExecutionDateTime>"
            ),
            1,
        ), &shared::trust())
    };
    let e = dated("2030-01-15T00:00:00").expect_err("no time zone");
    assert_eq!(e.cause(), &DuisError::Invalid("ExecutionDateTime"));
    assert_eq!(
        e.line(),
        Some(line_of(&xml, "<sr:UpdateSecurityCredentialsCoS>") + 1)
    );
    let at = |y, mo, d, h, mi, s| {
        Execution::At(gbcs::payload::GeneralizedTime::new(y, mo, d, h, mi, s).expect("time"))
    };
    assert_eq!(
        dated("2030-01-15T00:00:00+01:00")
            .expect("offset")
            .execution,
        at(2030, 1, 14, 23, 0, 0)
    );
    assert_eq!(
        dated("2030-01-15T23:30:00.75-00:45")
            .expect("offset")
            .execution,
        at(2030, 1, 16, 0, 15, 0)
    );
    assert_eq!(
        dated("2030-01-15T24:00:00Z").expect("end of day").execution,
        at(2030, 1, 16, 0, 0, 0)
    );
    for bad in [
        "2030-02-29T00:00:00Z",
        "2030-01-15T00:00:60Z",
        "2030-01-15T00:00:00+15:00",
        "2030-1-15T00:00:00Z",
    ] {
        assert_bad_value(
            dated(bad),
            "ExecutionDateTime",
            line_of(&xml, "<sr:UpdateSecurityCredentialsCoS>") + 1,
        );
    }
}

/// Each reader takes its own services only: another service's request, or a header whose
/// variant names one service over a body of another, is refused as not this service.
#[test]
fn readers_refuse_other_services_and_bodies_that_do_not_match_their_variant() {
    use gbcs::duis::{OptOutRequest, ReadRequest, Srv623Request};
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let read = |name: &str| std::fs::read_to_string(dir.join("duis").join(name)).expect("template");
    let krp = read("CS02bSupplierBySupplier_6.15.1_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML");
    let cos = read("CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML");
    let not = |e: DuisError| e.cause().clone();
    assert_eq!(
        not(Srv623Request::from_xml(&krp, &shared::trust()).expect_err("6.15.1")),
        DuisError::NotService("6.23")
    );
    assert_eq!(
        not(OptOutRequest::from_xml(&cos, &shared::trust()).expect_err("6.23")),
        DuisError::NotService("8.5")
    );
    assert_eq!(
        not(ReadRequest::from_xml(&cos).expect_err("6.23")),
        DuisError::NotService("6.24.1")
    );
    assert_eq!(
        not(KrpRequest::from_xml(&cos, &shared::trust()).expect_err("6.23")),
        DuisError::NotService("6.15.1 or 6.21")
    );
    // A 6.21 header over a 6.15.1 body: both are the KRP reader's, but not together.
    let mixed = krp.replace(
        "<sr:ServiceReferenceVariant>6.15.1<",
        "<sr:ServiceReferenceVariant>6.21<",
    );
    assert_ne!(mixed, krp);
    assert_eq!(
        not(KrpRequest::from_xml(&mixed, &shared::trust()).expect_err("mismatch")),
        DuisError::NotService("6.15.1 or 6.21")
    );
}
