// Model files are untrusted input (issue 12, findings 3, 4, 6 and 7): a crafted or damaged
// config.json, safetensors header, vocabulary or model.pt fails at load with a BertEmbedError whose
// code is documented and whose message names the file, the field and what was expected; never with
// raw JavaScript or libtorch text, never after allocating what the config asks for, and never by
// loading weights that can only answer NaN. In the CLI every one of them exits 1 (2 is for usage).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BertEmbedError, Encoder, WordPieceTokenizer } from '../../lib/index.js';
import { changedCopy, checkpointDir, editConfig, type CheckpointName } from '../helpers/checkpoints.js';
import { makeFixtureDir, PYTHON, removeFixtureDir } from '../reference/helpers.js';
import { runCli } from '../cli/run-cli.js';

let scratch: string;
let sentences: string;
let copies = 0;

beforeAll(() => {
  scratch = makeFixtureDir('untrusted-model-files');
  sentences = path.join(scratch, 'sentences.txt');
  fs.writeFileSync(sentences, 'a short one\nand a somewhat longer sentence, to need padding\n');
});
afterAll(() => removeFixtureDir(scratch));

/** A copy of a checkpoint with one thing changed by `change`. */
function copyOf(name: CheckpointName, change: (dir: string) => void): string {
  return changedCopy(name, path.join(scratch, `${name}-${++copies}`), change);
}

interface Safetensors {
  header: Record<string, any>;
  data: Buffer;
}

function readSafetensors(dir: string): Safetensors {
  const bytes = fs.readFileSync(path.join(dir, 'model.safetensors'));
  const length = Number(bytes.readBigUInt64LE(0));
  return { header: JSON.parse(bytes.subarray(8, 8 + length).toString('utf8')), data: bytes.subarray(8 + length) };
}

/** Writes model.safetensors with `headerBytes` (a JSON value, or raw bytes) in front of `data`. */
function writeSafetensors(dir: string, header: unknown, data: Buffer): void {
  const headerBytes = Buffer.isBuffer(header) ? header : Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(headerBytes.length));
  fs.writeFileSync(path.join(dir, 'model.safetensors'), Buffer.concat([length, headerBytes, data]));
}

/** A copy of tiny whose header `edit` changes in place, or replaces by returning `{ replacement }`. */
function editHeader(edit: (header: Record<string, any>) => void | { replacement: unknown }): string {
  return copyOf('tiny', (dir) => {
    const { header, data } = readSafetensors(dir);
    const result = edit(header);
    writeSafetensors(dir, result ? result.replacement : header, data);
  });
}

async function loadError(modelPath: string): Promise<BertEmbedError> {
  const error = await Encoder.load(modelPath).then(
    async (encoder) => {
      await encoder.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(error, `${modelPath} loaded`).toBeInstanceOf(BertEmbedError);
  return error as BertEmbedError;
}

/** The load fails with `code`, a message naming the file and matching `message`, and the CLI exits 1 with it. */
async function expectRefused(modelPath: string, file: string, code: string, message: RegExp): Promise<void> {
  const error = await loadError(modelPath);
  expect(error.code, error.message).toBe(code);
  expect(error.message).toContain(path.join(path.resolve(modelPath), file));
  expect(error.message).toMatch(message);
  const cli = await runCli(['encode', '-m', modelPath, sentences, '-q']);
  expect(cli.code, cli.stderr).toBe(1);
  expect(cli.stderr.trimEnd().split('\n'), cli.stderr).toHaveLength(1);
  expect(cli.stderr).toMatch(message);
  expect(cli.stdout.length).toBe(0);
}

describe('finding 3: weights that are not finite, and layer_norm_eps', () => {
  it('refuses a float32 tensor holding NaN, naming it', async () => {
    const dir = copyOf('tiny', (d) => {
      const { header, data } = readSafetensors(d);
      const [begin] = header['encoder.layer.1.attention.self.key.weight'].data_offsets;
      data.writeFloatLE(Number.NaN, begin + 4 * 1000);
      writeSafetensors(d, header, data);
    });
    await expectRefused(dir, 'model.safetensors', 'ERR_MODEL_NON_FINITE', /tensor encoder\.layer\.1\.attention\.self\.key\.weight holds NaN at element 1000 of 16384/);
  });

  it('refuses infinity in a float16 checkpoint and in bfloat16 (the last element of the last layer)', async () => {
    const f16 = copyOf('odd-f16-prefixed', (d) => {
      const { header, data } = readSafetensors(d);
      const [begin] = header['bert.embeddings.word_embeddings.weight'].data_offsets;
      data.writeUInt16LE(0xfc00, begin + 2 * 7); // -infinity
      writeSafetensors(d, header, data);
    });
    await expectRefused(f16, 'model.safetensors', 'ERR_MODEL_NON_FINITE', /tensor embeddings\.word_embeddings\.weight holds -infinity at element 7 /);
    const bf16 = copyOf('tiny-bf16-legacy', (d) => {
      const { header, data } = readSafetensors(d);
      data.writeUInt16LE(0x7f80, header['encoder.layer.1.output.LayerNorm.beta'].data_offsets[1] - 2); // +infinity
      writeSafetensors(d, header, data);
    });
    const error = await loadError(bf16);
    expect(error.code).toBe('ERR_MODEL_NON_FINITE');
    expect(error.message).toMatch(/tensor encoder\.layer\.1\.output\.LayerNorm\.bias holds \+infinity at element 127 of 128;/);
  });

  it('refuses a TorchScript model.pt whose parameters hold NaN', async () => {
    const dir = copyOf('tiny', (d) => fs.rmSync(path.join(d, 'model.safetensors')));
    const script = [
      'import sys, torch',
      'dense = torch.nn.Sequential(torch.nn.Linear(4, 4))',
      'with torch.no_grad(): dense[0].weight[2, 3] = float("nan")',
      'torch.jit.trace(dense, torch.zeros(1, 4)).save(sys.argv[1])',
    ].join('\n');
    const made = spawnSync(PYTHON, ['-c', script, path.join(dir, 'model.pt')], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    await expectRefused(dir, 'model.pt', 'ERR_MODEL_NON_FINITE', /tensor 0\.weight holds NaN at element 11 of 16/);
  });

  it.each([
    ['negative', -1e-12],
    ['a string', '1e-12'],
    ['zero', 0],
  ])('refuses a layer_norm_eps that is %s', async (_, eps) => {
    const dir = copyOf('tiny', (d) => editConfig(d, (c) => (c.layer_norm_eps = eps)));
    await expectRefused(dir, 'config.json', 'ERR_MODEL_CONFIG', /Expected finite number above 0 for layer_norm_eps but received/);
  });
});

describe('finding 4: config sizes are held against the tensors before anything is allocated', () => {
  it('refuses num_hidden_layers: 1000000000 at once, naming the field', async () => {
    const dir = copyOf('tiny', (d) => editConfig(d, (c) => (c.num_hidden_layers = 1_000_000_000)));
    const started = performance.now();
    const error = await loadError(dir);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(error.code).toBe('ERR_MODEL_FORMAT');
    expect(error.message).toBe(
      `${path.join(dir, 'model.safetensors')}: config.json says num_hidden_layers 1000000000, but the file holds 2 layers (encoder.layer.0 to encoder.layer.1)`,
    );
    const cli = await runCli(['encode', '-m', dir, sentences, '-q']);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/num_hidden_layers 1000000000/);
  }, 30_000);

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['a hidden_size the tensors do not have', { hidden_size: 1_048_576, num_attention_heads: 1 }, /word_embeddings\.weight has shape \[30522, 128\] but config\.json implies \[30522, 1048576\] \(vocab_size × hidden_size\)/],
    ['an intermediate_size the tensors do not have', { intermediate_size: 1_000_000_000 }, /intermediate\.dense\.weight has shape \[512, 128\] but config\.json implies \[1000000000, 128\] \(intermediate_size × hidden_size\)/],
    ['a max_position_embeddings the tensors do not have', { max_position_embeddings: 100_000_000 }, /position_embeddings\.weight has shape \[512, 128\] but config\.json implies \[100000000, 128\]/],
  ])('refuses %s, quickly', async (_, change, message) => {
    const dir = copyOf('tiny', (d) => editConfig(d, (c) => Object.assign(c, change)));
    const started = performance.now();
    const error = await loadError(dir);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(error.code).toBe('ERR_MODEL_FORMAT');
    expect(error.message).toMatch(message);
  });

  it.each<[string, unknown, string]>([
    ['num_hidden_layers', 0, 'positive integer'],
    ['num_hidden_layers', 2.5, 'positive integer'],
    ['vocab_size', '30522', 'positive integer'],
    ['hidden_size', 1e300, 'positive integer'],
    ['num_attention_heads', -2, 'positive integer'],
    ['intermediate_size', null, 'positive integer'],
    ['max_position_embeddings', 1, 'integer of at least 2'],
    ['type_vocab_size', 0, 'positive integer'],
    ['hidden_act', 'swish', 'one of "gelu", "gelu_new", "gelu_pytorch_tanh", "relu"'],
    ['hidden_act', 7, 'one of "gelu", "gelu_new", "gelu_pytorch_tanh", "relu"'],
    ['pad_token_id', -1, 'non-negative integer'],
    ['pad_token_id', 30522, 'integer from 0 to 30521 (below vocab_size)'],
    ['position_embedding_type', 'relative_key', 'one of "absolute"'],
    ['architectures', 'BertModel', 'array of strings'],
  ])('refuses %s: %j, saying what was expected', async (field, value, expected) => {
    const dir = copyOf('tiny', (d) => editConfig(d, (c) => (c[field] = value)));
    const error = await loadError(dir);
    expect(error.code).toBe('ERR_MODEL_CONFIG');
    expect(error.message).toContain(`${path.join(dir, 'config.json')}: Expected ${expected} for ${field} but received`);
  });

  it('refuses a config that is not an object, or a hidden_size the heads do not divide', async () => {
    const array = copyOf('tiny', (d) => fs.writeFileSync(path.join(d, 'config.json'), '[1, 2]'));
    expect((await loadError(array)).message).toBe(`${path.join(array, 'config.json')}: Expected a JSON object for the file but received an array of length 2 of type array`);
    const heads = copyOf('tiny', (d) => editConfig(d, (c) => (c.num_attention_heads = 3)));
    expect((await loadError(heads)).message).toMatch(/config\.json: hidden_size 128 is not a multiple of num_attention_heads 3/);
  });
});

describe('finding 6: malformed safetensors headers and model.pt files', () => {
  const MODEL = 'model.safetensors';
  const cases: [string, (header: Record<string, any>) => void | { replacement: unknown }, RegExp][] = [
    ['null', () => ({ replacement: null }), /safetensors header: Expected JSON object of tensors for the header but received null/],
    ['an array', () => ({ replacement: [1, 2] }), /Expected JSON object of tensors for the header but received an array of length 2/],
    ['a string', () => ({ replacement: 'tensors' }), /Expected JSON object of tensors for the header but received "tensors" of type string/],
    ['an entry without data_offsets', (h) => void delete h['embeddings.LayerNorm.bias'].data_offsets, /Expected two non-negative integers \[begin, end\] for data_offsets of tensor "embeddings\.LayerNorm\.bias" but received undefined/],
    ['an entry that is a number', (h) => void (h['embeddings.LayerNorm.bias'] = 3), /Expected object with dtype, shape and data_offsets for the entry of tensor "embeddings\.LayerNorm\.bias"/],
    ['a shape that is a string', (h) => void (h['embeddings.LayerNorm.bias'].shape = '128'), /Expected array of non-negative integers for shape of tensor "embeddings\.LayerNorm\.bias" but received "128"/],
    ['a negative dimension', (h) => void (h['embeddings.LayerNorm.bias'].shape = [-128]), /for shape of tensor "embeddings\.LayerNorm\.bias" but received -128/],
    ['an unknown dtype', (h) => void (h['embeddings.LayerNorm.bias'].dtype = 'F31'), /Expected one of BOOL, .* for dtype of tensor "embeddings\.LayerNorm\.bias" but received "F31"/],
    ['negative data_offsets', (h) => void (h['embeddings.LayerNorm.bias'].data_offsets = [-512, 0]), /for data_offsets of tensor "embeddings\.LayerNorm\.bias" but received an array of length 2/],
    ['fractional data_offsets', (h) => {
      const entry = h['embeddings.LayerNorm.bias'];
      entry.data_offsets = [entry.data_offsets[0] + 0.5, entry.data_offsets[1] + 0.5];
    }, /for data_offsets of tensor "embeddings\.LayerNorm\.bias"/],
    ['data_offsets that end before they begin', (h) => {
      const entry = h['embeddings.LayerNorm.bias'];
      entry.data_offsets = [entry.data_offsets[1], entry.data_offsets[0]];
    }, /tensor "embeddings\.LayerNorm\.bias" has data_offsets \[\d+, \d+\], which end before they begin/],
    ['overlapping tensors', (h) => {
      // Two tensors of the same size sharing their bytes: the second one's own bytes become a gap at the end.
      h['embeddings.LayerNorm.bias'].data_offsets = [...h['embeddings.LayerNorm.weight'].data_offsets];
    }, /tensor embeddings\.LayerNorm\.(bias|weight) \(data_offsets \[\d+, \d+\]\) overlaps tensor embeddings\.LayerNorm\.(weight|bias)/],
    ['a byte length that does not fit shape and dtype', (h) => void (h['embeddings.LayerNorm.bias'].shape = [64]), /tensor embeddings\.LayerNorm\.bias has 512 bytes of data \(data_offsets \[\d+, \d+\]\), but its shape \[64\] of F32 takes 256/],
    ['__metadata__ that is not an object of strings', (h) => void (h.__metadata__ = { format: 1 }), /Expected object of strings for __metadata__/],
  ];
  it.each(cases)('refuses a header that is %s, naming the file and the field', async (_, edit, message) => {
    const dir = editHeader(edit);
    const error = await loadError(dir);
    expect(error.code, error.message).toBe('ERR_MODEL_FORMAT');
    expect(error.message.startsWith(`${path.join(dir, MODEL)}: `), error.message).toBe(true);
    expect(error.message).toMatch(message);
  });

  it('refuses a header that is not UTF-8 or not JSON, and one over the format\'s 100 MB', async () => {
    const { data } = readSafetensors(checkpointDir('tiny'));
    const latin1 = copyOf('tiny', (d) => writeSafetensors(d, Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x3a, 0x7b, 0x7d, 0x7d]), data));
    await expectRefused(latin1, MODEL, 'ERR_MODEL_FORMAT', /has a safetensors header that is not valid UTF-8/);
    const notJson = copyOf('tiny', (d) => writeSafetensors(d, Buffer.from('{"a": '), data));
    expect((await loadError(notJson)).message).toMatch(/has a safetensors header that is not valid JSON \(/);
    const huge = copyOf('tiny', (d) => {
      const length = Buffer.alloc(8);
      length.writeBigUInt64LE(100_000_001n);
      fs.writeFileSync(path.join(d, MODEL), Buffer.concat([length, Buffer.from('{}')]));
    });
    expect((await loadError(huge)).message).toMatch(/a header of 100000001 bytes in a file of 10; the format allows at most 100000000/);
  });

  it('refuses bytes the header does not account for, and keeps naming the tensor a truncation cuts', async () => {
    const trailing = copyOf('tiny', (d) => fs.appendFileSync(path.join(d, MODEL), Buffer.alloc(16)));
    expect((await loadError(trailing)).message).toMatch(/has 16 bytes after its last tensor that the header does not account for/);
    const gap = editHeader((h) => {
      // Every offset from word_embeddings on moves 4 bytes on: a gap before the first tensor.
      for (const [name, entry] of Object.entries(h)) if (name !== '__metadata__') entry.data_offsets = entry.data_offsets.map((o: number) => o + 4);
    });
    expect((await loadError(gap)).message).toMatch(/begins at data offset 4 but the data begins at 0; the format has no gaps between tensors/);
  });

  it('refuses a model.pt that is not a TorchScript archive, in clear words', async () => {
    const text = copyOf('tiny', (d) => fs.writeFileSync(path.join(d, 'model.pt'), 'not a zip archive'));
    await expectRefused(text, 'model.pt', 'ERR_MODEL_FORMAT', /model\.pt is not a TorchScript archive: expected a zip file written by torch\.jit\.save or Encoder\.export/);
    // A zip file, but not one libtorch can read: libtorch's reason, in one line, after the file's name.
    const zip = copyOf('tiny', (d) => fs.writeFileSync(path.join(d, 'model.pt'), Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(64)])));
    const error = await loadError(zip);
    expect(error.code).toBe('ERR_MODEL_FORMAT');
    expect(error.message).toMatch(/model\.pt is not a TorchScript model that libtorch can load \([^\n]+\); expected a file written by torch\.jit\.save or Encoder\.export$/);
  });

  it('refuses a directory where model.pt or config.json belongs, and a symbolic-link loop', async () => {
    const directory = copyOf('tiny', (d) => fs.mkdirSync(path.join(d, 'model.pt')));
    await expectRefused(directory, 'model.pt', 'ERR_MODEL_LOAD', /model\.pt is a directory; expected a file/);
    const configDirectory = copyOf('tiny', (d) => {
      fs.rmSync(path.join(d, 'config.json'));
      fs.mkdirSync(path.join(d, 'config.json'));
    });
    await expectRefused(configDirectory, 'config.json', 'ERR_MODEL_LOAD', /config\.json is a directory; expected a file/);
    const loop = copyOf('tiny', (d) => {
      fs.rmSync(path.join(d, 'model.safetensors'));
      fs.symlinkSync('model.safetensors', path.join(d, 'model.safetensors'));
    });
    await expectRefused(loop, 'model.safetensors', 'ERR_MODEL_LOAD', /model\.safetensors is a symbolic link loop \(or a chain of links too long to follow\); expected a readable file/);
    const dangling = copyOf('tiny', (d) => fs.symlinkSync('nowhere.txt', path.join(d, 'tokenizer.json')));
    await expectRefused(dangling, 'tokenizer.json', 'ERR_MODEL_NOT_FOUND', /tokenizer\.json is a symbolic link to nowhere\.txt, which does not exist/);
    const pipe = copyOf('tiny', (d) => {
      fs.rmSync(path.join(d, 'vocab.txt'));
      expect(spawnSync('mkfifo', [path.join(d, 'vocab.txt')]).status).toBe(0);
    });
    await expectRefused(pipe, 'vocab.txt', 'ERR_MODEL_LOAD', /vocab\.txt is a named pipe; expected a file/);
  });
});

describe('finding 7: tokenizer files are model files (exit 1), and [PAD] is not required', () => {
  const vocabWithout = (token: string, replacement: string) => (dir: string) => {
    const file = path.join(dir, 'vocab.txt');
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const at = lines.indexOf(token);
    expect(at).toBeGreaterThanOrEqual(0);
    lines[at] = replacement;
    fs.writeFileSync(file, lines.join('\n'));
  };

  it('a vocabulary without [UNK] is a model error: ERR_MODEL_CONFIG, exit 1', async () => {
    const dir = copyOf('tiny', vocabWithout('[UNK]', '[unused_unk]'));
    await expectRefused(dir, 'vocab.txt', 'ERR_MODEL_CONFIG', /vocab\.txt: the vocabulary has no unk_token "\[UNK\]"; a BERT tokenizer needs it/);
    expect(() => WordPieceTokenizer.fromModelDir(dir)).toThrow(BertEmbedError);
  });

  it('a tokenizer_config.json naming a [CLS] the vocabulary lacks, or with a setting of the wrong type, exits 1', async () => {
    const cls = copyOf('tiny', (d) => fs.writeFileSync(path.join(d, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: true, cls_token: '<s>' })));
    await expectRefused(cls, 'vocab.txt', 'ERR_MODEL_CONFIG', /the vocabulary has no cls_token "<s>"/);
    const lower = copyOf('tiny', (d) => fs.writeFileSync(path.join(d, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: 'yes' })));
    await expectRefused(lower, 'tokenizer_config.json', 'ERR_MODEL_CONFIG', /tokenizer_config\.json: Expected boolean for do_lower_case but received "yes"/);
  });

  it('max_position_embeddings below 2 exits 1, naming the field', async () => {
    const dir = copyOf('tiny', (d) => editConfig(d, (c) => (c.max_position_embeddings = 1)));
    await expectRefused(dir, 'config.json', 'ERR_MODEL_CONFIG', /Expected integer of at least 2 for max_position_embeddings but received 1/);
  });

  it('a tokenizer.json with a bad max_input_chars_per_word or token id is a model error', async () => {
    const bad = (edit: (json: any) => void) =>
      copyOf('minilm', (d) => {
        const file = path.join(d, 'tokenizer.json');
        const json = JSON.parse(fs.readFileSync(file, 'utf8'));
        edit(json);
        fs.writeFileSync(file, JSON.stringify(json));
      });
    await expectRefused(bad((j) => (j.model.max_input_chars_per_word = -1)), 'tokenizer.json', 'ERR_MODEL_CONFIG', /Expected non-negative integer for model\.max_input_chars_per_word but received -1/);
    await expectRefused(bad((j) => (j.model.vocab.hello = 2 ** 40)), 'tokenizer.json', 'ERR_MODEL_CONFIG', /Expected integer from 0 to 2147483647 for model\.vocab\["hello"\] but received 1099511627776/);
  });

  it('a vocabulary without [PAD] loads, and pads with another id to the same vectors', async () => {
    const dir = copyOf('tiny', vocabWithout('[PAD]', '[unused_pad]'));
    const texts = ['a short one', 'and a somewhat longer sentence, to need padding', 'mid length here'];
    const withoutPad = await Encoder.load(dir, { maxSeqLen: 32 });
    const original = await Encoder.load(checkpointDir('tiny'), { maxSeqLen: 32 });
    try {
      expect(withoutPad.tokenizer.padId).toBe(withoutPad.tokenizer.unkId);
      expect(withoutPad.tokenizer.padId).not.toBe(original.tokenizer.padId);
      const [a, b] = [await withoutPad.encode(texts), await original.encode(texts)];
      expect(a.shape).toEqual(b.shape);
      for (let i = 0; i < a.data.length; i++) expect(Math.abs(a.data[i] - b.data[i])).toBeLessThan(1e-5);
    } finally {
      await Promise.all([withoutPad.close(), original.close()]);
    }
    const cli = await runCli(['encode', '-m', dir, sentences, '-q']);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout.toString().trim().split('\n')).toHaveLength(2);
  });
});

describe('files beside the config', () => {
  it('refuses sentence-transformers files of the wrong shape as model errors', async () => {
    const nullPooling = copyOf('minilm', (d) => {
      fs.mkdirSync(path.join(d, '1_Pooling'), { recursive: true });
      fs.writeFileSync(path.join(d, '1_Pooling', 'config.json'), 'null');
    });
    await expectRefused(nullPooling, path.join('1_Pooling', 'config.json'), 'ERR_MODEL_CONFIG', /Expected a JSON object for the file but received null/);
    const maxSeq = copyOf('minilm', (d) => fs.writeFileSync(path.join(d, 'sentence_bert_config.json'), JSON.stringify({ max_seq_length: 1 })));
    await expectRefused(maxSeq, 'sentence_bert_config.json', 'ERR_MODEL_CONFIG', /Expected integer of at least 2 for max_seq_length but received 1/);
  });

  it('refuses a config.json that is not UTF-8', async () => {
    const dir = copyOf('tiny', (d) => fs.appendFileSync(path.join(d, 'config.json'), Buffer.from([0xff])));
    await expectRefused(dir, 'config.json', 'ERR_MODEL_CONFIG', /config\.json is not valid UTF-8 text/);
  });
});
