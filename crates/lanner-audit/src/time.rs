//! Event time: reading `stageTimestamp` and rendering the `evt.*time*` fields.
//!
//! Falco's plugin parses `stageTimestamp` with Go's `time.RFC3339Nano` layout; the parser
//! here accepts the same shape, `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, with any number
//! of fraction digits (beyond nine they are truncated, as Go does). Calendar checks and time
//! zone arithmetic are jiff's. Rendering follows libs' `ts_to_string` / `ts_to_iso_8601`.

use std::fmt::Write as _;
use std::sync::OnceLock;

use jiff::{Timestamp, civil, tz::Offset, tz::TimeZone};

use crate::util::push_padded;

const NANOS_PER_SECOND: i128 = 1_000_000_000;

/// Parse an RFC 3339 timestamp into nanoseconds since the Unix epoch.
pub(crate) fn parse_rfc3339(s: &str) -> Option<i128> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i32> {
        let digits = b.get(from..from + len)?;
        digits.iter().try_fold(0i32, |acc, &d| {
            d.is_ascii_digit().then(|| acc * 10 + i32::from(d - b'0'))
        })
    };
    let sep = |at: usize, c: u8| b.get(at) == Some(&c);
    if !(sep(4, b'-') && sep(7, b'-') && sep(10, b'T') && sep(13, b':') && sep(16, b':')) {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    let mut at = 19;
    let mut nanos: i128 = 0;
    if sep(at, b'.') {
        let digits = b
            .get(at + 1..)?
            .iter()
            .take_while(|d| d.is_ascii_digit())
            .count();
        if digits == 0 {
            return None;
        }
        for i in 0..9 {
            let d = if i < digits { num(at + 1 + i, 1)? } else { 0 };
            nanos = nanos * 10 + i128::from(d);
        }
        at += 1 + digits;
    }
    let offset = match b.get(at..)? {
        b"Z" => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (h, m) = (num(at + 1, 2)?, num(at + 4, 2)?);
            if h > 23 || m > 59 {
                return None;
            }
            let secs = h * 3600 + m * 60;
            if *sign == b'-' { -secs } else { secs }
        }
        _ => return None,
    };
    let date = civil::Date::new(
        i16::try_from(year).ok()?,
        i8::try_from(month).ok()?,
        i8::try_from(day).ok()?,
    )
    .ok()?;
    let time = civil::Time::new(
        i8::try_from(hour).ok()?,
        i8::try_from(minute).ok()?,
        i8::try_from(second).ok()?,
        0,
    )
    .ok()?;
    let ts = Offset::from_seconds(offset)
        .ok()?
        .to_timestamp(date.to_datetime(time))
        .ok()?;
    Some(i128::from(ts.as_second()) * NANOS_PER_SECOND + nanos)
}

/// The machine's time zone, looked up once.
fn local_zone() -> &'static TimeZone {
    static ZONE: OnceLock<TimeZone> = OnceLock::new();
    ZONE.get_or_init(TimeZone::system)
}

/// Split nanoseconds since the epoch into a timestamp (whole seconds) and the nanoseconds.
fn split(ns: i64) -> (Timestamp, u32) {
    let secs = ns.div_euclid(1_000_000_000);
    let sub = u32::try_from(ns.rem_euclid(1_000_000_000)).unwrap_or(0);
    (
        Timestamp::from_second(secs).unwrap_or(Timestamp::UNIX_EPOCH),
        sub,
    )
}

/// libs' `ts_to_string`: `[YYYY-MM-DD ]HH:MM:SS[.nnnnnnnnn]` in the machine's time zone.
pub(crate) fn local(ns: i64, date: bool, nanos: bool) -> String {
    render(ns, local_zone(), date, nanos)
}

/// [`local`] in a given zone.
pub(crate) fn render(ns: i64, zone: &TimeZone, date: bool, nanos: bool) -> String {
    let (ts, sub) = split(ns);
    let mut out = String::with_capacity(29);
    push_datetime(
        &mut out,
        zone.to_datetime(ts),
        sub,
        date.then_some(' '),
        nanos,
    );
    out
}

/// libs' `ts_to_iso_8601`: `YYYY-MM-DDTHH:MM:SS.nnnnnnnnn+0000`, always UTC.
pub(crate) fn iso8601(ns: i64) -> String {
    utc_with_zone(ns, "+0000")
}

/// The time of Falco's JSON alerts, RFC 3339 in UTC with nine fraction digits:
/// `2016-08-04T16:17:57.881781397Z`.
#[must_use]
pub fn utc_time(ns: i64) -> String {
    utc_with_zone(ns, "Z")
}

/// `YYYY-MM-DDTHH:MM:SS.nnnnnnnnn` in UTC, then `zone` as written.
fn utc_with_zone(ns: i64, zone: &str) -> String {
    let (ts, sub) = split(ns);
    let mut out = String::with_capacity(29 + zone.len());
    push_datetime(
        &mut out,
        TimeZone::UTC.to_datetime(ts),
        sub,
        Some('T'),
        true,
    );
    out.push_str(zone);
    out
}

/// Appends `[YYYY-MM-DD<sep>]HH:MM:SS[.nnnnnnnnn]` (`sub`: the nanoseconds), the shape of
/// every time Lanner writes. Digits are written without `write!`, which cost more than
/// the digits for times written on every alert; years outside 1000-9999 (no `i64` of
/// nanoseconds has one) take the formatting machinery.
fn push_datetime(out: &mut String, dt: civil::DateTime, sub: u32, date: Option<char>, nanos: bool) {
    let field = |n: i8| u32::from(n.unsigned_abs());
    if let Some(sep) = date {
        match u32::try_from(dt.year()) {
            Ok(year @ 1000..=9999) => {
                push_padded(out, year, 4);
                out.push('-');
                push_padded(out, field(dt.month()), 2);
                out.push('-');
                push_padded(out, field(dt.day()), 2);
                out.push(sep);
            }
            _ => {
                let _ = write!(
                    out,
                    "{:04}-{:02}-{:02}{sep}",
                    dt.year(),
                    dt.month(),
                    dt.day()
                );
            }
        }
    }
    push_padded(out, field(dt.hour()), 2);
    out.push(':');
    push_padded(out, field(dt.minute()), 2);
    out.push(':');
    push_padded(out, field(dt.second()), 2);
    if nanos {
        out.push('.');
        push_padded(out, sub, 9);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_and_iso_times_have_nine_fraction_digits() {
        assert_eq!(
            utc_time(1_470_327_477_881_781_397),
            "2016-08-04T16:17:57.881781397Z"
        );
        assert_eq!(utc_time(0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(iso8601(-1), "1969-12-31T23:59:59.999999999+0000");
        for ns in [
            i64::MIN,
            i64::MIN + 999_999_999,
            -1,
            0,
            1,
            999_999_999,
            1_000_000_000,
            1_714_564_800_123_456_000,
            951_782_400_000_000_007, // 2000-02-29
            i64::MAX,
        ] {
            let (ts, sub) = split(ns);
            let strftime = ts.strftime("%Y-%m-%dT%H:%M:%S");
            assert_eq!(utc_time(ns), format!("{strftime}.{sub:09}Z"), "{ns}");
            assert_eq!(iso8601(ns), format!("{strftime}.{sub:09}+0000"), "{ns}");
        }
    }

    /// `render` as it was written with `write!` (the fast path must give the same text).
    fn render_write(ns: i64, zone: &TimeZone, date: bool, nanos: bool) -> String {
        let (ts, sub) = split(ns);
        let dt = zone.to_datetime(ts);
        let mut out = String::new();
        if date {
            let _ = write!(out, "{:04}-{:02}-{:02} ", dt.year(), dt.month(), dt.day());
        }
        let (h, m, s) = (dt.hour(), dt.minute(), dt.second());
        let _ = write!(out, "{h:02}:{m:02}:{s:02}");
        if nanos {
            let _ = write!(out, ".{sub:09}");
        }
        out
    }

    #[test]
    fn render_writes_what_write_wrote() {
        let zones = [
            TimeZone::UTC,
            TimeZone::fixed(Offset::from_seconds(-9 * 3600 - 1800).unwrap()),
        ];
        let times = [
            i64::MIN,
            -1,
            0,
            1,
            999_999_999,
            951_782_400_000_000_007,
            1_714_564_800_123_456_000,
            i64::MAX,
        ];
        for zone in &zones {
            for ns in times {
                for (date, nanos) in [(false, false), (false, true), (true, false), (true, true)] {
                    assert_eq!(
                        render(ns, zone, date, nanos),
                        render_write(ns, zone, date, nanos),
                        "{ns} {date} {nanos}"
                    );
                }
            }
        }
    }

    #[test]
    fn rfc3339_variants_parse_to_nanoseconds() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2018-10-25T14:09:12.123456Z"),
            Some(1_540_476_552_123_456_000)
        );
        assert_eq!(
            parse_rfc3339("2018-10-25T16:09:12.5+02:00"),
            Some(1_540_476_552_500_000_000)
        );
        assert_eq!(
            parse_rfc3339("1970-01-01T00:00:00.1234567891Z"),
            Some(123_456_789)
        );
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59Z"), Some(-1_000_000_000));
    }

    #[test]
    fn malformed_timestamps_are_refused() {
        for bad in [
            "",
            "x",
            "2018-10-25 14:09:12Z",
            "2018-10-25T14:09:12",
            "2018-10-25T14:09:12z",
            "2018-02-30T14:09:12Z",
            "2018-10-25T24:00:00Z",
            "2018-10-25T14:09:12.Z",
            "2018-10-25T14:09:12+0200",
            "2018-10-25T14:09:12+24:00",
            "2018-10-25T14:09:12Zx",
            "2018-1-25T14:09:12Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn times_render_like_libs() {
        let ns = 1_540_476_552_123_456_789;
        assert_eq!(iso8601(ns), "2018-10-25T14:09:12.123456789+0000");
        let utc = TimeZone::UTC;
        assert_eq!(render(ns, &utc, false, true), "14:09:12.123456789");
        assert_eq!(render(ns, &utc, false, false), "14:09:12");
        assert_eq!(
            render(ns, &utc, true, true),
            "2018-10-25 14:09:12.123456789"
        );
        assert_eq!(render(ns, &utc, true, false), "2018-10-25 14:09:12");
        let plus2 = TimeZone::fixed(jiff::tz::offset(2));
        assert_eq!(render(ns, &plus2, true, false), "2018-10-25 16:09:12");
    }
}
