/**
 * A one-line progress bar on stderr (count, rate, ETA when the total is known), redrawn at most
 * ten times a second. Drawn only when stderr is a terminal and --quiet is not given.
 */
export interface Progress {
  advance(count: number): void;
  finish(): void;
}

const SILENT: Progress = { advance: () => undefined, finish: () => undefined };

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

const wholeNumber = (n: number): string => Math.round(n).toLocaleString('en-US');

export function createProgress(
  unit: string,
  total: number | undefined,
  quiet: boolean,
  format: (count: number) => string = wholeNumber,
  stream: NodeJS.WriteStream = process.stderr,
): Progress {
  if (quiet || !stream.isTTY) return SILENT;
  const started = performance.now();
  let done = 0;
  let lastDraw = 0;
  const draw = (final: boolean): void => {
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const count = total === undefined ? `${format(done)} ${unit}` : `${format(done)}/${format(total)} ${unit}`;
    let bar = '';
    let eta = '';
    if (total !== undefined && total > 0) {
      const width = 24;
      const filled = Math.min(width, Math.round((done / total) * width));
      bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] `;
      eta = final ? ` in ${duration(seconds)}` : `  ETA ${rate > 0 ? duration((total - done) / rate) : '--'}`;
    } else if (final) {
      eta = ` in ${duration(seconds)}`;
    }
    stream.write(`\r\x1b[2K${bar}${count}  ${format(rate)} ${unit}/s${eta}${final ? '\n' : ''}`);
  };
  return {
    advance(count) {
      done += count;
      const now = performance.now();
      if (now - lastDraw >= 100) {
        lastDraw = now;
        draw(false);
      }
    },
    finish() {
      draw(true);
    },
  };
}
