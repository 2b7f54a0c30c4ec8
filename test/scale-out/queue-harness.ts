// What the BullMQ tests share: `bert-embed queue` runs as real processes, the shard jobs as BullMQ
// itself reports them.
import { spawn, type ChildProcess } from 'node:child_process';
import { Queue } from 'bullmq';
import { BIN, runCli, type CliResult } from '../cli/run-cli.js';

export interface QueueProcess {
  child: ChildProcess;
  stderr(): string;
  exited: Promise<number | null>;
  /** resolves once stderr holds `pattern` (rejects after `timeoutMs`, or when the process exits first) */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

export function spawnQueue(args: string[]): QueueProcess {
  const child = spawn(process.execPath, [BIN, 'queue', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  return {
    child,
    stderr: () => stderr,
    exited,
    async waitFor(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(stderr)) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`bert-embed queue ${args[0]} exited before ${pattern}: ${stderr}`);
        if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}

export function queueCli(args: string[]): Promise<CliResult> {
  return runCli(['queue', ...args]);
}

export async function statusOf(redis: string, queue: string, run: string): Promise<any> {
  const result = await queueCli(['status', '--redis', redis, '--queue', queue, '--run', run, '--json']);
  if (result.code !== 0) throw new Error(`queue status exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout.toString('utf8'));
}

/** BullMQ's own view of a queue, for what `queue status` does not say (which job, how many attempts). */
export async function withBullQueue<T>(redis: string, name: string, use: (queue: Queue) => Promise<T>): Promise<T> {
  const queue = new Queue(name, { connection: { url: redis } });
  try {
    return await use(queue);
  } finally {
    await queue.close();
  }
}

export async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
