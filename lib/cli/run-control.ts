/**
 * How a CLI run ends early, without ever looking finished and without tearing the process down
 * under the model's native threads (process.exit while a worker is inside libtorch can crash with
 * SIGSEGV):
 *
 * - SIGINT / SIGTERM (commands that call stopOnSignals): exit 130 / 143;
 * - the reader of stdout went away (`bert-embed encode … | head`, EPIPE): exit 0, quietly.
 *
 * Either aborts `runSignal`. The commands then stop reading input, cancel the encoder's queued
 * work, wait for the batches already running, close the encoder and remove their unfinished
 * output file; main() returns the stop's exit code. A second signal ends the process at once
 * (partial files removed first).
 *
 * Output files are written to a temporary file beside the target and renamed into place only when
 * complete; every such file is registered here so that any exit removes it.
 */
import fs from 'node:fs';

export class RunStopped extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
    /** print the message on stderr (not for a closed stdout: `| head` is not a failure) */
    readonly report: boolean,
  ) {
    super(message);
    this.name = 'RunStopped';
  }
}

const controller = new AbortController();

/** Aborted (with a RunStopped as its reason) once the run is to stop early. */
export const runSignal: AbortSignal = controller.signal;

/** Asks the run to stop; the first request wins. */
export function stopRun(exitCode: number, message: string, report = true): void {
  if (!controller.signal.aborted) controller.abort(new RunStopped(exitCode, message, report));
}

/** The stop asked for, if any. */
export function runStopped(): RunStopped | undefined {
  return controller.signal.aborted ? (controller.signal.reason as RunStopped) : undefined;
}

export function throwIfStopped(): void {
  if (controller.signal.aborted) throw controller.signal.reason;
}

const partialFiles = new Set<string>();
let exitHookInstalled = false;

function removePartialFiles(): void {
  for (const file of partialFiles) fs.rmSync(file, { force: true });
  partialFiles.clear();
}

/** A temporary output file that any exit before its rename must remove. */
export function registerPartialFile(file: string): void {
  partialFiles.add(file);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', removePartialFiles);
  }
}

export function unregisterPartialFile(file: string): void {
  partialFiles.delete(file);
}

/**
 * A closed stdout stops the run (exit 0) instead of failing it. Installed once, by main(), for
 * every command.
 */
export function watchStdout(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') stopRun(0, 'stdout was closed', false);
  });
}

const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
let signalsHandled = false;

/** SIGINT / SIGTERM stop the run (exit 130 / 143); a second one ends the process at once. */
export function stopOnSignals(): void {
  if (signalsHandled) return;
  signalsHandled = true;
  const listeners = new Map<NodeJS.Signals, () => void>();
  for (const [signal, exitCode] of Object.entries(SIGNAL_EXIT_CODES) as [NodeJS.Signals, number][]) {
    const listener = (): void => {
      if (!controller.signal.aborted) {
        stopRun(exitCode, `stopped by ${signal}: an output file (-o) is written only by a run that completes`);
        return;
      }
      // Asked again: remove what is unfinished and die of the signal, as if never handled (no exit
      // handlers run while native threads may still be working).
      removePartialFiles();
      for (const [name, handler] of listeners) process.removeListener(name, handler);
      process.kill(process.pid, signal);
    };
    listeners.set(signal, listener);
    process.on(signal, listener);
  }
}
