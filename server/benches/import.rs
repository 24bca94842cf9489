//! Contact import benchmark: imports a generated CSV of 1,000,000 rows (override with
//! `HERALD_BENCH_ROWS`), then the same file again, through the real importer on a real sled
//! store in a temporary directory; then evaluates a segment over every contact. Reports rows per
//! second, peak resident memory (VmHWM) and segment evaluation time.
//!
//! `cargo bench -p server --bench import`. The report is printed and written to
//! `target/bench-reports/import.md`.
#![allow(
    clippy::unwrap_used,
    reason = "a benchmark that cannot set up should stop"
)]

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use domain::contacts::import::{ColumnTarget, ImportSettings};
use domain::contacts::segment::{compile, Condition, SegmentDefinition};
use domain::contacts::{AttributeKind, Category};
use server::clock::SystemClock;
use server::contacts::importer::Importer;
use server::contacts::ContactsService;
use server::storage::imports::{ImportFormat, ImportJob, ImportState, ImportStore, Progress};
use server::storage::Store;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

mod support;
use support::{cpu_seconds, peak_rss_mb};

/// A list as businesses export them: national and international spellings, names, tags, a
/// numeric and a date attribute; one row in 200 malformed.
fn write_csv(path: &std::path::Path, rows: usize) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(out, "phone,first_name,last_name,tags,score,joined").unwrap();
    for i in 0..rows {
        if i % 200 == 199 {
            writeln!(out, "n/a,Broken,Row,,x,").unwrap();
            continue;
        }
        let phone = if i % 2 == 0 {
            format!(
                "0532 {:03} {:02} {:02}",
                i / 10_000 % 1000,
                i / 100 % 100,
                i % 100
            )
        } else {
            format!("+90 533 {:07}", i)
        };
        let tag = if i % 7 == 0 { "vip" } else { "regular" };
        writeln!(
            out,
            "{phone},Name{i},Surname{},{tag},{},2025-0{}-1{}",
            i % 977,
            i % 100,
            1 + i % 9,
            i % 10
        )
        .unwrap();
    }
}

fn queue(store: &Store, importer: &Importer, file: &std::path::Path, rows: usize) -> Uuid {
    let id = Uuid::now_v7();
    importer.ensure_dir().unwrap();
    std::fs::copy(file, importer.file_of(&id)).unwrap();
    let job = ImportJob::queued(
        "bench.csv",
        ImportFormat::Csv,
        rows as u64 + 1,
        settings(),
        "bench",
        1,
    );
    ImportStore::open(store).unwrap().put(&id, &job).unwrap();
    id
}

/// Imports `file` once: wall seconds, CPU seconds and the report's counters.
fn run(
    store: &Store,
    importer: &Importer,
    file: &std::path::Path,
    rows: usize,
) -> (f64, f64, Progress) {
    let id = queue(store, importer, file, rows);
    let started = Instant::now();
    let cpu_before = cpu_seconds();
    importer.run_queued(&CancellationToken::new()).unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    let job = ImportStore::open(store).unwrap().get(&id).unwrap().unwrap();
    assert!(
        matches!(job.state, ImportState::Done { .. }),
        "{:?}",
        job.state
    );
    (seconds, cpu, job.progress)
}

/// Rows per second of the pure row mapping (phone parsing included) on one thread, to tell the
/// domain's cost from storage's.
fn mapping_rate(file: &std::path::Path, rows: usize) -> (f64, f64) {
    let take = rows.min(200_000);
    let mut reader = csv::ReaderBuilder::new().from_path(file).unwrap();
    let records: Vec<Vec<String>> = reader
        .records()
        .take(take)
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    let columns = settings().columns;
    let tr = domain::contacts::phone::country_id("TR").ok();
    let started = Instant::now();
    for r in &records {
        let _ = domain::contacts::phone::normalize(&r[0], tr);
    }
    let phone = take as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    for r in &records {
        let _ = domain::contacts::import::map_row(r, &columns, tr);
    }
    (phone, take as f64 / started.elapsed().as_secs_f64())
}

fn settings() -> ImportSettings {
    ImportSettings {
        columns: vec![
            ColumnTarget::Phone,
            ColumnTarget::FirstName,
            ColumnTarget::LastName,
            ColumnTarget::Tags,
            ColumnTarget::Attribute {
                name: "score".into(),
                kind: AttributeKind::Number,
            },
            ColumnTarget::Attribute {
                name: "joined".into(),
                kind: AttributeKind::Date,
            },
        ],
        default_country: "TR".into(),
        consent: vec![Category::Marketing],
        has_header: true,
    }
}

fn main() {
    let rows: usize = std::env::var("HERALD_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bench.csv");
    write_csv(&file, rows);
    let file_mb = std::fs::metadata(&file).unwrap().len() as f64 / 1e6;
    if std::env::var_os("HERALD_BENCH_MAPPING_ONLY").is_some() {
        let (phone_rate, mapping_rate) = mapping_rate(&file, rows);
        println!(
            "phone normalisation: {phone_rate:.0}/s; row mapping: {mapping_rate:.0}/s (one thread)"
        );
        return;
    }
    let store = Store::open(&dir.path().join("data")).unwrap();
    let clock = Arc::new(SystemClock);
    let importer = Importer::new(&store, clock.clone()).unwrap();

    let (first_s, first_cpu, first) = run(&store, &importer, &file, rows);
    let rss_after_first = peak_rss_mb();
    let (again_s, again_cpu, again) = run(&store, &importer, &file, rows);
    assert_eq!(
        again.created + again.updated,
        0,
        "re-import must change nothing"
    );
    let rss_after_again = peak_rss_mb();

    let service = ContactsService::new(&store, importer, clock).unwrap();
    let segment = SegmentDefinition {
        name: "vip with score over 50".into(),
        match_all: true,
        conditions: vec![
            Condition {
                field: "tag".into(),
                op: "has".into(),
                value: "vip".into(),
                ..Condition::default()
            },
            Condition {
                field: "attribute".into(),
                op: "greater".into(),
                name: "score".into(),
                value: "50".into(),
            },
            Condition {
                field: "consent".into(),
                op: "not_opted_out".into(),
                value: "marketing".into(),
                ..Condition::default()
            },
        ],
    };
    let matcher = compile(&segment).unwrap();
    let started = Instant::now();
    let matched = service.evaluate(&matcher).filter(Result::is_ok).count();
    let segment_s = started.elapsed().as_secs_f64();
    let contacts = service.store().count();
    // Measured last: its in-memory rows must not count towards the imports' peak memory.
    let (phone_rate, mapping_rate) = mapping_rate(&file, rows);

    let report = format!(
        "# Contact import benchmark\n\n\
         {rows} rows ({file_mb:.0} MB CSV), sled store in a temp dir, release build, {} CPUs.\n\n\
         | run | seconds | rows/s | CPU seconds | created | updated | unchanged | rejected |\n|---|---|---|---|---|---|---|---|\n\
         | first import | {first_s:.1} | {:.0} | {first_cpu:.1} | {} | {} | {} | {} |\n\
         | same file again | {again_s:.1} | {:.0} | {again_cpu:.1} | {} | {} | {} | {} |\n\n\
         Peak RSS: {rss_after_first:.0} MB after the first import, {rss_after_again:.0} MB after the second.\n\n\
         Pure row mapping on one thread (no storage): phone normalisation {phone_rate:.0}/s, whole row {mapping_rate:.0}/s.\n\n\
         Segment evaluation over {contacts} contacts (tag, numeric attribute, consent): {segment_s:.2} s, {matched} matched.\n",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        rows as f64 / first_s, first.created, first.updated, first.unchanged, first.rejected,
        rows as f64 / again_s, again.created, again.updated, again.unchanged, again.rejected,
    );
    print!("{report}");
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-reports");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("import.md"), report).unwrap();
}
