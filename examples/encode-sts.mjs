#!/usr/bin/env node
// Encodes the STS Benchmark test sentences and prints throughput and a few similarities.
//   node examples/encode-sts.mjs [MODEL_DIR]
// Without MODEL_DIR it writes a random-weight checkpoint shaped like all-MiniLM-L6-v2 (real
// config and vocabulary from ../shared/models, no weights can be downloaded here), so the vectors
// are meaningless but the work is the real work.
import { Encoder } from 'bert-embed-native';
import { randomWeightCheckpoint, readStsPairs } from '../scripts/example-fixtures.mjs';

const modelDir = process.argv[2] ?? (await randomWeightCheckpoint());
const pairs = readStsPairs('test');
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
