// The real `bert-embed serve` process: socket permissions, a stale socket replaced, a live one
// refused, an over-long path, and a graceful shutdown on SIGTERM that finishes the request in flight.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointDir } from '../helpers/checkpoints.js';
import { stsSentences } from '../helpers/sts.js';
import { BIN, runCli } from '../cli/run-cli.js';
import { request } from './harness.js';

const MODEL = checkpointDir('tiny');
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'be-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Served {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts `bert-embed serve` and waits until it says it is ready. */
async function serve(socket: string, extra: string[] = []): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', '-m', MODEL, '--socket', socket, ...extra]);
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (!stderr.includes('ready:') && child.exitCode === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return { child, stderr: () => stderr, exited };
}

describe('bert-embed serve', () => {
  it('creates the socket 0600, or with --socket-mode', async () => {
    for (const [mode, expected] of [[[], 0o600], [['--socket-mode', '660'], 0o660]] as const) {
      const socket = path.join(dir, `mode-${expected.toString(8)}.sock`);
      const served = await serve(socket, [...mode]);
      expect(fs.statSync(socket).mode & 0o777).toBe(expected);
      served.child.kill('SIGTERM');
      expect(await served.exited).toBe(0);
    }
  });

  it('replaces a stale socket and refuses a live one', async () => {
    const socket = path.join(dir, 'shared.sock');
    // A stale socket file: the process that bound it is gone (Node would unlink it on close).
    execFileSync('/usr/bin/python3', ['-c', 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen()', socket]);
    expect(fs.lstatSync(socket).isSocket()).toBe(true);
    await expect(new Promise((resolve, reject) => net.connect(socket).once('connect', resolve).once('error', reject))).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    const served = await serve(socket);
    expect(served.stderr()).toContain('ready:');
    expect((await request(socket, 'GET', '/health')).status).toBe(200);

    const refused = await runCli(['serve', '-m', MODEL, '--socket', socket]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`bert-embed: ${socket} is already served by a live server; stop it or choose another path\n`);
    expect((await request(socket, 'GET', '/health')).status).toBe(200);
    served.child.kill('SIGINT');
    expect(await served.exited).toBe(0);
    expect(fs.existsSync(socket)).toBe(false);
  });

  it('says so when the socket path is too long for the OS', async () => {
    const socket = path.join(dir, `${'x'.repeat(120)}.sock`);
    const result = await runCli(['serve', '-m', MODEL, '--socket', socket]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^bert-embed: the socket path .* is \d+ bytes, longer than the 107 a UNIX socket path may have; choose a shorter path\n$/);
  });

  it('on SIGTERM stops accepting, finishes the request in flight, removes the socket and exits 0', async () => {
    const socket = path.join(dir, 'graceful.sock');
    const served = await serve(socket);
    const texts = stsSentences('train').slice(0, 2000);
    const inFlight = request(socket, 'POST', '/encode', JSON.stringify({ id: 1, texts }));
    // Signal only once the server has the request queued.
    while ((await request(socket, 'GET', '/status')).json().outstandingSentences === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    served.child.kill('SIGTERM');
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(response.json().results).toHaveLength(2000);
    expect(await served.exited).toBe(0);
    expect(fs.existsSync(socket)).toBe(false);
    expect(served.stderr()).toContain('SIGTERM: finishing requests in flight');
  });

  it('a SIGTERM while the model still loads waits for the load, then exits 0 (no crash, no hang)', async () => {
    // Exiting under a native load raced the static destructors: 4 of 30 such stops died of SIGSEGV.
    for (let round = 0; round < 12; round++) {
      const socket = path.join(dir, `early-${round}.sock`);
      const child = spawn(process.execPath, [BIN, 'serve', '-m', checkpointDir('mlm-tiny'), '--socket', socket]);
      let stderr = '';
      child.stderr!.on('data', (chunk) => {
        stderr += chunk;
        if (stderr.includes('listening on') && child.signalCode === null && !child.killed) child.kill('SIGTERM');
      });
      const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
      expect({ round, code, signal }).toEqual({ round, code: 0, signal: null });
      expect(stderr).toContain('SIGTERM: finishing requests in flight');
      expect(stderr).toContain('stopped');
      expect(fs.existsSync(socket)).toBe(false);
    }
  }, 120_000);

  it('status prints the running server\'s status', async () => {
    const socket = path.join(dir, 'status.sock');
    const served = await serve(socket);
    const result = await runCli(['status', '--socket', socket]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout.toString())).toMatchObject({ state: 'ready', devices: ['cpu'], closed: false });
    served.child.kill('SIGTERM');
    await served.exited;
    const usage = await runCli(['serve', '-m', MODEL]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toBe('bert-embed: say where to listen: --socket PATH and/or --port N\n');
  });
});
