// Write Wharf plugins (hooks, secrets adapters) in JavaScript.
//
// A plugin is a WebAssembly component implementing one world of the `wharf:plugin@0.1.0` WIT
// package (`wit/wharf-plugin@0.1.0/` in the Wharf repository). This module wraps the host's
// imports, which the build (`sdk/js/build.mjs`) binds from that WIT, so a hook is one function:
//
//   import { hook, log, HookFailed } from 'wharf-plugin';
//
//   export const run = hook((ctx) => {
//     if (!ctx.version) throw new HookFailed('KAMAL_VERSION is not set');
//     log.info(`${ctx.service} ${ctx.version} deployed`);
//   });
//
// What the host offers: `log` (secret values masked by the host; `console.log` and friends go
// there too), `run` or its alias `exec` (programs the manifest declares and the user grants; no
// shell), `readFile`/`readBytes`/`listDir`/`exists` (granted directories only), and `fetch` to
// the hosts the manifest lists and the user grants (StarlingMonkey backend, built with `--http`).
// Every call runs in a fresh instance, so nothing is kept between calls. The host's imports are
// synchronous.

import { log as hostLog } from 'wharf:plugin/log@0.1.0';
import { run as hostRun } from 'wharf:plugin/process@0.1.0';
import { read, readString, listDir as hostListDir, exists as hostExists } from 'wharf:plugin/files@0.1.0';

// --- log -------------------------------------------------------------------------------------

/** `log.info('...')` and friends: one message through the host (secret values masked). */
export const log = {
  trace: (message) => hostLog('trace', String(message)),
  debug: (message) => hostLog('debug', String(message)),
  info: (message) => hostLog('info', String(message)),
  warn: (message) => hostLog('warn', String(message)),
  error: (message) => hostLog('error', String(message)),
};

// `console` goes to the host's log too: QuickJS has no console at all, and StarlingMonkey's
// writes to stdio, which `-d all` disables.
function show(args) {
  return args
    .map((a) => {
      if (typeof a === 'string') return a;
      if (a instanceof Error) return `${a.name}: ${a.message}`;
      try {
        return JSON.stringify(a) ?? String(a);
      } catch {
        return String(a);
      }
    })
    .join(' ');
}
globalThis.console = {
  log: (...a) => log.info(show(a)),
  info: (...a) => log.info(show(a)),
  warn: (...a) => log.warn(show(a)),
  error: (...a) => log.error(show(a)),
  debug: (...a) => log.debug(show(a)),
  trace: (...a) => log.trace(show(a)),
};

// The payload of an import's `err(...)`: the bindings throw it, or an Error carrying it.
function payload(e) {
  if (e && typeof e === 'object' && 'payload' in e) return e.payload;
  return e;
}

// --- process ---------------------------------------------------------------------------------

/**
 * A program did not run, or (with `check`) exited with a non-zero code. `kind` is
 * `not-granted`, `spawn-failed`, `timed-out` or `exit`; `output` is the program's output for
 * `exit`.
 */
export class ProcessError extends Error {
  constructor(kind, message, output) {
    super(message);
    this.name = 'ProcessError';
    this.kind = kind;
    this.output = output;
  }
}

/**
 * Runs `program` with `args` (no shell) and returns `{ exitCode, stdout, stderr, truncated }`
 * (`exitCode` undefined when killed by a signal).
 *
 * Options: `env` (an object or `[name, value]` pairs; names must be declared in the manifest's
 * `[capabilities] env` and granted), `cwd` (a granted directory; default the project),
 * `timeoutMs`, `terminal` (the user's terminal as the program's stdin and stderr, so it can
 * prompt; needs the manifest's `terminal` capability and the grant), `check` (default true: a
 * non-zero exit throws). Throws `ProcessError`.
 */
export function run(program, args = [], { env = [], cwd, timeoutMs, terminal = false, check = true } = {}) {
  const pairs = Array.isArray(env) ? env : Object.entries(env);
  let out;
  try {
    out = hostRun({
      program,
      args: args.map(String),
      env: pairs.map(([k, v]) => [String(k), String(v)]),
      terminal: Boolean(terminal),
      cwd,
      timeoutMs,
    });
  } catch (e) {
    const p = payload(e);
    if (p && p.tag === 'not-granted') throw new ProcessError('not-granted', p.val);
    if (p && p.tag === 'timed-out') throw new ProcessError('timed-out', `${program} timed out after ${p.val} ms`);
    if (p && p.tag === 'spawn-failed') throw new ProcessError('spawn-failed', `${program}: ${p.val}`);
    throw e;
  }
  if (check && out.exitCode !== 0) {
    const how = out.exitCode === undefined ? 'was killed by a signal' : `exited with ${out.exitCode}`;
    const last = out.stderr.trim().split('\n').pop();
    throw new ProcessError('exit', `${program} ${how}${last ? `: ${last}` : ''}`, out);
  }
  return out;
}

/** `run` under another name, for modules whose own export is called `run` (hooks). */
export const exec = run;

// --- files -----------------------------------------------------------------------------------

/** A file could not be read. `kind` is `not-granted`, `not-found`, `too-large` or `io`. */
export class FileError extends Error {
  constructor(kind, message) {
    super(message);
    this.name = 'FileError';
    this.kind = kind;
  }
}

function fileCall(f, path) {
  try {
    return f(path);
  } catch (e) {
    const p = payload(e);
    if (p && typeof p.tag === 'string') {
      const text = p.tag === 'too-large' ? `${path}: file too large (${p.val} bytes)` : p.val;
      throw new FileError(p.tag, text);
    }
    throw e;
  }
}

/** The text of the file at `path` (absolute, or relative to the project). Throws `FileError`. */
export const readFile = (path) => fileCall(readString, path);
/** The bytes of the file at `path` (a `Uint8Array`). */
export const readBytes = (path) => fileCall(read, path);
/** The entries (`{ name, isDir, size }`) of the directory at `path`, sorted by name. */
export const listDir = (path) => fileCall(hostListDir, path);
/** Whether `path` exists inside a granted directory. */
export const exists = (path) => hostExists(path);

// --- hook and secrets adapter ----------------------------------------------------------------

/** What a hook receives: `name` and Kamal's variables (`ctx.env`, `ctx.get(...)`, `ctx.version`). */
export class Context {
  constructor(name, env) {
    this.name = name;
    this.env = Object.fromEntries(env);
  }
  get(key) { return this.env[key]; }
  get version() { return this.env.KAMAL_VERSION; }
  get service() { return this.env.KAMAL_SERVICE; }
  get serviceVersion() { return this.env.KAMAL_SERVICE_VERSION; }
  get performer() { return this.env.KAMAL_PERFORMER; }
  get destination() { return this.env.KAMAL_DESTINATION; }
  get command() { return this.env.KAMAL_COMMAND; }
  get subcommand() { return this.env.KAMAL_SUBCOMMAND; }
  get recordedAt() { return this.env.KAMAL_RECORDED_AT; }
  get runtime() { return this.env.KAMAL_RUNTIME; }
  get lock() { return this.env.KAMAL_LOCK; }
  /** KAMAL_HOSTS, split on commas. */
  get hosts() { return (this.env.KAMAL_HOSTS || '').split(',').filter(Boolean); }
  /** KAMAL_ROLES, split on commas. */
  get roles() { return (this.env.KAMAL_ROLES || '').split(',').filter(Boolean); }
}

/** Throw it to fail the hook with this message (a `pre-*` hook then aborts the command). */
export class HookFailed extends Error {
  constructor(message) {
    super(message);
    this.name = 'HookFailed';
  }
}

// The export's `err(message)`: thrown as a string, which the bindings turn into the error.
function failure(e) {
  if (typeof e === 'string') return e;
  if (e instanceof HookFailed) return e.message;
  if (e instanceof Error) {
    if (e.stack) log.debug(e.stack);
    return `${e.name}: ${e.message}`;
  }
  return String(e);
}

const isThenable = (v) => v !== null && typeof v === 'object' && typeof v.then === 'function';

// Calls `fn`, turning what it throws (or, when it returns a promise, what that rejects with)
// into the export's error; `map` shapes a success value.
function guard(fn, map) {
  let result;
  try {
    result = fn();
  } catch (e) {
    throw failure(e);
  }
  if (isThenable(result)) {
    return result.then(map, (e) => {
      throw failure(e);
    });
  }
  return map(result);
}

/**
 * The hook world's `run` export, from `fn(ctx)`: return to succeed, throw to fail. `fn` may be
 * async (to `await fetch(...)`) with the StarlingMonkey backend built with `--http`.
 */
export function hook(fn) {
  return (ctx) => guard(() => fn(new Context(ctx.name, ctx.env)), () => undefined);
}

/**
 * The secrets-adapter world's `fetch` export, from `fn(account, from, names)` returning an
 * object or `[name, value]` pairs (`account` and `from` are undefined when not given); `fn` may
 * be async like a hook's.
 */
export function secretsAdapter(fn) {
  const pairs = (got) => (Array.isArray(got) ? got : Object.entries(got)).map(([k, v]) => [String(k), String(v)]);
  return (account, from, names) => guard(() => fn(account, from, names), pairs);
}
