//! Build script of the binding crate: napi-build sets the linker flags a Node addon needs
//! (symbols resolved against the host process at load time).
fn main() {
    napi_build::setup();
}
