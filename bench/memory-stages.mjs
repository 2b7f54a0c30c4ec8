#!/usr/bin/env node
// Where a process's memory goes, stage by stage: RSS (and its peak so far) at start, once the addon and
// its libtorch are loaded, after Encoder.load of the all-MiniLM-L6-v2-shaped random-weight checkpoint,
// and after one and two encode() passes over the STS-B test sentences (mean pooling, normalized,
// maxSeqLen 128). One fresh process: figures are for the libtorch the loader finds (or BERT_EMBED_ADDON).
//
//   npx tsc -p tsconfig.json && node bench/memory-stages.mjs [float32|int8|bfloat16]
import fs from 'node:fs';
import { randomWeightCheckpoint, readStsPairs } from '../scripts/example-fixtures.mjs';
import { describeHost } from './host.mjs';

const dtype = process.argv[2] ?? 'float32';
const status = () => fs.readFileSync('/proc/self/status', 'utf8');
const mib = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status())[1]) / 1024;
const rows = [];
const stage = (name) => rows.push(`| ${name} | ${mib('VmRSS').toFixed(0)} MiB | ${mib('VmHWM').toFixed(0)} MiB |`);

stage('node started');
const { Encoder, libtorchInfo } = await import('../dist/index.js');
const checkpoint = await randomWeightCheckpoint();
const { libtorch } = libtorchInfo();
stage('addon and libtorch loaded');
const encoder = await Encoder.load(checkpoint, { pooling: 'REDUCE_MEAN', layers: [-1], normalize: true, maxSeqLen: 128, dtype });
stage('model loaded');
const sentences = readStsPairs('test').flatMap((pair) => [pair.first, pair.second]);
await encoder.encode(sentences);
stage('one pass');
await encoder.encode(sentences);
stage('two passes');
await encoder.close();
console.log(`${dtype}, libtorch ${libtorch?.version} (${libtorch?.source}), ${describeHost()}, ${new Date().toISOString().slice(0, 10)}\n`);
console.log('| stage | RSS | peak RSS so far |\n| --- | --- | --- |');
console.log(rows.join('\n'));
