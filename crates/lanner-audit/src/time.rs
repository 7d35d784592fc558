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
    if !(b.get(4) == Some(&b'-')
        && b.get(7) == Some(&b'-')
        && b.get(10) == Some(&b'T')
        && b.get(13) == Some(&b':'))
    {
        return None;
    }
    let at = |range: std::ops::Range<usize>| b.get(range).and_then(decimal);
    let (year, month, day) = (at(0..4)?, at(5..7)?, at(8..10)?);
    let (hour, minute) = (at(11..13)?, at(14..16)?);
    let tail = Tail::parse(b)?;
    let date = civil::Date::new(
        i16::try_from(year).ok()?,
        i8::try_from(month).ok()?,
        i8::try_from(day).ok()?,
    )
    .ok()?;
    let time = civil::Time::new(
        i8::try_from(hour).ok()?,
        i8::try_from(minute).ok()?,
        i8::try_from(tail.second).ok()?,
        0,
    )
    .ok()?;
    let ts = Offset::from_seconds(tail.offset)
        .ok()?
        .to_timestamp(date.to_datetime(time))
        .ok()?;
    Some(i128::from(ts.as_second()) * NANOS_PER_SECOND + tail.nanos)
}

/// The number `digits` write, if they are all ASCII digits (at most nine: no overflow).
fn decimal(digits: &[u8]) -> Option<i32> {
    digits.iter().try_fold(0i32, |acc, &d| {
        d.is_ascii_digit().then(|| acc * 10 + i32::from(d - b'0'))
    })
}

/// Per count of fraction digits (up to nine), what scales them to nanoseconds.
const SCALE: [i32; 10] = [
    1_000_000_000,
    100_000_000,
    10_000_000,
    1_000_000,
    100_000,
    10_000,
    1_000,
    100,
    10,
    1,
];

/// What follows the minute of a timestamp: `:SS[.fraction](Z|±HH:MM)`, from byte 16.
struct Tail {
    second: i32,
    nanos: i128,
    /// The zone's offset from UTC in seconds.
    offset: i32,
}

impl Tail {
    fn parse(b: &[u8]) -> Option<Tail> {
        let [b':', s1, s2, rest @ ..] = b.get(16..)? else {
            return None;
        };
        let second = decimal(&[*s1, *s2])?;
        let (nanos, zone) = match rest {
            [b'.', fraction @ ..] => {
                // Nine digits at most (Go truncates the rest), scaled to nanoseconds: read in
                // one pass, scaled by one multiplication (this runs for every event).
                let mut n: i32 = 0;
                let mut count = 0;
                for &d in fraction {
                    if !d.is_ascii_digit() {
                        break;
                    }
                    if count < 9 {
                        n = n * 10 + i32::from(d - b'0');
                    }
                    count += 1;
                }
                if count == 0 {
                    return None;
                }
                let scale = SCALE.get(count.min(9))?;
                (i128::from(n * scale), fraction.get(count..)?)
            }
            _ => (0, rest),
        };
        let offset = match zone {
            b"Z" => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let (h, m) = (decimal(&[*h1, *h2])?, decimal(&[*m1, *m2])?);
                if h > 23 || m > 59 {
                    return None;
                }
                let secs = h * 3600 + m * 60;
                if *sign == b'-' { -secs } else { secs }
            }
            _ => return None,
        };
        Some(Tail {
            second,
            nanos,
            offset,
        })
    }
}

/// [`parse_rfc3339`] with a memory of the last minute parsed. Audit events come in time
/// order, so a timestamp usually shares its first 16 bytes (`2024-05-01T12:00`) and its
/// zone with the one before: then only its seconds, fraction and zone are read, and the
/// calendar arithmetic is skipped (about 440 instructions per event).
#[derive(Debug, Default)]
pub(crate) struct TimeParser {
    /// The first 16 bytes of a timestamp, its zone offset, and the time of that minute's
    /// second 0 in nanoseconds. Kept only for minutes of 1970 to 2262, where every second
    /// of the minute is a valid timestamp.
    minute: Option<([u8; 16], i32, i128)>,
}

/// Nanoseconds since the epoch that fit an `i64` (events outside are refused).
const MAX_NS: i128 = i64::MAX as i128;

impl TimeParser {
    /// What [`parse_rfc3339`] gives for `s`.
    pub(crate) fn parse(&mut self, s: &str) -> Option<i128> {
        let b = s.as_bytes();
        if let Some((prefix, offset, base)) = &self.minute {
            if b.first_chunk::<16>() == Some(prefix) {
                let tail = Tail::parse(b)?;
                // Seconds 60 and above are refused by the full parse; let it say so.
                if tail.offset == *offset && (0..60).contains(&tail.second) {
                    return Some(base + i128::from(tail.second) * NANOS_PER_SECOND + tail.nanos);
                }
            }
        }
        let ns = parse_rfc3339(s)?;
        if let (Some(head), Some(tail)) = (b.first_chunk::<16>(), Tail::parse(b)) {
            let base = ns - i128::from(tail.second) * NANOS_PER_SECOND - tail.nanos;
            self.minute = (0..=MAX_NS - 60 * NANOS_PER_SECOND)
                .contains(&base)
                .then_some((*head, tail.offset, base));
        }
        Some(ns)
    }
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
    fn the_minute_memory_never_changes_a_result() {
        // Each string after the one before it: same minute with other seconds, fractions
        // and zones, invalid seconds and tails, the edges of the range kept in memory, and
        // a new minute.
        let sequence = [
            "2024-05-01T12:00:00Z",
            "2024-05-01T12:00:07.5Z",
            "2024-05-01T12:00:59.999999999999Z",
            "2024-05-01T12:00:60Z",
            "2024-05-01T12:00:07+01:00",
            "2024-05-01T12:00:07+01:00",
            "2024-05-01T12:00:07Z",
            "2024-05-01T12:00:7Z",
            "2024-05-01T12:00:07.Z",
            "2024-05-01T12:00:07",
            "2024-05-01T12:00",
            "2024-05-01T12:01:00Z",
            "2024-05-01T12:00:30Z",
            "1969-12-31T23:59:59Z",
            "1969-12-31T23:59:30Z",
            "1970-01-01T00:00:00Z",
            "1970-01-01T00:00:00-00:01",
            "2262-04-11T23:47:16Z",
            "2262-04-11T23:47:59Z",
            "2262-04-11T23:46:59Z",
            "9999-12-31T23:59:59Z",
            "9999-12-31T23:59:59-23:59",
            "2024-02-30T12:00:00Z",
            "2024-02-30T12:00:01Z",
        ];
        let mut parser = TimeParser::default();
        for s in sequence {
            assert_eq!(parser.parse(s), parse_rfc3339(s), "{s}");
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
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00.123Z"), Some(123_000_000));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00.000000001Z"), Some(1));
        assert_eq!(
            parse_rfc3339("1970-01-01T00:00:00.99999999999999999999999999Z"),
            Some(999_999_999)
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
