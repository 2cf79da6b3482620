//! The process-wide registry of canonical signature ids: structurally equal function types get
//! the same id in every module, so `call_indirect` and imports check a signature with one
//! integer compare, across modules.
//!
//! With typed function references a function type may mention other types of its module
//! (`(ref $t)`), by module-relative index. Such references are resolved to the canonical id of
//! the type they name before a type is registered ([`CanonType`]), so two modules' types are
//! equal only when what they reference is. Without GC every type is its own recursion group and
//! may only reference types before it, so the resolution is a single pass in order.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use wasmparser::{AbstractHeapType, FuncType, HeapType, RefType, UnpackedIndex, ValType};

/// A value type comparable across modules: concrete references carry the canonical id of the
/// function type they reference instead of a module-relative index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CanonType {
    /// A number, vector or abstract reference type.
    Plain(ValType),
    /// `(ref null? $t)`, by `$t`'s canonical id.
    Concrete { nullable: bool, id: u32 },
}

/// `ty` of a module whose types have the canonical ids `ids`.
pub fn canon(ty: ValType, ids: &[u32]) -> CanonType {
    match ty {
        ValType::Ref(r) => canon_ref(r, ids),
        other => CanonType::Plain(other),
    }
}

/// `r` of a module whose types have the canonical ids `ids`.
pub fn canon_ref(r: RefType, ids: &[u32]) -> CanonType {
    match r.heap_type() {
        HeapType::Concrete(UnpackedIndex::Module(index)) => CanonType::Concrete {
            nullable: r.is_nullable(),
            // Validation guarantees the index names an earlier type; 0 matches nothing.
            id: ids.get(index as usize).copied().unwrap_or(0),
        },
        _ => CanonType::Plain(ValType::Ref(r)),
    }
}

/// Whether a value of type `actual` may be used where `expected` is (subtyping, as far as 3.0
/// without GC has it: function types are final, so concrete types match only themselves).
pub fn matches(actual: CanonType, expected: CanonType) -> bool {
    use CanonType::*;
    if actual == expected {
        return true;
    }
    let nullability = |a: bool, e: bool| !a || e;
    let abstract_of = |r: RefType| match r.heap_type() {
        HeapType::Abstract { ty, .. } => Some(ty),
        _ => None,
    };
    match (actual, expected) {
        (Concrete { nullable: a, id: x }, Concrete { nullable: e, id: y }) => x == y && nullability(a, e),
        (Concrete { nullable: a, .. }, Plain(ValType::Ref(e))) => {
            abstract_of(e) == Some(AbstractHeapType::Func) && nullability(a, e.is_nullable())
        }
        (Plain(ValType::Ref(a)), Concrete { nullable: e, .. }) => {
            abstract_of(a) == Some(AbstractHeapType::NoFunc) && nullability(a.is_nullable(), e)
        }
        (Plain(ValType::Ref(a)), Plain(ValType::Ref(e))) => {
            let (Some(x), Some(y)) = (abstract_of(a), abstract_of(e)) else {
                return false;
            };
            let heap = x == y
                || (x == AbstractHeapType::NoFunc && y == AbstractHeapType::Func)
                || (x == AbstractHeapType::NoExtern && y == AbstractHeapType::Extern);
            heap && nullability(a.is_nullable(), e.is_nullable())
        }
        _ => false,
    }
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    params: Box<[CanonType]>,
    results: Box<[CanonType]>,
}

fn register(key: Key) -> u32 {
    static REGISTRY: OnceLock<Mutex<HashMap<Key, u32>>> = OnceLock::new();
    let mut registry = REGISTRY
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let next = registry.len() as u32 + 1;
    *registry.entry(key).or_insert(next)
}

/// The canonical ids of a module's types, in order. Ids start at 1 so that 0 never matches a
/// real signature.
pub fn canonical_ids(types: &[FuncType]) -> Vec<u32> {
    let mut ids = Vec::with_capacity(types.len());
    for ty in types {
        let key = Key {
            params: ty.params().iter().map(|t| canon(*t, &ids)).collect(),
            results: ty.results().iter().map(|t| canon(*t, &ids)).collect(),
        };
        ids.push(register(key));
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    fn func(params: &[ValType], results: &[ValType]) -> FuncType {
        FuncType::new(params.iter().copied(), results.iter().copied())
    }

    fn concrete(index: u32, nullable: bool) -> ValType {
        ValType::Ref(RefType::concrete(nullable, wasmparser::PackedIndex::from_module_index(index).unwrap()))
    }

    #[test]
    fn references_are_resolved_before_types_compare() {
        // Module A: $0 = (func), $1 = (func (param (ref $0))).
        let a = canonical_ids(&[func(&[], &[]), func(&[concrete(0, false)], &[])]);
        // Module B: $0 = (func (param i32)), $1 = (func (param (ref $0))): same text, other type.
        let b = canonical_ids(&[func(&[ValType::I32], &[]), func(&[concrete(0, false)], &[])]);
        // Module C: like A with an unrelated type first.
        let c = canonical_ids(&[func(&[ValType::F64], &[]), func(&[], &[]), func(&[concrete(1, false)], &[])]);
        assert_ne!(a[1], b[1]);
        assert_eq!(a[1], c[2]);
        assert_eq!(a[0], canonical_ids(&[func(&[], &[])])[0]);
    }

    #[test]
    fn subtyping_without_gc() {
        let id = canonical_ids(&[func(&[], &[])])[0];
        let t = |nullable| CanonType::Concrete { nullable, id };
        let funcref = CanonType::Plain(ValType::Ref(RefType::FUNCREF));
        let non_null_func = CanonType::Plain(ValType::Ref(RefType::FUNC));
        let nofunc = CanonType::Plain(ValType::Ref(RefType::NULLFUNCREF));
        assert!(matches(t(false), t(true)));
        assert!(!matches(t(true), t(false)));
        assert!(matches(t(false), non_null_func));
        assert!(matches(t(true), funcref));
        assert!(!matches(t(true), non_null_func));
        assert!(matches(nofunc, t(true)));
        assert!(!matches(nofunc, t(false)));
        assert!(!matches(funcref, t(true)));
        assert!(matches(non_null_func, funcref));
        assert!(!matches(CanonType::Plain(ValType::Ref(RefType::EXTERNREF)), funcref));
        assert!(!matches(CanonType::Concrete { nullable: true, id: id + 1000 }, t(true)));
    }
}
