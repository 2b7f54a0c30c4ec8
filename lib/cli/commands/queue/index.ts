/** `bert-embed queue`: a corpus spread over machines on BullMQ (Redis). */
import { Command } from 'commander';
import { queueAddCommand } from './add.js';
import { queueCollectCommand } from './collect.js';
import { queueRemoveCommand, queueRetryCommand } from './manage.js';
import { queueStatusCommand } from './status.js';
import { queueWorkCommand } from './work.js';

export function queueCommand(): Command {
  const command = new Command('queue').description('spread a corpus over many machines with BullMQ on Redis: add a run, work on it anywhere, watch it, collect it');
  for (const verb of [queueAddCommand(), queueWorkCommand(), queueStatusCommand(), queueCollectCommand(), queueRetryCommand(), queueRemoveCommand()]) command.addCommand(verb);
  return command.addHelpText(
    'after',
    `
Example (one Redis, any number of machines that mount /mnt/shared):
  bert-embed queue add --redis redis://10.0.0.5:6379 --run wiki --out /mnt/shared/out -m ./all-MiniLM-L6-v2 /mnt/shared/wiki.txt
  bert-embed queue work --redis redis://10.0.0.5:6379 -m ./all-MiniLM-L6-v2 --exit-when-drained   # on each machine
  bert-embed queue status --redis redis://10.0.0.5:6379 --run wiki --watch
  bert-embed queue collect --redis redis://10.0.0.5:6379 --run wiki -o wiki.npy`,
  );
}
