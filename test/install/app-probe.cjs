'use strict';
// Run inside an app that installed the packed bert-embed-native tarball: test/install/prebuilt-install.test.ts and
// bench/install.mjs copy it into the app, so that it resolves `bert-embed-native` exactly as the app does.
//
//   node app-probe.cjs REQUEST.json RESULT.json
//
// REQUEST: { model, maxSeqLen, device?, infoFirst?, texts?, pooling? }
//   infoFirst (default true): call libtorchInfo() before Encoder.load (false: Encoder.load is the first use of the addon)
//   texts: encoded with `pooling` ({ pooling, layers, normalize, maskClsSep }) after the load
// RESULT: { timings: { requireMs, infoMs, loadMs, encodeMs }, rssAfterLoad, info, shape, data } where data is base64 of
//   the float32 little-endian vectors; or, when something threw, { ..., error: { stage, code, message } }.
// The exit status is 0 either way once RESULT is written: the caller reads RESULT.
const fs = require('node:fs');
const { performance } = require('node:perf_hooks');

const [requestFile, resultFile] = process.argv.slice(2);
const request = JSON.parse(fs.readFileSync(requestFile, 'utf8'));
const result = { timings: {} };
let stage = 'require';

async function main() {
  let start = performance.now();
  const lib = require('bert-embed-native');
  result.timings.requireMs = performance.now() - start;
  if (request.infoFirst !== false) {
    stage = 'libtorchInfo';
    start = performance.now();
    result.info = lib.libtorchInfo();
    result.timings.infoMs = performance.now() - start;
  }
  stage = 'Encoder.load';
  start = performance.now();
  const encoder = await lib.Encoder.load(request.model, { maxSeqLen: request.maxSeqLen, device: request.device ?? 'cpu' });
  result.timings.loadMs = performance.now() - start;
  result.rssAfterLoad = process.memoryUsage.rss();
  result.info ??= lib.libtorchInfo();
  try {
    if (request.texts) {
      stage = 'encode';
      start = performance.now();
      const embeddings = await encoder.encode(request.texts, request.pooling ?? {});
      result.timings.encodeMs = performance.now() - start;
      result.shape = embeddings.shape;
      result.data = Buffer.from(embeddings.data.buffer, embeddings.data.byteOffset, embeddings.data.byteLength).toString('base64');
    }
  } finally {
    await encoder.close();
  }
}

main()
  .catch((error) => {
    result.error = { stage, code: error?.code ?? null, message: String(error?.message ?? error) };
  })
  .finally(() => fs.writeFileSync(resultFile, JSON.stringify(result)));
