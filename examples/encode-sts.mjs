#!/usr/bin/env node
// Encodes the STS Benchmark test sentences and prints throughput and a few similarities.
//   node examples/encode-sts.mjs [MODEL_DIR]
// Without MODEL_DIR it writes a random-weight checkpoint shaped like all-MiniLM-L6-v2 (real
// config and vocabulary from ../shared/models, no weights can be downloaded here), so the vectors
// are meaningless but the work is the real work.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Encoder } from 'bert-embed-native';
import { makeCheckpoint } from '../scripts/make-checkpoint.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.BERT_EMBED_SHARED ?? path.resolve(root, '..', 'shared');

let modelDir = process.argv[2];
if (!modelDir) {
  modelDir = path.join(root, '.fixtures', 'example-minilm');
  if (!fs.existsSync(path.join(modelDir, 'model.safetensors'))) {
    console.log(`writing a random-weight all-MiniLM-L6-v2-shaped checkpoint to ${modelDir}`);
    await makeCheckpoint({ configPath: path.join(shared, 'models', 'all-MiniLM-L6-v2', 'config.json'), outDir: modelDir });
  }
}

const pairs = fs
  .readFileSync(path.join(shared, 'data', 'stsbenchmark', 'sts-test.csv'), 'utf8')
  .split('\n')
  .map((line) => line.split('\t'))
  .filter((columns) => columns.length >= 7)
  .map((columns) => ({ score: Number(columns[4]), first: columns[5], second: columns[6] }));
const sentences = pairs.flatMap((pair) => [pair.first, pair.second]);

const encoder = await Encoder.load(modelDir, { normalize: true });
console.log(`model ${modelDir}: ${encoder.config.numLayers} layers, hidden ${encoder.config.hiddenSize}`);
console.log('options', JSON.stringify(encoder.options));

const started = performance.now();
const embeddings = await encoder.encode(sentences);
const seconds = (performance.now() - started) / 1000;
console.log(`encoded ${sentences.length} sentences into ${JSON.stringify(embeddings.shape)} in ${seconds.toFixed(2)} s: ${(sentences.length / seconds).toFixed(0)} sentences/s`);

const rows = embeddings.rows();
const dot = (a, b) => a.reduce((sum, value, i) => sum + value * b[i], 0);
for (let i = 0; i < 3; i++) {
  console.log(`gold ${pairs[i].score.toFixed(2)}  cosine ${dot(rows[2 * i], rows[2 * i + 1]).toFixed(4)}  ${pairs[i].first} | ${pairs[i].second}`);
}
await encoder.close();
