// What every benchmark's figures are recorded with: the CPU family (Zen 4 and Zen 5 give different ratios).
import fs from 'node:fs';

/** `cpu family : 25` as /proc/cpuinfo spells it (spaces collapsed), or `cpu family : unknown` without it. */
export function cpuFamily() {
  let cpuinfo = '';
  try {
    cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // not Linux
  }
  return /^cpu family.*$/m.exec(cpuinfo)?.[0].replace(/\s+/g, ' ').trim() ?? 'cpu family : unknown';
}
