//! The native half of `cranewasm/engine`'s `Sandbox` (engine.js checks the options): the
//! engine's sandbox, and the code of each module compiled for it.

use std::sync::Arc;
use std::time::Duration;

use cranewasm_engine::compiler::CompiledModule;
use cranewasm_engine::runtime::sandbox::{Sandbox, SandboxLimits};
use napi_derive::napi;

use crate::{CodeVariant, NativeModule};

/// The limits of a sandbox, as engine.js's `Sandbox` options (timeout in ms, memory limit in
/// bytes, table limit in elements).
#[napi(object)]
pub struct SandboxOptions {
    pub timeout: Option<f64>,
    pub fuel: Option<f64>,
    pub memory_limit: Option<f64>,
    pub table_limit: Option<f64>,
    pub instance_limit: Option<f64>,
    /// The standard namespace's defaults from the environment: each outermost call has the
    /// whole fuel, and each instance the whole memory and table limits.
    pub per_call_and_instance: Option<bool>,
}

#[napi]
pub struct NativeSandbox {
    pub(crate) sandbox: Arc<Sandbox>,
    /// Whether its instances run bounds-checked code on memories without guard reservations.
    pub(crate) bounds_checks: bool,
}

#[napi]
impl NativeSandbox {
    /// A sandbox with the given limits (checked by engine.js: finite and not negative).
    #[napi(constructor)]
    pub fn new(options: SandboxOptions) -> NativeSandbox {
        let limits = SandboxLimits {
            timeout: options.timeout.map(|ms| Duration::from_secs_f64(ms / 1000.0)),
            fuel: options.fuel.map(|f| f as u64),
            instances: options.instance_limit.map(|n| n as u64),
            memory_bytes: options.memory_limit.map(|n| n as u64),
            table_elements: options.table_limit.map(|n| n as u64),
            per_call_and_instance: options.per_call_and_instance.unwrap_or(false),
        };
        NativeSandbox { sandbox: Sandbox::new(limits), bounds_checks: false }
    }

    /// Makes the sandbox's instances run bounds-checked code, their memories without guard
    /// reservations (engine.js's `boundsChecks` option).
    #[napi]
    pub fn set_bounds_checks(&mut self, on: bool) {
        self.bounds_checks = on;
    }

    /// Fuel left (0 for a sandbox without fuel).
    #[napi(getter)]
    pub fn fuel(&self) -> f64 {
        self.sandbox.fuel() as f64
    }

    #[napi(setter)]
    pub fn set_fuel(&self, fuel: f64) {
        self.sandbox.set_fuel(fuel as u64);
    }
}

impl NativeModule {
    /// The module's code for an instance of `sandbox` (or of none), with bounds checks when
    /// `bounds_checks` (its memory has no guard reservation), the sandbox or the module's
    /// options ask for them: metered sandboxes need code that counts fuel. A variant other than
    /// the module's own code is compiled (lazily, as the module's own code) the first time one
    /// asks for it.
    pub(crate) fn code_for(
        &self,
        sandbox: Option<&NativeSandbox>,
        bounds_checks: bool,
    ) -> std::result::Result<Arc<CompiledModule>, String> {
        let code = self.code.clone()?;
        let own = CodeVariant::of(&code.options);
        let wanted = CodeVariant {
            fuel: sandbox.is_some_and(|s| s.sandbox.metered()),
            bounds_checks: own.bounds_checks || bounds_checks || sandbox.is_some_and(|s| s.bounds_checks),
        };
        if wanted == own {
            return Ok(code);
        }
        self.variants[wanted.index()]
            .get_or_init(|| {
                let options = cranewasm_engine::compiler::CompileOptions {
                    fuel: wanted.fuel,
                    bounds_checks: wanted.bounds_checks,
                    ..code.options
                };
                CompiledModule::build(self.module.clone(), Vec::new(), options)
                    .map_err(|e| format!("cranewasm: cannot compile a variant of the module's code: {e}"))
            })
            .clone()
    }
}
