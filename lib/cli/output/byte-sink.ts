/** Bytes to a file or stdout, waiting when the other end is slow (so memory stays bounded). */
import fs from 'node:fs';
import { once } from 'node:events';

export interface ByteSink {
  write(bytes: Uint8Array | string): Promise<void>;
  /** rewrites bytes at `position` (files only) */
  patch(bytes: Uint8Array, position: number): void;
  readonly seekable: boolean;
  close(): Promise<void>;
}

export function openByteSink(path: string | undefined): ByteSink {
  const toStdout = path === undefined || path === '-';
  const fd = toStdout ? undefined : fs.openSync(path, 'w');
  const stream = toStdout ? process.stdout : fs.createWriteStream('', { fd, autoClose: false });
  let failure: Error | undefined;
  stream.on('error', (error: Error) => (failure = error));
  return {
    seekable: fd !== undefined,
    async write(bytes) {
      if (failure) throw failure;
      if (!stream.write(bytes)) await once(stream, 'drain'); // rejects if 'error' comes first
      if (failure) throw failure;
    },
    patch(bytes, position) {
      fs.writeSync(fd!, bytes, 0, bytes.length, position);
    },
    async close() {
      if (toStdout) {
        await new Promise<void>((resolve) => (stream.write('') ? resolve() : stream.once('drain', () => resolve())));
        return;
      }
      await new Promise<void>((resolve, reject) => (stream as fs.WriteStream).end((error?: Error | null) => (error ? reject(error) : resolve())));
      fs.closeSync(fd!);
      if (failure) throw failure;
    },
  };
}
