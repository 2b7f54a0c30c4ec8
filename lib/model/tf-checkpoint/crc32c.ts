/**
 * CRC-32C (Castagnoli), the checksum of TensorFlow's tensor bundles and of LevelDB tables' blocks,
 * both stored "masked" (rotated and offset, so that a CRC over data holding CRCs stays strong).
 * The native reader checks the tensors' bytes as it loads them (native/model/crc32c.cpp); this one
 * checks the index file's blocks and the bytes an export copies.
 */

/** Slicing-by-8 tables of the reflected polynomial 0x82f63b78. */
const TABLES: Uint32Array[] = (() => {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
    tables[0][byte] = crc >>> 0;
  }
  for (let byte = 0; byte < 256; byte++) {
    for (let slice = 1; slice < 8; slice++) {
      const previous = tables[slice - 1][byte];
      tables[slice][byte] = ((previous >>> 8) ^ tables[0][previous & 0xff]) >>> 0;
    }
  }
  return tables;
})();

/** The CRC of `bytes` continued from `crc` (0 to start), so data read in chunks is checked as read. */
export function extendCrc32c(crc: number, bytes: Uint8Array): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES;
  let state = ~crc >>> 0;
  let i = 0;
  const fast = bytes.length - (bytes.length % 8);
  for (; i < fast; i += 8) {
    const low = (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24)) ^ state;
    state =
      t7[low & 0xff] ^
      t6[(low >>> 8) & 0xff] ^
      t5[(low >>> 16) & 0xff] ^
      t4[low >>> 24] ^
      t3[bytes[i + 4]] ^
      t2[bytes[i + 5]] ^
      t1[bytes[i + 6]] ^
      t0[bytes[i + 7]];
  }
  for (; i < bytes.length; i++) state = (state >>> 8) ^ t0[(state ^ bytes[i]) & 0xff];
  return ~state >>> 0;
}

export function crc32c(bytes: Uint8Array): number {
  return extendCrc32c(0, bytes);
}

const MASK_DELTA = 0xa282ead8;

/** The CRC a masked one stands for. */
export function unmaskCrc32c(masked: number): number {
  const rotated = (masked - MASK_DELTA) >>> 0;
  return ((rotated >>> 17) | (rotated << 15)) >>> 0;
}

export function maskCrc32c(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0;
}
