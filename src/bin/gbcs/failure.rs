//! What went wrong, typed: each kind has its exit code, and a file's content errors name the
//! file, line and column.

use std::fmt;

/// The exit codes, as `--help` shows them.
pub const EXIT_CODES: &str = "Exit codes:
  0  success
  1  a check failed: a signature or MAC does not verify, or no key was found to check it
  2  usage error (bad arguments)
  3  the input could not be decoded (the message names the field and byte offset)
  4  a file, key or certificate could not be read, is larger than the bound for its kind, or
     its content is wrong (the message names the file and line)
  5  the migration stopped (auto-stop or an incident): its output as usual on stdout, and a
     line `stopped: REASON` on stderr";

/// A failure of a subcommand.
#[derive(Debug)]
pub enum Failure {
    /// A check failed (exit 1).
    Check(String),
    /// Bad arguments (exit 2).
    Usage(String),
    /// The input could not be decoded (exit 3).
    Decode(String),
    /// A file could not be read or written (exit 4).
    Io {
        /// The file (`stdin` for standard input).
        path: String,
        /// What the system said.
        error: std::io::Error,
    },
    /// A file's content is wrong (exit 4).
    File {
        /// The file.
        path: String,
        /// The line (1-based; 0 when the whole file is meant).
        line: u64,
        /// The column (1-based), when known.
        column: Option<usize>,
        /// What is wrong there.
        message: String,
    },
    /// A key, certificate or keystore could not be used (exit 4).
    Key(String),
    /// The migration stopped on an incident (exit 5): what it printed, and why it stopped.
    Stopped {
        /// Its standard output, as a finished run's.
        out: String,
        /// The incident.
        reason: String,
    },
    /// A file larger than the bound of its kind (exit 4): not read further.
    TooLarge {
        /// The file (`stdin` for standard input).
        path: String,
        /// The bound, in bytes.
        bound: u64,
        /// What kind of file it was read as.
        kind: &'static str,
    },
}

impl Failure {
    pub fn check(msg: impl Into<String>) -> Self {
        Self::Check(msg.into())
    }
    pub fn usage(msg: impl Into<String>) -> Self {
        Self::Usage(msg.into())
    }
    pub fn decode(msg: impl Into<String>) -> Self {
        Self::Decode(msg.into())
    }
    pub fn key(msg: impl Into<String>) -> Self {
        Self::Key(msg.into())
    }
    pub fn io(path: &str, error: std::io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            error,
        }
    }

    /// The process exit code.
    pub const fn exit_code(&self) -> u8 {
        match self {
            Self::Check(_) => 1,
            Self::Usage(_) => 2,
            Self::Decode(_) => 3,
            Self::Io { .. } | Self::File { .. } | Self::Key(_) | Self::TooLarge { .. } => 4,
            Self::Stopped { .. } => 5,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Check(m) | Self::Usage(m) | Self::Decode(m) | Self::Key(m) => f.write_str(m),
            Self::Stopped { reason, .. } => write!(f, "stopped: {reason}"),
            Self::TooLarge { path, bound, kind } => write!(
                f,
                "{path}: larger than {bound} bytes, the bound for {kind}; not read further"
            ),
            Self::Io { path, error } => write!(f, "{path}: {error}"),
            Self::File {
                path,
                line,
                column,
                message,
            } => match column {
                Some(c) => write!(f, "{path}:{line}:{c}: {message}"),
                None => write!(f, "{path}:{line}: {message}"),
            },
        }
    }
}

pub type Result<T> = std::result::Result<T, Failure>;
