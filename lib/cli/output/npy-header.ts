/**
 * The .npy format (version 1.0): magic, header length, a Python dict literal padded with spaces
 * to a multiple of 64 bytes, then the little-endian float32 data in C order.
 * https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 */

/** Fixed size, so a file's header can be rewritten with the final row count at the end. */
export const NPY_HEADER_BYTES = 128;

export function npyHeader(shape: number[]): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const preamble = 10; // magic (6) + version (2) + header length (2)
  const padding = NPY_HEADER_BYTES - preamble - dict.length - 1;
  if (padding < 0) throw new RangeError(`a .npy shape too large for its header: ${shapeText}`);
  const header = new Uint8Array(NPY_HEADER_BYTES);
  header.set([0x93, ...Buffer.from('NUMPY'), 1, 0]);
  new DataView(header.buffer).setUint16(8, NPY_HEADER_BYTES - preamble, true);
  header.set(Buffer.from(dict + ' '.repeat(padding) + '\n', 'latin1'), preamble);
  return header;
}
