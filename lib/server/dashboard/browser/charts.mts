/** The dashboard's time charts, drawn by uPlot (loaded by the page as a classic script: the global uPlot). */
import type UPlot from 'uplot';

const uPlotClass = (globalThis as unknown as { uPlot: typeof UPlot }).uPlot;

const HEIGHT = 220;
const PALETTE = ['#2f6f9f', '#d9822b', '#3b9b5b', '#b3261e', '#7b4fa0', '#8c6d1f', '#c2417f', '#4a5868'];

export interface SeriesSpec {
  label: string;
  /** 'left' (the default) or 'right' axis */
  side?: 'left' | 'right';
  /** null where a second had nothing to measure (no request, no batch): drawn with dots, so that a lone second shows */
  sparse?: boolean;
}

export interface AxisSpec {
  left: string;
  right?: string;
  /** the right axis' fixed range, e.g. 0..100 for a percentage */
  rightRange?: [number, number];
}

const seriesKey = (series: SeriesSpec[]): string => JSON.stringify(series);

/** One figure of the page: a uPlot chart of time columns, rebuilt when its series change. */
export class TimeChart {
  readonly #figure: HTMLElement;
  readonly #plot: HTMLElement;
  readonly #axes: AxisSpec;
  #series: SeriesSpec[] = [];
  #chart: UPlot | undefined;

  constructor(figure: HTMLElement, axes: AxisSpec) {
    this.#figure = figure;
    this.#plot = figure.querySelector<HTMLElement>('.plot')!;
    this.#axes = axes;
  }

  /** Draws `columns` (one per series, aligned with `t`, seconds since the epoch). */
  update(series: SeriesSpec[], t: number[], columns: (number | null)[][]): void {
    if (!this.#chart || seriesKey(series) !== seriesKey(this.#series)) {
      this.#chart?.destroy();
      this.#series = series;
      this.#chart = new uPlotClass(this.#options(series), [t, ...columns], this.#plot);
    } else {
      this.#chart.setData([t, ...columns]);
    }
    this.#describe();
  }

  resize(): void {
    this.#chart?.setSize({ width: this.#width(), height: HEIGHT });
  }

  #width(): number {
    return Math.max(300, this.#plot.clientWidth);
  }

  #options(series: SeriesSpec[]): UPlot.Options {
    const hasRight = series.some((s) => s.side === 'right');
    const axes: UPlot.Axis[] = [{}, { scale: 'left', label: this.#axes.left }];
    if (hasRight) axes.push({ scale: 'right', side: 1, label: this.#axes.right, grid: { show: false } });
    const scales: UPlot.Scales = { x: { time: true }, left: { range: (_u, min, max) => [0, Math.max(1, max, min)] } };
    if (hasRight) scales.right = this.#axes.rightRange ? { range: this.#axes.rightRange } : { range: (_u, min, max) => [0, Math.max(1, max, min)] };
    return {
      width: this.#width(),
      height: HEIGHT,
      scales,
      axes,
      series: [
        {},
        ...series.map((s, i): UPlot.Series => ({
          label: s.label,
          scale: s.side === 'right' ? 'right' : 'left',
          stroke: PALETTE[i % PALETTE.length],
          width: 1.5,
          points: s.sparse ? { show: true, size: 4 } : { show: false },
        })),
      ],
    };
  }

  /** What the chart draws, in numbers on the figure: how many samples, and each series' peak. */
  #describe(): void {
    const data = this.#chart!.data;
    const peaks: Record<string, number> = {};
    this.#series.forEach((s, i) => {
      let peak = 0;
      for (const value of data[i + 1] as (number | null | undefined)[]) if (typeof value === 'number' && value > peak) peak = value;
      peaks[s.label] = peak;
    });
    this.#figure.dataset.points = String(data[0].length);
    this.#figure.dataset.peaks = JSON.stringify(peaks);
  }
}
