//! Go-style durations (`30s`, `1m30s`, `500ms`), as kamal-proxy's flags take them, and their
//! nanosecond encoding in the state file (Go's `time.Duration` marshals as an integer).

use std::time::Duration;

/// Parses a Go duration string: a sequence of decimal numbers with units `ns`, `us`/`µs`, `ms`,
/// `s`, `m`, `h` (`1h2m3.5s`). A bare `0` is accepted, as Go does.
pub fn parse(input: &str) -> Result<Duration, String> {
    let s = input.trim();
    let invalid = || format!("time: invalid duration \"{input}\"");
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.is_empty() || s.starts_with('-') {
        return Err(invalid());
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    // Go's time.ParseDuration: whole numbers in integer arithmetic, the fraction scaled, and
    // anything past the largest int64 of nanoseconds (about 2,562,047h) invalid.
    const MAX: u64 = i64::MAX as u64;
    let mut total: u64 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let int_len = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let (int_digits, after) = rest.split_at(int_len);
        let (frac_digits, after) = match after.strip_prefix('.') {
            Some(f) => f.split_at(f.find(|c: char| !c.is_ascii_digit()).unwrap_or(f.len())),
            None => ("", after),
        };
        if int_digits.is_empty() && frac_digits.is_empty() {
            return Err(invalid());
        }
        let unit_len = after.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(after.len());
        let nanos_per_unit: u64 = match &after[..unit_len] {
            "" => return Err(format!("time: missing unit in duration \"{input}\"")),
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            unit => return Err(format!("time: unknown unit \"{unit}\" in duration \"{input}\"")),
        };
        let whole: u64 = if int_digits.is_empty() { 0 } else { int_digits.parse().map_err(|_| invalid())? };
        let mut value = whole.checked_mul(nanos_per_unit).filter(|v| *v <= MAX).ok_or_else(invalid)?;
        if !frac_digits.is_empty() {
            // As Go: at most the digits that fit, as a fraction of the unit.
            let (mut f, mut scale) = (0u64, 1f64);
            for d in frac_digits.bytes() {
                if f > (MAX - 9) / 10 {
                    break;
                }
                f = f * 10 + u64::from(d - b'0');
                scale *= 10.0;
            }
            value = value.checked_add((f as f64 * (nanos_per_unit as f64 / scale)) as u64).ok_or_else(invalid)?;
            if value > MAX {
                return Err(invalid());
            }
        }
        total = total.checked_add(value).filter(|t| *t <= MAX).ok_or_else(invalid)?;
        rest = &after[unit_len..];
    }
    Ok(Duration::from_nanos(total))
}

/// Formats a duration the way Go prints one (`30s`, `1m0s`, `500ms`).
pub fn format(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".into();
    }
    if nanos < 1_000 {
        return format!("{nanos}ns");
    }
    if nanos < 1_000_000 {
        return format!("{}µs", trim_float(nanos as f64 / 1e3));
    }
    if nanos < 1_000_000_000 {
        return format!("{}ms", trim_float(nanos as f64 / 1e6));
    }
    let total_secs = d.as_secs();
    let hours = total_secs / 3600;
    let minutes = (total_secs % 3600) / 60;
    let secs = (total_secs % 60) as f64 + f64::from(d.subsec_nanos()) / 1e9;
    let mut out = String::new();
    if hours > 0 {
        out.push_str(&format!("{hours}h"));
    }
    if hours > 0 || minutes > 0 {
        out.push_str(&format!("{minutes}m"));
    }
    out.push_str(&format!("{}s", trim_float(secs)));
    out
}

fn trim_float(v: f64) -> String {
    let s = format!("{v:.9}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// Serde helpers: durations as Go's integer nanoseconds.
pub mod nanos {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_nanos() as u64)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let n = i64::deserialize(d)?;
        Ok(Duration::from_nanos(n.max(0) as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        assert_eq!(parse("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse("1.5h").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse("0").unwrap(), Duration::ZERO);
        assert_eq!(parse("10").unwrap_err(), "time: missing unit in duration \"10\"");
        assert_eq!(parse("3x").unwrap_err(), "time: unknown unit \"x\" in duration \"3x\"");
        assert!(parse("").is_err());
        assert!(parse("-1s").is_err());
        assert!(parse(".s").is_err());
        assert_eq!(parse("1.s").unwrap(), Duration::from_secs(1));
        assert_eq!(parse(".5s").unwrap(), Duration::from_millis(500));
        assert_eq!(parse("1h2m3.5s").unwrap(), Duration::from_millis(3_723_500));
        // Go's limit: the largest int64 of nanoseconds.
        assert_eq!(parse("2562047h").unwrap(), Duration::from_secs(2_562_047 * 3600));
        assert_eq!(parse("9223372036854775807ns").unwrap(), Duration::from_nanos(i64::MAX as u64));
        assert_eq!(parse("3000000h").unwrap_err(), "time: invalid duration \"3000000h\"");
        assert_eq!(parse("9223372036854775808ns").unwrap_err(), "time: invalid duration \"9223372036854775808ns\"");
        assert_eq!(parse("2562047h2562047h").unwrap_err(), "time: invalid duration \"2562047h2562047h\"");
        assert_eq!(parse("99999999999999999999s").unwrap_err(), "time: invalid duration \"99999999999999999999s\"");
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(format(Duration::from_secs(30)), "30s");
        assert_eq!(format(Duration::from_secs(60)), "1m0s");
        assert_eq!(format(Duration::from_millis(1500)), "1.5s");
        assert_eq!(format(Duration::from_millis(250)), "250ms");
        assert_eq!(format(Duration::from_secs(3661)), "1h1m1s");
    }
}
