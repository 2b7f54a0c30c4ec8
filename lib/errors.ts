/**
 * The package's error contract: every error it raises on purpose carries one of the codes below.
 * BertEmbedError is the class for failures that are not argument mistakes (a model file that cannot
 * be loaded, a native failure, a closed encoder); argument mistakes are plain TypeError /
 * RangeError. `code` is stable; the message is for people.
 *
 * ERROR_CODES is the one list: README's "Errors" table gives the same codes, meanings and HTTP
 * statuses (test/engine/error-contract.test.ts holds them together, and checks that no code is used
 * in lib/ or native/ without being listed here). `status` is the HTTP status the server answers
 * with; null for errors that never travel as an HTTP answer (a model that cannot load stops the
 * server before it listens; the CLI exits 1 on them).
 */
export const ERROR_CODES = {
  // Model files (config.json, the tokenizer files, the weights): raised at load, exit 1 in the CLI.
  ERR_MODEL_NOT_FOUND: { status: null, meaning: 'the model path, its weights or its config.json is missing' },
  ERR_MODEL_CONFIG: {
    status: null,
    meaning: 'config.json, a tokenizer file (vocab.txt, tokenizer.json, tokenizer_config.json) or a sentence-transformers file is invalid, unsupported, or disagrees with the others',
  },
  ERR_MODEL_FORMAT: { status: null, meaning: 'the weights file is malformed: a safetensors header, the index of a TensorFlow checkpoint or a data shard whose CRC-32C fails (the message names the tensor and the file), tensor shapes that disagree with the config, a model.pt that is not a TorchScript archive' },
  ERR_MODEL_NON_FINITE: { status: null, meaning: 'a weight tensor holds NaN or infinite values (the message names the tensor)' },
  ERR_MODEL_LOAD: { status: null, meaning: 'a model file exists but cannot be read: a directory where a file belongs, a symbolic-link loop, no permission' },
  ERR_UNSAFE_FORMAT: { status: null, meaning: 'the weights are a Python pickle (pytorch_model.bin), which is refused: convert it to safetensors' },
  // The platform.
  ERR_ADDON_MISSING: { status: null, meaning: 'the native addon is not built for this platform, or cannot be loaded' },
  ERR_LIBTORCH_MISSING: { status: null, meaning: 'no libtorch was found (LIBTORCH_DIR, the torch python3 finds, the system\'s), or its libraries cannot be loaded' },
  ERR_LIBTORCH_MISMATCH: { status: null, meaning: 'the addons at hand are built for other libtorch versions than the one found (the message names both), or two libtorch installs would share one process' },
  ERR_CUDA_UNAVAILABLE: { status: null, meaning: 'a CUDA device was asked for but this libtorch or machine has none' },
  ERR_UNSUPPORTED: { status: null, meaning: 'the model or the CPU cannot do what was asked (int8 or export of a traced TorchScript model, no quantized engine, bfloat16 on a CPU without bf16 instructions)' },
  // Encoding, locally or over HTTP.
  ERR_VALIDATION: { status: 422, meaning: 'a request or argument is invalid (a TypeError or RangeError of the API); 400 on the TF Serving routes' },
  ERR_UNKNOWN_OPTION: { status: null, meaning: 'an option name the API does not know (a TypeError); the server answers it as ERR_VALIDATION (422)' },
  ERR_INVALID_ARG: { status: 500, meaning: 'the native layer was handed an argument it does not know (a device, dtype, pooling or head name the TypeScript layer should have refused)' },
  ERR_TOO_MANY_INPUTS: { status: 422, meaning: 'more inputs in one request than --max-inputs; 400 on the TF Serving routes' },
  ERR_INPUT_TOO_LONG: { status: 422, meaning: 'an input has more tokens than maxSeqLen and truncation was not asked for' },
  ERR_NO_MLM_HEAD: { status: 422, meaning: 'the call needs BertForMaskedLM\'s head (score, fill-mask, sparse vectors) and the model has none' },
  ERR_NO_CLASSIFIER_HEAD: {
    status: 422,
    meaning: "the call needs BertForSequenceClassification's head (rerank: a cross-encoder with one label; classify) and the model has none",
  },
  ERR_NO_TOKEN_CLASSIFIER_HEAD: { status: 422, meaning: "the call needs BertForTokenClassification's head (classify-tokens) and the model has none" },
  ERR_OVERLOADED: { status: 429, meaning: 'more sentences are waiting than maxQueuedSentences (--max-queued)' },
  ERR_CANCELLED: { status: 499, meaning: 'the call was aborted (an AbortSignal, or the HTTP client hung up)' },
  ERR_CLOSED: { status: null, meaning: 'the encoder is closed; the server answers it as ERR_SHUTTING_DOWN (503)' },
  ERR_OUT_OF_MEMORY: { status: 500, meaning: 'the device ran out of memory even for a batch of one sentence' },
  ERR_TORCH: { status: 500, meaning: 'libtorch failed; the message is libtorch\'s' },
  ERR_NATIVE: { status: 500, meaning: 'the native layer failed in another way' },
  ERR_NOT_LOADED: { status: 500, meaning: 'a native model was used before its load finished (a bug)' },
  ERR_NON_FINITE: { status: 500, meaning: "the model's output for an input holds NaN or an infinity (float16 overflow, or extreme weights): the call fails rather than answer an invalid number; the CLI names the input line" },
  // The server.
  ERR_MALFORMED_JSON: { status: 400, meaning: 'the request body is empty or not JSON' },
  ERR_INVALID_UTF8: { status: 400, meaning: 'the request body is not valid UTF-8' },
  ERR_UNAUTHORIZED: { status: 401, meaning: 'the server has an --api-key and the request has no Authorization: Bearer header with it (every endpoint but /health)' },
  ERR_CORS_ORIGIN: { status: 403, meaning: 'a browser request from an origin --cors does not allow' },
  ERR_TOKENS_NOT_ALLOWED: { status: 403, meaning: 'a request asked for show_tokens and the server was started without --show-tokens-to-client' },
  ERR_NOT_FOUND: { status: 404, meaning: 'no such endpoint, or another model name or version on the TF Serving routes' },
  ERR_METHOD: { status: 405, meaning: 'the endpoint takes another HTTP method' },
  ERR_REQUEST_TIMEOUT: { status: 408, meaning: 'the request body did not arrive within --request-timeout' },
  ERR_BODY_TOO_LARGE: { status: 413, meaning: 'the request body is over --max-body-bytes' },
  ERR_TOO_MANY_SENTENCES: { status: 413, meaning: 'one call or request holds more sentences (score: masked copies) than the whole queue (maxQueuedSentences, --max-queued) can: split it' },
  ERR_INTERNAL: { status: 500, meaning: 'an unexpected failure in the server' },
  ERR_TRANSFER_CODING: { status: 501, meaning: 'a Transfer-Encoding other than chunked' },
  ERR_LOADING: { status: 503, meaning: 'the model is still loading' },
  ERR_SHUTTING_DOWN: { status: 503, meaning: 'the server is shutting down' },
  ERR_SOCKET_PATH: { status: null, meaning: 'the --socket path is too long for the OS, or exists and is not a socket' },
  ERR_SOCKET_IN_USE: { status: null, meaning: 'a live server already holds the --socket path' },
  // The hub download.
  ERR_HUB: { status: null, meaning: 'the hub answered with an error, redirected too often, or a download stopped short' },
  ERR_HUB_NOT_FOUND: { status: null, meaning: 'the hub has no such repository, revision or BERT file' },
  ERR_HUB_UNREACHABLE: { status: null, meaning: 'the hub cannot be reached and the model is not in the cache' },
  ERR_CHECKSUM: { status: null, meaning: 'a downloaded file does not match the hub\'s checksum' },
  // The CLI and BertClient.
  ERR_INPUT: { status: null, meaning: 'an input file of the CLI is unreadable at a line (invalid UTF-8, bad JSON, a missing column); the message is file:line' },
  ERR_TIMEOUT: { status: null, meaning: 'BertClient: no answer from the server within timeoutMs' },
  ERR_CONNECTION: { status: null, meaning: 'BertClient: no server could be reached (with several endpoints, the message names each and why); the queue: Redis cannot be reached' },
  ERR_SERVER: { status: null, meaning: 'BertClient: the server answered an error without a JSON body' },
  // The BullMQ queue (bert-embed-native/queue, bert-embed queue).
  ERR_QUEUE_RUN: { status: null, meaning: 'the queue has no such run, or a run of that id with other inputs, options or model' },
  ERR_MODEL_MISMATCH: { status: null, meaning: "a queue worker's model files are not the run's (their sha256 differs): the shard fails for good, nothing is written" },
  ERR_IO: { status: null, meaning: "a queue worker cannot read a shard's input or write its output (the message is the OS's: a shared path not mounted on that machine, a full disk): retried with backoff" },
  ERR_RUN_INCOMPLETE: { status: null, meaning: 'queue collect: shards of the run are not done (the message names them, with each failure)' },
} as const satisfies Record<string, { status: number | null; meaning: string }>;

/** Every code the package raises: a closed union (ERROR_CODES above is its table). */
export type BertEmbedErrorCode = keyof typeof ERROR_CODES;

export function isBertEmbedErrorCode(code: unknown): code is BertEmbedErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, code);
}

export class BertEmbedError extends Error {
  readonly code: BertEmbedErrorCode;

  constructor(message: string, code: BertEmbedErrorCode, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BertEmbedError';
    this.code = code;
  }
}

/**
 * A code that arrived as data (a native rejection, a server's JSON answer) as one of the union's:
 * itself when known, else `fallback`.
 */
export function errorCodeOf(code: unknown, fallback: BertEmbedErrorCode): BertEmbedErrorCode {
  return isBertEmbedErrorCode(code) ? code : fallback;
}

/** Native promise rejections carry {message, code}; give them the package's error class. */
export function fromNativeError(error: unknown): Error {
  const code = (error as { code?: unknown } | null)?.code;
  if (error instanceof Error && typeof code === 'string') return new BertEmbedError(error.message, errorCodeOf(code, 'ERR_NATIVE'));
  return error instanceof Error ? error : new BertEmbedError(String(error), 'ERR_NATIVE');
}
