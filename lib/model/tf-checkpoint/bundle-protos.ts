/**
 * TensorFlow's tensor-bundle protos (tensorflow/core/protobuf/tensor_bundle.proto), decoded from the
 * index's values: BundleHeaderProto under the empty key, BundleEntryProto under each tensor's name.
 */
import { messageFields, ProtobufError, readFields, scalarField, WireType } from './protobuf-reader.js';

export interface BundleHeader {
  numShards: number;
  /** 0 little-endian, 1 big-endian */
  endianness: number;
  /** VersionDef: the writer's version and the oldest reader that may read the bundle */
  producer: number;
  minConsumer: number;
}

export interface BundleEntry {
  /** tensorflow.DataType: 1 DT_FLOAT, 19 DT_HALF, 14 DT_BFLOAT16, ... */
  dtype: number;
  shape: number[];
  shardId: number;
  offset: number;
  size: number;
  /** masked CRC-32C of the stored bytes */
  maskedCrc32c: number;
  /** a slice of a partitioned variable: its bytes are not the whole tensor */
  sliced: boolean;
}

export function decodeBundleHeader(bytes: Uint8Array): BundleHeader {
  const what = 'the bundle header';
  const fields = readFields(bytes, what);
  const [version] = messageFields(fields, 3, what);
  const versionFields = version ? readFields(version, `${what}'s version`) : [];
  return {
    numShards: scalarField(fields, 1, WireType.Varint, 0, what),
    endianness: scalarField(fields, 2, WireType.Varint, 0, what),
    producer: scalarField(versionFields, 1, WireType.Varint, 0, what),
    minConsumer: scalarField(versionFields, 2, WireType.Varint, 0, what),
  };
}

/** TensorShapeProto: its dimensions' sizes; an unknown rank is refused. */
function decodeShape(bytes: Uint8Array | undefined, what: string): number[] {
  if (bytes === undefined) return [];
  const fields = readFields(bytes, what);
  if (scalarField(fields, 3, WireType.Varint, 0, what) !== 0) throw new ProtobufError(`${what} has an unknown rank`);
  return messageFields(fields, 2, what).map((dim) => scalarField(readFields(dim, what), 1, WireType.Varint, 0, what));
}

export function decodeBundleEntry(bytes: Uint8Array, name: string): BundleEntry {
  const what = `the entry of ${name}`;
  const fields = readFields(bytes, what);
  const shapes = messageFields(fields, 2, what);
  return {
    dtype: scalarField(fields, 1, WireType.Varint, 0, what),
    shape: decodeShape(shapes[shapes.length - 1], `the shape of ${name}`),
    shardId: scalarField(fields, 3, WireType.Varint, 0, what),
    offset: scalarField(fields, 4, WireType.Varint, 0, what),
    size: scalarField(fields, 5, WireType.Varint, 0, what),
    maskedCrc32c: scalarField(fields, 6, WireType.Fixed32, 0, what),
    sliced: messageFields(fields, 7, what).length > 0,
  };
}
