//! Embeds the browser assets into the `herald` binary.
//!
//! Inputs: `style/main.scss` (compiled here with grass, no downloads), every file in
//! `app/public/`, and the wasm bundle that `server/scripts/build-site.sh` writes to
//! `target/site/pkg/` (`herald.js`, `herald_bg.wasm`; override the directory with
//! `HERALD_SITE_PKG`). Output: hashed, pre-compressed copies in `OUT_DIR` and a table of them
//! that `src/http/assets.rs` includes. Without the wasm bundle the binary still builds and serves
//! server-rendered pages, and says so at start.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

struct Asset {
    name: String,
    bytes: Vec<u8>,
}

fn main() {
    let manifest_dir =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest_dir
        .parent()
        .expect("server/ sits in the workspace")
        .to_path_buf();
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let pkg_dir = std::env::var("HERALD_SITE_PKG")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target/site/pkg"));
    println!("cargo:rerun-if-env-changed=HERALD_SITE_PKG");

    let mut assets = vec![Asset {
        name: "main.css".into(),
        bytes: compile_style(&root.join("style")),
    }];
    let public = root.join("app/public");
    println!("cargo:rerun-if-changed={}", public.display());
    for entry in read_dir_sorted(&public) {
        let name = entry
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_string);
        if let (Some(name), Ok(bytes)) = (name, std::fs::read(&entry)) {
            assets.push(Asset { name, bytes });
        }
    }
    println!("cargo:rerun-if-changed={}", pkg_dir.display());
    for name in ["herald.js", "herald_bg.wasm"] {
        let path = pkg_dir.join(name);
        println!("cargo:rerun-if-changed={}", path.display());
        match std::fs::read(&path) {
            Ok(bytes) => assets.push(Asset { name: name.into(), bytes }),
            Err(_) => println!(
                "cargo:warning=no {} - building without the browser bundle (run server/scripts/build-site.sh)",
                path.display()
            ),
        }
    }

    let mut table = String::from("static EMBEDDED: &[EmbeddedAsset] = &[\n");
    for asset in &assets {
        let hash = hex::encode(&Sha256::digest(&asset.bytes)[..8]);
        let (stem, ext) = asset.name.rsplit_once('.').unwrap_or((&asset.name, ""));
        let file = format!("{stem}.{hash}.{ext}");
        let identity = out_dir.join(&file);
        std::fs::write(&identity, &asset.bytes).expect("write asset");
        let compressible = !matches!(ext, "png" | "jpg" | "jpeg" | "webp" | "woff2");
        let gzip = compressible
            .then(|| gzip(&asset.bytes))
            .filter(|c| c.len() < asset.bytes.len());
        let brotli = compressible
            .then(|| brotli(&asset.bytes))
            .filter(|c| c.len() < asset.bytes.len());
        let embed = |suffix: &str, bytes: Option<Vec<u8>>| match bytes {
            Some(bytes) => {
                let path = out_dir.join(format!("{file}.{suffix}"));
                std::fs::write(&path, bytes).expect("write compressed asset");
                format!("Some(include_bytes!({:?}))", path.display().to_string())
            }
            None => "None".to_string(),
        };
        let gzip = embed("gz", gzip);
        let brotli = embed("br", brotli);
        let _ = writeln!(
            table,
            "    EmbeddedAsset {{ name: {name:?}, file: {file:?}, content_type: {ct:?}, \
             identity: include_bytes!({path:?}), gzip: {gzip}, brotli: {brotli} }},",
            name = asset.name,
            ct = content_type(ext),
            path = identity.display().to_string(),
        );
    }
    table.push_str("];\n");
    std::fs::write(out_dir.join("embedded_assets.rs"), table).expect("write asset table");
}

fn compile_style(style_dir: &Path) -> Vec<u8> {
    println!("cargo:rerun-if-changed={}", style_dir.display());
    for file in read_dir_sorted(style_dir) {
        println!("cargo:rerun-if-changed={}", file.display());
    }
    let options = grass::Options::default()
        .style(grass::OutputStyle::Compressed)
        .load_path(style_dir);
    match grass::from_path(style_dir.join("main.scss"), &options) {
        Ok(css) => css.into_bytes(),
        Err(e) => panic!("style/main.scss does not compile: {e}"),
    }
}

fn read_dir_sorted(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn content_type(ext: &str) -> &'static str {
    match ext {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" | "webmanifest" => "application/json",
        _ => "application/octet-stream",
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).expect("gzip in memory");
    encoder.finish().expect("gzip in memory")
}

fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).expect("brotli in memory");
    out
}
