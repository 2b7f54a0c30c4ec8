/** JSON text for float32 vectors: each value with the digits that read back to the same float32, no more. */
export function float32Json(values: Float32Array): string {
  let text = '[';
  for (let i = 0; i < values.length; i++) text += (i ? ',' : '') + Number(values[i].toPrecision(9));
  return `${text}]`;
}

/** A row of shape `rowShape` (e.g. [maxSeqLen, dim] for token vectors) as nested JSON arrays. */
export function nestedFloat32Json(row: Float32Array, rowShape: readonly number[]): string {
  if (rowShape.length <= 1) return float32Json(row);
  const width = row.length / rowShape[0];
  const parts: string[] = [];
  for (let i = 0; i < rowShape[0]; i++) parts.push(nestedFloat32Json(row.subarray(i * width, (i + 1) * width), rowShape.slice(1)));
  return `[${parts.join(',')}]`;
}
