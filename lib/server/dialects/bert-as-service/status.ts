/**
 * GET /status/server and GET /status/client, as bert-as-service's HTTP server (BertHTTPProxy)
 * answers them: the server_status dict of its BertServer, and the status dict of the BertClient the
 * proxy talks through. Keys with a meaning here are filled from this server's real state; keys of
 * TensorFlow, ZeroMQ and the ventilator's sockets are left out rather than invented.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Encoder } from '../../../encoder.js';
import { BertAsServiceStatistic } from './statistic.js';

/** Where the server listens (TCP: the first address; null when it has none). */
export interface ListeningOn {
  host: string | null;
  port: number | null;
  socket: string | null;
}

/** The server's own settings that bert-as-service's status reports. */
export interface BertAsServiceSettings {
  showTokensToClient: boolean;
  cors?: string;
  modelName: string;
}

const PACKAGE_JSON = path.resolve(__dirname, '..', '..', '..', '..', 'package.json');

function packageVersion(): string {
  try {
    const { version } = JSON.parse(fs.readFileSync(PACKAGE_JSON, 'utf8')) as { version?: unknown };
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Python's str(datetime.now()), the form bert-as-service's times take: '2026-12-01 21:15:06.123000'. */
function pythonDateTime(date: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  const day = `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}`;
  const time = `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds() * 1000).padStart(6, '0')}`;
  return `${day} ${time}`;
}

export class BertAsServiceStatus {
  readonly statistic = new BertAsServiceStatistic();
  readonly #settings: BertAsServiceSettings;
  readonly #startedAt = new Date();
  readonly #version = packageVersion();
  /** bert-as-service's proxy reports its own client's identity; this server's stands in for it */
  readonly #identity = crypto.randomUUID();

  constructor(settings: BertAsServiceSettings) {
    this.#settings = settings;
  }

  /** bert-as-service's server_status: its arguments, versions, times and statistic. */
  serverStatus(encoder: Encoder, listening: ListeningOn): Record<string, unknown> {
    this.statistic.recordSystemRequest();
    const options = encoder.options;
    return {
      // bert-as-service's arguments
      model_dir: encoder.modelDir,
      // the TensorFlow checkpoint's files (null for other formats, as these flags do not apply to them)
      ...checkpointFiles(encoder),
      max_seq_len: options.maxSeqLen,
      do_lower_case: !options.casedTokenization && encoder.tokenizer.config.doLowerCase,
      pooling_layer: [...options.layers],
      pooling_strategy: options.pooling,
      mask_cls_sep: options.maskClsSep,
      no_special_token: !options.specialTokens,
      show_tokens_to_client: this.#settings.showTokensToClient,
      http_port: listening.port,
      cors: this.#settings.cors ?? null,
      num_worker: options.workers,
      max_batch_size: options.maxBatchSize,
      priority_batch_size: options.priorityBatchSize,
      cpu: options.devices.every((device) => device === 'cpu'),
      fp16: options.dtype === 'float16',
      gpu_memory_fraction: options.gpuMemoryFraction,
      device_map: [...options.devices],
      fixed_embed_length: options.fixedEmbedLength,
      // this server's own, without a bert-as-service counterpart
      model_name: this.#settings.modelName,
      dtype: options.dtype,
      normalize: options.normalize,
      max_batch_tokens: options.maxBatchTokens,
      socket: listening.socket,
      libtorch_version: encoder.status().torchVersion,
      // bert-as-service's static and runtime keys
      server_version: this.#version,
      server_start_time: pythonDateTime(this.#startedAt),
      server_current_time: pythonDateTime(new Date()),
      statistic: this.statistic.value(),
    };
  }

  /** The status dict of bert-as-service's BertClient, for the proxy's side of this server. */
  clientStatus(listening: ListeningOn): Record<string, unknown> {
    this.statistic.recordSystemRequest();
    const pending = this.statistic.pendingRequests;
    return {
      identity: this.#identity,
      num_request: this.statistic.totalRequests,
      num_pending_request: pending.length,
      pending_request: pending,
      // JSON lists, unless a client asks for raw float32 with Accept: application/octet-stream
      output_fmt: 'list',
      // one port carries both ways here
      port: listening.port,
      port_out: listening.port,
      server_ip: listening.host,
      socket: listening.socket,
      client_version: this.#version,
      // no limit on how long an encode request may take
      timeout: -1,
    };
  }
}

/** bert-as-service's tuned_model_dir, ckpt_name and config_name of a TensorFlow checkpoint the encoder loaded. */
function checkpointFiles(encoder: Encoder): { tuned_model_dir: string | null; ckpt_name: string | null; config_name: string | null } {
  const { format, weights, config } = encoder.modelFiles;
  if (format !== 'tf-checkpoint') return { tuned_model_dir: null, ckpt_name: null, config_name: null };
  const weightsDir = path.dirname(weights);
  return { tuned_model_dir: weightsDir === encoder.modelDir ? null : weightsDir, ckpt_name: path.basename(weights), config_name: path.basename(config) };
}
