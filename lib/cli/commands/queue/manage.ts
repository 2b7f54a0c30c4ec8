/** `bert-embed queue retry` and `queue remove`. */
import { Command } from 'commander';
import { removeRun, retryRun } from '../../../queue/manage-run.js';
import { addQueueFlags, addRunFlag, asQueueFlagError, targetOf, type QueueFlags } from './queue-flags.js';

type RunFlags = QueueFlags & { run: string };

function runVerb(name: string, description: string, act: (flags: RunFlags) => Promise<unknown>): Command {
  const command = new Command(name).description(description);
  addQueueFlags(command);
  addRunFlag(command);
  return command.action(async (flags: RunFlags) => {
    const result = await act(flags).catch((error: unknown) => {
      throw asQueueFlagError(error);
    });
    process.stdout.write(`${JSON.stringify(result)}\n`);
  });
}

export function queueRetryCommand(): Command {
  return runVerb('retry', "send a run's failed shards back to the queue, their attempts anew", async (flags) => ({ run: flags.run, retried: await retryRun(targetOf(flags), flags.run) }));
}

export function queueRemoveCommand(): Command {
  return runVerb('remove', "remove a run's jobs and its record (the shards written under --out stay)", async (flags) => ({ run: flags.run, ...(await removeRun(targetOf(flags), flags.run)) }));
}
