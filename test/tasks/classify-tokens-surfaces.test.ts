// Token classification on its surfaces, each against transformers' token-classification pipeline
// (test/reference/hf_token_classification.py): `bert-embed classify-tokens` (the real binary), `POST /classify-tokens`
// of a real `bert-embed serve`, and `bert-embed info`; with their errors named in each surface's own words.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, jsonLines, runCli } from '../cli/run-cli.js';
import { TOKEN_LABELS, TOKEN_MAX_LENGTH, checkpointDir } from '../helpers/checkpoints.js';
import { TEXTS, expectSameEntities, hfTokenClassification, type HfTokenResult } from '../helpers/token-classification.js';
import { makeFixtureDir, removeFixtureDir } from '../reference/helpers.js';
import { request } from '../server/harness.js';

const MODEL = checkpointDir('token-tiny');
const MAX_SEQ_LEN = String(TOKEN_MAX_LENGTH);
/** One text per line: the ones without a line break. */
const LINES = TEXTS.filter((text) => !/[\r\n]/.test(text));

let dir: string;
let server: ChildProcess | undefined;
let socket: string;
let simple: HfTokenResult[];
let firstAll: HfTokenResult[];

beforeAll(async () => {
  dir = makeFixtureDir('classify-tokens-surfaces');
  fs.writeFileSync(path.join(dir, 'lines.txt'), LINES.join('\n') + '\n');
  socket = path.join(dir, 'ner.sock');
  server = spawn(process.execPath, [BIN, 'serve', '-m', MODEL, '--socket', socket, '--max-seq-len', MAX_SEQ_LEN]);
  let stderr = '';
  server.stderr!.on('data', (chunk) => (stderr += chunk));
  const base = { op: 'pipeline' as const, model: MODEL, inputs: LINES };
  [[simple, firstAll]] = await Promise.all([
    hfTokenClassification([
      { ...base, aggregation_strategy: 'simple' },
      { ...base, aggregation_strategy: 'first', ignore_labels: [] },
    ]),
    (async () => {
      const deadline = Date.now() + 60_000;
      while (!stderr.includes('ready:') && server!.exitCode === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      if (!stderr.includes('ready:')) throw new Error(`bert-embed serve did not start:\n${stderr}`);
    })(),
  ]);
});
afterAll(async () => {
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((resolve) => server!.once('exit', resolve));
  }
  removeFixtureDir(dir);
});

const post = (body: unknown) => request(socket, 'POST', '/classify-tokens', JSON.stringify(body));

describe('bert-embed classify-tokens', () => {
  it("writes each line's entities as the pipeline gives them", async () => {
    const result = await runCli(['classify-tokens', '-m', MODEL, '--max-seq-len', MAX_SEQ_LEN, '--aggregation-strategy', 'simple', path.join(dir, 'lines.txt')]);
    expect(result.code, result.stderr).toBe(0);
    const lines = jsonLines(result.stdout);
    expect(lines.map((line) => line.line)).toEqual(LINES.map((_, i) => i + 1));
    lines.forEach((line, i) => expectSameEntities(line.entities as object[], simple[i].entities, `line ${i + 1}`));
  });

  it("--ignore-labels '' keeps every label", async () => {
    const args = ['classify-tokens', '-m', MODEL, '--max-seq-len', MAX_SEQ_LEN, '--aggregation-strategy', 'first', '--ignore-labels', '', '--', path.join(dir, 'lines.txt')];
    const result = await runCli(args);
    expect(result.code, result.stderr).toBe(0);
    jsonLines(result.stdout).forEach((line, i) => expectSameEntities(line.entities as object[], firstAll[i].entities, `line ${i + 1}`));
  });

  it('refuses a model without the head before reading any input (exit 1), and an unknown strategy (exit 2)', async () => {
    const plain = await runCli(['classify-tokens', '-m', checkpointDir('tiny'), path.join(dir, 'lines.txt')]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/ERR_NO_TOKEN_CLASSIFIER_HEAD|BertForTokenClassification's head/);
    const unknown = await runCli(['classify-tokens', '-m', MODEL, '--aggregation-strategy', 'longest', path.join(dir, 'lines.txt')]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--aggregation-strategy must be one of none, simple, first, average, max but received longest/);
  });

  it('bert-embed info lists the head, the task and the labels', async () => {
    const result = await runCli(['info', '-m', MODEL, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const info = JSON.parse(result.stdout.toString());
    expect(info.heads).toEqual(['pooled', 'tokenClassification']);
    expect(info.tasks).toContain('classify-tokens');
    expect(info.tasks).not.toContain('classify');
    expect(info.labels).toEqual(TOKEN_LABELS);
  });
});

describe('POST /classify-tokens', () => {
  it("answers one list of entities per input, as the pipeline's", async () => {
    const answer = await post({ inputs: LINES, aggregation_strategy: 'first', ignore_labels: [] });
    expect(answer.status, answer.text).toBe(200);
    const lists = answer.json() as object[][];
    expect(lists).toHaveLength(LINES.length);
    lists.forEach((entities, i) => expectSameEntities(entities, firstAll[i].entities, `inputs[${i}]`));
    const one = await post({ inputs: LINES[0], aggregation_strategy: 'simple' });
    expect(one.status, one.text).toBe(200);
    expectSameEntities((one.json() as object[][])[0], simple[0].entities, 'a single string');
  });

  it("names the body's own fields in its errors", async () => {
    const strategy = await post({ inputs: ['a'], aggregation_strategy: 'longest' });
    expect(strategy.status).toBe(422);
    expect(strategy.json()).toMatchObject({ code: 'ERR_VALIDATION', error: expect.stringMatching(/for aggregation_strategy but received "longest"/) });
    const labels = await post({ inputs: ['a'], ignore_labels: [1] });
    expect(labels.status).toBe(422);
    expect(labels.json()).toMatchObject({ code: 'ERR_VALIDATION', error: expect.stringMatching(/^Expected string for ignore_labels\[0\] but received 1/) });
    const stride = await post({ inputs: ['a'], aggregation_strategy: 'simple', stride: TOKEN_MAX_LENGTH });
    expect(stride.status).toBe(422);
    expect(stride.json()).toMatchObject({ code: 'ERR_VALIDATION', error: expect.stringMatching(/for stride but received 48/) });
    const none = await post({ inputs: ['a'], stride: 4 });
    expect(none.status).toBe(422);
    expect(none.json()).toMatchObject({ code: 'ERR_VALIDATION', error: expect.stringMatching(/for aggregation_strategy but received "none"/) });
  });
});
