//! The first sheet of an Excel `.xlsx` workbook, read row by row with bounded memory.
//!
//! A workbook is a zip of XML parts. Reading it whole (as general-purpose readers do) lets a
//! 1.5 KB file with cells at A1 and XFD1048576 ask for a dense 512 GiB grid, and a 200 KB file
//! with one 200 MB shared string cost gigabytes. Here nothing is allocated for what a file merely
//! claims: the sheet is streamed row by row straight out of the zip, one row is held at a time,
//! and every dimension is checked against a cap before it costs memory:
//! - every XML event (a tag, a text, a comment) is at most [`MAX_EVENT_BYTES`], enforced on the
//!   inflated bytes as they are read, so no single token can grow a buffer without bound;
//! - each part inflates to at most its cap ([`MAX_SHARED_STRINGS_BYTES`] for the shared-string
//!   table, which is kept in one string plus offsets; [`MAX_SHEET_BYTES`] for the sheet);
//! - cells hold at most [`MAX_CELL_CHARS`] characters (Excel's own limit), rows go up to Excel's
//!   [`MAX_ROWS`], and values sit in the first [`MAX_COLUMNS`] columns.
//!
//! A file beyond a cap is refused with a sentence that says which and what to do.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use zip::{CompressionMethod, ZipArchive};

use super::sheet::{SheetError, SheetRow};

/// Largest XML event. Nothing in a workbook Excel writes comes near it; a cell is at most
/// 32,767 characters (up to ~200 KB escaped).
pub const MAX_EVENT_BYTES: u64 = 1024 * 1024;
/// Largest inflated shared-string part (a million-row list of unique names and e-mails is
/// ~100 MB of it).
pub const MAX_SHARED_STRINGS_BYTES: u64 = 256 * 1024 * 1024;
/// Largest inflated sheet part; read as a stream, so this bounds time, not memory.
pub const MAX_SHEET_BYTES: u64 = 4 * 1024 * 1024 * 1024;
/// Largest inflated small part (workbook, relationships, styles).
pub const MAX_SMALL_PART_BYTES: u64 = 16 * 1024 * 1024;
/// Excel's own limit on a cell's length.
pub const MAX_CELL_CHARS: usize = 32_767;
/// Excel's own limit on rows.
pub const MAX_ROWS: u64 = 1_048_576;
/// Columns that may hold values; a contact list with more is not a contact list.
pub const MAX_COLUMNS: usize = 1_024;

/// Opens the first sheet of the workbook at `path`.
pub fn rows(path: &Path) -> Result<XlsxRows, SheetError> {
    let mut archive = ZipArchive::new(BufReader::new(File::open(path).map_err(io_error)?))
        .map_err(|e| SheetError(format!("the file is not a readable .xlsx workbook: {e}")))?;
    let sheet_path = first_sheet_path(&mut archive)?;
    let shared = match archive.index_for_name("xl/sharedStrings.xml") {
        Some(_) => read_shared_strings(&mut archive)?,
        None => SharedStrings::default(),
    };
    let date_styles = match archive.index_for_name("xl/styles.xml") {
        Some(_) => read_date_styles(&mut archive)?,
        None => Vec::new(),
    };
    let sheet = open_part_stream(path, &mut archive, &sheet_path)?;
    let meter = Meter::new("the sheet", MAX_SHEET_BYTES);
    Ok(XlsxRows {
        xml: xml_reader(Metered::new(sheet, meter.clone())),
        meter,
        shared,
        date_styles,
        buf: Vec::new(),
        next_row: 1,
        done: false,
    })
}

fn io_error(e: std::io::Error) -> SheetError {
    SheetError(format!("cannot read the uploaded file: {e}"))
}

/// A damaged part, in words short enough for a report (an XML error can quote megabytes).
fn malformed(what: impl std::fmt::Display) -> SheetError {
    let mut what = what.to_string();
    if what.len() > 200 {
        let mut cut = 200;
        while !what.is_char_boundary(cut) {
            cut -= 1;
        }
        what.truncate(cut);
        what.push('…');
    }
    SheetError(format!("the .xlsx workbook is damaged: {what}"))
}

/// Counts the inflated bytes of one part, per XML event and in all, and refuses past the caps.
#[derive(Clone)]
struct Meter {
    part: &'static str,
    total_cap: u64,
    event: Arc<AtomicU64>,
    total: Arc<AtomicU64>,
}

impl Meter {
    fn new(part: &'static str, total_cap: u64) -> Self {
        Self {
            part,
            total_cap,
            event: Arc::default(),
            total: Arc::default(),
        }
    }

    /// Called before each XML event is read.
    fn next_event(&self) {
        self.event.store(0, Ordering::Relaxed);
    }

    fn exceeded(&self) -> Option<SheetError> {
        if self.total.load(Ordering::Relaxed) > self.total_cap {
            return Some(SheetError(format!(
                "{} of this workbook is larger than Herald reads ({} MB unpacked); save the list as CSV instead",
                self.part,
                self.total_cap / (1024 * 1024)
            )));
        }
        if self.event.load(Ordering::Relaxed) > MAX_EVENT_BYTES {
            return Some(SheetError(format!(
                "{} of this workbook holds an entry over {} KB, larger than any cell Excel writes",
                self.part,
                MAX_EVENT_BYTES / 1024
            )));
        }
        None
    }
}

/// A reader that fails once its [`Meter`] is exceeded.
struct Metered<R> {
    inner: R,
    meter: Meter,
}

impl<R> Metered<R> {
    fn new(inner: R, meter: Meter) -> Self {
        Self { inner, meter }
    }
}

impl<R: Read> Read for Metered<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(out)?;
        let n64 = n as u64;
        self.meter.event.fetch_add(n64, Ordering::Relaxed);
        self.meter.total.fetch_add(n64, Ordering::Relaxed);
        match self.meter.exceeded() {
            Some(error) => Err(std::io::Error::other(error.0)),
            None => Ok(n),
        }
    }
}

/// Small read-ahead so the per-event count stays close to the event's real size.
fn xml_reader<R: Read>(inner: R) -> Reader<BufReader<R>> {
    let mut reader = Reader::from_reader(BufReader::with_capacity(16 * 1024, inner));
    reader.config_mut().trim_text(false);
    reader
}

/// Reads the next event, with the meter reset for it; errors name the part.
fn next_event<'b, R: BufRead>(
    reader: &mut Reader<R>,
    meter: &Meter,
    buf: &'b mut Vec<u8>,
) -> Result<Event<'b>, SheetError> {
    buf.clear();
    meter.next_event();
    reader.read_event_into(buf).map_err(|e| {
        meter
            .exceeded()
            .unwrap_or_else(|| malformed(format!("{}: {e}", meter.part)))
    })
}

/// A whole small part, inflated within its cap.
fn read_small_part<R: Read + Seek>(
    archive: &mut ZipArchive<R>,
    name: &str,
) -> Result<Option<Vec<u8>>, SheetError> {
    let file = match archive.by_name(name) {
        Ok(file) => file,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(malformed(format!("{name}: {e}"))),
    };
    let mut bytes = Vec::new();
    file.take(MAX_SMALL_PART_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| malformed(format!("{name}: {e}")))?;
    if bytes.len() as u64 > MAX_SMALL_PART_BYTES {
        return Err(malformed(format!("{name} is implausibly large")));
    }
    Ok(Some(bytes))
}

fn attribute(element: &BytesStart<'_>, name: &str) -> Option<String> {
    let attribute = element.try_get_attribute(name).ok()??;
    attribute
        .normalized_value(XmlVersion::Implicit1_0)
        .ok()
        .map(|v| v.into_owned())
}

/// The path of the first sheet: `workbook.xml`'s first `<sheet>`, through its relationship.
fn first_sheet_path<R: Read + Seek>(archive: &mut ZipArchive<R>) -> Result<String, SheetError> {
    const FALLBACK: &str = "xl/worksheets/sheet1.xml";
    let Some(workbook) = read_small_part(archive, "xl/workbook.xml")? else {
        return Err(SheetError(
            "the file is not a readable .xlsx workbook: it has no workbook part".into(),
        ));
    };
    let mut reader = Reader::from_reader(workbook.as_slice());
    let mut buf = Vec::new();
    let mut relation = None;
    loop {
        buf.clear();
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == "sheet" => {
                relation = attribute(&e, "r:id");
                break;
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(malformed(format!("xl/workbook.xml: {e}"))),
        }
    }
    let Some(relation) = relation else {
        return match archive.index_for_name(FALLBACK) {
            Some(_) => Ok(FALLBACK.into()),
            None => Err(SheetError("the workbook has no sheets".into())),
        };
    };
    let Some(rels) = read_small_part(archive, "xl/_rels/workbook.xml.rels")? else {
        return Ok(FALLBACK.into());
    };
    let mut reader = Reader::from_reader(rels.as_slice());
    loop {
        buf.clear();
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e) | Event::Empty(e))
                if e.local_name().as_ref() == "Relationship"
                    && attribute(&e, "Id").as_deref() == Some(relation.as_str()) =>
            {
                let target = attribute(&e, "Target").unwrap_or_default();
                let path = match target.strip_prefix('/') {
                    Some(absolute) => absolute.to_string(),
                    None => format!("xl/{target}"),
                };
                return Ok(path);
            }
            Ok(Event::Eof) => return Ok(FALLBACK.into()),
            Ok(_) => {}
            Err(e) => return Err(malformed(format!("xl/_rels/workbook.xml.rels: {e}"))),
        }
    }
}

/// The shared-string table, as one string and the end offset of each entry.
#[derive(Default)]
struct SharedStrings {
    text: String,
    ends: Vec<usize>,
}

impl SharedStrings {
    fn get(&self, index: usize) -> Option<&str> {
        let end = *self.ends.get(index)?;
        let start = index.checked_sub(1).map_or(0, |i| self.ends[i]);
        self.text.get(start..end)
    }
}

/// Text of `<t>` elements, skipping phonetic runs (`<rPh>`), as Excel shows a cell.
struct TextCollector {
    in_t: bool,
    in_phonetic: bool,
}

impl TextCollector {
    fn new() -> Self {
        Self {
            in_t: false,
            in_phonetic: false,
        }
    }

    /// Feeds one event; appends its text to `out` when it is cell text. Returns whether the
    /// event was consumed.
    fn feed(&mut self, event: &Event<'_>, out: &mut String) -> Result<bool, SheetError> {
        match event {
            Event::Start(e) if e.local_name().as_ref() == "t" => self.in_t = true,
            Event::End(e) if e.local_name().as_ref() == "t" => self.in_t = false,
            Event::Start(e) if e.local_name().as_ref() == "rPh" => self.in_phonetic = true,
            Event::End(e) if e.local_name().as_ref() == "rPh" => self.in_phonetic = false,
            Event::Text(t) if self.in_t && !self.in_phonetic => out.push_str(&t.xml10_content()),
            Event::CData(t) if self.in_t && !self.in_phonetic => out.push_str(t),
            Event::GeneralRef(r) if self.in_t && !self.in_phonetic => push_reference(r, out)?,
            _ => return Ok(false),
        }
        if out.chars().count() > MAX_CELL_CHARS {
            return Err(SheetError(format!(
                "a cell of this workbook is longer than Excel's limit of {MAX_CELL_CHARS} characters"
            )));
        }
        Ok(true)
    }
}

fn push_reference(
    reference: &quick_xml::events::BytesRef<'_>,
    out: &mut String,
) -> Result<(), SheetError> {
    match reference.resolve_char_ref() {
        Ok(Some(c)) => out.push(c),
        Ok(None) => {
            let name: &str = reference;
            let resolved = resolve_predefined_entity(name)
                .ok_or_else(|| malformed(format!("unknown entity &{name};")))?;
            out.push_str(resolved);
        }
        Err(e) => return Err(malformed(e)),
    }
    Ok(())
}

fn read_shared_strings<R: Read + Seek>(
    archive: &mut ZipArchive<R>,
) -> Result<SharedStrings, SheetError> {
    let file = archive
        .by_name("xl/sharedStrings.xml")
        .map_err(|e| malformed(format!("xl/sharedStrings.xml: {e}")))?;
    let meter = Meter::new("the shared-string table", MAX_SHARED_STRINGS_BYTES);
    let mut reader = xml_reader(Metered::new(file, meter.clone()));
    let mut table = SharedStrings::default();
    let mut buf = Vec::new();
    let mut current = String::new();
    let mut collector = TextCollector::new();
    let mut in_item = false;
    loop {
        let event = next_event(&mut reader, &meter, &mut buf)?;
        match &event {
            Event::Start(e) if e.local_name().as_ref() == "si" => {
                in_item = true;
                current.clear();
            }
            Event::Empty(e) if e.local_name().as_ref() == "si" => table.ends.push(table.text.len()),
            Event::End(e) if e.local_name().as_ref() == "si" => {
                in_item = false;
                table.text.push_str(&current);
                table.ends.push(table.text.len());
            }
            Event::Eof => return Ok(table),
            _ if in_item => {
                collector.feed(&event, &mut current)?;
            }
            _ => {}
        }
    }
}

/// For each cell style (`<cellXfs>` index), whether it formats numbers as dates.
fn read_date_styles<R: Read + Seek>(archive: &mut ZipArchive<R>) -> Result<Vec<bool>, SheetError> {
    let Some(styles) = read_small_part(archive, "xl/styles.xml")? else {
        return Ok(Vec::new());
    };
    let mut reader = Reader::from_reader(styles.as_slice());
    let mut buf = Vec::new();
    let mut custom: HashMap<u32, bool> = HashMap::new();
    let mut in_cell_xfs = false;
    let mut out = Vec::new();
    loop {
        buf.clear();
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == "numFmt" => {
                if let (Some(id), Some(code)) = (
                    attribute(&e, "numFmtId").and_then(|v| v.parse().ok()),
                    attribute(&e, "formatCode"),
                ) {
                    custom.insert(id, is_date_format_code(&code));
                }
            }
            Ok(Event::Start(e)) if e.local_name().as_ref() == "cellXfs" => in_cell_xfs = true,
            Ok(Event::End(e)) if e.local_name().as_ref() == "cellXfs" => in_cell_xfs = false,
            Ok(Event::Start(e) | Event::Empty(e))
                if in_cell_xfs && e.local_name().as_ref() == "xf" =>
            {
                let id: u32 = attribute(&e, "numFmtId")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                out.push(
                    custom
                        .get(&id)
                        .copied()
                        .unwrap_or(is_builtin_date_format(id)),
                );
            }
            Ok(Event::Eof) => return Ok(out),
            Ok(_) => {}
            Err(e) => return Err(malformed(format!("xl/styles.xml: {e}"))),
        }
    }
}

/// Excel's built-in number formats that show dates or times.
fn is_builtin_date_format(id: u32) -> bool {
    matches!(id, 14..=22 | 27..=36 | 45..=47 | 50..=58)
}

/// Whether a custom format code shows a date: a `d`, `m`, `y`, `h` or `s` outside quoted text,
/// escapes and `[…]` sections (colours, conditions, locales).
fn is_date_format_code(code: &str) -> bool {
    let mut chars = code.chars();
    let mut in_quotes = false;
    let mut in_brackets = false;
    while let Some(c) = chars.next() {
        match c {
            '"' => in_quotes = !in_quotes,
            _ if in_quotes => {}
            '\\' | '_' | '*' => {
                chars.next();
            }
            '[' => in_brackets = true,
            ']' => in_brackets = false,
            _ if in_brackets => {}
            'd' | 'D' | 'm' | 'M' | 'y' | 'Y' | 'h' | 'H' | 's' | 'S' => return true,
            _ => {}
        }
    }
    false
}

/// Opens a part as an owned stream of its inflated bytes (the zip crate's own reader borrows
/// the archive, which an iterator handed to the importer cannot).
fn open_part_stream<R: Read + Seek>(
    path: &Path,
    archive: &mut ZipArchive<R>,
    name: &str,
) -> Result<Box<dyn Read + Send>, SheetError> {
    let entry = archive
        .by_name(name)
        .map_err(|e| malformed(format!("its first sheet ({name}): {e}")))?;
    if entry.encrypted() {
        return Err(SheetError(
            "the workbook is password-protected; save it without a password".into(),
        ));
    }
    let start = entry
        .data_start()
        .ok_or_else(|| malformed(format!("{name} has no data")))?;
    let length = entry.compressed_size();
    let method = entry.compression();
    drop(entry);
    let mut file = File::open(path).map_err(io_error)?;
    file.seek(SeekFrom::Start(start)).map_err(io_error)?;
    let raw = BufReader::new(file).take(length);
    match method {
        CompressionMethod::Stored => Ok(Box::new(raw)),
        CompressionMethod::Deflated => Ok(Box::new(flate2::read::DeflateDecoder::new(raw))),
        other => Err(SheetError(format!(
            "the workbook is compressed with {other}, which Herald cannot read; save it again from Excel"
        ))),
    }
}

/// The rows of a sheet, one at a time.
pub struct XlsxRows {
    xml: Reader<BufReader<Metered<Box<dyn Read + Send>>>>,
    meter: Meter,
    shared: SharedStrings,
    date_styles: Vec<bool>,
    buf: Vec<u8>,
    next_row: u64,
    done: bool,
}

/// What a `<c>` element announced about its value.
struct CellStart {
    column: usize,
    kind: String,
    is_date: bool,
}

impl XlsxRows {
    fn next_row(&mut self) -> Result<Option<SheetRow>, SheetError> {
        let mut row: Option<SheetRow> = None;
        let mut cell: Option<CellStart> = None;
        let mut next_column = 0usize;
        let mut value = String::new();
        let mut collector = TextCollector::new();
        let mut in_value = false;
        loop {
            let event = next_event(&mut self.xml, &self.meter, &mut self.buf)?;
            match &event {
                Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "row" => {
                    let line = match attribute(e, "r") {
                        Some(r) => r
                            .parse::<u64>()
                            .map_err(|_| malformed(format!("row number {r:?}")))?,
                        None => self.next_row,
                    };
                    if line == 0 || line > MAX_ROWS {
                        return Err(SheetError(format!(
                            "row {line} is beyond Excel's {MAX_ROWS} rows; the file is damaged"
                        )));
                    }
                    self.next_row = line + 1;
                    let empty = matches!(event, Event::Empty(_));
                    let found = SheetRow {
                        line,
                        cells: Vec::new(),
                    };
                    if empty {
                        return Ok(Some(found));
                    }
                    row = Some(found);
                    next_column = 0;
                }
                Event::End(e) if e.local_name().as_ref() == "row" => {
                    if let Some(mut found) = row.take() {
                        while found.cells.last().is_some_and(String::is_empty) {
                            found.cells.pop();
                        }
                        return Ok(Some(found));
                    }
                }
                Event::Start(e) | Event::Empty(e)
                    if row.is_some() && e.local_name().as_ref() == "c" =>
                {
                    let column = match attribute(e, "r") {
                        Some(reference) => column_of(&reference)?,
                        None => next_column,
                    };
                    next_column = column.saturating_add(1);
                    let style: Option<usize> = attribute(e, "s").and_then(|s| s.parse().ok());
                    let start = CellStart {
                        column,
                        kind: attribute(e, "t").unwrap_or_default(),
                        is_date: style
                            .and_then(|s| self.date_styles.get(s).copied())
                            .unwrap_or(false),
                    };
                    if matches!(event, Event::Empty(_)) {
                        continue;
                    }
                    cell = Some(start);
                    value.clear();
                }
                Event::End(e) if e.local_name().as_ref() == "c" => {
                    if let (Some(start), Some(found)) = (cell.take(), row.as_mut()) {
                        let text = self.cell_text(&start, &value)?;
                        if !text.is_empty() {
                            place(found, start.column, text)?;
                        }
                    }
                }
                Event::Start(e) if cell.is_some() && e.local_name().as_ref() == "v" => {
                    in_value = true;
                }
                Event::End(e) if e.local_name().as_ref() == "v" => in_value = false,
                Event::Text(t) if in_value => {
                    value.push_str(&t.xml10_content());
                    if value.len() > MAX_CELL_CHARS * 4 {
                        return Err(SheetError(format!(
                            "a cell of this workbook is longer than Excel's limit of {MAX_CELL_CHARS} characters"
                        )));
                    }
                }
                Event::GeneralRef(r) if in_value => push_reference(r, &mut value)?,
                Event::Eof => return Ok(None),
                _ if cell.is_some() => {
                    // Inline strings: `<is><t>…</t></is>`, rich runs included.
                    collector.feed(&event, &mut value)?;
                }
                _ => {}
            }
        }
    }

    /// A cell as the user sees it (see [`super::sheet`] for the conventions).
    fn cell_text(&self, cell: &CellStart, value: &str) -> Result<String, SheetError> {
        Ok(match cell.kind.as_str() {
            "s" => {
                let index: usize = value
                    .trim()
                    .parse()
                    .map_err(|_| malformed(format!("shared-string index {value:?}")))?;
                self.shared
                    .get(index)
                    .ok_or_else(|| malformed(format!("shared string {index} does not exist")))?
                    .to_string()
            }
            "b" => match value.trim() {
                "1" => "true".into(),
                "0" => "false".into(),
                other => other.to_string(),
            },
            "e" => String::new(),
            "str" | "inlineStr" | "d" => value.to_string(),
            _ => number_text(value, cell.is_date),
        })
    }
}

/// A numeric cell: whole numbers without `.0` (phone numbers typed as numbers), dates as
/// `YYYY-MM-DD`, anything unreadable as it was written.
fn number_text(value: &str, is_date: bool) -> String {
    let Ok(number) = value.trim().parse::<f64>() else {
        return value.to_string();
    };
    if !number.is_finite() {
        return value.to_string();
    }
    if is_date && (0.0..=2_958_465.0).contains(&number) {
        // Excel's serial day 25569 is 1970-01-01; 2958465 is 9999-12-31.
        #[allow(clippy::cast_possible_truncation, reason = "bounded just above")]
        let ms = ((number - 25_569.0) * 86_400_000.0).round() as i64;
        return domain::clock::iso_date(ms);
    }
    if number.fract() == 0.0 && number.abs() < 1e16 {
        #[allow(clippy::cast_possible_truncation, reason = "whole and below 1e16")]
        return format!("{}", number as i64);
    }
    number.to_string()
}

/// The 0-based column of a cell reference such as `B7` or `XFD1048576`.
fn column_of(reference: &str) -> Result<usize, SheetError> {
    let letters: &str = reference
        .split(|c: char| c.is_ascii_digit())
        .next()
        .unwrap_or_default();
    if letters.is_empty() || letters.len() > 3 || !letters.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(malformed(format!("cell reference {reference:?}")));
    }
    let column = letters
        .bytes()
        .fold(0usize, |n, b| n * 26 + usize::from(b - b'A') + 1);
    Ok(column - 1)
}

fn column_name(column: usize) -> String {
    let mut n = column + 1;
    let mut name = Vec::new();
    while n > 0 {
        let digit = u8::try_from((n - 1) % 26).unwrap_or(0);
        name.push(b'A' + digit);
        n = (n - 1) / 26;
    }
    name.reverse();
    String::from_utf8(name).unwrap_or_default()
}

/// Puts `text` at `column` of `row`, padding the columns before it.
fn place(row: &mut SheetRow, column: usize, text: String) -> Result<(), SheetError> {
    if column >= MAX_COLUMNS {
        return Err(SheetError(format!(
            "row {} has a value in column {}; Herald reads the first {MAX_COLUMNS} columns only — move the list's columns to the left",
            row.line,
            column_name(column)
        )));
    }
    if row.cells.len() <= column {
        row.cells.resize(column + 1, String::new());
    }
    row.cells[column] = text;
    Ok(())
}

impl Iterator for XlsxRows {
    type Item = Result<SheetRow, SheetError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_row() {
            Ok(Some(row)) => Some(Ok(row)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(error) => {
                self.done = true;
                Some(Err(error))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_references_are_read_and_overflow_is_refused() {
        assert_eq!(column_of("A1").unwrap(), 0);
        assert_eq!(column_of("Z9").unwrap(), 25);
        assert_eq!(column_of("AA1").unwrap(), 26);
        assert_eq!(column_of("XFD1048576").unwrap(), 16_383);
        for bad in ["", "1", "a1", "AAAAAAAAAAAAAAAAAAAAAAAA1", "É1"] {
            assert!(column_of(bad).is_err(), "{bad}");
        }
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(16_383), "XFD");
    }

    #[test]
    fn date_formats_are_recognised() {
        assert!(is_builtin_date_format(14));
        assert!(!is_builtin_date_format(0));
        assert!(is_date_format_code("dd/mm/yyyy"));
        assert!(is_date_format_code("[$-409]mmm d, yyyy"));
        assert!(!is_date_format_code("0.00"));
        assert!(!is_date_format_code("[Red]#,##0"));
        assert!(!is_date_format_code("\"days\" 0"));
        assert_eq!(number_text("45658", true), "2025-01-01");
        assert_eq!(number_text("905321234567", false), "905321234567");
        assert_eq!(number_text("1.5", false), "1.5");
    }

    use std::io::Write;

    use zip::write::SimpleFileOptions;

    /// A workbook whose first sheet is `sheet` (the `<sheetData>` content) and whose shared
    /// strings are `shared`, as Excel lays the parts out.
    fn workbook(dir: &Path, sheet: &str, shared: &[&str]) -> std::path::PathBuf {
        let path = dir.join(format!("{}.xlsx", uuid::Uuid::now_v7()));
        let mut zip = zip::ZipWriter::new(File::create(&path).unwrap());
        let options = SimpleFileOptions::default();
        zip.start_file("xl/workbook.xml", options).unwrap();
        zip.write_all(br#"<workbook xmlns:r="r"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#).unwrap();
        zip.start_file("xl/_rels/workbook.xml.rels", options)
            .unwrap();
        zip.write_all(br#"<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>"#).unwrap();
        zip.start_file("xl/sharedStrings.xml", options).unwrap();
        zip.write_all(b"<sst>").unwrap();
        for text in shared {
            zip.write_all(format!("<si><t>{text}</t></si>").as_bytes())
                .unwrap();
        }
        zip.write_all(b"</sst>").unwrap();
        zip.start_file("xl/worksheets/sheet1.xml", options).unwrap();
        zip.write_all(format!("<worksheet><sheetData>{sheet}</sheetData></worksheet>").as_bytes())
            .unwrap();
        zip.finish().unwrap();
        path
    }

    fn read_all(path: &Path) -> Result<Vec<SheetRow>, SheetError> {
        rows(path)?.collect()
    }

    #[test]
    fn cells_at_the_far_corners_are_refused_without_a_grid() {
        let dir = tempfile::tempdir().unwrap();
        let path = workbook(
            dir.path(),
            r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="1048576"><c r="XFD1048576" t="s"><v>0</v></c></row>"#,
            &["+905321234567"],
        );
        let error = read_all(&path).unwrap_err();
        assert!(error.0.contains("column XFD"), "{error}");
        // Far down but within the columns Herald reads: two rows, nothing in between.
        let path = workbook(
            dir.path(),
            r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="1048576"><c r="J1048576"><v>5</v></c></row>"#,
            &["phone"],
        );
        let rows = read_all(&path).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].line, 1_048_576);
        assert_eq!(rows[1].cells.len(), 10);
        assert_eq!(rows[1].cells[9], "5");
    }

    #[test]
    fn a_huge_shared_string_and_broken_references_are_refused_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let huge = "a".repeat(8 * 1024 * 1024);
        let path = workbook(
            dir.path(),
            r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#,
            &[&huge],
        );
        let error = rows(&path).err().expect("refused");
        assert!(error.0.contains("larger than any cell"), "{error}");
        for cell in [
            r#"<c r="AAAAAAAAAAAAAAAAAAAAAAAAAAA1"><v>1</v></c>"#,
            r#"<c r="A1" t="s"><v>99</v></c>"#,
            r#"<c r="A1" t="s"><v>-1</v></c>"#,
        ] {
            let path = workbook(dir.path(), &format!(r#"<row r="1">{cell}</row>"#), &["x"]);
            assert!(read_all(&path).is_err(), "{cell}");
        }
        let path = workbook(
            dir.path(),
            r#"<row r="99999999999999999999"><c><v>1</v></c></row>"#,
            &[],
        );
        assert!(read_all(&path).is_err());
    }

    #[test]
    fn values_read_as_excel_shows_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = workbook(
            dir.path(),
            r#"<row r="2"><c r="B2" t="s"><v>0</v></c><c r="C2"><v>905321234567</v></c><c r="D2" t="inlineStr"><is><r><t>In</t></r><r><t>line &amp; rich</t></r></is></c><c r="E2" t="b"><v>1</v></c><c r="F2" t="e"><v>#N/A</v></c><c r="G2" t="str"><f>A1</f><v>formula</v></c></row>"#,
            &["Ay&#351;e"],
        );
        let rows = read_all(&path).unwrap();
        assert_eq!(rows[0].line, 2);
        assert_eq!(
            rows[0].cells,
            [
                "",
                "Ayşe",
                "905321234567",
                "Inline & rich",
                "true",
                "",
                "formula"
            ]
        );
    }

    /// Hostile workbooks for the memory probe: every dimension and size a file can claim.
    fn hostile_workbooks(dir: &Path, seed: u64) -> Vec<std::path::PathBuf> {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut out = vec![
            workbook(
                dir,
                r#"<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row>"#,
                &[],
            ),
            workbook(dir, &"<row><c><v>1</v></c></row>".repeat(200_000), &[]),
            workbook(
                dir,
                r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#,
                &[&"b".repeat(16 * 1024 * 1024)],
            ),
            workbook(
                dir,
                &format!(
                    "<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>{}</t></is></c></row>",
                    "c".repeat(4 * 1024 * 1024)
                ),
                &[],
            ),
            workbook(
                dir,
                &format!("<!--{}-->", "d>".repeat(4 * 1024 * 1024)),
                &[],
            ),
        ];
        for _ in 0..40 {
            let strings: Vec<String> = (0..rng.random_range(1..5))
                .map(|_| "e".repeat(rng.random_range(0..40_000)))
                .collect();
            let mut sheet = String::new();
            for _ in 0..rng.random_range(0..50) {
                let row: u64 = if rng.random_bool(0.9) {
                    rng.random_range(1..=1_048_576)
                } else {
                    rng.random_range(0..=u64::MAX)
                };
                sheet.push_str(&format!("<row r=\"{row}\">"));
                for _ in 0..rng.random_range(0..20) {
                    let column = if rng.random_bool(0.9) {
                        column_name(rng.random_range(0..40))
                    } else {
                        column_name(rng.random_range(0..20_000))
                    };
                    let kind =
                        ["s", "n", "b", "e", "str", "inlineStr", "d", "zz"][rng.random_range(0..8)];
                    let value: u64 = if kind == "s" {
                        rng.random_range(0..strings.len() as u64 + 1)
                    } else {
                        rng.random_range(0..u64::MAX)
                    };
                    sheet.push_str(&format!(
                        "<c r=\"{column}{row}\" t=\"{kind}\"><v>{value}</v></c>"
                    ));
                }
                sheet.push_str("</row>");
            }
            let strings: Vec<&str> = strings.iter().map(String::as_str).collect();
            let path = workbook(dir, &sheet, &strings);
            // Every few files, flip bytes anywhere in the zip.
            if rng.random_bool(0.3) {
                let mut bytes = std::fs::read(&path).unwrap();
                for _ in 0..rng.random_range(1..20) {
                    let at = rng.random_range(0..bytes.len());
                    bytes[at] = rng.random();
                }
                std::fs::write(&path, bytes).unwrap();
            }
            out.push(path);
        }
        out
    }

    /// Run by [`hostile_workbooks_never_panic_and_stay_within_bounded_memory`] in a process of
    /// its own, so its peak memory is the reader's alone.
    #[test]
    #[ignore = "run by hostile_workbooks_never_panic_and_stay_within_bounded_memory"]
    fn memory_probe() {
        let Ok(dir) = std::env::var("HERALD_XLSX_PROBE_DIR") else {
            return;
        };
        let dir = Path::new(&dir);
        let files = hostile_workbooks(dir, 7);
        // Building the files took memory of its own; measure the reading from here on.
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let baseline = peak_rss_kb();
        let mut outcomes = (0, 0);
        for path in files {
            match rows(&path).and_then(|rows| rows.collect::<Result<Vec<_>, _>>()) {
                Ok(_) => outcomes.0 += 1,
                Err(e) => {
                    assert!(e.0.len() < 400, "a short reason: {}", e.0.len());
                    outcomes.1 += 1;
                }
            }
            std::fs::remove_file(&path).unwrap();
        }
        println!(
            "probe: read={} refused={} baseline_kb={baseline} peak_kb={}",
            outcomes.0,
            outcomes.1,
            peak_rss_kb()
        );
    }

    fn peak_rss_kb() -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    #[test]
    fn hostile_workbooks_never_panic_and_stay_within_bounded_memory() {
        let dir = tempfile::tempdir().unwrap();
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "contacts::xlsx::tests::memory_probe",
                "--ignored",
                "--nocapture",
            ])
            .env("HERALD_XLSX_PROBE_DIR", dir.path())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "the probe panicked or aborted: {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let line = stdout
            .lines()
            .find(|l| l.starts_with("probe:"))
            .expect("the probe ran");
        let field = |name: &str| -> u64 {
            line.split_whitespace()
                .find_map(|f| f.strip_prefix(name))
                .and_then(|v| v.parse().ok())
                .unwrap()
        };
        // Reading adds a few megabytes to the process; a dense grid, or a 16 MB token buffered
        // whole, would be far above this line.
        let added_mb = field("peak_kb=").saturating_sub(field("baseline_kb=")) / 1024;
        assert!(added_mb < 48, "reading took {added_mb} MB: {line}");
        assert!(field("refused=") >= 4, "{line}");
    }
}
