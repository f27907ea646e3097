//! Kamal-compatible configuration (skeleton).
