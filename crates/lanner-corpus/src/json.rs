//! A minimal JSON writer: objects and arrays written straight into a `String`, in the
//! order the caller gives (audit events keep the API server's field order).

use std::fmt::{Display, Write as _};

/// Push `s` as a JSON string literal.
pub(crate) fn push_str(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Members of an object being written.
pub(crate) struct Obj<'a> {
    out: &'a mut String,
    first: bool,
}

/// Elements of an array being written.
pub(crate) struct Arr<'a> {
    out: &'a mut String,
    first: bool,
}

/// Write one object: `{`, whatever `f` adds, `}`.
pub(crate) fn obj(out: &mut String, f: impl FnOnce(&mut Obj<'_>)) {
    out.push('{');
    let mut o = Obj { out, first: true };
    f(&mut o);
    o.out.push('}');
}

impl Obj<'_> {
    fn key(&mut self, k: &str) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        push_str(self.out, k);
        self.out.push(':');
    }

    /// A string member.
    pub(crate) fn s(&mut self, k: &str, v: &str) -> &mut Self {
        self.key(k);
        push_str(self.out, v);
        self
    }

    /// A string member, if there is a value.
    pub(crate) fn opt(&mut self, k: &str, v: Option<&str>) -> &mut Self {
        if let Some(v) = v {
            self.s(k, v);
        }
        self
    }

    /// A number member.
    pub(crate) fn n(&mut self, k: &str, v: impl Display) -> &mut Self {
        self.key(k);
        let _ = write!(self.out, "{v}");
        self
    }

    /// A boolean member.
    pub(crate) fn b(&mut self, k: &str, v: bool) -> &mut Self {
        self.key(k);
        self.out.push_str(if v { "true" } else { "false" });
        self
    }

    /// A member whose value is already JSON text.
    pub(crate) fn raw(&mut self, k: &str, json: &str) -> &mut Self {
        self.key(k);
        self.out.push_str(json);
        self
    }

    /// Members already written as JSON text (`"k":"v","k2":1`), if any.
    pub(crate) fn raw_members(&mut self, members: &str) -> &mut Self {
        if !members.is_empty() {
            if !self.first {
                self.out.push(',');
            }
            self.first = false;
            self.out.push_str(members);
        }
        self
    }

    /// A timestamp member from microseconds since the epoch.
    pub(crate) fn time_us(&mut self, k: &str, us: i64) -> &mut Self {
        self.key(k);
        self.out.push('"');
        push_time_us(self.out, us);
        self.out.push('"');
        self
    }

    /// A nested object.
    pub(crate) fn o(&mut self, k: &str, f: impl FnOnce(&mut Obj<'_>)) -> &mut Self {
        self.key(k);
        obj(self.out, f);
        self
    }

    /// A nested array.
    pub(crate) fn a(&mut self, k: &str, f: impl FnOnce(&mut Arr<'_>)) -> &mut Self {
        self.key(k);
        self.out.push('[');
        let mut a = Arr {
            out: self.out,
            first: true,
        };
        f(&mut a);
        a.out.push(']');
        self
    }

    /// An array of strings.
    pub(crate) fn strs(&mut self, k: &str, vs: &[&str]) -> &mut Self {
        self.a(k, |a| {
            for v in vs {
                a.s(v);
            }
        })
    }
}

impl Arr<'_> {
    fn sep(&mut self) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
    }

    /// A string element.
    pub(crate) fn s(&mut self, v: &str) -> &mut Self {
        self.sep();
        push_str(self.out, v);
        self
    }

    /// An object element.
    pub(crate) fn o(&mut self, f: impl FnOnce(&mut Obj<'_>)) -> &mut Self {
        self.sep();
        obj(self.out, f);
        self
    }
}

/// Microseconds since the Unix epoch as RFC 3339 UTC with six fractional digits, the way
/// the API server writes `requestReceivedTimestamp` and `stageTimestamp`.
pub(crate) fn push_time_us(out: &mut String, us: i64) {
    let secs = us.div_euclid(1_000_000);
    let frac = us.rem_euclid(1_000_000);
    push_civil(out, secs);
    let _ = write!(out, ".{frac:06}Z");
}

/// Seconds since the Unix epoch as RFC 3339 UTC without fraction (`creationTimestamp`).
pub(crate) fn time_s(secs: i64) -> String {
    let mut out = String::with_capacity(20);
    push_civil(&mut out, secs);
    out.push('Z');
    out
}

fn push_civil(out: &mut String, secs: i64) {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_strings() {
        let mut out = String::new();
        push_str(&mut out, "a\"b\\c\nd\u{1}e");
        assert_eq!(out, r#""a\"b\\c\nd\u0001e""#);
    }

    #[test]
    fn formats_times() {
        let mut out = String::new();
        push_time_us(&mut out, 1_714_564_800_123_456);
        assert_eq!(out, "2024-05-01T12:00:00.123456Z");
        assert_eq!(time_s(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(time_s(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn writes_nested_values() {
        let mut out = String::new();
        obj(&mut out, |o| {
            o.s("a", "x")
                .n("b", 2)
                .b("c", true)
                .o("d", |_| {})
                .strs("e", &["p", "q"]);
            o.a("f", |a| {
                a.o(|o| {
                    o.raw("g", "null");
                });
            });
        });
        assert_eq!(
            out,
            r#"{"a":"x","b":2,"c":true,"d":{},"e":["p","q"],"f":[{"g":null}]}"#
        );
    }
}
