// Hub repo ids and revisions become parts of the cache path (issue 12, finding 10): both are checked
// as the hub names them (letters, digits, '-', '_', '.'; no '..'; one '/' in a repo id; revisions
// in '/'-separated parts, as refs/pr/1) before any request is made or any path is built, so that
// `--revision ../../x` can never write outside the cache.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchHubModel } from '../../lib/hub/hub-download.js';
import { checkpointDir } from '../helpers/checkpoints.js';
import { runCli } from './run-cli.js';

const MODEL = checkpointDir('tiny');
let server: http.Server;
let hub: string;
let root: string;
let cache: string;
const requests: string[] = [];

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'bert-embed-hub-paths-'));
  cache = path.join(root, 'cache');
  // A hub that serves the tiny model as any acme/* repo at any revision.
  server = http.createServer((request, response) => {
    requests.push(request.url!);
    const match = request.url!.match(/^\/acme\/[^/]+\/resolve\/[^/]+\/([^/]+)$/);
    const file = match && path.join(MODEL, match[1]);
    if (!file || !fs.existsSync(file)) {
      response.writeHead(404);
      response.end('Entry not found');
      return;
    }
    const bytes = fs.readFileSync(file);
    response.writeHead(200, { 'content-length': bytes.length });
    response.end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hub = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  fs.rmSync(root, { recursive: true, force: true });
});

const env = (): NodeJS.ProcessEnv => ({ BERT_EMBED_HUB: hub, BERT_EMBED_CACHE: cache });

describe('the CLI', () => {
  it('refuses a --revision that would leave the cache (exit 2), before any request', async () => {
    for (const revision of ['../../escape', '..', 'main/../../escape', '.hidden', 'a//b', '/abs', 'a b', '']) {
      requests.length = 0;
      const result = await runCli(['info', '-m', 'acme/tiny-bert', '--revision', revision], { env: env() });
      expect(result.code, `--revision ${JSON.stringify(revision)}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toMatch(/^bert-embed: Expected a hub revision \(a branch, tag or commit: .*\) for --revision but received .*\n$/);
      expect(requests).toEqual([]);
    }
    expect(fs.readdirSync(root)).toEqual([]); // not even the cache was created
  });

  it("refuses a repo id the hub would not name (exit 2), before any request", async () => {
    for (const repo of ['acme--evil/tiny-bert', 'acme/tiny..bert', 'acme/-tiny', 'acme/tiny.', `acme/${'x'.repeat(97)}`]) {
      requests.length = 0;
      const result = await runCli(['info', '-m', repo], { env: env() });
      expect(result.code, `-m ${repo}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toMatch(/^bert-embed: --model ".*" is no directory, nor a Hugging Face repo id \(org\/name: .*\)\n$/);
      expect(requests).toEqual([]);
    }
    expect(fs.readdirSync(root)).toEqual([]);
  });

  it('takes a revision with slashes (refs/pr/1), cached in its own directory inside the cache', async () => {
    requests.length = 0;
    const result = await runCli(['info', '-m', 'acme/tiny-bert', '--revision', 'refs/pr/1', '--json'], { env: env() });
    expect(result.code, result.stderr).toBe(0);
    expect(requests[0]).toBe('/acme/tiny-bert/resolve/refs%2Fpr%2F1/config.json');
    const dir = path.join(cache, 'acme--tiny-bert', 'refs', 'pr', '1');
    expect(JSON.parse(result.stdout.toString()).model).toBe(dir);
    expect(fs.existsSync(path.join(dir, 'model.safetensors'))).toBe(true);
    expect(fs.readdirSync(root)).toEqual(['cache']);
  });
});

describe('fetchHubModel', () => {
  it('checks the repo id and the revision itself, before any request or path', async () => {
    const cacheDir = path.join(root, 'library-cache');
    const refused: [string, string | undefined, RegExp][] = [
      ['acme/tiny-bert/extra', undefined, /^Expected a Hugging Face repo id \(org\/name: at most one '\/' \(org\/name\)\) for repo but received "acme\/tiny-bert\/extra"$/],
      ['a/b/c/d', undefined, /at most one '\/'/],
      ['acme--x', undefined, /no '--' or '\.\.'/],
      ['../escape', undefined, /for repo but received/],
      ['acme/..', undefined, /for repo but received/],
      ['acme/tiny-bert', '../../escape', /^Expected a hub revision \(a branch, tag or commit: no '\.\.'\) for revision but received "\.\.\/\.\.\/escape"$/],
      ['acme/tiny-bert', 'refs/../../x', /for revision but received/],
      ['acme/tiny-bert', '/etc', /for revision but received/],
      ['acme/tiny-bert', 'a\\b', /for revision but received/],
      ['acme/tiny-bert', 7 as unknown as string, /^Expected a hub revision \(a branch, tag or commit: a string\) for revision but received 7$/],
    ];
    requests.length = 0;
    for (const [repo, revision, message] of refused) {
      await expect(fetchHubModel(repo, { endpoint: hub, cacheDir, revision }), `${repo} @ ${revision}`).rejects.toThrow(message);
      await expect(fetchHubModel(repo, { endpoint: hub, cacheDir, revision })).rejects.toBeInstanceOf(RangeError);
    }
    expect(requests).toEqual([]);
    expect(fs.existsSync(cacheDir)).toBe(false);
  });

  it("caches org/name as org--name", async () => {
    const cacheDir = path.join(root, 'library-cache');
    const dir = await fetchHubModel('acme/tiny-bert', { endpoint: hub, cacheDir, revision: 'v1.0' });
    expect(dir).toBe(path.join(cacheDir, 'acme--tiny-bert', 'v1.0'));
    expect(fs.existsSync(path.join(dir, '.complete.json'))).toBe(true);
  });
});
