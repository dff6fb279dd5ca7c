#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod codec;
pub mod crypto;
pub mod error;
pub mod frame;
pub mod hex;
pub mod message;
pub mod payload;
pub mod vectors;

pub use error::{Error, ErrorKind, Result};
pub use message::{parse, GbcsError, Message};
