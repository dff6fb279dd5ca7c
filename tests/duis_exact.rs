//! DUIS values are read exactly: a comment, a processing instruction or a CDATA section inside
//! a value is not part of it or is (XML 1.0 §2.5–2.7), and the command built is the one the
//! value says — never what the first text node alone says. Every value of every
//! certificate-service template, split at its start, middle and end by each of the three.

#[path = "support/shared.rs"]
mod shared;

use gbcs::duis::{KrpRequest, OptOutRequest, ReadRequest, Srv623Request};
use gbcs::message::{self, CommandHeader};
use gbcs::payload::Payload;

/// The pre-command a request builds (counter 1, DCC's parties the RTDS's), or the refusal.
fn build(xml: &str) -> Result<Vec<u8>, String> {
    let trust = shared::trust();
    let variant = gbcs::duis::service_variant(xml).map_err(|e| e.to_string())?;
    let precommand = |header: &CommandHeader, payload: &Payload<'_>| {
        message::build_precommand(header, payload).map_err(|e| e.to_string())
    };
    match variant.as_str() {
        "6.23" => {
            let req = Srv623Request::from_xml(xml, &trust).map_err(|e| e.to_string())?;
            req.with_request(|r| {
                let cmd = r.payload(1).map_err(|e| e.to_string())?;
                precommand(&r.header(shared::RTDS_DCC.tcos, 1), &cmd.payload())
            })
        }
        "6.15.1" | "6.21" => {
            let req = KrpRequest::from_xml(xml, &trust).map_err(|e| e.to_string())?;
            req.with_command(1, |cmd| {
                precommand(
                    &req.header(1, &shared::RTDS_DCC),
                    &Payload::UpdateSecurityCredentialsCommand(*cmd),
                )
            })
        }
        "8.5" => {
            let req = OptOutRequest::from_xml(xml, &trust).map_err(|e| e.to_string())?;
            req.with_command(1, |cmd| {
                precommand(
                    &req.header(1, &shared::RTDS_DCC),
                    &Payload::UpdateSecurityCredentialsCommand(*cmd),
                )
            })
        }
        "6.24.1" => {
            let req = ReadRequest::from_xml(xml).map_err(|e| e.to_string())?;
            gbcs::cos::command::credential_query_for(
                req.message_code(),
                shared::RTDS_DCC.acb,
                req.request_id.target,
                1,
                &req.roles,
                None,
            )
            .map_err(|e| e.to_string())
        }
        other => Err(format!("service {other}")),
    }
}

/// The byte ranges of every value: the text of each element without element children.
fn values(xml: &str) -> Vec<(String, std::ops::Range<usize>)> {
    let doc = roxmltree::Document::parse(xml).expect("template parses");
    doc.descendants()
        .filter(|n| n.is_element() && !n.children().any(|c| c.is_element()))
        .filter_map(|n| {
            let text = n.children().find(|c| c.is_text())?;
            let range = text.range();
            (!range.is_empty()).then(|| (n.tag_name().name().to_owned(), range))
        })
        .collect()
}

#[test]
fn comments_pis_and_cdata_inside_any_value_leave_the_command_as_the_value_says() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let templates = shared::duis_templates(&dir, &shared::DUIS_SERVICES);
    assert!(templates.len() >= 13, "{} templates", templates.len());
    let (mut cases, mut same, mut refused) = (0, 0, 0);
    for (name, path) in &templates {
        let xml = std::fs::read_to_string(path).expect("template");
        let original = build(&xml);
        for (element, range) in values(&xml) {
            let text = &xml[range.clone()];
            let cuts = [1, text.len() / 2, text.len().saturating_sub(1)];
            for cut in cuts.into_iter().filter(|c| *c > 0 && *c < text.len()) {
                if !text.is_char_boundary(cut) {
                    continue;
                }
                let (head, tail) = text.split_at(cut);
                for inserted in [
                    format!("{head}<!--a comment-->{tail}"),
                    format!("{head}<?pi some instruction?>{tail}"),
                    format!("{head}<![CDATA[{tail}]]>"),
                    format!("<![CDATA[{head}]]>{tail}"),
                ] {
                    let mutated = format!("{}{inserted}{}", &xml[..range.start], &xml[range.end..]);
                    let got = build(&mutated);
                    cases += 1;
                    match (&original, &got) {
                        // The value is the whole text: the same command.
                        (Ok(a), Ok(b)) => {
                            assert_eq!(a, b, "{name}: {element} with {inserted:?}");
                            same += 1;
                        }
                        // A template that is refused stays refused, for the same reason.
                        (Err(a), Err(b)) => {
                            assert_eq!(a, b, "{name}: {element} with {inserted:?}");
                            refused += 1;
                        }
                        (Ok(_), Err(e)) => {
                            // Only where markup is not allowed at all: never here, since every
                            // value's type takes its whole text.
                            panic!("{name}: {element} with {inserted:?} refused: {e}")
                        }
                        (Err(e), Ok(_)) => {
                            panic!("{name}: refused ({e}) but {element} with {inserted:?} builds")
                        }
                    }
                }
            }
        }
    }
    eprintln!("{cases} cases: {same} built the same command, {refused} refused as the template is");
    assert!(same > 1000, "{same} cases built");
}

#[test]
fn a_floor_split_by_a_comment_is_the_whole_number() {
    let Some(dir) = shared::shared_dir() else {
        return;
    };
    let path = dir.join("duis/CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML");
    let xml = std::fs::read_to_string(path).expect("template");
    let set = |floor: &str| {
        let open = "<sr:SupplierFloorSeqNumber>";
        let start = xml.find(open).expect("floor") + open.len();
        let end = start + xml[start..].find('<').expect("end");
        format!("{}{floor}{}", &xml[..start], &xml[end..])
    };
    let read = |xml: &str| {
        Srv623Request::from_xml(xml, &shared::trust())
            .expect("reads")
            .supplier_floor
    };
    // XML says 1<!--c-->0 is 10, and 5<?pi x?>5 is 55: so does the reader (it took 1 and 5).
    assert_eq!(read(&set("1<!--c-->0")), 10);
    assert_eq!(read(&set("5<?pi x?>5")), 55);
    assert_eq!(read(&set("<![CDATA[4]]>2")), 42);
    assert_eq!(build(&set("1<!--c-->0")), build(&set("10")));
}
