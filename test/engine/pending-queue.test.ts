// PendingQueue against brute force: every batch within the limits, the oldest sentence always in
// the next batch, nothing lost or taken twice, and less padding than arrival order.
import { describe, expect, it } from 'vitest';
import { PendingQueue } from '../../lib/engine/pending-queue.js';

function randomLengths(count: number, seed: number): number[] {
  let state = seed;
  const next = (): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  // Sentence lengths like STS-B's: mostly short, a long tail.
  return Array.from({ length: count }, () => 3 + Math.floor(next() ** 3 * 60));
}

function fill(lengths: number[]): PendingQueue<number> {
  const queue = new PendingQueue<number>();
  lengths.forEach((length, i) => queue.push(i, i, { ids: new Array<number>(length).fill(1), typeIds: new Array<number>(length).fill(0) }, i));
  return queue;
}

function paddedCost(batches: number[][]): number {
  return batches.reduce((sum, batch) => sum + batch.length * Math.max(...batch), 0);
}

describe('PendingQueue.takeBatch', () => {
  for (const limits of [
    { maxBatchSize: 32, maxBatchTokens: 8192 },
    { maxBatchSize: 64, maxBatchTokens: 512 },
    { maxBatchSize: 5, maxBatchTokens: 100000 },
    { maxBatchSize: 32, maxBatchTokens: 20 },
  ]) {
    it(`respects ${JSON.stringify(limits)}, starts with the oldest, loses nothing`, () => {
      const lengths = randomLengths(3000, limits.maxBatchSize + limits.maxBatchTokens);
      const queue = fill(lengths);
      const taken = new Set<number>();
      const sortedBatches: number[][] = [];
      while (queue.size > 0) {
        const oldest = queue.oldestSequence();
        const batch = queue.takeBatch(limits);
        expect(batch.length).toBeGreaterThan(0);
        expect(batch.map((s) => s.sequence)).toContain(oldest);
        expect(batch.length).toBeLessThanOrEqual(limits.maxBatchSize);
        const longest = Math.max(...batch.map((s) => s.ids.length));
        // A single sentence longer than the budget still goes, alone.
        if (batch.length > 1) expect(batch.length * longest).toBeLessThanOrEqual(limits.maxBatchTokens);
        for (const sentence of batch) {
          expect(taken.has(sentence.row)).toBe(false);
          taken.add(sentence.row);
        }
        sortedBatches.push(batch.map((s) => s.ids.length));
      }
      expect(taken.size).toBe(lengths.length);
      expect(queue.oldestSequence()).toBe(Infinity);

      // Arrival order under the same limits, as a fixed-order batcher cuts it, by hand and by the queue.
      const arrivalBatches: number[][] = [];
      let current: number[] = [];
      for (const length of lengths) {
        const longest = Math.max(length, ...current);
        if (current.length > 0 && (current.length === limits.maxBatchSize || (current.length + 1) * longest > limits.maxBatchTokens)) {
          arrivalBatches.push(current);
          current = [];
        }
        current.push(length);
      }
      arrivalBatches.push(current);
      const inArrivalOrder = fill(lengths);
      const queueArrivalBatches: number[][] = [];
      while (inArrivalOrder.size > 0) queueArrivalBatches.push(inArrivalOrder.takeBatch({ ...limits, order: 'arrival' }).map((s) => s.ids.length));
      expect(queueArrivalBatches).toEqual(arrivalBatches);
      const real = lengths.reduce((a, b) => a + b, 0);
      const sortedPadding = 1 - real / paddedCost(sortedBatches);
      const arrivalPadding = 1 - real / paddedCost(arrivalBatches);
      console.log(`[pending queue] ${JSON.stringify(limits)}: padding ${(100 * sortedPadding).toFixed(1)}% length-bucketed vs ${(100 * arrivalPadding).toFixed(1)}% arrival order`);
      if (limits.maxBatchSize > 1 && limits.maxBatchTokens > 100) expect(sortedPadding).toBeLessThan(arrivalPadding / 2);
    });
  }

  it('drops pruned sentences wherever they wait', () => {
    const queue = fill(randomLengths(500, 7));
    const first = queue.takeBatch({ maxBatchSize: 10, maxBatchTokens: 1000 }).map((s) => s.request);
    queue.prune((sentence) => sentence.request % 3 === 0);
    const expected = Array.from({ length: 500 }, (_, i) => i).filter((i) => i % 3 !== 0 && !first.includes(i));
    expect(queue.size).toBe(expected.length);
    const rest: number[] = [];
    while (queue.size > 0) rest.push(...queue.takeBatch({ maxBatchSize: 32, maxBatchTokens: 8192 }).map((s) => s.request));
    expect(rest.sort((a, b) => a - b)).toEqual(expected);
  });

  it('lets go of taken sentences even when their bucket never empties', () => {
    // A steady stream of one length: the bucket always has sentences waiting behind those taken.
    const queue = new PendingQueue<number>();
    let sequence = 0;
    for (let round = 0; round < 2000; round++) {
      for (let i = 0; i < 40; i++) queue.push(sequence, sequence, { ids: [1, 2, 3], typeIds: [0, 0, 0] }, sequence++);
      queue.takeBatch({ maxBatchSize: 32, maxBatchTokens: 8192 });
      expect(queue.retainedEntries).toBeLessThanOrEqual(2 * queue.size + 64);
    }
    expect(queue.size).toBe(2000 * 8);
  });
});
