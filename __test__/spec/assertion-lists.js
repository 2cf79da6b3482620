// The checked-in lists of assertions: known failures per engine (known-failures.json for
// cranewasm, known-failures.node.json for Node's engine) and skipped directives (skipped.json).
// Both group assertion IDs by reason, then by script, in a compact form: a script's entry is a
// string of tokens separated by spaces,
//   "12"     every command on line 12,
//   "12-40"  every command on lines 12 to 40,
//   "12#2"   only the second command starting on line 12 (IDs are `<set>/<file>.wast:<line>`,
//            then `#2`, `#3`… for further commands on the same line; "12#1" is the first).
// A range is only ever written over lines whose commands all share the reason, so the list
// names exactly the same IDs as an explicit one, for the pinned manifests.
'use strict';

const fs = require('fs');
const path = require('path');

const LISTS_DIR = __dirname;

function knownFailuresPath(engine) {
  return path.join(LISTS_DIR, engine === 'cranewasm' ? 'known-failures.json' : `known-failures.${engine}.json`);
}

const SKIPPED_PATH = path.join(LISTS_DIR, 'skipped.json');

/** Splits `wasm-v1/i32.wast:12#2` into its script, line and rank on the line. */
function parseId(id) {
  const colon = id.lastIndexOf(':');
  const [line, rank = '1'] = id.slice(colon + 1).split('#');
  return { script: id.slice(0, colon), line: Number(line), rank: Number(rank) };
}

function scriptOf(id) {
  return id.slice(0, id.lastIndexOf(':'));
}

/**
 * Compacts labels of a script's commands: `commands` in script order, each {id}; `labelOf(id)`
 * a string or null. Returns Map(label → token string).
 */
function compact(commands, labelOf) {
  // Lines in order, each with its commands' labels.
  const lines = [];
  for (const { id } of commands) {
    const { line } = parseId(id);
    if (lines.length === 0 || lines[lines.length - 1].line !== line) lines.push({ line, ids: [] });
    lines[lines.length - 1].ids.push(id);
  }
  const tokens = new Map();
  const add = (label, token) => {
    if (!tokens.has(label)) tokens.set(label, []);
    tokens.get(label).push(token);
  };
  let run = null; // {label, first, last}
  const closeRun = () => {
    if (run) add(run.label, run.first === run.last ? `${run.first}` : `${run.first}-${run.last}`);
    run = null;
  };
  for (const { line, ids } of lines) {
    const labels = ids.map(labelOf);
    const uniform = labels.every((l) => l === labels[0]) ? labels[0] : undefined;
    if (uniform === null) {
      closeRun();
    } else if (uniform !== undefined) {
      if (run && run.label === uniform) run.last = line;
      else {
        closeRun();
        run = { label: uniform, first: line, last: line };
      }
    } else {
      closeRun();
      ids.forEach((id, i) => {
        if (labels[i] !== null) add(labels[i], `${line}#${parseId(id).rank}`);
      });
    }
  }
  closeRun();
  return new Map([...tokens].map(([label, list]) => [label, list.join(' ')]));
}

/** The IDs a token string names, given the script's commands (each {id}, in order). */
function expand(tokens, commands) {
  const ids = [];
  for (const token of tokens.split(/\s+/).filter(Boolean)) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(token);
    const single = /^(\d+)#(\d+)$/.exec(token);
    if (range) {
      const first = Number(range[1]);
      const last = Number(range[2] || range[1]);
      for (const { id } of commands) {
        const { line } = parseId(id);
        if (line >= first && line <= last) ids.push(id);
      }
    } else if (single) {
      ids.push(commands.length ? `${scriptOf(commands[0].id)}:${single[1]}${single[2] === '1' ? '' : `#${single[2]}`}` : token);
    } else {
      throw new Error(`malformed token ${JSON.stringify(token)}`);
    }
  }
  return ids;
}

/**
 * Reads a list file into Map(id → reason), for the scripts `wanted(script)` accepts.
 * `commandsOf(script)` gives a script's commands (each {id}, in order), or null for a script the
 * harness does not know (its tokens are kept as IDs verbatim, so a stale entry is reported
 * rather than lost).
 */
function readList(file, key, commandsOf, wanted = () => true) {
  const reasons = new Map();
  if (!fs.existsSync(file)) return reasons;
  const groups = JSON.parse(fs.readFileSync(file, 'utf8'))[key] || {};
  for (const [reason, scripts] of Object.entries(groups)) {
    for (const [script, tokens] of Object.entries(scripts)) {
      if (!wanted(script)) continue;
      const commands = commandsOf(script);
      const ids = commands ? expand(tokens, commands) : tokens.split(/\s+/).map((t) => `${script}:${t}`);
      for (const id of ids) reasons.set(id, reason);
    }
  }
  return reasons;
}

/**
 * Writes Map(id → reason) as a list file: reasons sorted, scripts sorted under each reason.
 * `scripts` maps each script to its commands (each {id}, in order).
 */
function writeList(file, key, about, reasons, scripts) {
  const groups = {};
  for (const [script, commands] of [...scripts].sort(([a], [b]) => a.localeCompare(b))) {
    for (const [reason, tokens] of compact(commands, (id) => reasons.get(id) ?? null)) {
      (groups[reason] = groups[reason] || {})[script] = tokens;
    }
  }
  const sorted = Object.fromEntries(Object.keys(groups).sort().map((r) => [r, groups[r]]));
  fs.writeFileSync(file, `${JSON.stringify({ about, [key]: sorted }, null, 2)}\n`);
}

module.exports = { knownFailuresPath, SKIPPED_PATH, parseId, scriptOf, compact, expand, readList, writeList };
