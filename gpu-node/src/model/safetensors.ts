/**
 * A reader for the safetensors format (8-byte little-endian header length, JSON header, raw little-endian data).
 * Written here because the format is tiny and the node only needs float32 tensors; no dependency pulls its weight.
 */
export interface NamedTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

export function readSafetensors(bytes: Uint8Array): Map<string, NamedTensor> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 8) throw new Error("safetensors: file too short");
  const headerLength = Number(view.getBigUint64(0, true));
  if (8 + headerLength > bytes.byteLength) throw new Error("safetensors: header length past end of file");
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<
    string,
    HeaderEntry | Record<string, string>
  >;
  const base = 8 + headerLength;
  const tensors = new Map<string, NamedTensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const { dtype, shape, data_offsets } = entry as HeaderEntry;
    if (dtype !== "F32") throw new Error(`safetensors: ${name} has dtype ${dtype}; only F32 is supported`);
    const [start, end] = data_offsets;
    const count = shape.reduce((a, b) => a * b, 1);
    if (end - start !== count * 4) throw new Error(`safetensors: ${name} size does not match its shape`);
    // Copy: the data region is not guaranteed to be 4-byte aligned inside the file.
    const data = new Float32Array(count);
    new Uint8Array(data.buffer).set(bytes.subarray(base + start, base + end));
    tensors.set(name, { shape, data });
  }
  return tensors;
}
