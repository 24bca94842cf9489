//! Reads uploaded contact lists row by row: CSV (comma, semicolon or tab, UTF-8 with or without
//! BOM, or Windows-1252 as older Excel writes it; ragged rows allowed; UTF-16 refused with what to
//! do) and Excel `.xlsx` (the first sheet, streamed with bounded memory by [`super::xlsx`]).
//! Cells come out as text without control characters; the domain decides what they mean.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use crate::storage::imports::ImportFormat;

/// One row of a sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetRow {
    /// 1-based line (CSV) or row number (Excel) as the user sees it in their editor.
    pub line: u64,
    /// Cells as text.
    pub cells: Vec<String>,
}

/// A sheet that cannot be read at all, or stops being readable; a sentence for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SheetError(pub String);

/// Rows of a stored upload.
pub type Rows = Box<dyn Iterator<Item = Result<SheetRow, SheetError>> + Send>;

/// The format a file name announces.
pub fn format_of(file_name: &str) -> Result<ImportFormat, SheetError> {
    let lower = file_name.to_ascii_lowercase();
    if lower.ends_with(".xlsx") {
        Ok(ImportFormat::Xlsx)
    } else if lower.ends_with(".csv") || lower.ends_with(".txt") || lower.ends_with(".tsv") {
        Ok(ImportFormat::Csv)
    } else if lower.ends_with(".xls") {
        Err(SheetError(
            "old Excel .xls files are not supported; save the sheet as .xlsx or CSV".into(),
        ))
    } else {
        Err(SheetError(format!(
            "{file_name:?} is neither a CSV nor an Excel .xlsx file"
        )))
    }
}

/// Every row of the file at `path`.
pub fn rows(path: &Path, format: ImportFormat) -> Result<Rows, SheetError> {
    match format {
        ImportFormat::Csv => csv_rows(path),
        ImportFormat::Xlsx => xlsx_rows(path),
    }
}

fn io_error(e: std::io::Error) -> SheetError {
    SheetError(format!("cannot read the uploaded file: {e}"))
}

/// Picks the separator the first line uses most: `,`, `;` or tab.
fn sniff_delimiter(path: &Path) -> Result<u8, SheetError> {
    let mut first = Vec::new();
    BufReader::new(File::open(path).map_err(io_error)?)
        .take(64 * 1024)
        .read_until(b'\n', &mut first)
        .map_err(io_error)?;
    let count = |b: u8| first.iter().filter(|&&c| c == b).count();
    let (comma, semicolon, tab) = (count(b','), count(b';'), count(b'\t'));
    Ok(if semicolon > comma && semicolon >= tab {
        b';'
    } else if tab > comma && tab > semicolon {
        b'\t'
    } else {
        b','
    })
}

/// Refuses UTF-16 (what Excel's "Unicode Text" writes): read as bytes it is garbage in every
/// row. Recognised by its byte-order mark, or by NUL bytes filling every other position.
fn refuse_utf16(path: &Path) -> Result<(), SheetError> {
    let mut head = Vec::new();
    File::open(path)
        .map_err(io_error)?
        .take(4096)
        .read_to_end(&mut head)
        .map_err(io_error)?;
    let bom = head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]);
    let nuls = head.iter().filter(|&&b| b == 0).count();
    if bom || (head.len() >= 8 && nuls * 3 >= head.len()) {
        return Err(SheetError(
            "this file is UTF-16 text; save it as “CSV UTF-8” (or as .xlsx) and upload it again"
                .into(),
        ));
    }
    Ok(())
}

fn csv_rows(path: &Path) -> Result<Rows, SheetError> {
    refuse_utf16(path)?;
    let delimiter = sniff_delimiter(path)?;
    let reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(BufReader::with_capacity(
            256 * 1024,
            File::open(path).map_err(io_error)?,
        ));
    let mut first = true;
    // csv's own positions lag one record behind; count lines ourselves (a quoted cell may span
    // several).
    let mut next_line = 1u64;
    Ok(Box::new(reader.into_byte_records().map(move |record| {
        let record =
            record.map_err(|e| SheetError(format!("the CSV file cannot be read further: {e}")))?;
        let line = next_line;
        let inner_newlines: usize = record
            .iter()
            .map(|f| f.iter().filter(|&&b| b == b'\n').count())
            .sum();
        next_line += 1 + inner_newlines as u64;
        let mut cells: Vec<String> = record.iter().map(decode).collect();
        if std::mem::take(&mut first) {
            if let Some(cell) = cells.first_mut() {
                if let Some(rest) = cell.strip_prefix('\u{feff}') {
                    *cell = rest.to_string();
                }
            }
        }
        Ok(SheetRow { line, cells })
    })))
}

/// UTF-8 when it is, otherwise Windows-1252 (what Excel's "CSV" writes on most Western systems),
/// without control characters.
fn decode(bytes: &[u8]) -> String {
    let text = match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => {
            encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(bytes)
                .0
        }
    };
    if text.chars().any(char::is_control) {
        without_controls(&text)
    } else {
        text.into_owned()
    }
}

/// A cell's text with NUL and other control characters removed (they are invisible, break
/// exports and never belong in a name or number) — but tabs and line breaks kept, as written.
/// The five bytes Windows-1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) decode to C1
/// controls; they become U+FFFD so the user sees that something was unreadable.
fn without_controls(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            '\t' | '\n' | '\r' => Some(c),
            '\u{80}'..='\u{9f}' => Some('\u{fffd}'),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect()
}

fn xlsx_rows(path: &Path) -> Result<Rows, SheetError> {
    let rows = super::xlsx::rows(path)?;
    Ok(Box::new(rows.map(|row| {
        row.map(|mut row| {
            for cell in &mut row.cells {
                if cell.chars().any(char::is_control) {
                    *cell = without_controls(cell);
                }
            }
            row
        })
    })))
}

/// Counts the data rows of a file (for the progress bar) and returns the first rows.
pub fn survey(
    path: &Path,
    format: ImportFormat,
    keep: usize,
) -> Result<(u64, Vec<Vec<String>>), SheetError> {
    let mut first = Vec::with_capacity(keep);
    let mut count = 0u64;
    for row in rows(path, format)? {
        let row = row?;
        if first.len() < keep {
            first.push(row.cells);
        }
        count += 1;
    }
    Ok((count, first))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(content: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("list.csv");
        std::fs::write(&path, content).unwrap();
        (dir, path)
    }

    fn all(path: &Path) -> Vec<SheetRow> {
        rows(path, ImportFormat::Csv)
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn bom_semicolons_latin1_and_ragged_rows_are_read() {
        let mut bytes = b"\xef\xbb\xbfphone;name\r\n+905321234567;Ay".to_vec();
        bytes.extend(b"\xfe"); // "þ" in Windows-1252, invalid UTF-8
        bytes.extend(b"e\r\n+14155552671\r\n\"+44 20, 7946\";\"multi\nline\";extra\r\n");
        let (_dir, path) = csv(&bytes);
        let rows = all(&path);
        assert_eq!(rows[0].cells, ["phone", "name"]);
        assert_eq!(rows[1].cells, ["+905321234567", "Ayþe"]);
        assert_eq!(rows[2].cells, ["+14155552671"]);
        assert_eq!(rows[3].cells, ["+44 20, 7946", "multi\nline", "extra"]);
        assert_eq!(
            rows.iter().map(|r| r.line).collect::<Vec<_>>(),
            [1, 2, 3, 4]
        );
    }

    #[test]
    fn unsupported_files_are_named() {
        assert!(format_of("list.xls").unwrap_err().0.contains(".xlsx"));
        assert!(format_of("photo.png").is_err());
        assert_eq!(format_of("List.XLSX").unwrap(), ImportFormat::Xlsx);
        let (_dir, path) = csv(b"not a zip");
        assert!(rows(&path, ImportFormat::Xlsx).is_err());
    }
}
