/** `bert-embed status`: a running server's status, like bert-as-service's server_status. */
import { Command } from 'commander';
import { BertClient } from '../../client/bert-client.js';
import { parseInteger } from '../encoder-flags.js';
import { UsageError } from '../usage-error.js';

export function statusCommand(): Command {
  return new Command('status')
    .description("print a running server's status as JSON")
    .option('--socket <path>', "the server's UNIX socket")
    .option('--port <n>', "the server's TCP port", parseInteger)
    .option('--host <host>', "the server's TCP host", '127.0.0.1')
    .addHelpText('after', '\nExample:\n  bert-embed status --socket /tmp/bert.sock')
    .action(async (flags: { socket?: string; port?: number; host: string }) => {
      if (!flags.socket && flags.port === undefined) throw new UsageError('say which server: --socket PATH or --port N');
      const client = new BertClient(flags.socket ? { socket: flags.socket } : { host: flags.host, port: flags.port! });
      try {
        process.stdout.write(`${JSON.stringify(await client.status(), null, 2)}\n`);
      } finally {
        client.close();
      }
    });
}
