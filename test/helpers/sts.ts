// STS-B sentences from ../shared (tab-separated, no quote processing; columns 5 and 6 are the sentences).
import fs from 'node:fs';
import path from 'node:path';
import { sharedDir } from '../reference/helpers.js';

export function stsSentences(split: 'train' | 'dev' | 'test'): string[] {
  const file = path.join(sharedDir, 'data', 'stsbenchmark', `sts-${split}.csv`);
  const sentences: string[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const columns = line.split('\t');
    if (columns.length >= 7) sentences.push(columns[5], columns[6]);
  }
  return sentences;
}
