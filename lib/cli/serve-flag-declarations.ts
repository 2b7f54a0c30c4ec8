/**
 * `bert-embed serve`'s own flags (where to listen, limits, exposure), declared once like the Encoder
 * options in option-declarations.ts: the command's flags and README's serve table come from here.
 */
import type { FlagDeclaration } from '../option-declarations.js';

export interface ServeFlagDeclaration {
  /** the attribute commander gives it (and ServeFlags' field) */
  name: string;
  flag: FlagDeclaration;
  type: string;
  defaultText: string;
  help: string;
}

export const SERVE_FLAGS = [
  { name: 'socket', flag: { spec: '--socket <path>', value: { kind: 'text' } }, type: 'path', defaultText: 'none', help: 'UNIX socket to listen on' },
  {
    name: 'socketMode',
    flag: { spec: '--socket-mode <octal>', value: { kind: 'text' }, defaultValue: '600' },
    type: 'three octal digits',
    defaultText: '`600`',
    help: 'permissions of the socket file',
  },
  {
    name: 'port',
    flag: { spec: '--port <n>', value: { kind: 'integer' }, aliases: ['--http-port'] },
    type: 'integer from 0 to 65535',
    defaultText: 'none',
    help: 'also listen on TCP (host 127.0.0.1 unless --host); 0 picks a free port',
  },
  { name: 'host', flag: { spec: '--host <host>', value: { kind: 'text' }, defaultValue: '127.0.0.1' }, type: 'host name or address', defaultText: '`127.0.0.1`', help: 'TCP host' },
  {
    name: 'maxBodyBytes',
    flag: { spec: '--max-body-bytes <n>', value: { kind: 'integer' }, defaultValue: 16 * 1024 * 1024 },
    type: 'positive integer',
    defaultText: '16 MiB',
    help: 'largest request body (413 beyond)',
  },
  { name: 'maxInputs', flag: { spec: '--max-inputs <n>', value: { kind: 'integer' }, defaultValue: 4096 }, type: 'positive integer', defaultText: '4096', help: 'most texts in one request' },
  {
    name: 'requestTimeout',
    flag: { spec: '--request-timeout <seconds>', value: { kind: 'seconds' }, defaultValue: 60 },
    type: 'positive number of seconds',
    defaultText: '60',
    help: 'the longest a client may take to send its headers, then its body (408 after)',
  },
  {
    name: 'apiKey',
    flag: { spec: '--api-key <key>', value: { kind: 'text' }, env: 'BERT_EMBED_API_KEY' },
    type: 'visible ASCII without spaces',
    defaultText: 'none (`BERT_EMBED_API_KEY`)',
    help: 'require Authorization: Bearer <key> on every endpoint but /health and /dashboard\'s files (prefer the environment variable: flags show in ps)',
  },
  {
    name: 'allowUnauthenticated',
    flag: { spec: '--allow-unauthenticated', value: { kind: 'switch' } },
    type: 'switch',
    defaultText: 'off',
    help: 'allow --host beyond loopback without --api-key',
  },
  {
    name: 'cors',
    flag: { spec: '--cors <origin>', value: { kind: 'text' } },
    type: "'*' or comma-separated origins",
    defaultText: 'off',
    help: 'answer browsers from this origin cross-origin (CORS)',
  },
  {
    name: 'modelName',
    flag: { spec: '--model-name <name>', value: { kind: 'text' } },
    type: "name without '/' or ':'",
    defaultText: "the model directory's name",
    help: "the model's name in /v1/embeddings answers and TensorFlow Serving's /v1/models/<name>",
  },
  {
    name: 'showTokensToClient',
    flag: { spec: '--show-tokens-to-client', value: { kind: 'switch' } },
    type: 'switch',
    defaultText: 'off',
    help: "let /encode answer the tokens a client asks for with show_tokens (else 403 ERR_TOKENS_NOT_ALLOWED), as bert-as-service's -show_tokens_to_client",
  },
] as const satisfies readonly ServeFlagDeclaration[];
