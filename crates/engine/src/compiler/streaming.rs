//! Streaming compilation (the seed's AsyncStreamingProcessor): a module's bytes arrive in
//! chunks; each chunk is decoded on the compile pool as it comes, and every function body goes
//! to a compile unit as soon as the code section delivers it, so that validation and code
//! generation overlap the download. The outcome is that of compiling all the bytes at once
//! ([`super::compile_for_execution`]): the same module, or the same first error in byte order.
//!
//! Threads: [`StreamingCompile::push`] and [`StreamingCompile::abort`] only queue work and
//! return; one decode step at a time and the units run as tasks of the compile pool;
//! [`StreamingCompile::finish`] blocks until the job is over, so an embedder calls it off its
//! main thread. Every task holds the job's state by `Arc`, so none can outlive it.
//!
//! Scheduling: each task of the pool does one piece of the job's work, and decoding comes
//! first: a task that finds chunks waiting decodes them rather than run the next unit, so a
//! backlog of units never holds up the decoding of new bytes (and with it the units of later
//! bodies, and the detection of errors). Units run in byte order.
//!
//! Errors: the error reported is the first in byte order. A unit skips its work when the job
//! was aborted or when an error is already known before its body (its own could only come
//! later); units of earlier bodies still validate, since theirs would win. A body error's
//! message names the function from the name section, which usually comes after the code:
//! such an error is only certain once the function's name is known or the decoder has
//! stopped. As soon as the error is certain, the failure listener hears it and the job stops
//! decoding.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use wasmparser::{
    BinaryReader, FuncToValidate, FuncValidatorAllocations, FunctionBody, ValidatorResources,
    WasmFeatures,
};

use super::codegen::CompiledFunction;
use super::decode::{Decoder, PendingBody, Progress};
use super::fast_validation::{self, FastModule};
use super::{Compilation, CompileError, CompileOptions};
use crate::module::Module;

/// A streaming compile job. Dropping it aborts the job.
pub struct StreamingCompile {
    job: Arc<Job>,
}

/// Told the job's error once it is certain, at most once, on a compile thread (or on the
/// thread that calls `finish` or `set_failure_listener`).
pub type FailureListener = Box<dyn FnOnce(&CompileError) + Send>;

impl StreamingCompile {
    /// A job that compiles as [`super::options`] say now.
    pub fn new() -> StreamingCompile {
        StreamingCompile::with_options(super::options())
    }

    /// A job that compiles as `options` say, on the compile pool.
    pub fn with_options(options: CompileOptions) -> StreamingCompile {
        StreamingCompile::with_features(options, super::features())
    }

    /// [`StreamingCompile::with_options`] under another feature set.
    pub fn with_features(options: CompileOptions, features: WasmFeatures) -> StreamingCompile {
        STATS.live_jobs.fetch_add(1, Ordering::Relaxed);
        StreamingCompile {
            job: Arc::new(Job {
                options,
                features,
                pool: super::foreground_pool(),
                counters: Counters::new(),
                aborted: AtomicBool::new(false),
                error_offset: AtomicU64::new(NO_ERROR),
                state: Mutex::new(State::default()),
                changed: Condvar::new(),
                input: Mutex::new(Input::new(features)),
            }),
        }
    }

    /// Calls `listener` with the job's error as soon as it is certain, which may be long before
    /// the input ends (a malformed section, a body whose function is named before the code
    /// section). Not called after `abort`, nor when the job succeeds.
    pub fn set_failure_listener(&self, listener: FailureListener) {
        let mut state = self.job.lock();
        if self.job.aborted() {
            return;
        }
        state.listener = Some(listener);
        let notify = self.job.settle(&mut state);
        drop(state);
        notify.run();
    }

    /// Appends `chunk` to the module's bytes (copied) and schedules its decoding. Cheap: the
    /// caller's thread only copies the bytes. Ignored once the job has failed, been aborted or
    /// been finished.
    pub fn push(&self, chunk: &[u8]) {
        if chunk.is_empty() {
            return;
        }
        let mut state = self.job.lock();
        if self.job.aborted() || state.end_of_input || state.decoded {
            return;
        }
        state.chunks.push(chunk.into());
        self.job.schedule_decode(&mut state);
    }

    /// Ends the input, waits until every unit is done and returns the outcome: the module and
    /// its code, compiled as the options say (functions compiled while the bytes arrived are
    /// used as they are), or the first error in byte order. Blocks: call it off the main
    /// thread. An aborted job, or a second call, is an error.
    pub fn finish(&self) -> Result<Compilation, CompileError> {
        let job = &self.job;
        let mut state = job.lock();
        if state.finished {
            return Err(internal_error("streaming compilation finished twice"));
        }
        state.finished = true;
        state.end_of_input = true;
        if !state.decoded {
            job.schedule_decode(&mut state);
        }
        let over = |state: &State| job.aborted() || (state.decoded && state.unfinished.is_empty());
        while !over(&state) {
            state = job.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        if job.aborted() {
            return Err(internal_error("streaming compilation aborted"));
        }
        // Everything is decoded and every unit is done: the error, if any, is certain now.
        if let Some(error) = final_error(&state) {
            let notify = job.settle(&mut state);
            drop(state);
            notify.run();
            return Err(error);
        }
        state.listener = None;
        let precompiled = std::mem::take(&mut state.precompiled);
        drop(state);
        let input = std::mem::replace(&mut *job.input(), Input::new(job.features));
        let mut module = input.decoder.into_module();
        module.bytes = crate::runtime::copy_bytes(&input.bytes);
        let module = Arc::new(module);
        super::trampolines::warm_in_background(module.clone());
        let code = super::finish(module.clone(), precompiled, job.options);
        Ok(Compilation { module, code })
    }

    /// What this job's units did so far.
    pub fn stats(&self) -> StreamingStats {
        self.job.counters.read()
    }

    /// Stops the job: queued work is dropped, units not yet started skip their work, the
    /// bytes received and the code compiled are freed, and the failure listener is dropped
    /// unheard. A unit already compiling runs to its end (its result is dropped).
    pub fn abort(&self) {
        self.job.aborted.store(true, Ordering::SeqCst);
        let mut state = self.job.lock();
        state.chunks.clear();
        state.listener = None;
        state.precompiled = Vec::new();
        let dropped = state.units.len() as u64;
        let State {
            units, unfinished, ..
        } = &mut *state;
        for unit in units.drain(..) {
            unfinished.remove(&unit.start);
        }
        self.job.count(|c| &c.skipped, dropped);
        self.job.unqueue(dropped);
        self.job.changed.notify_all();
        drop(state);
        // A decode step that is running frees the input itself when it sees the abort.
        if let Ok(mut input) = self.job.input.try_lock() {
            *input = Input::new(self.job.features);
        }
    }
}

impl Default for StreamingCompile {
    fn default() -> Self {
        StreamingCompile::new()
    }
}

impl Drop for StreamingCompile {
    fn drop(&mut self) {
        // `finish` borrows the handle: if it was called, it has returned.
        if !self.job.lock().finished {
            self.abort();
        }
    }
}

/// What the units of streaming jobs did: of one job, or of every job of the process. For tests
/// and diagnostics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamingStats {
    /// Jobs whose state is still allocated (while their handle or one of their tasks lives);
    /// 0 in the counters of one job.
    pub live_jobs: u64,
    /// Function bodies the decoders handed to units.
    pub bodies: u64,
    /// Units that validated their body (valid or not).
    pub validated: u64,
    /// Units that also compiled it.
    pub compiled: u64,
    /// Units that skipped their work: the job was aborted, or had failed before their body.
    pub skipped: u64,
    /// Units queued or running now.
    pub pending: u64,
}

/// The counters of every job of the process so far.
pub fn stats() -> StreamingStats {
    STATS.read()
}

struct Counters {
    live_jobs: AtomicU64,
    bodies: AtomicU64,
    validated: AtomicU64,
    compiled: AtomicU64,
    skipped: AtomicU64,
    pending: AtomicU64,
}

impl Counters {
    const fn new() -> Counters {
        Counters {
            live_jobs: AtomicU64::new(0),
            bodies: AtomicU64::new(0),
            validated: AtomicU64::new(0),
            compiled: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            pending: AtomicU64::new(0),
        }
    }

    fn read(&self) -> StreamingStats {
        let get = |c: &AtomicU64| c.load(Ordering::SeqCst);
        StreamingStats {
            live_jobs: get(&self.live_jobs),
            bodies: get(&self.bodies),
            validated: get(&self.validated),
            compiled: get(&self.compiled),
            skipped: get(&self.skipped),
            pending: get(&self.pending),
        }
    }
}

static STATS: Counters = Counters::new();

/// `Job::error_offset` when no error is known.
const NO_ERROR: u64 = u64::MAX;

struct Job {
    /// Captured when the job started.
    options: CompileOptions,
    features: WasmFeatures,
    pool: Arc<rayon::ThreadPool>,
    /// What this job's units did (the process's counters count it too).
    counters: Counters,
    /// Set by `abort`: no task does any more work.
    aborted: AtomicBool,
    /// Offset of the earliest error known (`NO_ERROR`: none), read by units without the lock.
    error_offset: AtomicU64,
    // ---- Guarded by `state` --------------------------------------------------------------
    state: Mutex<State>,
    /// Notified whenever the decoder stops, a unit finishes or the job is aborted.
    changed: Condvar,
    // ---- Guarded by `input`: used by one decode step at a time, then by `finish` ---------
    input: Mutex<Input>,
}

#[derive(Default)]
struct State {
    /// Chunks pushed and not yet taken by a decode step.
    chunks: Vec<Box<[u8]>>,
    /// No chunk will come after those queued.
    end_of_input: bool,
    /// A task has been asked to decode (cleared when a decode step finds nothing to do).
    decode_scheduled: bool,
    /// A decode step is running.
    decoding: bool,
    /// The decoder has stopped: at the end of the module, at an error, or because the job's
    /// error is certain.
    decoded: bool,
    /// Units waiting for a task, in byte order.
    units: VecDeque<Unit>,
    /// Body offsets of the units queued or running: an error is only certain when no unit of
    /// an earlier body is left.
    unfinished: BTreeSet<u64>,
    /// The earliest error found so far.
    error: Option<CompileError>,
    /// The module's function names as decoded so far, to name a body error.
    names: HashMap<u32, String>,
    /// The certain error has been reported (to the listener or by `finish`).
    failure_reported: bool,
    listener: Option<FailureListener>,
    /// Functions compiled by the units, by defined index.
    precompiled: Vec<Option<Arc<CompiledFunction>>>,
    /// `finish` was called.
    finished: bool,
}

/// The bytes received and their decoder.
struct Input {
    decoder: Decoder,
    bytes: Vec<u8>,
    /// The module as it was when the code section started: what units translate against.
    snapshot: Option<Arc<Module>>,
}

impl Input {
    fn new(features: WasmFeatures) -> Input {
        Input {
            decoder: Decoder::new(features),
            bytes: Vec::new(),
            snapshot: None,
        }
    }
}

/// One function body to validate and, when compilation is eager, to compile.
struct Unit {
    /// The module's metadata up to the code section.
    module: Arc<Module>,
    /// Index in the function index space.
    index: u32,
    func: FuncToValidate<ValidatorResources>,
    fast: Option<Arc<FastModule>>,
    /// The body's bytes (a copy: the input buffer moves as it grows), found at `start` in the
    /// module.
    code: Box<[u8]>,
    start: u64,
}

enum Outcome {
    Skipped,
    Validated,
    Compiled(Arc<CompiledFunction>),
    Failed(CompileError),
}

/// A listener to call, with the error, once the state's lock is released.
#[must_use]
struct Notify(Option<(FailureListener, CompileError)>);

impl Notify {
    fn run(self) {
        if let Some((listener, error)) = self.0 {
            // The listener is the embedder's; a panic in it must not take a compile thread down.
            let _ = panic::catch_unwind(AssertUnwindSafe(|| listener(&error)));
        }
    }
}

impl Job {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn input(&self) -> MutexGuard<'_, Input> {
        self.input.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn aborted(&self) -> bool {
        self.aborted.load(Ordering::SeqCst)
    }

    /// Adds `n` to a counter of the job and to the process's.
    fn count(&self, counter: fn(&Counters) -> &AtomicU64, n: u64) {
        counter(&self.counters).fetch_add(n, Ordering::SeqCst);
        counter(&STATS).fetch_add(n, Ordering::SeqCst);
    }

    /// Takes `n` units off the pending count.
    fn unqueue(&self, n: u64) {
        self.counters.pending.fetch_sub(n, Ordering::SeqCst);
        STATS.pending.fetch_sub(n, Ordering::SeqCst);
    }

    /// Makes sure some task will decode what is queued.
    fn schedule_decode(self: &Arc<Self>, state: &mut State) {
        if !state.decode_scheduled {
            state.decode_scheduled = true;
            self.spawn_task();
        }
    }

    fn spawn_task(self: &Arc<Self>) {
        let job = self.clone();
        self.pool.spawn(move || job.work());
    }

    /// A task of the pool: decodes if there is input to decode, else runs the next unit.
    fn work(self: Arc<Self>) {
        let mut state = self.lock();
        let input_waiting = !state.chunks.is_empty() || (state.end_of_input && !state.decoded);
        if input_waiting && !state.decoding && !state.decoded {
            state.decoding = true;
            drop(state);
            self.decode();
        } else if let Some(unit) = state.units.pop_front() {
            drop(state);
            self.run_unit(unit);
        }
    }

    /// A decode step: feeds the queued chunks to the decoder until none is left.
    fn decode(self: &Arc<Self>) {
        let mut input = self.input();
        loop {
            let mut state = self.lock();
            let stop = self.aborted() || state.failure_reported;
            if stop || (state.chunks.is_empty() && !state.end_of_input) {
                state.decoding = false;
                state.decode_scheduled = false;
                if stop {
                    state.decoded = true;
                    state.chunks.clear();
                    self.changed.notify_all();
                    drop(state);
                    *input = Input::new(self.features);
                }
                return;
            }
            let chunks = std::mem::take(&mut state.chunks);
            let eof = state.end_of_input;
            drop(state);

            let mut limit = input.bytes.len();
            for chunk in chunks {
                input.bytes.extend_from_slice(&chunk);
            }
            let Input {
                decoder,
                bytes,
                snapshot,
            } = &mut *input;
            // The new bytes go to the decoder a slice at a time, so that an abort stops a
            // decode step that has megabytes before it.
            const SLICE: usize = 1 << 16;
            let progress = panic::catch_unwind(AssertUnwindSafe(|| loop {
                limit = (limit + SLICE).min(bytes.len());
                let last = limit == bytes.len();
                let progress = decoder.feed(&bytes[..limit], eof && last, |module, body| {
                    let module = snapshot.get_or_insert_with(|| Arc::new(module.clone()));
                    self.queue_unit(module, body);
                });
                if last || !matches!(progress, Progress::NeedMoreData) || self.aborted() {
                    break progress;
                }
            }))
            .unwrap_or_else(|_| {
                Progress::Failed(CompileError::internal(
                    "internal error: the decoder panicked",
                    bytes.len() as u64,
                ))
            });

            let mut state = self.lock();
            let names = &decoder.module().function_names;
            if names.len() != state.names.len() {
                state.names = names.clone();
            }
            match progress {
                Progress::NeedMoreData => {}
                Progress::End => state.decoded = true,
                Progress::BadHeader(error) | Progress::Failed(error) => {
                    state.decoded = true;
                    self.record_error(&mut state, error);
                }
            }
            let notify = self.settle(&mut state);
            let decoded = state.decoded;
            if decoded {
                state.decoding = false;
                state.decode_scheduled = false;
                state.chunks.clear();
            }
            drop(state);
            notify.run();
            if decoded {
                return;
            }
        }
    }

    /// Queues a unit for `body` (unless the job cannot use it) and a task to run it.
    fn queue_unit(self: &Arc<Self>, module: &Arc<Module>, body: PendingBody<'_>) {
        let start = body.body.range().start;
        // Checked under the lock: `abort` sets its flag before taking the lock, so a unit
        // queued here is either refused or drained (and counted) by the abort.
        let mut state = self.lock();
        if self.aborted() {
            // Decoded after the abort, by the rest of a decode slice: no one wants it.
            return;
        }
        // Each outcome is counted before the body, so that a reader that sees the body
        // (`stats()` reads `bodies` first) also sees it pending or skipped.
        if self.skips(start) {
            self.count(|c| &c.skipped, 1);
            self.count(|c| &c.bodies, 1);
            return;
        }
        state.unfinished.insert(start);
        state.units.push_back(Unit {
            module: module.clone(),
            index: body.index,
            func: body.func,
            fast: body.fast,
            code: body.body.as_bytes().into(),
            start,
        });
        self.count(|c| &c.pending, 1);
        self.count(|c| &c.bodies, 1);
        drop(state);
        self.spawn_task();
    }

    fn run_unit(&self, unit: Unit) {
        let start = unit.start;
        let defined = unit.index - unit.module.num_imported_functions;
        let outcome = if self.skips(start) {
            Outcome::Skipped
        } else {
            panic::catch_unwind(AssertUnwindSafe(|| self.validate_and_compile(unit)))
                .unwrap_or_else(|_| {
                    Outcome::Failed(CompileError::internal(
                        "internal error: a compile unit panicked",
                        start,
                    ))
                })
        };
        match &outcome {
            Outcome::Skipped => self.count(|c| &c.skipped, 1),
            Outcome::Compiled(_) => {
                self.count(|c| &c.compiled, 1);
                self.count(|c| &c.validated, 1);
            }
            Outcome::Validated | Outcome::Failed(_) => self.count(|c| &c.validated, 1),
        }
        let mut state = self.lock();
        self.unqueue(1);
        state.unfinished.remove(&start);
        match outcome {
            Outcome::Failed(error) => self.record_error(&mut state, error),
            Outcome::Compiled(_) if self.aborted() => {}
            Outcome::Compiled(code) => {
                let defined = defined as usize;
                if state.precompiled.len() <= defined {
                    state.precompiled.resize(defined + 1, None);
                }
                state.precompiled[defined] = Some(code);
            }
            Outcome::Skipped | Outcome::Validated => {}
        }
        let notify = self.settle(&mut state);
        drop(state);
        notify.run();
    }

    /// Whether a unit at `start` has nothing to contribute: the job was aborted, or an error is
    /// known before it.
    fn skips(&self, start: u64) -> bool {
        self.aborted() || start >= self.error_offset.load(Ordering::SeqCst)
    }

    fn validate_and_compile(&self, unit: Unit) -> Outcome {
        thread_local! {
            /// The validator's allocations, reused by every unit this thread runs.
            static ALLOCATIONS: RefCell<FuncValidatorAllocations> = RefCell::default();
        }
        let body = FunctionBody::new(BinaryReader::new_features(
            &unit.code,
            unit.start,
            self.features,
        ));
        let fast = unit.fast.as_deref();
        let valid = if fast.is_some_and(|fast| fast_validation::validate(fast, unit.func.ty, &unit.code)) {
            Ok(())
        } else {
            ALLOCATIONS.with(|cell| {
                let mut validator = unit.func.into_validator(cell.take());
                let valid = validator.validate(&body);
                cell.replace(validator.into_allocations());
                valid
            })
        };
        if let Err(err) = valid {
            let mut error = CompileError::from_reader(&err);
            // Named when the error is settled: the name section comes later.
            error.function = Some((unit.index, None));
            return Outcome::Failed(error);
        }
        // A module with an error gets no code: skip compiling.
        if self.options.lazy
            || self.aborted()
            || self.error_offset.load(Ordering::SeqCst) != NO_ERROR
        {
            return Outcome::Validated;
        }
        let tier = self.options.first_tier;
        match super::compile_unit(&unit.module, unit.index, &body, tier, &self.options) {
            Ok(code) => Outcome::Compiled(code),
            // A valid body the code generator cannot compile: `finish` compiles it again and
            // reports the failure as for any module.
            Err(_) => Outcome::Validated,
        }
    }

    /// Keeps `error` if it comes before the one known (a body error wins a tie, as in
    /// `function_validation`). Queued units after it are dropped: they cannot find an earlier
    /// one.
    fn record_error(&self, state: &mut State, error: CompileError) {
        let earlier = match &state.error {
            None => true,
            Some(known) => {
                error.offset < known.offset
                    || (error.offset == known.offset
                        && error.function.is_some()
                        && known.function.is_none())
            }
        };
        if !earlier {
            return;
        }
        let offset = error.offset;
        state.error = Some(error);
        self.error_offset.store(offset, Ordering::SeqCst);
        let before = state.units.len();
        let State {
            units, unfinished, ..
        } = state;
        units.retain(|unit| {
            let keep = unit.start < offset;
            if !keep {
                unfinished.remove(&unit.start);
            }
            keep
        });
        let dropped = (before - state.units.len()) as u64;
        self.count(|c| &c.skipped, dropped);
        self.unqueue(dropped);
    }

    /// Wakes `finish`, and returns the listener to call if the job's error has just become
    /// certain.
    fn settle(&self, state: &mut State) -> Notify {
        self.changed.notify_all();
        if state.failure_reported {
            return Notify(None);
        }
        let Some(error) = final_error(state) else {
            return Notify(None);
        };
        state.failure_reported = true;
        Notify(state.listener.take().map(|listener| (listener, error)))
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        STATS.live_jobs.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The job's error, named, if later bytes can no longer change it: no unit of an earlier body
/// is left, and a body error's function name is known or can no longer arrive.
fn final_error(state: &State) -> Option<CompileError> {
    let error = state.error.as_ref()?;
    if state.unfinished.range(..error.offset).next().is_some() {
        return None;
    }
    let mut error = error.clone();
    if let Some((index, name)) = &mut error.function {
        match state.names.get(index) {
            Some(known) => *name = Some(known.clone()),
            None if state.decoded => {}
            None => return None,
        }
    }
    Some(error)
}

fn internal_error(message: &str) -> CompileError {
    CompileError::internal(message, 0)
}

#[cfg(test)]
pub(super) mod tests;
