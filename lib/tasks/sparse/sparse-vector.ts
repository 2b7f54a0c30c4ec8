/** SPLADE sparse vectors: the nonzero entries of a vocabulary-wide row. */

export interface SparseVector {
  /** vocabulary ids, ascending */
  indices: Int32Array;
  values: Float32Array;
}

export function sparseFromDense(row: Float32Array): SparseVector {
  let count = 0;
  for (let i = 0; i < row.length; i++) if (row[i] !== 0) count++;
  const indices = new Int32Array(count);
  const values = new Float32Array(count);
  let next = 0;
  for (let i = 0; i < row.length; i++) {
    if (row[i] === 0) continue;
    indices[next] = i;
    values[next++] = row[i];
  }
  return { indices, values };
}
