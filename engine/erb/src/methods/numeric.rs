//! Integer and Float methods: arithmetic with Ruby's floor division and modulo, comparisons,
//! conversions, `times`/`upto`/`step`, rounding.

use super::arg;
use crate::error::R;
use crate::interp::{Args, Interp};
use crate::value::*;

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

fn coerce_error<T>(it: &mut Interp, recv: &Value, other: &Value, op: &str) -> R<T> {
    let mine = it.class_name(recv);
    match op {
        "+" | "-" | "*" | "/" | "%" | "**" | "&" | "|" | "^" | "<<" | ">>" | "divmod" | "fdiv" | "div" | "modulo" => {
            let shown = match other {
                Value::Nil => "nil".to_string(),
                Value::Bool(b) => b.to_string(),
                o => it.class_name(o),
            };
            it.raise("TypeError", &format!("{shown} can't be coerced into {mine}"))
        }
        _ => {
            let _ = mine;
            super::enumerable::cmperr(it, recv, other)
        }
    }
}

pub fn call(it: &mut Interp, recv: &Value, name: &str, args: &Args) -> R<Option<Value>> {
    let other = arg(args, 0);
    let v = match (recv, name) {
        (_, "+" | "-" | "*" | "/" | "%" | "**" | "modulo" | "div" | "fdiv") => {
            it.check_arity(args, 1, 1)?;
            arith(it, recv, name, &other)?
        }
        (_, "==" | "===") => Value::Bool(match (num(recv), num(&other)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        }),
        (_, "eql?") => Value::Bool(recv.hash_key() == other.hash_key()),
        (_, "<" | ">" | "<=" | ">=") => match (num(recv), num(&other)) {
            (Some(a), Some(b)) => Value::Bool(match name {
                "<" => a < b,
                ">" => a > b,
                "<=" => a <= b,
                _ => a >= b,
            }),
            _ => return coerce_error(it, recv, &other, name),
        },
        (_, "<=>") => match (num(recv), num(&other)) {
            (Some(a), Some(b)) => Value::Int(if a < b {
                -1
            } else if a > b {
                1
            } else {
                0
            }),
            _ => Value::Nil,
        },
        (_, "between?") => {
            let (lo, hi) = (num(&arg(args, 0)), num(&arg(args, 1)));
            match (num(recv), lo, hi) {
                (Some(x), Some(lo), Some(hi)) => Value::Bool(x >= lo && x <= hi),
                _ => return coerce_error(it, recv, &other, "<"),
            }
        }
        (_, "clamp") => {
            let (lo, hi) = (num(&arg(args, 0)), num(&arg(args, 1)));
            match (num(recv), lo, hi) {
                (Some(x), Some(l), Some(h)) => {
                    if x < l {
                        arg(args, 0)
                    } else if x > h {
                        arg(args, 1)
                    } else {
                        recv.clone()
                    }
                }
                _ => return coerce_error(it, recv, &other, "<"),
            }
        }
        (Value::Int(i), "to_s" | "inspect") => match args.pos.first() {
            Some(Value::Int(base)) => Value::str(to_radix(*i, *base as u32)),
            _ => Value::str(i.to_string()),
        },
        (Value::Float(f), "to_s" | "inspect") => Value::str(float_to_s(*f)),
        (Value::Int(i), "to_i" | "to_int" | "floor" | "ceil" | "truncate") if args.is_empty() => Value::Int(*i),
        (Value::Int(i), "round") => match args.pos.first() {
            Some(Value::Int(d)) if *d < 0 => {
                let p = 10i64.pow((-*d) as u32);
                Value::Int(((*i as f64 / p as f64).round() as i64) * p)
            }
            _ => Value::Int(*i),
        },
        (Value::Int(i), "to_f") => Value::Float(*i as f64),
        (Value::Float(f), "to_f") => Value::Float(*f),
        (Value::Float(f), "to_i" | "to_int" | "truncate") => {
            if !f.is_finite() {
                return it.raise("FloatDomainError", &float_to_s(*f));
            }
            if f.abs() >= 9.2e18 {
                return it.unsupported("an Integer beyond 64 bits");
            }
            Value::Int(f.trunc() as i64)
        }
        (Value::Float(f), "floor" | "ceil" | "round") => {
            let digits = match args.pos.first() {
                Some(Value::Int(d)) => *d,
                _ => 0,
            };
            if digits > 0 {
                if name == "round" {
                    // on the shortest decimal form, half away from zero (12.345.round(2) == 12.35)
                    let s = crate::value::decimal_round(*f, digits as usize, false);
                    return Ok(Some(Value::Float(s.parse().unwrap_or(*f))));
                }
                let p = 10f64.powi(digits as i32);
                let x = f * p;
                let r = if name == "floor" { x.floor() } else { x.ceil() };
                Value::Float(r / p)
            } else {
                if !f.is_finite() {
                    return it.raise("FloatDomainError", &float_to_s(*f));
                }
                Value::Int(match name {
                    "floor" => f.floor(),
                    "ceil" => f.ceil(),
                    _ => round_half_away(*f),
                } as i64)
            }
        }
        (Value::Float(f), "nan?") => Value::Bool(f.is_nan()),
        (Value::Float(f), "infinite?") => {
            if f.is_infinite() {
                Value::Int(if *f > 0.0 { 1 } else { -1 })
            } else {
                Value::Nil
            }
        }
        (Value::Float(f), "finite?") => Value::Bool(f.is_finite()),
        (Value::Int(_), "finite?") => Value::Bool(true),
        (Value::Int(_), "infinite?") => Value::Nil,
        (_, "-@") => match recv {
            Value::Int(i) => Value::Int(-i),
            Value::Float(f) => Value::Float(-f),
            _ => unreachable!(),
        },
        (_, "+@") => recv.clone(),
        (_, "abs" | "magnitude") => match recv {
            Value::Int(i) => Value::Int(i.abs()),
            Value::Float(f) => Value::Float(f.abs()),
            _ => unreachable!(),
        },
        (_, "zero?") => Value::Bool(num(recv) == Some(0.0)),
        (_, "positive?") => Value::Bool(num(recv).unwrap() > 0.0),
        (_, "negative?") => Value::Bool(num(recv).unwrap() < 0.0),
        (_, "nonzero?") => {
            if num(recv) == Some(0.0) {
                Value::Nil
            } else {
                recv.clone()
            }
        }
        (Value::Int(i), "even?") => Value::Bool(i % 2 == 0),
        (Value::Int(i), "odd?") => Value::Bool(i % 2 != 0),
        (Value::Int(i), "succ" | "next") => Value::Int(i + 1),
        (Value::Int(i), "pred") => Value::Int(i - 1),
        (Value::Int(i), "chr") => match char::from_u32(*i as u32) {
            Some(c) if *i < 256 => Value::str(c.to_string()),
            _ => return it.raise("RangeError", &format!("{i} out of char range")),
        },
        (Value::Int(i), "ord") => Value::Int(*i),
        (Value::Int(i), "digits") => {
            let mut n = i.abs();
            let mut d = vec![];
            loop {
                d.push(Value::Int(n % 10));
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            Value::array(d)
        }
        (Value::Int(i), "&" | "|" | "^" | "<<" | ">>") => {
            let Value::Int(o) = other else { return coerce_error(it, recv, &other, name) };
            Value::Int(match name {
                "&" => i & o,
                "|" => i | o,
                "^" => i ^ o,
                "<<" => i.checked_shl(o as u32).unwrap_or(0),
                _ => i.checked_shr(o as u32).unwrap_or(0),
            })
        }
        (Value::Int(i), "times") => match &args.block {
            Some(b) => {
                for k in 0..*i {
                    it.yield1(b, Value::Int(k))?;
                }
                recv.clone()
            }
            None => Value::array((0..*i).map(Value::Int).collect()),
        },
        (Value::Int(i), "upto" | "downto") => {
            let Value::Int(to) = other else { return coerce_error(it, recv, &other, "<") };
            let items: Vec<i64> = if name == "upto" { (*i..=to).collect() } else { (to..=*i).rev().collect() };
            match &args.block {
                Some(b) => {
                    for k in items {
                        it.yield1(b, Value::Int(k))?;
                    }
                    recv.clone()
                }
                None => Value::array(items.into_iter().map(Value::Int).collect()),
            }
        }
        (Value::Int(i), "divmod") => {
            let Value::Int(o) = other else { return it.unsupported("Integer#divmod with a Float") };
            if o == 0 {
                return it.raise("ZeroDivisionError", "divided by 0");
            }
            Value::array(vec![
                Value::Int(i.div_euclid(o) - if (i.rem_euclid(o) != 0) && (o < 0) { 1 } else { 0 }),
                Value::Int(ruby_mod(*i, o)),
            ])
        }
        (Value::Int(i), "gcd") => {
            let Value::Int(o) = other else { return coerce_error(it, recv, &other, "gcd") };
            let (mut a, mut b) = (i.abs(), o.abs());
            while b != 0 {
                (a, b) = (b, a % b);
            }
            Value::Int(a)
        }
        (Value::Int(i), "pow") => arith(it, &Value::Int(*i), "**", &other)?,
        (_, "coerce") => Value::array(vec![other.clone(), recv.clone()]),
        (Value::Int(i), "hash") => Value::Int(*i),
        (_, "integer?") => Value::Bool(matches!(recv, Value::Int(_))),
        (Value::Int(i), "step") => {
            let (Value::Int(limit), step) = (arg(args, 0), args.pos.get(1).cloned().unwrap_or(Value::Int(1))) else {
                return it.unsupported("Numeric#step with these arguments");
            };
            let Value::Int(step) = step else { return it.unsupported("Numeric#step with a Float step") };
            if step == 0 {
                return it.raise("ArgumentError", "step can't be 0");
            }
            let mut items = vec![];
            let mut k = *i;
            while (step > 0 && k <= limit) || (step < 0 && k >= limit) {
                items.push(Value::Int(k));
                k += step;
                if items.len() > 10_000_000 {
                    return it.unsupported("a step of more than ten million items");
                }
            }
            match &args.block {
                Some(b) => {
                    for x in items {
                        it.yield1(b, x)?;
                    }
                    recv.clone()
                }
                None => Value::array(items),
            }
        }
        (_, "step") => return it.unsupported("Numeric#step"),
        _ => return Ok(None),
    };
    Ok(Some(v))
}

fn round_half_away(x: f64) -> f64 {
    if x >= 0.0 {
        (x + 0.5).floor()
    } else {
        -((-x + 0.5).floor())
    }
}

fn ruby_mod(a: i64, b: i64) -> i64 {
    let r = a % b;
    if r != 0 && ((r < 0) != (b < 0)) {
        r + b
    } else {
        r
    }
}

fn ruby_div(a: i64, b: i64) -> i64 {
    let q = a / b;
    if (a % b != 0) && ((a < 0) != (b < 0)) {
        q - 1
    } else {
        q
    }
}

fn to_radix(mut n: i64, base: u32) -> String {
    if n == 0 {
        return "0".into();
    }
    let neg = n < 0;
    let mut digits = vec![];
    while n != 0 {
        let d = (n % base as i64).unsigned_abs() as u32;
        digits.push(std::char::from_digit(d, base).unwrap());
        n /= base as i64;
    }
    if neg {
        digits.push('-');
    }
    digits.iter().rev().collect()
}

/// `a op b` for numbers.
pub fn arith(it: &mut Interp, a: &Value, op: &str, b: &Value) -> R<Value> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => {
            let (x, y) = (*x, *y);
            let overflow = || "integer overflow";
            let r = match op {
                "+" => x.checked_add(y),
                "-" => x.checked_sub(y),
                "*" => x.checked_mul(y),
                "/" | "div" => {
                    if y == 0 {
                        return it.raise("ZeroDivisionError", "divided by 0");
                    }
                    Some(ruby_div(x, y))
                }
                "%" | "modulo" => {
                    if y == 0 {
                        return it.raise("ZeroDivisionError", "divided by 0");
                    }
                    Some(ruby_mod(x, y))
                }
                "**" => {
                    if y < 0 {
                        // Ruby answers a Rational (2 ** -1 == (1/2))
                        return it.unsupported("a Rational (an Integer to a negative power)");
                    }
                    x.checked_pow(y.min(u32::MAX as i64) as u32)
                }
                "fdiv" => return Ok(Value::Float(x as f64 / y as f64)),
                _ => unreachable!(),
            };
            match r {
                Some(v) => Ok(Value::Int(v)),
                None => it.unsupported(format!("an {} (numbers beyond 64 bits)", overflow())),
            }
        }
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
            let x = num(a).unwrap();
            let y = num(b).unwrap();
            Ok(match op {
                "+" => Value::Float(x + y),
                "-" => Value::Float(x - y),
                "*" => Value::Float(x * y),
                "/" | "fdiv" => Value::Float(x / y),
                "div" => {
                    if y == 0.0 {
                        return it.raise("ZeroDivisionError", "divided by 0");
                    }
                    Value::Int((x / y).floor() as i64)
                }
                "%" | "modulo" => {
                    let r = x % y;
                    Value::Float(if r != 0.0 && ((r < 0.0) != (y < 0.0)) { r + y } else { r })
                }
                "**" => Value::Float(x.powf(y)),
                _ => unreachable!(),
            })
        }
        _ => coerce_error(it, a, b, op),
    }
}
