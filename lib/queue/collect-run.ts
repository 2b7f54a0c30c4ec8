/**
 * collectRun: a finished run's shards, concatenated in input order into one output in the formats
 * `encode` writes (.npy, .jsonl, raw .f32; score, classify and rerank: JSON lines), written to a
 * temporary file and renamed into place. A run with any shard not done is refused, naming them.
 */
import { Embeddings } from '../embeddings.js';
import { BertEmbedError } from '../errors.js';
import { openByteSink, writeAllOrNothing } from '../cli/output/byte-sink.js';
import { npyHeader } from '../cli/output/npy-header.js';
import { openVectorSink, outputFormatOf, type OutputFormat } from '../cli/output/vector-sink.js';
import { fieldError } from '../validation.js';
import { withConnection, type QueueTarget } from './connection.js';
import { checkRunId, shardName, shardJobId, type RunRecord } from './run-record.js';
import { readShardData, readShardManifest, type ShardManifest } from './shard-output.js';
import { failureOf, shardStates, type ShardState } from './run-status.js';

export interface CollectResult {
  run: string;
  rows: number;
  shards: number;
  output: string;
}

const NAMED_AT_MOST = 20;

function incompleteError(record: RunRecord, missing: string[]): BertEmbedError {
  const named = missing.slice(0, NAMED_AT_MOST).join('; ');
  const more = missing.length > NAMED_AT_MOST ? `; and ${missing.length - NAMED_AT_MOST} more` : '';
  return new BertEmbedError(`run ${record.run} is not complete: ${missing.length} of ${record.shardRows.length} shards are not done (${named}${more})`, 'ERR_RUN_INCOMPLETE');
}

/** Every shard's manifest, or the refusal that names each shard not done. */
async function completeManifests(record: RunRecord, states: ShardState[], failedReason: (shard: number) => Promise<string | undefined>): Promise<ShardManifest[]> {
  const manifests: ShardManifest[] = [];
  const missing: string[] = [];
  for (const [shard, state] of states.entries()) {
    const manifest = state === 'completed' ? readShardManifest(record.out, record.run, shard) : undefined;
    if (manifest) {
      manifests.push(manifest);
      continue;
    }
    if (state === 'failed') {
      const { code, message } = failureOf(await failedReason(shard));
      missing.push(`${shardName(shard)} failed: ${code}: ${message}`);
    } else if (state === 'completed') missing.push(`${shardName(shard)} is done but its files are missing from ${record.out}/${record.run}`);
    else missing.push(`${shardName(shard)} is ${state === 'unknown' ? 'not in the queue' : state}`);
  }
  if (missing.length > 0) throw incompleteError(record, missing);
  return manifests;
}

function shardEmbeddings(record: RunRecord, manifest: ShardManifest, bytes: Buffer): Embeddings {
  const header = npyHeader([manifest.rows, ...record.rowShape]);
  if (!bytes.subarray(0, header.length).equals(header)) throw new Error(`${record.out}/${record.run}/${manifest.data.file} has another .npy header than the run's shape [${manifest.rows}, ${record.rowShape}]`);
  // A fresh, aligned copy: the file's bytes start at any offset.
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset + header.length, bytes.byteOffset + bytes.length));
  return new Embeddings(data, [manifest.rows, ...record.rowShape]);
}

export function collectRun(target: QueueTarget, run: string, output: string, options: { format?: OutputFormat } = {}): Promise<CollectResult> {
  checkRunId(run);
  if (typeof output !== 'string' || output === '') throw fieldError(TypeError, 'output', 'a file path (.npy, .jsonl or .f32)', output);
  return withConnection(target, async (connection) => {
    const record = await connection.requireRun(run);
    const format = record.task === 'encode' ? outputFormatOf(output, options.format) : (options.format ?? 'jsonl');
    if (record.task !== 'encode' && format !== 'jsonl') throw fieldError(RangeError, 'format', `'jsonl' (a ${record.task} run answers JSON lines)`, format);
    const states = await shardStates(connection, record);
    const manifests = await completeManifests(record, states, async (shard) => (await connection.queue.getJob(shardJobId(run, shard)))?.failedReason);
    const withSource = record.sources.length > 1;
    if (record.task === 'encode') {
      const sink = await openVectorSink(output, format, record.rowShape, { withSource });
      await writeAllOrNothing(sink, async () => {
        for (const manifest of manifests) {
          const places = manifest.lines.map((line) => ({ source: manifest.source, line, text: '' }));
          await sink.write(shardEmbeddings(record, manifest, readShardData(record.out, manifest)), places);
        }
      });
    } else {
      const sink = openByteSink(output);
      await writeAllOrNothing(sink, async () => {
        for (const manifest of manifests) await sink.write(readShardData(record.out, manifest));
      });
    }
    return { run, rows: record.rows, shards: manifests.length, output };
  });
}
