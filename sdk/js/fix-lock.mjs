#!/usr/bin/env node
// Completes package-lock.json so that `npm ci` accepts it on machines whose npm registry lacks
// other platforms' optional native packages (rolldown's, componentize-qjs's and jco's bindings
// for darwin, win32, musl, ...). `npm install` leaves those out of the lock when it cannot fetch
// their metadata, and `npm ci` then refuses the lock as out of sync. This adds, for each
// optional dependency missing from the lock, an entry with its pinned version and the os/cpu/libc
// read from its name, so that npm skips it on every other platform as it would anyway.
//
//   npm install --package-lock-only && node fix-lock.mjs     (`npm run lock` does both)
import { readFileSync, writeFileSync } from 'node:fs';
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const pk = lock.packages;
const OS = ['android', 'darwin', 'freebsd', 'linux', 'openharmony', 'win32', 'wasm32'];
const CPU = ['arm64', 'arm', 'x64', 'ppc64', 's390x', 'ia32', 'wasi'];
let added = 0;
for (const [, entry] of Object.entries(pk)) {
  for (const [name, spec] of Object.entries(entry.optionalDependencies || {})) {
    const key = `node_modules/${name}`;
    if (pk[key]) continue;
    const parts = name.split('/').pop().split('-');
    const os = parts.find((p) => OS.includes(p));
    const cpu = parts.find((p) => CPU.includes(p) ) ;
    const stub = { version: spec, dev: true, optional: true };
    if (os === 'wasm32') stub.cpu = ['wasm32']; else { if (os) stub.os = [os]; if (cpu) stub.cpu = [cpu === 'arm' ? 'arm' : cpu]; }
    if (name.includes('musl')) stub.libc = ['musl'];
    pk[key] = stub; added++;
  }
}
const sorted = Object.fromEntries(Object.entries(pk).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)));
lock.packages = sorted;
writeFileSync('package-lock.json', JSON.stringify(lock, null, 2) + '\n');
console.log(`fix-lock: added ${added} optional platform entries`);
