// encode() runs on the model's own native thread: the event loop keeps turning meanwhile.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Encoder } from '../../lib/index.js';
import { checkpointDir } from '../helpers/checkpoints.js';
import { stsSentences } from '../helpers/sts.js';

let encoder: Encoder;
beforeAll(async () => {
  encoder = await Encoder.load(checkpointDir('minilm'), { maxSeqLen: 128, maxBatchSize: 64 });
});
afterAll(() => encoder.close());

it('keeps timers firing while a long encode is in flight', async () => {
  const sample = stsSentences('train').slice(0, 48).map((s, i) => `${s} ${stsSentences('dev')[i]} ${s}`);
  // As much work as takes about 600 ms on this host (a fast CPU does 48 long sentences in far less).
  const calibrationStarted = performance.now();
  await encoder.encode(sample);
  const copies = Math.max(1, Math.ceil(600 / (performance.now() - calibrationStarted)));
  const long = Array.from({ length: copies }, () => sample).flat();
  const tickTimes: number[] = [];
  const timer = setInterval(() => tickTimes.push(performance.now()), 5);
  const started = performance.now();
  const result = await encoder.encode(long);
  const finished = performance.now();
  clearInterval(timer);

  expect(result.shape).toEqual([long.length, 384]);
  const duration = finished - started;
  // The check only means something if the encode took long enough for a blocked loop to show.
  expect(duration).toBeGreaterThan(250);
  const during = tickTimes.filter((t) => t > started && t < finished);
  expect(during.length).toBeGreaterThan(10);
  const gaps = during.slice(1).map((t, i) => t - during[i]);
  expect(Math.max(during[0] - started, ...gaps, finished - during[during.length - 1])).toBeLessThan(duration / 4);
});
