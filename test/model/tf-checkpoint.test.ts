/**
 * bert-as-service's model directories, as TensorFlow writes them: Google's bert_config.json, vocab.txt and a V2
 * checkpoint with Google's variable names, written by TensorFlow itself (test/reference/tf_checkpoint.py) from the
 * same random weights as the safetensors test checkpoints. Loaded directly they give the safetensors checkpoints'
 * vectors and masked-LM scores; exported, they are Hugging Face directories that transformers loads and that give
 * its BertModel's vectors; TensorFlow's own reader agrees with the bytes we read; corrupted shards and indexes fail
 * with coded errors naming what is wrong; tunedModelDir / ckptName / configName pick bert-as-service's files.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddingServer, Encoder, type EncoderOptions } from '../../lib/index.js';
import { indexTfCheckpoint } from '../../lib/model/tf-checkpoint/index-checkpoint.js';
import { readBertConfig } from '../../lib/model/bert-config.js';
import { checkpointDir, type CheckpointName } from '../helpers/checkpoints.js';
import { expectVectorsClose } from '../helpers/compare.js';
import { runHfEmbed, type HfPoolCase } from '../reference/hf-embed.js';
import { runHfMlmAsync } from '../reference/hf-mlm.js';
import { makeFixtureDir, removeFixtureDir } from '../reference/helpers.js';
import { openSafetensors } from '../reference/safetensors-reader.js';
import { runTensorFlow, type TfTensor, type TfWriteJob } from '../reference/tf-checkpoint.js';
import { request } from '../server/harness.js';

const TEXTS = [
  'The quick brown fox jumps over the lazy dog.',
  'Hello World, THIS is Mixed Case',
  'a ||| pair of sentences, the second one longer than the first',
  'Ünïcödé àccents and 中文 characters',
  '',
];
const CASES: HfPoolCase[] = [
  { pooling: 'REDUCE_MEAN', layers: [-2], mask_cls_sep: false, normalize: false },
  { pooling: 'REDUCE_MAX', layers: [-1], mask_cls_sep: true, normalize: false },
  { pooling: 'CLS_TOKEN', layers: [-1], mask_cls_sep: false, normalize: true },
  { pooling: 'REDUCE_MEAN_MAX', layers: [0, -1], mask_cls_sep: false, normalize: false },
  { pooling: 'NONE', layers: [-1], mask_cls_sep: false, normalize: false },
];
const MAX_SEQ_LEN = 24;
const CPU: EncoderOptions = { device: 'cpu', workers: 1, threads: 1, maxSeqLen: MAX_SEQ_LEN };

let root: string;
const dirs: Record<string, string> = {};
let tfReads: TfTensor[];

/** Each TensorFlow directory and the safetensors checkpoint it was written from. */
const SOURCES = {
  mlm: { source: 'mlm-tiny', extras: true },
  odd: { source: 'odd', shards: 2 },
  f16: { source: 'odd-f16-prefixed' },
  bf16: { source: 'tiny-bf16-legacy' },
} satisfies Record<string, { source: CheckpointName } & Partial<TfWriteJob>>;

const READ_NAMES = ['bert/encoder/layer_1/attention/self/query/kernel', 'cls/predictions/transform/dense/kernel', 'bert/embeddings/LayerNorm/gamma'];

beforeAll(async () => {
  root = makeFixtureDir('tf-checkpoint');
  const jobs: TfWriteJob[] = Object.entries(SOURCES).map(([name, { source, ...rest }]) => {
    dirs[name] = path.join(root, name);
    return { op: 'write', source: checkpointDir(source), out: dirs[name], ...rest };
  });
  // bert-as-service's fine-tuning layout: model_dir holds the pre-trained checkpoint, the config and the vocabulary
  // (the config under another name here); tuned_model_dir holds the fine-tuned checkpoint under its own name.
  dirs.base = path.join(root, 'base');
  dirs.tuned = path.join(root, 'tuned');
  jobs.push({ op: 'write', source: checkpointDir('tiny'), out: dirs.base, config_name: 'other_config.json' });
  jobs.push({ op: 'write', source: checkpointDir('mlm-tiny'), out: dirs.tuned, ckpt_name: 'model.ckpt-6072', config_name: null });
  // What the engine refuses by name: a used tensor in a dtype it does not read, a partitioned variable.
  dirs.float64 = path.join(root, 'float64');
  dirs.sliced = path.join(root, 'sliced');
  jobs.push({ op: 'write', source: checkpointDir('tiny'), out: dirs.float64, float64: ['bert/encoder/layer_1/output/LayerNorm/beta'] });
  jobs.push({ op: 'write', source: checkpointDir('tiny'), out: dirs.sliced, sliced: ['bert/embeddings/word_embeddings'] });
  const results = await runTensorFlow([
    ...jobs,
    { op: 'read', prefix: path.join(root, 'mlm', 'bert_model.ckpt'), names: READ_NAMES },
    { op: 'read', prefix: path.join(root, 'f16', 'bert_model.ckpt'), names: ['bert/encoder/layer_0/output/dense/kernel'] },
    { op: 'read', prefix: path.join(root, 'bf16', 'bert_model.ckpt'), names: ['bert/encoder/layer_1/intermediate/dense/kernel'] },
  ] as const);
  tfReads = results.slice(jobs.length).flatMap((result) => (result as { tensors: TfTensor[] }).tensors);
  // A config in the tuned directory is never read: bert-as-service takes the config from model_dir.
  fs.writeFileSync(path.join(dirs.tuned, 'bert_config.json'), JSON.stringify({ num_hidden_layers: 'not read' }));
  for (const name of ['mlm', 'odd', 'f16', 'bf16']) await Encoder.export(dirs[name], `${dirs[name]}-hf`);
}, 600_000);

afterAll(() => {
  if (root) removeFixtureDir(root);
});

async function withEncoder<T>(dir: string, options: EncoderOptions, use: (encoder: Encoder) => Promise<T>): Promise<T> {
  const encoder = await Encoder.load(dir, { ...CPU, ...options });
  try {
    return await use(encoder);
  } finally {
    await encoder.close();
  }
}

/** Every case's vectors of TEXTS, flattened per case. */
function vectorsOf(dir: string, options: EncoderOptions = {}): Promise<Float32Array[]> {
  return withEncoder(dir, options, async (encoder) => {
    const out: Float32Array[] = [];
    for (const { pooling, layers, mask_cls_sep: maskClsSep, normalize } of CASES) {
      out.push((await encoder.encode(TEXTS, { pooling, layers, maskClsSep, normalize })).data);
    }
    return out;
  });
}

function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

describe('a TensorFlow checkpoint loads as its safetensors twin', () => {
  for (const name of Object.keys(SOURCES) as (keyof typeof SOURCES)[]) {
    it(`${name} (${SOURCES[name].source}): every pooling within 1e-5`, async () => {
      const ours = await vectorsOf(dirs[name]);
      const twin = await vectorsOf(checkpointDir(SOURCES[name].source));
      CASES.forEach((c, i) => expect(maxAbsDifference(ours[i], twin[i]), c.pooling).toBeLessThanOrEqual(1e-5));
    });
  }

  it('has the masked-LM head when cls/predictions is there, and scores as the safetensors checkpoint within 1e-5', async () => {
    const texts = TEXTS.filter((text) => text.length > 0);
    const score = (dir: string) => withEncoder(dir, {}, async (encoder) => ({ heads: [...encoder.heads], scores: await encoder.score(texts) }));
    const ours = await score(dirs.mlm);
    const twin = await score(checkpointDir('mlm-tiny'));
    expect(ours.heads).toEqual(['pooled', 'maskedLm', 'sparse']);
    ours.scores.forEach((sentence, i) => {
      sentence.tokens.forEach((token, j) => expect(Math.abs(token.logprob - twin.scores[i].tokens[j].logprob)).toBeLessThanOrEqual(1e-5));
    });
    await withEncoder(dirs.odd, {}, async (encoder) => expect(encoder.heads).toEqual(['pooled']));
  });

  it("loads from the checkpoint's .index file named as the model path", async () => {
    const fromIndex = await vectorsOf(path.join(dirs.odd, 'bert_model.ckpt.index'));
    const fromDir = await vectorsOf(dirs.odd);
    CASES.forEach((c, i) => expect(maxAbsDifference(fromIndex[i], fromDir[i]), c.pooling).toBe(0));
  });

  it('lower-cases a vocab.txt-only directory by default, as bert-as-service does', async () => {
    await withEncoder(dirs.mlm, {}, async (encoder) => {
      expect(encoder.tokenizer.config.doLowerCase).toBe(true);
      expect(encoder.tokenize(['Hello WORLD'])[0].ids).toEqual(encoder.tokenize(['hello world'])[0].ids);
    });
  });
});

describe('export to a Hugging Face directory', () => {
  it('writes config.json, model.safetensors, vocab.txt and tokenizer_config.json', () => {
    const out = `${dirs.mlm}-hf`;
    expect(fs.readdirSync(out).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer_config.json', 'vocab.txt']);
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ model_type: 'bert', architectures: ['BertForMaskedLM'], hidden_size: 128, num_hidden_layers: 2 });
    expect(JSON.parse(fs.readFileSync(path.join(`${dirs.odd}-hf`, 'config.json'), 'utf8')).architectures).toEqual(['BertModel']);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'tokenizer_config.json'), 'utf8')).do_lower_case).toBe(true);
  });

  it("holds TensorFlow's own tensors, bit for bit, kernels transposed into torch's layout", () => {
    const exported = {
      'bert/encoder/layer_1/attention/self/query/kernel': [`${dirs.mlm}-hf`, 'bert.encoder.layer.1.attention.self.query.weight'],
      'cls/predictions/transform/dense/kernel': [`${dirs.mlm}-hf`, 'cls.predictions.transform.dense.weight'],
      'bert/embeddings/LayerNorm/gamma': [`${dirs.mlm}-hf`, 'bert.embeddings.LayerNorm.weight'],
      'bert/encoder/layer_0/output/dense/kernel': [`${dirs.f16}-hf`, 'encoder.layer.0.output.dense.weight'],
      'bert/encoder/layer_1/intermediate/dense/kernel': [`${dirs.bf16}-hf`, 'encoder.layer.1.intermediate.dense.weight'],
    };
    const names = [...READ_NAMES, 'bert/encoder/layer_0/output/dense/kernel', 'bert/encoder/layer_1/intermediate/dense/kernel'];
    names.forEach((name, n) => {
      const [dir, hfName] = exported[name as keyof typeof exported];
      const theirs = tfReads[n];
      const ours = openSafetensors(path.join(dir, 'model.safetensors')).read(hfName);
      expect(ours.dtype, name).toBe({ float32: 'F32', float16: 'F16', bfloat16: 'BF16' }[theirs.dtype]);
      const kernel = name.endsWith('/kernel');
      expect(ours.shape, name).toEqual(kernel ? [...theirs.shape].reverse() : theirs.shape);
      const [rows, columns] = theirs.shape;
      for (let i = 0; i < ours.data.length; i++) {
        const expected = kernel ? theirs.values[(i % rows) * columns + Math.floor(i / rows)] : theirs.values[i];
        if (ours.data[i] !== expected) expect.fail(`${name}: element ${i} is ${ours.data[i]}, TensorFlow reads ${expected}`);
      }
    });
  });

  it("loads in transformers, whose BertModel gives our vectors of the TensorFlow directory within 1e-5", async () => {
    for (const name of ['mlm', 'odd', 'f16'] as const) {
      const [reference] = await runHfEmbed([{ op: 'pool', model: `${dirs[name]}-hf`, texts: TEXTS, max_length: MAX_SEQ_LEN, cases: CASES }]);
      const ours = await vectorsOf(dirs[name]);
      CASES.forEach((c, i) => {
        const expected = Float64Array.from(reference.vectors[i].flatMap((vector) => [...vector]));
        expectVectorsClose(ours[i], expected, c.pooling === 'NONE' ? ours[i].length / TEXTS.length / MAX_SEQ_LEN : ours[i].length / TEXTS.length, 1e-5, `${name} ${c.pooling}`);
      });
    }
  });

  it("loads as transformers' BertForMaskedLM, whose pseudo-log-likelihoods are ours within 1e-4", async () => {
    const texts = TEXTS.filter((text) => text.length > 0);
    const [theirs] = await runHfMlmAsync([{ op: 'score', model: `${dirs.mlm}-hf`, texts, metric: 'within_word_l2r', max_length: MAX_SEQ_LEN }]);
    const ours = await withEncoder(dirs.mlm, {}, (encoder) => encoder.score(texts));
    ours.forEach((sentence, i) => sentence.tokens.forEach((token, j) => expect(Math.abs(token.logprob - theirs[i].logprobs[j])).toBeLessThan(1e-4)));
  });

  it('writes the lower-casing the load decided: cased with casedTokenization', async () => {
    const out = path.join(root, 'odd-cased-hf');
    await Encoder.export(dirs.odd, out, { casedTokenization: true });
    expect(JSON.parse(fs.readFileSync(path.join(out, 'tokenizer_config.json'), 'utf8'))).toMatchObject({ do_lower_case: false, strip_accents: false });
    await withEncoder(out, {}, async (encoder) => expect(encoder.tokenize(['Hello'])[0].tokens).not.toEqual(encoder.tokenize(['hello'])[0].tokens));
  });

  it('exports to TorchScript on request, which loads with the same vectors', async () => {
    const out = path.join(root, 'odd-ts');
    expect(await Encoder.export(dirs.odd, out, { to: 'torchscript' })).toBe(path.join(out, 'model.pt'));
    const ours = await vectorsOf(out);
    const tf = await vectorsOf(dirs.odd);
    CASES.forEach((c, i) => expect(maxAbsDifference(ours[i], tf[i]), c.pooling).toBeLessThanOrEqual(1e-5));
  });
});

describe("bert-as-service's tuned_model_dir, ckpt_name and config_name", () => {
  it('take the checkpoint from tunedModelDir (by ckptName) and the config and vocabulary from the model directory', async () => {
    const tuned = await vectorsOf(dirs.base, { tunedModelDir: dirs.tuned, ckptName: 'model.ckpt-6072', configName: 'other_config.json' });
    const mlm = await vectorsOf(checkpointDir('mlm-tiny'));
    CASES.forEach((c, i) => expect(maxAbsDifference(tuned[i], mlm[i]), c.pooling).toBeLessThanOrEqual(1e-5));
    const base = await vectorsOf(dirs.base, { configName: 'other_config.json' });
    const tiny = await vectorsOf(checkpointDir('tiny'));
    CASES.forEach((c, i) => expect(maxAbsDifference(base[i], tiny[i]), c.pooling).toBeLessThanOrEqual(1e-5));
  });

  it("are what the server's GET /status/server reports (bert-as-service's keys), and Encoder.modelFiles names", async () => {
    const options = { ...CPU, tunedModelDir: dirs.tuned, ckptName: 'model.ckpt-6072', configName: 'other_config.json' };
    const encoder = await Encoder.load(dirs.base, options);
    const server = new EmbeddingServer({ maxBodyBytes: 1 << 20, maxInputs: 8, modelName: 'tuned' });
    const socket = path.join(dirs.base, '..', 'status.sock');
    try {
      expect(encoder.modelFiles).toEqual({ format: 'tf-checkpoint', weights: path.join(dirs.tuned, 'model.ckpt-6072'), config: path.join(dirs.base, 'other_config.json') });
      await server.listenOnSocket(socket);
      server.setEncoder(encoder);
      const status = (await request(socket, 'GET', '/status/server')).json();
      expect(status).toMatchObject({ model_dir: dirs.base, tuned_model_dir: dirs.tuned, ckpt_name: 'model.ckpt-6072', config_name: 'other_config.json' });
    } finally {
      await server.shutdown();
    }
    const plain = await Encoder.load(checkpointDir('tiny'), CPU);
    expect(plain.modelFiles.format).toBe('safetensors');
    await plain.close();
  });

  it('name what is missing: the config under its default name, the checkpoint in the tuned directory', async () => {
    await expect(Encoder.load(dirs.base, CPU)).rejects.toMatchObject({ code: 'ERR_MODEL_NOT_FOUND', message: expect.stringContaining('has no bert_config.json') });
    await expect(Encoder.load(dirs.base, { ...CPU, configName: 'other_config.json', tunedModelDir: dirs.tuned })).rejects.toMatchObject({
      code: 'ERR_MODEL_NOT_FOUND',
      message: expect.stringContaining(`${path.join(dirs.tuned, 'bert_model.ckpt')}.index does not exist`),
    });
  });
});

describe('damaged checkpoints fail with coded errors', () => {
  /** A copy of the mlm directory with `damage` done to it. */
  function damagedCopy(label: string, damage: (dir: string) => void): string {
    const dir = path.join(root, `damaged-${label}`);
    fs.cpSync(dirs.mlm, dir, { recursive: true });
    damage(dir);
    return dir;
  }

  const TENSOR = 'bert/encoder/layer_1/attention/self/key/kernel';

  it('a corrupted byte in the data shard names the tensor and the file, on load and on export', async () => {
    const dir = damagedCopy('byte', (d) => {
      const config = readBertConfig(path.join(d, 'bert_config.json'), 'google');
      const location = indexTfCheckpoint(path.join(d, 'bert_model.ckpt'), config, 'bert_config.json').find((l) => l.storedName === TENSOR)!;
      const fd = fs.openSync(location.file, 'r+');
      const at = Math.floor((location.begin + location.end) / 2);
      const byte = Buffer.alloc(1);
      fs.readSync(fd, byte, 0, 1, at);
      byte[0] ^= 0x10;
      fs.writeSync(fd, byte, 0, 1, at);
      fs.closeSync(fd);
    });
    const shard = path.join(dir, 'bert_model.ckpt.data-00000-of-00001');
    const expected = { code: 'ERR_MODEL_FORMAT', message: expect.stringMatching(new RegExp(`^${shard.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: tensor ${TENSOR} fails its CRC-32C check`)) };
    await expect(Encoder.load(dir, CPU)).rejects.toMatchObject(expected);
    await expect(Encoder.export(dir, path.join(root, 'damaged-out'))).rejects.toMatchObject(expected);
    // Nothing that looks like an exported model is left behind.
    expect(fs.readdirSync(path.join(root, 'damaged-out'))).toEqual([]);
  });

  it('a truncated data shard, a truncated index and a garbage index are ERR_MODEL_FORMAT', async () => {
    const shortShard = damagedCopy('short-shard', (d) => fs.truncateSync(path.join(d, 'bert_model.ckpt.data-00000-of-00001'), 1000));
    await expect(Encoder.load(shortShard, CPU)).rejects.toMatchObject({ code: 'ERR_MODEL_FORMAT', message: expect.stringContaining('the shard is truncated') });
    const shortIndex = damagedCopy('short-index', (d) => fs.truncateSync(path.join(d, 'bert_model.ckpt.index'), 1000));
    await expect(Encoder.load(shortIndex, CPU)).rejects.toMatchObject({ code: 'ERR_MODEL_FORMAT', message: expect.stringContaining('magic number') });
    const garbage = damagedCopy('garbage-index', (d) => fs.writeFileSync(path.join(d, 'bert_model.ckpt.index'), Buffer.alloc(4096, 0x5a)));
    await expect(Encoder.load(garbage, CPU)).rejects.toMatchObject({ code: 'ERR_MODEL_FORMAT' });
  });

  it('a used tensor in another dtype, and a partitioned variable, are refused by name', async () => {
    await expect(Encoder.load(dirs.float64, CPU)).rejects.toMatchObject({
      code: 'ERR_MODEL_FORMAT',
      message: `${path.join(dirs.float64, 'bert_model.ckpt.index')}: tensor bert/encoder/layer_1/output/LayerNorm/beta has dtype DT_DOUBLE (2); expected DT_FLOAT (1), DT_HALF (19) or DT_BFLOAT16 (14)`,
    });
    await expect(Encoder.load(dirs.sliced, CPU)).rejects.toMatchObject({
      code: 'ERR_MODEL_FORMAT',
      message: expect.stringContaining('tensor bert/embeddings/word_embeddings is saved in slices (a partitioned variable)'),
    });
  });

  it('a missing shard of a two-shard checkpoint is ERR_MODEL_NOT_FOUND naming it', async () => {
    const dir = path.join(root, 'damaged-missing-shard');
    fs.cpSync(dirs.odd, dir, { recursive: true });
    fs.rmSync(path.join(dir, 'bert_model.ckpt.data-00001-of-00002'));
    await expect(Encoder.load(dir, CPU)).rejects.toMatchObject({
      code: 'ERR_MODEL_NOT_FOUND',
      message: expect.stringContaining(`${path.join(dir, 'bert_model.ckpt.data-00001-of-00002')} does not exist`),
    });
  });
});
