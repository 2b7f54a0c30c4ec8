/**
 * sentence-transformers directories (modules.json, 1_Pooling/config.json, sentence_bert_config.json, with or without
 * the Normalize module) loaded with Encoder.load's defaults against SentenceTransformer(dir, device='cpu').encode
 * itself (python sentence-transformers, test/reference/hf_embed.py): cls, mean, max and lasttoken pooling, each with
 * and without Normalize, over random-weight checkpoints of three shapes (all-MiniLM-L6-v2's, with its own
 * sentence-transformers files; odd sizes; gamma/beta names under the `bert.` prefix).
 *
 * Metric: for each sentence, max |ours - st| / max |st| must be at most 1e-5 (both run in float32).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Encoder, type PoolingStrategy } from '../../lib/index.js';
import { checkpointDir, type CheckpointName } from '../helpers/checkpoints.js';
import { expectRelativeClose } from '../helpers/compare.js';
import { stsSentences } from '../helpers/sts.js';
import { runHfEmbed, type HfSentenceTransformersResult } from '../reference/hf-embed.js';
import { makeFixtureDir, removeFixtureDir, sharedModel } from '../reference/helpers.js';

const TOLERANCE = 1e-5;
const MAX_SEQ_LENGTH = 20;
const TEXTS = [
  ...stsSentences('dev').slice(0, 8),
  // longer than MAX_SEQ_LENGTH tokens: truncated (all-MiniLM-L6-v2's own max_seq_length, 256, keeps it whole)
  'Three dogs chased the postman down the long and winding road while all of the neighbours watched from their windows and laughed at him.',
  '',
  'word',
  'Café owners in Zürich disagreed about naïve résumés.',
];

/** 'mean+max': sentence-transformers 6's pooling_mode ["mean", "max"], concatenated in that order */
type StPooling = 'cls' | 'mean' | 'max' | 'lasttoken' | 'mean+max';
const STRATEGY: Record<StPooling, PoolingStrategy> = { cls: 'CLS_TOKEN', mean: 'REDUCE_MEAN', max: 'REDUCE_MAX', lasttoken: 'LAST_TOKEN', 'mean+max': 'REDUCE_MEAN_MAX' };

interface StModel {
  base: CheckpointName;
  pooling: StPooling;
  normalize: boolean;
  /**
   * modules.json and 1_Pooling/config.json as sentence-transformers 6 saves them (its module paths, {"pooling_mode":
   * "mean"} instead of pooling_mode_* flags); sentence_bert_config.json keeps max_seq_length, which it still reads
   */
  st6Files?: boolean;
  /** all-MiniLM-L6-v2's own modules.json, 1_Pooling/config.json and sentence_bert_config.json */
  realFiles?: boolean;
  /** no max_seq_length in sentence_bert_config.json: tokenizer_config.json's model_max_length is this */
  tokenizerMaxLength?: number;
}
const MODELS: StModel[] = [
  { base: 'minilm', pooling: 'mean', normalize: true, realFiles: true },
  { base: 'odd', pooling: 'mean', normalize: false },
  { base: 'odd', pooling: 'cls', normalize: false },
  { base: 'mlm-odd-legacy-prefixed', pooling: 'cls', normalize: true },
  { base: 'mlm-odd-legacy-prefixed', pooling: 'max', normalize: false },
  { base: 'odd', pooling: 'max', normalize: true },
  { base: 'odd', pooling: 'lasttoken', normalize: true },
  { base: 'mlm-odd-legacy-prefixed', pooling: 'lasttoken', normalize: false },
  { base: 'mlm-odd-legacy-prefixed', pooling: 'mean', normalize: true, st6Files: true },
  { base: 'odd', pooling: 'mean+max', normalize: false, st6Files: true, tokenizerMaxLength: 16 },
];
const label = (m: StModel) => `${m.pooling}${m.normalize ? ' + Normalize' : ''} on ${m.base}${m.realFiles ? " (all-MiniLM-L6-v2's own files)" : ''}${m.st6Files ? ' (sentence-transformers 6 files)' : ''}`;

/** A sentence-transformers directory: the checkpoint's files (its weights hard-linked) and the modules' files. */
function writeStModel(root: string, m: StModel, index: number): string {
  const dir = path.join(root, `${index}-${m.base}-${m.pooling}${m.normalize ? '-normalize' : ''}`);
  fs.mkdirSync(dir, { recursive: true });
  const base = checkpointDir(m.base);
  for (const file of ['config.json', 'vocab.txt', 'tokenizer_config.json', 'tokenizer.json']) {
    if (fs.existsSync(path.join(base, file))) fs.copyFileSync(path.join(base, file), path.join(dir, file));
  }
  try {
    fs.linkSync(path.join(base, 'model.safetensors'), path.join(dir, 'model.safetensors'));
  } catch {
    fs.copyFileSync(path.join(base, 'model.safetensors'), path.join(dir, 'model.safetensors'));
  }
  fs.mkdirSync(path.join(dir, '1_Pooling'));
  const write = (file: string, value: unknown) => fs.writeFileSync(path.join(dir, file), `${JSON.stringify(value, null, 2)}\n`);
  if (m.realFiles) {
    const real = sharedModel('all-MiniLM-L6-v2');
    for (const file of ['modules.json', 'sentence_bert_config.json', path.join('1_Pooling', 'config.json')]) fs.copyFileSync(path.join(real, file), path.join(dir, file));
    return dir;
  }
  const hidden = (JSON.parse(fs.readFileSync(path.join(base, 'config.json'), 'utf8')) as { hidden_size: number }).hidden_size;
  const type = m.st6Files
    ? { transformer: 'sentence_transformers.base.modules.transformer.Transformer', pooling: 'sentence_transformers.sentence_transformer.modules.pooling.Pooling', normalize: 'sentence_transformers.base.modules.normalize.Normalize' }
    : { transformer: 'sentence_transformers.models.Transformer', pooling: 'sentence_transformers.models.Pooling', normalize: 'sentence_transformers.models.Normalize' };
  write('modules.json', [
    { idx: 0, name: '0', path: '', type: type.transformer },
    { idx: 1, name: '1', path: '1_Pooling', type: type.pooling },
    ...(m.normalize ? [{ idx: 2, name: '2', path: '2_Normalize', type: type.normalize }] : []),
  ]);
  write(
    path.join('1_Pooling', 'config.json'),
    m.st6Files
      ? { embedding_dimension: hidden, pooling_mode: m.pooling === 'mean+max' ? ['mean', 'max'] : m.pooling, include_prompt: true }
      : {
          word_embedding_dimension: hidden,
          pooling_mode_cls_token: m.pooling === 'cls',
          pooling_mode_mean_tokens: m.pooling === 'mean',
          pooling_mode_max_tokens: m.pooling === 'max',
          pooling_mode_mean_sqrt_len_tokens: false,
          pooling_mode_weightedmean_tokens: false,
          pooling_mode_lasttoken: m.pooling === 'lasttoken',
        },
  );
  if (m.tokenizerMaxLength) {
    const tokenizerConfig = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    write('tokenizer_config.json', { ...tokenizerConfig, model_max_length: m.tokenizerMaxLength });
    write('sentence_bert_config.json', { do_lower_case: false });
  } else {
    write('sentence_bert_config.json', { max_seq_length: MAX_SEQ_LENGTH, do_lower_case: false });
  }
  return dir;
}

let root: string;
let dirs: string[];
let st: Promise<HfSentenceTransformersResult[]>;
beforeAll(() => {
  root = makeFixtureDir('st-parity');
  dirs = MODELS.map((m, i) => writeStModel(root, m, i));
  // One Python process for every directory, running beside the encoders' loading.
  st = runHfEmbed(dirs.map((dir) => ({ op: 'sentence_transformers' as const, model: dir, texts: TEXTS })));
  st.catch(() => {}); // reported by the tests that await it
});
afterAll(() => {
  if (root) removeFixtureDir(root);
});

const worst: string[] = [];
afterAll(() => {
  if (worst.length) console.log(`worst max|ours - st| / max|st|:\n${worst.map((line) => `  ${line}`).join('\n')}`);
});

describe.each(MODELS.map((m, i) => ({ ...m, i, name: label(m) })))('$name', (m) => {
  let encoder: Encoder;
  beforeAll(async () => {
    encoder = await Encoder.load(dirs[m.i]);
  });
  afterAll(() => encoder?.close());

  it("takes the directory's pooling, last layer, normalization and max_seq_length as its defaults", () => {
    expect(encoder.options).toMatchObject({ pooling: STRATEGY[m.pooling], layers: [-1], normalize: m.normalize, maskClsSep: false, maxSeqLen: m.realFiles ? 256 : (m.tokenizerMaxLength ?? MAX_SEQ_LENGTH) });
  });

  it('tokenizes as SentenceTransformer does and encodes as SentenceTransformer.encode does', async () => {
    const [ours, theirs] = await Promise.all([encoder.encode(TEXTS), st.then((all) => all[m.i])]);
    expect(theirs.max_seq_length).toBe(encoder.options.maxSeqLen);
    expect(theirs.modules).toEqual(['Transformer', 'Pooling', ...(m.normalize ? ['Normalize'] : [])]);
    encoder.tokenize(TEXTS).forEach((t, i) => expect(t.ids, `text ${i}`).toEqual(theirs.ids[i]));
    expect(ours.shape).toEqual([TEXTS.length, encoder.config.hiddenSize * (m.pooling === 'mean+max' ? 2 : 1)]);
    let error = 0;
    ours.rows().forEach((row, i) => {
      error = Math.max(error, expectRelativeClose(row, theirs.embeddings[i], row.length, TOLERANCE, `${m.name}, text ${i} ${JSON.stringify(TEXTS[i].slice(0, 40))}`));
    });
    worst.push(`${m.name}: ${error.toExponential(2)}`);
  });
});

describe('a pooling that no strategy reproduces', () => {
  const cases = [
    // sentence-transformers concatenates the flags as [max, mean]; REDUCE_MEAN_MAX is [mean, max]
    { name: 'mean and max flags', config: { pooling_mode_mean_tokens: true, pooling_mode_max_tokens: true }, says: 'max + mean' },
    { name: 'weightedmean', config: { pooling_mode: 'weightedmean' }, says: 'weightedmean' },
    { name: 'cls + mean', config: { pooling_mode: ['cls', 'mean'] }, says: 'cls + mean' },
  ];
  it.each(cases)('$name: refused at load, naming the file and the pooling; an explicit pooling option loads it', async ({ config, says }) => {
    const dir = writeStModel(root, { base: 'odd', pooling: 'mean', normalize: false }, 100);
    fs.writeFileSync(path.join(dir, '1_Pooling', 'config.json'), JSON.stringify({ word_embedding_dimension: 96, ...config }));
    const refusal = await Encoder.load(dir).then(
      (e) => { void e.close(); return undefined; },
      (error: unknown) => error as { code?: string; message: string },
    );
    expect(refusal?.code).toBe('ERR_MODEL_CONFIG');
    expect(refusal?.message).toContain(path.join(dir, '1_Pooling', 'config.json'));
    expect(refusal?.message).toContain(`pooling ${says},`);
    const encoder = await Encoder.load(dir, { pooling: 'REDUCE_MEAN' });
    expect(encoder.options.pooling).toBe('REDUCE_MEAN');
    await encoder.close();
    fs.rmSync(dir, { recursive: true });
  });
});
