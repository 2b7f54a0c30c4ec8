#!/usr/bin/env node
// prebuildify with a cmake-js backend. prebuildify itself only knows node-gyp, which it runs as
// `$PREBUILD_NODE_GYP rebuild --target=… --release`; this script points that variable at itself
// and, when called that way, builds with cmake-js into build/Release where prebuildify looks.
//   node scripts/prebuildify-cmake.js --napi --strip [--backend cmake-js] [other prebuildify flags]
'use strict';
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const args = process.argv.slice(2);

function run(command, commandArgs, env = process.env) {
  const result = spawnSync(command, commandArgs, { cwd: root, env, stdio: 'inherit' });
  process.exit(result.status ?? 1);
}

if (args[0] === 'rebuild') {
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  run(process.execPath, [cmakeJs, 'rebuild', '--directory', root, ...(args.includes('--debug') ? ['--debug'] : [])]);
} else {
  const backendAt = args.indexOf('--backend');
  const backend = backendAt >= 0 ? args.splice(backendAt, 2)[1] : 'cmake-js';
  if (backend !== 'cmake-js') {
    console.error(`prebuildify-cmake: unsupported backend ${backend} (only cmake-js)`);
    process.exit(2);
  }
  const prebuildify = require.resolve('prebuildify/bin.js');
  run(process.execPath, [prebuildify, ...args], { ...process.env, PREBUILD_NODE_GYP: __filename });
}
