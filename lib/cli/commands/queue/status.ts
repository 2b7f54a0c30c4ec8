/** `bert-embed queue status`: where a run stands (--json for scripts, --watch for a progress bar). */
import { Command } from 'commander';
import { runStatus, type RunStatus } from '../../../queue/run-status.js';
import { parseInteger } from '../../encoder-flags.js';
import { createProgress } from '../../progress.js';
import { addQueueFlags, addRunFlag, asQueueFlagError, targetOf, type QueueFlags } from './queue-flags.js';

type StatusFlags = QueueFlags & { run: string; json?: boolean; watch?: boolean; interval: number };

export function queueStatusCommand(): Command {
  const command = new Command('status').description("a run's shards: done, failed (with why), active, waiting, delayed (waiting for a retry)");
  addQueueFlags(command);
  addRunFlag(command);
  return command
    .option('--json', 'one JSON object: {run, shards: {total, done, failed, active, waiting, delayed}, rows: {total, done}, failures: [{shard, code, message}]}')
    .option('--watch', 'on a terminal: a progress bar of rows done until every shard is done or failed')
    .option('--interval <ms>', 'how often --watch asks', parseInteger, 1000)
    .action(async (flags: StatusFlags) => runStatusCommand(flags));
}

function text(status: RunStatus): string {
  const { shards, rows } = status;
  const lines = [
    `run ${status.run} (${status.task}) → ${status.out}/${status.run}`,
    `shards: ${shards.done}/${shards.total} done, ${shards.failed} failed, ${shards.active} active, ${shards.waiting} waiting, ${shards.delayed} delayed`,
    `rows: ${rows.done}/${rows.total} done`,
    ...status.failures.map((failure) => `failed: shard ${failure.shard}: ${failure.code}: ${failure.message}`),
  ];
  return `${lines.join('\n')}\n`;
}

async function runStatusCommand(flags: StatusFlags): Promise<void> {
  const target = targetOf(flags);
  const read = () =>
    runStatus(target, flags.run).catch((error: unknown) => {
      throw asQueueFlagError(error);
    });
  let status = await read();
  if (flags.watch) {
    const progress = createProgress('rows', status.rows.total, false);
    let shown = 0;
    for (;;) {
      progress.advance(status.rows.done - shown);
      shown = status.rows.done;
      if (status.shards.done + status.shards.failed === status.shards.total) break;
      await new Promise((resolve) => setTimeout(resolve, flags.interval));
      status = await read();
    }
    progress.finish();
  }
  process.stdout.write(flags.json ? `${JSON.stringify(status)}\n` : text(status));
}
