/**
 * The sequence-classification head (rerank, classify) against transformers' BertForSequenceClassification through
 * its text-classification pipeline (float64 model) and sentence-transformers' CrossEncoder.predict, on two
 * random-weight checkpoints: a cross-encoder with one label and a classifier with three, both with the `bert.` prefix.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Encoder, type ClassifyInput } from '../../lib/index.js';
import { changedCopy, checkpointDir, editConfig } from '../helpers/checkpoints.js';
import { makeFixtureDir, removeFixtureDir, repoRoot } from '../reference/helpers.js';
import { runReferenceScript } from '../reference/hf-mlm.js';
import { RERANK_DOCUMENTS, RERANK_MAX_SEQ_LEN, RERANK_QUERY } from '../helpers/rerank-texts.js';

const script = path.join(repoRoot, 'test', 'reference', 'hf_classify.py');
const MAX_SEQ_LEN = RERANK_MAX_SEQ_LEN;
const QUERY = RERANK_QUERY;
// The shared documents (the third, with the query, is longer than MAX_SEQ_LEN: longest_first cuts it and the shorter
// query stays whole), and accents.
const DOCUMENTS = [...RERANK_DOCUMENTS, 'Café owners in Zürich disagreed about naïve résumés and sourdough starters.'];
// longer than half of MAX_SEQ_LEN: longest_first (what CrossEncoder.predict's truncation=True is) cuts the query too,
// where only_second would keep it whole
const LONG_QUERY = 'what is the simplest way for a complete beginner to bake a good loaf of sourdough bread at home';
const INPUTS: ClassifyInput[] = [
  'I loved it',
  ['A man plays the guitar.', 'Someone is playing an instrument.'],
  'An unexpectedly long review that keeps going and going about the film, the actors, the music, the popcorn and the seats.',
  ['A very long premise that alone would almost fill the whole sequence budget of this tiny model', 'Short hypothesis.'],
  'Ünïcödé täxt with àccents.',
];

interface PipelineResult {
  labels: { label: string; score: number }[];
  logits: number[];
  ids: number[];
  truncated: boolean;
}
interface CrossEncoderResult {
  scores: number[];
  raw: number[];
}

function reference(jobs: unknown[]): Promise<unknown[]> {
  return runReferenceScript(script, jobs);
}

describe('cross-encoder (one label) against CrossEncoder.predict and the text-classification pipeline', () => {
  const dir = checkpointDir('cross-encoder');
  let encoder: Encoder;
  let crossEncoder: CrossEncoderResult;
  let pipelinePairs: PipelineResult[];
  let longQuery: CrossEncoderResult;
  let longQueryPairs: PipelineResult[];

  beforeAll(async () => {
    const pairs = DOCUMENTS.map((document) => [QUERY, document]);
    let results: unknown[];
    [encoder, results] = await Promise.all([
      Encoder.load(dir, { maxSeqLen: MAX_SEQ_LEN }),
      reference([
        { op: 'cross_encoder', model: dir, pairs, max_length: MAX_SEQ_LEN },
        { op: 'pipeline', model: dir, inputs: pairs, max_length: MAX_SEQ_LEN },
        { op: 'cross_encoder', model: dir, pairs: DOCUMENTS.map((document) => [LONG_QUERY, document]), max_length: MAX_SEQ_LEN },
        { op: 'pipeline', model: dir, inputs: DOCUMENTS.map((document) => [LONG_QUERY, document]), max_length: MAX_SEQ_LEN },
      ]),
    ]);
    [crossEncoder, pipelinePairs, longQuery, longQueryPairs] = results as [CrossEncoderResult, PipelineResult[], CrossEncoderResult, PipelineResult[]];
  });
  afterAll(() => encoder?.close());

  it('reports the classification head', () => {
    expect(encoder.heads).toEqual(['pooled', 'classification']);
  });

  it('rerank: scores equal CrossEncoder.predict (sigmoid) within 1e-5, best first, truncation as CrossEncoder cuts', async () => {
    const ranked = await encoder.rerank(QUERY, DOCUMENTS);
    expect(ranked.map((r) => r.index).sort()).toEqual(DOCUMENTS.map((_, i) => i));
    for (let i = 1; i < ranked.length; i++) expect(ranked[i - 1].score).toBeGreaterThanOrEqual(ranked[i].score);
    for (const result of ranked) {
      expect(result.score, `documents[${result.index}]`).toBeCloseTo(crossEncoder.scores[result.index], 5);
      expect(Math.abs(result.score - crossEncoder.scores[result.index])).toBeLessThan(1e-5);
      expect(result.truncated, `documents[${result.index}]`).toBe(pipelinePairs[result.index].truncated);
      expect(result.document).toBeUndefined();
    }
    // the reference cut some pairs and not others
    expect(pipelinePairs.some((pair) => pair.truncated)).toBe(true);
    expect(pipelinePairs.some((pair) => !pair.truncated)).toBe(true);
  });

  it('rerank: a query longer than half of maxSeqLen is cut too, as CrossEncoder.predict cuts it (longest_first)', async () => {
    expect(longQueryPairs.every((pair) => pair.truncated)).toBe(true);
    const ranked = await encoder.rerank(LONG_QUERY, DOCUMENTS);
    for (const result of ranked) {
      expect(Math.abs(result.score - longQuery.scores[result.index]), `documents[${result.index}]`).toBeLessThan(1e-5);
      expect(result.truncated).toBe(true);
    }
  });

  it('rerank: rawScores are the logits, topK keeps the best, returnDocuments gives the text', async () => {
    const raw = await encoder.rerank(QUERY, DOCUMENTS, { rawScores: true });
    for (const result of raw) expect(Math.abs(result.score - crossEncoder.raw[result.index])).toBeLessThan(1e-5);
    for (const result of raw) expect(Math.abs(result.score - pipelinePairs[result.index].logits[0])).toBeLessThan(1e-5);
    const top = await encoder.rerank(QUERY, DOCUMENTS, { topK: 2, returnDocuments: true });
    const order = [...crossEncoder.scores.keys()].sort((a, b) => crossEncoder.scores[b] - crossEncoder.scores[a]);
    expect(top.map((r) => r.index)).toEqual(order.slice(0, 2));
    expect(top.map((r) => r.document)).toEqual(order.slice(0, 2).map((i) => DOCUMENTS[i]));
  });

  it('classify: one label gets the pipeline\'s sigmoid', async () => {
    const ours = await encoder.classify(DOCUMENTS.map((document) => [QUERY, document] as [string, string]));
    ours.forEach((result, i) => {
      expect(result.labels).toHaveLength(1);
      expect(result.labels[0].label).toBe('LABEL_0');
      expect(Math.abs(result.labels[0].score - pipelinePairs[i].labels[0].score)).toBeLessThan(1e-5);
    });
  });

  it('truncate: false refuses a pair longer than maxSeqLen, naming the document', async () => {
    const first = pipelinePairs.findIndex((pair) => pair.truncated);
    await expect(encoder.rerank(QUERY, DOCUMENTS, { truncate: false })).rejects.toMatchObject({ code: 'ERR_INPUT_TOO_LONG', message: expect.stringContaining(`documents[${first}]`) });
    const fitting = DOCUMENTS.filter((_, i) => !pipelinePairs[i].truncated);
    expect((await encoder.rerank(QUERY, fitting, { truncate: false })).every((result) => !result.truncated)).toBe(true);
  });

  it('rerank and encode calls in flight together each get their own answers', async () => {
    const [alone, vectors] = [await encoder.rerank(QUERY, DOCUMENTS), await encoder.encode(DOCUMENTS)];
    const many = Array.from({ length: 6 }, () => encoder.rerank(QUERY, DOCUMENTS));
    const encodes = Array.from({ length: 3 }, () => encoder.encode(DOCUMENTS));
    const [reranked, encoded] = await Promise.all([Promise.all(many), Promise.all(encodes)]);
    // Batched with other rows, padded to other lengths: the same numbers to float32 rounding.
    const scoreOf = (results: { index: number; score: number }[]) => Object.fromEntries(results.map((r) => [r.index, r.score]));
    for (const result of reranked) {
      const scores = scoreOf(result);
      for (const { index, score } of alone) expect(Math.abs(scores[index] - score)).toBeLessThan(1e-6);
    }
    for (const result of encoded) Array.from(result.data).forEach((value, i) => expect(Math.abs(value - vectors.data[i])).toBeLessThan(1e-5));
  });

  it('pairs follow the scheduler\'s priority rules: a small rerank overtakes a large classify call queued before it', async () => {
    const small = await Encoder.load(dir, { maxSeqLen: MAX_SEQ_LEN, maxBatchSize: 4, priorityBatchSize: 8, workers: 1 });
    try {
      const settled: string[] = [];
      const large = small.classify(Array.from({ length: 400 }, (_, i) => [QUERY, `${DOCUMENTS[i % DOCUMENTS.length]} ${i}`] as [string, string])).then(() => settled.push('large classify'));
      const quick = small.rerank(QUERY, DOCUMENTS.slice(0, 3)).then(() => settled.push('small rerank'));
      await Promise.all([large, quick]);
      expect(settled).toEqual(['small rerank', 'large classify']);
    } finally {
      await small.close();
    }
  });

  it('an exported model.pt keeps the head', async () => {
    const out = makeFixtureDir('cross-encoder-export');
    try {
      await Encoder.export(dir, out);
      const exported = await Encoder.load(out, { maxSeqLen: MAX_SEQ_LEN });
      try {
        expect(exported.heads).toContain('classification');
        const ranked = await exported.rerank(QUERY, DOCUMENTS);
        for (const result of ranked) expect(Math.abs(result.score - crossEncoder.scores[result.index])).toBeLessThan(1e-5);
      } finally {
        await exported.close();
      }
    } finally {
      removeFixtureDir(out);
    }
  });
});

describe('classifier (three labels) against the text-classification pipeline', () => {
  const dir = checkpointDir('classifier-3');
  let multiLabelDir: string;
  let encoder: Encoder;
  let multiLabel: Encoder;
  let softmax: PipelineResult[];
  let sigmoid: PipelineResult[];

  beforeAll(async () => {
    multiLabelDir = changedCopy('classifier-3', makeFixtureDir('classifier-3-multi'), (copy) =>
      editConfig(copy, (config) => {
        config.problem_type = 'multi_label_classification';
      }),
    );
    let results: unknown[];
    [encoder, multiLabel, results] = await Promise.all([
      Encoder.load(dir, { maxSeqLen: MAX_SEQ_LEN }),
      Encoder.load(multiLabelDir, { maxSeqLen: MAX_SEQ_LEN }),
      reference([
        { op: 'pipeline', model: dir, inputs: INPUTS, max_length: MAX_SEQ_LEN },
        { op: 'pipeline', model: multiLabelDir, inputs: INPUTS, max_length: MAX_SEQ_LEN },
      ]),
    ]);
    [softmax, sigmoid] = results as [PipelineResult[], PipelineResult[]];
  });
  afterAll(async () => {
    await encoder?.close();
    await multiLabel?.close();
    removeFixtureDir(multiLabelDir);
  });

  it('single_label_classification: softmax scores and label order equal the pipeline\'s within 1e-5, texts and pairs', async () => {
    const ours = await encoder.classify(INPUTS);
    ours.forEach((result, i) => {
      expect(result.truncated, `inputs[${i}]`).toBe(softmax[i].truncated);
      expect(result.labels.map((l) => l.label), `inputs[${i}]`).toEqual(softmax[i].labels.map((l) => l.label));
      result.labels.forEach((label, j) => expect(Math.abs(label.score - softmax[i].labels[j].score), `inputs[${i}] ${label.label}`).toBeLessThan(1e-5));
      expect(result.labels.reduce((sum, l) => sum + l.score, 0)).toBeCloseTo(1, 12);
    });
    expect(softmax.some((r) => r.truncated)).toBe(true);
  });

  it('rawScores are the float64 model\'s logits within 1e-5; topK keeps the best', async () => {
    const raw = await encoder.classify(INPUTS, { rawScores: true });
    const labels = ['contradiction', 'entailment', 'neutral'];
    raw.forEach((result, i) => {
      for (const { label, score } of result.labels) expect(Math.abs(score - softmax[i].logits[labels.indexOf(label)])).toBeLessThan(1e-5);
    });
    const top = await encoder.classify(INPUTS, { topK: 1 });
    top.forEach((result, i) => expect(result.labels.map((l) => l.label)).toEqual([softmax[i].labels[0].label]));
  });

  // The last layer is computed for [CLS] alone when the head reads nothing else. The CPU kernels (every test above)
  // and the plain TorchScript layer (what CUDA, and int8 or bfloat16 without oneDNN's kernels, run; here by
  // BERT_EMBED_CPU_KERNELS=0) each do it their own way: both must give the float64 model's logits, and CLS_TOKEN
  // pooling of the last two layers, the same vectors.
  it('the plain TorchScript layer, as on CUDA, gives the same logits and [CLS] vectors from a last layer of [CLS] alone', async () => {
    process.env.BERT_EMBED_CPU_KERNELS = '0';
    let plain: Encoder;
    try {
      plain = await Encoder.load(dir, { maxSeqLen: MAX_SEQ_LEN, pooling: 'CLS_TOKEN', layers: [-1, -2] });
    } finally {
      delete process.env.BERT_EMBED_CPU_KERNELS;
    }
    const kernels = await Encoder.load(dir, { maxSeqLen: MAX_SEQ_LEN, pooling: 'CLS_TOKEN', layers: [-1, -2] });
    try {
      const raw = await plain.classify(INPUTS, { rawScores: true });
      const labels = ['contradiction', 'entailment', 'neutral'];
      raw.forEach((result, i) => {
        for (const { label, score } of result.labels) expect(Math.abs(score - softmax[i].logits[labels.indexOf(label)]), `inputs[${i}] ${label}`).toBeLessThan(1e-5);
      });
      const texts = INPUTS.map((input) => (typeof input === 'string' ? input : input[0]));
      const [plainRows, kernelRows] = [(await plain.encode(texts)).rows(), (await kernels.encode(texts)).rows()];
      plainRows.forEach((row, i) => row.forEach((value, k) => expect(Math.abs(value - kernelRows[i][k]), `texts[${i}][${k}]`).toBeLessThan(1e-5)));
    } finally {
      await plain.close();
      await kernels.close();
    }
  });

  it('multi_label_classification: a sigmoid per label, as the pipeline', async () => {
    const ours = await multiLabel.classify(INPUTS);
    ours.forEach((result, i) => {
      expect(result.labels.map((l) => l.label)).toEqual(sigmoid[i].labels.map((l) => l.label));
      result.labels.forEach((label, j) => expect(Math.abs(label.score - sigmoid[i].labels[j].score)).toBeLessThan(1e-5));
    });
  });

  it('rerank needs one label: ERR_NO_CLASSIFIER_HEAD naming the labels', async () => {
    await expect(encoder.rerank(QUERY, DOCUMENTS)).rejects.toMatchObject({ code: 'ERR_NO_CLASSIFIER_HEAD', message: expect.stringContaining('3 labels') });
  });

  it('bad arguments: TypeError / RangeError naming the field', async () => {
    await expect(encoder.classify([])).rejects.toThrow(TypeError);
    await expect(encoder.classify([])).rejects.toThrow(/^Expected non-empty array of texts or \[textA, textB\] pairs for inputs but received/);
    await expect(encoder.classify(['ok', ['a'] as unknown as [string, string]])).rejects.toThrow(TypeError);
    await expect(encoder.classify(['ok', ['a'] as unknown as [string, string]])).rejects.toThrow(/inputs\[1\]/);
    await expect(encoder.classify(['ok'], { topK: 4 })).rejects.toThrow(RangeError);
    await expect(encoder.classify(['ok'], { topK: 4 })).rejects.toThrow(/topK/);
    await expect(encoder.classify(['ok'], { rawScores: 'yes' } as never)).rejects.toThrow(/rawScores/);
    await expect(encoder.classify(['ok'], { top_k: 1 } as never)).rejects.toThrow(/top_k/);
  });
});

describe('a model without the head', () => {
  let encoder: Encoder;
  beforeAll(async () => {
    encoder = await Encoder.load(checkpointDir('tiny'));
  });
  afterAll(() => encoder?.close());

  it('rerank and classify fail with ERR_NO_CLASSIFIER_HEAD', async () => {
    expect(encoder.heads).not.toContain('classification');
    await expect(encoder.rerank('q', ['d'])).rejects.toMatchObject({ code: 'ERR_NO_CLASSIFIER_HEAD', message: expect.stringContaining('classifier.weight') });
    await expect(encoder.classify(['d'])).rejects.toMatchObject({ code: 'ERR_NO_CLASSIFIER_HEAD' });
  });

  it('bad rerank arguments: TypeError / RangeError naming the field', async () => {
    await expect(encoder.rerank(3 as never, ['d'])).rejects.toThrow(/query/);
    await expect(encoder.rerank('q', ['d', 4] as never)).rejects.toThrow(/documents\[1\]/);
    await expect(encoder.rerank('q', [])).rejects.toThrow(TypeError);
    await expect(encoder.rerank('q', ['d'], { topK: 0 })).rejects.toThrow(RangeError);
    await expect(encoder.rerank('q', ['d'], { topK: 0 })).rejects.toThrow(/topK/);
  });
});
