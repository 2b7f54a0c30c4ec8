/**
 * The `bert-embed` command line. Exit codes: 0 success, 1 runtime failure (a bad file, a model
 * that cannot load, no network), 2 usage error (bad flags or arguments). Errors go to stderr in
 * one line.
 */
import { Command, CommanderError } from 'commander';
import { encodeCommand } from './commands/encode.js';
import { exportCommand } from './commands/export.js';
import { fillMaskCommand } from './commands/fill-mask.js';
import { infoCommand } from './commands/info.js';
import { scoreCommand } from './commands/score.js';
import { tokenizeCommand } from './commands/tokenize.js';
import { benchCommand } from './commands/bench.js';
import { serveCommand } from './commands/serve.js';
import { statusCommand } from './commands/status.js';
import { rerankCommand } from './commands/rerank.js';
import { classifyCommand } from './commands/classify.js';
import { classifyTokensCommand } from './commands/classify-tokens.js';
import { queueCommand } from './commands/queue/index.js';
import { UsageError } from './usage-error.js';
import { runStopped, watchStdout } from './run-control.js';

const EXIT_USAGE = 2;
const EXIT_FAILURE = 1;

function program(version: string): Command {
  const root = new Command('bert-embed')
    .description('BERT sentence embeddings on the command line: encode files, tokenize, score and fill in masks, inspect and export models, benchmark')
    .version(version)
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Examples:
  bert-embed encode -m ./all-MiniLM-L6-v2 sentences.txt -o vectors.npy
  bert-embed tokenize -m ./bert-base-uncased < sentences.txt
  bert-embed score -m ./bert-base-uncased sentences.txt > scores.jsonl
  echo 'Paris is the [MASK] of France.' | bert-embed fill-mask -m ./bert-base-uncased
  bert-embed rerank -m ./ms-marco-MiniLM-L-6-v2 --query 'how do I bake bread' docs.txt
  bert-embed classify -m ./nli-model pairs.txt
  bert-embed info -m sentence-transformers/all-MiniLM-L6-v2
  bert-embed export ./all-MiniLM-L6-v2 ./all-MiniLM-L6-v2-ts
  bert-embed bench -m ./all-MiniLM-L6-v2
  bert-embed serve -m ./all-MiniLM-L6-v2 --socket /tmp/bert.sock
  bert-embed status --socket /tmp/bert.sock
  bert-embed queue add --run wiki --out /mnt/shared/out -m ./all-MiniLM-L6-v2 /mnt/shared/wiki.txt`,
    );
  for (const command of [encodeCommand(), tokenizeCommand(), scoreCommand(), fillMaskCommand(), rerankCommand(), classifyCommand(), classifyTokensCommand(), infoCommand(), exportCommand(), benchCommand(), serveCommand(), statusCommand(), queueCommand()]) root.addCommand(command);
  // Every command throws instead of exiting, so that main() picks the exit code.
  const exitOverride = (command: Command): void => {
    command.exitOverride();
    command.commands.forEach(exitOverride);
  };
  exitOverride(root);
  return root;
}

function errorLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\n\s*/g, ' ');
}

export async function main(argv: string[], version: string): Promise<number> {
  // `bert-embed encode … | head` closes the pipe early: not a failure, and never process.exit
  // under running native threads: the run stops as on a signal (./run-control.ts).
  watchStdout();
  try {
    await program(version).parseAsync(argv);
    return 0;
  } catch (error) {
    const stopped = runStopped(); // SIGINT/SIGTERM (130/143) or a closed stdout (0), whatever the error it caused
    if (stopped) {
      if (stopped.report) process.stderr.write(`bert-embed: ${stopped.message}\n`);
      return stopped.exitCode;
    }
    if (error instanceof CommanderError) {
      // commander has printed its message already
      return error.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    process.stderr.write(`bert-embed: ${errorLine(error)}\n`);
    return error instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE;
  }
}
