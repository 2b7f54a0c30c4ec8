// The masked-LM endpoints of the real `bert-embed serve` process: /score, /fill-mask, /embed_sparse
// and TensorFlow Serving's /v1/models/<name>:predict (row and columnar, requests built as BERT's TF
// Serving clients build them), its status and metadata, its errors, examples/score-tsv.py over the
// UNIX socket, and a model without the head. Every number is checked against the same checkpoint
// loaded in this process.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddingServer, Encoder, type MaskedLmRow, type SentenceScore } from '../../lib/index.js';
import { BIN } from '../cli/run-cli.js';
import { checkpointDir } from '../helpers/checkpoints.js';
import { repoRoot } from '../reference/helpers.js';
import { request } from './harness.js';

const run = promisify(execFile);
const MLM = checkpointDir('mlm-tiny');
const PLAIN = checkpointDir('tiny');
const MODEL_NAME = 'bert-mlm'; // --model-name (the default is the model directory's name)
const MAX_SEQ_LEN = 64;
// BERT's pretraining defaults, as its TF Serving clients pad the features
const MAX_SEQ_LENGTH = 128;
const MAX_PREDICTIONS = 20;

const SENTENCES = [
  'The quick brown fox jumps over the lazy dog.',
  'A man is playing an unaffable guitar in the park.',
  "Isn't it remarkable, Mr. Smith, how quickly they rebuilt the café?",
  'Two women are dancing ||| A pair of people dance together',
  'short',
];

let dir: string;
let encoder: Encoder;

interface Served {
  child: ChildProcess;
  socket: string;
  exited: Promise<number | null>;
}
const served: Served[] = [];

/** Starts `bert-embed serve` on a UNIX socket and waits until it says it is ready. */
async function serve(model: string, name: string, extraArgs: string[] = []): Promise<Served> {
  const socket = path.join(dir, `${name}.sock`);
  const child = spawn(process.execPath, [BIN, 'serve', '-m', model, '--socket', socket, '--max-seq-len', String(MAX_SEQ_LEN), ...extraArgs]);
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (!stderr.includes('ready:') && child.exitCode === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  if (!stderr.includes('ready:')) throw new Error(`bert-embed serve ${model} did not start:\n${stderr}`);
  const started = { child, socket, exited };
  served.push(started);
  return started;
}

function post(socket: string, urlPath: string, body: unknown) {
  return request(socket, 'POST', urlPath, typeof body === 'string' ? body : JSON.stringify(body));
}

/** |a - b| within `relative` of b's size (at least 1): the same numbers, computed in another process. */
function expectClose(actual: number, expected: number, label: string, relative = 1e-5): void {
  if (!(Math.abs(actual - expected) <= relative * Math.max(1, Math.abs(expected)))) expect.fail(`${label}: ${actual}, expected ${expected}`);
}

function expectScoresEqual(actual: SentenceScore[], expected: SentenceScore[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((score, i) => {
    const strip = (s: SentenceScore) => ({
      tokens: s.tokens.map(({ token, id, start, end }) => ({ token, id, start, end })),
      words: s.words.map(({ word, start, end, tokens }) => ({ word, start, end, tokens })),
      truncated: s.truncated,
    });
    expect(strip(score)).toEqual(strip(expected[i]));
    score.tokens.forEach((token, j) => {
      expectClose(token.logprob, expected[i].tokens[j].logprob, `[${i}].tokens[${j}].logprob`);
      expect(Math.abs(token.rank - expected[i].tokens[j].rank), `[${i}].tokens[${j}].rank`).toBeLessThanOrEqual(token.rank * 1e-3);
    });
    score.words.forEach((word, j) => expectClose(word.logprob, expected[i].words[j].logprob, `[${i}].words[${j}].logprob`));
    for (const key of ['pll', 'pseudoPerplexity', 'wordPseudoPerplexity'] as const) expectClose(score[key], expected[i][key], `[${i}].${key}`);
  });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'be-mlm-'));
  encoder = await Encoder.load(MLM, { maxSeqLen: MAX_SEQ_LEN });
  await serve(MLM, 'mlm', ['--model-name', MODEL_NAME]);
});

afterAll(async () => {
  for (const { child, exited } of served) {
    child.kill('SIGTERM');
    await exited;
  }
  await encoder?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('POST /score', () => {
  it('answers what Encoder.score gives, for each metric, from parameters or the top level', async () => {
    const socket = served[0].socket;
    const long = 'word '.repeat(80);
    const asDefault = await post(socket, '/score', { inputs: [...SENTENCES, long] });
    expect(asDefault.status).toBe(200);
    expect(asDefault.headers['content-type']).toBe('application/json');
    const scores = asDefault.json() as SentenceScore[];
    expect(Object.keys(scores[0]).sort()).toEqual(['pll', 'pseudoPerplexity', 'tokens', 'truncated', 'wordPseudoPerplexity', 'words']);
    expect(scores.map((s) => s.truncated)).toEqual([false, false, false, false, false, true]);
    expectScoresEqual(scores, await encoder.score([...SENTENCES, long]));

    for (const metric of ['original', 'within_word_l2r', 'whole_word'] as const) {
      const expected = await encoder.score(SENTENCES, { metric });
      expectScoresEqual((await post(socket, '/score', { inputs: SENTENCES, parameters: { metric } })).json(), expected);
      expectScoresEqual((await post(socket, '/score', { inputs: SENTENCES, metric })).json(), expected);
    }
    const single = await post(socket, '/score', { inputs: SENTENCES[1], parameters: { metric: 'original' } });
    expectScoresEqual(single.json(), await encoder.score([SENTENCES[1]], { metric: 'original' }));
  });

  it('422 for an unknown metric, or two that disagree', async () => {
    const unknown = await post(served[0].socket, '/score', { inputs: 'x', parameters: { metric: 'pll' } });
    expect(unknown.status).toBe(422);
    expect(unknown.json()).toEqual({ code: 'ERR_VALIDATION', error: 'Expected one of "original", "within_word_l2r", "whole_word" for parameters.metric but received "pll" of type string' });
    const both = await post(served[0].socket, '/score', { inputs: 'x', metric: 'original', parameters: { metric: 'whole_word' } });
    expect(both.status).toBe(422);
    expect(both.json().error).toMatch(/disagree/);
  });
});

describe('POST /fill-mask', () => {
  const one = 'The capital of France is [MASK].';
  const two = 'The [MASK] sat on the [MASK] all day.';

  function candidates(list: { score: number; token: number; tokenStr: string; sequence: string }[]) {
    return list.map(({ score, token, tokenStr, sequence }) => ({ score, token, token_str: tokenStr, sequence }));
  }

  function expectCandidatesEqual(actual: any[], expected: ReturnType<typeof candidates>, label: string): void {
    expect(actual.map(({ token, token_str, sequence }) => ({ token, token_str, sequence })), label).toEqual(
      expected.map(({ token, token_str, sequence }) => ({ token, token_str, sequence })),
    );
    actual.forEach((candidate, k) => {
      expect(Object.keys(candidate).sort()).toEqual(['score', 'sequence', 'token', 'token_str']);
      expectClose(candidate.score, expected[k].score, `${label}[${k}].score`);
    });
  }

  it("answers in transformers' shape: a flat list for one [MASK], a list per [MASK], a list per input", async () => {
    const socket = served[0].socket;
    const [[expectedOne], [expectedTwoA, expectedTwoB]] = await encoder.fillMask([one, two]);
    const single = await post(socket, '/fill-mask', { inputs: one });
    expect(single.status).toBe(200);
    expect(single.json()).toHaveLength(5);
    expectCandidatesEqual(single.json(), candidates(expectedOne), 'one');

    const several = (await post(socket, '/fill-mask', { inputs: two })).json();
    expect(several).toHaveLength(2);
    expectCandidatesEqual(several[0], candidates(expectedTwoA), 'two[0]');
    expectCandidatesEqual(several[1], candidates(expectedTwoB), 'two[1]');

    const [[topThreeOne], [topThreeA, topThreeB]] = await encoder.fillMask([one, two], { topK: 3 });
    const batch = (await post(socket, '/fill-mask', { inputs: [one, two], parameters: { top_k: 3 } })).json();
    expect(batch).toHaveLength(2);
    expectCandidatesEqual(batch[0], candidates(topThreeOne), 'batch[0]');
    expectCandidatesEqual(batch[1][0], candidates(topThreeA), 'batch[1][0]');
    expectCandidatesEqual(batch[1][1], candidates(topThreeB), 'batch[1][1]');

    const listOfOne = (await post(socket, '/fill-mask', { inputs: [one], parameters: { top_k: 3 } })).json();
    expect(listOfOne).toHaveLength(1);
    expectCandidatesEqual(listOfOne[0], candidates(topThreeOne), 'listOfOne[0]');
  });

  it('422 naming the input without [MASK], and for a bad top_k', async () => {
    const none = await post(served[0].socket, '/fill-mask', { inputs: [one, 'no mask here'] });
    expect(none.status).toBe(422);
    expect(none.json()).toMatchObject({ code: 'ERR_VALIDATION' });
    expect(none.json().error).toMatch(/^Expected a text with \[MASK\] within its first maxSeqLen \(64\) tokens for inputs\[1\] but received "no mask here"/);
    const topK = await post(served[0].socket, '/fill-mask', { inputs: one, parameters: { top_k: 0 } });
    expect(topK.status).toBe(422);
    expect(topK.json().error).toMatch(/^Expected integer from 1 to 30522 for parameters\.top_k/);
  });
});

describe('POST /embed_sparse', () => {
  it("answers text-embeddings-inference's [[{index, value}]] with Encoder.encodeSparse's numbers", async () => {
    const socket = served[0].socket;
    const response = await post(socket, '/embed_sparse', { inputs: SENTENCES });
    expect(response.status).toBe(200);
    const rows = response.json() as { index: number; value: number }[][];
    // TEI has no sentence pairs: ' ||| ' is part of the text
    const expected = await encoder.encodeSparse(SENTENCES, { splitPairs: false });
    const pairAt = SENTENCES.findIndex((text) => text.includes(' ||| '));
    const asPair = await encoder.encodeSparse([SENTENCES[pairAt]]);
    expect([...asPair[0].indices]).not.toEqual([...expected[pairAt].indices]);
    expect(rows).toHaveLength(SENTENCES.length);
    rows.forEach((row, i) => {
      expect(row.length).toBeGreaterThan(0);
      expect(row.map((entry) => entry.index)).toEqual([...expected[i].indices]);
      row.forEach((entry, k) => expectClose(entry.value, expected[i].values[k], `[${i}][${k}]`));
    });
    const single = (await post(socket, '/embed_sparse', { inputs: SENTENCES[0] })).json();
    expect(single).toHaveLength(1);
    expect(single[0]).toEqual(rows[0]);
  });

  it('422 for an input over maxSeqLen unless truncate', async () => {
    const long = 'word '.repeat(80);
    const refused = await post(served[0].socket, '/embed_sparse', { inputs: ['short', long] });
    expect(refused.status).toBe(422);
    expect(refused.json()).toMatchObject({ code: 'ERR_INPUT_TOO_LONG' });
    expect(refused.json().error).toMatch(/^inputs\[1\] has 82 tokens, more than maxSeqLen 64/);
    const truncated = await post(served[0].socket, '/embed_sparse', { inputs: [long], truncate: true });
    expect(truncated.status).toBe(200);
    expect(truncated.json()[0].map((entry: { index: number }) => entry.index)).toEqual([...(await encoder.encodeSparse([long]))[0].indices]);
  });
});

interface TfFeatures {
  input_ids: number[];
  input_mask: number[];
  segment_ids: number[];
  masked_lm_positions: number[];
  masked_lm_ids: number[];
}

/**
 * A sentence's features as BERT's create_pretraining_data.py writes them: some tokens masked
 * (most by [MASK], one by another token, one kept), positions ascending, everything padded with 0
 * to max_seq_length / max_predictions_per_seq; and the row Encoder.maskedLmLogProbs takes for it.
 */
function features(text: string, every: number): { instance: TfFeatures; row: MaskedLmRow } {
  const [{ ids, typeIds }] = encoder.tokenize([text]);
  const maskId = encoder.tokenizer.tokenToId('[MASK]')!;
  const positions: number[] = [];
  for (let position = 1; position < ids.length - 1 && positions.length < MAX_PREDICTIONS; position += every) positions.push(position);
  const targets = positions.map((position) => ids[position]);
  const input = [...ids];
  positions.forEach((position, k) => (input[position] = k === 1 ? 2003 : k === 2 ? ids[position] : maskId));
  const pad = (values: number[], length: number) => [...values, ...new Array<number>(length - values.length).fill(0)];
  return {
    instance: {
      input_ids: pad(input, MAX_SEQ_LENGTH),
      input_mask: pad(new Array<number>(ids.length).fill(1), MAX_SEQ_LENGTH),
      segment_ids: pad(typeIds, MAX_SEQ_LENGTH),
      masked_lm_positions: pad(positions, MAX_PREDICTIONS),
      masked_lm_ids: pad(targets, MAX_PREDICTIONS),
    },
    row: { ids: input, typeIds, positions, targets },
  };
}

const FEATURE_NAMES = ['input_ids', 'input_mask', 'segment_ids', 'masked_lm_positions', 'masked_lm_ids'] as const;

describe("TensorFlow Serving's REST API", () => {
  const built = () => SENTENCES.map((text, i) => features(text, 2 + (i % 3)));

  async function expectedLosses(rows: MaskedLmRow[]): Promise<number[][]> {
    const logprobs = await encoder.maskedLmLogProbs(rows);
    return logprobs.map((values) => [...values.map((value) => -value), ...new Array<number>(MAX_PREDICTIONS - values.length).fill(0)]);
  }

  function expectLossesEqual(actual: number[][], expected: number[][]): void {
    expect(actual.map((row) => row.length)).toEqual(expected.map(() => MAX_PREDICTIONS));
    actual.forEach((row, i) =>
      row.forEach((value, j) => {
        if (expected[i][j] === 0) expect(value, `[${i}][${j}] padding`).toBe(0);
        else expectClose(value, expected[i][j], `[${i}][${j}]`);
      }),
    );
  }

  it(':predict, row format and columnar, answers -log p of each masked_lm_id, 0 for padding slots', async () => {
    const socket = served[0].socket;
    const cases = built();
    // several masked slots per row (and one row, 'short', with a single slot), padding after them
    expect(cases.map(({ row }) => row.positions.length >= 2 && row.positions.length < MAX_PREDICTIONS)).toEqual([true, true, true, true, false]);
    expect(cases[4].row.positions).toEqual([1]);
    expect(cases[3].instance.segment_ids).toContain(1);
    const expected = await expectedLosses(cases.map(({ row }) => row));
    expect(expected.flat().filter((value) => value !== 0).every((value) => value > 0)).toBe(true);

    const rows = await post(socket, `/v1/models/${MODEL_NAME}:predict`, { signature_name: 'serving_default', instances: cases.map(({ instance }) => instance) });
    expect(rows.status).toBe(200);
    expect(Object.keys(rows.json())).toEqual(['predictions']);
    expectLossesEqual(rows.json().predictions, expected);

    const inputs = Object.fromEntries(FEATURE_NAMES.map((name) => [name, cases.map(({ instance }) => instance[name])]));
    const columnar = await post(socket, `/v1/models/${MODEL_NAME}/versions/1:predict`, { inputs });
    expect(columnar.status).toBe(200);
    expect(Object.keys(columnar.json())).toEqual(['outputs']);
    expectLossesEqual(columnar.json().outputs, expected);
  });

  it('GET status and metadata, for the model and its version 1', async () => {
    const socket = served[0].socket;
    const status = { model_version_status: [{ version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }] };
    for (const prefix of [`/v1/models/${MODEL_NAME}`, `/v1/models/${MODEL_NAME}/versions/1`]) {
      const answer = await request(socket, 'GET', prefix);
      expect(answer.status).toBe(200);
      expect(answer.json()).toEqual(status);
      const metadata = await request(socket, 'GET', `${prefix}/metadata`);
      expect(metadata.status).toBe(200);
      const info = (name: string, dtype: string) => ({ dtype, tensor_shape: { dim: [{ size: '-1', name: '' }, { size: '-1', name: '' }], unknown_rank: false }, name: `${name}:0` });
      expect(metadata.json()).toEqual({
        model_spec: { name: MODEL_NAME, signature_name: '', version: '1' },
        metadata: {
          signature_def: {
            signature_def: {
              serving_default: {
                inputs: Object.fromEntries(FEATURE_NAMES.map((name) => [name, info(name, 'DT_INT32')])),
                outputs: { masked_lm_example_loss: info('masked_lm_example_loss', 'DT_FLOAT') },
                method_name: 'tensorflow/serving/predict',
              },
            },
          },
        },
      });
    }
    const metrics = (await request(socket, 'GET', '/metrics')).body.toString();
    expect(metrics).toContain('bert_embed_http_requests_total{endpoint="/v1/models/{name}/metadata",status="200"} 2');
  });

  it("404 in TF Serving's shape for an unknown model or version", async () => {
    const socket = served[0].socket;
    const { instance } = built()[0];
    const cases: [string, string, string][] = [
      ['GET', '/v1/models/nope', 'Could not find any versions of model nope'],
      ['GET', '/v1/models/nope/metadata', 'Servable not found for request: Latest(nope)'],
      ['POST', '/v1/models/nope:predict', 'Servable not found for request: Latest(nope)'],
      ['POST', `/v1/models/${MODEL_NAME}/versions/2:predict`, `Servable not found for request: Specific(${MODEL_NAME}, 2)`],
      ['GET', `/v1/models/${MODEL_NAME}/versions/7`, `Servable not found for request: Specific(${MODEL_NAME}, 7)`],
    ];
    for (const [method, urlPath, error] of cases) {
      const answer = await request(socket, method, urlPath, method === 'POST' ? JSON.stringify({ instances: [instance] }) : undefined);
      expect(answer.status, urlPath).toBe(404);
      expect(answer.json(), urlPath).toEqual({ error });
    }
  });

  it("400 in TF Serving's shape for a malformed :predict, and the server goes on", async () => {
    const socket = served[0].socket;
    const [first, second] = built().map(({ instance }) => instance);
    const ragged = { ...second, input_ids: second.input_ids.slice(0, 100) };
    const length = first.input_mask.indexOf(0);
    const outside = { ...first, masked_lm_positions: [length + 3, ...first.masked_lm_positions.slice(1)] };
    const holed = { ...first, input_mask: first.input_mask.map((value, j) => (j === 2 ? 0 : value)) };
    const both = { instances: [first], inputs: {} };
    const unknownInput = { instances: [{ ...first, masked_lm_weights: new Array(MAX_PREDICTIONS).fill(1) }] };
    const badColumns = { inputs: { ...Object.fromEntries(FEATURE_NAMES.map((name) => [name, [first[name], second[name]]])), segment_ids: [first.segment_ids] } };
    const cases: [string, unknown, RegExp][] = [
      ['ragged input_ids', { instances: [first, ragged] }, /^Expected array of 128 integers \(every row as long as the first\) for instances\[1\]\.input_ids but received an array of length 100/],
      ['a position outside the sentence', { instances: [first, outside] }, new RegExp(`^Expected integer from 0 to ${length - 1} for instances\\[1\\]\\.masked_lm_positions\\[0\\] but received ${length + 3}`)],
      ['a position outside max_seq_length', { instances: [{ ...first, masked_lm_positions: [128, ...first.masked_lm_positions.slice(1)] }] }, /^Expected integer from 0 to 127 for instances\[0\]\.masked_lm_positions\[0\] but received 128/],
      ['a short row of masked_lm_ids', { instances: [{ ...first, masked_lm_ids: [1, 2] }] }, /^Expected array of 20 integers \(every row as long as the first\) for instances\[0\]\.masked_lm_ids/],
      ['a mask that is not 1s then 0s', { instances: [holed] }, new RegExp(`^Expected 1s then 0s, at least one 1, for instances\\[0\\]\\.input_mask but received a 1 at 3 after the first 0 at 2$`)],
      ['an id outside the vocabulary', { instances: [{ ...first, masked_lm_ids: [30522, ...first.masked_lm_ids.slice(1)] }] }, /^Expected integer from 0 to 30521 for instances\[0\]\.masked_lm_ids\[0\]/],
      ['an unknown signature', { signature_name: 'predict_images', instances: [first] }, /^Serving signature name: "predict_images" not found in signature def$/],
      ['both instances and inputs', both, /^Expected exactly one of "instances"/],
      ['an input the signature lacks', unknownInput, /input tensor alias not found in signature: masked_lm_weights/],
      ['columns of different batch sizes', badColumns, /^Expected 2, the batch size of inputs\.input_ids for inputs\.segment_ids\.length but received 1/],
      ['a body that is not JSON', '{"instances": [', /^the body is not valid JSON/],
    ];
    for (const [what, body, message] of cases) {
      const answer = await post(socket, `/v1/models/${MODEL_NAME}:predict`, body);
      expect(answer.status, what).toBe(400);
      expect(Object.keys(answer.json()), what).toEqual(['error']);
      expect(answer.json().error, what).toMatch(message);
    }
    const classify = await post(socket, `/v1/models/${MODEL_NAME}:classify`, { examples: [] });
    expect(classify.status).toBe(400);
    const wrongMethod = await request(socket, 'GET', `/v1/models/${MODEL_NAME}:predict`);
    expect(wrongMethod.status).toBe(405);
    expect(Object.keys(wrongMethod.json())).toEqual(['error']);
    const still = await post(socket, `/v1/models/${MODEL_NAME}:predict`, { instances: [first] });
    expect(still.status).toBe(200);
  });

  it('while the model loads: status LOADING, :predict 503', async () => {
    const loading = new EmbeddingServer({ maxBodyBytes: 1 << 20, maxInputs: 10, modelName: 'm' });
    const socket = path.join(dir, 'loading.sock');
    try {
      await loading.listenOnSocket(socket);
      expect((await request(socket, 'GET', '/v1/models/m')).json().model_version_status[0].state).toBe('LOADING');
      const predict = await post(socket, '/v1/models/m:predict', { instances: [built()[0].instance] });
      expect(predict.status).toBe(503);
      expect(predict.json()).toEqual({ error: 'the model is still loading; retry shortly' });
    } finally {
      await loading.shutdown();
    }
  });
});

describe('examples/score-tsv.py', () => {
  it("prints each token's probability, exp(logprob) of Encoder.score with metric 'original'", async () => {
    const sentences = ['The quick brown fox jumps over the lazy dog.', "It's an unaffable café, isn't it?", 'hello'];
    const tsv = path.join(dir, 'sentences.tsv');
    fs.writeFileSync(tsv, sentences.map((sentence, i) => `${i}\t${sentence}\tignored`).join('\n') + '\n');
    const script = path.join(repoRoot, 'examples', 'score-tsv.py');
    const args = [script, '--socket', served[0].socket, '--model-name', MODEL_NAME, '--vocab', path.join(MLM, 'vocab.txt'), '--column', '1', '--batch-size', '7', tsv];
    const { stdout } = await run('/usr/bin/python3', args);
    const blocks = stdout.split('\n\n').filter((block) => block.length > 0);
    expect(blocks).toHaveLength(sentences.length);
    const expected = await encoder.score(sentences, { metric: 'original' });
    blocks.forEach((block, i) => {
      const lines = block.trim().split('\n').map((line) => line.split('\t'));
      expect(lines.map(([token]) => token)).toEqual(expected[i].tokens.map((token) => token.token));
      lines.forEach(([, probability], j) => {
        const want = Math.exp(expected[i].tokens[j].logprob);
        const got = Number(probability);
        if (!(Math.abs(got - want) <= 1e-4 * want && Math.abs(got - want) <= 1e-4)) expect.fail(`sentence ${i} token ${j}: ${got}, expected ${want}`);
      });
    });
  });
});

describe('a model without the masked-LM head', () => {
  it('answers 4xx with ERR_NO_MLM_HEAD on the four endpoints, and goes on serving /embed', async () => {
    const plain = await serve(PLAIN, 'plain');
    const name = path.basename(PLAIN); // without --model-name, the model directory's name
    for (const [urlPath, body] of [
      ['/score', { inputs: ['a sentence'] }],
      ['/fill-mask', { inputs: 'a [MASK] sentence' }],
      ['/embed_sparse', { inputs: ['a sentence'] }],
    ] as const) {
      const answer = await post(plain.socket, urlPath, body);
      expect(answer.status, urlPath).toBe(422);
      expect(answer.json().code, urlPath).toBe('ERR_NO_MLM_HEAD');
      expect(answer.json().error, urlPath).toMatch(/needs BERT's masked-LM head/);
    }
    const predict = await post(plain.socket, `/v1/models/${name}:predict`, { instances: [features('a sentence', 2).instance] });
    expect(predict.status).toBe(400);
    expect(Object.keys(predict.json())).toEqual(['error']);
    expect(predict.json().error).toMatch(/needs BERT's masked-LM head/);
    // TF Serving's shape has no code: the metrics count it.
    const metrics = (await request(plain.socket, 'GET', '/metrics')).body.toString();
    expect(metrics).toContain('bert_embed_http_errors_total{code="ERR_NO_MLM_HEAD"} 4');
    expect((await request(plain.socket, 'GET', `/v1/models/${name}/metadata`)).json().metadata).toEqual({ signature_def: { signature_def: {} } });
    expect((await request(plain.socket, 'GET', '/status')).json().heads).toEqual(['pooled']);

    const embed = await post(plain.socket, '/embed', { inputs: ['still serving'] });
    expect(embed.status).toBe(200);
    expect(embed.json()).toHaveLength(1);
  });
});
