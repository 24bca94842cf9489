//! Wall-clock display arithmetic for the dashboard clock. Time is a parameter: callers pass the
//! instant, so the same function runs on the server (first render) and in the browser (ticks).

use serde::{Deserialize, Serialize};

/// What the browser needs to keep showing the server's local time without asking again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerClock {
    /// Milliseconds since the Unix epoch when the server rendered the page.
    pub now_ms: i64,
    /// The server's UTC offset at that instant, in seconds (east positive).
    pub utc_offset_s: i32,
    /// IANA name of the server's time zone, e.g. `Europe/Istanbul`.
    pub zone: String,
}

/// Formats `epoch_ms` as `HH:MM:SS` at the given UTC offset.
pub fn format_time_of_day(epoch_ms: i64, utc_offset_s: i32) -> String {
    let local_s = epoch_ms.div_euclid(1000) + i64::from(utc_offset_s);
    let of_day = local_s.rem_euclid(86_400);
    format!(
        "{:02}:{:02}:{:02}",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// Formats an offset as `UTC+03:00`.
pub fn format_offset(utc_offset_s: i32) -> String {
    let sign = if utc_offset_s < 0 { '-' } else { '+' };
    let abs = utc_offset_s.unsigned_abs();
    format!("UTC{sign}{:02}:{:02}", abs / 3600, abs % 3600 / 60)
}

/// The UTC calendar date of `epoch_ms` as `YYYY-MM-DD` (Howard Hinnant's civil-from-days).
pub fn iso_date(epoch_ms: i64) -> String {
    let days = epoch_ms.div_euclid(86_400_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `epoch_ms` as `YYYY-MM-DD HH:MM UTC`: for lists and histories, in the browser too (it needs
/// no time-zone database).
pub fn format_utc(epoch_ms: i64) -> String {
    let time = format_time_of_day(epoch_ms, 0);
    format!("{} {} UTC", iso_date(epoch_ms), &time[..5])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_of_instants() {
        assert_eq!(iso_date(0), "1970-01-01");
        assert_eq!(iso_date(1_795_995_005_000), "2026-11-29");
        assert_eq!(iso_date(951_868_800_000), "2000-03-01");
        assert_eq!(iso_date(-1), "1969-12-31");
    }

    #[test]
    fn time_of_day_applies_the_offset_and_wraps_midnight() {
        // 2026-11-29T23:30:05Z
        let t = 1_795_995_005_000;
        assert_eq!(format_time_of_day(t, 0), "23:30:05");
        assert_eq!(format_time_of_day(t, 3 * 3600), "02:30:05");
        assert_eq!(format_time_of_day(t, -5 * 3600 - 1800), "18:00:05");
    }

    #[test]
    fn utc_stamps_have_date_hours_and_minutes() {
        assert_eq!(format_utc(1_795_995_005_000), "2026-11-29 23:30 UTC");
    }

    #[test]
    fn times_before_the_epoch_do_not_go_negative() {
        assert_eq!(format_time_of_day(-1000, 0), "23:59:59");
    }

    #[test]
    fn offsets_render_with_sign_hours_and_minutes() {
        assert_eq!(format_offset(19_800), "UTC+05:30");
        assert_eq!(format_offset(-12_600), "UTC-03:30");
        assert_eq!(format_offset(0), "UTC+00:00");
    }
}
