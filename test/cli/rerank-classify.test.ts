// `bert-embed rerank` and `bert-embed classify`, the real binary, against the same checkpoints loaded in this process.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Encoder } from '../../lib/index.js';
import { checkpointDir } from '../helpers/checkpoints.js';
import { expectClose } from '../helpers/expect-close.js';
import { RERANK_DOCUMENTS, RERANK_MAX_SEQ_LEN, RERANK_QUERY } from '../helpers/rerank-texts.js';
import { makeFixtureDir, removeFixtureDir } from '../reference/helpers.js';
import { jsonLines, runCli } from './run-cli.js';

const MAX_SEQ_LEN = RERANK_MAX_SEQ_LEN;
const QUERY = RERANK_QUERY;
const DOCUMENTS = RERANK_DOCUMENTS;
const LINES = ['I loved it', 'A man plays. ||| Someone is playing.', 'Terrible.'];

let dir: string;
let crossEncoder: Encoder;
let classifier: Encoder;

beforeAll(async () => {
  dir = makeFixtureDir('rerank-cli');
  fs.writeFileSync(path.join(dir, 'docs.txt'), DOCUMENTS.join('\n') + '\n');
  [crossEncoder, classifier] = await Promise.all([
    Encoder.load(checkpointDir('cross-encoder'), { maxSeqLen: MAX_SEQ_LEN }),
    Encoder.load(checkpointDir('classifier-3'), { maxSeqLen: MAX_SEQ_LEN }),
  ]);
});
afterAll(async () => {
  await crossEncoder?.close();
  await classifier?.close();
  removeFixtureDir(dir);
});

describe('bert-embed rerank', () => {
  it('JSON lines best first, as Encoder.rerank; --top-k keeps the best', async () => {
    const args = ['rerank', '-m', checkpointDir('cross-encoder'), '--max-seq-len', String(MAX_SEQ_LEN), '--query', QUERY, path.join(dir, 'docs.txt')];
    const all = await runCli(args);
    expect(all.code, all.stderr).toBe(0);
    const expected = await crossEncoder.rerank(QUERY, DOCUMENTS);
    expectClose(
      jsonLines(all.stdout),
      expected.map(({ index, score, truncated }) => ({ index, line: index + 1, score, truncated, text: DOCUMENTS[index] })),
    );
    const top = await runCli([...args, '--top-k', '2']);
    expect(jsonLines(top.stdout).map((row) => row.index)).toEqual(expected.slice(0, 2).map((r) => r.index));
  });

  it('without --query: usage error (exit 2); a model without the head: exit 1 naming ERR_NO_CLASSIFIER_HEAD', async () => {
    const noQuery = await runCli(['rerank', '-m', checkpointDir('cross-encoder'), path.join(dir, 'docs.txt')]);
    expect(noQuery.code).toBe(2);
    expect(noQuery.stderr).toContain('--query');
    const plain = await runCli(['rerank', '-m', checkpointDir('tiny'), '--query', 'q', path.join(dir, 'docs.txt')]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain('BertForSequenceClassification');
  });
});

describe('bert-embed classify', () => {
  it("one JSON line per input line, 'A ||| B' as a pair, as Encoder.classify", async () => {
    const result = await runCli(['classify', '-m', checkpointDir('classifier-3'), '--max-seq-len', String(MAX_SEQ_LEN), '--top-k', '2'], { input: LINES.join('\n') + '\n' });
    expect(result.code, result.stderr).toBe(0);
    const expected = await classifier.classify(['I loved it', ['A man plays.', 'Someone is playing.'], 'Terrible.'], { topK: 2 });
    expectClose(jsonLines(result.stdout), expected.map(({ labels, truncated }, i) => ({ line: i + 1, labels, truncated })));
  });
});

describe('bert-embed info', () => {
  it('lists the classification head and the labels, as Encoder.heads says', async () => {
    const result = await runCli(['info', '-m', checkpointDir('classifier-3'), '--json']);
    expect(result.code, result.stderr).toBe(0);
    const info = JSON.parse(result.stdout.toString()) as { heads: string[]; labels: string[] };
    expect(info.heads).toEqual([...classifier.heads]);
    expect(info.labels).toEqual(['contradiction', 'entailment', 'neutral']);
    const plain = JSON.parse((await runCli(['info', '-m', checkpointDir('tiny'), '--json'])).stdout.toString()) as { heads: string[]; labels?: string[] };
    expect([plain.heads, plain.labels]).toEqual([['pooled'], undefined]);
  });
});
