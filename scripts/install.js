#!/usr/bin/env node
// npm install hook: use a prebuilt addon when one matches this platform, else build from source
// with cmake-js against the libtorch found on this machine (see CMakeLists.txt for the search order).
'use strict';
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const fromSource = /^(1|true)$/i.test(process.env.BERT_EMBED_BUILD_FROM_SOURCE || process.env.npm_config_build_from_source || '');

if (!fromSource) {
  try {
    require('node-gyp-build').path(root);
    process.exit(0);
  } catch {
    // no prebuild or earlier build for this platform: build below
  }
}

const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
const result = spawnSync(process.execPath, [cmakeJs, 'compile', '--directory', root], { stdio: 'inherit' });
if (result.status !== 0) {
  console.error(
    '\nbert-embed-native: building the native addon failed.\n' +
      '  It needs cmake, a C++17 compiler and libtorch. On Debian/Ubuntu:\n' +
      '    sudo apt-get install cmake g++ libtorch-dev libopenblas0-pthread\n' +
      '  or point LIBTORCH_DIR at an unpacked libtorch, then run `npm rebuild bert-embed-native`.\n',
  );
  process.exit(result.status || 1);
}
