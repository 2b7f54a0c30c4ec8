/**
 * Hugging Face itself as the ground truth of the pooled vectors: transformers' BertModel in float64
 * (output_hidden_states=True), fed by the checkpoint's own Hugging Face tokenizer, with bert-as-service's pooling
 * written out in Python (test/reference/hf_embed.py), against the engine (float32) for every pooling strategy, layer
 * lists, maskClsSep, normalize, sentence pairs and truncation, on three checkpoints: all-MiniLM-L6-v2's shape, odd
 * sizes (hidden 96, 3 heads, intermediate 200), and gamma/beta LayerNorm names under the `bert.` prefix (a
 * BertForMaskedLM checkpoint). The float64 reference of bert-f64.ts is held to the same Hugging Face vectors, so the
 * two references vouch for each other (pooling-parity.test.ts holds the engine to bert-f64.ts as well).
 *
 * Metric: for each vector (each token vector for NONE), max |ours - hf| / max |hf| must be at most 1e-5; a vector that
 * is zero in Hugging Face's (padding, masked [CLS]/[SEP]) must be exactly zero in ours.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Encoder, POOLING_STRATEGIES, type PoolingStrategy } from '../../lib/index.js';
import { checkpointDir, type CheckpointName } from '../helpers/checkpoints.js';
import { expectRelativeClose, maxRelativeError } from '../helpers/compare.js';
import { stsSentences } from '../helpers/sts.js';
import { loadReferenceModel, referenceHiddenStates, referencePool } from '../reference/bert-f64.js';
import { runHfEmbed, type HfPoolCase, type HfPoolResult } from '../reference/hf-embed.js';

const MAX_SEQ_LEN = 24;
const TOLERANCE = 1e-5;
const TEXTS = [
  ...stsSentences('test').slice(0, 6),
  'A man is playing a flute. ||| A man plays the flute.',
  // longer than MAX_SEQ_LEN: truncated, alone and in pairs (longest_first: both sides cut, or only the long one)
  'Three dogs chased the postman down the long and winding road while all of the neighbours watched from their windows and laughed at him.',
  'Two sentences, both long enough to be cut: the first keeps going for quite a while ||| and the second one, also rather long, does too.',
  'Short. ||| The second sentence of this pair is the long one, so truncation has to take its tokens and leave the first alone.',
  '',
  'word',
  'Café owners in Zürich disagreed about naïve résumés.',
  '   Hello,   WORLD!!!   ',
  '北京是中国的首都。',
];
const TRUNCATED = [7, 8, 9];
const PAIR = 6;
const EMPTY = 10;
/** the texts bert-f64.ts (plain JavaScript, slow) recomputes: a sentence, the pairs, a truncated pair, the empty text, accents */
const F64_TEXTS = [0, PAIR, 8, 9, EMPTY, 12];
// The heaviest first: its encoding runs while Python imports transformers.
const CHECKPOINTS: CheckpointName[] = ['minilm', 'odd', 'mlm-odd-legacy-prefixed'];

interface Case {
  /** index into the cases sent to Python (and its vectors) */
  k: number;
  pooling: PoolingStrategy;
  layers: number[];
  maskClsSep: boolean;
  normalize: boolean;
}

// Every strategy with and without maskClsSep; the layer lists and normalize rotate over them, so that each strategy
// meets two lists and normalize both on and off. REDUCE_MEAN_MAX takes one layer at a time here; over several layers
// (bert-as-service's layout: every layer's mean, then every layer's max) it has a test of its own below.
const LAYER_LISTS = [[-1], [-2], [-1, -4], [0], [1, -1]];
const MATRIX: Case[] = POOLING_STRATEGIES.flatMap((pooling, i) =>
  [false, true].map((maskClsSep, j) => {
    const k = 2 * i + j;
    const layers = pooling === 'REDUCE_MEAN_MAX' ? [[-1], [0]][j] : LAYER_LISTS[k % LAYER_LISTS.length];
    return { k, pooling, maskClsSep, layers, normalize: (i + j) % 2 === 1 };
  }),
);
const MEAN_MAX_LAYERS: Case = { k: MATRIX.length, pooling: 'REDUCE_MEAN_MAX', layers: [-1, -4], maskClsSep: false, normalize: false };
const CASES = [...MATRIX, MEAN_MAX_LAYERS];
const toHfCase = (c: Case): HfPoolCase => ({ pooling: c.pooling, layers: c.layers, mask_cls_sep: c.maskClsSep, normalize: c.normalize });
const describeCase = (c: Case) => `${c.pooling} layers [${c.layers}] maskClsSep ${c.maskClsSep} normalize ${c.normalize}`;

let hf: Promise<HfPoolResult[]>;
beforeAll(() => {
  // One Python process for every checkpoint, running beside the engine's work; each test waits for it only when it
  // has its own vectors to compare.
  hf = runHfEmbed(CHECKPOINTS.map((name) => ({ op: 'pool' as const, model: checkpointDir(name), texts: TEXTS, max_length: MAX_SEQ_LEN, cases: CASES.map(toHfCase) })));
  hf.catch(() => {}); // reported by the tests that await it
});

const worst = new Map<string, number>();
afterAll(() => {
  if (worst.size) console.log(`worst max|ours - hf| / max|hf|:\n${[...worst].map(([k, v]) => `  ${k}: ${v.toExponential(2)}`).join('\n')}`);
});

describe.each(CHECKPOINTS)('%s against Hugging Face BertModel (float64) with bert-as-service pooling', (name) => {
  const dir = checkpointDir(name);
  let encoder: Encoder;
  const reference = async () => (await hf)[CHECKPOINTS.indexOf(name)];

  beforeAll(async () => {
    encoder = await Encoder.load(dir, { maxSeqLen: MAX_SEQ_LEN });
  });
  afterAll(() => encoder?.close());

  /** Encodes TEXTS under case c and holds every row to Hugging Face's vector; returns the worst error. */
  async function compare(c: Case): Promise<number> {
    const result = await encoder.encode(TEXTS, { pooling: c.pooling, layers: c.layers, maskClsSep: c.maskClsSep, normalize: c.normalize });
    const width = encoder.config.hiddenSize * c.layers.length * (c.pooling === 'REDUCE_MEAN_MAX' ? 2 : 1);
    expect(result.shape).toEqual(c.pooling === 'NONE' ? [TEXTS.length, MAX_SEQ_LEN, width] : [TEXTS.length, width]);
    const expected = (await reference()).vectors[c.k];
    let caseWorst = 0;
    result.rows().forEach((row, i) => {
      const label = `${name} ${describeCase(c)}, text ${i} ${JSON.stringify(TEXTS[i].slice(0, 40))}`;
      caseWorst = Math.max(caseWorst, expectRelativeClose(row, expected[i], c.pooling === 'NONE' ? width : row.length, TOLERANCE, label));
    });
    return caseWorst;
  }

  it.each(MATRIX)('$pooling, layers $layers, maskClsSep $maskClsSep, normalize $normalize', async (c) => {
    const caseWorst = await compare(c);
    const key = `${name} ${c.pooling}`;
    worst.set(key, Math.max(worst.get(key) ?? 0, caseWorst));
  });

  // The layout does not depend on the checkpoint: one of them is enough.
  if (name === 'odd') {
    it('REDUCE_MEAN_MAX over layers [-1, -4] is [mean of both layers, max of both layers], as bert-as-service lays it out', async () => {
      // bert-as-service (graph.py) concatenates the layers, then pools: tf.concat([masked_reduce_mean(layers),
      // masked_reduce_max(layers)], axis=1).
      worst.set(`${name} REDUCE_MEAN_MAX [-1, -4]`, await compare(MEAN_MAX_LAYERS));
    });
  }

  it("tokenizes as the checkpoint's Hugging Face tokenizer does, truncating pairs longest-first", async () => {
    const { ids, type_ids: typeIds, truncated } = await reference();
    encoder.tokenize(TEXTS).forEach((t, i) => {
      expect(t.ids, `text ${i} ids`).toEqual(ids[i]);
      expect(t.typeIds, `text ${i} type ids`).toEqual(typeIds[i]);
    });
    expect(TRUNCATED.map((i) => truncated[i])).toEqual([true, true, true]);
    expect(truncated.filter(Boolean)).toHaveLength(TRUNCATED.length);
    expect(TRUNCATED.map((i) => ids[i].length)).toEqual([MAX_SEQ_LEN, MAX_SEQ_LEN, MAX_SEQ_LEN]);
    expect(typeIds[PAIR]).toContain(1);
    expect(ids[EMPTY]).toEqual([encoder.tokenizer.clsId, encoder.tokenizer.sepId]);
  });

  it('the float64 reference (bert-f64.ts) gives the same vectors as Hugging Face, to 1e-9', async () => {
    const hfResult = await reference();
    const model = loadReferenceModel(dir);
    const states = new Map(F64_TEXTS.map((i) => [i, referenceHiddenStates(model, hfResult.ids[i], hfResult.type_ids[i])]));
    for (const c of MATRIX) {
      F64_TEXTS.forEach((i) => {
        const ids = hfResult.ids[i];
        const ours = referencePool(states.get(i)!, ids, model.hidden, { ...c, maxSeqLen: MAX_SEQ_LEN, clsId: encoder.tokenizer.clsId, sepId: encoder.tokenizer.sepId });
        const width = c.pooling === 'NONE' ? model.hidden * c.layers.length : ours.length;
        const { error } = maxRelativeError(ours, hfResult.vectors[c.k][i], width);
        if (!(error <= 1e-9)) expect.fail(`${name} ${describeCase(c)} text ${i}: bert-f64 is off Hugging Face by ${error}`);
      });
    }
  });
});
