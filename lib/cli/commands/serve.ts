/** `bert-embed serve`: one model in memory, served over HTTP on a UNIX socket and/or TCP. */
import net from 'node:net';
import path from 'node:path';
import { Command } from 'commander';
import { Encoder } from '../../encoder.js';
import { EmbeddingServer } from '../../server/embedding-server.js';
import { endpointHelp } from '../../server/route-docs.js';
import { addDeclaredFlags, addEncoderFlags, addModelFlags, asFlagError, declaredValuesFrom, encoderOptionsFrom, resolveModelDir, type EncoderFlagValues } from '../encoder-flags.js';
import { SERVE_FLAGS } from '../serve-flag-declarations.js';
import { UsageError } from '../usage-error.js';

interface ServeFlags extends EncoderFlagValues {
  model: string;
  revision: string;
  quiet?: boolean;
  socket?: string;
  socketMode: string;
  port?: number;
  host: string;
  maxBodyBytes: number;
  maxInputs: number;
  modelName?: string;
  requestTimeout: number;
  apiKey?: string;
  allowUnauthenticated?: boolean;
  cors?: string;
  showTokensToClient?: boolean;
}

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** Whether a TCP host is this machine only: 127.0.0.0/8 (IPv4-mapped too), ::1, localhost. */
function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (bare.toLowerCase() === 'localhost') return true;
  const family = net.isIP(bare);
  return family !== 0 && LOOPBACK.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}

/** The server's option names → flags, for messages. */
const SERVER_FLAG_OF: Record<string, string> = { apiKey: '--api-key (or BERT_EMBED_API_KEY)', cors: '--cors', requestTimeoutMs: '--request-timeout' };

function log(message: string): void {
  process.stderr.write(`bert-embed serve: ${message}\n`);
}

export function serveCommand(): Command {
  const command = new Command('serve').description('serve the model over HTTP on a UNIX socket (and/or TCP) to other processes');
  addModelFlags(command);
  addEncoderFlags(command, { serve: true });
  addDeclaredFlags(command, SERVE_FLAGS);
  return command
    .addHelpText(
      'after',
      `
Endpoints, by the API they speak:
${endpointHelp()}
Accept: application/octet-stream on the encode endpoints returns raw float32 (shape in X-Embedding-Shape).

TCP on a host other than loopback (127.0.0.1, ::1, localhost) needs --api-key, or --allow-unauthenticated.

Examples:
  bert-embed serve -m ./all-MiniLM-L6-v2 --socket /tmp/bert.sock --workers 2
  curl --unix-socket /tmp/bert.sock -d '{"inputs":["hello"]}' -H 'content-type: application/json' http://localhost/embed
  bert-embed serve -m ./model --socket /run/bert.sock --socket-mode 660 --port 8080
  BERT_EMBED_API_KEY=$(cat /etc/bert-embed/key) bert-embed serve -m ./model --host 0.0.0.0 --port 8080 --cors https://app.example.com`,
    )
    .action(async (flags: EncoderFlagValues) => runServe({ ...(flags as unknown as ServeFlags), ...declaredValuesFrom(flags, SERVE_FLAGS) }));
}

async function runServe(flags: ServeFlags): Promise<void> {
  if (!flags.socket && flags.port === undefined) throw new UsageError('say where to listen: --socket PATH and/or --port N');
  if (!/^[0-7]{3}$/.test(flags.socketMode)) throw new UsageError(`Expected three octal digits for --socket-mode but received "${flags.socketMode}"`);
  if (flags.modelName !== undefined && !/^[^/:]+$/.test(flags.modelName)) {
    throw new UsageError(`Expected a name without '/' or ':' for --model-name but received ${JSON.stringify(flags.modelName)}`);
  }
  if (flags.port !== undefined && flags.apiKey === undefined && !flags.allowUnauthenticated && !isLoopbackHost(flags.host)) {
    throw new UsageError(
      `--host ${flags.host} would let any machine that reaches it use the server without a key; ` +
        'set --api-key (or BERT_EMBED_API_KEY), or pass --allow-unauthenticated if something in front of it checks who connects',
    );
  }
  const options = encoderOptionsFrom(flags);
  let server: EmbeddingServer;
  try {
    server = new EmbeddingServer({
      maxBodyBytes: flags.maxBodyBytes,
      maxInputs: flags.maxInputs,
      modelName: flags.modelName ?? path.basename(flags.model),
      requestTimeoutMs: Math.max(1, Math.round(flags.requestTimeout * 1000)),
      ...(flags.apiKey === undefined ? {} : { apiKey: flags.apiKey }),
      ...(flags.cors === undefined ? {} : { cors: flags.cors }),
      showTokensToClient: flags.showTokensToClient ?? false,
    });
  } catch (error) {
    if (!(error instanceof TypeError || error instanceof RangeError)) throw error;
    let message = error.message;
    for (const [option, flag] of Object.entries(SERVER_FLAG_OF)) message = message.replace(`for ${option} `, `for ${flag} `);
    throw new UsageError(message);
  }

  let stopping = false;
  let loading: Promise<Encoder> | undefined;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: finishing requests in flight`);
    void (async () => {
      await server.shutdown();
      // Exiting while a native thread still loads the model races the static destructors
      // (seen as SIGSEGV or a hang), so a signal during loading waits for it, then closes it.
      await (await loading?.catch(() => undefined))?.close();
      log('stopped');
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  // Listen first, so clients get 503 (not "connection refused") while the model loads.
  if (flags.socket) await server.listenOnSocket(flags.socket, Number.parseInt(flags.socketMode, 8));
  const port = flags.port === undefined ? undefined : await server.listenOnTcp(flags.port, flags.host);
  const where = [flags.socket && `unix:${flags.socket}`, port !== undefined && `http://${flags.host}:${port}`].filter(Boolean).join(' and ');
  log(`listening on ${where}${flags.apiKey === undefined ? '' : ' (API key required)'}; loading ${flags.model}`);
  let encoder: Encoder;
  try {
    loading = resolveModelDir(flags).then((dir) => Encoder.load(dir, options));
    encoder = await loading;
  } catch (error) {
    if (stopping) return await new Promise(() => undefined); // the signal handler exits
    await server.shutdown();
    throw asFlagError(error);
  }
  if (stopping) return await new Promise(() => undefined);
  server.setEncoder(encoder);
  log(`ready: ${encoder.options.workers} worker(s) on ${encoder.options.devices.join(', ')}, dimension ${encoder.dimension}`);
  await new Promise(() => undefined); // serve until a signal stops the process
}
