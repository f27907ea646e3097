//! Command generation (skeleton).
