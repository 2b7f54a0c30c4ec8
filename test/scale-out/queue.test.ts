// bert-embed queue on BullMQ, against a real redis-server of the test's own and real worker
// processes: results held to the in-process API's answers for the same texts, then the faults a
// run over many machines meets (a worker SIGKILLed or stopped mid-shard, a duplicate add, input
// that changed, a worker with another model, a transient failure retried).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Encoder } from '../../lib/index.js';
import { addRun, collectRun, runStatus, startWorker } from '../../lib/queue/index.js';
import { checkpointDir } from '../helpers/checkpoints.js';
import { expectVectorsClose } from '../helpers/compare.js';
import { loadNpy } from '../helpers/npy.js';
import { stsSentences } from '../helpers/sts.js';
import { RERANK_DOCUMENTS, RERANK_QUERY } from '../helpers/rerank-texts.js';
import { BIN } from '../cli/run-cli.js';
import { repoRoot } from '../reference/helpers.js';
import { queueCli, spawnQueue, statusOf, until, withBullQueue } from './queue-harness.js';
import { startRedis, type RedisServer } from './redis-server.js';

const TINY = checkpointDir('tiny');
const MINILM = checkpointDir('minilm');
const MAX_SEQ_LEN = 32;
/** a shard of MiniLM at this length takes about a second on 2 cores: long enough to stop a worker inside one */
const SLOW = ['--max-seq-len', '128'];

let redis: RedisServer;
let dir: string;
let out: string;
const sentences = stsSentences('test');
/** a.txt: 600 lines; b.txt: 240 lines with blank ones between (skipped with --skip-empty) */
const textsA = sentences.slice(0, 600);
const textsB = sentences.slice(600, 840);
let fileA: string;
let fileB: string;

beforeAll(async () => {
  redis = await startRedis();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'be-queue-'));
  out = path.join(dir, 'out');
  fileA = path.join(dir, 'a.txt');
  fileB = path.join(dir, 'b.txt');
  fs.writeFileSync(fileA, `${textsA.join('\n')}\n`);
  fs.writeFileSync(fileB, textsB.map((text, i) => (i % 7 === 3 ? `\n${text}` : text)).join('\n'));
});

afterAll(async () => {
  await redis?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function referenceVectors(model: string, texts: string[], maxSeqLen: number): Promise<Float32Array> {
  const encoder = await Encoder.load(model, { maxSeqLen });
  try {
    return (await encoder.encode(texts)).data;
  } finally {
    await encoder.close();
  }
}

const redisArgs = (queue: string) => ['--redis', redis.url, '--queue', queue];

describe('a run over two files and two workers', () => {
  const queue = 'q-encode';
  const addArgs = () => ['add', ...redisArgs(queue), '--run', 'sts', '--out', out, '-m', TINY, '--max-seq-len', String(MAX_SEQ_LEN), '--shard-size', '100', '--skip-empty', fileA, fileB];

  it('adds one job per shard, and adding the same run again adds nothing', async () => {
    const first = await queueCli(addArgs());
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    // 600 rows: 6 shards; 240 rows: 3 (shards never span files)
    expect(JSON.parse(first.stdout.toString())).toEqual({ run: 'sts', shards: 9, rows: 840, created: true });
    const again = await queueCli(addArgs());
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout.toString())).toEqual({ run: 'sts', shards: 9, rows: 840, created: false });
    const ids = await withBullQueue(redis.url, queue, async (q) => (await q.getJobs(['waiting'])).map((job) => job.id).sort());
    expect(ids).toEqual(Array.from({ length: 9 }, (_, i) => `sts.shard-00000${i}`));
    const status = await statusOf(redis.url, queue, 'sts');
    expect(status).toEqual({ run: 'sts', task: 'encode', out, shards: { total: 9, done: 0, failed: 0, active: 0, waiting: 9, delayed: 0 }, rows: { total: 840, done: 0 }, failures: [] });
  });

  it('refuses the same run id with other inputs', async () => {
    const other = await queueCli(['add', ...redisArgs(queue), '--run', 'sts', '--out', out, '-m', TINY, '--max-seq-len', String(MAX_SEQ_LEN), '--shard-size', '50', fileA]);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/run sts is in queue q-encode already, with other inputs, options or model/);
  });

  it('two workers share the shards, watched on a terminal; collect gives the in-process vectors in input order', async () => {
    // script(1) runs `queue status --watch` under a pseudo-terminal and copies what it drew to stdout.
    const watchCommand = [process.execPath, BIN, 'queue', 'status', ...redisArgs(queue), '--run', 'sts', '--watch', '--interval', '200'].join(' ');
    const watch = spawn('script', ['-qec', watchCommand, '/dev/null'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let drawn = '';
    watch.stdout.on('data', (chunk: Buffer) => (drawn += chunk.toString()));
    const watched = new Promise((resolve) => watch.once('exit', resolve));
    const workers = [0, 1].map(() => spawnQueue(['work', ...redisArgs(queue), '-m', TINY, '--threads', '1', '--exit-when-drained']));
    const codes = await Promise.all(workers.map((worker) => worker.exited));
    expect(await watched).toBe(0);
    expect(drawn).toMatch(/\[#{24}\] 840\/840 rows {2}[\d,]+ rows\/s in \d+s\r?\n/);
    expect(drawn).toContain('shards: 9/9 done, 0 failed, 0 active, 0 waiting, 0 delayed');
    expect(codes, workers.map((w) => w.stderr()).join('\n')).toEqual([0, 0]);
    const doneBy = workers.map((worker) => (worker.stderr().match(/: done \(/g) ?? []).length);
    expect(doneBy[0] + doneBy[1]).toBe(9);
    const status = await statusOf(redis.url, queue, 'sts');
    expect(status.shards).toEqual({ total: 9, done: 9, failed: 0, active: 0, waiting: 0, delayed: 0 });
    expect(status.rows).toEqual({ total: 840, done: 840 });

    const expected = await referenceVectors(TINY, [...textsA, ...textsB], MAX_SEQ_LEN);
    const npy = path.join(dir, 'sts.npy');
    const collected = await queueCli(['collect', ...redisArgs(queue), '--run', 'sts', '-o', npy]);
    expect(collected.code, collected.stderr).toBe(0);
    const { shape, dtype, data } = loadNpy(npy);
    expect(shape).toEqual([840, 128]);
    expect(dtype).toBe('float32');
    expectVectorsClose(data, expected, 128, 1e-5, 'collected .npy');

    const jsonl = path.join(dir, 'sts.jsonl');
    expect((await queueCli(['collect', ...redisArgs(queue), '--run', 'sts', '-o', jsonl])).code).toBe(0);
    const rows = fs.readFileSync(jsonl, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(rows.map((row) => [row.source, row.line])).toEqual([
      ...textsA.map((_, i) => [fileA, i + 1]),
      ...fs.readFileSync(fileB, 'utf8').split('\n').flatMap((text, i) => (text === '' ? [] : [[fileB, i + 1]])),
    ]);
    expectVectorsClose(rows.flatMap((row) => row.embedding), expected, 128, 1e-5, 'collected .jsonl');

    const f32 = path.join(dir, 'sts.f32');
    expect((await queueCli(['collect', ...redisArgs(queue), '--run', 'sts', '-o', f32])).code).toBe(0);
    expect(fs.readFileSync(f32).equals(Buffer.from(data.buffer))).toBe(true);
  });
});

describe('inputs as encode reads them', () => {
  it('a CSV with a header, a named column and quoted fields spanning lines: shards start at records, rows keep their lines', async () => {
    const texts = ['plain text', 'a "quoted" word, with a comma', 'two\nlines', ...sentences.slice(0, 9), 'three\nmore\nlines', 'last'];
    const quote = (text: string) => (/[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
    const file = path.join(dir, 'docs.csv');
    fs.writeFileSync(file, `id,text\n${texts.map((text, i) => `${i},${quote(text)}`).join('\n')}\n`);
    const queue = ['--redis', redis.url, '--queue', 'q-csv'];
    const added = await queueCli(['add', ...queue, '--run', 'csv', '--out', out, '-m', TINY, '--max-seq-len', String(MAX_SEQ_LEN), '--shard-size', '3', '--column', 'text', file]);
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout.toString())).toMatchObject({ shards: 5, rows: texts.length });
    expect((await spawnQueue(['work', ...queue, '-m', TINY, '--exit-when-drained']).exited)).toBe(0);
    const output = path.join(dir, 'csv.jsonl');
    const collected = await queueCli(['collect', ...queue, '--run', 'csv', '-o', output]);
    expect(collected.code, collected.stderr).toBe(0);
    const rows = fs.readFileSync(output, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    // the line each record starts on: the header is line 1, a text with n newlines takes n + 1 lines
    let line = 2;
    expect(rows.map((row) => row.line)).toEqual(texts.map((text) => ((line += text.split('\n').length), line - text.split('\n').length)));
    expectVectorsClose(rows.flatMap((row) => row.embedding), await referenceVectors(TINY, texts, MAX_SEQ_LEN), 128, 1e-5, 'CSV run');
  });
});

describe('faults', () => {
  it('a shard whose worker is SIGKILLed inside it, twice, is taken over each time and the run completes', async () => {
    const queue = 'q-kill';
    const added = await queueCli(['add', ...redisArgs(queue), '--run', 'kill', '--out', out, '-m', MINILM, ...SLOW, '--shard-size', '150', fileA]);
    expect(added.code, added.stderr).toBe(0);
    const stall = ['--lock-duration', '2000', '--stalled-interval', '500', '--threads', '1', '--concurrency', '1'];
    const activeIds = () => withBullQueue(redis.url, queue, async (q) => (await q.getJobs(['active'])).map((job) => job.id!));
    const first = spawnQueue(['work', ...redisArgs(queue), '-m', MINILM, ...stall]);
    await first.waitFor(/shard \d+: done/);
    const lost = await activeIds();
    first.child.kill('SIGKILL');
    await first.exited;
    // Killed inside a shard: its job is still active (locked) with nobody working on it.
    expect(lost).toHaveLength(1);
    expect((await statusOf(redis.url, queue, 'kill')).shards.active).toBe(1);

    // The next worker takes the shard over once its lock expires, and is killed inside it too.
    const second = spawnQueue(['work', ...redisArgs(queue), '-m', MINILM, ...stall]);
    const heldAgain = () =>
      withBullQueue(redis.url, queue, async (q) => {
        const job = (await q.getJob(lost[0]))!;
        return job.stalledCounter === 1 && (await job.getState()) === 'active';
      });
    await until(heldAgain, 'the second worker holds the lost shard (taken over once)', 30_000);
    second.child.kill('SIGKILL');
    await second.exited;

    // BullMQ's default (maxStalledCount 1) would fail the shard now; ours (2) retries it once more.
    const rescuer = spawnQueue(['work', ...redisArgs(queue), '-m', MINILM, ...stall, '--exit-when-drained']);
    expect(await rescuer.exited, rescuer.stderr()).toBe(0);
    const status = await statusOf(redis.url, queue, 'kill');
    expect(status.shards).toEqual({ total: 4, done: 4, failed: 0, active: 0, waiting: 0, delayed: 0 });
    expect(await withBullQueue(redis.url, queue, async (q) => (await q.getJob(lost[0]))!.stalledCounter)).toBe(2);
    const lostShard = Number(lost[0].split('shard-')[1]);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'kill', `shard-${String(lostShard).padStart(6, '0')}.json`), 'utf8'));
    expect(manifest.writtenBy).toBe(`${os.hostname()}:${rescuer.child.pid}`);
    const npy = path.join(dir, 'kill.npy');
    expect((await queueCli(['collect', ...redisArgs(queue), '--run', 'kill', '-o', npy])).code).toBe(0);
    const collected = loadNpy(npy);
    expect(collected.dtype).toBe('float32');
    expectVectorsClose(collected.data, await referenceVectors(MINILM, textsA, 128), 384, 1e-5, 'after two SIGKILLs');
  });

  it('SIGTERM: the worker finishes the shard in progress, then exits 0 (one at a time: --concurrency 1)', async () => {
    const queue = 'q-term';
    expect((await queueCli(['add', ...redisArgs(queue), '--run', 'term', '--out', out, '-m', MINILM, ...SLOW, '--shard-size', '150', fileA])).code).toBe(0);
    const worker = spawnQueue(['work', ...redisArgs(queue), '-m', MINILM, '--threads', '1', '--concurrency', '1']);
    await worker.waitFor(/shard \d+: done/);
    const inProgress = await withBullQueue(redis.url, queue, async (q) => (await q.getJobs(['active'])).map((job) => job.id));
    worker.child.kill('SIGTERM');
    expect(await worker.exited, worker.stderr()).toBe(0);
    expect(inProgress).toHaveLength(1);
    const states = await withBullQueue(redis.url, queue, async (q) => Promise.all([0, 1, 2, 3].map((i) => q.getJobState(`term.shard-00000${i}`))));
    // the first shard and the one in progress are done; the rest wait for another worker
    expect(states.filter((state) => state === 'completed')).toHaveLength(2);
    expect(await withBullQueue(redis.url, queue, (q) => q.getJobState(inProgress[0]!))).toBe('completed');
    expect(states.filter((state) => state === 'waiting')).toHaveLength(2);
  });

  it('input changed since the add fails its shards for good (no retries), shown in status; collect, retry and remove', async () => {
    const queue = 'q-bad';
    const file = path.join(dir, 'changing.txt');
    fs.writeFileSync(file, `${textsA.slice(0, 250).join('\n')}\n`);
    expect((await queueCli(['add', ...redisArgs(queue), '--run', 'bad', '--out', out, '-m', TINY, '--shard-size', '100', '--attempts', '5', file])).code).toBe(0);
    fs.appendFileSync(file, 'one more line\n');
    const worker = spawnQueue(['work', ...redisArgs(queue), '-m', TINY, '--exit-when-drained']);
    expect(await worker.exited).toBe(0);
    const status = await statusOf(redis.url, queue, 'bad');
    expect(status.shards).toEqual({ total: 3, done: 0, failed: 3, active: 0, waiting: 0, delayed: 0 });
    expect(status.failures).toHaveLength(3);
    for (const failure of status.failures) {
      expect(failure.code).toBe('ERR_INPUT');
      expect(failure.message).toMatch(new RegExp(`^${file}:\\d+: changed since run bad was added`));
    }
    const attempts = await withBullQueue(redis.url, queue, async (q) => (await q.getJobs(['failed'])).map((job) => job.attemptsMade));
    expect(attempts).toEqual([1, 1, 1]);
    expect(fs.readdirSync(path.join(out, 'bad')).filter((name) => name.startsWith('shard-'))).toEqual([]);

    const collect = await queueCli(['collect', ...redisArgs(queue), '--run', 'bad', '-o', path.join(dir, 'bad.npy')]);
    expect(collect.code).toBe(1);
    expect(collect.stderr).toMatch(/run bad is not complete: 3 of 3 shards are not done \(shard-000000 failed: ERR_INPUT: /);
    expect(fs.existsSync(path.join(dir, 'bad.npy'))).toBe(false);

    const retry = await queueCli(['retry', ...redisArgs(queue), '--run', 'bad']);
    expect(JSON.parse(retry.stdout.toString())).toEqual({ run: 'bad', retried: 3 });
    expect((await statusOf(redis.url, queue, 'bad')).shards.waiting).toBe(3);
    const remove = await queueCli(['remove', ...redisArgs(queue), '--run', 'bad']);
    expect(JSON.parse(remove.stdout.toString())).toEqual({ run: 'bad', removed: 3, active: 0 });
    expect(await withBullQueue(redis.url, queue, (q) => q.getJobCountByTypes('waiting', 'failed', 'completed'))).toBe(0);
    const gone = await queueCli(['status', ...redisArgs(queue), '--run', 'bad']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/queue q-bad has no run bad/);
  });

  it('a worker with another model fails the run for good, naming both models, and writes nothing', async () => {
    const queue = 'q-model';
    expect((await queueCli(['add', ...redisArgs(queue), '--run', 'model', '--out', out, '-m', TINY, '--shard-size', '300', fileA])).code).toBe(0);
    const worker = spawnQueue(['work', ...redisArgs(queue), '-m', checkpointDir('odd'), '--exit-when-drained']);
    expect(await worker.exited).toBe(0);
    const status = await statusOf(redis.url, queue, 'model');
    expect(status.shards.failed).toBe(2);
    expect(status.failures[0].code).toBe('ERR_MODEL_MISMATCH');
    expect(status.failures[0].message).toContain(`this worker's model ${checkpointDir('odd')} (sha256 `);
    expect(status.failures[0].message).toContain(`is not run model's model ${TINY} (sha256 `);
    expect(fs.readdirSync(path.join(out, 'model')).filter((name) => name.startsWith('shard-'))).toEqual([]);
  });

  it('a transient failure is retried with backoff until it passes', async () => {
    const queue = 'q-retry';
    expect((await queueCli(['add', ...redisArgs(queue), '--run', 'retry', '--out', out, '-m', TINY, '--shard-size', '300', '--backoff', '2000', fileA])).code).toBe(0);
    // A directory where shard 0's data file goes: its rename fails until the directory is gone.
    const blocker = path.join(out, 'retry', 'shard-000000.npy');
    fs.mkdirSync(path.join(blocker, 'x'), { recursive: true });
    const worker = spawnQueue(['work', ...redisArgs(queue), '-m', TINY, '--exit-when-drained']);
    await worker.waitFor(/shard 0: retrying: ERR_IO: EISDIR/);
    await until(async () => (await statusOf(redis.url, queue, 'retry')).shards.delayed === 1, 'shard 0 waits for its retry', 20_000);
    fs.rmSync(blocker, { recursive: true });
    expect(await worker.exited).toBe(0);
    expect((await statusOf(redis.url, queue, 'retry')).shards).toEqual({ total: 2, done: 2, failed: 0, active: 0, waiting: 0, delayed: 0 });
    const attempts = await withBullQueue(redis.url, queue, async (q) => (await q.getJob('retry.shard-000000'))!.attemptsMade);
    expect(attempts).toBeGreaterThanOrEqual(2);
  });
});

describe('the API (bert-embed-native/queue) with texts inline, for the heads', () => {
  async function runToEnd(queue: string, model: string): Promise<void> {
    const worker = await startWorker({ redis: redis.url, queue }, { model, exitWhenDrained: true });
    await worker.closed;
  }

  it('a score run answers as the in-process Encoder does, rows in input order', async () => {
    const target = { redis: redis.url, queue: 'q-score' };
    const mlm = checkpointDir('mlm-tiny');
    const texts = sentences.slice(0, 45);
    await addRun(target, { run: 'score', out, model: mlm, task: 'score', taskOptions: { metric: 'whole_word' }, encoderOptions: { maxSeqLen: 32 }, texts, shardSize: 10 });
    await runToEnd('q-score', mlm);
    expect((await runStatus(target, 'score')).shards).toEqual({ total: 5, done: 5, failed: 0, active: 0, waiting: 0, delayed: 0 });
    const output = path.join(dir, 'score.jsonl');
    expect(await collectRun(target, 'score', output)).toEqual({ run: 'score', rows: 45, shards: 5, output });
    const rows = fs.readFileSync(output, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    const encoder = await Encoder.load(mlm, { maxSeqLen: 32 });
    try {
      const expected = await encoder.score(texts, { metric: 'whole_word' });
      expect(rows.map((row) => row.line)).toEqual(texts.map((_, i) => i + 1));
      expect(rows.map((row) => row.words.map((word: { word: string }) => word.word))).toEqual(expected.map((score) => score.words.map((word) => word.word)));
      rows.forEach((row, i) => expect(row.pll).toBeCloseTo(expected[i].pll, 4));
    } finally {
      await encoder.close();
    }
  });

  it('a rerank run gives every document its cross-encoder score, in input order, indexes over the whole run', async () => {
    const target = { redis: redis.url, queue: 'q-rerank' };
    const reranker = checkpointDir('cross-encoder');
    await addRun(target, { run: 'rerank', out, model: reranker, task: 'rerank', taskOptions: { query: RERANK_QUERY }, texts: RERANK_DOCUMENTS, shardSize: 3 });
    await runToEnd('q-rerank', reranker);
    const output = path.join(dir, 'rerank.jsonl');
    await collectRun(target, 'rerank', output);
    const rows = fs.readFileSync(output, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    const encoder = await Encoder.load(reranker);
    try {
      const expected = (await encoder.rerank(RERANK_QUERY, RERANK_DOCUMENTS)).sort((a, b) => a.index - b.index);
      expect(rows.map((row) => row.index)).toEqual(RERANK_DOCUMENTS.map((_, i) => i));
      expect(rows.map((row) => row.text)).toEqual(RERANK_DOCUMENTS);
      rows.forEach((row, i) => expect(row.score).toBeCloseTo(expected[i].score, 6));
    } finally {
      await encoder.close();
    }
  });

  it('is the package subpath bert-embed-native/queue, for require and import', () => {
    const names = 'addRun,collectRun,removeRun,retryRun,runStatus,startWorker';
    const required = execFileSync(process.execPath, ['-e', "const q = require('bert-embed-native/queue'); console.log(Object.keys(q).filter((k) => typeof q[k] === 'function').sort().join())"], { cwd: repoRoot, encoding: 'utf8' });
    expect(required.trim()).toBe(names);
    const imported = execFileSync(process.execPath, ['--input-type=module', '-e', "import * as q from 'bert-embed-native/queue'; console.log(Object.keys(q).filter((k) => typeof q[k] === 'function').sort().join())"], { cwd: repoRoot, encoding: 'utf8' });
    expect(imported.trim()).toBe(names);
  });

  it('refuses what a run cannot be, naming the field', async () => {
    const target = { redis: redis.url, queue: 'q-refuse' };
    await expect(addRun(target, { run: 'a:b', out, model: TINY, texts: ['x'] })).rejects.toThrow("Expected 1 to 128 letters, digits, '_' or '-' for run but received \"a:b\"");
    await expect(addRun(target, { run: 'x', out, model: TINY, texts: ['x'], encoderOptions: { threads: 2 } as never })).rejects.toThrow(/Unknown option 'threads' for encoderOptions/);
    await expect(addRun(target, { run: 'x', out, model: TINY, task: 'score', texts: ['x'] })).rejects.toMatchObject({ code: 'ERR_NO_MLM_HEAD' });
    await expect(addRun(target, { run: 'x', out, model: TINY, task: 'rerank', texts: ['x'] })).rejects.toThrow(/for taskOptions.query/);
    await expect(startWorker(target, { model: TINY, encoderOptions: { pooling: 'CLS_TOKEN' } as never })).rejects.toThrow(/Unknown option 'pooling' for encoderOptions/);
    await expect(addRun({ redis: 'http://x', queue: 'q' }, { run: 'x', out, model: TINY, texts: ['x'] })).rejects.toThrow(/Expected a Redis URL/);
  });
});
