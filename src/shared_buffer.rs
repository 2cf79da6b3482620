//! The functions of src/shared_buffer.cc (V8's C++ API, where Node-API has nothing for a
//! SharedArrayBuffer over memory the addon owns), declared once for objects.rs (shared memories'
//! buffers), clone.rs (Module tokens) and js_atomics.rs (the cells JS waits on). Every call needs
//! a current isolate (a JS thread) and, for those returning a napi_value, an open handle scope.

use std::ffi::c_void;

use napi::sys;

extern "C" {
    /// src/shared_buffer.cc: a SharedArrayBuffer over `data` as a napi_value, or null.
    pub(crate) fn cranewasm_new_shared_array_buffer(
        data: *mut c_void,
        length: usize,
        release: unsafe extern "C" fn(*mut c_void, usize, *mut c_void),
        hint: *mut c_void,
        slot: *mut c_void,
    ) -> sys::napi_value;
    /// src/shared_buffer.cc: the bytes of a SharedArrayBuffer; 0 when `value` is none.
    pub(crate) fn cranewasm_shared_array_buffer_data(value: sys::napi_value, data: *mut *mut c_void, length: *mut usize) -> i32;
    /// src/shared_buffer.cc: a new weak slot for a backing store.
    pub(crate) fn cranewasm_store_slot_new() -> *mut c_void;
    /// src/shared_buffer.cc: frees a slot.
    pub(crate) fn cranewasm_store_slot_free(slot: *mut c_void);
    /// src/shared_buffer.cc: a SharedArrayBuffer over the slot's backing store if it is alive
    /// and `length` bytes long, else null.
    pub(crate) fn cranewasm_shared_array_buffer_from_slot(slot: *mut c_void, length: usize) -> sys::napi_value;
    /// src/shared_buffer.cc: whether a slot's backing store is alive (1, its length written).
    pub(crate) fn cranewasm_store_slot_length(slot: *mut c_void, length: *mut usize) -> i32;
}
