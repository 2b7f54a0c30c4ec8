/**
 * Bytes to a file or stdout, waiting when the other end is slow (so memory stays bounded).
 *
 * A file is written to a temporary file beside it (`.NAME.PID.partial`) and renamed into place by
 * close(), so an interrupted or failed run never leaves an output that looks finished, and an
 * existing file keeps its old content until then. Outputs that cannot be renamed over (a device
 * such as /dev/null, a FIFO) are written as they are.
 */
import fs from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { registerPartialFile, throwIfStopped, unregisterPartialFile } from '../run-control.js';
import { UsageError } from '../usage-error.js';

export interface ByteSink {
  write(bytes: Uint8Array | string): Promise<void>;
  /** rewrites bytes at `position` (files only) */
  patch(bytes: Uint8Array, position: number): void;
  readonly seekable: boolean;
  /** finishes the output: flushes it and, for a file, renames it into place */
  close(): Promise<void>;
  /** gives up on the output: a file's temporary file is removed; safe to call more than once */
  discard(): Promise<void>;
}

/**
 * Runs `write` into `sink` and finishes the output only if all of it went well; otherwise the partial
 * output is discarded, so that an interrupted or failed run never leaves a file that looks finished.
 */
export async function writeAllOrNothing(sink: Pick<ByteSink, 'close' | 'discard'>, write: () => Promise<void>): Promise<void> {
  try {
    await write();
    await sink.close();
  } catch (error) {
    await sink.discard();
    throw error;
  }
}

/** An `-o` file that is one of the inputs would be overwritten before it is read: refused (exit 2). */
export function checkOutputIsNotInput(output: string | undefined, sources: string[]): void {
  if (output === undefined || output === '-' || !fs.existsSync(output)) return;
  const target = fs.statSync(output);
  for (const source of sources) {
    let input: fs.Stats;
    try {
      // stdin redirected from a file (`< in.txt`) is that file
      input = source === '-' ? fs.fstatSync(0) : fs.statSync(source);
    } catch {
      continue;
    }
    if (input.isFile() && input.dev === target.dev && input.ino === target.ino) {
      throw new UsageError(`the output ${output} is also an input (${source}): write the output to another file`);
    }
  }
}

interface FileTarget {
  /** where the bytes go first */
  writePath: string;
  /** where they are renamed to; undefined when written in place */
  finalPath: string | undefined;
  mode: number | undefined;
}

function fileTarget(output: string): FileTarget {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(output);
  } catch {
    stat = undefined;
  }
  if (stat?.isDirectory()) throw new Error(`cannot write ${output}: EISDIR`);
  if (stat && !stat.isFile()) return { writePath: output, finalPath: undefined, mode: undefined };
  if (stat) fs.accessSync(output, fs.constants.W_OK);
  // Through a symbolic link to its target, so that the link stays a link.
  const finalPath = stat ? fs.realpathSync(output) : path.resolve(output);
  const writePath = path.join(path.dirname(finalPath), `.${path.basename(finalPath)}.${process.pid}.partial`);
  return { writePath, finalPath, mode: stat ? stat.mode & 0o7777 : undefined };
}

export function openByteSink(output: string | undefined): ByteSink {
  const toStdout = output === undefined || output === '-';
  let target: FileTarget | undefined;
  let fd: number | undefined;
  if (!toStdout) {
    try {
      target = fileTarget(output);
      if (target.finalPath) fs.rmSync(target.writePath, { force: true }); // left by a killed run whose pid this one has
      fd = fs.openSync(target.writePath, target.finalPath ? 'wx' : 'w');
    } catch (error) {
      if ((error as Error).message.startsWith('cannot write')) throw error;
      throw new Error(`cannot write ${output}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    if (target.finalPath) registerPartialFile(target.writePath);
    if (target.mode !== undefined) fs.fchmodSync(fd, target.mode);
  }
  const stream = toStdout ? process.stdout : fs.createWriteStream('', { fd, autoClose: false });
  let failure: Error | undefined;
  let done = false;
  stream.on('error', (error: Error) => (failure = error));
  const closeFd = (): void => {
    if (fd === undefined) return;
    try {
      fs.closeSync(fd);
    } catch {
      // already closed
    }
    fd = undefined;
  };
  return {
    seekable: fd !== undefined,
    async write(bytes) {
      throwIfStopped();
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
      throwIfStopped();
      await new Promise<void>((resolve, reject) => (stream as fs.WriteStream).end((error?: Error | null) => (error ? reject(error) : resolve())));
      if (failure) throw failure;
      if (target!.finalPath) fs.fsyncSync(fd!);
      closeFd();
      throwIfStopped();
      if (target!.finalPath) {
        fs.renameSync(target!.writePath, target!.finalPath);
        unregisterPartialFile(target!.writePath);
      }
      done = true;
    },
    async discard() {
      if (toStdout || done) return;
      done = true;
      // destroy() waits for a write in progress; only then may the descriptor be closed.
      if (!stream.destroyed) {
        const closed = once(stream, 'close').catch(() => undefined);
        stream.destroy();
        await closed;
      }
      closeFd();
      if (target!.finalPath) {
        fs.rmSync(target!.writePath, { force: true });
        unregisterPartialFile(target!.writePath);
      }
    },
  };
}
