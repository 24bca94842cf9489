//! HTTP routes for files: uploading a contact list (streamed to disk, then surveyed), the import
//! report and contact exports as CSV (streamed, so a million rows never sit in memory), and the
//! downloadable list templates (.xlsx and .csv). Pages and JSON calls are server functions; these
//! are plain routes because they move files.

use std::collections::BTreeSet;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::contacts::export;
use domain::contacts::import::guess_mapping;
use futures_util::StreamExt;
use serde::Deserialize;
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

use super::sheet;
use super::ContactsService;
use crate::http::AppState;
use crate::storage::imports::{ImportJob, ImportState, Progress};

/// Largest upload accepted (a million rows of a wide sheet fit comfortably).
pub const MAX_UPLOAD_BYTES: usize = 512 * 1024 * 1024;
/// Sample rows kept for the mapping step.
const SAMPLE_ROWS: usize = 5;
/// Header of the list templates: what Herald recognises without any mapping.
const TEMPLATE_COLUMNS: [&str; 7] = [
    "phone",
    "first_name",
    "last_name",
    "language",
    "tags",
    "city",
    "birthday",
];
const TEMPLATE_EXAMPLE: [&str; 7] = [
    "+905321234567",
    "Ayşe",
    "Yılmaz",
    "tr",
    "vip; istanbul",
    "Istanbul",
    "1990-04-23",
];

fn bad_request(message: impl Into<String>) -> Response {
    (StatusCode::BAD_REQUEST, message.into()).into_response()
}

pub(crate) fn server_error(error: impl std::fmt::Display) -> Response {
    tracing::error!(%error, "contacts file route failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "Herald could not complete this; see the server log.",
    )
        .into_response()
}

fn contacts(state: &AppState) -> &ContactsService {
    &state.contacts
}

/// The name of a file uploaded as a raw body (`components::upload` in the browser): the
/// percent-encoded `x-file-name` header, decoded, its last path segment only, trimmed.
pub(crate) fn uploaded_file_name(headers: &HeaderMap) -> String {
    let raw = headers
        .get("x-file-name")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let decoded: String = form_urlencoded::parse(format!("n={raw}").as_bytes())
        .map(|(_, v)| v.into_owned())
        .next()
        .unwrap_or_default();
    decoded
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// `POST /contacts/imports/upload` with the file as the body and its name in `x-file-name`
/// (percent-encoded). Answers `{"id": "…"}`; the mapping step follows on the import's page.
pub async fn upload(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let file_name = uploaded_file_name(&headers);
    if file_name.is_empty() {
        return bad_request("file: choose a CSV or .xlsx file to upload");
    }
    let format = match sheet::format_of(&file_name) {
        Ok(f) => f,
        Err(e) => return bad_request(format!("file: {e}")),
    };
    let service = contacts(&state).clone();
    let dir = match service.importer().ensure_dir() {
        Ok(dir) => dir.to_path_buf(),
        Err(e) => return server_error(e),
    };
    let id = Uuid::now_v7();
    let path = dir.join(id.to_string());
    let size = match save_body(body, &path).await {
        Ok(size) => size,
        Err(SaveError::TooLarge) => {
            let _ = tokio::fs::remove_file(&path).await;
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("file: larger than {} MB", MAX_UPLOAD_BYTES >> 20),
            )
                .into_response();
        }
        Err(SaveError::Io(e)) => {
            let _ = tokio::fs::remove_file(&path).await;
            return server_error(e);
        }
    };
    let surveyed = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || sheet::survey(&path, format, SAMPLE_ROWS + 1)).await
    };
    let (total_rows, mut first) = match surveyed {
        Ok(Ok(found)) => found,
        Ok(Err(e)) => {
            let _ = tokio::fs::remove_file(&path).await;
            return bad_request(format!("file: {e}"));
        }
        Err(e) => return server_error(e),
    };
    if first.is_empty() {
        let _ = tokio::fs::remove_file(&path).await;
        return bad_request("file: the file has no rows");
    }
    let headers_row = first.remove(0);
    let suggested = guess_mapping(&headers_row, &first);
    let job = ImportJob {
        file_name,
        format,
        size,
        total_rows,
        headers: headers_row,
        samples: first,
        suggested,
        settings: None,
        by: String::new(),
        created_at_ms: state.clock.now_ms(),
        state: ImportState::Uploaded,
        progress: Progress::default(),
    };
    if let Err(e) = service.imports().put(&id, &job) {
        return server_error(e);
    }
    if let Err(e) = state.store.flush().await {
        return server_error(e);
    }
    Json(serde_json::json!({ "id": id.to_string() })).into_response()
}

enum SaveError {
    TooLarge,
    Io(std::io::Error),
}

async fn save_body(body: Body, path: &std::path::Path) -> Result<u64, SaveError> {
    let mut file = tokio::fs::File::create(path).await.map_err(SaveError::Io)?;
    let mut stream = body.into_data_stream();
    let mut size = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| SaveError::Io(std::io::Error::other(e)))?;
        size += chunk.len() as u64;
        if size > MAX_UPLOAD_BYTES as u64 {
            return Err(SaveError::TooLarge);
        }
        file.write_all(&chunk).await.map_err(SaveError::Io)?;
    }
    file.sync_all().await.map_err(SaveError::Io)?;
    Ok(size)
}

pub(crate) fn csv_download(name: &str, body: Body) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, attachment(name)),
        ],
        body,
    )
        .into_response()
}

/// `Content-Disposition` for a download named `name`, whatever it contains (a user's file name
/// can hold quotes, CR/LF or any script): an ASCII `filename` for old clients and the exact name
/// as RFC 5987 `filename*` (RFC 6266).
pub(crate) fn attachment(name: &str) -> HeaderValue {
    /// What may stay unescaped in `filename*` (RFC 5987 `attr-char`).
    const NOT_ATTR_CHAR: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'!')
        .remove(b'#')
        .remove(b'$')
        .remove(b'&')
        .remove(b'+')
        .remove(b'-')
        .remove(b'.')
        .remove(b'^')
        .remove(b'_')
        .remove(b'`')
        .remove(b'|')
        .remove(b'~');
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let exact = percent_encoding::utf8_percent_encode(name, NOT_ATTR_CHAR);
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{fallback}\"; filename*=UTF-8''{exact}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// Streams lines produced on the blocking pool into a response body.
pub(crate) fn stream_lines(produce: impl FnOnce(&dyn Fn(String) -> bool) + Send + 'static) -> Body {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(16);
    tokio::task::spawn_blocking(move || {
        let buffer = std::cell::RefCell::new(String::with_capacity(64 * 1024));
        let send = |line: String| {
            let mut b = buffer.borrow_mut();
            b.push_str(&line);
            if b.len() >= 60 * 1024 {
                let chunk = Bytes::from(std::mem::take(&mut *b));
                return tx.blocking_send(Ok(chunk)).is_ok();
            }
            true
        };
        produce(&send);
        let rest = buffer.into_inner();
        if !rest.is_empty() {
            let _ = tx.blocking_send(Ok(Bytes::from(rest)));
        }
    });
    Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    }))
}

/// `GET /contacts/imports/{id}/report.csv`: every rejected row with its line and reason.
pub async fn import_report(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Ok(id) = Uuid::parse_str(&id) else {
        return (StatusCode::NOT_FOUND, "no such import").into_response();
    };
    let service = contacts(&state).clone();
    let job = match service.imports().get(&id) {
        Ok(Some(job)) => job,
        Ok(None) => return (StatusCode::NOT_FOUND, "no such import").into_response(),
        Err(e) => return server_error(e),
    };
    let name = format!(
        "{}-rejected.csv",
        job.file_name
            .rsplit_once('.')
            .map_or(job.file_name.as_str(), |(stem, _)| stem)
    );
    let body = stream_lines(move |send| {
        if !send(export::line(["line", "phone", "rule", "reason"])) {
            return;
        }
        for entry in service.imports().rejects(&id) {
            match entry {
                Ok((line, r)) => {
                    let l = export::line([
                        line.to_string(),
                        r.phone,
                        r.rejection.rule,
                        r.rejection.reason,
                    ]);
                    if !send(l) {
                        return;
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "import report stopped early");
                    return;
                }
            }
        }
    });
    csv_download(&name, body)
}

/// Query of the export route.
#[derive(Debug, Deserialize)]
pub struct ExportQuery {
    /// A segment id; absent: every contact.
    pub segment: Option<String>,
}

/// `GET /contacts/export.csv[?segment=<id>]`.
pub async fn export_contacts(
    State(state): State<AppState>,
    Query(q): Query<ExportQuery>,
) -> Response {
    let service = contacts(&state).clone();
    let (name, matcher) = match q.segment.as_deref().filter(|s| !s.is_empty()) {
        Some(id) => match service.segment_matcher(id) {
            Ok((def, m)) => (format!("{}.csv", export_name(&def.name)), Some(m)),
            Err(e) => return crate::ports::refusal(&e),
        },
        None => ("contacts.csv".to_string(), None),
    };
    let body = stream_lines(move |send| {
        // Attribute columns: every attribute name in use, found in a first pass.
        let mut attributes = BTreeSet::new();
        for c in service.store().all().flatten() {
            attributes.extend(c.attributes.keys().cloned());
        }
        if !send(export::contact_header(&attributes)) {
            return;
        }
        for c in service.store().all() {
            let Ok(c) = c else {
                tracing::error!("contact export stopped early: storage failed");
                return;
            };
            if matcher.as_ref().is_some_and(|m| !m.matches(&c)) {
                continue;
            }
            if !send(export::contact_line(&c, &attributes)) {
                return;
            }
        }
    });
    csv_download(&name, body)
}

pub(crate) fn export_name(segment: &str) -> String {
    let name: String = segment
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() {
        "segment".into()
    } else {
        name
    }
}

/// `GET /contacts/template.csv`: the columns Herald recognises, with one example row.
pub async fn template_csv() -> Response {
    let body = format!(
        "{}{}",
        export::line(TEMPLATE_COLUMNS),
        export::line(TEMPLATE_EXAMPLE)
    );
    csv_download("herald-contacts-template.csv", Body::from(body))
}

/// `GET /contacts/template.xlsx`: the same as an Excel workbook, phone column as text so Excel
/// keeps the `+` and leading zeros.
pub async fn template_xlsx() -> Response {
    match build_template_xlsx() {
        Ok(bytes) => (
            [
                (
                    header::CONTENT_TYPE,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"herald-contacts-template.xlsx\"",
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => server_error(e),
    }
}

fn build_template_xlsx() -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Contacts")?;
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    for (col, (name, example)) in TEMPLATE_COLUMNS.iter().zip(TEMPLATE_EXAMPLE).enumerate() {
        let col = u16::try_from(col).unwrap_or(u16::MAX);
        sheet.write_string_with_format(0, col, *name, &bold)?;
        sheet.write_string_with_format(1, col, example, &text)?;
        sheet.set_column_width(col, 18)?;
    }
    sheet.set_column_format(0, &text)?;
    workbook.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_xlsx_template_reads_back_as_the_recognised_columns() {
        let bytes = build_template_xlsx().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.xlsx");
        std::fs::write(&path, bytes).unwrap();
        let (rows, first) =
            sheet::survey(&path, crate::storage::imports::ImportFormat::Xlsx, 2).unwrap();
        assert_eq!(rows, 2);
        assert_eq!(first[0], TEMPLATE_COLUMNS);
        let mapping = guess_mapping(&first[0], &first[1..]);
        assert_eq!(mapping[0], domain::contacts::import::ColumnTarget::Phone);
    }

    /// Writes `end2end/fixtures/customers.xlsx`, the browser test's Excel list: three good rows
    /// (one phone typed as a number, as Excel users do), one invalid number, one without a number.
    #[test]
    #[ignore = "regenerates a committed fixture: cargo test -p server --lib -- --ignored browser_fixture"]
    fn write_browser_fixture() {
        use rust_xlsxwriter::Workbook;
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        let rows: [[&str; 5]; 6] = [
            ["Phone", "First name", "Last name", "Tags", "City"],
            ["+905321112233", "Ayşe", "Yılmaz", "vip", "Istanbul"],
            ["NUMBER", "Mehmet", "Demir", "", "Ankara"],
            ["+447911123456", "Olivia", "Smith", "", "London"],
            ["12345", "Bad", "Number", "", ""],
            ["", "No", "Phone", "", ""],
        ];
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                if *cell == "NUMBER" {
                    sheet.write_number(r, c, 905_321_112_244.0).unwrap();
                } else if !cell.is_empty() {
                    sheet.write_string(r, c, *cell).unwrap();
                }
            }
        }
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../end2end/fixtures/customers.xlsx");
        workbook.save(path).unwrap();
    }

    #[test]
    fn any_file_name_makes_a_valid_attachment_header() {
        let header = attachment("Kampanya \"Ekim\"\r\nSet-Cookie: x=1 Şehir.csv");
        let text = header.to_str().unwrap();
        assert_eq!(
            text,
            "attachment; filename=\"Kampanya _Ekim___Set-Cookie: x=1 _ehir.csv\"; \
             filename*=UTF-8''Kampanya%20%22Ekim%22%0D%0ASet-Cookie%3A%20x%3D1%20%C5%9Eehir.csv"
        );
    }
}
