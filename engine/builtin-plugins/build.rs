//! Builds the `plugins/builtin` workspace for wasm32-wasip2 (release) into
//! `<repo>/target/wasm-guests/builtin` and embeds every member that has a `plugin.toml`: its
//! manifest text and its component, copied into `OUT_DIR`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let repo = manifest_dir.join("../..").canonicalize().expect("repository root");
    let workspace = repo.join("plugins/builtin");
    let target_dir = repo.join("target/wasm-guests/builtin");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));

    // The workspace's manifests and its crates (not a `target/` a build inside it may leave,
    // nor the fake CLIs), the SDK and the WIT.
    for p in ["plugins/builtin/Cargo.toml", "plugins/builtin/Cargo.lock", "sdk/rust/Cargo.toml", "sdk/rust/src", "wit"]
    {
        println!("cargo:rerun-if-changed={}", repo.join(p).display());
    }
    for entry in std::fs::read_dir(&workspace).expect("read plugins/builtin").flatten() {
        if entry.path().join("Cargo.toml").is_file() {
            println!("cargo:rerun-if-changed={}", entry.path().display());
        }
    }

    let mut out = cargo_build(&workspace, &target_dir);
    if !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("target may not be installed") {
        let _ = Command::new("rustup").args(["target", "add", "wasm32-wasip2"]).status();
        out = cargo_build(&workspace, &target_dir);
    }
    if !out.status.success() {
        panic!(
            "building plugins/builtin for wasm32-wasip2 failed (is the target installed? `rustup target add wasm32-wasip2`):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let wasm_dir = target_dir.join("wasm32-wasip2/release");

    let mut builtins: Vec<(String, PathBuf, PathBuf)> = vec![];
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&workspace)
        .expect("read plugins/builtin")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("plugin.toml").is_file() && p.join("Cargo.toml").is_file())
        .collect();
    dirs.sort();
    for dir in dirs {
        let manifest_path = dir.join("plugin.toml");
        let manifest: toml::Table = toml::from_str(&read(&manifest_path)).expect("plugin.toml");
        let name = manifest.get("name").and_then(|v| v.as_str()).expect("plugin.toml: name").to_string();
        let cargo: toml::Table = toml::from_str(&read(&dir.join("Cargo.toml"))).expect("Cargo.toml");
        let package = cargo
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(|n| n.as_str())
            .expect("Cargo.toml: package.name");
        let wasm = wasm_dir.join(format!("{}.wasm", package.replace('-', "_")));
        if !wasm.is_file() {
            panic!("{} was not built (is {} a member of plugins/builtin/Cargo.toml?)", wasm.display(), dir.display());
        }
        let embedded = out_dir.join(format!("{package}.wasm"));
        std::fs::copy(&wasm, &embedded).expect("copy the component");
        builtins.push((name, manifest_path, embedded));
    }
    builtins.sort_by(|a, b| a.0.cmp(&b.0));

    let mut code = String::from("static ALL: &[Builtin] = &[\n");
    for (name, manifest, wasm) in &builtins {
        code.push_str(&format!(
            "    Builtin {{ name: {name:?}, manifest: include_str!({:?}), wasm: include_bytes!({:?}) }},\n",
            manifest.display().to_string(),
            wasm.display().to_string()
        ));
    }
    code.push_str("];\n");
    std::fs::write(out_dir.join("builtins.rs"), code).expect("write builtins.rs");
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn cargo_build(workspace: &Path, target_dir: &Path) -> std::process::Output {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--release", "--target", "wasm32-wasip2", "--manifest-path"])
        .arg(workspace.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir);
    // What the outer build was given is for the host, not for wasm.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_TARGET_DIR",
        "CARGO_BUILD_RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_PRIMARY_PACKAGE",
    ] {
        cmd.env_remove(var);
    }
    cmd.output().expect("run cargo")
}
