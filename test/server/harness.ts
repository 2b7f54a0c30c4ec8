// An in-process server over a real UNIX socket and TCP port, and raw HTTP helpers for the tests.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Encoder, EmbeddingServer, type EncoderOptions } from '../../lib/index.js';
import { checkpointDir } from '../helpers/checkpoints.js';

export interface RunningServer {
  server: EmbeddingServer;
  encoder: Encoder;
  socket: string;
  port: number;
  dir: string;
  stop(): Promise<void>;
}

export async function startServer(encoderOptions: EncoderOptions = {}, serverOptions: { maxBodyBytes?: number; maxInputs?: number; showTokensToClient?: boolean } = {}): Promise<RunningServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'be-'));
  const socket = path.join(dir, 'bert.sock');
  const server = new EmbeddingServer({ maxBodyBytes: serverOptions.maxBodyBytes ?? 1 << 20, maxInputs: serverOptions.maxInputs ?? 64, modelName: 'tiny', showTokensToClient: serverOptions.showTokensToClient });
  await server.listenOnSocket(socket);
  const port = await server.listenOnTcp(0);
  const encoder = await Encoder.load(checkpointDir('tiny'), { maxSeqLen: 32, ...encoderOptions });
  server.setEncoder(encoder);
  return {
    server,
    encoder,
    socket,
    port,
    dir,
    async stop() {
      await server.shutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  json(): any;
}

/** One request over the UNIX socket, with a fresh connection. */
export function request(socket: string, method: string, urlPath: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const outgoing = http.request({ socketPath: socket, method, path: urlPath, agent: false, headers: { 'content-type': 'application/json', ...headers } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const bytes = Buffer.concat(chunks);
        resolve({ status: response.statusCode!, headers: response.headers, body: bytes, json: () => JSON.parse(bytes.toString('utf8')) });
      });
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}
