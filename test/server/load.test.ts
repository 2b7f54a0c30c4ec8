// 32 concurrent clients × 50 requests of mixed sizes over the UNIX socket: every response holds
// exactly the vectors of its own inputs (as encoded alone, within 1e-5); nothing lost or mixed.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BertClient, Encoder } from '../../lib/index.js';
import { checkpointDir } from '../helpers/checkpoints.js';
import { expectVectorsClose } from '../helpers/compare.js';
import { stsSentences } from '../helpers/sts.js';
import { startServer, type RunningServer } from './harness.js';

const sentences = stsSentences('test');
let running: RunningServer;
let alone: Float32Array;

beforeAll(async () => {
  // half the clients ask for tokens (bert-as-service's -show_tokens_to_client)
  running = await startServer({ workers: 2 }, { showTokensToClient: true });
  const reference = await Encoder.load(checkpointDir('tiny'), { maxSeqLen: 32, maxBatchSize: 1 });
  alone = (await reference.encode(sentences)).data;
  await reference.close();
});
afterAll(() => running?.stop());

it('answers 32 clients × 50 requests, each with its own vectors', async () => {
  const dim = running.encoder.dimension;
  let seed = 7;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  let answered = 0;
  await Promise.all(
    Array.from({ length: 32 }, async (_, clientIndex) => {
      // Each client has its own connections; half use the binary transport, half JSON (show_tokens).
      const client = new BertClient({ socket: running.socket }, { maxSockets: 2 });
      try {
        for (let r = 0; r < 50; r++) {
          const size = [1, 2, 5, 17, 40][random(5)];
          const picks = Array.from({ length: size }, () => random(sentences.length));
          const result = await client.encode(picks.map((i) => sentences[i]), { showTokens: clientIndex % 2 === 1 });
          expect(result.shape).toEqual([size, dim]);
          picks.forEach((sentence, row) => expectVectorsClose(result.rows()[row], alone.subarray(sentence * dim, (sentence + 1) * dim), dim, 1e-5, `client ${clientIndex} request ${r} row ${row}`));
          answered++;
        }
      } finally {
        client.close();
      }
    }),
  );
  expect(answered).toBe(32 * 50);
  const status = running.encoder.status();
  expect(status.requests).toBe(32 * 50);
  expect(status.outstandingSentences).toBe(0);
});
