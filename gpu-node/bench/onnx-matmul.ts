/**
 * Writes a one-node ONNX model `Y = MatMul(A, B)` (float32, dynamic shapes) as protobuf bytes, so the benchmark can
 * measure onnxruntime's own MatMul peak on this machine without Python. Only the handful of fields ONNX needs.
 */
const varint = (n: number): number[] => {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
};
const tag = (field: number, wire: number) => varint(field * 8 + wire);
const bytesField = (field: number, payload: number[]) => [...tag(field, 2), ...varint(payload.length), ...payload];
const stringField = (field: number, s: string) => bytesField(field, [...new TextEncoder().encode(s)]);
const intField = (field: number, n: number) => [...tag(field, 0), ...varint(n)];

/** ValueInfoProto for a rank-2 float tensor with symbolic dims */
function tensorInfo(name: string, dims: [string, string]): number[] {
  const shape = dims.flatMap((d) => bytesField(1, stringField(2, d))); // TensorShapeProto.dim { dim_param }
  const tensorType = [...intField(1, 1), ...bytesField(2, shape)]; // elem_type FLOAT, shape
  const typeProto = bytesField(1, tensorType); // TypeProto.tensor_type
  return [...stringField(1, name), ...bytesField(2, typeProto)];
}

export function matmulModel(): Uint8Array {
  const node = [...stringField(1, "A"), ...stringField(1, "B"), ...stringField(2, "Y"), ...stringField(4, "MatMul")];
  const graph = [
    ...bytesField(1, node),
    ...stringField(2, "matmul_peak"),
    ...bytesField(11, tensorInfo("A", ["m", "k"])),
    ...bytesField(11, tensorInfo("B", ["k", "n"])),
    ...bytesField(12, tensorInfo("Y", ["m", "n"])),
  ];
  const opset = [...stringField(1, ""), ...intField(2, 17)];
  const model = [...intField(1, 8), ...stringField(2, "bench"), ...bytesField(7, graph), ...bytesField(8, opset)];
  return new Uint8Array(model);
}
