// Writes the shared random-weight checkpoints once per test run.
import fs from 'node:fs';
import { CHECKPOINTS, checkpointDir, checkpointsRoot } from '../helpers/checkpoints.js';

export default async function writeCheckpoints(): Promise<void> {
  const { makeCheckpoint } = await import('../../scripts/make-checkpoint.mjs');
  fs.rmSync(checkpointsRoot, { recursive: true, force: true });
  for (const [name, recipe] of Object.entries(CHECKPOINTS)) {
    await makeCheckpoint({ ...recipe, outDir: checkpointDir(name as keyof typeof CHECKPOINTS) });
  }
}
