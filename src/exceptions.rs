//! Tags and exceptions across the boundary (`WebAssembly.Tag`, `WebAssembly.Exception`,
//! `WebAssembly.JSTag`).
//!
//! - A `NativeTag` is the engine's tag behind a `WebAssembly.Tag`; index.js keeps one Tag object
//!   per engine tag (by [`NativeTag::id`]), so tags keep their identity across instances.
//! - wasm -> JS: an exception no wasm handler caught leaves the activation as
//!   `TrapKind::Exception`. One that came from JS is rethrown as the very value JS threw; one of
//!   `JSTag` thrown by wasm throws its externref payload; any other becomes a new
//!   `WebAssembly.Exception` with its tag and payload (index.js's `makeException`).
//! - JS -> wasm: when an import throws, the exception is kept for the entry (as before) and also
//!   handed to the engine as a wasm exception: a `WebAssembly.Exception` with its tag and
//!   payload, any other value with `JSTag` and the value as payload. Either remembers the JS value
//!   (its store slot) so that it leaves wasm unchanged. If a wasm handler catches it, the entry
//!   forgets the kept exception ([`host_exception_caught`]).

use std::sync::Arc;

use cranewasm_engine::runtime::exceptions::{self as engine_exceptions, Tag, VMException};
use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;
use wasmparser::{FuncType, ValType};

use crate::js::{self, realm_value, Js, Pending, Value};
use crate::values;

#[napi]
pub struct NativeTag {
    pub(crate) tag: Arc<Tag>,
}

impl NativeTag {
    pub(crate) fn new(tag: Arc<Tag>) -> NativeTag {
        NativeTag { tag }
    }
}

#[napi]
impl NativeTag {
    /// The tag's identity (its address), for index.js's cache of Tag objects.
    #[napi]
    pub fn id(&self) -> f64 {
        Arc::as_ptr(&self.tag) as usize as f64
    }

    /// The parameter types, by their JS API names.
    #[napi]
    pub fn parameters(&self) -> Vec<&'static str> {
        self.tag.ty().params().iter().map(|t| values::type_name(*t)).collect()
    }
}

/// `new WebAssembly.Tag({parameters})`, the names checked by index.js.
#[napi]
pub fn create_tag(parameters: Vec<String>) -> Result<NativeTag> {
    let mut types = Vec::with_capacity(parameters.len());
    for name in &parameters {
        types.push(
            values::parse_type(name)
                .ok_or_else(|| Error::new(Status::InvalidArg, format!("unknown value type {name}")))?,
        );
    }
    Ok(NativeTag::new(Tag::with_plain_type(FuncType::new(types, []))))
}

/// `WebAssembly.JSTag`'s engine tag.
#[napi]
pub fn js_tag() -> NativeTag {
    NativeTag::new(Tag::js_tag().clone())
}

/// Called by the engine when a wasm handler caught the exception an import threw.
pub fn host_exception_caught() {
    crate::functions::forget_pending_exception();
}

/// Makes the JS exception `value` (an import threw it) the engine's pending host exception.
pub fn set_pending_host(js: &Js, value: Value) {
    let exception = match host_exception(js, value) {
        Some(exception) => exception,
        None => {
            // The conversion failed (it leaves an exception pending): drop that one.
            js.take_exception();
            None
        }
    };
    engine_exceptions::set_pending_host(exception);
}

/// The wasm exception the JS exception `value` becomes: `Some(None)` for a trap's error, which
/// no wasm handler may catch (it unwinds to the host as it came); `None` if the conversion
/// failed.
fn host_exception(js: &Js, value: Value) -> Option<Option<Arc<VMException>>> {
    let payload = realm_value(js, |r| r.exception_payload).ok()?;
    let described = js.call(payload, js.undefined(), &[value]).ok()?;
    if js.type_of(described) == sys::ValueType::napi_null {
        return Some(None);
    }
    let slot = js::store_push(js, value).ok()?;
    let exception = if js.type_of(described) == sys::ValueType::napi_undefined {
        VMException::new(Tag::js_tag().clone(), vec![slot as u128])
    } else {
        // [NativeTag, payload values]
        let tag_object = js.get_element(described, 0).ok()?;
        let values_array = js.get_element(described, 1).ok()?;
        // SAFETY: index.js's exceptionPayload returns the NativeTag behind the Exception's tag.
        let tag = unsafe { ClassInstance::<NativeTag>::from_napi_value(js.env, tag_object) }
            .ok()?
            .tag
            .clone();
        let mut payload = Vec::with_capacity(tag.ty().params().len());
        for (i, ty) in tag.ty().params().iter().enumerate() {
            let item = js.get_element(values_array, i as u32).ok()?;
            payload.push(values::to_wasm(js, item, *ty, || values::param_type(tag.type_id(), i)).ok()?);
        }
        VMException::new(tag, payload)
    };
    exception.set_host_handle(slot as usize);
    Some(Some(exception))
}

/// Throws the JS value of a wasm exception that left wasm.
pub fn throw_uncaught(js: &Js) -> Pending {
    let Some(exception) = engine_exceptions::take_uncaught() else {
        return js.throw_new(|r| r.runtime_error, "cranewasm: an exception without its object");
    };
    let value = (|| {
        let handle = exception.host_handle();
        if handle != 0 {
            return js::store_get(js, handle as u32);
        }
        if Arc::ptr_eq(exception.tag(), Tag::js_tag()) {
            return values::externref_to_js(js, exception.payload()[0] as usize);
        }
        let types = exception.tag().ty().params();
        let mut items = Vec::with_capacity(types.len());
        for (bits, ty) in exception.payload().iter().zip(types) {
            items.push(match ty {
                // No JS value: getArg throws for these (index.js), from the marker.
                ValType::V128 | ValType::Ref(_) if !crossable(*ty) => js.undefined(),
                _ => values::to_js(js, *bits, *ty)?,
            });
        }
        let array = js.array(&items)?;
        let tag = NativeTag::new(exception.tag().clone());
        // SAFETY: napi-rs class construction with the env of the running call.
        let tag = unsafe { NativeTag::to_napi_value(js.env, tag) }.map_err(|_| Pending)?;
        let make = realm_value(js, |r| r.make_exception)?;
        js.call(make, js.undefined(), &[tag, array])
    })();
    match value {
        Ok(value) => js.throw(value),
        Err(pending) => pending,
    }
}

fn crossable(ty: ValType) -> bool {
    match ty {
        ValType::V128 => false,
        ValType::Ref(r) => values::is_funcref(r) || values::is_externref(r),
        _ => true,
    }
}
