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

/** The CPU's flags as /proc/cpuinfo lists them (empty off Linux). */
export function cpuFlags() {
  try {
    return new Set((/^flags\s*:(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '').trim().split(/\s+/));
  } catch {
    return new Set();
  }
}

/** The instruction-set class the engine's CPU choices are keyed by: avx2, avx512, then +vnni, +bf16, +amx. */
export function isaClass() {
  const flags = cpuFlags();
  const has = (flag) => flags.has(flag);
  if (!has('avx512f')) return has('avx2') ? 'avx2' : 'sse';
  return ['avx512', has('avx512_vnni') && '+vnni', has('avx512_bf16') && '+bf16', has('amx_tile') && '+amx'].filter(Boolean).join('');
}

/** `AMD EPYC 9R14, cpu family : 25, avx512+vnni+bf16`: what every figure is recorded with. */
export function describeHost() {
  let model = 'unknown CPU';
  try {
    model = /^model name\s*:\s*(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1].trim() ?? model;
  } catch {
    // not Linux
  }
  return `${model}, \`${cpuFamily()}\`, ${isaClass()}`;
}
