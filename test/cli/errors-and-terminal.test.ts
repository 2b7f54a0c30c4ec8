// Exit codes and one-line messages for bad flags (2) and bad files (1); the progress bar drawn
// under a pseudo-terminal and absent when piped; info and export.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointDir } from '../helpers/checkpoints.js';
import { stsSentences } from '../helpers/sts.js';
import { BIN, runCli } from './run-cli.js';

const MODEL = checkpointDir('tiny');
let work: string;
let sentencesFile: string;

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'bert-embed-cli-'));
  sentencesFile = path.join(work, 'sentences.txt');
  fs.writeFileSync(sentencesFile, `${stsSentences('test').join('\n')}\n`);
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('usage errors exit 2 with a message naming the flag', () => {
  const cases: [string, string[], RegExp][] = [
    ['an unknown flag', ['encode', '-m', MODEL, '--poling', 'CLS_TOKEN'], /unknown option '--poling'/],
    ['a pooling that does not exist', ['encode', '-m', MODEL, '--pooling', 'AVERAGE'], /--pooling <strategy>' argument 'AVERAGE' is invalid. Allowed choices are NONE, REDUCE_MEAN/],
    ['a max-seq-len out of range', ['encode', '-m', MODEL, '--max-seq-len', '1'], /^bert-embed: Expected integer from 2 to 512 for --max-seq-len but received 1 of type number\n$/],
    ['a layer the model lacks', ['encode', '-m', MODEL, '--layers', '-7'], /for --layers\[0\] but received -7/],
    ['a word where a number belongs', ['encode', '-m', MODEL, '--workers', 'two'], /--workers <n>' argument 'two' is invalid. expected an integer/],
    ['no model', ['encode', sentencesFile], /required option '-m, --model <dir\|repo>' not specified/],
    ['JSONL without --field', ['encode', '-m', MODEL, 'docs.jsonl'], /^bert-embed: docs.jsonl is JSONL: say which field holds the text with --field NAME\n$/],
    ['an output name without a format', ['encode', '-m', MODEL, sentencesFile, '-o', 'out.vec'], /cannot tell the output format from "out.vec"/],
    ['an unknown command', ['encodee'], /unknown command 'encodee'/],
  ];
  for (const [what, args, message] of cases) {
    it(what, async () => {
      const result = await runCli(args);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stdout.length).toBe(0);
    });
  }
});

describe('runtime failures exit 1 with a one-line message', () => {
  it('a missing input file, a missing model, invalid UTF-8, bad JSON, a missing column', async () => {
    const invalid = path.join(work, 'invalid.txt');
    fs.writeFileSync(invalid, Buffer.concat([Buffer.from('fine\nalso fine\n'), Buffer.from([0x62, 0x61, 0x64, 0xc3, 0x28]), Buffer.from('\n')]));
    const badJson = path.join(work, 'bad.jsonl');
    fs.writeFileSync(badJson, '{"text":"ok"}\n{"text": nope}\n');
    const csv = path.join(work, 'table.csv');
    fs.writeFileSync(csv, 'a,b\n1,2\n');
    const cases: [string[], string][] = [
      [['encode', '-m', MODEL, path.join(work, 'missing.txt')], `bert-embed: cannot read ${path.join(work, 'missing.txt')}: ENOENT\n`],
      [['encode', '-m', path.join(work, 'no-model'), sentencesFile], 'ERR_MODEL_NOT_FOUND'],
      [['encode', '-m', MODEL, invalid, '-o', path.join(work, 'x.npy')], `bert-embed: ${invalid}:3: invalid UTF-8\n`],
      [['encode', '-m', MODEL, '--field', 'text', badJson], `bert-embed: ${badJson}:2: invalid JSON`],
      [['encode', '-m', MODEL, '--column', 'body', csv], `bert-embed: ${csv}:1: no column "body" in the header (a, b)\n`],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(args);
      expect(result.code, args.join(' ')).toBe(1);
      if (message === 'ERR_MODEL_NOT_FOUND') expect(result.stderr).toMatch(/^bert-embed: .*no-model/);
      else expect(result.stderr.startsWith(message), result.stderr).toBe(true);
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
  });
});

describe('progress bar', () => {
  it('is drawn on a terminal, with count, rate and ETA', () => {
    const out = path.join(work, 'tty.npy');
    // script(1) runs the command under a pseudo-terminal and copies what it drew to stdout.
    const command = `${process.execPath} ${BIN} encode -m ${MODEL} ${sentencesFile} -o ${out}`;
    const drawn = execFileSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', timeout: 120_000 });
    expect(drawn).toMatch(/\[#+\.*\] \d[\d,]*\/2,758 sentences {2}[\d,]+ sentences\/s {2}ETA /);
    expect(drawn).toMatch(/\[#{24}\] 2,758\/2,758 sentences {2}[\d,]+ sentences\/s in \d+s\r?\n/);
  });

  it('is absent when stderr is piped, and with --quiet on a terminal', async () => {
    const piped = await runCli(['encode', '-m', MODEL, sentencesFile, '-o', path.join(work, 'piped.npy')]);
    expect(piped.code).toBe(0);
    expect(piped.stderr).toBe('');
    const command = `${process.execPath} ${BIN} encode -q -m ${MODEL} ${sentencesFile} -o ${path.join(work, 'quiet.npy')}`;
    expect(execFileSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', timeout: 120_000 })).toBe('');
  });
});

describe('info and export', () => {
  it('describes the model; export writes a model.pt that encodes like the checkpoint', async () => {
    const info = JSON.parse((await runCli(['info', '-m', MODEL, '--json'])).stdout.toString()) as Record<string, Record<string, unknown>>;
    const config = JSON.parse(fs.readFileSync(path.join(MODEL, 'config.json'), 'utf8')) as Record<string, number>;
    expect(info.architecture).toMatchObject({ layers: config.num_hidden_layers, hiddenSize: config.hidden_size, attentionHeads: config.num_attention_heads });
    expect(info.tokenizer).toMatchObject({ vocabSize: 30522, doLowerCase: true });
    expect(info.defaults).toMatchObject({ pooling: 'REDUCE_MEAN', layers: [-2], maxSeqLen: 25 });
    expect(info.weights.parameters).toBeGreaterThan(4_000_000);
    expect(info.devices).toHaveProperty('cudaCompiled');
    // the addon file this process loaded, for the libtorch version it runs
    expect(fs.existsSync(info.addon.file as string)).toBe(true);
    const [major, minor] = (info.devices.libtorch as string).split('.');
    expect(info.addon.key).toMatch(new RegExp(`^torch-${major}\\.${minor}-(cpu|cu\\d+)$`));

    const exported = path.join(work, 'exported');
    const result = await runCli(['export', MODEL, exported]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(`wrote ${path.join(exported, 'model.pt')}\n`);
    const fromCheckpoint = await runCli(['encode', '-m', MODEL, '--format', 'f32'], { input: 'the same sentence\n' });
    const fromExport = await runCli(['encode', '-m', exported, '--format', 'f32'], { input: 'the same sentence\n' });
    expect(fromExport.code).toBe(0);
    expect(fromExport.stdout.equals(fromCheckpoint.stdout)).toBe(true);
  });
});

describe('bench', () => {
  it("prints bert-as-service's sweeps as tables with one row per value", async () => {
    const result = await runCli(['bench', '-m', MODEL, '--sentences', '24', '--max-seq-lens', '8,16', '--client-batches', '1,8', '--callers', '1,3', '--workers', '1,2', '--batch-sizes', '4,16']);
    expect(result.code).toBe(0);
    const text = result.stdout.toString();
    for (const [title, values] of [['max_seq_len', [8, 16]], ['client batch size', [1, 8]], ['concurrent callers', [1, 3]], ['workers', [1, 2]], ['max batch size', [4, 16]]] as const) {
      expect(text).toContain(`| ${title} | sentences/s | tokens/s | seconds |`);
      for (const value of values) expect(text).toMatch(new RegExp(`\\n\\| ${value} \\| [\\d.]+ \\| \\d+ \\| [\\d.]+ \\|`));
    }
  });
});
