//! Streaming compilation for `compileStreaming` and `instantiateStreaming`: index.js pushes the
//! chunks of a Response body into a [`NativeStreaming`] as they arrive, and the engine's
//! streaming job decodes, validates and compiles them on the compile threads meanwhile.
//! `finish` settles as `compileAsync` does: a NativeModule or the CompileError's message.

use std::sync::Arc;

use cranewasm_engine as engine;
use engine::compiler::streaming::{self as job, StreamingCompile};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

use crate::module_cache::{self, SharedModule};
use crate::{outcome, CompileOutcome};

/// Called with the CompileError's message as soon as the job's error is certain, which may be
/// before the body ends. Weak: it does not keep the event loop alive (the body being read, or
/// `finish`, does).
type FailureCallback = ThreadsafeFunction<String, (), String, Status, false, true>;

/// One streaming compilation. Garbage collection of the object aborts the job, unless `finish`
/// is running (it holds the job until it settles).
#[napi]
pub struct NativeStreaming {
    job: Arc<StreamingCompile>,
    options: engine::compiler::CompileOptions,
}

#[napi]
impl NativeStreaming {
    #[napi(constructor)]
    pub fn new(on_failure: FailureCallback) -> NativeStreaming {
        // The options of the moment, as `compile()` takes them, so both paths give the same module.
        let options = engine::compiler::options();
        let job = StreamingCompile::with_options(options);
        job.set_failure_listener(Box::new(move |error| {
            // Fails only while Node shuts down, when nobody waits for the answer.
            let _ = on_failure.call(error.to_string(), ThreadsafeFunctionCallMode::NonBlocking);
        }));
        NativeStreaming { job: Arc::new(job), options }
    }

    /// Appends a chunk of the body (copied) and schedules its decoding.
    #[napi]
    pub fn push(&self, chunk: &[u8]) {
        self.job.push(chunk);
    }

    /// Stops the job: its queued work is dropped and the failure callback is never called.
    #[napi]
    pub fn abort(&self) {
        self.job.abort();
    }

    /// Ends the body and settles, on a worker thread, when every unit is done.
    #[napi]
    pub fn finish(&self) -> AsyncTask<FinishTask> {
        AsyncTask::new(FinishTask {
            job: self.job.clone(),
            options: self.options,
        })
    }
}

pub struct FinishTask {
    job: Arc<StreamingCompile>,
    options: engine::compiler::CompileOptions,
}

impl Task for FinishTask {
    type Output = std::result::Result<Arc<SharedModule>, engine::CompileError>;
    type JsValue = CompileOutcome;

    fn compute(&mut self) -> Result<Self::Output> {
        // The whole body is known only now: the result is published for later compiles of the
        // same bytes (see module_cache).
        Ok(module_cache::publish(self.job.finish(), self.options))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(outcome(&env, output))
    }
}

/// What the streaming jobs of the process did (tests use it to see that work stops).
#[napi(object)]
pub struct StreamingStats {
    /// Jobs whose native state is still allocated.
    pub live_jobs: i64,
    /// Function bodies decoded and handed to units.
    pub bodies: i64,
    /// Units that validated their body.
    pub validated: i64,
    /// Units that also compiled it.
    pub compiled: i64,
    /// Units that skipped their work (aborted job, or an error before their body).
    pub skipped: i64,
    /// Units queued or running.
    pub pending: i64,
}

/// Not part of the public API.
#[napi]
pub fn streaming_stats() -> StreamingStats {
    let stats = job::stats();
    StreamingStats {
        live_jobs: stats.live_jobs as i64,
        bodies: stats.bodies as i64,
        validated: stats.validated as i64,
        compiled: stats.compiled as i64,
        skipped: stats.skipped as i64,
        pending: stats.pending as i64,
    }
}
