// `--model org/name` downloads from a hub into the cache, once. The hub here is a local HTTP server
// with the Hugging Face layout: /{repo}/resolve/{revision}/{file}, ETag = git blob sha1 for small
// files, and for the weights a redirect carrying X-Linked-Etag = sha256, as the real hub does.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointDir } from '../helpers/checkpoints.js';
import { runCli } from './run-cli.js';

const MODEL = checkpointDir('tiny');
let server: http.Server;
let hub: string;
let cache: string;
const requests: string[] = [];

function gitBlobSha1(bytes: Buffer): string {
  return crypto.createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

beforeAll(async () => {
  cache = fs.mkdtempSync(path.join(os.tmpdir(), 'bert-embed-cache-'));
  server = http.createServer((request, response) => {
    requests.push(request.url!);
    const cdn = request.url!.match(/^\/cdn\/([^/]+)\/(.+)$/);
    if (cdn) {
      const bytes = fs.readFileSync(path.join(MODEL, cdn[2]));
      // 'corrupt' serves the weights with one byte flipped.
      if (cdn[1] === 'corrupt') bytes[bytes.length - 1] ^= 0xff;
      response.writeHead(200, { 'content-length': bytes.length });
      response.end(bytes);
      return;
    }
    const match = request.url!.match(/^\/acme\/([^/]+)\/resolve\/main\/(.+)$/);
    const file = match && path.join(MODEL, match[2]);
    if (!match || match[1] === 'missing' || !fs.existsSync(file!)) {
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('Entry not found');
      return;
    }
    const bytes = fs.readFileSync(file!);
    if (match[2] === 'model.safetensors') {
      const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
      response.writeHead(302, { location: `/cdn/${match[1]}/${match[2]}`, 'x-linked-etag': `"${sha256}"`, etag: '"not-the-content-hash"' });
      response.end();
      return;
    }
    response.writeHead(200, { etag: `"${gitBlobSha1(bytes)}"`, 'content-length': bytes.length });
    response.end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hub = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  fs.rmSync(cache, { recursive: true, force: true });
});

const env = (): NodeJS.ProcessEnv => ({ BERT_EMBED_HUB: hub, BERT_EMBED_CACHE: cache });

describe('hub models', () => {
  it('downloads once, checks every file, and encodes as the local directory does', async () => {
    const viaHub = await runCli(['encode', '-m', 'acme/tiny-bert', '--format', 'f32'], { input: 'a sentence\n', env: env() });
    expect(viaHub.stderr).toBe('');
    expect(viaHub.code).toBe(0);
    const local = await runCli(['encode', '-m', MODEL, '--format', 'f32'], { input: 'a sentence\n' });
    expect(viaHub.stdout.equals(local.stdout)).toBe(true);
    const cached = path.join(cache, 'acme--tiny-bert', 'main');
    for (const file of ['config.json', 'vocab.txt', 'model.safetensors']) {
      expect(fs.readFileSync(path.join(cached, file)).equals(fs.readFileSync(path.join(MODEL, file))), file).toBe(true);
    }
    expect(requests).toContain('/cdn/tiny-bert/model.safetensors');

    // A second run uses the cache: no request reaches the hub.
    const before = requests.length;
    const again = await runCli(['info', '-m', 'acme/tiny-bert', '--json'], { env: env() });
    expect(again.code).toBe(0);
    expect(requests.length).toBe(before);
  });

  it('discards a download whose checksum does not match', async () => {
    const result = await runCli(['info', '-m', 'acme/corrupt'], { env: env() });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^bert-embed: .*\/acme\/corrupt\/resolve\/main\/model\.safetensors: checksum mismatch \(the hub says [0-9a-f]{64}, the download is [0-9a-f]{64}\); the file was discarded\n$/);
    const cached = path.join(cache, 'acme--corrupt', 'main');
    expect(fs.existsSync(path.join(cached, 'model.safetensors'))).toBe(false);
    expect(fs.existsSync(path.join(cached, 'model.safetensors.partial'))).toBe(false);
  });

  it('reports a repo the hub does not have (404)', async () => {
    const result = await runCli(['info', '-m', 'acme/missing'], { env: env() });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`bert-embed: acme/missing has no config.json at revision main on ${hub} (HTTP 404): check the repo id, or pass a local model directory\n`);
  });

  it('says how to go on without network', async () => {
    // A port nothing listens on: take one, then free it.
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const result = await runCli(['info', '-m', 'acme/tiny-bert-2'], { env: { BERT_EMBED_HUB: `http://127.0.0.1:${port}`, BERT_EMBED_CACHE: cache } });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `bert-embed: cannot reach http://127.0.0.1:${port} to download http://127.0.0.1:${port}/acme/tiny-bert-2/resolve/main/config.json (ECONNREFUSED); ` +
        'without network, pass a local model directory: --model /path/to/model\n',
    );
  });
});
