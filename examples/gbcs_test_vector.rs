//! Decodes and verifies the GBCS cryptographic test vector (GBCS 18.4, bundled in
//! `gbcs::vectors`), printing its structure and every check.
//!
//! ```sh
//! cargo run --example gbcs_test_vector
//! ```

use std::process::ExitCode;

use gbcs::crypto::{KeyAgreement, KeyAgreementKey, MacKey, PublicKey};
use gbcs::frame::SignatureTail;
use gbcs::hex::{self, Hex};
use gbcs::message::Message;
use gbcs::vectors as v;

fn key<const N: usize>(s: &str) -> Result<[u8; N], hex::HexError> {
    let mut out = [0u8; N];
    hex::decode_to_slice(s, &mut out)?;
    Ok(out)
}

fn print_structure(bytes: &[u8], m: &Message<'_>) {
    let frame = m.frame();
    println!("GBCS message, {} bytes", bytes.len());
    if let Some(mh) = frame.mac_header() {
        println!("  MAC header (general ciphering 0xDD)");
        println!("    ciphered-content length  {}", mh.ciphered_len);
        println!(
            "    security control         0x{:02X} (authentication only)",
            mh.security_control.0
        );
        println!("    invocation counter       {:08X}", mh.invocation_counter);
    }
    let h = m.header();
    println!("  grouping header (general signing 0xDF)");
    println!("    CRA flag                 {:?}", h.cra_flag);
    println!("    originator counter       {}", h.originator_counter);
    println!("    business originator ID   {}", h.originator);
    println!("    business target ID       {}", h.recipient);
    println!(
        "    date-time                {}",
        h.date_time
            .map_or("absent".to_owned(), |d| format!("{d:?}"))
    );
    println!("    message code             {}", h.message_code());
    println!("    content length           {}", h.content_len);
    println!(
        "  payload ({} bytes at offset {})",
        frame.payload().len(),
        frame.payload_offset()
    );
    if m.payload().is_typed() {
        println!("    {:#?}", m.payload());
    } else {
        println!(
            "    (not a CS02 payload: carried as bytes) {}",
            Hex(frame.payload())
        );
    }
    match m.tail() {
        SignatureTail::Signature(sig) => {
            println!("  signature r              {}", Hex(&sig[..32]));
            println!("  signature s              {}", Hex(&sig[32..]));
        }
        SignatureTail::NoSignature => println!("  signature                none (00)"),
        SignatureTail::Absent => println!("  signature                absent (pre-command)"),
    }
    if let Some(mac) = frame.mac() {
        println!("  MAC                      {}", Hex(mac));
    }
}

fn run() -> Result<bool, Box<dyn std::error::Error>> {
    let bytes = hex::decode(v::MESSAGE)?;
    let m = gbcs::parse(&bytes)?;
    print_structure(&bytes, &m);

    println!("checks");
    let supplier = PublicKey::from_sec1_bytes(&key::<65>(v::SUPPLIER_A_DS_PUBLIC)?)?;
    let sig = m.verify_signature(&supplier);
    println!(
        "  signature with Supplier A DS key      {}",
        if sig.is_ok() { "PASS" } else { "FAIL" }
    );

    let acb = KeyAgreementKey::from_scalar(&key::<32>(v::ACB_KA_PRIVATE)?)?;
    let device = PublicKey::from_sec1_bytes(&key::<65>(v::DEVICE_A_KA_PUBLIC)?)?;
    let z = acb.agree(&device)?;
    let z_ok = z.as_bytes() == &key::<32>(v::Z)?;
    println!(
        "  Z = ACB KA x Device A KA              {}",
        if z_ok { "PASS" } else { "FAIL" }
    );
    let k_ok = MacKey::derive(&z, m.header()).as_bytes() == &key::<16>(v::MAC_KEY)?;
    println!(
        "  K = KDF(Z, OtherInfo)                 {}",
        if k_ok { "PASS" } else { "FAIL" }
    );
    let mac = m.verify_mac(&z);
    println!(
        "  MAC (AES-128-GMAC, 96 bits)           {}",
        if mac.is_ok() { "PASS" } else { "FAIL" }
    );
    Ok(sig.is_ok() && z_ok && k_ok && mac.is_ok())
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
