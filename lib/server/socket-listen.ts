/**
 * Listening on a UNIX socket safely: a path the OS cannot hold is a clear error; a path a live
 * server holds is refused; a stale socket file (its server died) is replaced; the socket is
 * created with mode 0600 (no window with wider permissions) and then set to the mode asked for.
 */
import fs from 'node:fs';
import type http from 'node:http';
import net from 'node:net';
import { BertEmbedError } from '../errors.js';

/** sockaddr_un.sun_path on Linux holds 108 bytes, the last one a NUL. */
const MAX_SOCKET_PATH_BYTES = 107;

function isLive(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

export async function listenOnSocket(server: http.Server, socketPath: string, mode: number): Promise<void> {
  const bytes = Buffer.byteLength(socketPath);
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new BertEmbedError(
      `the socket path ${socketPath} is ${bytes} bytes, longer than the ${MAX_SOCKET_PATH_BYTES} a UNIX socket path may have; choose a shorter path`,
      'ERR_SOCKET_PATH',
    );
  }
  const existing = fs.lstatSync(socketPath, { throwIfNoEntry: false });
  if (existing) {
    if (!existing.isSocket()) throw new BertEmbedError(`${socketPath} exists and is not a socket; refusing to replace it`, 'ERR_SOCKET_PATH');
    if (await isLive(socketPath)) throw new BertEmbedError(`${socketPath} is already served by a live server; stop it or choose another path`, 'ERR_SOCKET_IN_USE');
    fs.unlinkSync(socketPath); // stale: its server is gone
  }
  const previousMask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(previousMask);
  }
  fs.chmodSync(socketPath, mode);
}
