"""Graphs for the resident-cache decode loop (issue 13, gpu-node/MODEL.md "The decode loop on a GPU").

From a model directory's gpt_decode.onnx, writes beside it:

- gpt_decode_resident.onnx: gpt_decode over a frozen cache `past_*` (S,H,P,hd: one row per sequence, the prefix all
  its beams share; `lengths` (B,) valid slots per row) and a window `tail_*` (B,H,T,hd; `tail_lengths` (B,) valid
  slots; row b reads window row `rows[b]`), masks built in the graph; a sequence's beams' queries are multiplied
  together with its frozen row (`groups` (S,G), `group_slot` (B,2)), so it is read once per step; outputs logits,
  hidden and the window with the new K/V at slot `tail_lengths[b]` (`present_*`: one ScatterND into the `tail_*`
  buffer the host binds it to, writing only what changed: each row's new K/V, and the whole window of rows that
  took another row's (beams reordered)); attention reads that output. The frozen cache is an input only.
- cache_flush, cache_gather, cache_pad, cache_concat.onnx: the cache operations where the cache lives in device
  memory (`cache_graphs.py`).

The host then moves O(batch) bytes per step (ids, positions, lengths, window rows, groups in; logits and hidden
out) whatever the history; on a GPU execution provider with `gpu-buffer` outputs the cache never leaves the device.
A step rewrites only the window, so on the CPU (where onnxruntime-node copies every fetched output into a new
array) it does not copy the whole cache.

    /tmp/hfcheck/bin/python gpu-node/tools/resident_graphs.py gpu-node/models/tiny
"""

import sys
from pathlib import Path

import onnx
from cache_graphs import cache_graphs, cache_io
from onnx import TensorProto, helper


def _consumers(g):
    out = {}
    for n in g.node:
        for i in n.input:
            out.setdefault(i, []).append(n)
    return out


def _i64(name, vals):
    return helper.make_node("Constant", [], [name], value=helper.make_tensor(name, TensorProto.INT64, [len(vals)], vals))


def window_indices():
    """ScatterND indices shared by every layer's window update (prefix `wi_`), from `rows` and `tail_lengths`:
    rows that stay (rows[b] == b) get their new K/V at (b, h, tail_lengths[b]); rows that take another row's window
    (beams reordered) get all of it, gathered, with their new K/V in it. The two sets are disjoint, so the one
    ScatterND has no duplicate index and writes only what changed: with one beam, B×H slices of hd values."""
    return [
        _i64("wi_zero", [0]), _i64("wi_one", [1]), _i64("wi_two", [2]), _i64("wi_three", [3]), _i64("wi_four", [4]),
        _i64("wi_m1", [-1]), _i64("wi_r4", [-1, 1, 1, 1]), _i64("wi_r3", [-1, 1, 1]), _i64("wi_h3", [1, -1, 1]),
        _i64("wi_h4", [1, -1, 1, 1]), _i64("wi_t4", [1, 1, -1, 1]),
        helper.make_node("Shape", ["tail_key_0"], ["wi_shape"]),
        helper.make_node("Slice", ["wi_shape", "wi_zero", "wi_one"], ["wi_b1"]),
        helper.make_node("Slice", ["wi_shape", "wi_one", "wi_two"], ["wi_h1"]),
        helper.make_node("Slice", ["wi_shape", "wi_two", "wi_three"], ["wi_t1"]),
        helper.make_node("Slice", ["wi_shape", "wi_three", "wi_four"], ["wi_hd1"]),
        helper.make_node("Concat", ["wi_m1", "wi_hd1"], ["wi_flat"], axis=0),  # (-1, hd)
        helper.make_node("Squeeze", ["wi_b1", "wi_zero"], ["wi_b"]),
        helper.make_node("Squeeze", ["wi_h1", "wi_zero"], ["wi_h"]),
        helper.make_node("Squeeze", ["wi_t1", "wi_zero"], ["wi_t"]),
        helper.make_node("Constant", [], ["wi_s0"], value=helper.make_tensor("wi_s0", TensorProto.INT64, [], [0])),
        helper.make_node("Constant", [], ["wi_s1"], value=helper.make_tensor("wi_s1", TensorProto.INT64, [], [1])),
        helper.make_node("Range", ["wi_s0", "wi_b", "wi_s1"], ["wi_brange"]),
        helper.make_node("Range", ["wi_s0", "wi_h", "wi_s1"], ["wi_hrange"]),
        helper.make_node("Range", ["wi_s0", "wi_t", "wi_s1"], ["wi_trange"]),
        helper.make_node("Equal", ["rows", "wi_brange"], ["wi_same"]),
        helper.make_node("Not", ["wi_same"], ["wi_moved_mask"]),
        helper.make_node("NonZero", ["wi_same"], ["wi_stay2"]),
        helper.make_node("Reshape", ["wi_stay2", "wi_m1"], ["wi_stay"]),  # (S,)
        helper.make_node("NonZero", ["wi_moved_mask"], ["wi_dst2"]),
        helper.make_node("Reshape", ["wi_dst2", "wi_m1"], ["wi_dst"]),  # (M,) rows that take another's window
        helper.make_node("Gather", ["rows", "wi_dst"], ["wi_src"], axis=0),  # (M,) the windows they take
        # stay rows: (S, H, 1, 3) = (b, h, tail_lengths[b])
        helper.make_node("Shape", ["wi_stay"], ["wi_s_n"]),
        helper.make_node("Concat", ["wi_s_n", "wi_h1", "wi_one"], ["wi_s_shape"], axis=0),
        helper.make_node("Reshape", ["wi_stay", "wi_r3"], ["wi_s_b3"]),
        helper.make_node("Expand", ["wi_s_b3", "wi_s_shape"], ["wi_s_b"]),
        helper.make_node("Reshape", ["wi_hrange", "wi_h3"], ["wi_h13"]),
        helper.make_node("Expand", ["wi_h13", "wi_s_shape"], ["wi_s_h"]),
        helper.make_node("Gather", ["tail_lengths", "wi_stay"], ["wi_s_len"], axis=0),
        helper.make_node("Reshape", ["wi_s_len", "wi_r3"], ["wi_s_t3"]),
        helper.make_node("Expand", ["wi_s_t3", "wi_s_shape"], ["wi_s_t"]),
        helper.make_node("Unsqueeze", ["wi_s_b", "wi_m1"], ["wi_s_b4"]),
        helper.make_node("Unsqueeze", ["wi_s_h", "wi_m1"], ["wi_s_h4"]),
        helper.make_node("Unsqueeze", ["wi_s_t", "wi_m1"], ["wi_s_t4"]),
        helper.make_node("Concat", ["wi_s_b4", "wi_s_h4", "wi_s_t4"], ["wi_s_idx4"], axis=3),
        helper.make_node("Reshape", ["wi_s_idx4", "_wi_3"], ["wi_s_idx"]),
        # moved rows, whole windows: (M, H, T, 3) = (dst, h, t)
        helper.make_node("Shape", ["wi_dst"], ["wi_m_n"]),
        helper.make_node("Concat", ["wi_m_n", "wi_h1", "wi_t1", "wi_one"], ["wi_m_shape"], axis=0),
        helper.make_node("Reshape", ["wi_dst", "wi_r4"], ["wi_m_b4"]),
        helper.make_node("Expand", ["wi_m_b4", "wi_m_shape"], ["wi_m_b"]),
        helper.make_node("Reshape", ["wi_hrange", "wi_h4"], ["wi_h14"]),
        helper.make_node("Expand", ["wi_h14", "wi_m_shape"], ["wi_m_h"]),
        helper.make_node("Reshape", ["wi_trange", "wi_t4"], ["wi_t14"]),
        helper.make_node("Expand", ["wi_t14", "wi_m_shape"], ["wi_m_t"]),
        helper.make_node("Concat", ["wi_m_b", "wi_m_h", "wi_m_t"], ["wi_m_idx4"], axis=3),
        helper.make_node("Reshape", ["wi_m_idx4", "_wi_3"], ["wi_m_idx"]),
        helper.make_node("Concat", ["wi_m_idx", "wi_s_idx"], ["wi_idx"], axis=0),
        # the new K/V inside the gathered windows of moved rows: (M, H, 1, 3) = (j, h, tail_lengths[dst_j])
        helper.make_node("Range", ["wi_s0", "wi_mcount", "wi_s1"], ["wi_jrange"]),
        helper.make_node("Squeeze", ["wi_m_n", "wi_zero"], ["wi_mcount"]),
        helper.make_node("Concat", ["wi_m_n", "wi_h1", "wi_one"], ["wi_n_shape"], axis=0),
        helper.make_node("Reshape", ["wi_jrange", "wi_r3"], ["wi_n_j3"]),
        helper.make_node("Expand", ["wi_n_j3", "wi_n_shape"], ["wi_n_j"]),
        helper.make_node("Expand", ["wi_h13", "wi_n_shape"], ["wi_n_h"]),
        helper.make_node("Gather", ["tail_lengths", "wi_dst"], ["wi_n_len"], axis=0),
        helper.make_node("Reshape", ["wi_n_len", "wi_r3"], ["wi_n_t3"]),
        helper.make_node("Expand", ["wi_n_t3", "wi_n_shape"], ["wi_n_t"]),
        helper.make_node("Unsqueeze", ["wi_n_j", "wi_m1"], ["wi_n_j4"]),
        helper.make_node("Unsqueeze", ["wi_n_h", "wi_m1"], ["wi_n_h4"]),
        helper.make_node("Unsqueeze", ["wi_n_t", "wi_m1"], ["wi_n_t4"]),
        helper.make_node("Concat", ["wi_n_j4", "wi_n_h4", "wi_n_t4"], ["wi_n_idx4"], axis=3),
        helper.make_node("Reshape", ["wi_n_idx4", "_wi_3"], ["wi_n_idx"]),
        _i64("_wi_3", [-1, 3]), _i64("_wu_bh", [0, 0, -1]),
    ]


def window_update(tail, new, present):
    """present = tail with moved rows' windows (gathered, new K/V in) and stay rows' new K/V scattered in: one
    ScatterND, whose output the host binds to the `tail` buffer, so nothing else of the window is copied."""
    p = f"wu_{present}"
    return [
        helper.make_node("Reshape", [new, "_wu_bh"], [f"{p}_new3"]),  # (B, H, hd)
        helper.make_node("Gather", [f"{p}_new3", "wi_dst"], [f"{p}_new_m"], axis=0),
        helper.make_node("Reshape", [f"{p}_new_m", "wi_flat"], [f"{p}_new_mf"]),
        helper.make_node("Gather", [f"{p}_new3", "wi_stay"], [f"{p}_new_s"], axis=0),
        helper.make_node("Reshape", [f"{p}_new_s", "wi_flat"], [f"{p}_new_sf"]),
        helper.make_node("Gather", [tail, "wi_src"], [f"{p}_moved"], axis=0),  # (M, H, T, hd)
        helper.make_node("ScatterND", [f"{p}_moved", "wi_n_idx", f"{p}_new_mf"], [f"{p}_moved_new"]),
        helper.make_node("Reshape", [f"{p}_moved_new", "wi_flat"], [f"{p}_moved_f"]),
        helper.make_node("Concat", [f"{p}_moved_f", f"{p}_new_sf"], [f"{p}_upd"], axis=0),
        helper.make_node("ScatterND", [tail, "wi_idx", f"{p}_upd"], [present]),
    ]


def topological(nodes, available):
    """nodes in an order where each runs after what it reads (the inserted nodes read outputs of later originals)"""
    ready, out, pending = set(available) | {""}, [], list(nodes)
    while pending:
        rest = []
        for n in pending:
            if all(i in ready for i in n.input):
                out.append(n)
                ready.update(n.output)
            else:
                rest.append(n)
        if len(rest) == len(pending):
            raise ValueError(f"cycle or missing input at {rest[0].op_type} {list(rest[0].input)}")
        pending = rest
    return out


def to_groups(rows, grouped):
    """(B, H, 1, n) per row -> (S, H, G, n): row groups[s][g] at [s, :, g] (a sequence's beams side by side)"""
    return [
        helper.make_node("Gather", [rows, "groups"], [f"{grouped}_5"], axis=0),  # (S, G, H, 1, n)
        helper.make_node("Squeeze", [f"{grouped}_5", "rg_axis3"], [f"{grouped}_4"]),
        helper.make_node("Transpose", [f"{grouped}_4"], [grouped], perm=[0, 2, 1, 3]),
    ]


def from_groups(grouped, rows):
    """(S, H, G, n) -> (B, H, 1, n): row b's values at [group_slot[b][0], :, group_slot[b][1]]"""
    return [
        helper.make_node("Transpose", [grouped], [f"{grouped}_t"], perm=[0, 2, 1, 3]),  # (S, G, H, n)
        helper.make_node("GatherND", [f"{grouped}_t", "group_slot"], [f"{grouped}_rows"]),  # (B, H, n)
        helper.make_node("Unsqueeze", [f"{grouped}_rows", "rg_two"], [rows]),
    ]


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
                                 helper.make_tensor_value_info("rows", TensorProto.INT64, ["B"]),
                                 helper.make_tensor_value_info("groups", TensorProto.INT64, ["S", "G"]),
                                 helper.make_tensor_value_info("group_slot", TensorProto.INT64, ["B", 2])]
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
        c("rg_big", [2**62]), scalar("rg_zero", 0), scalar("rg_one", 1),
        *valid("rg_past", "past_key_0", "lengths"),
        *valid("rg_tail", "tail_key_0", "tail_lengths"),
        helper.make_node("Shape", ["lengths"], ["rg_b"]),
        helper.make_node("Concat", ["rg_b", "rg_one_1d"], ["rg_b1"], axis=0),
        helper.make_node("ConstantOfShape", ["rg_b1"], ["rg_ones"],
                         value=helper.make_tensor("rg_onev", TensorProto.INT64, [1], [1])),
        helper.make_node("Concat", ["rg_past_valid_i", "rg_tail_valid_i", "rg_ones"], ["attention_mask"], axis=1),
    ]
    prelude += window_indices()
    uses = _consumers(g)
    before, after = {}, {}  # extra nodes placed before / after an original node (by id)
    for i in range(layers):
        past_k, past_v = f"past_key_{i}", f"past_value_{i}"
        (t3,) = uses[past_k]
        (mm,) = uses[t3.output[0]]
        (scale,) = uses[mm.output[0]]
        (cat,) = [n for n in uses[scale.output[0]] if n.op_type == "Concat"]
        q = mm.input[0]
        # the frozen part per sequence: its beams' queries together, so each frozen row is read once (S, H, G, P)
        scores = mm.output[0]
        mm.input[0] = f"rg_qg_{i}"
        mm.output[0] = f"rg_sg_{i}"
        before[id(mm)] = to_groups(q, f"rg_qg_{i}")
        after[id(mm)] = from_groups(f"rg_sg_{i}", scores)
        s_tail = f"rg_s_tail_{i}"
        # the window as this step leaves it (beams moved, the new K/V in slot tail_lengths[b], masked here: the
        # self column attends to it) is what attention reads: the graph output, written in place
        after[id(scale)] = [
            helper.make_node("Transpose", [f"present_key_{i}"], [f"rg_tail_kt_{i}"], perm=[0, 1, 3, 2]),
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
        before[id(mv)] += to_groups(f"rg_p_past_{i}", f"rg_pg_{i}")
        mv.input[0] = f"rg_pg_{i}"
        mv.output[0] = f"rg_cg_{i}"
        after[id(mv)] = [
            *from_groups(f"rg_cg_{i}", f"rg_ctx_past_{i}"),
            helper.make_node("MatMul", [f"rg_p_tail_{i}", f"present_value_{i}"], [f"rg_ctx_tail_{i}"]),
            helper.make_node("Add", [f"rg_ctx_past_{i}", f"rg_ctx_tail_{i}"], [ctx]),
        ]
    prelude.append(c("rg_zero_1d", [0]))
    scatter = []  # each layer's window: moved rows and the new K/V written into the tail_* buffer it is bound to
    outputs = [o for o in g.output if o.name in ("logits", "hidden")]
    for i in range(layers):
        for kind in ("key", "value"):
            scatter += window_update(f"tail_{kind}_{i}", f"new_{kind}_{i}", f"present_{kind}_{i}")
            outputs.append(helper.make_tensor_value_info(f"present_{kind}_{i}", elem, ["B", "H", "T", "hd"]))
    nodes = []
    for n in list(g.node):
        nodes += before.get(id(n), []) + [n] + after.get(id(n), [])
    del g.node[:]
    g.node.extend(topological(prelude + nodes + scatter, [i.name for i in g.input] + [t.name for t in g.initializer]))
    del g.output[:]
    g.output.extend(outputs)
    return m


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

    for name, model in cache_graphs(layers, elem, opset, ir).items():
        onnx.save(model, str(d / f"{name}.onnx"))
    for name in ("gpt_decode_resident", "cache_gather", "cache_pad", "cache_concat", "cache_flush"):
        onnx.checker.check_model(str(d / f"{name}.onnx"))  # by path: works with external data
    print(f"wrote the resident-loop graphs of {d} ({layers} layers)")


if __name__ == "__main__":
    main(sys.argv[1])
