// What the example and the benchmarks run on: a random-weight checkpoint shaped like a real model
// (real config and vocabulary from ../shared/models; no weights can be downloaded) and STS-B text.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeCheckpoint } from './make-checkpoint.mjs';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const sharedDir = process.env.BERT_EMBED_SHARED ?? path.resolve(repoRoot, '..', 'shared');

/** .fixtures/example-<name>: written once from ../shared/models/<model>/config.json, then reused. */
export async function randomWeightCheckpoint(model = 'all-MiniLM-L6-v2', name = 'minilm') {
  const dir = path.join(repoRoot, '.fixtures', `example-${name}`);
  if (!fs.existsSync(path.join(dir, 'model.safetensors'))) {
    console.error(`writing a random-weight ${model}-shaped checkpoint to ${dir}`);
    await makeCheckpoint({ configPath: path.join(sharedDir, 'models', model, 'config.json'), outDir: dir });
  }
  return dir;
}

/** STS-B rows of one split: tab-separated, no quote processing; score and the two sentences. */
export function readStsPairs(split = 'test') {
  return fs
    .readFileSync(path.join(sharedDir, 'data', 'stsbenchmark', `sts-${split}.csv`), 'utf8')
    .split('\n')
    .map((line) => line.split('\t'))
    .filter((columns) => columns.length >= 7)
    .map((columns) => ({ score: Number(columns[4]), first: columns[5], second: columns[6] }));
}
