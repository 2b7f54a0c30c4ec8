/**
 * Streams work in order (bert-as-service's encode_async): starts `start(item)` for each item of
 * `source` while what is in flight weighs less than `limit`, and yields the results in source order.
 * Reading from `source` pauses while the window is full.
 */
export async function* inSourceOrder<I, T>(
  source: AsyncIterable<I> | Iterable<I>,
  start: (item: I) => Promise<T>,
  weightOf: (item: I) => number,
  limit: number,
): AsyncGenerator<T, void, undefined> {
  const inFlight: { weight: number; result: Promise<T> }[] = [];
  let weight = 0;
  const next = (): Promise<T> => {
    const head = inFlight.shift()!;
    weight -= head.weight;
    return head.result;
  };
  for await (const item of source) {
    const result = start(item);
    result.catch(() => undefined); // awaited below, in order; this only keeps it from being "unhandled" meanwhile
    inFlight.push({ weight: weightOf(item), result });
    weight += inFlight[inFlight.length - 1].weight;
    while (inFlight.length > 0 && weight >= limit) yield await next();
  }
  while (inFlight.length > 0) yield await next();
}
