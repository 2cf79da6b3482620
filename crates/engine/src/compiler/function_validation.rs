//! (1)+(2) Decode the module's sections and validate its function bodies in parallel on the
//! rayon pool, overlapped: bodies are validated in batches while the sections after the code
//! section are still being decoded. The error reported is the first in byte order, so the result
//! does not depend on scheduling.

use std::sync::{Arc, Mutex};

use wasmparser::FuncValidatorAllocations;

use super::decode::{Decoder, PendingBody, Progress};
use super::error::CompileError;
use super::fast_validation;
use crate::module::Module;

/// Function bodies validated by one task of [`decode_and_validate`]: enough bytes that a task's
/// overhead (spawning, a validator's allocations: a few µs) stays small against the work (~0.2
/// ms), small enough that the decoding thread hands work to the others early and that the
/// threads finish together: at the end one thread waits on average for half a task of
/// another (with 128 KB tasks, ~0.5 ms of a 4.3 MB module's ~18 ms compile on 2 cores).
const BATCH_BYTES: u64 = 32 * 1024;

/// Decodes and validates `bytes` on the current rayon pool, in one pipeline: the calling
/// thread decodes the sections in order (wasmparser's `Validator` is sequential) and hands the
/// function bodies, in batches as the code section yields them, to the pool's other threads,
/// which validate them while it goes on with the sections after the code section (a Go module's
/// ~100,000 data segments), then joins them; the module's copy of the bytes is made by a pool
/// thread too. The error reported is the first in byte order among the sections' and the
/// bodies', as V8 reports it, whatever the scheduling.
/// `owned`: the bytes as the module will keep them, when the caller already has them so (else
/// they are copied).
pub(super) fn decode_and_validate(
    bytes: &[u8],
    owned: Option<Arc<[u8]>>,
    features: wasmparser::WasmFeatures,
) -> Result<Module, CompileError> {
    // The first body error in byte order, without the function's name (the name section comes
    // after the code section): (offset, function index, error).
    let first_error: Mutex<Option<CompileError>> = Mutex::new(None);
    let needs_copy = owned.is_none();
    let copy: Mutex<Option<Arc<[u8]>>> = Mutex::new(owned);
    let mut decoder = Decoder::new(features);
    let progress = rayon::scope(|scope| {
        if needs_copy {
            scope.spawn(|_| *copy.lock().unwrap_or_else(|e| e.into_inner()) = Some(crate::runtime::copy_bytes(bytes)));
        }
        let first_error = &first_error;
        let mut batch: Vec<PendingBody<'_>> = Vec::new();
        let mut batch_bytes = 0;
        let progress = decoder.feed(bytes, true, |_, body| {
            let range = body.body.range();
            batch_bytes += range.end - range.start;
            batch.push(body);
            if batch_bytes >= BATCH_BYTES {
                let full = std::mem::take(&mut batch);
                batch_bytes = 0;
                scope.spawn(move |_| validate_batch(full, first_error));
            }
        });
        if !batch.is_empty() {
            scope.spawn(move |_| validate_batch(batch, first_error));
        }
        progress
    });
    let section_error = match progress {
        Progress::End => None,
        Progress::BadHeader(err) => return Err(err),
        Progress::Failed(err) => Some(err),
        Progress::NeedMoreData => unreachable!("the decoder does not wait for more at eof"),
    };
    let mut module = decoder.into_module();
    let body_error = first_error.into_inner().unwrap_or_else(|e| e.into_inner()).map(|mut error| {
        if let Some((index, name)) = &mut error.function {
            *name = module.function_name(*index).map(str::to_string);
        }
        error
    });
    match (body_error, section_error) {
        (Some(a), Some(b)) => return Err(if a.offset <= b.offset { a } else { b }),
        (Some(err), None) | (None, Some(err)) => return Err(err),
        (None, None) => {}
    }
    module.bytes = copy.into_inner().unwrap_or_else(|e| e.into_inner()).unwrap_or_else(|| crate::runtime::copy_bytes(bytes));
    Ok(module)
}

/// Validates `batch`, keeping in `first_error` the error that comes first in byte order. Each
/// body goes through the fast path first, when the module has one; what it does not find valid
/// is wasmparser's to decide.
fn validate_batch(batch: Vec<PendingBody<'_>>, first_error: &Mutex<Option<CompileError>>) {
    let mut allocs = FuncValidatorAllocations::default();
    for pending in batch {
        let fast = pending.fast.as_deref();
        if fast.is_some_and(|fast| fast_validation::validate(fast, pending.func.ty, pending.body.as_bytes())) {
            continue;
        }
        let mut validator = pending.func.into_validator(allocs);
        if let Err(err) = validator.validate(&pending.body) {
            let mut error = CompileError::from_reader(&err);
            error.function = Some((pending.index, None));
            let mut first = first_error.lock().unwrap_or_else(|e| e.into_inner());
            if first.as_ref().is_none_or(|f| error.offset < f.offset) {
                *first = Some(error);
            }
            // Later bodies of this batch can only have later errors.
            return;
        }
        allocs = validator.into_allocations();
    }
}
