// Runs the scripts of a set in a child process (worker.js), so that neither a hang nor a crash
// of the engine under test can take the jest run with it: each script has a time limit, after
// which the child is killed; what had not run fails with the reason, and a fresh child goes on
// with the next script.
'use strict';

const path = require('path');
const { fork } = require('child_process');

const { engineName } = require('./engine');
const { loadManifest } = require('./manifests');

/** Default time limit of one script, in seconds (CRANEWASM_SPEC_SCRIPT_TIMEOUT overrides). */
const DEFAULT_SCRIPT_TIMEOUT_S = 60;

function scriptTimeoutMs() {
  const seconds = Number(process.env.CRANEWASM_SPEC_SCRIPT_TIMEOUT || DEFAULT_SCRIPT_TIMEOUT_S);
  return Math.max(1, seconds) * 1000;
}

/**
 * Completes the results of a script the child did not finish: commands that did not report fail
 * (skips stay skips). With `culprit`, the first of them is blamed for the hang or crash `why`;
 * without, they all fail with `why`.
 */
function completeResults(set, file, results, why, { culprit = false } = {}) {
  const reported = new Set(results.map((r) => r.id));
  const complete = [...results];
  let blamed = null;
  for (const command of loadManifest(set, file).commands) {
    if (reported.has(command.id)) continue;
    if (command.type === 'skip') {
      complete.push({ id: command.id, type: command.directive, status: 'skip', message: command.reason });
      continue;
    }
    let message = why;
    if (culprit) {
      message = blamed ? `not run: the script stopped at ${blamed}, which ${why}` : `this command ${why}`;
      blamed = blamed || command.id;
    }
    complete.push({ id: command.id, type: command.type, status: 'fail', message });
  }
  return complete;
}

// The engine's environment per set, for scripts written for an engine without some of its
// features: the threads proposal's scripts predate WebAssembly 3.0's multi-memory (they expect
// modules with two memories to be invalid), so they run with it off, as V8 runs them.
const SET_ENVIRONMENT = {
  'proposals/threads': { CRANEWASM_DISABLE_FEATURES: 'multi-memory' },
};

/** Runs `files` in one child until they are done or the child dies; returns what is left. */
function runChild(set, files, options, done) {
  return new Promise((resolve) => {
    const child = fork(path.join(__dirname, 'worker.js'), [], {
      env: { ...process.env, ...SET_ENVIRONMENT[set], CRANEWASM_SPEC_ENGINE: options.engine },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-2000);
    });
    const queue = [...files];
    let current = null; // {file, results}
    let timer = null;
    let killedFor = null;

    const finish = (file, results) => {
      clearTimeout(timer);
      done(file, results);
      queue.splice(queue.indexOf(file), 1);
      current = null;
    };

    child.on('message', (message) => {
      switch (message.type) {
        case 'start':
          current = { file: message.file, results: [] };
          timer = setTimeout(() => {
            killedFor = `hung: the script timed out after ${options.timeoutMs / 1000} s`;
            child.kill('SIGKILL');
          }, options.timeoutMs);
          break;
        case 'result':
          if (current) current.results.push(message.result);
          break;
        case 'done':
          if (current) finish(current.file, current.results);
          break;
        case 'fatal':
          for (const file of [...queue]) finish(file, completeResults(set, file, [], `could not run: ${message.message}`));
          break;
        default:
          break;
      }
    });

    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (current) {
        const why = killedFor || `crashed the worker process (${signal ? `signal ${signal}` : `exit code ${code}`})`;
        const lastError = killedFor ? '' : stderr.trim().split('\n').slice(-1)[0] || '';
        const reason = `${why}${lastError ? `: ${lastError}` : ''}`;
        finish(current.file, completeResults(set, current.file, current.results, reason, { culprit: true }));
      } else if (queue.length > 0 && code !== 0) {
        // Died before starting a script: nothing will work in a fresh child either.
        const reason = `could not run: the worker process died before running (${signal || `exit code ${code}`}): ${stderr.trim()}`;
        for (const file of [...queue]) finish(file, completeResults(set, file, [], reason));
      }
      resolve(queue);
    });

    child.send({ set, files: queue });
  });
}

/**
 * Runs the scripts `files` of `set` on the engine (default: CRANEWASM_SPEC_ENGINE) and returns
 * Map(file → results), results as runner.js makes them, in script order.
 */
async function runSet(set, files, { engine = engineName(), timeoutMs = scriptTimeoutMs(), onScript } = {}) {
  const outcome = new Map();
  const done = (file, results) => {
    outcome.set(file, results);
    if (onScript) onScript(file, results);
  };
  let left = [...files];
  while (left.length > 0) {
    left = await runChild(set, left, { engine, timeoutMs }, done);
  }
  return new Map(files.map((file) => [file, outcome.get(file)]));
}

module.exports = { runSet, scriptTimeoutMs };
