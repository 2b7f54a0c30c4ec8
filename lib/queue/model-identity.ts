/**
 * A model's identity for a queue run: one sha256 over the files that decide its answers (weights,
 * config and tokenizer files), so that a worker holding another model refuses the run's shards
 * instead of writing vectors of the wrong model. Paths do not count: the same files under another
 * mount point are the same model.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { COMPANION_FILES, locateModelFiles } from '../model/model-files.js';
import { DEFAULT_MODEL_FILE_OPTIONS, type ModelFileOptions } from '../options.js';

export interface ModelIdentity {
  /** the path the identity was taken from (for messages only) */
  path: string;
  /** hex sha256 over each file's name and sha256 */
  sha256: string;
  /** the files hashed, relative to the model directory */
  files: string[];
}

async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A TensorFlow checkpoint is its .index and every data shard beside it. */
function weightFiles(weights: { path: string; checkpointPrefix?: string }): string[] {
  if (weights.checkpointPrefix === undefined) return [weights.path];
  const dir = path.dirname(weights.checkpointPrefix);
  const shardPrefix = `${path.basename(weights.checkpointPrefix)}.data-`;
  const shards = fs.readdirSync(dir).filter((name) => name.startsWith(shardPrefix)).map((name) => path.join(dir, name));
  return [weights.path, ...shards];
}

export async function modelIdentity(modelPath: string, fileOptions: ModelFileOptions = DEFAULT_MODEL_FILE_OPTIONS): Promise<ModelIdentity> {
  const files = locateModelFiles(modelPath, fileOptions);
  const companions = COMPANION_FILES.map((name) => path.join(files.dir, name)).filter((file) => fs.existsSync(file));
  const hashed = [...new Set([files.configJson, ...companions, ...weightFiles(files.weights)])];
  const entries = await Promise.all(hashed.map(async (file) => ({ name: path.relative(files.dir, file).split(path.sep).join('/'), sha256: await fileSha256(file) })));
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const identity = createHash('sha256');
  for (const { name, sha256 } of entries) identity.update(`${name}\t${sha256}\n`);
  return { path: files.dir, sha256: identity.digest('hex'), files: entries.map((entry) => entry.name) };
}

/** `DIR (sha256 0123abcd…)`, as messages name a model. */
export function describeIdentity(identity: Pick<ModelIdentity, 'path' | 'sha256'>): string {
  return `${identity.path} (sha256 ${identity.sha256.slice(0, 12)}…)`;
}
