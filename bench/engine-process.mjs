// An engine in a process of its own, kept open: each `request(message)` writes one JSON line to its stdin and
// resolves with the next JSON line it prints (the benches' children answer in order).
import { spawn } from 'node:child_process';
import readline from 'node:readline';

export function startEngineProcess(engine, command, args, env = process.env) {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'], env });
  const waiting = [];
  readline.createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) => waiting.shift()?.resolve(JSON.parse(line)));
  child.on('exit', (code, signal) => {
    for (const pending of waiting.splice(0)) pending.reject(new Error(`${engine} exited (${code ?? signal})`));
  });
  return {
    engine,
    request: (message) =>
      new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        child.stdin.write(`${JSON.stringify(message)}\n`);
      }),
    kill: () => child.kill(),
  };
}
