"""Graphs for the resident-cache decode loop (issue 13, gpu-node/MODEL.md "The decode loop on a GPU").

From a model directory's gpt_decode.onnx, writes beside it:

- gpt_decode_resident.onnx: gpt_decode with `lengths` (B,) instead of `attention_mask` (the mask is built in the
  graph: slot < length), and the whole updated cache as outputs `present_key_i` / `present_value_i` (B, H, P, hd):
  the new token's K/V written at slot `lengths[b]` (ScatterElements). The host feeds back what it got, unread.
- cache_gather.onnx: rows of every cache tensor by index (`rows` (B')): beams reordered, rows leaving, a prefill
  repeated for its beams.
- cache_pad.onnx: every cache tensor padded with zeros along the slot axis to `capacity` (1,).
- cache_concat.onnx: two caches joined along the batch axis (a prefilled row joining the running batch).

The host then moves O(batch) bytes per step (ids, positions, lengths in; logits and hidden out) whatever the
history; on a GPU execution provider with `gpu-buffer` outputs the cache never leaves the device.

    /tmp/hfcheck/bin/python gpu-node/tools/resident_graphs.py gpu-node/models/tiny
"""

import sys
from pathlib import Path

import onnx
from onnx import TensorProto, helper


def cache_io(prefix, layers, elem):
    names = []
    for i in range(layers):
        names += [f"{prefix}_key_{i}", f"{prefix}_value_{i}"]
    return names, [helper.make_tensor_value_info(n, elem, ["B", "H", "P", "hd"]) for n in names]


def decode_resident(src: onnx.ModelProto, layers: int) -> onnx.ModelProto:
    m = onnx.ModelProto()
    m.CopyFrom(src)
    g = m.graph
    elem = next(i for i in g.input if i.name == "past_key_0").type.tensor_type.elem_type
    inputs = [i for i in g.input if i.name != "attention_mask"]
    del g.input[:]
    g.input.extend(inputs[:2] + [helper.make_tensor_value_info("lengths", TensorProto.INT64, ["B"])] + inputs[2:])
    c = lambda name, vals: helper.make_node(  # noqa: E731
        "Constant", [], [name], value=helper.make_tensor(name, TensorProto.INT64, [len(vals)], vals))
    prelude = [  # the mask from `lengths`; before the original nodes, which read `attention_mask`
        c("rg_two", [2]), c("rg_three", [3]), c("rg_one_1d", [1]), c("rg_axis1", [1]), c("rg_shape4", [-1, 1, 1, 1]),
        helper.make_node("Constant", [], ["rg_zero"], value=helper.make_tensor("rg_zero", TensorProto.INT64, [], [0])),
        helper.make_node("Constant", [], ["rg_one"], value=helper.make_tensor("rg_one", TensorProto.INT64, [], [1])),
        helper.make_node("Shape", ["past_key_0"], ["rg_past_shape"]),
        helper.make_node("Slice", ["rg_past_shape", "rg_two", "rg_three"], ["rg_p1"]),
        helper.make_node("Squeeze", ["rg_p1"], ["rg_p"]),
        helper.make_node("Range", ["rg_zero", "rg_p", "rg_one"], ["rg_slots"]),
        helper.make_node("Unsqueeze", ["lengths", "rg_axis1"], ["rg_len_col"]),
        helper.make_node("Less", ["rg_slots", "rg_len_col"], ["rg_valid"]),
        helper.make_node("Cast", ["rg_valid"], ["rg_valid_i"], to=TensorProto.INT64),
        helper.make_node("Shape", ["lengths"], ["rg_b"]),
        helper.make_node("Concat", ["rg_b", "rg_one_1d"], ["rg_b1"], axis=0),
        helper.make_node("ConstantOfShape", ["rg_b1"], ["rg_ones"],
                         value=helper.make_tensor("rg_onev", TensorProto.INT64, [1], [1])),
        helper.make_node("Concat", ["rg_valid_i", "rg_ones"], ["attention_mask"], axis=1),
        helper.make_node("Reshape", ["lengths", "rg_shape4"], ["rg_len4"]),
    ]
    scatter = []  # after the original nodes: each layer's new K/V written into its slot
    outputs = [o for o in g.output if o.name in ("logits", "hidden")]
    for i in range(layers):
        for kind in ("key", "value"):
            new, past, present = f"new_{kind}_{i}", f"past_{kind}_{i}", f"present_{kind}_{i}"
            scatter += [
                helper.make_node("Shape", [new], [f"rg_{new}_shape"]),
                helper.make_node("Expand", ["rg_len4", f"rg_{new}_shape"], [f"rg_{new}_idx"]),
                helper.make_node("ScatterElements", [past, f"rg_{new}_idx", new], [present], axis=2),
            ]
            outputs.append(helper.make_tensor_value_info(present, elem, ["B", "H", "P", "hd"]))
    old = list(g.node)
    del g.node[:]
    g.node.extend(prelude + old + scatter)
    del g.output[:]
    g.output.extend(outputs)
    return m


def small_graph(name, nodes, inputs, outputs, opset, ir_version):
    model = helper.make_model(helper.make_graph(nodes, name, inputs, outputs), opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = ir_version  # the decode graph's: onnxruntime-node 1.30 reads IR ≤ 13
    return model


def main(model_dir):
    d = Path(model_dir)
    src = onnx.load(str(d / "gpt_decode.onnx"))
    layers = sum(1 for i in src.graph.input if i.name.startswith("past_key_"))
    elem = next(i for i in src.graph.input if i.name == "past_key_0").type.tensor_type.elem_type
    opset = src.opset_import[0].version
    ir = src.ir_version
    external = (d / "gpt_decode.onnx.data").exists()
    resident = decode_resident(src, layers)
    if external:  # `full`: over protobuf's 2 GB limit, so its weights go to one file beside it, as gpt_decode's
        onnx.save(resident, str(d / "gpt_decode_resident.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
                  location="gpt_decode_resident.onnx.data")
    else:
        onnx.save(resident, str(d / "gpt_decode_resident.onnx"))

    ins, in_vi = cache_io("in", layers, elem)
    outs, out_vi = cache_io("out", layers, elem)
    rows = helper.make_tensor_value_info("rows", TensorProto.INT64, ["R"])
    onnx.save(small_graph("cache_gather", [helper.make_node("Gather", [a, "rows"], [b], axis=0) for a, b in zip(ins, outs)],
                          [rows, *in_vi], out_vi, opset, ir), str(d / "cache_gather.onnx"))

    cap = helper.make_tensor_value_info("capacity", TensorProto.INT64, [1])
    pad_nodes = [
        helper.make_node("Shape", [ins[0]], ["shape"]),
        helper.make_node("Constant", [], ["two"], value=helper.make_tensor("two", TensorProto.INT64, [1], [2])),
        helper.make_node("Constant", [], ["three"], value=helper.make_tensor("three", TensorProto.INT64, [1], [3])),
        helper.make_node("Slice", ["shape", "two", "three"], ["p"]),
        helper.make_node("Sub", ["capacity", "p"], ["extra"]),
        helper.make_node("Constant", [], ["zeros6"], value=helper.make_tensor("zeros6", TensorProto.INT64, [6], [0] * 6)),
        helper.make_node("Constant", [], ["zero1"], value=helper.make_tensor("zero1", TensorProto.INT64, [1], [0])),
        helper.make_node("Concat", ["zeros6", "extra", "zero1"], ["pads"], axis=0),
    ] + [helper.make_node("Pad", [a, "pads"], [b], mode="constant") for a, b in zip(ins, outs)]
    onnx.save(small_graph("cache_pad", pad_nodes, [cap, *in_vi], out_vi, opset, ir), str(d / "cache_pad.onnx"))

    a_names, a_vi = cache_io("a", layers, elem)
    b_names, b_vi = cache_io("b", layers, elem)
    onnx.save(small_graph("cache_concat", [helper.make_node("Concat", [a, b], [o], axis=0)
                                           for a, b, o in zip(a_names, b_names, outs)],
                          [*a_vi, *b_vi], out_vi, opset, ir), str(d / "cache_concat.onnx"))
    for name in ("gpt_decode_resident", "cache_gather", "cache_pad", "cache_concat"):
        onnx.checker.check_model(str(d / f"{name}.onnx"))  # by path: works with external data
    print(f"wrote the resident-loop graphs of {d} ({layers} layers)")


if __name__ == "__main__":
    main(sys.argv[1])
