"""Graphs for the resident-cache decode loop (issue 13, gpu-node/MODEL.md "The decode loop on a GPU").

From a model directory's gpt_decode.onnx, writes beside it:

- gpt_decode_resident.onnx: gpt_decode over a frozen cache `past_*` (B,H,P,hd; `lengths` (B,) valid slots) and a
  window `tail_*` (B,H,T,hd; `tail_lengths` (B,) valid slots; row b reads window row `rows[b]`), masks built in the
  graph; outputs logits, hidden and the window with the new K/V at slot `tail_lengths[b]` (`present_*`,
  ScatterElements), which the host binds to the `tail_*` buffers. The frozen cache is an input only.
- cache_flush.onnx: moves each row's first `shift[b]` window slots into the frozen cache at `lengths[b]` (`out_*`,
  bound to `in_*`) and shifts the window left (`tail_out_*`).
- cache_gather.onnx: rows of every cache tensor by index (`rows` (B')): beams reordered, rows leaving, a prefill
  repeated for its beams.
- cache_pad.onnx: every cache tensor padded with zeros along the slot axis to `capacity` (1,), or cropped to it.
- cache_concat.onnx: two caches joined along the batch axis (a prefilled row joining the running batch).

The host then moves O(batch) bytes per step (ids, positions, lengths, window rows in; logits and hidden out)
whatever the history; on a GPU execution provider with `gpu-buffer` outputs the cache never leaves the device. A
step rewrites only the window, so on the CPU (where onnxruntime-node copies every fetched output into a new array)
it does not copy the whole cache.

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


def _consumers(g):
    out = {}
    for n in g.node:
        for i in n.input:
            out.setdefault(i, []).append(n)
    return out


def decode_resident(src: onnx.ModelProto, layers: int) -> onnx.ModelProto:
    """gpt_decode over a frozen cache `past_*` (B,H,P,hd; slots < `lengths` valid) plus a short window `tail_*`
    (B,H,T,hd; slots < `tail_lengths` valid) of the latest tokens. Row b's window is `tail_*[rows[b]]` (the beam
    reorders of the last step, applied here rather than by a graph call of their own). Attention scores go over
    [past, window, self] without concatenating any cache; the step's K/V is written into the window (`present_*`,
    slot `tail_lengths[b]`), which the host binds to the `tail_*` buffers, so only the T-slot window is rewritten
    per step."""
    m = onnx.ModelProto()
    m.CopyFrom(src)
    g = m.graph
    elem = next(i for i in g.input if i.name == "past_key_0").type.tensor_type.elem_type
    inputs = [i for i in g.input if i.name != "attention_mask"]
    del g.input[:]
    tails = [helper.make_tensor_value_info(n, elem, ["B", "H", "T", "hd"]) for n in cache_io("tail", layers, elem)[0]]
    g.input.extend(inputs[:2] + [helper.make_tensor_value_info("lengths", TensorProto.INT64, ["B"]),
                                 helper.make_tensor_value_info("tail_lengths", TensorProto.INT64, ["B"]),
                                 helper.make_tensor_value_info("rows", TensorProto.INT64, ["B"])]
                   + inputs[2:] + tails)
    c = lambda name, vals: helper.make_node(  # noqa: E731
        "Constant", [], [name], value=helper.make_tensor(name, TensorProto.INT64, [len(vals)], vals))
    scalar = lambda name, v: helper.make_node(  # noqa: E731
        "Constant", [], [name], value=helper.make_tensor(name, TensorProto.INT64, [], [v]))

    def valid(prefix, source, lengths):  # (B, S) int64: slot < lengths[b] over source's slot axis
        return [
            helper.make_node("Shape", [source], [f"{prefix}_shape"]),
            helper.make_node("Slice", [f"{prefix}_shape", "rg_two", "rg_three"], [f"{prefix}_n1"]),
            helper.make_node("Squeeze", [f"{prefix}_n1"], [f"{prefix}_n"]),
            helper.make_node("Range", ["rg_zero", f"{prefix}_n", "rg_one"], [f"{prefix}_slots"]),
            helper.make_node("Unsqueeze", [lengths, "rg_axis1"], [f"{prefix}_len_col"]),
            helper.make_node("Less", [f"{prefix}_slots", f"{prefix}_len_col"], [f"{prefix}_valid"]),
            helper.make_node("Cast", [f"{prefix}_valid"], [f"{prefix}_valid_i"], to=TensorProto.INT64),
        ]

    prelude = [  # the mask [past slots, tail slots, self] from the lengths; before the nodes that read it
        c("rg_two", [2]), c("rg_three", [3]), c("rg_one_1d", [1]), c("rg_axis1", [1]), c("rg_axis3", [3]),
        c("rg_shape4", [-1, 1, 1, 1]), c("rg_big", [2**62]), scalar("rg_zero", 0), scalar("rg_one", 1),
        *valid("rg_past", "past_key_0", "lengths"),
        *valid("rg_tail", "tail_key_0", "tail_lengths"),
        helper.make_node("Shape", ["lengths"], ["rg_b"]),
        helper.make_node("Concat", ["rg_b", "rg_one_1d"], ["rg_b1"], axis=0),
        helper.make_node("ConstantOfShape", ["rg_b1"], ["rg_ones"],
                         value=helper.make_tensor("rg_onev", TensorProto.INT64, [1], [1])),
        helper.make_node("Concat", ["rg_past_valid_i", "rg_tail_valid_i", "rg_ones"], ["attention_mask"], axis=1),
        helper.make_node("Reshape", ["tail_lengths", "rg_shape4"], ["rg_tail_len4"]),
    ]
    uses = _consumers(g)
    before, after = {}, {}  # extra nodes placed before / after an original node (by id), keeping topological order
    for i in range(layers):
        past_k, past_v, tail_k, tail_v = f"past_key_{i}", f"past_value_{i}", f"tail_key_{i}", f"tail_value_{i}"
        (t3,) = uses[past_k]
        (mm,) = uses[t3.output[0]]
        (scale,) = uses[mm.output[0]]
        (cat,) = [n for n in uses[scale.output[0]] if n.op_type == "Concat"]
        q = mm.input[0]
        s_tail = f"rg_s_tail_{i}"
        after[id(scale)] = [
            helper.make_node("Gather", [tail_k, "rows"], [f"rg_win_key_{i}"], axis=0),
            helper.make_node("Gather", [tail_v, "rows"], [f"rg_win_value_{i}"], axis=0),
            helper.make_node("Transpose", [f"rg_win_key_{i}"], [f"rg_tail_kt_{i}"], perm=[0, 1, 3, 2]),
            helper.make_node("MatMul", [q, f"rg_tail_kt_{i}"], [f"rg_tail_mm_{i}"]),
            helper.make_node("Mul", [f"rg_tail_mm_{i}", scale.input[1]], [s_tail]),
        ]
        cat.input.insert(1, s_tail)
        (mv,) = uses[past_v]
        p_both, ctx = mv.input[0], mv.output[0]  # p over [past, tail] (the self column sliced off), its context
        before[id(mv)] = [
            helper.make_node("Slice", [p_both, "rg_zero_1d", "rg_past_n1", "rg_axis3"], [f"rg_p_past_{i}"]),
            helper.make_node("Slice", [p_both, "rg_past_n1", "rg_big", "rg_axis3"], [f"rg_p_tail_{i}"]),
        ]
        mv.input[0] = f"rg_p_past_{i}"
        mv.output[0] = f"rg_ctx_past_{i}"
        after[id(mv)] = [
            helper.make_node("MatMul", [f"rg_p_tail_{i}", f"rg_win_value_{i}"], [f"rg_ctx_tail_{i}"]),
            helper.make_node("Add", [f"rg_ctx_past_{i}", f"rg_ctx_tail_{i}"], [ctx]),
        ]
    prelude.append(c("rg_zero_1d", [0]))
    scatter = []  # after the original nodes: each layer's new K/V written into its tail slot
    outputs = [o for o in g.output if o.name in ("logits", "hidden")]
    for i in range(layers):
        for kind in ("key", "value"):
            new, tail, present = f"new_{kind}_{i}", f"rg_win_{kind}_{i}", f"present_{kind}_{i}"
            scatter += [
                helper.make_node("Shape", [new], [f"rg_{new}_shape"]),
                helper.make_node("Expand", ["rg_tail_len4", f"rg_{new}_shape"], [f"rg_{new}_idx"]),
                helper.make_node("ScatterElements", [tail, f"rg_{new}_idx", new], [present], axis=2),
            ]
            outputs.append(helper.make_tensor_value_info(present, elem, ["B", "H", "T", "hd"]))
    nodes = []
    for n in list(g.node):
        nodes += before.get(id(n), []) + [n] + after.get(id(n), [])
    del g.node[:]
    g.node.extend(prelude + nodes + scatter)
    del g.output[:]
    g.output.extend(outputs)
    return m


def cache_flush(layers, elem, opset, ir):
    """Move each row's first `shift[b]` window slots into the frozen cache at slots `lengths[b]`.. (ScatterElements
    into `out_*`, which the host binds to the `in_*` buffers), and shift the window left by as many (GatherElements
    into `tail_out_*`). Window slot t goes to frozen slot lengths[b] + min(t, shift[b] − 1): the slots past the shift
    rewrite the last moved one with its own value, so the frozen cache needs room for exactly what is frozen (a row
    with nothing to move rewrites slot lengths[b], masked, so it needs one free slot)."""
    ins, in_vi = cache_io("in", layers, elem)
    outs, out_vi = cache_io("out", layers, elem)
    tails, tail_vi = cache_io("tail", layers, elem)
    touts, tout_vi = cache_io("tail_out", layers, elem)
    vi = [helper.make_tensor_value_info(n, TensorProto.INT64, ["B"]) for n in ("lengths", "shift")]
    c = lambda name, vals: helper.make_node(  # noqa: E731
        "Constant", [], [name], value=helper.make_tensor(name, TensorProto.INT64, [len(vals)], vals))
    nodes = [
        c("shape4", [-1, 1, 1, 1]), c("two", [2]), c("three", [3]), c("slot_shape", [1, 1, -1, 1]),
        c("zero1", [0]), c("one1", [1]),
        helper.make_node("Shape", [tails[0]], ["tshape"]),
        helper.make_node("Slice", ["tshape", "two", "three"], ["t1"]),
        helper.make_node("Squeeze", ["t1"], ["t"]),
        helper.make_node("Constant", [], ["zero"], value=helper.make_tensor("zero", TensorProto.INT64, [], [0])),
        helper.make_node("Constant", [], ["one"], value=helper.make_tensor("one", TensorProto.INT64, [], [1])),
        helper.make_node("Range", ["zero", "t", "one"], ["slots"]),
        helper.make_node("Reshape", ["slots", "slot_shape"], ["slots4"]),  # (1, 1, T, 1)
        helper.make_node("Reshape", ["lengths", "shape4"], ["len4"]),
        helper.make_node("Reshape", ["shift", "shape4"], ["shift4"]),
        helper.make_node("Sub", ["shift4", "one1"], ["last_moved"]),
        helper.make_node("Max", ["last_moved", "zero1"], ["last_moved0"]),
        helper.make_node("Min", ["slots4", "last_moved0"], ["moved4"]),  # min(t, max(shift − 1, 0))
        helper.make_node("Add", ["moved4", "len4"], ["dst4"]),
        helper.make_node("Add", ["slots4", "shift4"], ["src4"]),
        helper.make_node("Sub", ["t1", "one1"], ["last"]),
        helper.make_node("Min", ["src4", "last"], ["src4c"]),
        helper.make_node("Expand", ["dst4", "tshape"], ["dst"]),
        helper.make_node("Expand", ["moved4", "tshape"], ["moved"]),
        helper.make_node("Expand", ["src4c", "tshape"], ["src"]),
    ]
    for a, b, t, to in zip(ins, outs, tails, touts):
        nodes += [helper.make_node("GatherElements", [t, "moved"], [f"{t}_moved"], axis=2),
                  helper.make_node("ScatterElements", [a, "dst", f"{t}_moved"], [b], axis=2),
                  helper.make_node("GatherElements", [t, "src"], [to], axis=2)]
    return small_graph("cache_flush", nodes, [*vi, *in_vi, *tail_vi], [*out_vi, *tout_vi], opset, ir)


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
    onnx.save(cache_flush(layers, elem, opset, ir), str(d / "cache_flush.onnx"))
    for name in ("gpt_decode_resident", "cache_gather", "cache_pad", "cache_concat", "cache_flush"):
        onnx.checker.check_model(str(d / f"{name}.onnx"))  # by path: works with external data
    print(f"wrote the resident-loop graphs of {d} ({layers} layers)")


if __name__ == "__main__":
    main(sys.argv[1])
