/**
 * A shard's output under OUT/RUN/: its data (shard-NNNNNN.npy or .jsonl), then its manifest
 * (shard-NNNNNN.json: rows, lines, the data file's size and sha256). Each is written to a
 * temporary file and renamed into place, data first, so a manifest is only ever seen beside
 * complete data, and a killed worker leaves nothing that looks finished.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { shardName } from './run-record.js';

export type ShardDataExtension = 'npy' | 'jsonl';

export interface ShardManifest {
  run: string;
  shard: number;
  rows: number;
  source: string;
  /** the input line of each row */
  lines: number[];
  data: { file: string; bytes: number; sha256: string };
  /** the worker that wrote it (host:pid), for people */
  writtenBy: string;
}

export function runDir(out: string, run: string): string {
  return path.join(out, run);
}

export function manifestPath(out: string, run: string, shard: number): string {
  return path.join(runDir(out, run), `${shardName(shard)}.json`);
}

async function writeFileAtomically(file: string, bytes: Uint8Array | string): Promise<void> {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.partial`);
  const handle = await fs.promises.open(temporary, 'wx');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await fs.promises.rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await fs.promises.rename(temporary, file);
  } catch (error) {
    await fs.promises.rm(temporary, { force: true });
    throw error;
  }
}

export async function writeShardOutput(out: string, manifest: Omit<ShardManifest, 'data'>, extension: ShardDataExtension, bytes: Uint8Array | string): Promise<ShardManifest> {
  const dir = runDir(out, manifest.run);
  await fs.promises.mkdir(dir, { recursive: true });
  const dataFile = `${shardName(manifest.shard)}.${extension}`;
  const data = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  await writeFileAtomically(path.join(dir, dataFile), data);
  const complete: ShardManifest = { ...manifest, data: { file: dataFile, bytes: data.byteLength, sha256: createHash('sha256').update(data).digest('hex') } };
  await writeFileAtomically(manifestPath(out, manifest.run, manifest.shard), `${JSON.stringify(complete)}\n`);
  return complete;
}

/** The shard's manifest, or undefined when the shard is not (completely) written. */
export function readShardManifest(out: string, run: string, shard: number): ShardManifest | undefined {
  try {
    return JSON.parse(fs.readFileSync(manifestPath(out, run, shard), 'utf8')) as ShardManifest;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The shard's data, checked against its manifest (a truncated or replaced file is named). */
export function readShardData(out: string, manifest: ShardManifest): Buffer {
  const file = path.join(runDir(out, manifest.run), manifest.data.file);
  const bytes = fs.readFileSync(file);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (bytes.length !== manifest.data.bytes || sha256 !== manifest.data.sha256) {
    throw new Error(`${file} is not the file its manifest describes (${bytes.length} bytes, sha256 ${sha256.slice(0, 12)}…; expected ${manifest.data.bytes} bytes, ${manifest.data.sha256.slice(0, 12)}…)`);
  }
  return bytes;
}
