// Real clients against `bert-embed serve`'s server: curl over the UNIX socket, the openai SDK over
// TCP (float and base64), python httpx over the UNIX socket, and BertClient. Each gets the vectors
// that in-process encoding gives.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BertClient } from '../../lib/index.js';
import { expectVectorsClose } from '../helpers/compare.js';
import { stsSentences } from '../helpers/sts.js';
import { startServer, type RunningServer } from './harness.js';

const run = promisify(execFile);
const texts = stsSentences('dev').slice(0, 12);
let running: RunningServer;

beforeAll(async () => {
  // BertClient's test asks for tokens (bert-as-service's -show_tokens_to_client)
  running = await startServer({}, { showTokensToClient: true });
});
afterAll(() => running?.stop());

async function inProcess(options: { normalize?: boolean } = {}): Promise<Float32Array> {
  return (await running.encoder.encode(texts, options)).data;
}

describe('clients', () => {
  it('curl --unix-socket: /encode (bert-as-service) and /embed (TEI)', async () => {
    const { stdout } = await run('curl', ['-sS', '--unix-socket', running.socket, '-H', 'content-type: application/json', '-d', JSON.stringify({ id: 42, texts }), 'http://localhost/encode']);
    const encoded = JSON.parse(stdout) as { id: number; results: number[][]; status: number };
    expect(encoded.id).toBe(42);
    expect(encoded.status).toBe(200);
    expectVectorsClose(Float32Array.from(encoded.results.flat()), await inProcess(), running.encoder.dimension, 1e-6, 'curl /encode');

    const embed = await run('curl', ['-sS', '--unix-socket', running.socket, '-H', 'content-type: application/json', '-d', JSON.stringify({ inputs: texts }), 'http://localhost/embed']);
    expectVectorsClose(Float32Array.from((JSON.parse(embed.stdout) as number[][]).flat()), await inProcess({ normalize: true }), running.encoder.dimension, 1e-6, 'curl /embed');
  });

  it('the openai SDK: embeddings.create, float and base64', async () => {
    const openai = new OpenAI({ baseURL: `http://127.0.0.1:${running.port}/v1`, apiKey: 'unused', maxRetries: 0 });
    const float = await openai.embeddings.create({ model: 'tiny', input: texts, encoding_format: 'float' });
    expect(float.data.map((d) => d.index)).toEqual(texts.map((_, i) => i));
    // OpenAI's vectors are unit length, whatever the server's normalize
    const expected = await inProcess({ normalize: true });
    expectVectorsClose(Float32Array.from(float.data.flatMap((d) => d.embedding)), expected, running.encoder.dimension, 1e-6, 'openai float');
    const tokens = running.encoder.tokenize(texts).reduce((sum, t) => sum + t.ids.length, 0);
    expect(float.usage).toEqual({ prompt_tokens: tokens, total_tokens: tokens });
    expect(float.model).toBe('tiny');

    // The SDK asks for base64 by default and decodes it itself.
    const base64 = await openai.embeddings.create({ model: 'tiny', input: texts });
    expectVectorsClose(Float32Array.from(base64.data.flatMap((d) => d.embedding)), expected, running.encoder.dimension, 0, 'openai base64');

    const short = await openai.embeddings.create({ model: 'tiny', input: texts[0], dimensions: 16, encoding_format: 'float' });
    const first = expected.subarray(0, 16);
    const norm = Math.hypot(...first);
    expectVectorsClose(Float32Array.from(short.data[0].embedding), first.map((v) => v / norm), 16, 1e-6, 'dimensions 16');
  });

  it('python httpx over the UNIX socket', async () => {
    const script = [
      'import httpx, json, sys',
      'client = httpx.Client(transport=httpx.HTTPTransport(uds=sys.argv[1]))',
      'response = client.post("http://localhost/embed", json={"inputs": json.loads(sys.argv[2]), "normalize": False})',
      'response.raise_for_status()',
      'print(json.dumps(response.json()))',
    ].join('\n');
    const { stdout } = await run('/usr/bin/python3', ['-c', script, running.socket, JSON.stringify(texts)]);
    expectVectorsClose(Float32Array.from((JSON.parse(stdout) as number[][]).flat()), await inProcess(), running.encoder.dimension, 1e-6, 'httpx');
  });

  it('BertClient: binary and JSON transport, shared by concurrent callers, status', async () => {
    const client = new BertClient({ socket: running.socket });
    try {
      const result = await client.encode(texts);
      expect(result.shape).toEqual([texts.length, running.encoder.dimension]);
      expectVectorsClose(result.data, await inProcess(), running.encoder.dimension, 0, 'binary');
      const withTokens = await client.encode(texts.slice(0, 2), { showTokens: true });
      expect(withTokens.tokens).toEqual(running.encoder.tokenize(texts.slice(0, 2)).map((t) => t.tokens));
      expect(withTokens.rows()).toHaveLength(2);
      const tokenized = await client.encode([['hello', 'world']], { isTokenized: true });
      expectVectorsClose(tokenized.data, (await running.encoder.encode([['hello', 'world']], { isTokenized: true })).data, running.encoder.dimension, 0, 'is_tokenized');

      const concurrent = await Promise.all(texts.map((text) => client.encode([text])));
      concurrent.forEach((one, i) => expectVectorsClose(one.data, result.rows()[i], running.encoder.dimension, 1e-5, `caller ${i}`));

      const streamed = [];
      for await (const part of client.encodeStream([texts.slice(0, 5), texts.slice(5)])) streamed.push(part);
      expect(streamed.map((s) => s.shape[0])).toEqual([5, texts.length - 5]);
      const status = await client.status();
      expect(status).toMatchObject({ state: 'ready', devices: ['cpu'] });
      expect(status.requests).toBeGreaterThan(0);
      await expect(client.encode([])).rejects.toThrow(RangeError);
    } finally {
      client.close();
    }
  });
});
