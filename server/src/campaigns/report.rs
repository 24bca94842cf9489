//! A campaign's outputs over plain HTTP: the live progress stream (server-sent events, one JSON
//! `Progress` whenever it changes), the progress chart (SVG drawn with `plotters`), and the
//! per-recipient results as CSV.

use std::convert::Infallible;
use std::time::Duration;

use app::ports::CampaignsPort;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use domain::access::Caller;
use domain::campaign::RecipientState;
use domain::contacts::export;
use domain::ids::CampaignId;
use futures_util::stream::Stream;
use plotters::prelude::*;
use uuid::Uuid;

use crate::contacts::files::{csv_download, export_name, server_error, stream_lines};
use crate::http::AppState;
use crate::storage::campaigns::CampaignStats;

/// How often the stream looks for changes.
const POLL: Duration = Duration::from_millis(500);

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "no such campaign").into_response()
}

/// `GET /campaigns/{id}/events`: `progress` events carrying the page's live figures, sent when
/// they change (and at least every 15 s as a keep-alive comment).
pub async fn events(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, Response> {
    let service = state.campaigns.clone();
    let id: CampaignId = id.parse().map_err(|_| not_found())?;
    service
        .progress(&caller, id)
        .await
        .map_err(|_| not_found())?;
    let stream = futures_util::stream::unfold(
        (service, caller, id, String::new()),
        |(service, caller, id, last)| async move {
            loop {
                let progress = service.progress(&caller, id).await.ok()?;
                let json = serde_json::to_string(&progress).ok()?;
                if json != last {
                    let event = Event::default().event("progress").data(json.clone());
                    return Some((Ok(event), (service, caller, id, json)));
                }
                tokio::time::sleep(POLL).await;
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// The chart's series: cumulative counts per minute since the first event.
fn series(stats: &CampaignStats) -> (Vec<i64>, [Vec<u64>; 5]) {
    let mut minutes = Vec::new();
    let mut out: [Vec<u64>; 5] = Default::default();
    let mut totals = [0u64; 5];
    for (minute, bucket) in &stats.timeline {
        let values = [
            bucket.sent,
            bucket.delivered,
            bucket.read,
            bucket.replied,
            bucket.failed,
        ];
        for (total, value) in totals.iter_mut().zip(values) {
            *total += u64::from(value);
        }
        minutes.push(*minute);
        for (series, total) in out.iter_mut().zip(totals) {
            series.push(total);
        }
    }
    (minutes, out)
}

/// The progress chart as SVG text.
pub fn chart_svg(stats: &CampaignStats) -> Result<String, String> {
    let (minutes, series) = series(stats);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 260)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let start = minutes.first().copied().unwrap_or(0);
        let span = minutes.last().map_or(1, |m| (m - start).max(1));
        let top = series
            .iter()
            .flat_map(|s| s.last())
            .copied()
            .max()
            .unwrap_or(0)
            .max(1);
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(56)
            .build_cartesian_2d(0i64..span, 0u64..top + top / 10 + 1)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("minutes since the first send")
            .y_desc("recipients")
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(|e| e.to_string())?;
        let names = ["sent", "delivered", "read", "replied", "failed"];
        let colours = [
            RGBColor(0x64, 0x74, 0x8b),
            RGBColor(0x25, 0x63, 0xeb),
            RGBColor(0x16, 0xa3, 0x4a),
            RGBColor(0x93, 0x33, 0xea),
            RGBColor(0xdc, 0x26, 0x26),
        ];
        for ((name, colour), values) in names.iter().zip(colours).zip(series.iter()) {
            let points: Vec<(i64, u64)> = minutes
                .iter()
                .map(|m| m - start)
                .zip(values.iter().copied())
                .collect();
            chart
                .draw_series(LineSeries::new(points, colour.stroke_width(2)))
                .map_err(|e| e.to_string())?
                .label(*name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], colour.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.2))
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// `GET /campaigns/{id}/chart.svg`: sent, delivered, read, replied and failed over time.
pub async fn chart(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<Uuid>() else {
        return not_found();
    };
    let campaigns = state.campaigns.engine().campaigns();
    match campaigns.get(&id) {
        Ok(Some(_)) => {}
        Ok(None) => return not_found(),
        Err(e) => return server_error(e),
    }
    let stats = match campaigns.stats(&id) {
        Ok(stats) => stats,
        Err(e) => return server_error(e),
    };
    match chart_svg(&stats) {
        Ok(svg) => ([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response(),
        Err(e) => server_error(e),
    }
}

/// `GET /campaigns/{id}/recipients.csv`: every recipient with state, error and times.
pub async fn recipients_csv(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<Uuid>() else {
        return not_found();
    };
    let campaigns = state.campaigns.engine().campaigns().clone();
    let name = match campaigns.get(&id) {
        Ok(Some(record)) => format!("{}-recipients.csv", export_name(&record.draft.name)),
        Ok(None) => return not_found(),
        Err(e) => return server_error(e),
    };
    let body = stream_lines(move |send| {
        let header = [
            "phone",
            "name",
            "country",
            "state",
            "error_code",
            "reason",
            "wamid",
            "sent_at",
            "updated_at",
        ];
        if !send(export::line(header)) {
            return;
        }
        for entry in campaigns.recipients(&id) {
            let (phone, r) = match entry {
                Ok(row) => row,
                Err(e) => {
                    tracing::error!(error = %e, "recipient export stopped early");
                    return;
                }
            };
            let (code, reason) = match &r.state {
                RecipientState::Failed { code, reason } => (
                    code.map(|c| c.to_string()).unwrap_or_default(),
                    reason.clone(),
                ),
                RecipientState::Skipped { reason } => (String::new(), reason.explain()),
                RecipientState::Unknown { reason } => (String::new(), reason.clone()),
                RecipientState::Pending => {
                    (String::new(), r.last_error.clone().unwrap_or_default())
                }
                _ => (String::new(), String::new()),
            };
            let time = |ms: Option<i64>| {
                ms.and_then(chrono::DateTime::from_timestamp_millis)
                    .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                    .unwrap_or_default()
            };
            let line = export::line([
                phone,
                r.name.clone(),
                r.country.clone().unwrap_or_default(),
                r.state.name().to_string(),
                code,
                reason,
                r.wamid.clone().unwrap_or_default(),
                time(r.sent_at_ms),
                time(Some(r.updated_at_ms)),
            ]);
            if !send(line) {
                return;
            }
        }
    });
    csv_download(&name, body)
}
