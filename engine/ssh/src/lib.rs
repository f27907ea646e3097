//! SSH execution (skeleton).
