#!/usr/bin/env node
// The socket server under load: 32 concurrent clients × 50 requests of mixed sizes (1–40 STS-B
// sentences), over the UNIX socket with BertClient (binary) and with JSON, against the same calls
// made in process on the same encoder (the peer: what the socket costs). One run.
//
//   npm run build:ts && node bench/server-load.mjs [--clients 32] [--requests 50] [--workers 1]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BertClient, EmbeddingServer, Encoder } from '../dist/index.js';
import { randomWeightCheckpoint, readStsPairs } from '../scripts/example-fixtures.mjs';

const { values: args } = parseArgs({
  options: {
    clients: { type: 'string', default: '32' },
    requests: { type: 'string', default: '50' },
    workers: { type: 'string', default: '1' },
    model: { type: 'string' },
  },
});
const clients = Number(args.clients);
const requestsPerClient = Number(args.requests);
const modelDir = args.model ?? (await randomWeightCheckpoint());
const sentences = readStsPairs('test').flatMap((pair) => [pair.first, pair.second]);

let seed = 11;
const random = (n) => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed % n;
};
const plan = Array.from({ length: clients }, () =>
  Array.from({ length: requestsPerClient }, () => Array.from({ length: [1, 2, 5, 17, 40][random(5)] }, () => sentences[random(sentences.length)])),
);
const totalSentences = plan.flat().reduce((sum, texts) => sum + texts.length, 0);

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function drive(name, encodeOne) {
  const latencies = [];
  const started = performance.now();
  await Promise.all(
    plan.map(async (requests, client) => {
      for (const texts of requests) {
        const sent = performance.now();
        await encodeOne(client, texts);
        latencies.push(performance.now() - sent);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { name, seconds, requestsPerSecond: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'be-bench-'));
const socket = path.join(dir, 'bert.sock');
const encoder = await Encoder.load(modelDir, { maxSeqLen: 64, workers: Number(args.workers) });
const server = new EmbeddingServer({ maxBodyBytes: 16 << 20, maxInputs: 4096, modelName: 'bench', showTokensToClient: true });
await server.listenOnSocket(socket);
server.setEncoder(encoder);
await encoder.encode(sentences.slice(0, 64)); // warm-up

const binaryClients = plan.map(() => new BertClient({ socket }, { maxSockets: 1 }));
const jsonClients = plan.map(() => new BertClient({ socket }, { maxSockets: 1 }));
const results = [
  await drive('in process (Encoder.encode)', (_, texts) => encoder.encode(texts)),
  await drive('UNIX socket, BertClient (binary float32)', (client, texts) => binaryClients[client].encode(texts)),
  await drive('UNIX socket, JSON (/encode with show_tokens)', (client, texts) => jsonClients[client].encode(texts, { showTokens: true })),
];
for (const client of [...binaryClients, ...jsonClients]) client.close();
await server.shutdown();
fs.rmSync(dir, { recursive: true, force: true });

const peer = results[0];
console.log(
  `${clients} clients × ${requestsPerClient} requests (${plan.flat().length} requests, ${totalSentences} sentences, 1–40 per request), ` +
    `all-MiniLM-L6-v2 shape, maxSeqLen 64, ${args.workers} worker(s), ${os.availableParallelism()} cores, ${new Date().toISOString().slice(0, 10)}\n`,
);
console.log('| transport | requests/s | sentences/s | p50 latency | p99 latency | throughput vs in process |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const r of results) {
  console.log(
    `| ${r.name} | ${r.requestsPerSecond.toFixed(1)} | ${(totalSentences / r.seconds).toFixed(1)} | ${r.p50.toFixed(0)} ms | ${r.p99.toFixed(0)} ms | ${(peer.seconds / r.seconds).toFixed(2)}× |`,
  );
}
