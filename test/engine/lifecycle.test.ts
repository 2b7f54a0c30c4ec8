// The package as users load it (require and import, from the built dist/), promise settlement on
// close, and clean process exits with and without close().
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Encoder } from '../../lib/index.js';
import { repoRoot } from '../reference/helpers.js';
import { checkpointDir } from '../helpers/checkpoints.js';

function runNode(args: string[], script: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [...args, script], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const tiny = JSON.stringify(checkpointDir('tiny'));

describe('loading the package', () => {
  it('works with require()', () => {
    const run = runNode(['-e'], `
      const { Encoder } = require('bert-embed-native');
      Encoder.load(${tiny}).then(async (encoder) => {
        const result = await encoder.encode(['First do it', 'then do it right']);
        console.log(JSON.stringify({ shape: result.shape, rows: result.rows().length }));
        await encoder.close();
      });`);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ shape: [2, 128], rows: 2 });
  });

  it('works with import', () => {
    const run = runNode(['--input-type=module', '-e'], `
      import { Encoder, Embeddings } from 'bert-embed-native';
      const encoder = await Encoder.load(${tiny});
      const result = await encoder.encode(['First do it']);
      console.log(JSON.stringify({ shape: result.shape, isEmbeddings: result instanceof Embeddings }));
      await encoder.close();`);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ shape: [1, 128], isEmbeddings: true });
  });

  it('lets the process exit by itself when the encoder is never closed', () => {
    const run = runNode(['-e'], `
      const { Encoder } = require('bert-embed-native');
      Encoder.load(${tiny}).then((encoder) => encoder.encode(['left open'])).then((r) => console.log(r.shape[0]));`);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe('1');
  });
});

describe('close()', () => {
  it('finishes queued encodes first, then rejects new calls with ERR_CLOSED', async () => {
    const encoder = await Encoder.load(checkpointDir('tiny'));
    const queued = [encoder.encode(['one']), encoder.encode(['two', 'three'])];
    const closing = encoder.close();
    const results = await Promise.all(queued);
    await closing;
    expect(results.map((r) => r.shape[0])).toEqual([1, 2]);
    await expect(encoder.encode(['late'])).rejects.toMatchObject({ name: 'BertEmbedError', code: 'ERR_CLOSED' });
    await expect(encoder.close()).resolves.toBeUndefined();
  });
});
