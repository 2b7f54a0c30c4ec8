// The classification endpoints of the real `bert-embed serve` process: text-embeddings-inference's /rerank and
// /predict, and the Cohere-shaped /v1/rerank, each answer compared with the same checkpoint loaded in this process
// (whose scores test/heads/classification-parity.test.ts holds to sentence-transformers and transformers); their
// errors; and a model without the head.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Encoder } from '../../lib/index.js';
import { BIN } from '../cli/run-cli.js';
import { checkpointDir } from '../helpers/checkpoints.js';
import { makeFixtureDir, removeFixtureDir } from '../reference/helpers.js';
import { expectClose } from '../helpers/expect-close.js';
import { RERANK_DOCUMENTS, RERANK_MAX_SEQ_LEN, RERANK_QUERY } from '../helpers/rerank-texts.js';
import { request } from './harness.js';

const MAX_SEQ_LEN = RERANK_MAX_SEQ_LEN;
const QUERY = RERANK_QUERY;
const DOCUMENTS = RERANK_DOCUMENTS;

let dir: string;
const children: ChildProcess[] = [];
let crossEncoderSocket: string;
let classifierSocket: string;
let plainSocket: string;
let crossEncoder: Encoder;
let classifier: Encoder;

async function serve(model: string, name: string): Promise<string> {
  const socket = path.join(dir, `${name}.sock`);
  const child = spawn(process.execPath, [BIN, 'serve', '-m', model, '--socket', socket, '--max-seq-len', String(MAX_SEQ_LEN), '--model-name', name]);
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const deadline = Date.now() + 60_000;
  while (!stderr.includes('ready:') && child.exitCode === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  if (!stderr.includes('ready:')) throw new Error(`bert-embed serve ${model} did not start:\n${stderr}`);
  return socket;
}

const post = (socket: string, urlPath: string, body: unknown) => request(socket, 'POST', urlPath, JSON.stringify(body));


beforeAll(async () => {
  dir = makeFixtureDir('rerank-server');
  [crossEncoderSocket, classifierSocket, plainSocket, crossEncoder, classifier] = await Promise.all([
    serve(checkpointDir('cross-encoder'), 'ce'),
    serve(checkpointDir('classifier-3'), 'clf'),
    serve(checkpointDir('tiny'), 'plain'),
    Encoder.load(checkpointDir('cross-encoder'), { maxSeqLen: MAX_SEQ_LEN }),
    Encoder.load(checkpointDir('classifier-3'), { maxSeqLen: MAX_SEQ_LEN }),
  ]);
});
afterAll(async () => {
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map((child) => (child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined)));
  await crossEncoder?.close();
  await classifier?.close();
  removeFixtureDir(dir);
});

describe('POST /rerank (text-embeddings-inference)', () => {
  it('answers [{index, score, text}] best first, as Encoder.rerank', async () => {
    const response = await post(crossEncoderSocket, '/rerank', { query: QUERY, texts: DOCUMENTS, truncate: true, return_text: true });
    expect(response.status).toBe(200);
    const expected = await crossEncoder.rerank(QUERY, DOCUMENTS, { returnDocuments: true });
    expectClose(response.json(), expected.map(({ index, score, document }) => ({ index, score, text: document })));
  });

  it('raw_scores gives the logits; without truncate a long pair is a 422', async () => {
    const raw = await post(crossEncoderSocket, '/rerank', { query: QUERY, texts: DOCUMENTS, truncate: true, raw_scores: true });
    const expected = await crossEncoder.rerank(QUERY, DOCUMENTS, { rawScores: true });
    expectClose(raw.json(), expected.map(({ index, score }) => ({ index, score })));
    const long = await post(crossEncoderSocket, '/rerank', { query: QUERY, texts: DOCUMENTS });
    expect(long.status).toBe(422);
    expect(long.json().code).toBe('ERR_INPUT_TOO_LONG');
    expect(long.json().error).toMatch(/^texts\[\d\] has \d+ tokens, more than maxSeqLen 24; send "truncate": true/);
  });

  it('bad bodies are 422s naming the field', async () => {
    for (const [body, field] of [
      [{ query: 1, texts: ['a'] }, 'query'],
      [{ query: 'q', texts: [] }, 'texts'],
      [{ query: 'q', texts: ['a', 2] }, 'texts[1]'],
      [{ query: 'q', texts: ['a'], raw_scores: 'yes' }, 'raw_scores'],
    ] as const) {
      const response = await post(crossEncoderSocket, '/rerank', body);
      expect(response.status, JSON.stringify(body)).toBe(422);
      expect(response.json().error).toContain(field);
    }
  });
});

describe('POST /v1/rerank (Cohere / Jina shape)', () => {
  it('answers {model, results: [{index, relevance_score, document: {text}}]}, top_n best first', async () => {
    const response = await post(crossEncoderSocket, '/v1/rerank', { model: 'my-reranker', query: QUERY, documents: [DOCUMENTS[0], { text: DOCUMENTS[1] }, ...DOCUMENTS.slice(2)], top_n: 2, return_documents: true });
    expect(response.status).toBe(200);
    const expected = await crossEncoder.rerank(QUERY, DOCUMENTS, { topK: 2 });
    expectClose(response.json(), {
      model: 'my-reranker',
      results: expected.map(({ index, score }) => ({ index, relevance_score: score, document: { text: DOCUMENTS[index] } })),
    });
    const bare = await post(crossEncoderSocket, '/v1/rerank', { query: QUERY, documents: DOCUMENTS });
    expect(bare.json().model).toBe('ce');
    expect(bare.json().results.map((r: { index: number }) => r.index)).toEqual((await crossEncoder.rerank(QUERY, DOCUMENTS)).map((r) => r.index));
    expect(bare.json().results[0].document).toBeUndefined();
  });

  it('a document that is neither a string nor {text} is a 422 naming it', async () => {
    const response = await post(crossEncoderSocket, '/v1/rerank', { query: QUERY, documents: ['a', { body: 'b' }] });
    expect(response.status).toBe(422);
    expect(response.json().error).toContain('documents[1]');
  });
});

describe('POST /predict (text-embeddings-inference)', () => {
  const inputs: (string | [string, string])[] = ['I loved it', ['A man plays.', 'Someone is playing.']];

  it('one text, one pair, or a list of either; labels as Encoder.classify', async () => {
    const expected = await classifier.classify(inputs);
    const one = await post(classifierSocket, '/predict', { inputs: inputs[0] });
    expect(one.status).toBe(200);
    expectClose(one.json(), expected[0].labels);
    const pair = await post(classifierSocket, '/predict', { inputs: inputs[1] });
    expectClose(pair.json(), expected[1].labels);
    const list = await post(classifierSocket, '/predict', { inputs });
    expectClose(list.json(), expected.map((r) => r.labels));
    const raw = await post(classifierSocket, '/predict', { inputs, raw_scores: true });
    expectClose(raw.json(), (await classifier.classify(inputs, { rawScores: true })).map((r) => r.labels));
  });

  it('/rerank on a three-label classifier and any of them on a plain BertModel: 422 ERR_NO_CLASSIFIER_HEAD', async () => {
    const rerank = await post(classifierSocket, '/rerank', { query: 'q', texts: ['a'] });
    expect([rerank.status, rerank.json().code]).toEqual([422, 'ERR_NO_CLASSIFIER_HEAD']);
    for (const [urlPath, body] of [
      ['/predict', { inputs: 'a' }],
      ['/rerank', { query: 'q', texts: ['a'] }],
      ['/v1/rerank', { query: 'q', documents: ['a'] }],
    ] as const) {
      const response = await post(plainSocket, urlPath, body);
      expect([response.status, response.json().code], urlPath).toEqual([422, 'ERR_NO_CLASSIFIER_HEAD']);
    }
  });

  it('bad inputs are 422s naming the field', async () => {
    const response = await post(classifierSocket, '/predict', { inputs: ['a', ['b']] });
    expect(response.status).toBe(422);
    expect(response.json().error).toContain('inputs[1]');
  });
});
