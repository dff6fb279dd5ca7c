#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]
#![warn(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    clippy::alloc_instead_of_core,
    clippy::missing_errors_doc
)]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod ber;
#[cfg(feature = "json")]
pub mod cli;
pub mod codec;
#[cfg(feature = "alloc")]
pub mod cos;
pub mod crypto;
#[cfg(feature = "dashboard")]
pub mod dashboard;
#[cfg(feature = "tokio")]
pub mod driver;
#[cfg(feature = "duis")]
pub mod duis;
pub mod error;
pub mod frame;
pub mod hex;
pub mod message;
pub mod payload;
#[cfg(feature = "serde")]
mod serde_util;
#[cfg(feature = "sim")]
pub mod sim;
#[cfg(feature = "alloc")]
pub mod smki;
#[cfg(feature = "sqlite")]
pub mod store;
pub mod vectors;
pub mod wire_enum;

pub use error::{Error, ErrorKind, Result};
pub use message::{parse, GbcsError, Message};
