//! Reads uploaded contact lists row by row: CSV (comma, semicolon or tab, UTF-8 with or without
//! BOM, or Windows-1252 as older Excel writes it; ragged rows allowed) and Excel `.xlsx` (the
//! first sheet, with calamine). Cells come out as text; the domain decides what they mean.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use calamine::{Data, Reader, Xlsx};

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

fn csv_rows(path: &Path) -> Result<Rows, SheetError> {
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

/// UTF-8 when it is, otherwise Windows-1252 (what Excel's "CSV" writes on most Western systems).
fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(bytes)
            .0
            .into_owned(),
    }
}

fn xlsx_rows(path: &Path) -> Result<Rows, SheetError> {
    let file = BufReader::new(File::open(path).map_err(io_error)?);
    let mut workbook: Xlsx<_> = Xlsx::new(file)
        .map_err(|e| SheetError(format!("the file is not a readable .xlsx workbook: {e}")))?;
    let range = match workbook.worksheet_range_at(0) {
        Some(Ok(range)) => range,
        Some(Err(e)) => return Err(SheetError(format!("the first sheet cannot be read: {e}"))),
        None => return Err(SheetError("the workbook has no sheets".into())),
    };
    let first_row = range.start().map_or(0, |(row, _)| u64::from(row));
    let first_col = range.start().map_or(0, |(_, col)| col as usize);
    let rows: Vec<SheetRow> = range
        .rows()
        .enumerate()
        .map(|(i, cells)| {
            // Keep columns where the user sees them, even when column A is empty.
            let mut out = vec![String::new(); first_col];
            out.extend(cells.iter().map(cell_text));
            SheetRow {
                line: first_row + i as u64 + 1,
                cells: out,
            }
        })
        .collect();
    Ok(Box::new(rows.into_iter().map(Ok)))
}

/// A cell as the user sees it: whole numbers without `.0` (phone numbers typed as numbers),
/// dates as `YYYY-MM-DD`, errors as empty.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e16 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => {
            // Excel's serial day 25569 is 1970-01-01.
            let ms = ((d.as_f64() - 25_569.0) * 86_400_000.0).round() as i64;
            domain::clock::iso_date(ms)
        }
    }
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
