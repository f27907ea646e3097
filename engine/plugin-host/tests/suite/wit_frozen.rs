//! A released WIT package never changes: plugins built against `wharf:plugin@0.1.0` must keep
//! loading in every later Wharf. A change to the plugin API goes into a new folder beside it
//! (`wit/wharf-plugin@0.2.0`), with its version added to the host's supported APIs and to the
//! table in docs/plugins.md ("API versions"). This test fails if a released package's `.wit` files
//! change, or if one is added or removed.

use sha2::{Digest, Sha256};
use std::path::PathBuf;

/// Each released package and the sha256 of each of its `.wit` files.
const RELEASED: &[(&str, &[(&str, &str)])] = &[(
    "wharf-plugin@0.1.0",
    &[
        ("files.wit", "1852db946e88afb1256bdbb8fc8f3b55f785993a6e6f1310ed450e8073d0ff97"),
        ("log.wit", "739c3d000a9b611d068f6f24e3804feedc5b6bb0b43befd5631b9bed2db1bbeb"),
        ("process.wit", "5a5cd10c78a3273a57608cc8fe15880b8192caa548cfafdad73001100a8c5c50"),
        ("worlds.wit", "002c512424d954e6fd25bbe3c6dc6a653731e343986e27b27e9110527c15d736"),
    ],
)];

fn wit_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../wit")
}

#[test]
fn released_wit_packages_are_unchanged() {
    for (package, files) in RELEASED {
        let dir = wit_dir().join(package);
        let mut found: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".wit"))
            .collect();
        found.sort();
        let recorded: Vec<String> = files.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(found, recorded, "{package} is released: its .wit files may not be added or removed");
        for (name, sha) in *files {
            let bytes = std::fs::read(dir.join(name)).unwrap();
            let got = hex::encode(Sha256::digest(&bytes));
            assert_eq!(
                &got, sha,
                "{package}/{name} changed, but {package} is released: put the change in a new package version beside it"
            );
        }
    }
}

#[test]
fn every_released_package_is_supported_by_the_host() {
    for (package, _) in RELEASED {
        let version = package.rsplit_once('@').unwrap().1;
        assert!(
            wharf_plugin_host::SUPPORTED_APIS.contains(&version),
            "{package} is released but the host does not list {version} in SUPPORTED_APIS"
        );
    }
}
