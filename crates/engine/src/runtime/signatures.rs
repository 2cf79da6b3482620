//! The process-wide registry of canonical type ids: equivalent function types get the same id
//! in every module, so `call_indirect` and imports check a type with one integer compare, across
//! modules, and declared subtyping is a walk up the registry's supertype chain.
//!
//! Types are canonicalized as WebAssembly 3.0 defines equivalence (iso-recursive): a recursion
//! group is registered as a whole, its types' references to types of the same group kept as
//! group-relative indices and references to earlier types replaced by those types' canonical
//! ids ([`CanonType`]); two types are the same when they sit at the same place of equal groups.
//! So two modules' types are equal only when what they reference is, and a type's declared
//! finality and supertype are part of it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use wasmparser::{AbstractHeapType, FieldType, FuncType, HeapType, RefType, StorageType, UnpackedIndex, ValType};

use crate::module::{Module, TypeInfo, TypeKind};

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
            // Validation guarantees the index names a type; 0 matches nothing.
            id: ids.get(index as usize).copied().unwrap_or(0),
        },
        _ => CanonType::Plain(ValType::Ref(r)),
    }
}

/// Whether a value of type `actual` may be used where `expected` is: subtyping of reference
/// types as 3.0 without GC has it (declared function subtypes, `nofunc` below every function
/// type, `noextern` below `extern`, non-null below nullable).
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
        (Concrete { nullable: a, id: x }, Concrete { nullable: e, id: y }) => {
            nullability(a, e) && is_subtype(x, y)
        }
        (Concrete { nullable: a, id }, Plain(ValType::Ref(e))) => {
            abstract_of(e) == Some(AbstractHeapType::Func) && nullability(a, e.is_nullable()) && is_func(id)
        }
        (Plain(ValType::Ref(a)), Concrete { nullable: e, id }) => {
            abstract_of(a) == Some(AbstractHeapType::NoFunc) && nullability(a.is_nullable(), e) && is_func(id)
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

/// The parameter and result types of the function type with canonical id `id`, concrete
/// references resolved; `None` when `id` is not a function type. Takes the registry's lock: for
/// slow paths (the JS boundary converting a typed function reference).
pub fn signature(id: u32) -> Option<CanonSignature> {
    registry().signatures.get(id as usize).cloned().flatten()
}

/// Whether canonical id `id` is a function type (not a struct or array type).
fn is_func(id: u32) -> bool {
    registry().is_func.get(id as usize).copied().unwrap_or(false)
}

/// Whether the type with canonical id `actual` is `expected` or declares it (directly or
/// through its supertypes) as a supertype.
pub fn is_subtype(actual: u32, expected: u32) -> bool {
    if actual == expected {
        return true;
    }
    let registry = registry();
    let mut id = actual;
    // Validation bounds the depth of a supertype chain (63); the chain always ends.
    while let Some(&supertype) = registry.supertypes.get(id as usize) {
        if supertype == 0 {
            return false;
        }
        if supertype == expected {
            return true;
        }
        id = supertype;
    }
    false
}

/// A type reference inside a registered group.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum GroupRef {
    /// The type at this index of the same group.
    Internal(u32),
    /// A type of an earlier group, by canonical id.
    External(u32),
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum KeyType {
    Plain(ValType),
    Concrete { nullable: bool, target: GroupRef },
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum KeyStorage {
    I8,
    I16,
    Val(KeyType),
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum Composite {
    Func { params: Box<[KeyType]>, results: Box<[KeyType]> },
    /// A struct's fields or (`Array`) an array's element: `(mutable, storage)`.
    Struct(Box<[(bool, KeyStorage)]>),
    Array((bool, KeyStorage)),
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct TypeKey {
    is_final: bool,
    supertype: Option<GroupRef>,
    composite: Composite,
}

#[derive(Default)]
struct Registry {
    /// Each registered group's first id.
    groups: HashMap<Box<[TypeKey]>, u32>,
    /// The declared supertype's id of each id (0: none); entry 0 is unused.
    supertypes: Vec<u32>,
    /// Whether each id is a function type.
    is_func: Vec<bool>,
    /// Each function type's parameters and results with concrete references resolved (what the
    /// JS boundary checks a typed function reference against); `None` for other types.
    signatures: Vec<Option<CanonSignature>>,
}

/// A function type's parameter and result types, comparable across modules.
pub type CanonSignature = Arc<(Box<[CanonType]>, Box<[CanonType]>)>;

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY
        .get_or_init(|| {
            Mutex::new(Registry {
                groups: HashMap::new(),
                supertypes: vec![0],
                is_func: vec![false],
                signatures: vec![None],
            })
        })
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// Registers a group (its types' keys) and returns its first id: the same for equal groups.
fn register(group: Box<[TypeKey]>) -> u32 {
    let mut registry = registry();
    if let Some(&first) = registry.groups.get(&group) {
        return first;
    }
    let first = registry.supertypes.len() as u32;
    for ty in group.iter() {
        let supertype = match ty.supertype {
            None => 0,
            Some(GroupRef::Internal(i)) => first + i,
            Some(GroupRef::External(id)) => id,
        };
        registry.supertypes.push(supertype);
        registry.is_func.push(matches!(ty.composite, Composite::Func { .. }));
        let resolve = |k: &KeyType| match *k {
            KeyType::Plain(v) => CanonType::Plain(v),
            KeyType::Concrete { nullable, target: GroupRef::Internal(i) } => CanonType::Concrete { nullable, id: first + i },
            KeyType::Concrete { nullable, target: GroupRef::External(id) } => CanonType::Concrete { nullable, id },
        };
        let signature = match &ty.composite {
            Composite::Func { params, results } => {
                Some(Arc::new((params.iter().map(resolve).collect(), results.iter().map(resolve).collect())))
            }
            _ => None,
        };
        registry.signatures.push(signature);
    }
    registry.groups.insert(group, first);
    first
}

// Defined here rather than in `module.rs`, which names no layer above it: a module's ids come
// from this registry.
impl Module {
    /// The canonical signature id of each of the module's types, comparable across modules
    /// (registered on first use, then kept in the module).
    pub fn type_ids(&self) -> &[u32] {
        self.canonical_type_ids
            .get_or_init(|| canonical_ids(&self.types, &self.type_info, &self.aggregate_fields).into())
    }
}

/// The canonical ids of a module's types, in order (`info` gives their groups and supertypes;
/// a type without an entry is a plain final type). Ids start at 1 so that 0 never matches a
/// real type.
pub fn canonical_ids(
    types: &[FuncType],
    info: &[TypeInfo],
    aggregate_fields: &HashMap<u32, Box<[FieldType]>>,
) -> Vec<u32> {
    let mut ids: Vec<u32> = Vec::with_capacity(types.len());
    while ids.len() < types.len() {
        let first = ids.len() as u32;
        let group = info.get(first as usize).copied().unwrap_or(TypeInfo::plain(first));
        // Validation makes groups contiguous and in bounds; a malformed `info` degrades to
        // single-type groups rather than reading out of bounds.
        let len = if group.group_start == first && group.group_len >= 1 {
            group.group_len.min(types.len() as u32 - first)
        } else {
            1
        };
        let reference = |index: u32| {
            if (first..first + len).contains(&index) {
                GroupRef::Internal(index - first)
            } else {
                GroupRef::External(ids.get(index as usize).copied().unwrap_or(0))
            }
        };
        let key_type = |ty: &ValType| match canon_group_ref(*ty) {
            Some((nullable, index)) => KeyType::Concrete { nullable, target: reference(index) },
            None => KeyType::Plain(*ty),
        };
        let key: Box<[TypeKey]> = (first..first + len)
            .map(|index| {
                let ty = &types[index as usize];
                let info = info.get(index as usize).copied().unwrap_or(TypeInfo::plain(index));
                let field = |f: &FieldType| {
                    let storage = match f.element_type {
                        StorageType::I8 => KeyStorage::I8,
                        StorageType::I16 => KeyStorage::I16,
                        StorageType::Val(v) => KeyStorage::Val(key_type(&v)),
                    };
                    (f.mutable, storage)
                };
                let fields = || aggregate_fields.get(&index).map(|f| &f[..]).unwrap_or(&[]);
                let composite = match info.kind {
                    TypeKind::Func => Composite::Func {
                        params: ty.params().iter().map(key_type).collect(),
                        results: ty.results().iter().map(key_type).collect(),
                    },
                    TypeKind::Struct => Composite::Struct(fields().iter().map(field).collect()),
                    TypeKind::Array => Composite::Array(
                        fields().first().map(field).unwrap_or((false, KeyStorage::I8)),
                    ),
                };
                TypeKey { is_final: info.is_final, supertype: info.supertype.map(reference), composite }
            })
            .collect();
        let base = register(key);
        ids.extend((0..len).map(|i| base + i));
    }
    ids
}

/// `(nullable, module index)` of a concrete reference type.
fn canon_group_ref(ty: ValType) -> Option<(bool, u32)> {
    match ty {
        ValType::Ref(r) => match r.heap_type() {
            HeapType::Concrete(UnpackedIndex::Module(index)) => Some((r.is_nullable(), index)),
            _ => None,
        },
        _ => None,
    }
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
        let a = canonical_ids(&[func(&[], &[]), func(&[concrete(0, false)], &[])], &[], &HashMap::new());
        // Module B: $0 = (func (param i32)), $1 = (func (param (ref $0))): same text, other type.
        let b = canonical_ids(&[func(&[ValType::I32], &[]), func(&[concrete(0, false)], &[])], &[], &HashMap::new());
        // Module C: like A with an unrelated type first.
        let c = canonical_ids(&[func(&[ValType::F64], &[]), func(&[], &[]), func(&[concrete(1, false)], &[])], &[], &HashMap::new());
        assert_ne!(a[1], b[1]);
        assert_eq!(a[1], c[2]);
        assert_eq!(a[0], canonical_ids(&[func(&[], &[])], &[], &HashMap::new())[0]);
    }

    #[test]
    fn signatures_resolve_concrete_references() {
        // $0 = (func (result i32)), $1 = (func (param (ref null $0) f64) (result (ref $1))) in a
        // group of its own each.
        let ids = canonical_ids(
            &[func(&[], &[ValType::I32]), func(&[concrete(0, true), ValType::F64], &[concrete(1, false)])],
            &[],
            &HashMap::new(),
        );
        let first = signature(ids[0]).unwrap();
        assert_eq!(&first.0[..], &[]);
        assert_eq!(&first.1[..], &[CanonType::Plain(ValType::I32)]);
        let second = signature(ids[1]).unwrap();
        assert_eq!(
            &second.0[..],
            &[CanonType::Concrete { nullable: true, id: ids[0] }, CanonType::Plain(ValType::F64)]
        );
        assert_eq!(&second.1[..], &[CanonType::Concrete { nullable: false, id: ids[1] }]);
        assert!(signature(0).is_none());
    }

    #[test]
    fn subtyping_without_gc() {
        let id = canonical_ids(&[func(&[], &[])], &[], &HashMap::new())[0];
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

    fn group(start: u32, len: u32, supertype: Option<u32>, is_final: bool) -> TypeInfo {
        TypeInfo { group_start: start, group_len: len, supertype, is_final, kind: TypeKind::Func }
    }

    #[test]
    fn recursion_groups_are_equal_by_structure_and_position() {
        // (rec (type $a (func (param (ref $b)))) (type $b (func (param (ref $a))))), twice in
        // one module and once in another after an unrelated type.
        let pair = [func(&[concrete(1, true)], &[]), func(&[concrete(0, true)], &[])];
        let info = [group(0, 2, None, true), group(0, 2, None, true)];
        let a = canonical_ids(&pair, &info, &HashMap::new());
        let shifted = [func(&[ValType::I64], &[]), func(&[concrete(2, true)], &[]), func(&[concrete(1, true)], &[])];
        let info = [TypeInfo::plain(0), group(1, 2, None, true), group(1, 2, None, true)];
        let b = canonical_ids(&shifted, &info, &HashMap::new());
        assert_eq!(&a[..], &b[1..]);
        // Same two signatures, each in a group of its own: different types.
        let c = canonical_ids(&[func(&[], &[]), func(&[concrete(0, true)], &[])], &[], &HashMap::new());
        assert_ne!(a[1], c[1]);
        // The two types of the group are distinct although they look alike.
        assert_ne!(a[0], a[1]);
    }

    #[test]
    fn declared_subtypes() {
        // $0 = (sub (func)), $1 = (sub $0 (func)), $2 = (sub final $1 (func)), $3 = (func).
        let types = [func(&[], &[]), func(&[], &[]), func(&[], &[]), func(&[], &[])];
        let info = [
            group(0, 1, None, false),
            group(1, 1, Some(0), false),
            group(2, 1, Some(1), true),
            TypeInfo::plain(3),
        ];
        let ids = canonical_ids(&types, &info, &HashMap::new());
        assert!(is_subtype(ids[2], ids[0]));
        assert!(is_subtype(ids[1], ids[0]));
        assert!(!is_subtype(ids[0], ids[1]));
        // A final type without supertype is another type than an open one of the same shape.
        assert_ne!(ids[3], ids[0]);
        assert!(!is_subtype(ids[3], ids[0]));
        let t = |i: usize, nullable| CanonType::Concrete { nullable, id: ids[i] };
        assert!(matches(t(2, false), t(0, true)));
        assert!(!matches(t(2, true), t(0, false)));
        assert!(!matches(t(0, false), t(2, true)));
    }
}
