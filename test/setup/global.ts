// Writes the shared random-weight checkpoints, once: a checkpoint is rewritten only when its recipe
// or the generator changed. Each is written beside its place and renamed into it, so that test runs
// side by side never see a half-written or deleted checkpoint.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CHECKPOINTS, checkpointDir, checkpointsRoot } from '../helpers/checkpoints.js';
import { repoRoot } from '../reference/helpers.js';

export default async function writeCheckpoints(): Promise<void> {
  const generator = path.join(repoRoot, 'scripts', 'make-checkpoint.mjs');
  const { makeCheckpoint } = await import(generator);
  // The generator and the tensor names it writes (scripts/bert-tensor-names.*).
  const hash = crypto.createHash('sha256');
  for (const file of [generator, ...['bert-tensor-names.mjs', 'bert-tensor-names.json'].map((f) => path.join(repoRoot, 'scripts', f))]) {
    hash.update(fs.readFileSync(file));
  }
  const generatorHash = hash.digest('hex');
  fs.mkdirSync(checkpointsRoot, { recursive: true });
  for (const [name, recipe] of Object.entries(CHECKPOINTS)) {
    const dir = checkpointDir(name as keyof typeof CHECKPOINTS);
    const stamp = JSON.stringify({ recipe, generatorHash });
    const stampFile = path.join(dir, '.recipe.json');
    if (fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === stamp) continue;
    const scratch = `${dir}.writing-${process.pid}`;
    fs.rmSync(scratch, { recursive: true, force: true });
    await makeCheckpoint({ ...recipe, outDir: scratch });
    fs.writeFileSync(path.join(scratch, '.recipe.json'), stamp);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(scratch, dir);
  }
}
