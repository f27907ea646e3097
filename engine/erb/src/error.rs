//! How evaluation stops: Ruby's own non-local exits (exceptions, `break`, `next`, `return`,
//! `throw`) and the evaluator's own stops (a construct it does not have, `exit`).

use crate::value::{RException, Value};
use std::rc::Rc;

/// Why a piece of code did not return normally.
pub enum Ctrl {
    /// A Ruby exception.
    Raise(Rc<RException>),
    /// `break value` out of the block with this tag (or a loop, tag 0).
    Break(Value, usize),
    /// `next value`.
    Next(Value),
    /// `return value` from the method frame with this id.
    Return(Value, usize),
    Redo,
    Retry,
    /// `throw tag, value`.
    Throw(Value, Value),
    /// Not Ruby's: evaluation cannot go on (never rescued by `rescue`).
    Stop(Stop),
}

/// Stops that are not Ruby exceptions.
#[derive(Debug, Clone, PartialEq)]
pub enum Stop {
    /// Ruby has this, the built-in evaluator does not: `what` names it (`String#unpack1`,
    /// `require "aws-sdk"`), `line` is the template line.
    Unsupported { line: u32, what: String },
    /// `exit`/`abort`: the process would have ended with this status.
    Exit(i32),
}

pub type R<T> = Result<T, Ctrl>;

impl From<Stop> for Ctrl {
    fn from(s: Stop) -> Ctrl {
        Ctrl::Stop(s)
    }
}
