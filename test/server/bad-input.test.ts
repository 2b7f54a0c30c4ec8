// Every error status the server gives, a slow client, a client that hangs up mid-request, a
// 100 MB body and invalid UTF-8; after each, the server still answers correctly.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddingServer } from '../../lib/index.js';
import { expectVectorsClose } from '../helpers/compare.js';
import { stsSentences } from '../helpers/sts.js';
import { request, startServer, type RunningServer } from './harness.js';

const sentences = stsSentences('train');
let running: RunningServer;

beforeAll(async () => {
  running = await startServer({ maxQueuedSentences: 3000 }, { maxBodyBytes: 1 << 20, maxInputs: 2500 });
});
afterAll(() => running?.stop());

async function expectStillServing(): Promise<void> {
  const ok = await request(running.socket, 'POST', '/encode', JSON.stringify({ texts: ['still here'] }));
  expect(ok.status).toBe(200);
  expectVectorsClose(Float32Array.from(ok.json().results[0]), (await running.encoder.encode(['still here'])).data, running.encoder.dimension, 1e-6, 'after');
}

describe('error statuses', () => {
  const cases: [string, string, string, string | Buffer, number, string, RegExp][] = [
    ['malformed JSON', 'POST', '/encode', '{"texts": [', 400, 'ERR_MALFORMED_JSON', /not valid JSON/],
    ['an empty body', 'POST', '/embed', '', 400, 'ERR_MALFORMED_JSON', /empty/],
    ['invalid UTF-8', 'POST', '/embed', Buffer.from([0x7b, 0x22, 0x69, 0x6e, 0x70, 0x75, 0x74, 0x73, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]), 400, 'ERR_INVALID_UTF8', /not valid UTF-8/],
    ['a body that is not an object', 'POST', '/encode', '[1,2]', 422, 'ERR_VALIDATION', /^Expected JSON object for body but received an array of length 2 of type array$/],
    ['wrong types', 'POST', '/encode', '{"texts":["a",2]}', 422, 'ERR_VALIDATION', /^Expected string for texts\[1\] but received 2 of type number$/],
    ['an empty batch', 'POST', '/encode', '{"texts":[]}', 422, 'ERR_VALIDATION', /non-empty array of strings for texts/],
    ['too many inputs', 'POST', '/embed', JSON.stringify({ inputs: new Array(2501).fill('x') }), 422, 'ERR_TOO_MANY_INPUTS', /at most 2500 inputs/],
    ['an input too long without truncate', 'POST', '/embed', JSON.stringify({ inputs: ['short', 'word '.repeat(40)] }), 422, 'ERR_INPUT_TOO_LONG', /^inputs\[1\] has 42 tokens, more than maxSeqLen 32/],
    ['a bad option value', 'POST', '/v1/embeddings', '{"input":"x","encoding_format":"hex"}', 422, 'ERR_VALIDATION', /one of "float", "base64" for encoding_format/],
    ['dimensions out of range', 'POST', '/v1/embeddings', '{"input":"x","dimensions":4096}', 422, 'ERR_VALIDATION', /integer from 1 to 128 for dimensions/],
    ['an unknown endpoint', 'POST', '/encodez', '{}', 404, 'ERR_NOT_FOUND', /no endpoint \/encodez/],
    ['a wrong method', 'GET', '/encode', '', 405, 'ERR_METHOD', /takes POST/],
  ];
  for (const [what, method, urlPath, body, status, code, message] of cases) {
    it(`${status} for ${what}`, async () => {
      const response = await request(running.socket, method, urlPath, body);
      expect(response.status).toBe(status);
      expect(response.headers['content-type']).toBe('application/json');
      expect(response.json()).toMatchObject({ code });
      expect(response.json().error).toMatch(message);
      await expectStillServing();
    });
  }

  it('413 for a 100 MB body, answered while the client is still sending', async () => {
    const hundredMegabytes = Buffer.alloc(100 * 1024 * 1024, 0x20);
    const response = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const outgoing = http.request({ socketPath: running.socket, method: 'POST', path: '/embed', headers: { 'content-type': 'application/json' } }, (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      outgoing.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
      // Chunked, so the server cannot know the size up front.
      outgoing.write(hundredMegabytes.subarray(0, 50 * 1024 * 1024));
      outgoing.end(hundredMegabytes.subarray(50 * 1024 * 1024));
    });
    expect(response.status).toBe(413);
    expect(JSON.parse(response.body)).toEqual({ error: `the body is over the limit of ${1 << 20} bytes (--max-body-bytes)`, code: 'ERR_BODY_TOO_LARGE' });
    const declared = await request(running.socket, 'POST', '/embed', Buffer.alloc(2 << 20, 0x20));
    expect(declared.status).toBe(413);
    expect(declared.json().error).toMatch(/the body has 2097152 bytes, over the limit/);
    await expectStillServing();
  });

  it('429 when the queue is full', async () => {
    const big = request(running.socket, 'POST', '/encode', JSON.stringify({ texts: sentences.slice(0, 2400) }));
    // Wait until the big request is queued, then one more that does not fit.
    while (running.encoder.status().outstandingSentences === 0) await new Promise((resolve) => setTimeout(resolve, 2));
    const refused = await request(running.socket, 'POST', '/encode', JSON.stringify({ texts: sentences.slice(0, 1000) }));
    expect(refused.status).toBe(429);
    expect(refused.json()).toMatchObject({ code: 'ERR_OVERLOADED' });
    expect((await big).status).toBe(200);
    await expectStillServing();
  });

  it('503 while the model loads', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'be-'));
    const loading = new EmbeddingServer({ maxBodyBytes: 1 << 20, maxInputs: 10, modelName: 'x' });
    try {
      await loading.listenOnSocket(path.join(dir, 's.sock'));
      const encode = await request(path.join(dir, 's.sock'), 'POST', '/encode', '{"texts":["a"]}');
      expect(encode.status).toBe(503);
      expect(encode.json()).toEqual({ error: 'the model is still loading; retry shortly', code: 'ERR_LOADING' });
      expect((await request(path.join(dir, 's.sock'), 'GET', '/health')).status).toBe(503);
      expect((await request(path.join(dir, 's.sock'), 'GET', '/status')).json()).toEqual({ state: 'loading' });
    } finally {
      await loading.shutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('misbehaving clients', () => {
  it('a slow client does not hold up the others', async () => {
    const slow = net.connect(running.socket);
    await new Promise((resolve) => slow.once('connect', resolve));
    const body = JSON.stringify({ texts: ['slowly sent'] });
    slow.write(`POST /encode HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`);
    // While it dawdles, others are answered.
    await expectStillServing();
    let answer = '';
    slow.on('data', (chunk) => (answer += chunk));
    for (const char of body.slice(5)) {
      slow.write(char);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(answer).toContain('"results":[[');
    slow.destroy();
  });

  it('a client that hangs up mid-request has its queued sentences dropped', async () => {
    const before = running.encoder.status().workers.reduce((sum, w) => sum + w.sentences, 0);
    const socket = net.connect(running.socket);
    await new Promise((resolve) => socket.once('connect', resolve));
    const body = JSON.stringify({ texts: sentences.slice(0, 2400) });
    socket.write(`POST /encode HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    while (running.encoder.status().outstandingSentences === 0) await new Promise((resolve) => setTimeout(resolve, 2));
    socket.destroy();
    while (running.encoder.status().outstandingSentences > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const encoded = running.encoder.status().workers.reduce((sum, w) => sum + w.sentences, 0) - before;
    expect(encoded).toBeLessThan(2400);
    await expectStillServing();
  });
});
