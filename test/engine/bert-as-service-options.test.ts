/**
 * bert-as-service's server options, against Hugging Face as the ground truth (test/reference/hf_embed.py: BertModel in
 * float64 with bert-as-service's pooling): maxSeqLen null (each batch as long as its longest sentence, up to
 * max_position_embeddings) with and without fixedEmbedLength, specialTokens false (HF's add_special_tokens=False) and
 * casedTokenization (HF's tokenizer with do_lower_case=False, strip_accents=False). gpuMemoryFraction is checked on the
 * CPU (refused) and, where a CUDA device exists, applied.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Encoder, libtorchInfo, type EncoderOptions } from '../../lib/index.js';
import { checkpointDir } from '../helpers/checkpoints.js';
import { expectRelativeClose } from '../helpers/compare.js';
import { runHfEmbed, type HfPoolCase, type HfPoolResult } from '../reference/hf-embed.js';

const TOLERANCE = 1e-5;
/** 'odd' has max_position_embeddings 64: the long text below is cut there when maxSeqLen is null. */
const MODEL = checkpointDir('odd');
const MAX_POSITIONS = 64;
const LONG =
  'Three dogs chased the postman down the long and winding road while all of the neighbours watched from their windows, ' +
  'laughed at him, and then went back inside to finish their breakfast before the rain came down on the whole quiet town again, ' +
  'and nobody, not even the baker on the corner or the old schoolteacher with her three grey cats, remembered the postman by noon.';
const TEXTS = ['A man is playing a flute.', 'Short. ||| A pair whose second part is somewhat longer than the first.', LONG, 'Café ZÜRICH Hello WORLD', 'word'];
const MEAN: HfPoolCase = { pooling: 'REDUCE_MEAN', layers: [-1], mask_cls_sep: false, normalize: false };
const CLS: HfPoolCase = { pooling: 'CLS_TOKEN', layers: [-2], mask_cls_sep: false, normalize: false };
const NONE: HfPoolCase = { pooling: 'NONE', layers: [-1], mask_cls_sep: false, normalize: false };

let unlimited: HfPoolResult;
let noSpecial: HfPoolResult;
let cased: HfPoolResult;
const encoders: Encoder[] = [];

async function load(options: EncoderOptions): Promise<Encoder> {
  const encoder = await Encoder.load(MODEL, options);
  encoders.push(encoder);
  return encoder;
}

function vectorOf(result: HfPoolResult, caseIndex: number, text: number): Float64Array {
  return result.vectors[caseIndex][text];
}

/** Row i of the result: a vector, or NONE's token vectors. */
function rowOf(embeddings: { data: Float32Array; shape: number[] }, i: number): Float32Array {
  const width = embeddings.shape.slice(1).reduce((a, b) => a * b, 1);
  return embeddings.data.subarray(i * width, (i + 1) * width);
}

beforeAll(async () => {
  [unlimited, noSpecial, cased] = await runHfEmbed([
    { op: 'pool', model: MODEL, texts: TEXTS, max_length: MAX_POSITIONS, cases: [MEAN, CLS, NONE] },
    { op: 'pool', model: MODEL, texts: TEXTS, max_length: 20, cases: [MEAN, NONE], add_special_tokens: false },
    { op: 'pool', model: MODEL, texts: TEXTS, max_length: 24, cases: [MEAN], cased: true },
  ] as const);
}, 300_000);

afterAll(async () => {
  await Promise.all(encoders.map((encoder) => encoder.close()));
});

describe('maxSeqLen null (bert-as-service --max-seq-len NONE)', () => {
  it('truncates only at max_position_embeddings, and pools like Hugging Face', async () => {
    const encoder = await load({ maxSeqLen: null, pooling: 'REDUCE_MEAN', layers: [-1] });
    expect(encoder.options.maxSeqLen).toBeNull();
    expect(encoder.maxTokens).toBe(MAX_POSITIONS);
    expect(unlimited.truncated).toEqual([false, false, true, false, false]); // the reference did cut the long text at 64
    const tokenized = encoder.tokenize(TEXTS);
    expect(tokenized.map((t) => t.ids)).toEqual(unlimited.ids);
    const mean = await encoder.encode(TEXTS);
    const cls = await encoder.encode(TEXTS, { pooling: 'CLS_TOKEN', layers: [-2] });
    TEXTS.forEach((_, i) => {
      expectRelativeClose(rowOf(mean, i), vectorOf(unlimited, 0, i), mean.shape[1], TOLERANCE, `REDUCE_MEAN texts[${i}]`);
      expectRelativeClose(rowOf(cls, i), vectorOf(unlimited, 1, i), cls.shape[1], TOLERANCE, `CLS_TOKEN texts[${i}]`);
    });
  });

  it('NONE: token vectors as long as the call\'s longest sentence; fixedEmbedLength pads them to max_position_embeddings', async () => {
    const dynamic = await load({ maxSeqLen: null, pooling: 'NONE', layers: [-1] });
    const fixed = await load({ maxSeqLen: null, fixedEmbedLength: true, pooling: 'NONE', layers: [-1] });
    const dim = dynamic.dimension;
    const lengths = unlimited.ids.map((ids) => ids.length);
    const short = [0, 4]; // a call without the long text is shorter
    const shortCall = await dynamic.encode(short.map((i) => TEXTS[i]));
    expect(shortCall.shape).toEqual([2, Math.max(...short.map((i) => lengths[i])), dim]);
    const all = await dynamic.encode(TEXTS);
    expect(all.shape).toEqual([TEXTS.length, MAX_POSITIONS, dim]); // the long text fills all 64 positions
    const padded = await fixed.encode(short.map((i) => TEXTS[i]));
    expect(padded.shape).toEqual([2, MAX_POSITIONS, dim]);
    short.forEach((text, row) => {
      const reference = vectorOf(unlimited, 2, text); // [64, dim], zero rows past the text
      expectRelativeClose(rowOf(padded, row), reference, dim, TOLERANCE, `fixedEmbedLength texts[${text}]`);
      const width = shortCall.shape[1];
      for (let t = 0; t < width; t++) {
        expectRelativeClose(rowOf(shortCall, row).subarray(t * dim, (t + 1) * dim), reference.subarray(t * dim, (t + 1) * dim), dim, TOLERANCE, `texts[${text}] token ${t}`);
      }
    });
  });
});

describe('specialTokens false (bert-as-service --no-special-token)', () => {
  it('feeds the tokens without [CLS]/[SEP], as Hugging Face with add_special_tokens=False, truncation included', async () => {
    const encoder = await load({ specialTokens: false, maxSeqLen: 20, pooling: 'REDUCE_MEAN', layers: [-1] });
    const ids = encoder.tokenize(TEXTS).map((t) => t.ids);
    expect(ids).toEqual(noSpecial.ids);
    expect(ids.flat()).not.toContain(encoder.tokenizer.clsId);
    expect(noSpecial.truncated[2]).toBe(true);
    const mean = await encoder.encode(TEXTS);
    const none = await encoder.encode(TEXTS, { pooling: 'NONE' });
    expect(none.shape).toEqual([TEXTS.length, 20, encoder.dimension]);
    TEXTS.forEach((_, i) => {
      expectRelativeClose(rowOf(mean, i), vectorOf(noSpecial, 0, i), mean.shape[1], TOLERANCE, `REDUCE_MEAN texts[${i}]`);
      expectRelativeClose(rowOf(none, i), vectorOf(noSpecial, 1, i), none.shape[2], TOLERANCE, `NONE texts[${i}]`);
    });
    // The same tokens sent pre-tokenized (is_tokenized) go in as they are.
    const tokenized = await encoder.encode([noSpecial.tokens[0]], { isTokenized: true });
    expectRelativeClose(rowOf(tokenized, 0), vectorOf(noSpecial, 0, 0), tokenized.shape[1], TOLERANCE, 'isTokenized texts[0]');
  });

  it('refuses a text with no token at all, naming it', async () => {
    const encoder = await load({ specialTokens: false });
    await expect(encoder.encode(['fine', ''])).rejects.toThrow(/^Expected a text with at least one token \(specialTokens is false\) for texts\[1\] but received "" of type string$/);
    expect((await encoder.encode(['still serving'])).shape[0]).toBe(1);
  });
});

describe('casedTokenization (bert-as-service --cased-tokenization)', () => {
  it('keeps case and accents over the checkpoint\'s do_lower_case, as Hugging Face\'s tokenizer with do_lower_case=False', async () => {
    const encoder = await load({ casedTokenization: true, maxSeqLen: 24, pooling: 'REDUCE_MEAN', layers: [-1] });
    const lowered = await load({ maxSeqLen: 24 });
    const ids = encoder.tokenize(TEXTS).map((t) => t.ids);
    expect(ids).toEqual(cased.ids);
    expect(cased.tokens[3].join(' ')).not.toEqual(lowered.tokenize([TEXTS[3]])[0].tokens.join(' ')); // it changed something
    const mean = await encoder.encode(TEXTS);
    TEXTS.forEach((_, i) => expectRelativeClose(rowOf(mean, i), vectorOf(cased, 0, i), mean.shape[1], TOLERANCE, `texts[${i}]`));
  });
});

describe('gpuMemoryFraction', () => {
  it('is refused without a CUDA device, and out of (0, 1]', async () => {
    await expect(Encoder.load(MODEL, { gpuMemoryFraction: 0.5 })).rejects.toThrow(
      /^Expected a CUDA device among them for gpuMemoryFraction for devices but received an array of length 1 of type array; the CPU has no memory fraction$/,
    );
    await expect(Encoder.load(MODEL, { devices: ['cuda:0'], gpuMemoryFraction: 0 })).rejects.toThrow(
      /^Expected number greater than 0 and at most 1 for gpuMemoryFraction but received 0 of type number$/,
    );
    await expect(Encoder.load(MODEL, { device: 'cuda', gpuMemoryFraction: '0.5' as never })).rejects.toThrow(TypeError);
  });

  const cuda = libtorchInfo().cudaDeviceCount > 0;
  it.skipIf(!cuda)('on CUDA (skipped: no CUDA device here): loads and encodes under the fraction', async () => {
    const encoder = await load({ device: 'cuda', gpuMemoryFraction: 0.5 });
    expect((await encoder.encode(['hello'])).shape).toEqual([1, encoder.dimension]);
  });
});
