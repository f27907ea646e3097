#!/usr/bin/env node
// Builds a Wharf plugin written in JavaScript into a WebAssembly component.
//
//   node sdk/js/build.mjs APP.js -o OUT.wasm [-w hook|secrets-adapter] [--backend quickjs|starlingmonkey] [--http]
//
// 1. Bundles APP.js with rolldown into one ES module: `import ... from 'wharf-plugin'` is this
//    kit (src/index.js); the host's `wharf:plugin/*@0.1.0` imports stay imports.
// 2. Runs `jco componentize` against the repository's wit/wharf-plugin@0.1.0 (or $WHARF_WIT), so
//    the bindings always match the WIT.
//
// Backends: `quickjs` (default: componentize-qjs, synchronous ABI, about 1 MB components that
// compile in about a second) or `starlingmonkey` (componentize-js with `-d all`, so the
// component imports no WASI feature the host may lack; about 12 MB). `--http` (StarlingMonkey
// only) keeps wasi:http so that the plugin can use `fetch` (the host lets it reach the hosts its
// manifest lists and the user grants); only the incoming-request export stays disabled. Needs
// `npm ci` in sdk/js (scripts/install-deps does it).

import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const die = (msg) => {
  console.error(`sdk/js/build.mjs: ${msg}`);
  process.exit(2);
};

const argv = process.argv.slice(2);
let app, out, world = 'hook', backend = 'quickjs', http = false;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const value = () => argv[++i] ?? die(`${a} needs a value`);
  if (a === '-o' || a === '--output') out = value();
  else if (a === '-w' || a === '--world') world = value();
  else if (a === '--backend') backend = value();
  else if (a === '--http') http = true;
  else if (a.startsWith('-')) die(`unknown option ${a}`);
  else if (app) die('one APP.js only');
  else app = a;
}
if (!app || !out) die('usage: build.mjs APP.js -o OUT.wasm [-w hook|secrets-adapter] [--backend quickjs|starlingmonkey] [--http]');
if (backend === 'sm') backend = 'starlingmonkey';
if (backend === 'qjs') backend = 'quickjs';
if (!['quickjs', 'starlingmonkey'].includes(backend)) die(`unknown backend ${backend}`);
if (http && backend !== 'starlingmonkey') die('--http (fetch) needs --backend starlingmonkey');
if (!existsSync(app)) die(`${app}: no such file`);
if (!['hook', 'secrets-adapter'].includes(world)) die(`world ${world}: the JS kit builds hook and secrets-adapter`);
const wit = resolve(process.env.WHARF_WIT || join(here, '../../wit/wharf-plugin@0.1.0'));
if (!existsSync(wit)) die(`no WIT at ${wit} (set WHARF_WIT)`);
const jco = join(here, 'node_modules/.bin/jco');
if (!existsSync(jco)) die('the JS toolchain is not installed (sdk/js/node_modules): run scripts/install-deps');

let rolldown;
try {
  ({ rolldown } = await import('rolldown'));
} catch {
  die('rolldown is not installed (sdk/js/node_modules): run scripts/install-deps');
}

/// The version of the `wharf:plugin` package in the WIT directory `dir` (its worlds.wit).
function witPackageVersion(dir) {
  const m = /^package wharf:plugin@([0-9.]+);/m.exec(readFileSync(join(dir, 'worlds.wit'), 'utf8'));
  if (!m) die(`no 'package wharf:plugin@VERSION;' in ${join(dir, 'worlds.wit')}`);
  return m[1];
}

/// A wasm custom section `wharf:api-version` holding `version`.
function apiVersionSection(version) {
  const leb = (n) => {
    const out = [];
    do {
      let b = n & 0x7f;
      n >>>= 7;
      out.push(n ? b | 0x80 : b);
    } while (n);
    return Buffer.from(out);
  };
  const name = Buffer.from('wharf:api-version');
  const body = Buffer.concat([leb(name.length), name, Buffer.from(version)]);
  return Buffer.concat([Buffer.from([0]), leb(body.length), body]);
}

const tmp = mkdtempSync(join(tmpdir(), 'wharf-js-'));
try {
  // 1. One module: the app and this kit; the host's imports stay external.
  const bundle = await rolldown({
    input: resolve(app),
    external: [/^wharf:/, /^wasi:/],
    resolve: { alias: { 'wharf-plugin': join(here, 'src/index.js') } },
    logLevel: 'warn',
  });
  const source = join(tmp, `${basename(app, '.js')}.bundle.js`);
  await bundle.write({ file: source, format: 'esm' });
  await bundle.close();

  // 2. The component.
  const args = ['componentize', source, '--wit', wit, '--world-name', world, '-o', `${out}.tmp`];
  if (backend === 'quickjs') args.push('--backend', 'quickjs', '--backend-qjs-disable-async');
  else if (http) args.push('-d', 'fetch-event');
  else args.push('-d', 'all');
  const r = spawnSync(jco, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) die(`jco componentize failed (exit ${r.status})`);
  // 3. The plugin API version (the WIT package's) stamped into the component as a top-level
  // custom section `wharf:api-version`, as the Rust SDK's export macros embed it: Wharf reads it,
  // so plugin.toml need not say which API the plugin was built against.
  appendFileSync(`${out}.tmp`, apiVersionSection(witPackageVersion(wit)));
  renameSync(`${out}.tmp`, out);
  console.error(`built ${out} (${Math.round(statSync(out).size / 1024)} KB, world ${world}, ${backend}${http ? ', http' : ''})`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
