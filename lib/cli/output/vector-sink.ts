/** Where encoded vectors go: .npy, JSON lines or raw float32, to a file or stdout, a chunk at a time. */
import os from 'node:os';
import type { Embeddings } from '../../embeddings.js';
import { nestedFloat32Json } from '../../float32-json.js';
import type { SourceLine } from '../input/line-reader.js';
import { UsageError } from '../usage-error.js';
import { openByteSink, type ByteSink } from './byte-sink.js';
import { npyHeader } from './npy-header.js';

export const OUTPUT_FORMATS = ['npy', 'jsonl', 'f32'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface VectorSink {
  write(embeddings: Embeddings, places: SourceLine[]): Promise<void>;
  close(): Promise<void>;
  /** gives up: an output file is not written (its temporary file is removed) */
  discard(): Promise<void>;
}

/** `--format`, else the output file's extension, else JSON lines (stdout). */
export function outputFormatOf(output: string | undefined, format: OutputFormat | undefined): OutputFormat {
  if (format) return format;
  if (output === undefined || output === '-') return 'jsonl';
  const extension = output.slice(output.lastIndexOf('.') + 1).toLowerCase();
  if (extension === 'npy') return 'npy';
  if (extension === 'jsonl' || extension === 'ndjson') return 'jsonl';
  if (extension === 'f32' || extension === 'bin') return 'f32';
  throw new UsageError(`cannot tell the output format from "${output}": name it .npy, .jsonl or .f32, or pass --format npy|jsonl|f32`);
}

function rawBytes(data: Float32Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

class JsonLinesSink implements VectorSink {
  constructor(
    private readonly bytes: ByteSink,
    private readonly withSource: boolean,
  ) {}

  async write(embeddings: Embeddings, places: SourceLine[]): Promise<void> {
    const rows = embeddings.rows();
    const rowShape = embeddings.shape.slice(1);
    let text = '';
    rows.forEach((row, i) => {
      const place = places[i];
      const source = this.withSource ? `"source":${JSON.stringify(place.source)},` : '';
      const tokens = embeddings.tokens ? `,"tokens":${JSON.stringify(embeddings.tokens[i])}` : '';
      text += `{${source}"line":${place.line},"embedding":${nestedFloat32Json(row, rowShape)}${tokens}}\n`;
    });
    await this.bytes.write(text);
  }

  close(): Promise<void> {
    return this.bytes.close();
  }

  discard(): Promise<void> {
    return this.bytes.discard();
  }
}

class RawFloatSink implements VectorSink {
  constructor(private readonly bytes: ByteSink) {}

  write(embeddings: Embeddings): Promise<void> {
    return this.bytes.write(rawBytes(embeddings.data));
  }

  close(): Promise<void> {
    return this.bytes.close();
  }

  discard(): Promise<void> {
    return this.bytes.discard();
  }
}

/**
 * .npy needs the row count in its header. A file gets a placeholder header that is rewritten at
 * the end; stdout cannot be rewound, so there the rows are held until the end.
 */
class NpySink implements VectorSink {
  #rows = 0;
  readonly #held: Uint8Array[] = [];

  constructor(
    private readonly bytes: ByteSink,
    private readonly rowShape: number[],
  ) {}

  static async open(bytes: ByteSink, rowShape: number[]): Promise<NpySink> {
    if (bytes.seekable) await bytes.write(npyHeader([0, ...rowShape]));
    return new NpySink(bytes, rowShape);
  }

  async write(embeddings: Embeddings): Promise<void> {
    this.#rows += embeddings.shape[0];
    if (this.bytes.seekable) await this.bytes.write(rawBytes(embeddings.data));
    else this.#held.push(rawBytes(embeddings.data));
  }

  async close(): Promise<void> {
    const header = npyHeader([this.#rows, ...this.rowShape]);
    if (this.bytes.seekable) {
      this.bytes.patch(header, 0);
    } else {
      await this.bytes.write(header);
      for (const chunk of this.#held) await this.bytes.write(chunk);
    }
    await this.bytes.close();
  }

  discard(): Promise<void> {
    this.#held.length = 0;
    return this.bytes.discard();
  }
}

export async function openVectorSink(
  output: string | undefined,
  format: OutputFormat,
  rowShape: number[],
  options: { withSource: boolean },
): Promise<VectorSink> {
  if (os.endianness() !== 'LE') throw new Error('binary output is written little-endian and this machine is big-endian');
  const bytes = openByteSink(output);
  if (format === 'npy') return NpySink.open(bytes, rowShape);
  if (format === 'f32') return new RawFloatSink(bytes);
  return new JsonLinesSink(bytes, options.withSource);
}
