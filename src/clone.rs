//! Module objects across threads (`postMessage`, `workerData`): clone.js replaces a Module by a
//! marker carrying a *token*, a small SharedArrayBuffer made here, and the receiving thread turns
//! the token back into a Module over the same compiled code ([`module_from_clone_token`]).
//!
//! The token's bytes are an 8-byte allocation of ours; the registry maps their address to the
//! module (a strong `Arc`). V8 calls the buffer's deleter once no thread holds the buffer any
//! more (the message was received and its clone collected, or the message was dropped unread
//! with its port, or the receiving Worker ended), and the deleter removes the entry: an entry
//! lives exactly as long as some message or object can still revive it, with no timeout and no
//! "released when revived" bookkeeping. A SharedArrayBuffer made by user code can never match:
//! its bytes are V8's, at an address no live token has.

use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::{Arc, Mutex};

use napi::Env;
use napi_derive::napi;

use crate::module_cache::SharedModule;
use crate::objects::Raw;
use crate::NativeModule;

/// The bytes of a token: the SharedArrayBuffer's contents (user code may write them; they mean
/// nothing). Their address is the key.
const TOKEN_BYTES: usize = 8;

/// Live tokens by the address of their bytes.
static TOKENS: Mutex<Option<HashMap<usize, Arc<SharedModule>>>> = Mutex::new(None);

fn with_tokens<R>(f: impl FnOnce(&mut HashMap<usize, Arc<SharedModule>>) -> R) -> R {
    let mut tokens = TOKENS.lock().unwrap_or_else(|e| e.into_inner());
    f(tokens.get_or_insert_with(HashMap::new))
}

#[cfg(not(cranewasm_no_shared_buffer))]
use crate::shared_buffer::{cranewasm_new_shared_array_buffer, cranewasm_shared_array_buffer_data};

/// V8's deleter of a token: runs once, on any thread, when no isolate holds the buffer.
#[cfg(not(cranewasm_no_shared_buffer))]
unsafe extern "C" fn release_token(data: *mut c_void, _length: usize, _hint: *mut c_void) {
    let module = with_tokens(|tokens| tokens.remove(&(data as usize)));
    drop(module);
    // SAFETY: `data` is the Box<[u8; TOKEN_BYTES]> made by `module_clone_token` for this
    // buffer, released once (V8 calls the deleter once), and nothing reads it any more.
    drop(unsafe { Box::from_raw(data as *mut [u8; TOKEN_BYTES]) });
}

/// A token for `module`'s compiled code (a SharedArrayBuffer that keeps it alive while any
/// thread holds it); null in a build without SharedArrayBuffer support.
#[napi]
pub fn module_clone_token(module: &NativeModule) -> Option<Raw> {
    #[cfg(not(cranewasm_no_shared_buffer))]
    {
        let data = Box::into_raw(Box::new([0u8; TOKEN_BYTES])) as *mut c_void;
        with_tokens(|tokens| tokens.insert(data as usize, module.shared.clone()));
        // SAFETY: `data` is a live allocation of TOKEN_BYTES bytes that only `release_token`
        // frees; we are on a JS thread inside a Node-API call (a current isolate and handle
        // scope).
        let buffer = unsafe { cranewasm_new_shared_array_buffer(data, TOKEN_BYTES, release_token, std::ptr::null_mut(), std::ptr::null_mut()) };
        if buffer.is_null() {
            with_tokens(|tokens| tokens.remove(&(data as usize)));
            // SAFETY: the allocation was not handed to V8.
            drop(unsafe { Box::from_raw(data as *mut [u8; TOKEN_BYTES]) });
            return None;
        }
        Some(Raw(buffer))
    }
    #[cfg(cranewasm_no_shared_buffer)]
    {
        let _ = module;
        None
    }
}

/// The module a token (from any thread) stands for, as a new NativeModule sharing its code and
/// tier-up state; None for any other value.
#[napi]
pub fn module_from_clone_token(env: Env, token: Raw) -> Option<NativeModule> {
    #[cfg(not(cranewasm_no_shared_buffer))]
    {
        let (mut data, mut length) = (std::ptr::null_mut(), 0usize);
        // SAFETY: `token` is a napi_value of the current call; the helper only reads it.
        if unsafe { cranewasm_shared_array_buffer_data(token.0, &mut data, &mut length) } == 0 || length != TOKEN_BYTES {
            return None;
        }
        with_tokens(|tokens| tokens.get(&(data as usize)).cloned()).map(|shared| NativeModule::new(&env, shared))
    }
    #[cfg(cranewasm_no_shared_buffer)]
    {
        let _ = (env, token);
        None
    }
}

/// How many tokens are alive in the process (tests: none may outlive their messages).
#[napi]
pub fn live_clone_tokens() -> u32 {
    with_tokens(|tokens| tokens.len() as u32)
}
