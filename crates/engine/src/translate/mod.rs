//! Wasm operators to Cranelift IR (being written).
