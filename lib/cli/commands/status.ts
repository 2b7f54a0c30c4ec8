/** `bert-embed status`: a running server's status, like bert-as-service's server_status. */
import { Command, Option } from 'commander';
import { BertClient } from '../../client/bert-client.js';
import { parseInteger } from '../encoder-flags.js';
import { UsageError } from '../usage-error.js';

export function statusCommand(): Command {
  return new Command('status')
    .description("print a running server's status as JSON")
    .option('--socket <path>', "the server's UNIX socket")
    .option('--port <n>', "the server's TCP port", parseInteger)
    .option('--host <host>', "the server's TCP host", '127.0.0.1')
    .addOption(new Option('--api-key <key>', "the server's --api-key (prefer the environment variable: flags show in ps)").env('BERT_EMBED_API_KEY'))
    .addHelpText('after', '\nExample:\n  bert-embed status --socket /tmp/bert.sock')
    .action(async (flags: { socket?: string; port?: number; host: string; apiKey?: string }) => {
      if (!flags.socket && flags.port === undefined) throw new UsageError('say which server: --socket PATH or --port N');
      const target = flags.socket ? { socket: flags.socket } : { host: flags.host, port: flags.port! };
      let client: BertClient;
      try {
        client = new BertClient(target, flags.apiKey === undefined ? {} : { apiKey: flags.apiKey });
      } catch {
        // The client's message would show the key.
        throw new UsageError('Expected a non-empty string of visible ASCII characters without spaces for --api-key (the value is not shown)');
      }
      try {
        process.stdout.write(`${JSON.stringify(await client.status(), null, 2)}\n`);
      } finally {
        client.close();
      }
    });
}
