//! Files kept beside the sled store — customers' media, the files of saved replies — written so
//! that a crash leaves each either whole or absent, never half.

use std::path::Path;

/// Writes `bytes` to `path` so that it is either whole or absent after a crash: a temporary
/// file, synced, renamed over, and the directory synced.
pub async fn write_durably(path: &Path, bytes: Vec<u8>) -> std::io::Result<()> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let dir = path.parent().unwrap_or_else(|| Path::new("."));
        std::fs::create_dir_all(dir)?;
        let temporary = path.with_extension("part");
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, &path)?;
        std::fs::File::open(dir)?.sync_all()
    })
    .await
    .map_err(std::io::Error::other)?
}
