//! The `secrets-adapter` world.

use std::marker::PhantomData;

use crate::secrets_world;

/// A secrets adapter: `kamal secrets fetch --adapter NAME [--account A] [--from F] NAMES...`.
pub trait SecretsAdapter {
    /// Returns `(name, value)` for each secret; every value is masked in later output.
    fn fetch(
        account: Option<String>,
        from: Option<String>,
        names: Vec<String>,
    ) -> Result<Vec<(String, String)>, String>;
}

#[doc(hidden)]
pub struct SecretsExport<T>(PhantomData<T>);

impl<T: SecretsAdapter> secrets_world::Guest for SecretsExport<T> {
    fn fetch(
        account: Option<String>,
        from: Option<String>,
        names: Vec<String>,
    ) -> Result<Vec<(String, String)>, String> {
        T::fetch(account, from, names)
    }
}

/// Exports a type implementing [`SecretsAdapter`] as the component's `fetch`.
#[macro_export]
macro_rules! export_secrets_adapter {
    ($t:ty) => {
        $crate::stamp_api_version!();
        #[doc(hidden)]
        type __WharfSecretsExport = $crate::__SecretsExport<$t>;
        $crate::secrets_world::__export_secrets_adapter_world!(__WharfSecretsExport with_types_in $crate::secrets_world);
    };
}
