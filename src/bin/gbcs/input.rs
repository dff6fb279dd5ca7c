//! Reading what the subcommands are given: messages, text files, entity IDs.

use std::io::Read as _;
use std::path::Path;

use clap::ArgMatches;
use gbcs::cli::{self, InputFormat};
use gbcs::frame::EntityId;

use crate::failure::{Failure, Result};

pub fn read_input(m: &ArgMatches) -> Result<Vec<u8>> {
    let path = m
        .get_one::<String>("input")
        .map(String::as_str)
        .unwrap_or("-");
    let raw = if path == "-" {
        let mut v = Vec::new();
        std::io::stdin()
            .read_to_end(&mut v)
            .map_err(|e| Failure::io("stdin", e))?;
        v
    } else {
        std::fs::read(path).map_err(|e| Failure::io(path, e))?
    };
    let format = match m.get_one::<String>("format").map(String::as_str) {
        Some("hex") => InputFormat::Hex,
        Some("base64") => InputFormat::Base64,
        Some("binary") => InputFormat::Binary,
        _ => InputFormat::Auto,
    };
    cli::read_message(&raw, format).map_err(Failure::decode)
}

pub fn read_text(path: &str) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Failure::io(path, e))
}

pub fn entity(m: &ArgMatches, name: &str) -> Result<EntityId> {
    let v = m
        .get_one::<String>(name)
        .map(String::as_str)
        .unwrap_or_default();
    v.parse()
        .map_err(|_| Failure::usage(format!("--{name}: {v} is not a 16-hex-digit entity ID")))
}

pub fn parse(bytes: &[u8]) -> Result<gbcs::Message<'_>> {
    gbcs::parse(bytes).map_err(|e| Failure::decode(e.to_string()))
}

pub fn name(p: &Path) -> String {
    p.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}
