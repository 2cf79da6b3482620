//! SIMD lane arithmetic, comparisons, conversions, narrowing and widening, dot products.
//! (Being written: claims no operator yet.)

use wasmparser::Operator;

use super::super::FuncTranslator;

pub(super) fn translate(t: &mut FuncTranslator<'_, '_>, op: &Operator<'_>) -> Result<bool, String> {
    let _ = (t, op);
    Ok(false)
}
