//! The native halves of WebAssembly.Instance, Memory, Table and Global. index.js owns the JS
//! objects and their checks; these hold the engine objects and convert values.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ffi::c_void;
use std::ptr;
use std::rc::Rc;
use std::sync::{Arc, Weak};

use cranewasm_engine::module::ImportType;
use cranewasm_engine::runtime::global::Global;
use cranewasm_engine::runtime::instance::{Extern, Instance, InstantiationError};
use cranewasm_engine::runtime::memory::LinearMemory;
use cranewasm_engine::runtime::table::Table;
use cranewasm_engine::ExternKind;
use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;
use wasmparser::{GlobalType, RefType, ValType};

use crate::exceptions::NativeTag;
use crate::functions;
use crate::js::{napi_call, Js, JsResult, Pending, Realm};
use crate::lifetimes;
use crate::values;
use crate::sandbox::NativeSandbox;
use crate::{NativeModule, NativeRealm};

/// A JS value passed through napi-rs untouched.
pub struct Raw(pub sys::napi_value);

impl TypeName for Raw {
    fn type_name() -> &'static str {
        "unknown"
    }
    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}

impl ValidateNapiValue for Raw {}

// SAFETY (both impls): the trait's functions are `unsafe` for callers; these do no unsafe
// operation, they only move the handle.
impl FromNapiValue for Raw {
    unsafe fn from_napi_value(_env: sys::napi_env, value: sys::napi_value) -> Result<Self> {
        Ok(Raw(value))
    }
}

impl ToNapiValue for Raw {
    // SAFETY: see above (no unsafe operation).
    unsafe fn to_napi_value(_env: sys::napi_env, value: Raw) -> Result<sys::napi_value> {
        Ok(value.0)
    }
}

/// The napi-rs result of a raw operation: a pending exception is reported as such, so napi-rs
/// leaves it in place.
pub(crate) fn raw_result<T>(result: JsResult<T>) -> Result<T> {
    result.map_err(|Pending| Error::new(Status::PendingException, "a JS exception is pending"))
}

pub(crate) fn js_of(env: &Env) -> Js {
    // SAFETY: napi-rs hands methods the env of the call Node is running on this thread.
    unsafe { Js::from_env(env.raw()) }
}

pub(crate) fn js_of_realm(env: &Env, realm: &Rc<Realm>) -> Js {
    // SAFETY: as in `js_of`.
    unsafe { Js::with_realm(env.raw(), Some(realm)) }
}

// ---- Instance -------------------------------------------------------------------------------

#[napi(object)]
pub struct InstantiateFailure {
    /// "link" (LinkError naming the import), "limits" (LinkError whose message names the
    /// import), "trap" (RuntimeError), "resource" (RangeError) or "unsupported".
    pub kind: String,
    pub index: u32,
    pub message: String,
}

#[napi(object)]
pub struct ExportEntry {
    pub name: String,
    pub kind: String,
    /// The export's index in its kind's index space.
    pub index: u32,
    /// For a memory, table or global that the instance imported: the import's index, whose
    /// JS object the export is.
    pub import_index: Option<u32>,
    /// The function object, or the native Memory/Table/Global for a defined one.
    pub value: Option<Raw>,
}

#[napi]
pub struct NativeInstance {
    instance: Arc<Instance>,
    /// The realm of the index.js that instantiated it.
    realm: Rc<Realm>,
    env: sys::napi_env,
}

impl Drop for NativeInstance {
    fn drop(&mut self) {
        lifetimes::anchor_released(self.env, lifetimes::key(&self.instance));
    }
}

/// Builds the engine externs for `imports` (one JS value per import, as index.js checked and
/// converted them: callables, exported functions, and the native objects behind Memory, Table
/// and Global).
fn externs(env: &Env, js: &Js, module: &NativeModule, imports: &[Raw]) -> JsResult<Vec<Extern>> {
    let info = &module.module;
    let mut externs = Vec::with_capacity(imports.len());
    for (import, value) in info.imports.iter().zip(imports) {
        let value = value.0;
        let unwrap_failed = |e: Error| js.throw_type_error(&format!("cranewasm: import is not the expected native object: {e}"));
        externs.push(match &import.ty {
            ImportType::Function(ty) => match functions::exported_function(js, value) {
                Some(f) => Extern::Function(f.function.clone()),
                None => Extern::Function(functions::host_function(
                    js,
                    value,
                    info.types[*ty as usize].clone(),
                    info.type_ids()[*ty as usize],
                )?),
            },
            ImportType::Memory(_) => {
                // SAFETY: index.js passes the NativeMemory behind a WebAssembly.Memory here.
                let m = unsafe { ClassInstance::<NativeMemory>::from_napi_value(env.raw(), value) };
                Extern::Memory(m.map_err(unwrap_failed)?.memory.clone())
            }
            ImportType::Table(_) => {
                // SAFETY: index.js passes the NativeTable behind a WebAssembly.Table here.
                let t = unsafe { ClassInstance::<NativeTable>::from_napi_value(env.raw(), value) };
                Extern::Table(t.map_err(unwrap_failed)?.table.clone())
            }
            ImportType::Global(_) => {
                // SAFETY: index.js passes the NativeGlobal behind a WebAssembly.Global here.
                let g = unsafe { ClassInstance::<NativeGlobal>::from_napi_value(env.raw(), value) };
                Extern::Global(g.map_err(unwrap_failed)?.global.clone())
            }
            ImportType::Tag(_) => {
                // SAFETY: index.js passes the NativeTag behind a WebAssembly.Tag here.
                let t = unsafe { ClassInstance::<NativeTag>::from_napi_value(env.raw(), value) };
                Extern::Tag(t.map_err(unwrap_failed)?.tag.clone())
            }
        });
    }
    Ok(externs)
}

#[napi]
impl NativeModule {
    /// Instantiates the module (imports resolved, segments applied, start function not run).
    #[napi]
    pub fn instantiate(
        &self,
        env: Env,
        realm: &NativeRealm,
        imports: Vec<Raw>,
        sandbox: Option<&NativeSandbox>,
    ) -> Result<Raw> {
        let js = js_of_realm(&env, &realm.realm);
        let failure = |kind: &str, index: u32, message: String| {
            // SAFETY: napi-rs object construction with the env of the running call.
            unsafe { InstantiateFailure::to_napi_value(env.raw(), InstantiateFailure { kind: kind.into(), index, message }) }.map(Raw)
        };
        let compiled = match self.code_for(sandbox, false) {
            Ok(code) => code,
            Err(message) => return failure("unsupported", 0, message),
        };
        let externs = raw_result(externs(&env, &js, self, &imports))?;
        let engine_sandbox = sandbox.map(|s| &s.sandbox);
        let mut created = Instance::new_in(compiled, externs.clone(), engine_sandbox);
        if let Err(InstantiationError::NeedsBoundsChecks) = created {
            // Its memory has no guard reservation (imported so, or none could be had): the
            // bounds-checked variant of the code runs on any memory.
            let checked = match self.code_for(sandbox, true) {
                Ok(code) => code,
                Err(message) => return failure("unsupported", 0, message),
            };
            created = Instance::new_in(checked, externs, engine_sandbox);
        }
        let result = match created {
            Ok(instance) => raw_result(anchor_instance(&env, &js, instance, &realm.realm, &imports)).map(Raw),
            Err(InstantiationError::Limits(message)) => failure("limits", 0, message),
            Err(InstantiationError::Link(index, message)) => failure("link", index, message),
            Err(InstantiationError::Trap(trap)) => failure("trap", 0, trap.kind.message().into()),
            Err(InstantiationError::Resource(message)) => failure("resource", 0, message),
            Err(InstantiationError::ResourceLimit(message)) => failure("resource", 0, message),
            Err(InstantiationError::NeedsBoundsChecks) => {
                failure("resource", 0, "cannot instantiate with bounds-checked code".into())
            }
        };
        // Segments stored references (also when a later one trapped): into the object graph.
        lifetimes::after_call(&js);
        result
    }
}

/// The JS object of a new instance, made its anchor, with the anchors of its own funcref tables
/// and globals (so that what wasm stores in them has somewhere to hang from).
fn anchor_instance(env: &Env, js: &Js, instance: Arc<Instance>, realm: &Rc<Realm>, imports: &[Raw]) -> JsResult<sys::napi_value> {
    let info = instance.module().clone();
    let native = NativeInstance { instance: instance.clone(), realm: realm.clone(), env: js.env };
    // SAFETY: napi-rs class construction with the env of the running call.
    let object = unsafe { NativeInstance::to_napi_value(env.raw(), native) }.map_err(|e| js.throw_error(&e.to_string()))?;
    let values: Vec<sys::napi_value> = imports.iter().map(|r| r.0).collect();
    let array = js.array(&values)?;
    lifetimes::anchor_instance(js, &instance, object, array)?;
    for index in info.num_imported_tables()..info.num_tables() {
        let table = instance.table(index);
        lifetimes::register_externref_table(table);
        if values::is_funcref(table.element_type()) {
            let anchor = table_object(env, js, table.clone())?;
            lifetimes::add_edge(js, object, anchor)?;
        }
    }
    for index in info.num_imported_globals()..info.num_globals() {
        let global = instance.global(index);
        lifetimes::register_externref_global(global);
        if matches!(global.ty.content_type, ValType::Ref(r) if values::is_funcref(r)) {
            let anchor = global_object(env, js, global.clone())?;
            lifetimes::add_edge(js, object, anchor)?;
        }
    }
    Ok(object)
}

/// The anchor of the engine object at `key`, made by `make` on first use.
fn anchor_object(js: &Js, key: usize, make: impl FnOnce() -> Result<sys::napi_value>) -> JsResult<sys::napi_value> {
    if let Some(object) = lifetimes::anchor(js, key) {
        return Ok(object);
    }
    let object = make().map_err(|e| js.throw_error(&e.to_string()))?;
    lifetimes::register_anchor(js, key, object)?;
    Ok(object)
}

/// The anchor of `table`: its NativeTable object.
fn table_object(env: &Env, js: &Js, table: Arc<Table>) -> JsResult<sys::napi_value> {
    let key = lifetimes::key(&table);
    // SAFETY: napi-rs class construction with the env of the running call.
    anchor_object(js, key, || unsafe { NativeTable::to_napi_value(env.raw(), NativeTable { table, env: js.env }) })
}

/// The anchor of `global`: its NativeGlobal object.
fn global_object(env: &Env, js: &Js, global: Arc<Global>) -> JsResult<sys::napi_value> {
    let key = lifetimes::key(&global);
    // SAFETY: napi-rs class construction with the env of the running call.
    anchor_object(js, key, || unsafe { NativeGlobal::to_napi_value(env.raw(), NativeGlobal { global, env: js.env }) })
}

#[napi]
impl NativeInstance {
    /// Runs the start function; traps and exceptions are thrown as calls from JS throw them.
    #[napi]
    pub fn start(&self, env: Env) -> Result<()> {
        let js = js_of_realm(&env, &self.realm);
        let started = {
            let _call = lifetimes::WasmCall::enter();
            self.instance.start()
        };
        let result = started.map_err(|trap| functions::throw_trap(&js, trap));
        lifetimes::after_call(&js);
        raw_result(result)
    }

    /// The exports, in module order.
    #[napi]
    pub fn exports(&self, env: Env) -> Result<Vec<ExportEntry>> {
        let js = js_of_realm(&env, &self.realm);
        let info = self.instance.module().clone();
        let import_of = |kind: ExternKind, index: u32| -> Option<u32> {
            let mut seen = 0;
            for (i, import) in info.imports.iter().enumerate() {
                if import.ty.kind() == kind {
                    if seen == index {
                        return Some(i as u32);
                    }
                    seen += 1;
                }
            }
            None
        };
        let mut entries = Vec::with_capacity(info.exports.len());
        for export in &info.exports {
            let (kind, index) = (export.kind, export.index);
            let import_index = match kind {
                ExternKind::Function => None,
                _ => import_of(kind, index),
            };
            let value = if import_index.is_some() {
                None
            } else {
                let raw_env = env.raw();
                Some(Raw(match kind {
                    ExternKind::Function => {
                        raw_result(functions::js_function(&js, self.instance.function(index), Some(index)))?
                    }
                    // SAFETY: napi-rs class construction with the env of the running call.
                    ExternKind::Memory => unsafe {
                        let memory = self.instance.memory(index).expect("validated module").clone();
                        NativeMemory::to_napi_value(raw_env, NativeMemory::new(memory))?
                    },
                    ExternKind::Table => raw_result(table_object(&env, &js, self.instance.table(index).clone()))?,
                    ExternKind::Global => raw_result(global_object(&env, &js, self.instance.global(index).clone()))?,
                    // SAFETY: napi-rs class construction with the env of the running call.
                    ExternKind::Tag => unsafe {
                        let tag = self.instance.tag(index).expect("validated module").clone();
                        NativeTag::to_napi_value(raw_env, NativeTag::new(tag))?
                    },
                }))
            };
            entries.push(ExportEntry { name: export.name.clone(), kind: kind.as_str().into(), index, import_index, value });
        }
        Ok(entries)
    }
}

// ---- Memory ---------------------------------------------------------------------------------

#[napi]
pub struct NativeMemory {
    pub(crate) memory: Arc<LinearMemory>,
}

impl NativeMemory {
    fn new(memory: Arc<LinearMemory>) -> NativeMemory {
        NativeMemory { memory }
    }
}

/// The ArrayBuffer handed out for one memory, and the memory's generation (count of growths)
/// it was made at.
struct BufferView {
    memory: Weak<LinearMemory>,
    reference: sys::napi_ref,
    generation: u64,
}

thread_local! {
    /// The current ArrayBuffer of each memory JS has asked for, by memory address.
    static BUFFERS: RefCell<HashMap<usize, BufferView>> = RefCell::new(HashMap::new());
    /// The size of BUFFERS after its last sweep (`remember_buffer`).
    static BUFFERS_SWEPT_AT: Cell<usize> = const { Cell::new(0) };
    /// The memory growth epoch the buffers were last checked at.
    static CHECKED_EPOCH: Cell<u64> = const { Cell::new(0) };
}

fn detach(js: &Js, view: BufferView) -> JsResult<()> {
    let buffer = js.reference_value(view.reference);
    js.delete_reference(view.reference);
    // A shared memory's SharedArrayBuffers stay valid at their length after a growth (the JS
    // API): forgotten, never detached.
    if view.memory.upgrade().is_some_and(|m| m.is_shared()) {
        return Ok(());
    }
    match buffer {
        Some(buffer) => napi_call!(js, napi_detach_arraybuffer(buffer)),
        None => Ok(()),
    }
}

/// Records the ArrayBuffer made for a memory. The reference is weak: a strong one kept the buffer,
/// and through it (its backing store holds an `Arc`) the memory, alive for good, so every Memory
/// whose `buffer` was read leaked its linear memory. Entries of memories gone are swept here.
fn remember_buffer(js: &Js, key: usize, view: BufferView) -> JsResult<()> {
    let dead: Vec<BufferView> = BUFFERS.with(|b| {
        let mut buffers = b.borrow_mut();
        buffers.insert(key, view);
        // Amortized: a sweep when the map has doubled since the last one.
        if buffers.len() < 16 || buffers.len() < 2 * BUFFERS_SWEPT_AT.get() {
            return Vec::new();
        }
        let keys: Vec<usize> = buffers.iter().filter(|(_, v)| v.memory.strong_count() == 0).map(|(k, _)| *k).collect();
        let dead = keys.iter().filter_map(|k| buffers.remove(k)).collect();
        BUFFERS_SWEPT_AT.set(buffers.len());
        dead
    });
    for view in dead {
        js.delete_reference(view.reference);
    }
    Ok(())
}

/// Detaches the ArrayBuffer of `memory`, if JS has one (after a growth).
fn detach_buffer(js: &Js, memory: &Arc<LinearMemory>) -> JsResult<()> {
    let view = BUFFERS.with(|b| b.borrow_mut().remove(&(Arc::as_ptr(memory) as usize)));
    view.map_or(Ok(()), |view| detach(js, view))
}

/// Called whenever control passes from wasm back to JS: when some memory grew since the last
/// check, the ArrayBuffers of the memories that grew are detached, as the JS API requires
/// (`memory.buffer` then makes a new one; V8 does so for a `memory.grow` of 0 too). One atomic
/// load when nothing grew.
pub fn refresh_buffers(js: &Js) -> JsResult<()> {
    let epoch = cranewasm_engine::runtime::memory::grow_epoch();
    // Checked per realm when there is one (no thread-local access on the call path); the
    // buffers themselves are per thread, so another realm's check rescans, harmlessly.
    let last = match &js.realm {
        Some(realm) => realm.checked_epoch.replace(epoch),
        None => CHECKED_EPOCH.with(|c| c.replace(epoch)),
    };
    if last == epoch {
        return Ok(());
    }
    let stale: Vec<BufferView> = BUFFERS.with(|b| {
        let mut buffers = b.borrow_mut();
        let keys: Vec<usize> = buffers
            .iter()
            .filter(|(_, v)| v.memory.upgrade().is_none_or(|m| m.generation() != v.generation))
            .map(|(k, _)| *k)
            .collect();
        keys.iter().filter_map(|k| buffers.remove(k)).collect()
    });
    for view in stale {
        detach(js, view)?;
    }
    Ok(())
}

/// An ArrayBuffer over the engine's memory grow epoch (a u64, read by index.js as two u32
/// words, low first): `Memory.prototype.buffer` keeps the buffer it got from [`NativeMemory::buffer`]
/// while the epoch stands, which every growth of any memory (by JS or wasm, on any thread, a
/// delta of 0 too) advances. So the getter is a compare in JS, not a call.
#[napi]
pub fn grow_epoch_view(env: Env) -> Result<Raw> {
    let js = js_of(&env);
    let word = cranewasm_engine::runtime::memory::grow_epoch_word();
    let mut buffer = ptr::null_mut();
    // SAFETY: the word is a static, so the bytes outlive every buffer over them (no finalizer);
    // JS only reads them (index.js never writes the view); a concurrent atomic increment on
    // another thread makes a read stale, never unsound, as for a SharedArrayBuffer.
    raw_result(napi_call!(
        js,
        napi_create_external_arraybuffer(
            word.as_ptr() as *mut c_void,
            std::mem::size_of::<u64>(),
            None,
            ptr::null_mut(),
            &mut buffer
        )
    ))?;
    Ok(Raw(buffer))
}

/// `WebAssembly.Memory({initial, maximum, address})` (sizes in pages, which index.js checked
/// are integers in range); a string is the RangeError message. Without a guard reservation when
/// bounds checks are on (the compile options), or when none can be had.
#[napi]
pub fn create_memory(initial: f64, maximum: Option<f64>, memory64: bool, shared: Option<bool>) -> Either<NativeMemory, String> {
    let guard = !cranewasm_engine::compiler::options().bounds_checks;
    let shared = shared.unwrap_or(false);
    match LinearMemory::create_with(initial as u64, maximum.map(|m| m as u64), memory64, shared, guard, None) {
        Ok(memory) => Either::A(NativeMemory::new(Arc::new(memory))),
        Err(message) => Either::B(message),
    }
}

#[cfg(not(cranewasm_no_shared_buffer))]
use crate::shared_buffer::{
    cranewasm_new_shared_array_buffer, cranewasm_shared_array_buffer_data, cranewasm_shared_array_buffer_from_slot,
    cranewasm_store_slot_free, cranewasm_store_slot_length, cranewasm_store_slot_new,
};

/// A new SharedArrayBuffer over the backing store that the JS buffers of `length` bytes of the
/// shared memory holding native `address` share, with the address's offset in it; None when JS
/// has no such buffer alive. For src/js_atomics.rs; call on a JS thread inside a handle scope.
#[cfg(not(cranewasm_no_shared_buffer))]
pub(crate) fn shared_buffer_at(address: usize, length: usize) -> Option<(sys::napi_value, usize)> {
    with_store_at(address, length, |slot, offset| {
        // SAFETY: the slot is live while the lock is held; the caller is on a JS thread in a
        // scope.
        let buffer = unsafe { cranewasm_shared_array_buffer_from_slot(slot, length) };
        (!buffer.is_null()).then_some((buffer, offset))
    })?
}

/// Whether some thread's JS still has a buffer of `length` bytes of the shared memory holding
/// native `address` (its backing store is alive). Any thread; no JS is touched.
#[cfg(not(cranewasm_no_shared_buffer))]
pub(crate) fn shared_store_alive(address: usize, length: usize) -> bool {
    with_store_at(address, length, |_, _| ()).is_some()
}

/// `f(slot, offset)` for the live backing store of `length` bytes of the shared memory holding
/// `address` (offset: the address's in it), under the registry's lock; None when there is none.
#[cfg(not(cranewasm_no_shared_buffer))]
fn with_store_at<R>(address: usize, length: usize, f: impl FnOnce(*mut c_void, usize) -> R) -> Option<R> {
    let list = SHARED_MEMORIES.lock().unwrap_or_else(|e| e.into_inner());
    let entry = list.iter().find(|e| {
        e.memory.upgrade().is_some_and(|m| address >= e.base && address - e.base < m.byte_length() as usize)
    })?;
    let offset = address - entry.base;
    if offset >= length {
        return None;
    }
    let slot = entry.slot_of(length)?;
    Some(f(slot, offset))
}

/// A shared memory JS has been given SharedArrayBuffers of: its base address, the memory, and
/// the slots (each a `std::weak_ptr<v8::BackingStore>`, see src/shared_buffer.cc) of the backing
/// stores its buffers of each length alive share in every thread.
struct SharedEntry {
    base: usize,
    memory: Weak<LinearMemory>,
    #[cfg_attr(cranewasm_no_shared_buffer, allow(dead_code))]
    slots: Vec<*mut c_void>,
}

// SAFETY: the slots are only used under the SHARED_MEMORIES lock (std::weak_ptr itself may be
// used from any thread).
unsafe impl Send for SharedEntry {}

#[cfg(not(cranewasm_no_shared_buffer))]
impl SharedEntry {
    /// The slot of the live backing store of `length` bytes, if any.
    fn slot_of(&self, length: usize) -> Option<*mut c_void> {
        self.slots.iter().copied().find(|&slot| {
            let mut alive = 0usize;
            // SAFETY: the slot is live (owned by this entry).
            unsafe { cranewasm_store_slot_length(slot, &mut alive) == 1 && alive == length }
        })
    }

    /// Frees the slots whose backing store is gone.
    fn sweep(&mut self) {
        self.slots.retain(|&slot| {
            let mut length = 0usize;
            // SAFETY: the slot is live (owned by this entry); freed once, here.
            unsafe {
                let alive = cranewasm_store_slot_length(slot, &mut length) == 1;
                if !alive {
                    cranewasm_store_slot_free(slot);
                }
                alive
            }
        });
    }
}

impl Drop for SharedEntry {
    fn drop(&mut self) {
        #[cfg(not(cranewasm_no_shared_buffer))]
        for &slot in &self.slots {
            // SAFETY: the slot was made by cranewasm_store_slot_new for this entry alone.
            unsafe { cranewasm_store_slot_free(slot) };
        }
    }
}

/// The shared memories whose SharedArrayBuffers JS has been given, by base address, for any
/// thread: a SharedArrayBuffer posted to a Worker leads back to its memory there
/// ([`shared_memory_from_buffer`]), and every thread's buffers of one length share one backing
/// store. Weak: the registry keeps no memory alive.
static SHARED_MEMORIES: std::sync::Mutex<Vec<SharedEntry>> = std::sync::Mutex::new(Vec::new());

/// The registry's entry of `memory` (added if missing), in the locked list.
fn shared_entry<'a>(list: &'a mut Vec<SharedEntry>, memory: &Arc<LinearMemory>) -> &'a mut SharedEntry {
    list.retain(|e| e.memory.strong_count() > 0);
    let base = memory.base() as usize;
    let index = match list.iter().position(|e| e.base == base) {
        Some(index) => index,
        None => {
            list.push(SharedEntry { base, memory: Arc::downgrade(memory), slots: Vec::new() });
            list.len() - 1
        }
    };
    &mut list[index]
}

fn register_shared(memory: &Arc<LinearMemory>) {
    let mut list = SHARED_MEMORIES.lock().unwrap_or_else(|e| e.into_inner());
    shared_entry(&mut list, memory);
}

/// The shared memory (of any thread) whose bytes `buffer`, a SharedArrayBuffer, is, if it is
/// one of a shared WebAssembly.Memory's: how a Worker gets the memory its parent posted.
#[napi]
pub fn shared_memory_from_buffer(buffer: Raw) -> Option<NativeMemory> {
    #[cfg(not(cranewasm_no_shared_buffer))]
    {
        let (mut data, mut length) = (ptr::null_mut(), 0usize);
        // SAFETY: `buffer` is a napi_value of the current call; the helper only reads it.
        if unsafe { cranewasm_shared_array_buffer_data(buffer.0, &mut data, &mut length) } == 0 {
            return None;
        }
        let list = SHARED_MEMORIES.lock().unwrap_or_else(|e| e.into_inner());
        list.iter()
            .find(|e| e.base == data as usize)
            .and_then(|e| e.memory.upgrade())
            .map(NativeMemory::new)
    }
    #[cfg(cranewasm_no_shared_buffer)]
    {
        let _ = buffer;
        None
    }
}

/// V8's deleter of a shared memory's SharedArrayBuffer: runs once (on any thread) when V8 no
/// longer needs the bytes.
#[cfg(not(cranewasm_no_shared_buffer))]
unsafe extern "C" fn release_shared(_data: *mut c_void, _length: usize, hint: *mut c_void) {
    // SAFETY: `hint` is the Box<Arc<LinearMemory>> made for this buffer, released once; the
    // memory is Send + Sync, so it may be dropped on any thread.
    drop(unsafe { Box::from_raw(hint as *mut Arc<LinearMemory>) });
}

/// A SharedArrayBuffer aliasing the first `length` bytes of shared `memory`, which it keeps
/// alive. A shared memory never moves, so the buffer stays valid whatever grows it.
fn shared_array_buffer(js: &Js, memory: &Arc<LinearMemory>, length: usize) -> JsResult<sys::napi_value> {
    #[cfg(not(cranewasm_no_shared_buffer))]
    {
        // The backing store of this length that another buffer (of any thread) has, if alive.
        let mut list = SHARED_MEMORIES.lock().unwrap_or_else(|e| e.into_inner());
        let entry = shared_entry(&mut list, memory);
        if let Some(slot) = entry.slot_of(length) {
            // SAFETY: the slot is live (freed only with the entry, under the lock we hold); we
            // are on a JS thread inside a Node-API call (a current isolate and handle scope).
            let shared = unsafe { cranewasm_shared_array_buffer_from_slot(slot, length) };
            if !shared.is_null() {
                return Ok(shared);
            }
        }
        entry.sweep();
        // SAFETY: a plain allocation, freed by the entry (sweep or Drop).
        let slot = unsafe { cranewasm_store_slot_new() };
        entry.slots.push(slot);
        let keep = Box::into_raw(Box::new(memory.clone()));
        // SAFETY: the bytes [base, base + length) are committed and stay mapped while `keep`
        // lives, which V8 releases through `release_shared`; we are on a JS thread inside a
        // Node-API call, so there is a current isolate and handle scope; the slot is live.
        let buffer = unsafe {
            cranewasm_new_shared_array_buffer(memory.base() as *mut c_void, length, release_shared, keep as *mut c_void, slot)
        };
        drop(list);
        if buffer.is_null() {
            // SAFETY: `keep` was not handed to V8.
            drop(unsafe { Box::from_raw(keep) });
            return Err(js.throw_error("cranewasm: cannot create a SharedArrayBuffer here"));
        }
        Ok(buffer)
    }
    #[cfg(cranewasm_no_shared_buffer)]
    {
        let _ = (memory, length);
        Err(js.throw_error(
            "cranewasm: this build has no SharedArrayBuffer support (Node's headers were not found when it was built)",
        ))
    }
}

unsafe extern "C" fn release_memory(_env: sys::napi_env, _data: *mut c_void, hint: *mut c_void) {
    // SAFETY: `hint` is the Box<Arc<LinearMemory>> made for this ArrayBuffer, released once.
    drop(unsafe { Box::from_raw(hint as *mut Arc<LinearMemory>) });
}

#[napi]
impl NativeMemory {
    /// The memory's ArrayBuffer: the same object until the memory grows; then the old one is
    /// detached and a new one aliases the grown memory. A string instead is the message of the
    /// RangeError for a memory too long for an ArrayBuffer Node-API can make.
    #[napi]
    pub fn buffer(&self, env: Env) -> Result<Raw> {
        let js = js_of(&env);
        raw_result(refresh_buffers(&js))?;
        let key = Arc::as_ptr(&self.memory) as usize;
        // The generation before the length: a growth racing with us (another thread's, of a
        // shared memory) leaves the view stale, not wrongly current.
        let generation = self.memory.generation();
        let length = self.memory.byte_length();
        let cached = BUFFERS.with(|b| b.borrow().get(&key).map(|v| (v.reference, v.generation)));
        if let Some((reference, made_at)) = cached {
            match js.reference_value(reference) {
                Some(buffer) if made_at == generation => return Ok(Raw(buffer)),
                _ => raw_result(detach_buffer(&js, &self.memory))?,
            }
        }
        if self.memory.is_shared() {
            register_shared(&self.memory);
            let buffer = raw_result(shared_array_buffer(&js, &self.memory, length as usize))?;
            let reference = raw_result(js.reference(buffer, 0))?;
            let view = BufferView { memory: Arc::downgrade(&self.memory), reference, generation };
            raw_result(remember_buffer(&js, key, view))?;
            return Ok(Raw(buffer));
        }
        let keep = Box::into_raw(Box::new(self.memory.clone()));
        let mut buffer = ptr::null_mut();
        let created = napi_call!(
            js,
            napi_create_external_arraybuffer(
                self.memory.base() as *mut c_void,
                length as usize,
                Some(release_memory),
                keep as *mut c_void,
                &mut buffer
            )
        );
        if let Err(pending) = created {
            // `keep` is not freed here: Node's external buffer calls the finalizer itself when
            // it refuses the buffer (a memory longer than buffer.constants.MAX_LENGTH), so
            // freeing it too was a double free (found by fuzz-v8: a 65,536-page memory). On a
            // failure before that point the `Arc` leaks, which is safe.
            if length > u32::MAX as u64 + 1 && !matches!(js.type_of(js.take_exception()), sys::ValueType::napi_undefined) {
                let message = format!(
                    "cranewasm: this Memory's buffer would be {length} bytes; Node-API cannot make an \
                     ArrayBuffer over external memory longer than buffer.constants.MAX_LENGTH"
                );
                // index.js throws it as a RangeError of its realm.
                return raw_result(js.string(&message)).map(Raw);
            }
            return raw_result(Err(pending));
        }
        let reference = raw_result(js.reference(buffer, 0))?;
        let view = BufferView { memory: Arc::downgrade(&self.memory), reference, generation };
        raw_result(remember_buffer(&js, key, view))?;
        Ok(Raw(buffer))
    }

    /// Grows by `delta` pages; the old size in pages, or -1 when it cannot. The current
    /// ArrayBuffer is detached (even for a delta of 0, as the JS API says); `buffer()` makes
    /// the next.
    #[napi]
    pub fn grow(&self, env: Env, delta: f64) -> Result<f64> {
        let Some(old) = self.memory.grow(delta as u64) else {
            return Ok(-1.0);
        };
        let js = js_of(&env);
        raw_result(detach_buffer(&js, &self.memory))?;
        Ok(old as f64)
    }

    #[napi]
    pub fn pages(&self) -> f64 {
        self.memory.pages() as f64
    }

    /// Whether the memory is shared (threads).
    #[napi]
    pub fn is_shared(&self) -> bool {
        self.memory.is_shared()
    }

    /// Whether the memory's addresses are i64 (memory64).
    #[napi]
    pub fn is64(&self) -> bool {
        self.memory.is_64()
    }

    /// The declared maximum in pages, if any.
    #[napi]
    pub fn maximum(&self) -> Option<f64> {
        self.memory.declared_maximum().map(|m| m as f64)
    }
}

// ---- Table ----------------------------------------------------------------------------------

#[napi]
pub struct NativeTable {
    table: Arc<Table>,
    env: sys::napi_env,
}

impl Drop for NativeTable {
    fn drop(&mut self) {
        lifetimes::anchor_released(self.env, lifetimes::key(&self.table));
    }
}

fn element_type(name: &str) -> Option<RefType> {
    match name {
        "anyfunc" | "funcref" => Some(RefType::FUNCREF),
        "externref" => Some(RefType::EXTERNREF),
        _ => None,
    }
}

/// Converts a value index.js already checked to a table element (the caller reports the
/// store with `Table::stored`).
fn table_element(js: &Js, table: &Table, value: Raw) -> JsResult<usize> {
    // ToWebAssemblyValue for the element type (null only for nullable types).
    values::to_wasm(js, value.0, ValType::Ref(table.element_type()), || Some(table.canonical_element()))
        .map(|bits| bits as usize)
}

/// `WebAssembly.Table({element, initial, maximum, address}, value)` (sizes that index.js checked
/// are integers in range); a string is the RangeError message.
#[napi]
pub fn create_table(
    env: Env,
    element: String,
    initial: f64,
    maximum: Option<f64>,
    value: Raw,
    table64: bool,
) -> Result<Either<Raw, String>> {
    let js = js_of(&env);
    let Some(ty) = element_type(&element) else {
        return Ok(Either::B(format!("unknown table element type {element}")));
    };
    let table = match Table::new(ty, initial as u64, maximum.map(|m| m as u64), 0) {
        Ok(t) => t.with_table64(table64),
        Err(message) => return Ok(Either::B(message)),
    };
    let init = raw_result(table_element(&js, &table, value))?;
    let table = Arc::new(table);
    lifetimes::register_externref_table(&table);
    let object = raw_result(table_object(&env, &js, table.clone()))?;
    if init != 0 {
        table.elements_mut().fill(init);
    }
    table.stored(init);
    lifetimes::after_call(&js);
    Ok(Either::A(Raw(object)))
}

#[napi]
impl NativeTable {
    #[napi]
    pub fn length(&self) -> f64 {
        self.table.len() as f64
    }

    /// Whether the table's indices are i64 (table64).
    #[napi]
    pub fn is64(&self) -> bool {
        self.table.is_64()
    }

    #[napi]
    pub fn element(&self) -> &'static str {
        if values::is_funcref(self.table.element_type()) {
            "anyfunc"
        } else {
            "externref"
        }
    }

    /// Grows by `delta` elements set to `value`; the old length, or -1 when it cannot.
    #[napi]
    pub fn grow(&self, env: Env, delta: f64, value: Raw) -> Result<f64> {
        let js = js_of(&env);
        let init = raw_result(table_element(&js, &self.table, value))?;
        let grown = self.table.grow(delta as u64, init);
        if grown.is_some() {
            self.table.stored(init);
        }
        lifetimes::after_call(&js);
        Ok(grown.map_or(-1.0, |old| old as f64))
    }

    /// Element `index` (index.js checked the bounds).
    #[napi]
    pub fn get(&self, env: Env, index: f64) -> Result<Raw> {
        let js = js_of(&env);
        let bits = self.table.get(index as u64).unwrap_or(0);
        let ty = ValType::Ref(self.table.element_type());
        raw_result(values::to_js(&js, bits as u128, ty)).map(Raw)
    }

    #[napi]
    pub fn set(&self, env: Env, index: f64, value: Raw) -> Result<()> {
        let js = js_of(&env);
        let element = raw_result(table_element(&js, &self.table, value))?;
        if self.table.set(index as u64, element).is_ok() {
            self.table.stored(element);
        }
        lifetimes::after_call(&js);
        Ok(())
    }
}

/// `Table.prototype.get`/`set` of one table in one call each, as plain Node-API functions bound
/// to the table (index.js makes them once per table): napi-rs's method wrappers open a borrow
/// scope, allocate, unwrap and check the object's type tag on every call, most of the cost of
/// these hot paths.
///
/// `get(index, outOfRange)`: element `index`, or `outOfRange` when the index is not below the
/// length. `set(index, value)`: false when the index is not below the length (nothing is
/// converted then), else converts `value` (a TypeError when the type does not admit it), stores
/// it and gives true; `set(index)` stores null.
#[napi]
pub fn table_accessor(env: Env, table: &NativeTable, set: bool) -> Result<Raw> {
    let js = js_of(&env);
    let (name, callback): (&std::ffi::CStr, sys::napi_callback) =
        if set { (c"set", Some(table_set_callback)) } else { (c"get", Some(table_get_callback)) };
    let plain_funcref = table.table.element_type() == RefType::FUNCREF;
    let data = Box::into_raw(Box::new(TableAccess { table: table.table.clone(), plain_funcref }));
    let mut function = std::ptr::null_mut();
    let created = napi_call!(js, napi_create_function(name.as_ptr(), 2, callback, data.cast(), &mut function))
        .and_then(|()| napi_call!(js, napi_add_finalizer(function, data.cast(), Some(release_table), std::ptr::null_mut(), std::ptr::null_mut())));
    if created.is_err() {
        // SAFETY: `data` came from Box::into_raw above and no finalizer owns it.
        drop(unsafe { Box::from_raw(data) });
    }
    raw_result(created)?;
    Ok(Raw(function))
}

/// What a table accessor is bound to: the table, and whether its elements are plain `funcref`
/// (nullable `func`), which the setter converts without the general path.
struct TableAccess {
    table: Arc<Table>,
    plain_funcref: bool,
}

unsafe extern "C" fn release_table(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    // SAFETY: `data` is the Box<TableAccess> of `table_accessor`, released once, here.
    drop(unsafe { Box::from_raw(data as *mut TableAccess) });
}

/// The table a table accessor is bound to, its index argument and its second argument (None
/// when it was not passed).
fn table_arguments<'a>(js: &Js, info: sys::napi_callback_info) -> JsResult<(&'a TableAccess, f64, Option<sys::napi_value>)> {
    let mut args = [std::ptr::null_mut(); 2];
    let mut argc = args.len();
    let mut data = std::ptr::null_mut();
    napi_call!(js, napi_get_cb_info(info, &mut argc, args.as_mut_ptr(), std::ptr::null_mut(), &mut data))?;
    // SAFETY: `data` is the Box<TableAccess> the function was created with, alive while the
    // function object is (it is being called).
    let access = unsafe { &*(data as *const TableAccess) };
    let mut index = 0.0;
    napi_call!(js, napi_get_value_double(args[0], &mut index))?;
    Ok((access, index, (argc >= 2).then_some(args[1])))
}

fn js_boolean(js: &Js, value: bool) -> JsResult<sys::napi_value> {
    let mut v = std::ptr::null_mut();
    napi_call!(js, napi_get_boolean(value, &mut v))?;
    Ok(v)
}

unsafe extern "C" fn table_get_callback(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: Node runs this callback on the JS thread with its env.
    let js = unsafe { Js::from_env(env) };
    let get = || -> JsResult<sys::napi_value> {
        let (access, index, out_of_range) = table_arguments(&js, info)?;
        let table = &access.table;
        let Some(bits) = table.get(index as u64) else {
            return Ok(out_of_range.unwrap_or_else(|| js.undefined()));
        };
        values::to_js(&js, bits as u128, ValType::Ref(table.element_type()))
    };
    get().unwrap_or(std::ptr::null_mut())
}

unsafe extern "C" fn table_set_callback(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: Node runs this callback on the JS thread with its env.
    let js = unsafe { Js::from_env(env) };
    let set = || -> JsResult<sys::napi_value> {
        let (access, index, value) = table_arguments(&js, info)?;
        let table = &access.table;
        if index as u64 >= table.len() {
            return js_boolean(&js, false);
        }
        // No value: null (index.js passes none for null, sparing a `typeof`).
        let element = match (value, access.plain_funcref) {
            (None, true) => 0,
            (Some(value), true) => values::plain_funcref_to_wasm(&js, value)?,
            (value, false) => table_element(&js, table, Raw(value.unwrap_or_else(|| js.null())))?,
        };
        let stored = table.set(index as u64, element).is_ok();
        if stored {
            table.stored(element);
        }
        lifetimes::after_call(&js);
        js_boolean(&js, stored)
    };
    set().unwrap_or(std::ptr::null_mut())
}

// ---- Global ---------------------------------------------------------------------------------

#[napi]
pub struct NativeGlobal {
    global: Arc<Global>,
    env: sys::napi_env,
}

impl Drop for NativeGlobal {
    fn drop(&mut self) {
        lifetimes::anchor_released(self.env, lifetimes::key(&self.global));
    }
}

/// `WebAssembly.Global({value, mutable}, v)` with `v` already converted by index.js.
#[napi]
pub fn create_global(env: Env, value_type: String, mutable: bool, value: Raw) -> Result<Raw> {
    let js = js_of(&env);
    let Some(content_type) = values::parse_type(&value_type) else {
        return Err(Error::new(Status::InvalidArg, format!("unknown value type {value_type}")));
    };
    // A JS API type name: no concrete reference to resolve.
    let bits = raw_result(values::to_wasm(&js, value.0, content_type, || None))?;
    let global = Arc::new(Global::new(GlobalType { content_type, mutable, shared: false }, bits));
    lifetimes::register_externref_global(&global);
    let object = raw_result(global_object(&env, &js, global.clone()))?;
    global.stored(bits);
    lifetimes::after_call(&js);
    Ok(Raw(object))
}

#[napi]
impl NativeGlobal {
    #[napi]
    pub fn get_value(&self, env: Env) -> Result<Raw> {
        let js = js_of(&env);
        raw_result(values::to_js(&js, self.global.get(), self.global.ty.content_type)).map(Raw)
    }

    /// Sets the value (index.js checked mutability and converted the value).
    #[napi]
    pub fn set_value(&self, env: Env, value: Raw) -> Result<()> {
        let js = js_of(&env);
        let global = &self.global;
        let bits = raw_result(values::to_wasm(&js, value.0, global.ty.content_type, || Some(global.canonical_type())))?;
        self.global.store(bits);
        lifetimes::after_call(&js);
        Ok(())
    }

    #[napi]
    pub fn value_type(&self) -> &'static str {
        values::type_name(self.global.ty.content_type)
    }

    #[napi]
    pub fn mutable(&self) -> bool {
        self.global.ty.mutable
    }
}
