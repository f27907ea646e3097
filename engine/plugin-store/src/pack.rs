//! Self-contained plugin files: a component with its `plugin.toml` inside.
//!
//! [`pack`] appends the manifest text, as UTF-8, in a top-level custom section named
//! `wharf-plugin` ([`SECTION`]) at the end of the component binary. Custom sections are ignored
//! by runtimes, so a packed file is still a valid component that Wasmtime loads as is, and its
//! SHA-256 covers both the code and the capabilities it declares. [`unpack`] finds the section
//! (with `wasmparser`, top level only: nested modules and components may carry their own custom
//! sections) and returns the manifest text and the component without the section.

use sha2::{Digest, Sha256};
use wasmparser::{Encoding, Parser, Payload};

/// The name of the custom section holding `plugin.toml`.
pub const SECTION: &str = "wharf-plugin";

/// Why a file cannot be packed or unpacked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackError {
    #[error("not a WebAssembly component: {0}")]
    NotComponent(String),
    #[error("no `{SECTION}` section: not a packed Wharf plugin (pack it with `wharf plugin pack`)")]
    NoSection,
    #[error("more than one `{SECTION}` section")]
    Duplicate,
    #[error("the `{SECTION}` section is not UTF-8")]
    NotUtf8,
    #[error("the `{SECTION}` section is not the last section; cannot replace it")]
    NotLast,
}

/// Where the top-level `wharf-plugin` section is: the whole section (header included) and its
/// contents.
struct Found {
    section_start: usize,
    data: std::ops::Range<usize>,
}

fn write_leb128(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Parses the component's top level and finds our section, if any.
fn find(bytes: &[u8]) -> Result<Option<Found>, PackError> {
    let mut depth = 0usize;
    let mut found = None;
    let mut first = true;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| PackError::NotComponent(e.to_string()))?;
        if first {
            first = false;
            match payload {
                Payload::Version { encoding: Encoding::Component, .. } => {}
                Payload::Version { encoding: Encoding::Module, .. } => {
                    return Err(PackError::NotComponent(
                        "a core module (build for wasm32-wasip2, or run `wasm-tools component new`)".into(),
                    ))
                }
                _ => return Err(PackError::NotComponent("no version header".into())),
            }
            continue;
        }
        match payload {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::CustomSection(c) if depth == 0 && c.name() == SECTION => {
                if found.is_some() {
                    return Err(PackError::Duplicate);
                }
                let range = c.range();
                // `range` covers the name and the data; before it: the id byte (0) and the size,
                // a LEB128 whose bytes before the last have the continuation bit set (it may be
                // padded, so walk back rather than assume its length).
                let mut i = range.start - 1;
                while i > 0 && bytes[i - 1] & 0x80 != 0 {
                    i -= 1;
                }
                if i == 0 || bytes[i - 1] != 0 {
                    return Err(PackError::NotComponent("malformed custom section header".into()));
                }
                let section_start = i - 1;
                let data_start = c.data_offset();
                found = Some(Found { section_start, data: data_start..data_start + c.data().len() });
            }
            _ => {}
        }
    }
    Ok(found)
}

/// The component with `manifest_toml` packed into it. An already packed component has its
/// manifest replaced.
pub fn pack(manifest_toml: &str, component_wasm: &[u8]) -> Result<Vec<u8>, PackError> {
    let base = match find(component_wasm)? {
        None => component_wasm,
        Some(f) if f.data.end == component_wasm.len() => &component_wasm[..f.section_start],
        Some(_) => return Err(PackError::NotLast),
    };
    let mut out = Vec::with_capacity(base.len() + manifest_toml.len() + 32);
    out.extend_from_slice(base);
    let mut body = Vec::with_capacity(manifest_toml.len() + 16);
    write_leb128(&mut body, SECTION.len());
    body.extend_from_slice(SECTION.as_bytes());
    body.extend_from_slice(manifest_toml.as_bytes());
    out.push(0); // custom section
    write_leb128(&mut out, body.len());
    out.extend_from_slice(&body);
    Ok(out)
}

/// The manifest text and the component (without the section) of a packed plugin file.
pub fn unpack(bytes: &[u8]) -> Result<(String, Vec<u8>), PackError> {
    let found = find(bytes)?.ok_or(PackError::NoSection)?;
    let text = std::str::from_utf8(&bytes[found.data.clone()]).map_err(|_| PackError::NotUtf8)?.to_string();
    let mut wasm = Vec::with_capacity(bytes.len());
    wasm.extend_from_slice(&bytes[..found.section_start]);
    wasm.extend_from_slice(&bytes[found.data.end..]);
    Ok((text, wasm))
}

/// Whether `bytes` is a packed plugin file (a component with a `wharf-plugin` section).
pub fn is_packed(bytes: &[u8]) -> bool {
    matches!(find(bytes), Ok(Some(_)))
}

/// The names a component imports and exports at its top level (`wasi:cli/environment@0.2.x`,
/// `wharf:plugin/hook@0.1.0`...), read with `wasmparser` (no compilation).
pub fn interface_names(bytes: &[u8]) -> Result<(Vec<String>, Vec<String>), PackError> {
    let (mut imports, mut exports) = (vec![], vec![]);
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(|e| PackError::NotComponent(e.to_string()))? {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(s) if depth == 0 => {
                for i in s {
                    imports.push(i.map_err(|e| PackError::NotComponent(e.to_string()))?.name.name.to_string());
                }
            }
            Payload::ComponentExportSection(s) if depth == 0 => {
                for e in s {
                    exports.push(e.map_err(|e| PackError::NotComponent(e.to_string()))?.name.name.to_string());
                }
            }
            _ => {}
        }
    }
    Ok((imports, exports))
}

/// A configured sha256: `HEX` or `sha256:HEX`, 64 lowercase hex digits.
pub fn parse_sha256(text: &str) -> Result<String, String> {
    let hex = text.trim().strip_prefix("sha256:").unwrap_or(text.trim()).to_ascii_lowercase();
    if hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(hex)
    } else {
        Err(format!("{text:?} is not a sha256 (64 hex digits, optionally prefixed sha256:)"))
    }
}

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest component: the preamble alone.
    const EMPTY_COMPONENT: &[u8] = &[0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];
    const EMPTY_MODULE: &[u8] = &[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

    #[test]
    fn round_trip() {
        let packed = pack("name = \"x\"\n", EMPTY_COMPONENT).unwrap();
        assert!(is_packed(&packed));
        let (text, wasm) = unpack(&packed).unwrap();
        assert_eq!(text, "name = \"x\"\n");
        assert_eq!(wasm, EMPTY_COMPONENT);
        // Repacking replaces the manifest.
        let again = pack("name = \"y\"\n", &packed).unwrap();
        assert_eq!(unpack(&again).unwrap().0, "name = \"y\"\n");
        assert_eq!(again.len(), packed.len());
    }

    #[test]
    fn long_manifest_needs_a_multi_byte_size() {
        let text = "# ".repeat(300);
        let packed = pack(&text, EMPTY_COMPONENT).unwrap();
        assert_eq!(unpack(&packed).unwrap(), (text, EMPTY_COMPONENT.to_vec()));
    }

    #[test]
    fn a_padded_section_size_is_found() {
        let text = "name = \"x\"";
        let mut body = vec![SECTION.len() as u8];
        body.extend_from_slice(SECTION.as_bytes());
        body.extend_from_slice(text.as_bytes());
        let mut file = EMPTY_COMPONENT.to_vec();
        file.extend_from_slice(&[0, 0x80 | body.len() as u8, 0x80, 0x00]);
        file.extend_from_slice(&body);
        assert_eq!(unpack(&file).unwrap(), (text.to_string(), EMPTY_COMPONENT.to_vec()));
    }

    #[test]
    fn refusals() {
        assert!(matches!(pack("", EMPTY_MODULE), Err(PackError::NotComponent(m)) if m.contains("core module")));
        assert!(matches!(pack("", b"hello"), Err(PackError::NotComponent(_))));
        assert_eq!(unpack(EMPTY_COMPONENT), Err(PackError::NoSection));
        assert!(!is_packed(EMPTY_COMPONENT));
    }
}
