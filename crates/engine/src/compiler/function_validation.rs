//! (2) Validate function bodies in parallel on the rayon pool. Each worker keeps its own
//! validator allocations; the error reported is the first in byte order, so the result does not
//! depend on scheduling.

use rayon::prelude::*;
use wasmparser::FuncValidatorAllocations;

use super::decode::PendingBody;
use super::error::CompileError;
use crate::module::Module;

/// The first error in byte order among the bodies' and `section_error`, if any.
pub(super) fn validate_bodies(
    module: &Module,
    bodies: Vec<PendingBody<'_>>,
    section_error: Option<CompileError>,
) -> Result<(), CompileError> {
    let body_error = bodies
        .into_par_iter()
        .map_init(FuncValidatorAllocations::default, |allocs, pending| {
            let mut validator = pending.func.into_validator(std::mem::take(allocs));
            let result = validator.validate(&pending.body).map_err(|err| {
                let mut error = CompileError::from_reader(&err);
                let name = module.function_name(pending.index).map(str::to_string);
                error.function = Some((pending.index, name));
                error
            });
            *allocs = validator.into_allocations();
            result
        })
        .filter_map(Result::err)
        .min_by_key(|err| err.offset);
    match (body_error, section_error) {
        (Some(a), Some(b)) => Err(if a.offset <= b.offset { a } else { b }),
        (Some(err), None) | (None, Some(err)) => Err(err),
        (None, None) => Ok(()),
    }
}
