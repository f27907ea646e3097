//! The `hook` world.

use std::marker::PhantomData;

use crate::hook_world;

/// What a hook receives: its name and Kamal's `KAMAL_*` variables.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// The hook's name, such as `post-deploy`.
    pub hook: String,
    /// `(name, value)` pairs, only those that are set.
    pub env: Vec<(String, String)>,
}

impl Context {
    /// The value of variable `key`, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.env.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// `KAMAL_VERSION`: the version being deployed.
    pub fn version(&self) -> Option<&str> {
        self.get("KAMAL_VERSION")
    }

    /// `KAMAL_SERVICE`: the service name.
    pub fn service(&self) -> Option<&str> {
        self.get("KAMAL_SERVICE")
    }

    /// `KAMAL_SERVICE_VERSION`: `service@version`.
    pub fn service_version(&self) -> Option<&str> {
        self.get("KAMAL_SERVICE_VERSION")
    }

    /// `KAMAL_PERFORMER`: who runs the command.
    pub fn performer(&self) -> Option<&str> {
        self.get("KAMAL_PERFORMER")
    }

    /// `KAMAL_DESTINATION`, when deploying to a destination.
    pub fn destination(&self) -> Option<&str> {
        self.get("KAMAL_DESTINATION")
    }

    /// `KAMAL_HOSTS`, split on commas.
    pub fn hosts(&self) -> Vec<&str> {
        self.get("KAMAL_HOSTS").map(|h| h.split(',').filter(|s| !s.is_empty()).collect()).unwrap_or_default()
    }

    /// `KAMAL_RUNTIME`: seconds the command took (post-deploy).
    pub fn runtime(&self) -> Option<&str> {
        self.get("KAMAL_RUNTIME")
    }
}

/// A deploy hook. Return `Err(message)` to fail it (a `pre-*` hook then aborts the command).
pub trait Hook {
    fn run(ctx: &Context) -> Result<(), String>;
}

#[doc(hidden)]
pub struct HookExport<T>(PhantomData<T>);

impl<T: Hook> hook_world::Guest for HookExport<T> {
    fn run(ctx: hook_world::HookContext) -> Result<(), String> {
        T::run(&Context { hook: ctx.name, env: ctx.env })
    }
}

/// Exports a type implementing [`Hook`] as the component's `run`.
#[macro_export]
macro_rules! export_hook {
    ($t:ty) => {
        $crate::stamp_api_version!();
        #[doc(hidden)]
        type __WharfHookExport = $crate::__HookExport<$t>;
        $crate::hook_world::__export_hook_world!(__WharfHookExport with_types_in $crate::hook_world);
    };
}
