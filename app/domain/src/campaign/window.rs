//! Wall-clock arithmetic: scheduled start times in a chosen zone, and daily sending windows in
//! each contact's own zone (DST included, via the IANA database in `chrono-tz`).

use chrono::{DateTime, Duration, NaiveDateTime, NaiveTime, TimeZone, Timelike};
use chrono_tz::Tz;

use super::draft::SendingWindow;

/// The IANA zone named `name`, if it exists.
pub fn zone(name: &str) -> Option<Tz> {
    name.trim().parse().ok()
}

/// Minutes after midnight of `HH:MM`.
pub fn minute_of_day(hhmm: &str) -> Option<u32> {
    let time = NaiveTime::parse_from_str(hhmm.trim(), "%H:%M").ok()?;
    Some(time.hour() * 60 + time.minute())
}

/// Checks that `local` is a date and time and `time_zone` a known zone, without converting: the
/// browser runs this as you type, and converting would ship the whole time-zone database to it.
pub fn check_local(local: &str, time_zone: &str) -> Result<(), String> {
    zone(time_zone).ok_or_else(|| {
        format!("“{time_zone}” is not a time zone; use a name such as Europe/Istanbul.")
    })?;
    parse_local(local).map(|_| ())
}

fn parse_local(local: &str) -> Result<NaiveDateTime, String> {
    NaiveDateTime::parse_from_str(local.trim(), "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(local.trim(), "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| format!("“{local}” is not a date and time; use YYYY-MM-DDTHH:MM."))
}

/// Unix ms of the wall-clock time `local` (`YYYY-MM-DDTHH:MM`) in `time_zone`. A time that a DST
/// change skips moves forward to the first valid minute; an ambiguous one takes the earlier.
pub fn local_to_utc_ms(local: &str, time_zone: &str) -> Result<i64, String> {
    let tz = zone(time_zone).ok_or_else(|| {
        format!("“{time_zone}” is not a time zone; use a name such as Europe/Istanbul.")
    })?;
    let naive = parse_local(local)?;
    (0..=180)
        .find_map(|skip| {
            tz.from_local_datetime(&(naive + Duration::minutes(skip)))
                .earliest()
        })
        .map(|t| t.timestamp_millis())
        .ok_or_else(|| format!("“{local}” does not exist in {time_zone}."))
}

/// Unix ms as `YYYY-MM-DD HH:MM` in `time_zone` (UTC if unknown), for messages and lists.
pub fn format_in_zone(at_ms: i64, time_zone: &str) -> String {
    let tz = zone(time_zone).unwrap_or(Tz::UTC);
    match tz.timestamp_millis_opt(at_ms).single() {
        Some(t) => t.format("%Y-%m-%d %H:%M").to_string(),
        None => at_ms.to_string(),
    }
}

fn in_window(minute: u32, start: u32, end: u32) -> bool {
    if start < end {
        (start..end).contains(&minute)
    } else {
        minute >= start || minute < end
    }
}

/// The first instant at or after `now_ms` when a contact in `contact_zone` (or the window's zone)
/// is inside `window`. `now_ms` itself when already inside; unknown windows never block.
pub fn next_open_ms(now_ms: i64, window: &SendingWindow, contact_zone: Option<&str>) -> i64 {
    let (Some(start), Some(end)) = (minute_of_day(&window.start), minute_of_day(&window.end))
    else {
        return now_ms;
    };
    if start == end {
        return now_ms;
    }
    let tz = contact_zone
        .and_then(zone)
        .or_else(|| zone(&window.time_zone))
        .unwrap_or(Tz::UTC);
    let Some(now) = DateTime::from_timestamp_millis(now_ms) else {
        return now_ms;
    };
    // Walk forward minute by minute from the next whole minute; at most one day plus a DST hour.
    let local = now.with_timezone(&tz);
    if in_window(local.hour() * 60 + local.minute(), start, end) {
        return now_ms;
    }
    let mut t = now
        .with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(now)
        + Duration::minutes(1);
    for _ in 0..(25 * 60) {
        let l = t.with_timezone(&tz);
        if in_window(l.hour() * 60 + l.minute(), start, end) {
            return t.timestamp_millis();
        }
        t += Duration::minutes(1);
    }
    now_ms
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(start: &str, end: &str) -> SendingWindow {
        SendingWindow {
            start: start.into(),
            end: end.into(),
            time_zone: "Europe/Istanbul".into(),
        }
    }

    #[test]
    fn schedules_convert_with_the_zone_offset() {
        // Istanbul is UTC+3 all year.
        let ms = local_to_utc_ms("2026-11-24T09:00", "Europe/Istanbul").unwrap();
        assert_eq!(ms, local_to_utc_ms("2026-11-24T06:00", "UTC").unwrap());
        assert!(local_to_utc_ms("tomorrow", "UTC").is_err());
        assert!(local_to_utc_ms("2026-11-24T09:00", "Nowhere/City").is_err());
    }

    #[test]
    fn a_time_skipped_by_dst_moves_to_the_first_valid_minute() {
        // New York skipped 02:00–03:00 on 2026-03-08.
        let ms = local_to_utc_ms("2026-03-08T02:30", "America/New_York").unwrap();
        assert_eq!(ms, local_to_utc_ms("2026-03-08T07:00", "UTC").unwrap());
    }

    #[test]
    fn outside_the_window_waits_for_the_next_opening_in_the_contacts_zone() {
        let w = window("09:00", "20:00");
        // 21:30 in Istanbul → 09:00 next day in Istanbul.
        let now = local_to_utc_ms("2026-11-24T21:30", "Europe/Istanbul").unwrap();
        let next = local_to_utc_ms("2026-11-25T09:00", "Europe/Istanbul").unwrap();
        assert_eq!(next_open_ms(now, &w, None), next);
        // Inside the window: now.
        let noon = local_to_utc_ms("2026-11-24T12:00", "Europe/Istanbul").unwrap();
        assert_eq!(next_open_ms(noon, &w, None), noon);
        // The same instant is 13:30 in New York: inside.
        assert_eq!(next_open_ms(now, &w, Some("America/New_York")), now);
    }

    #[test]
    fn windows_may_span_midnight() {
        let w = window("22:00", "06:00");
        let late = local_to_utc_ms("2026-11-24T23:00", "Europe/Istanbul").unwrap();
        assert_eq!(next_open_ms(late, &w, None), late);
        let noon = local_to_utc_ms("2026-11-24T12:00", "Europe/Istanbul").unwrap();
        let opens = local_to_utc_ms("2026-11-24T22:00", "Europe/Istanbul").unwrap();
        assert_eq!(next_open_ms(noon, &w, None), opens);
    }
}
