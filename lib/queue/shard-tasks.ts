/**
 * Each queue task over one shard's sentences, answered in the format its CLI command writes: encode
 * as .npy rows, score / classify / rerank as the commands' JSON lines (rerank in input order, each
 * document's index counted over the whole run).
 */
import type { Encoder } from '../encoder.js';
import { classifyInputOf, classifyJsonLine } from '../cli/commands/classify.js';
import { rerankJsonLine } from '../cli/commands/rerank.js';
import { scoreJsonLine } from '../cli/commands/score.js';
import type { SourceLine } from '../cli/input/line-reader.js';
import { npyHeader } from '../cli/output/npy-header.js';
import type { ScoreMetric } from '../tasks/index.js';
import type { QueueTask, RunRecord } from './run-record.js';
import type { ShardDataExtension } from './shard-output.js';

export interface ShardAnswer {
  extension: ShardDataExtension;
  bytes: Uint8Array | string;
}

type ShardTask = (encoder: Encoder, record: RunRecord, places: SourceLine[], firstRow: number) => Promise<ShardAnswer>;

const SHARD_TASKS: Record<QueueTask, ShardTask> = {
  async encode(encoder, record, places) {
    const embeddings = await encoder.encode(places.map((place) => place.text));
    const shape = embeddings.shape.slice(1);
    if (shape.join() !== record.rowShape.join()) throw new Error(`the model answered rows of shape [${shape}] where the run expects [${record.rowShape}]`);
    const header = npyHeader([places.length, ...shape]);
    const bytes = new Uint8Array(header.length + embeddings.data.byteLength);
    bytes.set(header);
    bytes.set(new Uint8Array(embeddings.data.buffer, embeddings.data.byteOffset, embeddings.data.byteLength), header.length);
    return { extension: 'npy', bytes };
  },
  async score(encoder, record, places) {
    const scores = await encoder.score(places.map((place) => place.text), { metric: record.taskOptions.metric as ScoreMetric });
    const withSource = record.sources.length > 1;
    return { extension: 'jsonl', bytes: scores.map((score, i) => scoreJsonLine(score, places[i], withSource)).join('') };
  },
  async classify(encoder, record, places) {
    const { topK, rawScores } = record.taskOptions as { topK?: number; rawScores: boolean };
    const results = await encoder.classify(places.map((place) => classifyInputOf(place.text)), { topK, rawScores });
    const withSource = record.sources.length > 1;
    return { extension: 'jsonl', bytes: results.map((result, i) => classifyJsonLine(result, places[i], withSource)).join('') };
  },
  async rerank(encoder, record, places, firstRow) {
    const { query, rawScores } = record.taskOptions as { query: string; rawScores: boolean };
    const ranked = await encoder.rerank(query, places.map((place) => place.text), { rawScores });
    const inOrder = [...ranked].sort((a, b) => a.index - b.index);
    const withSource = record.sources.length > 1;
    return { extension: 'jsonl', bytes: inOrder.map((result) => rerankJsonLine({ ...result, index: firstRow + result.index }, places[result.index], withSource)).join('') };
  },
};

export function runShardTask(encoder: Encoder, record: RunRecord, places: SourceLine[], firstRow: number): Promise<ShardAnswer> {
  return SHARD_TASKS[record.task](encoder, record, places, firstRow);
}
