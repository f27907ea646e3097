//! Time and Date: `Time.now`, `Date.today`, `strftime`, the parts (`year`, `month`, ...),
//! `to_i`, arithmetic in seconds (Time) or days (Date), and Ruby's `to_s` formats
//! (`2026-12-05 12:00:00 +0000`, `2026-12-05`).

use super::arg;
use crate::error::R;
use crate::interp::{Args, Interp};
use crate::value::*;
use chrono::{DateTime, Datelike, FixedOffset, Local, NaiveDate, TimeZone, Timelike, Utc};
use std::rc::Rc;

pub fn now() -> Value {
    let t = Local::now();
    Value::lib(Lib::Time {
        secs: t.timestamp(),
        nanos: t.timestamp_subsec_nanos(),
        offset: t.offset().local_minus_utc(),
        utc: false,
    })
}

pub fn today() -> Value {
    let d = Local::now().date_naive();
    Value::lib(Lib::Date { days: days_of(d) })
}

fn days_of(d: NaiveDate) -> i64 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days()
}

fn date_of(days: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Duration::days(days)
}

fn datetime(secs: i64, nanos: u32, offset: i32) -> DateTime<FixedOffset> {
    let tz = FixedOffset::east_opt(offset).unwrap_or(FixedOffset::east_opt(0).unwrap());
    tz.timestamp_opt(secs, nanos).single().unwrap_or_else(|| tz.timestamp_opt(0, 0).unwrap())
}

/// Ruby's strftime directives for chrono (`%L` milliseconds, `%N` nanoseconds).
fn ruby_format(fmt: &str) -> String {
    fmt.replace("%L", "%3f").replace("%N", "%9f").replace("%-l", "%-I").replace("%l", "%_I")
}

pub fn to_s(l: &Lib) -> String {
    match l {
        Lib::Time { secs, nanos, offset, utc } => {
            let t = datetime(*secs, *nanos, *offset);
            if *utc {
                t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
            } else {
                t.format("%Y-%m-%d %H:%M:%S %z").to_string()
            }
        }
        Lib::Date { days } => date_of(*days).format("%Y-%m-%d").to_string(),
        _ => String::new(),
    }
}

pub fn call(it: &mut Interp, recv: &Value, l: &Rc<Lib>, name: &str, args: &Args) -> R<Option<Value>> {
    match &**l {
        Lib::Time { secs, nanos, offset, utc } => time(it, recv, *secs, *nanos, *offset, *utc, name, args),
        Lib::Date { days } => date(it, recv, *days, name, args),
        _ => Ok(None),
    }
}

#[allow(clippy::too_many_arguments)]
fn time(
    it: &mut Interp,
    recv: &Value,
    secs: i64,
    nanos: u32,
    offset: i32,
    utc: bool,
    name: &str,
    args: &Args,
) -> R<Option<Value>> {
    let t = datetime(secs, nanos, offset);
    let v = match name {
        "strftime" => {
            let fmt = it.expect_str(&arg(args, 0))?;
            let f = ruby_format(&fmt);
            let mut out = String::new();
            use std::fmt::Write;
            if write!(out, "{}", t.format(&f)).is_err() {
                return it.unsupported(format!("Time#strftime({})", inspect_str(&fmt)));
            }
            Value::str(out)
        }
        "to_i" | "tv_sec" => Value::Int(secs),
        "to_f" => Value::Float(secs as f64 + nanos as f64 / 1e9),
        "year" => Value::Int(t.year() as i64),
        "month" | "mon" => Value::Int(t.month() as i64),
        "day" | "mday" => Value::Int(t.day() as i64),
        "hour" => Value::Int(t.hour() as i64),
        "min" => Value::Int(t.minute() as i64),
        "sec" => Value::Int(t.second() as i64),
        "usec" => Value::Int((nanos / 1000) as i64),
        "nsec" => Value::Int(nanos as i64),
        "wday" => Value::Int(t.weekday().num_days_from_sunday() as i64),
        "yday" => Value::Int(t.ordinal() as i64),
        "utc_offset" | "gmt_offset" => Value::Int(offset as i64),
        "utc?" => Value::Bool(utc),
        "utc" | "getutc" | "gmtime" => Value::lib(Lib::Time { secs, nanos, offset: 0, utc: true }),
        "localtime" | "getlocal" => {
            let local = Local.timestamp_opt(secs, nanos).single().map(|l| l.offset().local_minus_utc()).unwrap_or(0);
            Value::lib(Lib::Time { secs, nanos, offset: local, utc: false })
        }
        "to_s" | "inspect" => Value::str(to_s(&Lib::Time { secs, nanos, offset, utc })),
        "to_date" => Value::lib(Lib::Date { days: days_of(t.date_naive()) }),
        // what `require "time"` adds
        "iso8601" | "xmlschema" if it.loaded.contains("time") => {
            let digits = match args.pos.first() {
                Some(v) => it.expect_int(v)?.max(0) as usize,
                None => 0,
            };
            let mut s = t.format("%Y-%m-%dT%H:%M:%S").to_string();
            if digits > 0 {
                let frac = format!("{nanos:09}");
                s.push('.');
                s.push_str(&frac[..digits.min(9)]);
                for _ in 9..digits {
                    s.push('0');
                }
            }
            if utc {
                s.push('Z');
            } else {
                s.push_str(&t.format("%:z").to_string());
            }
            Value::str(s)
        }
        "httpdate" if it.loaded.contains("time") => {
            Value::str(datetime(secs, nanos, 0).format("%a, %d %b %Y %H:%M:%S GMT").to_string())
        }
        "rfc2822" | "rfc822" if it.loaded.contains("time") => {
            let zone = if utc { "-0000".to_string() } else { t.format("%z").to_string() };
            Value::str(format!("{} {zone}", t.format("%a, %d %b %Y %H:%M:%S")))
        }
        "+" | "-" => match arg(args, 0) {
            Value::Int(n) => {
                let s = if name == "+" { secs + n } else { secs - n };
                Value::lib(Lib::Time { secs: s, nanos, offset, utc })
            }
            Value::Float(f) => {
                let total = secs as f64 + nanos as f64 / 1e9 + if name == "+" { f } else { -f };
                Value::lib(Lib::Time { secs: total.floor() as i64, nanos: ((total.fract()) * 1e9) as u32, offset, utc })
            }
            Value::Lib(o) if name == "-" => match &*o {
                Lib::Time { secs: s2, nanos: n2, .. } => {
                    Value::Float((secs - s2) as f64 + (nanos as f64 - *n2 as f64) / 1e9)
                }
                _ => return it.raise("TypeError", "can't convert into an exact number"),
            },
            other => {
                let n = it.implicit_name(&other);
                return it.raise("TypeError", &format!("can't convert {n} into an exact number"));
            }
        },
        "<=>" | "<" | ">" | "<=" | ">=" | "==" => {
            let other = match arg(args, 0) {
                Value::Lib(o) => match &*o {
                    Lib::Time { secs: s2, nanos: n2, .. } => Some((*s2, *n2)),
                    _ => None,
                },
                _ => None,
            };
            let Some(o) = other else {
                if name == "==" {
                    return Ok(Some(Value::Bool(false)));
                }
                if name == "<=>" {
                    return Ok(Some(Value::Nil));
                }
                return it.raise("ArgumentError", "comparison of Time with other failed");
            };
            compared(name, (secs, nanos).cmp(&o))
        }
        _ => {
            let _ = recv;
            return Ok(None);
        }
    };
    Ok(Some(v))
}

fn date(it: &mut Interp, recv: &Value, days: i64, name: &str, args: &Args) -> R<Option<Value>> {
    let d = date_of(days);
    let v = match name {
        "strftime" => {
            let fmt = match args.pos.first() {
                Some(f) => it.expect_str(f)?,
                None => "%F".into(),
            };
            let mut out = String::new();
            use std::fmt::Write;
            if write!(out, "{}", d.format(&ruby_format(&fmt))).is_err() {
                return it.unsupported(format!("Date#strftime({})", inspect_str(&fmt)));
            }
            Value::str(out)
        }
        "to_s" | "iso8601" => Value::str(d.format("%Y-%m-%d").to_string()),
        "inspect" => Value::str(format!("#<Date: {}>", d.format("%Y-%m-%d"))),
        "year" => Value::Int(d.year() as i64),
        "month" | "mon" => Value::Int(d.month() as i64),
        "day" | "mday" => Value::Int(d.day() as i64),
        "wday" => Value::Int(d.weekday().num_days_from_sunday() as i64),
        "yday" => Value::Int(d.ordinal() as i64),
        "+" | "-" => match arg(args, 0) {
            Value::Int(n) => Value::lib(Lib::Date { days: if name == "+" { days + n } else { days - n } }),
            Value::Lib(o) if name == "-" => match &*o {
                Lib::Date { days: d2 } => {
                    return it.unsupported(format!("Date - Date ({} days, a Rational)", days - d2))
                }
                _ => return it.raise("TypeError", "expected numeric"),
            },
            _ => return it.raise("TypeError", "expected numeric"),
        },
        ">>" | "<<" | "next_month" | "prev_month" | "next_year" | "prev_year" => {
            let n = match (name, args.pos.first()) {
                (">>" | "<<", Some(v)) => it.expect_int(v)?,
                (_, Some(v)) => it.expect_int(v)?,
                _ => 1,
            };
            let months = match name {
                ">>" | "next_month" => n,
                "<<" | "prev_month" => -n,
                "next_year" => 12 * n,
                _ => -12 * n,
            };
            let shifted = if months >= 0 {
                d.checked_add_months(chrono::Months::new(months as u32))
            } else {
                d.checked_sub_months(chrono::Months::new((-months) as u32))
            };
            match shifted {
                Some(nd) => Value::lib(Lib::Date { days: days_of(nd) }),
                None => return it.raise("ArgumentError", "invalid date"),
            }
        }
        "next_day" | "succ" | "next" => Value::lib(Lib::Date { days: days + 1 }),
        "prev_day" => Value::lib(Lib::Date { days: days - 1 }),
        "saturday?" | "sunday?" | "monday?" | "tuesday?" | "wednesday?" | "thursday?" | "friday?" => {
            let wd = d.weekday().num_days_from_sunday();
            let want = ["sunday?", "monday?", "tuesday?", "wednesday?", "thursday?", "friday?", "saturday?"]
                .iter()
                .position(|x| *x == name)
                .unwrap() as u32;
            Value::Bool(wd == want)
        }
        "to_date" => recv.clone(),
        "<=>" | "<" | ">" | "<=" | ">=" | "==" => {
            let other = match arg(args, 0) {
                Value::Lib(o) => match &*o {
                    Lib::Date { days } => Some(*days),
                    _ => None,
                },
                _ => None,
            };
            let Some(o) = other else {
                return Ok(Some(if name == "==" { Value::Bool(false) } else { Value::Nil }));
            };
            compared(name, days.cmp(&o))
        }
        _ => return Ok(None),
    };
    Ok(Some(v))
}

/// The answer of a comparison operator given the ordering.
fn compared(op: &str, ord: std::cmp::Ordering) -> Value {
    match op {
        "<=>" => Value::Int(ord as i64),
        "<" => Value::Bool(ord.is_lt()),
        ">" => Value::Bool(ord.is_gt()),
        "<=" => Value::Bool(ord.is_le()),
        ">=" => Value::Bool(ord.is_ge()),
        _ => Value::Bool(ord.is_eq()),
    }
}

/// `Time.at(secs)`, `Time.now`, `Time.utc(...)`.
pub fn time_class(it: &mut Interp, name: &str, args: &Args) -> R<Option<Value>> {
    let v = match name {
        "now" => now(),
        "at" => {
            let s = match arg(args, 0) {
                Value::Int(i) => i,
                Value::Float(f) => f.floor() as i64,
                other => {
                    let n = it.implicit_name(&other);
                    return it.raise("TypeError", &format!("can't convert {n} into an exact number"));
                }
            };
            let offset = Local.timestamp_opt(s, 0).single().map(|l| l.offset().local_minus_utc()).unwrap_or(0);
            Value::lib(Lib::Time { secs: s, nanos: 0, offset, utc: false })
        }
        "utc" | "gm" | "local" | "mktime" | "new" => {
            if args.pos.is_empty() && name == "new" {
                return Ok(Some(now()));
            }
            let parts: Vec<i64> = args.pos.iter().map(|v| it.expect_int(v)).collect::<R<_>>()?;
            let get = |i: usize, d: i64| parts.get(i).copied().unwrap_or(d);
            let naive = NaiveDate::from_ymd_opt(get(0, 1970) as i32, get(1, 1) as u32, get(2, 1) as u32)
                .and_then(|d| d.and_hms_opt(get(3, 0) as u32, get(4, 0) as u32, get(5, 0) as u32));
            let Some(naive) = naive else { return it.raise("ArgumentError", "argument out of range") };
            if name == "utc" || name == "gm" {
                let t = Utc.from_utc_datetime(&naive);
                Value::lib(Lib::Time { secs: t.timestamp(), nanos: 0, offset: 0, utc: true })
            } else {
                let t = Local.from_local_datetime(&naive).single();
                let Some(t) = t else { return it.raise("ArgumentError", "argument out of range") };
                Value::lib(Lib::Time {
                    secs: t.timestamp(),
                    nanos: 0,
                    offset: t.offset().local_minus_utc(),
                    utc: false,
                })
            }
        }
        "parse" | "iso8601" | "xmlschema" | "strptime" | "rfc2822" | "httpdate" if it.loaded.contains("time") => {
            return it.unsupported(format!("Time.{name}"))
        }
        _ => return Ok(None),
    };
    Ok(Some(v))
}

/// `Date.today`, `Date.new(y, m, d)`.
pub fn date_class(it: &mut Interp, name: &str, args: &Args) -> R<Option<Value>> {
    let v = match name {
        "today" => today(),
        "new" | "civil" => {
            let parts: Vec<i64> = args.pos.iter().map(|v| it.expect_int(v)).collect::<R<_>>()?;
            let get = |i: usize, d: i64| parts.get(i).copied().unwrap_or(d);
            match NaiveDate::from_ymd_opt(get(0, -4712) as i32, get(1, 1) as u32, get(2, 1) as u32) {
                Some(d) => Value::lib(Lib::Date { days: days_of(d) }),
                None => return it.raise("Date::Error", "invalid date"),
            }
        }
        "parse" | "iso8601" | "strptime" => {
            let s = it.expect_str(&arg(args, 0))?;
            match NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
                Ok(d) if name != "strptime" => Value::lib(Lib::Date { days: days_of(d) }),
                _ => return it.unsupported(format!("Date.{name}({})", inspect_str(&s))),
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(v))
}
