#!/usr/bin/env node
// The node_modules folders that scripts/gpu-check.sh carries to a device machine (no Node, no registry
// there): the named packages, with --dependencies also package.json's "dependencies" (what lib/ may
// import at run time), and everything they need, read from package-lock.json (the versions `npm ci`
// installed here), one folder per line, relative to the repository root.
// Dependencies and optional dependencies are followed; peer dependencies are not (vitest lists
// @types/node, jsdom, happy-dom … as optional peers, none of which a Node test run loads). Optional
// packages for another OS, CPU or libc (rolldown's and lightningcss's other bindings) are left out:
// the device is x86-64 Linux with glibc.
//
//   node scripts/gpu-check/closure.mjs [--dependencies] vitest cmake-js node-addon-api
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const lock = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')).packages;

/** Where Node would find `name` from the package at lock path `from` (nested node_modules first). */
function resolveFrom(from, name) {
  let dir = from;
  for (;;) {
    const candidate = `${dir ? `${dir}/` : ''}node_modules/${name}`;
    if (lock[candidate]) return candidate;
    if (!dir) return undefined;
    const up = dir.lastIndexOf('/node_modules/');
    dir = up < 0 ? '' : dir.slice(0, up);
  }
}

const fits = (entry) =>
  (!entry.os || entry.os.includes('linux')) && (!entry.cpu || entry.cpu.includes('x64')) && (!entry.libc || entry.libc.includes('glibc'));

const seen = new Set();
function walk(lockPath, required) {
  if (seen.has(lockPath)) return;
  const entry = lock[lockPath];
  if (!fits(entry)) {
    if (required) throw new Error(`${lockPath} is not for x86-64 Linux/glibc`);
    return;
  }
  seen.add(lockPath);
  for (const [deps, needed] of [
    [entry.dependencies, true],
    [entry.optionalDependencies, false],
  ]) {
    for (const name of Object.keys(deps ?? {})) {
      const found = resolveFrom(lockPath, name);
      if (found) walk(found, needed && !entry.optionalDependencies?.[name]);
      else if (needed && !entry.optionalDependencies?.[name]) throw new Error(`${lockPath} needs ${name}, which package-lock.json lacks`);
    }
  }
}

const roots = process.argv.slice(2).filter((a) => a !== '--dependencies');
if (process.argv.includes('--dependencies')) {
  roots.push(...Object.keys(JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).dependencies ?? {}));
}
if (roots.length === 0) {
  console.error('usage: node scripts/gpu-check/closure.mjs [--dependencies] PACKAGE...');
  process.exit(2);
}
for (const name of roots) {
  const lockPath = `node_modules/${name}`;
  if (!lock[lockPath]) throw new Error(`package-lock.json has no ${lockPath}`);
  walk(lockPath, true);
}
const missing = [...seen].filter((p) => !fs.existsSync(path.join(repoRoot, p)));
if (missing.length) throw new Error(`not installed here (run npm ci): ${missing.join(', ')}`);
// A nested folder is carried inside its parent; list only the outermost ones.
const sorted = [...seen].sort();
process.stdout.write(`${sorted.filter((p) => !sorted.some((q) => q !== p && p.startsWith(`${q}/`))).join('\n')}\n`);
