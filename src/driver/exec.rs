//! `exec:COMMAND`: a transport that is a child process speaking JSON lines, so any language
//! can carry commands to a real network (or a simulated one in another process).
//!
//! To the child's standard input, one line per command:
//!
//! ```text
//! {"device":"00DB123456780001","counter":17,"kind":"migration","at":1764547200000,"deadline":1764547230000,"bytes":"2N8B…"}
//! ```
//!
//! (`at` and `deadline` in Unix milliseconds, `kind` `migration` or `read`, `bytes` base64).
//! From its standard output, one line per reply or alert:
//!
//! ```text
//! {"device":"00DB123456780001","bytes":"3wkA…"}
//! {"alert":"4gEA…"}
//! ```
//!
//! A line that is not one of these is counted and the first such kept
//! ([`ExecTransport::malformed`]): never guessed at, never fatal — its command times out as
//! unanswered, as on any network. A child that exits fails every later send (each then counts
//! as no reply).

use alloc::string::{String, ToString};
use alloc::sync::Arc;
use core::future::Future;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;

use base64ct::{Base64, Encoding};

use super::{Inbox, Transport, TransportError};
use crate::cos::engine::{Arrival, CommandKind, Transmit, UnixTime};
use crate::frame::EntityId;

/// Most bytes one line from the child may hold (a CS02 reply is a few kilobytes).
pub const MAX_LINE: usize = 1 << 20;

/// One command, as written to the child.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CommandLine {
    device: String,
    counter: u64,
    kind: String,
    at: i64,
    deadline: i64,
    bytes: String,
}

/// A command as the child reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandIn {
    /// The device.
    pub device: EntityId,
    /// Its counter.
    pub counter: u64,
    /// Which command.
    pub kind: CommandKind,
    /// When it was sent (the engine's clock).
    pub at: UnixTime,
    /// When no reply counts as none.
    pub deadline: UnixTime,
    /// Its bytes.
    pub bytes: alloc::vec::Vec<u8>,
}

fn device_of(d: &str) -> Result<EntityId, String> {
    let mut id = [0u8; 8];
    hex::decode_to_slice(d, &mut id)
        .map_err(|_| alloc::format!("device {d:?}: not sixteen hex digits"))?;
    Ok(EntityId(id))
}

/// Reads a line the transport wrote: what a child does with each line of its input.
///
/// # Errors
/// Why the line is not a command.
pub fn parse_command_line(line: &str) -> Result<CommandIn, String> {
    let c: CommandLine = serde_json::from_str(line).map_err(|e| e.to_string())?;
    Ok(CommandIn {
        device: device_of(&c.device)?,
        counter: c.counter,
        kind: match c.kind.as_str() {
            "migration" => CommandKind::Migration,
            "read" => CommandKind::Read,
            other => return Err(alloc::format!("kind {other:?}: not migration or read")),
        },
        at: UnixTime(c.at),
        deadline: UnixTime(c.deadline),
        bytes: Base64::decode_vec(&c.bytes).map_err(|e| alloc::format!("bytes: {e}"))?,
    })
}

/// The line a child writes for a reply from `device`.
#[must_use]
pub fn reply_line(device: EntityId, bytes: &[u8]) -> String {
    alloc::format!(
        "{{\"device\":\"{}\",\"bytes\":\"{}\"}}",
        device_text(device),
        Base64::encode_string(bytes)
    )
}

/// The line a child writes for an alert.
#[must_use]
pub fn alert_line(bytes: &[u8]) -> String {
    alloc::format!("{{\"alert\":\"{}\"}}", Base64::encode_string(bytes))
}

/// One line from the child.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplyLine {
    #[serde(default)]
    device: Option<String>,
    #[serde(default)]
    bytes: Option<String>,
    #[serde(default)]
    alert: Option<String>,
}

/// What came of reading the child's lines.
#[derive(Debug, Default)]
struct Reading {
    malformed: u64,
    first: Option<String>,
}

/// A device ID as sixteen hex digits.
fn device_text(d: EntityId) -> String {
    hex::encode_upper(d.0)
}

/// The arrival a line from the child says, or why it says none.
fn arrival(line: &str) -> Result<Arrival, String> {
    let r: ReplyLine = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let decode = |b: &str| Base64::decode_vec(b).map_err(|e| alloc::format!("bytes: {e}"));
    match (r.device, r.bytes, r.alert) {
        (Some(d), Some(b), None) => Ok(Arrival::Reply {
            device: device_of(&d)?,
            bytes: decode(&b)?,
        }),
        (None, None, Some(a)) => Ok(Arrival::Alert { bytes: decode(&a)? }),
        _ => Err(String::from(
            "expected {\"device\", \"bytes\"} or {\"alert\"}",
        )),
    }
}

/// The line written for `t`, sent at `now`.
///
/// # Errors
/// When it cannot be written as JSON (it always can).
pub fn command_line(now: UnixTime, t: &Transmit) -> Result<String, TransportError> {
    let line = CommandLine {
        device: device_text(t.device),
        counter: t.counter,
        kind: String::from(match t.kind {
            CommandKind::Migration => "migration",
            CommandKind::Read => "read",
        }),
        at: now.millis(),
        deadline: t.deadline.millis(),
        bytes: Base64::encode_string(&t.bytes),
    };
    serde_json::to_string(&line).map_err(|e| TransportError(e.to_string()))
}

/// Commands queued for the child's input at most: a child that reads slowly holds the
/// sender back (backpressure), never the driver's thread.
pub const WRITE_QUEUE: usize = 1024;

/// A child process as the network. Its input is written by a thread of its own from a
/// bounded queue, so a child that stops reading stalls nothing but its own commands: each
/// waits for room until its deadline, then fails (it counts as unanswered).
#[derive(Debug)]
pub struct ExecTransport {
    child: Child,
    lines: Option<tokio::sync::mpsc::Sender<String>>,
    /// A command waited its whole deadline for room: the child is not reading, and the next
    /// commands fail at once while the queue stays full.
    stalled: Arc<core::sync::atomic::AtomicBool>,
    stdout: Option<std::process::ChildStdout>,
    reading: Arc<Mutex<Reading>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl ExecTransport {
    /// Starts `program` with `args`, its standard input and output piped to the transport
    /// (its standard error is the caller's).
    ///
    /// # Errors
    /// When the program cannot be started.
    pub fn spawn(program: &str, args: &[String]) -> Result<Self, TransportError> {
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| TransportError(alloc::format!("{program}: {e}")))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let (lines, queue) = tokio::sync::mpsc::channel::<String>(WRITE_QUEUE);
        // The writer ends when the queue closes (the transport dropped) or the child's input
        // does (it exited): the queue is closed then, and every later send fails.
        std::thread::spawn(move || write_lines(stdin, queue));
        Ok(Self {
            child,
            lines: Some(lines),
            stalled: Arc::default(),
            stdout,
            reading: Arc::default(),
            reader: None,
        })
    }

    /// Starts the command line `command` (words split on white space, no shell).
    ///
    /// # Errors
    /// When it is empty or cannot be started.
    pub fn spawn_line(command: &str) -> Result<Self, TransportError> {
        let mut words = command.split_whitespace().map(String::from);
        let program = words
            .next()
            .ok_or_else(|| TransportError(String::from("exec: no command given")))?;
        let args: alloc::vec::Vec<String> = words.collect();
        Self::spawn(&program, &args)
    }

    /// Lines from the child that were neither a reply nor an alert, and the first of them
    /// with why.
    #[must_use]
    pub fn malformed(&self) -> (u64, Option<String>) {
        self.reading
            .lock()
            .map(|r| (r.malformed, r.first.clone()))
            .unwrap_or((0, None))
    }

    /// Reads the child's lines into `inbox`, on a thread of its own, from the first send on.
    fn start_reading(&mut self, inbox: &Inbox) {
        let Some(stdout) = self.stdout.take() else {
            return;
        };
        let (inbox, reading) = (inbox.clone(), Arc::clone(&self.reading));
        self.reader = Some(std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            let mut line = alloc::vec::Vec::new();
            loop {
                line.clear();
                let n = match r
                    .by_ref()
                    .take(u64::try_from(MAX_LINE).unwrap_or(u64::MAX))
                    .read_until(b'\n', &mut line)
                {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                let text = core::str::from_utf8(&line).map(str::trim);
                let got = match text {
                    Ok("") => continue,
                    Ok(t) if n < MAX_LINE || line.ends_with(b"\n") => arrival(t),
                    Ok(_) => Err(alloc::format!("a line over {MAX_LINE} bytes")),
                    Err(_) => Err(String::from("not UTF-8")),
                };
                match got {
                    Ok(a) => inbox.put(a),
                    Err(why) => {
                        if let Ok(mut s) = reading.lock() {
                            s.malformed += 1;
                            if s.first.is_none() {
                                let shown: String = text.unwrap_or("").chars().take(80).collect();
                                s.first = Some(alloc::format!("{shown:?}: {why}"));
                            }
                        }
                        // The rest of an over-long line is skipped to its end.
                        if !line.ends_with(b"\n") {
                            let mut rest = alloc::vec::Vec::new();
                            if r.read_until(b'\n', &mut rest).is_err() {
                                break;
                            }
                        }
                    }
                }
            }
        }));
    }
}

impl Transport for ExecTransport {
    fn send(
        &mut self,
        now: UnixTime,
        command: Transmit,
        inbox: &Inbox,
    ) -> impl Future<Output = Result<(), TransportError>> {
        self.start_reading(inbox);
        let line = command_line(now, &command);
        let lines = self.lines.clone();
        let stalled = Arc::clone(&self.stalled);
        let wait_ms = command
            .deadline
            .millis()
            .saturating_sub(now.millis())
            .max(0);
        async move {
            use core::sync::atomic::Ordering;
            use tokio::sync::mpsc::error::TrySendError;
            let line = line?;
            let lines =
                lines.ok_or_else(|| TransportError(String::from("the child's input is closed")))?;
            let closed = || TransportError(String::from("the child's input is closed (it exited)"));
            let late = || {
                TransportError(String::from(
                    "the child did not take the command before its deadline (it is not reading)",
                ))
            };
            if stalled.load(Ordering::Relaxed) {
                return match lines.try_send(line) {
                    Ok(()) => {
                        stalled.store(false, Ordering::Relaxed);
                        Ok(())
                    }
                    Err(TrySendError::Full(_)) => Err(late()),
                    Err(TrySendError::Closed(_)) => Err(closed()),
                };
            }
            let wait = core::time::Duration::from_millis(u64::try_from(wait_ms).unwrap_or(0));
            match tokio::time::timeout(wait, lines.send(line)).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(_)) => Err(closed()),
                Err(_) => {
                    stalled.store(true, Ordering::Relaxed);
                    Err(late())
                }
            }
        }
    }
}

/// Writes each queued line to the child's input, flushing when the queue is empty.
fn write_lines(stdin: Option<ChildStdin>, mut queue: tokio::sync::mpsc::Receiver<String>) {
    let Some(mut stdin) = stdin else {
        return;
    };
    while let Some(line) = queue.blocking_recv() {
        let written = stdin
            .write_all(line.as_bytes())
            .and_then(|()| stdin.write_all(b"\n"))
            .and_then(|()| {
                if queue.is_empty() {
                    stdin.flush()
                } else {
                    Ok(())
                }
            });
        if written.is_err() {
            break;
        }
    }
}

impl Drop for ExecTransport {
    /// Closes the child's input (its end of the run) and waits for it — five seconds at
    /// most, then it is killed.
    fn drop(&mut self) {
        // The writer writes what is queued, then closes the child's input.
        drop(self.lines.take());
        let mut waited = 0;
        while matches!(self.child.try_wait(), Ok(None)) && waited < 50 {
            std::thread::sleep(core::time::Duration::from_millis(100));
            waited += 1;
        }
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        // The reader ends when the child's output closes; a grandchild that kept it open
        // would keep it waiting, so it is let go rather than joined.
        drop(self.reader.take());
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn lines_from_the_child_are_replies_alerts_or_refused() {
        match arrival("{\"device\":\"00DB123456780001\",\"bytes\":\"AAEC\"}") {
            Ok(Arrival::Reply { device, bytes }) => {
                assert_eq!(device, EntityId::from_u64(0x00DB_1234_5678_0001));
                assert_eq!(bytes, [0, 1, 2]);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            arrival("{\"alert\":\"AAEC\"}"),
            Ok(Arrival::Alert { .. })
        ));
        for bad in [
            "",
            "null",
            "{}",
            "{\"device\":\"00DB\",\"bytes\":\"AAEC\"}",
            "{\"device\":\"00DB123456780001\",\"bytes\":\"!!\"}",
            "{\"device\":\"00DB123456780001\",\"bytes\":\"AAEC\",\"alert\":\"AAEC\"}",
            "{\"device\":\"00DB123456780001\",\"bytes\":\"AAEC\",\"extra\":1}",
            "{\"device\":\"00DB123456780001\",\"bytes\":\"AAEC\"",
        ] {
            assert!(arrival(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_command_line_says_device_counter_kind_times_and_bytes() {
        let t = Transmit {
            device: EntityId::from_u64(0x00DB_1234_5678_0001),
            kind: CommandKind::Read,
            counter: 9,
            bytes: alloc::vec![0xDE, 0xAD],
            deadline: UnixTime(2_000),
        };
        let line = command_line(UnixTime(1_000), &t).expect("line");
        let back = parse_command_line(&line).expect("parse");
        assert_eq!(
            (back.device, back.counter, back.kind),
            (t.device, 9, CommandKind::Read)
        );
        assert_eq!(
            (back.at, back.deadline, &back.bytes),
            (UnixTime(1_000), t.deadline, &t.bytes)
        );
        assert!(matches!(
            arrival(&reply_line(t.device, &t.bytes)),
            Ok(Arrival::Reply { .. })
        ));
        assert!(matches!(
            arrival(&alert_line(&t.bytes)),
            Ok(Arrival::Alert { .. })
        ));
        assert!(parse_command_line("{\"device\":\"00DB123456780001\",\"counter\":1,\"kind\":\"erase\",\"at\":0,\"deadline\":0,\"bytes\":\"\"}").is_err());
        assert_eq!(
            line,
            "{\"device\":\"00DB123456780001\",\"counter\":9,\"kind\":\"read\",\"at\":1000,\"deadline\":2000,\"bytes\":\"3q0=\"}"
        );
    }
}
