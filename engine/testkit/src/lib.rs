//! What Wharf's tests share, so that no test reaches into another crate's files by path.
//!
//! - Kamal's test fixtures (basecamp/kamal `test/fixtures`, unchanged: deploy*.yml and the
//!   files they name), in `fixtures/kamal`.

use std::path::PathBuf;

/// The folder of Kamal's test fixtures (`test/fixtures` in basecamp/kamal).
pub fn kamal_fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/kamal")
}

/// One of Kamal's fixtures, by file name (`deploy_with_accessories.yml`).
pub fn kamal_fixture_path(name: &str) -> PathBuf {
    kamal_fixtures().join(name)
}

/// The text of one of Kamal's fixtures.
pub fn kamal_fixture(name: &str) -> String {
    let path = kamal_fixture_path(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("Kamal fixture {}: {e}", path.display()))
}
