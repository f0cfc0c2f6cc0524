//! Reading what `dermis export` wrote, as a test inspects it: the header, every table's
//! rows and every media object, whether the archive is gzip-compressed or not.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use serde_json::Value;

/// An archive's rows, objects and counts: what a round trip must keep.
#[derive(Debug, PartialEq)]
pub struct Content<'a> {
    /// Rows by table.
    pub tables: &'a BTreeMap<String, Vec<Value>>,
    /// Objects by name.
    pub objects: &'a BTreeMap<String, Vec<u8>>,
    /// The end entry.
    pub end: &'a Value,
}

/// An export archive, read whole (tests' archives are small).
#[derive(Debug, Clone, PartialEq)]
pub struct Archive {
    /// The first entry, `dermis-export.json`.
    pub header: Value,
    /// The last entry, `dermis-export-end.json`: the counts.
    pub end: Value,
    /// Entry names, in order.
    pub entries: Vec<String>,
    /// Rows by table name, chunks joined, in order.
    pub tables: BTreeMap<String, Vec<Value>>,
    /// Media objects by store name.
    pub objects: BTreeMap<String, Vec<u8>>,
}

impl Archive {
    /// Reads the archive at `path`; panics when it is not one.
    pub fn read(path: &Path) -> Self {
        let bytes = std::fs::read(path).expect("read the archive");
        let plain = if bytes.starts_with(&[0x1f, 0x8b]) {
            let mut plain = Vec::new();
            flate2::read::MultiGzDecoder::new(bytes.as_slice())
                .read_to_end(&mut plain)
                .expect("gzip");
            plain
        } else {
            bytes
        };
        let mut archive = tar::Archive::new(plain.as_slice());
        let mut read = Self {
            header: Value::Null,
            end: Value::Null,
            entries: Vec::new(),
            tables: BTreeMap::new(),
            objects: BTreeMap::new(),
        };
        for entry in archive.entries().expect("a tar archive") {
            let mut entry = entry.expect("an entry");
            let name = entry.path().expect("a path").to_string_lossy().into_owned();
            let mut data = Vec::new();
            entry.read_to_end(&mut data).expect("entry bytes");
            read.entries.push(name.clone());
            if name == "dermis-export.json" {
                read.header = serde_json::from_slice(&data).expect("header JSON");
            } else if name == "dermis-export-end.json" {
                read.end = serde_json::from_slice(&data).expect("end JSON");
            } else if let Some(object) = name.strip_prefix("objects/") {
                read.objects.insert(object.to_owned(), data);
            } else {
                let (table, _) = name.split_once('/').expect("TABLE/PART.jsonl");
                let rows = read.tables.entry(table.to_owned()).or_default();
                for line in String::from_utf8(data).expect("UTF-8").lines() {
                    rows.push(serde_json::from_str(line).expect("a JSON line"));
                }
            }
        }
        read
    }

    /// The rows of `table` (none when it has none).
    pub fn rows(&self, table: &str) -> &[Value] {
        self.tables.get(table).map_or(&[], Vec::as_slice)
    }

    /// What must survive a round trip: everything but the header (which names the time
    /// and writer).
    pub fn content(&self) -> Content<'_> {
        Content {
            tables: &self.tables,
            objects: &self.objects,
            end: &self.end,
        }
    }

    /// Writes an archive holding `entries` (name, bytes) in order: for tests of damaged
    /// or hostile archives. Names are written as given, `..` included (up to 100 bytes).
    pub fn write(path: &Path, entries: &[(&str, Vec<u8>)]) {
        let file = std::fs::File::create(path).expect("create the archive");
        let mut builder = tar::Builder::new(file);
        for (name, bytes) in entries {
            let mut header = tar::Header::new_ustar();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            header.set_entry_type(tar::EntryType::Regular);
            let field = &mut header.as_old_mut().name;
            assert!(name.len() <= field.len(), "{name} is too long");
            field[..name.len()].copy_from_slice(name.as_bytes());
            header.set_cksum();
            builder.append(&header, bytes.as_slice()).expect("append");
        }
        builder.finish().expect("finish the archive");
    }
}
