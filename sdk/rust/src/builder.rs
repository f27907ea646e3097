//! The `builder` world.

use std::marker::PhantomData;

use crate::builder_world;
pub use crate::builder_world::{BuildRequest, BuildResult};

/// An image builder, in place of `docker buildx build`.
pub trait Builder {
    fn build(request: BuildRequest) -> Result<BuildResult, String>;
}

#[doc(hidden)]
pub struct BuilderExport<T>(PhantomData<T>);

impl<T: Builder> builder_world::Guest for BuilderExport<T> {
    fn build(request: BuildRequest) -> Result<BuildResult, String> {
        T::build(request)
    }
}

/// Exports a type implementing [`Builder`] as the component's `build`.
#[macro_export]
macro_rules! export_builder {
    ($t:ty) => {
        $crate::stamp_api_version!();
        #[doc(hidden)]
        type __WharfBuilderExport = $crate::__BuilderExport<$t>;
        $crate::builder_world::__export_builder_world!(__WharfBuilderExport with_types_in $crate::builder_world);
    };
}
