"""The resident decode loop's cache graphs (issue 13, gpu-node/MODEL.md "The decode loop on a GPU"), run where the
cache lives in device memory (gpu-node/src/engine/graph-cache-ops.ts); `resident_graphs.py` writes them.

- cache_flush: each sequence's shared window slots into its frozen row, every window shifted left;
- cache_gather: rows of every cache tensor by index (`rows` (B')): a prefill repeated for its beams, rows leaving,
  pending beam reorders;
- cache_pad: every cache tensor padded with zeros along the slot axis to `capacity` (1,) (Concat), or cropped to it
  (Slice), one or the other by an `If`;
- cache_concat: two caches joined along the batch axis (a prefilled sequence joining the running batch).
"""

from onnx import TensorProto, helper


def cache_io(prefix, layers, elem):
    names = []
    for i in range(layers):
        names += [f"{prefix}_key_{i}", f"{prefix}_value_{i}"]
    return names, [helper.make_tensor_value_info(n, elem, ["B", "H", "P", "hd"]) for n in names]


def small_graph(name, nodes, inputs, outputs, opset, ir_version):
    model = helper.make_model(helper.make_graph(nodes, name, inputs, outputs), opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = ir_version  # the decode graph's: onnxruntime-node 1.30 reads IR ≤ 13
    return model


def cache_flush(layers, elem, opset, ir):
    """Freeze each sequence's first `shift[s]` window slots, taken from its beam row `src[s]`, into its frozen row s
    at slots `lengths[s]`.. (ScatterND into `out_*`, which the host binds to the `in_*` buffers, so only the moved
    slots are written), and shift every row's window left by `tail_shift[b]` (GatherND into `tail_out_*`). Window
    slot t goes to frozen slot lengths[s] + min(t, shift[s] − 1): the slots past the shift rewrite the last moved one
    with its own value (the same bytes, so the duplicate indices are harmless), and the frozen cache needs room for
    exactly what is frozen (a sequence with nothing to move rewrites slot lengths[s], masked, so it needs one free
    slot). Indices address (row, h, slot) slices of hd values: a copy per slice, where ScatterElements /
    GatherElements computed an index per value (~60 ms per flush on `small`)."""
    ins, in_vi = cache_io("in", layers, elem)
    outs, out_vi = cache_io("out", layers, elem)
    tails, tail_vi = cache_io("tail", layers, elem)
    touts, tout_vi = cache_io("tail_out", layers, elem)
    vi = [helper.make_tensor_value_info(n, TensorProto.INT64, ["S"]) for n in ("lengths", "shift", "src")]
    vi.append(helper.make_tensor_value_info("tail_shift", TensorProto.INT64, ["B"]))
    c = lambda name, vals: helper.make_node(  # noqa: E731
        "Constant", [], [name], value=helper.make_tensor(name, TensorProto.INT64, [len(vals)], vals))

    def grid(prefix, rows_of):
        """(N, H, T) shape of a window tensor with `rows_of`'s rows, and its (N, H, T) row and head indices"""
        return [
            helper.make_node("Shape", [rows_of], [f"{prefix}_n1"]),
            helper.make_node("Concat", [f"{prefix}_n1", "h1", "t1"], [f"{prefix}_nht"], axis=0),
            helper.make_node("Squeeze", [f"{prefix}_n1", "zero1"], [f"{prefix}_n"]),
            helper.make_node("Range", ["zero", f"{prefix}_n", "one"], [f"{prefix}_range"]),
            helper.make_node("Reshape", [f"{prefix}_range", "shape3"], [f"{prefix}_r3"]),
            helper.make_node("Expand", [f"{prefix}_r3", f"{prefix}_nht"], [f"{prefix}_rows"]),
            helper.make_node("Expand", ["hh3", f"{prefix}_nht"], [f"{prefix}_heads"]),
        ]

    nodes = [
        c("shape3", [-1, 1, 1]), c("zero1", [0]), c("one1", [1]), c("two", [2]), c("three", [3]), c("h3", [1, -1, 1]),
        c("t3", [1, 1, -1]), c("m1", [-1]),
        helper.make_node("Shape", [tails[0]], ["tshape"]),
        helper.make_node("Slice", ["tshape", "one1", "two"], ["h1"]),
        helper.make_node("Slice", ["tshape", "two", "three"], ["t1"]),
        helper.make_node("Squeeze", ["h1", "zero1"], ["h"]),
        helper.make_node("Squeeze", ["t1", "zero1"], ["t"]),
        helper.make_node("Constant", [], ["zero"], value=helper.make_tensor("zero", TensorProto.INT64, [], [0])),
        helper.make_node("Constant", [], ["one"], value=helper.make_tensor("one", TensorProto.INT64, [], [1])),
        helper.make_node("Range", ["zero", "h", "one"], ["hrange"]),
        helper.make_node("Reshape", ["hrange", "h3"], ["hh3"]),
        helper.make_node("Range", ["zero", "t", "one"], ["slots"]),
        helper.make_node("Reshape", ["slots", "t3"], ["slots3"]),  # (1, 1, T)
        *grid("seq", "lengths"),
        *grid("row", "tail_shift"),
        # sequences: window slot t of row src[s] to frozen slot lengths[s] + min(t, max(shift[s] − 1, 0))
        helper.make_node("Reshape", ["lengths", "shape3"], ["len3"]),
        helper.make_node("Reshape", ["shift", "shape3"], ["shift3"]),
        helper.make_node("Sub", ["shift3", "one1"], ["last_moved"]),
        helper.make_node("Max", ["last_moved", "zero1"], ["last_moved0"]),
        helper.make_node("Min", ["slots3", "last_moved0"], ["moved3"]),
        helper.make_node("Add", ["moved3", "len3"], ["dst3"]),
        # (S, H, T, 1) slot indices for GatherND over (s, h) batches; (S, H, T, 3) = (s, h, slot) for ScatterND
        helper.make_node("Expand", ["moved3", "seq_nht"], ["moved"]),
        helper.make_node("Unsqueeze", ["moved", "m1"], ["moved_idx"]),
        helper.make_node("Expand", ["dst3", "seq_nht"], ["dst"]),
        helper.make_node("Unsqueeze", ["seq_rows", "m1"], ["bb4"]),
        helper.make_node("Unsqueeze", ["seq_heads", "m1"], ["hh4"]),
        helper.make_node("Unsqueeze", ["dst", "m1"], ["dst4"]),
        helper.make_node("Concat", ["bb4", "hh4", "dst4"], ["dst_idx"], axis=3),
        # rows: window slot t from slot min(t + tail_shift[b], T − 1)
        helper.make_node("Reshape", ["tail_shift", "shape3"], ["tshift3"]),
        helper.make_node("Add", ["slots3", "tshift3"], ["src3"]),
        helper.make_node("Sub", ["t1", "one1"], ["last"]),
        helper.make_node("Min", ["src3", "last"], ["src3c"]),
        helper.make_node("Expand", ["src3c", "row_nht"], ["src_slots"]),
        helper.make_node("Unsqueeze", ["src_slots", "m1"], ["src_idx"]),
    ]
    for a, b, t, to in zip(ins, outs, tails, touts):
        nodes += [helper.make_node("Gather", [t, "src"], [f"{t}_src"], axis=0),  # (S, H, T, hd)
                  helper.make_node("GatherND", [f"{t}_src", "moved_idx"], [f"{t}_moved"], batch_dims=2),
                  helper.make_node("ScatterND", [a, "dst_idx", f"{t}_moved"], [b]),
                  helper.make_node("GatherND", [t, "src_idx"], [to], batch_dims=2)]
    return small_graph("cache_flush", nodes, [*vi, *in_vi, *tail_vi], [*out_vi, *tout_vi], opset, ir)


def cache_graphs(layers, elem, opset, ir):
    """{name: model} of the four cache graphs for a GPT of `layers` layers and cache element type `elem`"""
    ins, in_vi = cache_io("in", layers, elem)
    outs, out_vi = cache_io("out", layers, elem)
    rows = helper.make_tensor_value_info("rows", TensorProto.INT64, ["R"])
    gather = small_graph("cache_gather", [helper.make_node("Gather", [a, "rows"], [b], axis=0) for a, b in zip(ins, outs)],
                         [rows, *in_vi], out_vi, opset, ir)

    cap = helper.make_tensor_value_info("capacity", TensorProto.INT64, [1])
    # padded by a Concat with zeros, or cropped by a Slice (an `If` on which: each writes the output once): block
    # copies along the slot axis, where onnxruntime's CPU Pad ran ~10× slower than a copy (434 ms to pad 16 rows of
    # `small` from 160 to 192 slots)
    i64 = lambda name, vals: helper.make_node(  # noqa: E731
        "Constant", [], [name], value=helper.make_tensor(name, TensorProto.INT64, [len(vals)], vals))
    pad_nodes = [
        i64("zero", [0]), i64("two", [2]), i64("three", [3]), i64("four", [4]),
        helper.make_node("Shape", [ins[0]], ["shape"]),
        helper.make_node("Slice", ["shape", "two", "three"], ["p"]),
        helper.make_node("Less", ["capacity", "p"], ["crop1"]),
        helper.make_node("Squeeze", ["crop1", "zero"], ["crop"]),
        helper.make_node("Slice", ["shape", "zero", "two"], ["bh"]),
        helper.make_node("Slice", ["shape", "three", "four"], ["hd"]),
        helper.make_node("Sub", ["capacity", "p"], ["extra"]),
        helper.make_node("Max", ["extra", "zero"], ["extra0"]),
        helper.make_node("Concat", ["bh", "extra0", "hd"], ["zshape"], axis=0),
        helper.make_node("ConstantOfShape", ["zshape"], ["zeros_f"],
                         value=helper.make_tensor("zero_value", TensorProto.FLOAT, [1], [0.0])),
        helper.make_node("CastLike", ["zeros_f", ins[0]], ["zeros"]),
    ]
    grow = [helper.make_node("Concat", [a, "zeros"], [f"{b}_grown"], axis=2) for a, b in zip(ins, outs)]
    crop = [helper.make_node("Slice", [a, "zero", "capacity", "two"], [f"{b}_cropped"]) for a, b in zip(ins, outs)]
    branch = lambda name, nodes, suffix: helper.make_graph(  # noqa: E731
        nodes, name, [], [helper.make_tensor_value_info(f"{b}_{suffix}", elem, None) for b in outs])
    pad_nodes.append(helper.make_node("If", ["crop"], outs, then_branch=branch("crop", crop, "cropped"),
                                      else_branch=branch("grow", grow, "grown")))
    pad = small_graph("cache_pad", pad_nodes, [cap, *in_vi], out_vi, opset, ir)

    a_names, a_vi = cache_io("a", layers, elem)
    b_names, b_vi = cache_io("b", layers, elem)
    concat = small_graph("cache_concat", [helper.make_node("Concat", [a, b], [o], axis=0)
                                          for a, b, o in zip(a_names, b_names, outs)],
                         [*a_vi, *b_vi], out_vi, opset, ir)
    return {"cache_gather": gather, "cache_pad": pad, "cache_concat": concat,
            "cache_flush": cache_flush(layers, elem, opset, ir)}
