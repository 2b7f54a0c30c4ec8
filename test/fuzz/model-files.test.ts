// Properties of the readers of model files, which are untrusted input: any bytes as
// model.safetensors give the tensors' checked locations or a BertEmbedError (ERR_MODEL_FORMAT),
// and any config.json gives a config the engine can build or a BertEmbedError (ERR_MODEL_CONFIG),
// never a raw JavaScript error. The files are random, random JSON, and valid files with one
// thing broken.
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BertEmbedError } from '../../lib/errors.js';
import { readBertConfig } from '../../lib/model/bert-config.js';
import { indexSafetensors, safetensorsElementCount } from '../../lib/model/safetensors-index.js';
import type { NativeBertConfig, NativeTensorLocation } from '../../lib/native/binding.js';
import { bertTensors as sharedBertTensors, isHeadTensor } from '../../scripts/bert-tensor-names.mjs';
import { expectDocumentedError, fuzzParameters, tempDir } from './arbitraries.js';

let dir: string;
let remove: () => void;
let fileCount = 0;
beforeAll(() => ({ dir, remove } = tempDir('be-fuzz-model-')));
afterAll(() => remove?.());

/** Writes `name` in a folder of its own (a run's file replaces the previous run's). */
function writeTemp(name: string, bytes: Uint8Array | string, fresh = false): string {
  const sub = path.join(dir, fresh ? String(fileCount++) : 'current');
  fs.mkdirSync(sub, { recursive: true });
  const file = path.join(sub, name);
  fs.writeFileSync(file, bytes);
  return file;
}

// ---------------------------------------------------------------------------------------------
// model.safetensors

const CONFIG: NativeBertConfig = {
  vocabSize: 7,
  hiddenSize: 4,
  numLayers: 1,
  numHeads: 2,
  intermediateSize: 6,
  maxPositions: 5,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
  hiddenAct: 'gelu',
};

/** Hugging Face's names and shapes for CONFIG (BertModel without its pooler, and optionally BertForMaskedLM's head),
 * from scripts/bert-tensor-names.json. */
function bertTensors(config: NativeBertConfig, head: boolean): [string, number[]][] {
  const configJson = {
    vocab_size: config.vocabSize,
    hidden_size: config.hiddenSize,
    num_hidden_layers: config.numLayers,
    intermediate_size: config.intermediateSize,
    max_position_embeddings: config.maxPositions,
    type_vocab_size: config.typeVocabSize,
  };
  return sharedBertTensors(configJson, { pooler: false, mlmHead: head }).map((t) => [t.name, t.shape]);
}

const DTYPE_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };

interface Layout {
  header: Record<string, unknown>;
  dataBytes: number;
}

/** A valid safetensors header for the tensors, back to back in the order given. */
function validLayout(tensors: [string, number[]][], dtype: string, prefix: string): Layout {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, shape] of tensors) {
    const bytes = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
    header[`${isHeadTensor(name) ? '' : prefix}${name}`] = { dtype, shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  return { header, dataBytes: offset };
}

/** A file's bytes that fast-check prints as their header text and data length, not as a byte list. */
function described(bytes: Buffer): Buffer {
  return Object.assign(bytes, {
    [fc.toStringMethod]: () => {
      if (bytes.length < 8) return `<${bytes.length} bytes: ${bytes.toString('hex')}>`;
      const length = bytes.readBigUInt64LE(0);
      const header = bytes.subarray(8, 8 + Math.min(Number(length > 100_000n ? 100_000n : length), bytes.length - 8));
      return `<header length ${length}: ${JSON.stringify(header.toString('utf8'))}, then ${Math.max(0, bytes.length - 8 - header.length)} bytes>`;
    },
  });
}

/** The bytes of a safetensors file: u64 header length, the header (padded with spaces, as allowed), the data. */
function safetensorsBytes(header: unknown, dataBytes: number, padding = 0): Buffer {
  const json = Buffer.from(JSON.stringify(header) + ' '.repeat(padding));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, Buffer.alloc(dataBytes, 0x3c)]);
}

// Values that are wrong where a dtype, a shape, an offset or an entry belongs.
const strangeNumber = fc.oneof(fc.constantFrom(-1, 0.5, 1e300, -0, 2 ** 53, 2 ** 64, Number.MAX_SAFE_INTEGER), fc.integer({ min: -5, max: 100 }), fc.double({ noNaN: true, noDefaultInfinity: true }));
const strangeValue = fc.oneof(strangeNumber, fc.jsonValue(), fc.constantFrom('F32', 'I64', 'F64', 'f32', 'BOOL', 'F8_E4M3', '', null));

/** A valid header with one or more things broken, and a file length that may not match. */
const brokenSafetensors = fc
  .record({
    dtype: fc.constantFrom('F32', 'F16', 'BF16'),
    prefix: fc.constantFrom('', 'bert.'),
    head: fc.boolean(),
    mutations: fc.array(
      fc.oneof(
        fc.record({ kind: fc.constant('field' as const), tensor: fc.nat(), field: fc.constantFrom('dtype', 'shape', 'data_offsets'), value: strangeValue }),
        fc.record({ kind: fc.constant('dimension' as const), tensor: fc.nat(), at: fc.nat(2), value: strangeNumber }),
        fc.record({ kind: fc.constant('offset' as const), tensor: fc.nat(), at: fc.nat(1), delta: fc.integer({ min: -40, max: 40 }) }),
        fc.record({ kind: fc.constant('entry' as const), tensor: fc.nat(), value: strangeValue }),
        fc.record({ kind: fc.constant('remove' as const), tensor: fc.nat() }),
        fc.record({ kind: fc.constant('metadata' as const), value: fc.jsonValue() }),
        fc.record({ kind: fc.constant('extra' as const), name: fc.constantFrom('encoder.layer.1.output.dense.bias', 'cls.predictions.decoder.weight', 'x', '__metadata__'), value: strangeValue }),
      ),
      { maxLength: 3 },
    ),
    dataDelta: fc.oneof(fc.constant(0), fc.integer({ min: -64, max: 64 })),
    padding: fc.nat(8),
    lengthDelta: fc.oneof({ weight: 5, arbitrary: fc.constant(0n) }, { weight: 1, arbitrary: fc.bigInt({ min: -9n, max: 2n ** 64n - 1n }) }),
  })
  .map(({ dtype, prefix, head, mutations, dataDelta, padding, lengthDelta }) => {
    const tensors = bertTensors(CONFIG, head);
    const { header, dataBytes } = validLayout(tensors, dtype, prefix);
    const names = Object.keys(header);
    for (const mutation of mutations) {
      if (mutation.kind === 'metadata') header.__metadata__ = mutation.value;
      else if (mutation.kind === 'extra') header[mutation.name] = mutation.value;
      else {
        const name = names[mutation.tensor % names.length];
        const entry = header[name] as Record<string, unknown> | undefined;
        if (mutation.kind === 'remove') delete header[name];
        else if (mutation.kind === 'entry') header[name] = mutation.value;
        else if (entry && typeof entry === 'object') {
          if (mutation.kind === 'field') entry[mutation.field] = mutation.value;
          else if (mutation.kind === 'dimension' && Array.isArray(entry.shape)) entry.shape = Object.assign([...entry.shape], { [mutation.at]: mutation.value });
          else if (mutation.kind === 'offset' && Array.isArray(entry.data_offsets)) {
            const offsets = [...entry.data_offsets];
            offsets[mutation.at] = (offsets[mutation.at] as number) + mutation.delta;
            entry.data_offsets = offsets;
          }
        }
      }
    }
    const bytes = safetensorsBytes(header, Math.max(0, dataBytes + dataDelta), padding);
    if (lengthDelta !== 0n) bytes.writeBigUInt64LE((bytes.readBigUInt64LE(0) + lengthDelta + 2n ** 64n) % 2n ** 64n);
    return described(bytes);
  });

const anySafetensors = fc.oneof(
  { weight: 4, arbitrary: brokenSafetensors },
  // A header that is any JSON at all, or no JSON.
  { weight: 1, arbitrary: fc.tuple(fc.jsonValue(), fc.nat(64)).map(([header, data]) => described(safetensorsBytes(header, data))) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => described(Buffer.from(bytes))) },
  {
    weight: 1,
    arbitrary: fc.uint8Array({ maxLength: 64 }).map((json) => {
      const length = Buffer.alloc(8);
      length.writeBigUInt64LE(BigInt(json.length));
      return described(Buffer.concat([length, json]));
    }),
  },
);

/** The promises a list of locations makes to the native side. */
function expectSafeLocations(locations: NativeTensorLocation[], fileSize: number, config: NativeBertConfig): void {
  const expected = new Map(bertTensors(config, true));
  const names = new Set<string>();
  const spans: [number, number][] = [];
  for (const { name, dtype, shape, begin, end } of locations) {
    expect(names.has(name), `${name} twice`).toBe(false);
    names.add(name);
    expect(['F32', 'F16', 'BF16']).toContain(dtype);
    expect(shape).toEqual(expected.get(name) ?? shape);
    for (const value of [begin, end]) if (!(Number.isSafeInteger(value) && value >= 8 && value <= fileSize)) expect.fail(`${name}: offset ${value} outside the data of a ${fileSize}-byte file`);
    expect(end - begin, name).toBe(shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype]);
    spans.push([begin, end]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) if (spans[i][0] < spans[i - 1][1]) expect.fail(`tensors overlap: [${spans[i - 1]}] and [${spans[i]}]`);
}

describe('model.safetensors', () => {
  it('reads a valid file (the control for the properties below)', () => {
    for (const dtype of ['F32', 'F16', 'BF16']) {
      for (const prefix of ['', 'bert.']) {
        const { header, dataBytes } = validLayout(bertTensors(CONFIG, true), dtype, prefix);
        const file = writeTemp('model.safetensors', safetensorsBytes({ __metadata__: { format: 'pt' }, ...header }, dataBytes, 3), true);
        const locations = indexSafetensors(file, CONFIG);
        expect(locations).toHaveLength(bertTensors(CONFIG, true).length);
        expectSafeLocations(locations, fs.statSync(file).size, CONFIG);
      }
    }
  });

  it('gives any file checked tensor locations or a BertEmbedError ERR_MODEL_FORMAT', () => {
    fc.assert(
      fc.property(anySafetensors, (bytes) => {
        const file = writeTemp('model.safetensors', bytes);
        let locations: NativeTensorLocation[];
        try {
          locations = indexSafetensors(file, CONFIG);
        } catch (error) {
          expectDocumentedError(error, [BertEmbedError], ['ERR_MODEL_FORMAT']);
          expect((error as Error).message).toContain(file);
          return;
        }
        expectSafeLocations(locations, bytes.length, CONFIG);
        const elements = safetensorsElementCount(file);
        if (!(Number.isSafeInteger(elements) && elements >= 0)) expect.fail(`element count ${elements}`);
      }),
      fuzzParameters(500),
    );
  });

  it('counts the elements of any file, or says why it cannot', () => {
    fc.assert(
      fc.property(anySafetensors, (bytes) => {
        const file = writeTemp('model.safetensors', bytes);
        try {
          const elements = safetensorsElementCount(file);
          if (!(Number.isSafeInteger(elements) && elements >= 0)) expect.fail(`element count ${elements}`);
        } catch (error) {
          expectDocumentedError(error, [BertEmbedError], ['ERR_MODEL_FORMAT']);
        }
      }),
      fuzzParameters(300),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// config.json

const VALID_CONFIG = {
  architectures: ['BertModel'],
  model_type: 'bert',
  vocab_size: 30522,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  layer_norm_eps: 1e-12,
  hidden_act: 'gelu',
  pad_token_id: 0,
  position_embedding_type: 'absolute',
};
const CONFIG_KEYS = Object.keys(VALID_CONFIG);
/** The activations the native side implements. */
const ACTIVATIONS = ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu'];

// JSON text for a value, including numbers that JSON.parse reads as Infinity or -0.
const configValue = fc.oneof(
  fc.jsonValue().map((value) => JSON.stringify(value)),
  strangeNumber.map((value) => JSON.stringify(value)),
  fc.constantFrom('1e400', '-1e400', '-0', '1.0', '12.000000000000001', '"12"', '[12]', 'true', 'null', '"gelu"', '"relu"', '"swish"', '"bert"', '"roberta"', '["BertForMaskedLM"]', '[1]'),
);

/** config.json text: valid, with some fields replaced, removed, or the whole file any JSON or bytes. */
const anyConfigText = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .tuple(fc.dictionary(fc.constantFrom(...CONFIG_KEYS), configValue, { maxKeys: 4 }), fc.subarray(CONFIG_KEYS, { maxLength: 3 }))
      .map(([replaced, removed]) => {
        const fields = Object.entries(VALID_CONFIG)
          .filter(([key]) => !removed.includes(key))
          .map(([key, value]) => [key, replaced[key] ?? JSON.stringify(value)]);
        return `{${fields.map(([key, text]) => `${JSON.stringify(key)}: ${text}`).join(', ')}}`;
      }),
  },
  { weight: 1, arbitrary: fc.jsonValue().map((value) => JSON.stringify(value)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)) },
);

describe('config.json', () => {
  it('gives any file a config the engine can build, or a BertEmbedError ERR_MODEL_CONFIG naming the file', () => {
    fc.assert(
      fc.property(anyConfigText, (text) => {
        const file = writeTemp('config.json', text);
        let config;
        try {
          config = readBertConfig(file);
        } catch (error) {
          expectDocumentedError(error, [BertEmbedError], ['ERR_MODEL_CONFIG']);
          expect((error as Error).message).toContain(file);
          return;
        }
        for (const key of ['vocabSize', 'hiddenSize', 'numLayers', 'numHeads', 'intermediateSize', 'maxPositions', 'typeVocabSize'] as const) {
          if (!(Number.isSafeInteger(config[key]) && config[key] >= 1)) expect.fail(`${key} ${config[key]}`);
        }
        expect(config.maxPositions).toBeGreaterThanOrEqual(2);
        expect(config.hiddenSize % config.numHeads).toBe(0);
        if (!(Number.isFinite(config.layerNormEps) && config.layerNormEps > 0)) expect.fail(`layerNormEps ${config.layerNormEps}`);
        expect(ACTIVATIONS).toContain(config.hiddenAct);
        if (!(Number.isInteger(config.padTokenId) && config.padTokenId >= 0 && config.padTokenId < config.vocabSize)) expect.fail(`padTokenId ${config.padTokenId}`);
      }),
      fuzzParameters(400),
    );
  });
});
