//! The archive itself: a tar stream of JSON-lines chunks and media objects (see the
//! module above for its layout), written and read front to back.

use std::io::{BufRead, BufReader, Read, Write};

use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{BackupError, Counts, FORMAT, FORMAT_VERSION, Item, RevisionRow, Rows, Table, legacy};

/// The header entry's name; always the first entry.
pub const HEADER: &str = "dermis-export.json";
/// The end entry's name; always the last entry.
pub const END: &str = "dermis-export-end.json";
/// A chunk of rows is closed once it holds this many bytes of JSON lines.
pub const CHUNK_BYTES: usize = 1 << 20;
/// Where media objects are, inside an archive.
const OBJECTS: &str = "objects/";
/// The first format version that is an archive (older ones are [`legacy`] JSON).
const FIRST_ARCHIVE_VERSION: u64 = 3;
/// The largest chunk of rows this build reads (one row may be long; never this long).
const MAX_CHUNK: u64 = 256 << 20;
/// The largest media object this build reads.
const MAX_OBJECT: u64 = 4 << 30;

fn io(context: &str) -> impl Fn(std::io::Error) -> BackupError + '_ {
    move |e| BackupError::Io(format!("{context}: {e}"))
}

fn format(message: impl Into<String>) -> BackupError {
    BackupError::Format(message.into())
}

/// The first entry: what wrote the archive, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`] of the writer.
    pub format_version: u64,
    /// When it was written.
    pub exported_at: chrono::DateTime<chrono::Utc>,
    /// The `dermis` version that wrote it.
    pub dermis_version: String,
}

impl Header {
    /// The header of an archive this build writes now.
    pub fn now() -> Self {
        Self {
            format: FORMAT.to_owned(),
            format_version: FORMAT_VERSION,
            exported_at: crate::content::now(),
            dermis_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// Where an archive is written: a file or standard output, gzip-compressed or not.
pub enum Output {
    /// As is.
    Plain(std::io::BufWriter<Box<dyn Write + Send>>),
    /// Through gzip.
    Gzip(GzEncoder<std::io::BufWriter<Box<dyn Write + Send>>>),
}

impl Output {
    /// Writes to `inner`, compressed when `gzip`.
    pub fn new(inner: Box<dyn Write + Send>, gzip: bool) -> Self {
        let inner = std::io::BufWriter::with_capacity(256 * 1024, inner);
        if gzip {
            Self::Gzip(GzEncoder::new(inner, flate2::Compression::default()))
        } else {
            Self::Plain(inner)
        }
    }

    /// Writes what is buffered (and gzip's trailer).
    pub fn finish(self) -> std::io::Result<()> {
        match self {
            Self::Plain(mut out) => out.flush(),
            Self::Gzip(gzip) => gzip.finish()?.flush(),
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Self::Plain(out) => out.write(buf),
            Self::Gzip(out) => out.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Self::Plain(out) => out.flush(),
            Self::Gzip(out) => out.flush(),
        }
    }
}

/// The table whose rows are being written, and its chunk so far.
struct OpenChunk {
    table: Table,
    part: u32,
    lines: Vec<u8>,
}

/// Writes an archive: the header, then rows table by table, then objects, then the end.
pub struct Writer<W: Write> {
    tar: tar::Builder<W>,
    mtime: u64,
    chunk: Option<OpenChunk>,
    counts: Counts,
}

impl<W: Write> Writer<W> {
    /// Starts an archive on `out` with `header`.
    pub fn new(out: W, header: &Header) -> Result<Self, BackupError> {
        let mut writer = Self {
            tar: tar::Builder::new(out),
            mtime: u64::try_from(header.exported_at.timestamp()).unwrap_or(0),
            chunk: None,
            counts: Counts::default(),
        };
        let json = serde_json::to_vec_pretty(header).map_err(|e| BackupError::Io(e.to_string()))?;
        writer.entry(HEADER, &json)?;
        Ok(writer)
    }

    /// Adds one row of `table`. Rows come table by table, in [`Table::ALL`]'s order.
    pub fn row<T: Serialize>(&mut self, table: Table, row: &T) -> Result<(), BackupError> {
        if self.chunk.as_ref().is_some_and(|c| c.table != table) {
            self.close_chunk()?;
        }
        let chunk = self.chunk.get_or_insert_with(|| OpenChunk {
            table,
            part: 0,
            lines: Vec::with_capacity(CHUNK_BYTES + 64 * 1024),
        });
        serde_json::to_writer(&mut chunk.lines, row).map_err(|e| BackupError::Io(e.to_string()))?;
        chunk.lines.push(b'\n');
        self.counts.add(table, 1);
        if chunk.lines.len() >= CHUNK_BYTES {
            self.write_chunk()?;
        }
        Ok(())
    }

    /// Adds a media object, under its store name.
    pub fn object(&mut self, name: &str, bytes: &[u8]) -> Result<(), BackupError> {
        self.close_chunk()?;
        self.entry(&format!("{OBJECTS}{name}"), bytes)?;
        self.counts.objects += 1;
        Ok(())
    }

    /// Ends the archive; returns the output and what it holds.
    pub fn finish(mut self) -> Result<(W, Counts), BackupError> {
        self.close_chunk()?;
        let json =
            serde_json::to_vec_pretty(&self.counts).map_err(|e| BackupError::Io(e.to_string()))?;
        self.entry(END, &json)?;
        let out = self
            .tar
            .into_inner()
            .map_err(io("cannot write the archive"))?;
        Ok((out, self.counts))
    }

    /// Writes the open chunk, if it holds rows, and keeps the table open.
    fn write_chunk(&mut self) -> Result<(), BackupError> {
        let Some(chunk) = self.chunk.as_mut() else {
            return Ok(());
        };
        if chunk.lines.is_empty() {
            return Ok(());
        }
        chunk.part += 1;
        let path = format!("{}/{:06}.jsonl", chunk.table.name(), chunk.part);
        let lines = std::mem::take(&mut chunk.lines);
        self.entry(&path, &lines)?;
        if let Some(chunk) = self.chunk.as_mut() {
            chunk.lines = lines;
            chunk.lines.clear();
        }
        Ok(())
    }

    /// Writes the open chunk and closes its table.
    fn close_chunk(&mut self) -> Result<(), BackupError> {
        self.write_chunk()?;
        self.chunk = None;
        Ok(())
    }

    fn entry(&mut self, path: &str, bytes: &[u8]) -> Result<(), BackupError> {
        let mut header = tar::Header::new_ustar();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(self.mtime);
        header.set_entry_type(tar::EntryType::Regular);
        self.tar
            .append_data(&mut header, path, bytes)
            .map_err(io("cannot write the archive"))
    }
}

/// Reads an export of any format this build knows from `input` (gzip-compressed or not),
/// handing each [`Item`] to `emit` as soon as it is read; the last is [`Item::End`].
pub fn read(
    input: impl Read,
    emit: &mut dyn FnMut(Item) -> Result<(), BackupError>,
) -> Result<(), BackupError> {
    let mut input = BufReader::with_capacity(256 * 1024, input);
    let head = input.fill_buf().map_err(io("cannot read the export"))?;
    if head.is_empty() {
        return Err(format("the file is empty"));
    }
    if head.starts_with(&[0x1f, 0x8b]) {
        return read_plain(
            BufReader::with_capacity(256 * 1024, MultiGzDecoder::new(input)),
            emit,
        );
    }
    read_plain(input, emit)
}

/// [`read`], after any gzip layer.
fn read_plain(
    mut input: impl BufRead,
    emit: &mut dyn FnMut(Item) -> Result<(), BackupError>,
) -> Result<(), BackupError> {
    let head = input.fill_buf().map_err(io("cannot read the export"))?;
    if head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        return legacy::read(input, emit);
    }
    read_archive(input, emit)
}

/// Reads a tar archive (format 3 on).
fn read_archive(
    input: impl Read,
    emit: &mut dyn FnMut(Item) -> Result<(), BackupError>,
) -> Result<(), BackupError> {
    let damaged = |e: std::io::Error| format(format!("the archive is damaged: {e}"));
    let mut archive = tar::Archive::new(input);
    let mut entries = archive.entries().map_err(damaged)?;
    let mut first = entries
        .next()
        .ok_or_else(|| format("the archive is empty"))?
        .map_err(damaged)?;
    if first.path().map_err(damaged)?.to_str() != Some(HEADER) {
        return Err(format(format!("the archive does not start with {HEADER}")));
    }
    let header: serde_json::Value = serde_json::from_str(&read_text(&mut first, HEADER, 1 << 20)?)
        .map_err(|e| format(format!("{HEADER}: {e}")))?;
    check_header(&header)?;
    drop(first);

    let mut last_table = Table::ALL[0];
    let mut ended = false;
    for entry in entries {
        let mut entry = entry.map_err(damaged)?;
        let path = entry
            .path()
            .map_err(damaged)?
            .to_string_lossy()
            .into_owned();
        if ended {
            return Err(format(format!("{path} comes after {END}")));
        }
        if path == END {
            let claimed: Counts = serde_json::from_str(&read_text(&mut entry, END, 1 << 20)?)
                .map_err(|e| format(format!("{END}: {e}")))?;
            emit(Item::End(claimed))?;
            ended = true;
        } else if let Some(name) = path.strip_prefix(OBJECTS) {
            let size = entry.header().size().map_err(damaged)?;
            if size > MAX_OBJECT {
                return Err(format(format!("{path} is larger than {MAX_OBJECT} bytes")));
            }
            let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            entry.read_to_end(&mut bytes).map_err(damaged)?;
            emit(Item::Object {
                name: name.to_owned(),
                bytes,
            })?;
        } else if let Some(table) = path
            .split_once('/')
            .filter(|(_, part)| part.ends_with(".jsonl"))
            .and_then(|(table, _)| Table::from_name(table))
        {
            if table < last_table {
                return Err(format(format!(
                    "{path} comes after rows of {}: tables must come in loading order",
                    last_table.name()
                )));
            }
            last_table = table;
            let text = read_text(&mut entry, &path, MAX_CHUNK)?;
            emit(Item::Rows(parse_rows(table, &path, &text)?))?;
        } else {
            return Err(format(format!("unexpected entry {path}")));
        }
    }
    if !ended {
        return Err(format(format!(
            "the archive ends before {END}: it was cut short"
        )));
    }
    Ok(())
}

/// Checks the format and version named by a header (of an archive or a legacy document).
pub fn check_header(header: &serde_json::Value) -> Result<u64, BackupError> {
    if header["format"] != FORMAT {
        return Err(format(format!("`format` must be {FORMAT:?}")));
    }
    let version = header["formatVersion"].as_u64();
    match version {
        Some(v) if (FIRST_ARCHIVE_VERSION..=FORMAT_VERSION).contains(&v) => Ok(v),
        _ => Err(format(format!(
            "format version {} is not one this build reads in an archive \
             ({FIRST_ARCHIVE_VERSION} to {FORMAT_VERSION})",
            header["formatVersion"]
        ))),
    }
}

/// An entry's bytes as text, refusing more than `limit` bytes.
fn read_text(entry: &mut impl Read, path: &str, limit: u64) -> Result<String, BackupError> {
    let mut text = String::new();
    entry
        .take(limit + 1)
        .read_to_string(&mut text)
        .map_err(|e| format(format!("{path}: {e}")))?;
    if text.len() as u64 > limit {
        return Err(format(format!("{path} is larger than {limit} bytes")));
    }
    Ok(text)
}

/// The rows of one chunk of `table`.
fn parse_rows(table: Table, path: &str, text: &str) -> Result<Rows, BackupError> {
    Ok(match table {
        Table::Users => Rows::Users(lines(path, text)?),
        Table::Conditions => Rows::Conditions(lines(path, text)?),
        Table::SideEffects => Rows::SideEffects(lines(path, text)?),
        Table::Media => Rows::Media(lines(path, text)?),
        Table::Topics => Rows::Topics(lines(path, text)?),
        Table::TopicConditions => Rows::TopicConditions(lines(path, text)?),
        Table::TopicSideEffects => Rows::TopicSideEffects(lines(path, text)?),
        Table::Revisions => Rows::Revisions(
            lines::<RevisionRow>(path, text)?
                .into_iter()
                .map(RevisionRow::current)
                .collect::<Result<_, _>>()?,
        ),
        Table::MediaUses => Rows::MediaUses(lines(path, text)?),
    })
}

/// One `T` per non-blank line.
fn lines<T: DeserializeOwned>(path: &str, text: &str) -> Result<Vec<T>, BackupError> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            serde_json::from_str(line).map_err(|e| format(format!("{path}, line {}: {e}", i + 1)))
        })
        .collect()
}
