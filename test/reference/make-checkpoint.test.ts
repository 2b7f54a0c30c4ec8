// Tests of scripts/make-checkpoint.mjs: file layout, safetensors format, naming variants, determinism, value
// statistics, F16/BF16 rounding (against numpy / torch), and the CLI.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  float32BitsToBfloat16Bits,
  float32BitsToFloat16Bits,
  makeCheckpoint,
  planTensors,
} from '../../scripts/make-checkpoint.mjs';
import { makeFixtureDir, randomIds, removeFixtureDir, repoRoot, runTorchHelper, sharedModel } from './helpers.js';
import { bfloat16BitsToNumber, float16BitsToNumber, openSafetensors, parseSafetensorsHeader } from './safetensors-reader.js';

const tinyConfig = path.join(sharedModel('bert-tiny'), 'config.json');
const miniLmConfig = path.join(sharedModel('all-MiniLM-L6-v2'), 'config.json');
const small = { hidden_size: 32, num_attention_heads: 2, num_hidden_layers: 2, intermediate_size: 48, max_position_embeddings: 64 };

let root: string;
beforeAll(() => {
  root = makeFixtureDir('make-checkpoint-test');
});
afterAll(() => {
  if (root) removeFixtureDir(root);
});

function stats(a: Float64Array) {
  let m = 0;
  for (const x of a) m += x;
  m /= a.length;
  let v = 0;
  for (const x of a) v += (x - m) ** 2;
  return { mean: m, std: Math.sqrt(v / a.length) };
}

describe('makeCheckpoint', () => {
  it('writes a MiniLM-shaped checkpoint with the HF BertModel names and the sentence-transformers files', async () => {
    const out = path.join(root, 'minilm');
    const res = await makeCheckpoint({ configPath: miniLmConfig, outDir: out, seed: 1 });
    expect(res.files.sort()).toEqual(
      ['1_Pooling/config.json', 'config.json', 'model.safetensors', 'sentence_bert_config.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt'].sort(),
    );
    expect(res.parameters).toBe(22713216); // all-MiniLM-L6-v2 BertModel incl. pooler
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
    expect(config.model_type).toBe('bert');
    expect(config.vocab_size).toBe(30522);
    expect(config.hidden_size).toBe(384);
    expect(fs.readFileSync(path.join(out, 'vocab.txt'), 'utf8')).toBe(fs.readFileSync(path.join(sharedModel('all-MiniLM-L6-v2'), 'vocab.txt'), 'utf8'));
    expect(JSON.parse(fs.readFileSync(path.join(out, '1_Pooling', 'config.json'), 'utf8')).pooling_mode_mean_tokens).toBe(true);

    const buf = fs.readFileSync(path.join(out, 'model.safetensors'));
    const n = Number(buf.readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    const header = parseSafetensorsHeader(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
    expect(header.metadata).toEqual({ format: 'pt' });
    // contiguous, complete data buffer
    const spans = Object.values(header.tensors)
      .map((t) => t.dataOffsets)
      .sort((a, b) => a[0] - b[0]);
    let at = 0;
    for (const [b, e] of spans) {
      expect(b).toBe(at);
      at = e;
    }
    expect(8 + n + at).toBe(buf.length);
    const t = header.tensors;
    expect(t['embeddings.word_embeddings.weight']).toMatchObject({ dtype: 'F32', shape: [30522, 384] });
    expect(t['embeddings.position_embeddings.weight'].shape).toEqual([512, 384]);
    expect(t['embeddings.token_type_embeddings.weight'].shape).toEqual([2, 384]);
    expect(t['embeddings.LayerNorm.weight'].shape).toEqual([384]);
    expect(t['encoder.layer.5.attention.self.query.weight'].shape).toEqual([384, 384]);
    expect(t['encoder.layer.5.attention.output.LayerNorm.bias'].shape).toEqual([384]);
    expect(t['encoder.layer.0.intermediate.dense.weight'].shape).toEqual([1536, 384]);
    expect(t['encoder.layer.0.intermediate.dense.bias'].shape).toEqual([1536]);
    expect(t['encoder.layer.0.output.dense.weight'].shape).toEqual([384, 1536]);
    expect(t['pooler.dense.weight'].shape).toEqual([384, 384]);
    expect(Object.keys(t).length).toBe(5 + 6 * 16 + 2);
    expect(t['embeddings.position_ids']).toBeUndefined();
  });

  it('values: weights ~ N(0, std), LayerNorm weight ~ 1 + N(0, std)', async () => {
    const out = path.join(root, 'stats');
    await makeCheckpoint({ configPath: tinyConfig, outDir: out, seed: 3, std: 0.05 });
    const st = openSafetensors(path.join(out, 'model.safetensors'));
    const w = stats(st.read('embeddings.word_embeddings.weight').data);
    expect(Math.abs(w.mean)).toBeLessThan(1e-3);
    expect(w.std).toBeGreaterThan(0.0495);
    expect(w.std).toBeLessThan(0.0505);
    const ln = stats(st.read('encoder.layer.1.output.LayerNorm.weight').data);
    expect(Math.abs(ln.mean - 1)).toBeLessThan(0.02);
    expect(ln.std).toBeGreaterThan(0.03);
    const lb = stats(st.read('encoder.layer.1.output.LayerNorm.bias').data);
    expect(Math.abs(lb.mean)).toBeLessThan(0.02);
    expect(lb.std).toBeGreaterThan(0.03);
    // tensors get different streams
    const q = st.read('encoder.layer.0.attention.self.query.weight').data;
    const k = st.read('encoder.layer.0.attention.self.key.weight').data;
    expect(q[0]).not.toBe(k[0]);
  });

  it('is deterministic per seed, and the prefix / LayerNorm naming / dtype do not change the values', async () => {
    const a = path.join(root, 'det-a');
    const b = path.join(root, 'det-b');
    const c = path.join(root, 'det-c');
    const d = path.join(root, 'det-d');
    const e = path.join(root, 'det-e');
    const f = path.join(root, 'det-f');
    await makeCheckpoint({ configPath: tinyConfig, outDir: a, seed: 9, overrides: small });
    await makeCheckpoint({ configPath: tinyConfig, outDir: b, seed: 9, overrides: small });
    await makeCheckpoint({ configPath: tinyConfig, outDir: c, seed: 10, overrides: small });
    await makeCheckpoint({ configPath: tinyConfig, outDir: d, seed: 9, overrides: small, prefix: 'bert.', legacyLayerNorm: true, includePositionIds: true });
    await makeCheckpoint({ configPath: tinyConfig, outDir: e, seed: 9, overrides: small, dtype: 'F16' });
    await makeCheckpoint({ configPath: tinyConfig, outDir: f, seed: 9, overrides: small, dtype: 'BF16', prefix: 'bert.' });
    const bytes = (dir: string) => fs.readFileSync(path.join(dir, 'model.safetensors'));
    expect(bytes(a).equals(bytes(b))).toBe(true);
    expect(bytes(a).equals(bytes(c))).toBe(false);

    const A = openSafetensors(path.join(a, 'model.safetensors'));
    const D = openSafetensors(path.join(d, 'model.safetensors'));
    const E = openSafetensors(path.join(e, 'model.safetensors'));
    const F = openSafetensors(path.join(f, 'model.safetensors'));
    expect(D.names.every((name) => name.startsWith('bert.'))).toBe(true);
    expect(D.has('bert.embeddings.LayerNorm.gamma')).toBe(true);
    expect(D.has('bert.encoder.layer.1.attention.output.LayerNorm.beta')).toBe(true);
    expect(D.has('bert.embeddings.LayerNorm.weight')).toBe(false);
    const pos = D.read('bert.embeddings.position_ids');
    expect(pos.dtype).toBe('I64');
    expect(pos.shape).toEqual([1, 64]);
    expect(Array.from(pos.data)).toEqual(Array.from({ length: 64 }, (_, i) => i));

    const pairs: [string, string][] = [
      ['embeddings.word_embeddings.weight', 'bert.embeddings.word_embeddings.weight'],
      ['embeddings.LayerNorm.weight', 'bert.embeddings.LayerNorm.gamma'],
      ['encoder.layer.1.output.LayerNorm.bias', 'bert.encoder.layer.1.output.LayerNorm.beta'],
      ['pooler.dense.bias', 'bert.pooler.dense.bias'],
    ];
    for (const [plain, prefixed] of pairs) {
      const x = A.read(plain).data;
      expect(Array.from(D.read(prefixed).data)).toEqual(Array.from(x));
      const h = E.read(plain);
      expect(h.dtype).toBe('F16');
      const hb = E.bytes(plain);
      const bb = F.bytes(`bert.${plain}`);
      const f32 = new Float32Array(1);
      const u32 = new Uint32Array(f32.buffer);
      let badF16 = 0;
      let badBf16 = 0;
      for (let i = 0; i < x.length; i++) {
        f32[0] = x[i];
        if ((hb[2 * i] | (hb[2 * i + 1] << 8)) !== float32BitsToFloat16Bits(u32[0])) badF16++;
        if ((bb[2 * i] | (bb[2 * i + 1] << 8)) !== float32BitsToBfloat16Bits(u32[0])) badBf16++;
      }
      expect(badF16, plain).toBe(0);
      expect(badBf16, plain).toBe(0);
    }
  });

  it('config: overrides, vocab_size from the vocab file unless overridden, default tokenizer_config', async () => {
    const out = path.join(root, 'cfg');
    const res = await makeCheckpoint({ configPath: tinyConfig, outDir: out, overrides: { ...small, hidden_act: 'relu' } });
    expect(res.config).toMatchObject({ ...small, hidden_act: 'relu', vocab_size: 30522, model_type: 'bert', type_vocab_size: 2 });
    expect(JSON.parse(fs.readFileSync(path.join(out, 'tokenizer_config.json'), 'utf8'))).toEqual({ do_lower_case: true });
    expect(fs.existsSync(path.join(out, 'tokenizer.json'))).toBe(false);

    // a custom vocab file sets vocab_size; a config object works without configPath
    const vocabPath = path.join(root, 'vocab-small.txt');
    fs.writeFileSync(vocabPath, ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'b'].join('\n') + '\n');
    const out2 = path.join(root, 'cfg2');
    const cfgObj = JSON.parse(fs.readFileSync(tinyConfig, 'utf8'));
    const res2 = await makeCheckpoint({ config: cfgObj, vocabPath, outDir: out2, overrides: small });
    expect(res2.config.vocab_size).toBe(7);
    expect(openSafetensors(path.join(out2, 'model.safetensors')).info('embeddings.word_embeddings.weight').shape).toEqual([7, 32]);

    const out3 = path.join(root, 'cfg3');
    const res3 = await makeCheckpoint({ configPath: tinyConfig, outDir: out3, overrides: { ...small, vocab_size: 100 } });
    expect(res3.config.vocab_size).toBe(100);

    await expect(makeCheckpoint({ configPath: tinyConfig, outDir: path.join(root, 'bad'), overrides: { hidden_size: 100, num_attention_heads: 3 } })).rejects.toThrow(
      /multiple/,
    );
    await expect(makeCheckpoint({ configPath: tinyConfig, outDir: path.join(root, 'bad'), dtype: 'F64' as never })).rejects.toThrow(/dtype/);
  });

  it('hidden-size override keeps 1_Pooling/config.json consistent', async () => {
    const out = path.join(root, 'minilm-small');
    await makeCheckpoint({ configPath: miniLmConfig, outDir: out, overrides: small });
    expect(JSON.parse(fs.readFileSync(path.join(out, '1_Pooling', 'config.json'), 'utf8')).word_embedding_dimension).toBe(32);
  });

  it('planTensors lists 16 tensors per layer + 5 embedding + 2 pooler', () => {
    const cfg = { ...small, vocab_size: 10, type_vocab_size: 2 };
    expect(planTensors(cfg).length).toBe(5 + 2 * 16 + 2);
    expect(planTensors(cfg, { includePositionIds: true })[0]).toMatchObject({ name: 'embeddings.position_ids', shape: [1, 64] });
  });

  it("mlmHead writes BertForMaskedLM's head under cls.* (never prefixed) and names the architecture", async () => {
    const plain = path.join(root, 'mlm-plain');
    const legacy = path.join(root, 'mlm-legacy');
    const base = path.join(root, 'mlm-base');
    const res = await makeCheckpoint({ configPath: tinyConfig, outDir: plain, seed: 5, overrides: small, mlmHead: true });
    await makeCheckpoint({ configPath: tinyConfig, outDir: legacy, seed: 5, overrides: small, mlmHead: true, prefix: 'bert.', legacyLayerNorm: true });
    await makeCheckpoint({ configPath: tinyConfig, outDir: base, seed: 5, overrides: small });
    const H = small.hidden_size;
    const V = 30522;
    expect(res.mlmHead).toBe(true);
    expect(res.untiedDecoder).toBe(false);
    const P = openSafetensors(path.join(plain, 'model.safetensors'));
    const L = openSafetensors(path.join(legacy, 'model.safetensors'));
    const B = openSafetensors(path.join(base, 'model.safetensors'));
    expect(P.info('cls.predictions.transform.dense.weight')).toMatchObject({ dtype: 'F32', shape: [H, H] });
    expect(P.info('cls.predictions.transform.dense.bias').shape).toEqual([H]);
    expect(P.info('cls.predictions.transform.LayerNorm.weight').shape).toEqual([H]);
    expect(P.info('cls.predictions.transform.LayerNorm.bias').shape).toEqual([H]);
    expect(P.info('cls.predictions.bias').shape).toEqual([V]);
    expect(P.has('cls.predictions.decoder.weight')).toBe(false); // tied to the word embeddings
    expect(P.has('cls.predictions.decoder.bias')).toBe(false); // tied to cls.predictions.bias
    expect(P.names.length).toBe(B.names.length + 5);
    expect(res.parameters).toBe(B.names.reduce((n, name) => n + B.read(name).data.length, 0) + H * H + 3 * H + V);
    // prefix and legacy names apply to the encoder only; the head keeps its own names, gamma/beta included
    expect(L.names.filter((n) => !n.startsWith('bert.')).sort()).toEqual(
      ['cls.predictions.bias', 'cls.predictions.transform.LayerNorm.beta', 'cls.predictions.transform.LayerNorm.gamma', 'cls.predictions.transform.dense.bias', 'cls.predictions.transform.dense.weight'],
    );
    const config = JSON.parse(fs.readFileSync(path.join(plain, 'config.json'), 'utf8'));
    expect(config.architectures).toEqual(['BertForMaskedLM']);
    expect(config.tie_word_embeddings).toBeUndefined();
    expect(JSON.parse(fs.readFileSync(path.join(base, 'config.json'), 'utf8')).architectures).toBeUndefined();

    // adding the head changes none of the encoder's values; the head's values do not depend on the naming
    for (const name of B.names) expect(Buffer.from(P.bytes(name)).equals(Buffer.from(B.bytes(name))), name).toBe(true);
    expect(Array.from(L.read('cls.predictions.transform.LayerNorm.gamma').data)).toEqual(Array.from(P.read('cls.predictions.transform.LayerNorm.weight').data));
    expect(Array.from(L.read('cls.predictions.bias').data)).toEqual(Array.from(P.read('cls.predictions.bias').data));
    const lnw = stats(P.read('cls.predictions.transform.LayerNorm.weight').data);
    expect(Math.abs(lnw.mean - 1)).toBeLessThan(0.02);
    const bias = stats(P.read('cls.predictions.bias').data);
    expect(bias.std).toBeGreaterThan(0.019);
    expect(bias.std).toBeLessThan(0.021);
  });

  it('untiedDecoder adds cls.predictions.decoder.weight / .bias (own values) and tie_word_embeddings: false; headStd scales the head only', async () => {
    const out = path.join(root, 'mlm-untied');
    const res = await makeCheckpoint({ configPath: tinyConfig, outDir: out, seed: 6, std: 0.05, headStd: 0.5, overrides: small, untiedDecoder: true });
    expect(res.mlmHead).toBe(true); // implied
    const st = openSafetensors(path.join(out, 'model.safetensors'));
    expect(st.info('cls.predictions.decoder.weight').shape).toEqual([30522, small.hidden_size]);
    expect(st.info('cls.predictions.decoder.bias').shape).toEqual([30522]);
    const decoderBias = st.read('cls.predictions.decoder.bias').data;
    expect(decoderBias[0]).not.toBe(st.read('cls.predictions.bias').data[0]);
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ architectures: ['BertForMaskedLM'], tie_word_embeddings: false });
    const dec = stats(st.read('cls.predictions.decoder.weight').data);
    expect(dec.std).toBeGreaterThan(0.49);
    expect(dec.std).toBeLessThan(0.51);
    const word = stats(st.read('embeddings.word_embeddings.weight').data);
    expect(word.std).toBeGreaterThan(0.049);
    expect(word.std).toBeLessThan(0.051);
    const cfg = { ...small, vocab_size: 10, type_vocab_size: 2 };
    expect(planTensors(cfg, { mlmHead: true }).length).toBe(5 + 2 * 16 + 2 + 5);
    expect(planTensors(cfg, { untiedDecoder: true }).length).toBe(5 + 2 * 16 + 2 + 7);
    expect(planTensors(cfg, { mlmHead: true, prefix: 'bert.' }).filter((t) => t.head).every((t) => t.name.startsWith('cls.'))).toBe(true);
    await expect(makeCheckpoint({ configPath: tinyConfig, outDir: path.join(root, 'bad'), mlmHead: true, headStd: -1 })).rejects.toThrow(/headStd/);
  });

  it('CLI: --mlm-head, --untied-decoder, --head-std', () => {
    const out = path.join(root, 'cli-mlm');
    const args = ['scripts/make-checkpoint.mjs', '--config', tinyConfig, '--out', out, '--hidden', '32', '--heads', '2', '--layers', '1', '--intermediate', '48'];
    const info = JSON.parse(execFileSync(process.execPath, [...args, '--mlm-head', '--prefix', 'bert.', '--legacy-layernorm'], { cwd: repoRoot, encoding: 'utf8' }));
    expect(info).toMatchObject({ mlmHead: true, untiedDecoder: false });
    let st = openSafetensors(path.join(out, 'model.safetensors'));
    expect(st.has('cls.predictions.transform.LayerNorm.gamma')).toBe(true);
    expect(st.has('bert.cls.predictions.bias')).toBe(false);
    const untied = JSON.parse(execFileSync(process.execPath, [...args, '--untied-decoder', '--head-std', '0.3'], { cwd: repoRoot, encoding: 'utf8' }));
    expect(untied).toMatchObject({ mlmHead: true, untiedDecoder: true });
    st = openSafetensors(path.join(out, 'model.safetensors'));
    expect(st.info('cls.predictions.decoder.weight').shape).toEqual([30522, 32]);
    expect(stats(st.read('cls.predictions.decoder.weight').data).std).toBeGreaterThan(0.29);
  });

  it('CLI', () => {
    const out = path.join(root, 'cli');
    const stdout = execFileSync(
      process.execPath,
      [
        'scripts/make-checkpoint.mjs',
        '--config',
        tinyConfig,
        '--out',
        out,
        '--seed',
        '4',
        '--dtype',
        'BF16',
        '--prefix',
        'bert.',
        '--legacy-layernorm',
        '--include-position-ids',
        '--hidden',
        '96',
        '--heads',
        '3',
        '--layers',
        '2',
        '--intermediate',
        '200',
        '--act',
        'gelu_new',
        '--set',
        'layer_norm_eps=1e-7',
      ],
      { cwd: repoRoot, encoding: 'utf8' },
    );
    const info = JSON.parse(stdout);
    expect(info.dtype).toBe('BF16');
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ hidden_size: 96, num_attention_heads: 3, num_hidden_layers: 2, intermediate_size: 200, hidden_act: 'gelu_new', layer_norm_eps: 1e-7 });
    const st = openSafetensors(path.join(out, 'model.safetensors'));
    expect(st.info('bert.encoder.layer.1.output.LayerNorm.gamma')).toMatchObject({ dtype: 'BF16', shape: [96] });
    expect(st.info('bert.embeddings.position_ids').dtype).toBe('I64');
    expect(() => execFileSync(process.execPath, ['scripts/make-checkpoint.mjs', '--bogus'], { cwd: repoRoot, stdio: 'pipe' })).toThrow();
  });
});

describe('float32 -> F16 / BF16 rounding (round to nearest even) vs numpy / torch', () => {
  const specials = [
    0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xffc00001,
    0x477fe000, // 65504 (max half)
    0x477fefff, // just below the rounding point to Inf
    0x477ff000, // 65520: ties to even -> Inf
    0x477ff001,
    0x7f7fffff, // max float
    0xff7fffff,
    0x33000000, // 2^-25: tie between 0 and the smallest subnormal -> 0
    0x33000001, // just above 2^-25 -> smallest subnormal
    0x33800000, // 2^-24: smallest subnormal
    0x33c00000, // 1.5 * 2^-24: tie -> 2 * 2^-24
    0x34200000, // 2.5 * 2^-24: tie -> 2 * 2^-24
    0x387fc000, // largest subnormal region, carries into the smallest normal
    0x387ff000,
    0x38800000, // 2^-14: smallest normal half
    0x3f801000, // 1 + 2^-11: tie -> 1 (even)
    0x3f803000, // 1 + 3 * 2^-11: tie -> 1 + 2^-9... (odd mantissa rounds up)
    0x3f808000, // bf16 tie -> even
    0x3f818000, // bf16 tie -> up
    0x3f80ffff,
    0x00000001, // float32 subnormals
    0x807fffff,
    0x3c003000,
    0x4b800000,
  ];
  const random = randomIds(1234, 4000, 0, 2 ** 32);
  // plus many values around the rounding boundaries of small normals
  const near = randomIds(99, 4000, 0x2f000000, 0x39000000);
  const all = [...specials, ...random, ...near].map((x) => x >>> 0);
  let numpyF16: number[];
  let torchBf16: number[];
  beforeAll(() => {
    const [a, b] = runTorchHelper([
      { op: 'f16', bits: all },
      { op: 'bf16', bits: all },
    ]);
    numpyF16 = a.bits;
    torchBf16 = b.bits;
  });

  const isNaN32 = (b: number) => (b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0;

  it('F16 equals numpy astype(float16)', () => {
    all.forEach((bits, i) => {
      const got = float32BitsToFloat16Bits(bits);
      if (isNaN32(bits)) {
        expect(Number.isNaN(float16BitsToNumber(got)), `NaN ${bits.toString(16)}`).toBe(true);
        expect(got & 0x8000).toBe((bits >>> 16) & 0x8000);
      } else {
        expect(got, `0x${bits.toString(16)}`).toBe(numpyF16[i]);
      }
    });
  });

  it('BF16 equals torch .to(bfloat16)', () => {
    all.forEach((bits, i) => {
      const got = float32BitsToBfloat16Bits(bits);
      if (isNaN32(bits)) {
        expect(Number.isNaN(bfloat16BitsToNumber(got)), `NaN ${bits.toString(16)}`).toBe(true);
      } else {
        expect(got, `0x${bits.toString(16)}`).toBe(torchBf16[i]);
      }
    });
  });
});
