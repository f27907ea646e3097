//! Kamal-compatible secrets (skeleton).
