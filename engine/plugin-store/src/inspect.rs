//! What a component really imports and exports, as Wasmtime sees it (its component type),
//! for `wharf plugin inspect`.

use wasmtime::component::Component;
use wasmtime::Engine;

/// The component's top-level imports and exports, each `name: kind`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Interfaces {
    pub imports: Vec<String>,
    pub exports: Vec<String>,
}

fn kind(item: &wasmtime::component::types::ComponentItem) -> &'static str {
    use wasmtime::component::types::ComponentItem as I;
    match item {
        I::ComponentFunc(_) => "func",
        I::CoreFunc(_) => "core func",
        I::Module(_) => "module",
        I::Component(_) => "component",
        I::ComponentInstance(_) => "instance",
        I::Type(_) => "type",
        I::Resource(_) => "resource",
    }
}

/// Compiles `wasm` (a component, packed or not) with a plain component-model engine and lists
/// its interface.
pub fn interfaces(wasm: &[u8]) -> Result<Interfaces, String> {
    let mut config = wasmtime::Config::new();
    config.wasm_component_model(true);
    let engine = Engine::new(&config).map_err(|e| format!("engine: {e:#}"))?;
    component_interfaces(&engine, wasm)
}

/// Compiles `wasm` (a component, packed or not) with `engine` and lists its interface.
pub fn component_interfaces(engine: &Engine, wasm: &[u8]) -> Result<Interfaces, String> {
    let component = Component::new(engine, wasm).map_err(|e| format!("invalid component: {e:#}"))?;
    let ty = component.component_type();
    Ok(Interfaces {
        imports: ty.imports(engine).map(|(n, i)| format!("{n}: {}", kind(&i.ty))).collect(),
        exports: ty.exports(engine).map(|(n, i)| format!("{n}: {}", kind(&i.ty))).collect(),
    })
}
