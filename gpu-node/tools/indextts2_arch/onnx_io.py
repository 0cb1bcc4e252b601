"""ONNX export and read-back helpers.

Export choices:
  * opset 17, dynamic axes from the contract, do_constant_folding=False: initializer names then stay the torch
    parameter names (folding would replace e.g. a Linear weight by an anonymous transposed copy), which lets
    check_model.py load a graph's weights back into the torch module. onnxruntime folds those transposes itself
    when it creates a session, so inference cost is unchanged.
  * optional fp16 storage (tiny): large float initializers are stored as float16 and cast back to float32 by a
    Cast node at the top of the graph. All graph inputs/outputs stay float32.
  * optional external data (full): torch writes >2 GB models as one file per tensor; we reload and save all
    weights into a single `<graph>.onnx.data` next to the graph.
"""

import inspect
import os
import tempfile

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper

OPSET = 17
# torch >= 2.9 defaults to the dynamo-based exporter, which writes opset-18 ops (Split with num_outputs) and then
# down-converts to 17 badly ("Bad node spec ... Split"), renames initializers (check_model.py loads weights back by
# torch parameter name) and treats dynamic_axes differently. The TorchScript exporter these graphs were designed
# and checked with is still there behind dynamo=False (the keyword exists since torch 2.5; older torch has only
# that exporter and rejects the keyword).
_TORCHSCRIPT_EXPORTER = (
    {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
)
FP16_SUFFIX = "__fp16"
FP16_MIN_ELEMENTS = 1024


def export_graph(module, args, path, input_names, output_names, dynamic_axes, io_dims=None, fp16_weights=False,
                 external_data=False):
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = os.path.join(tmp, "graph.onnx")
        with torch.no_grad():
            torch.onnx.export(
                module, args, tmp_path, opset_version=OPSET, input_names=input_names, output_names=output_names,
                dynamic_axes=dynamic_axes, do_constant_folding=False, export_params=True, **_TORCHSCRIPT_EXPORTER,
            )
        model = onnx.load(tmp_path)  # pulls any per-tensor external files back in
    _strip_doc_strings(model)
    if io_dims:
        _annotate_io(model, io_dims)
    if fp16_weights:
        _store_fp16(model)
    data_name = os.path.basename(path) + ".data"
    for stale in (path, os.path.join(os.path.dirname(path), data_name)):
        if os.path.exists(stale):
            os.remove(stale)
    if external_data:
        onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True, location=data_name,
                        size_threshold=1024)
    else:
        onnx.save_model(model, path)
    onnx.checker.check_model(path)  # path form: works for >2 GB models with external data
    return path


def _strip_doc_strings(model):
    # The exporter records Python source locations in doc strings; they are noise and vary between checkouts.
    model.doc_string = ""
    for node in model.graph.node:
        node.doc_string = ""


def _annotate_io(model, io_dims):
    """Write the contract's dims onto graph inputs/outputs. The exporter sometimes leaves a fixed output dim
    symbolic (e.g. cond_prefix's 34 = 32 + 2 comes out as 'Concat..._dim_1'); fixed dims in the contract are
    facts about the computation, so declare them. Dims the exporter already fixed must agree."""
    for value in list(model.graph.input) + list(model.graph.output):
        if value.name not in io_dims:
            continue
        dims = io_dims[value.name]
        shape = value.type.tensor_type.shape
        if len(shape.dim) != len(dims):
            raise ValueError(f"{value.name}: exported rank {len(shape.dim)}, contract rank {len(dims)}")
        for dim, want in zip(shape.dim, dims):
            if isinstance(want, int):
                if dim.HasField("dim_value") and dim.dim_value != want:
                    raise ValueError(f"{value.name}: exported dim {dim.dim_value}, contract {want}")
                dim.dim_value = want
            else:
                if dim.HasField("dim_value"):
                    raise ValueError(f"{value.name}: dim {want} was exported as the constant {dim.dim_value}")
                dim.dim_param = want


def _store_fp16(model):
    graph = model.graph
    casts = []
    for init in graph.initializer:
        if init.data_type != onnx.TensorProto.FLOAT or int(np.prod(init.dims)) < FP16_MIN_ELEMENTS:
            continue
        arr = numpy_helper.to_array(init)
        half = arr.astype(np.float16)
        if not np.array_equal(half.astype(np.float32), arr):
            raise ValueError(f"{init.name} is not fp16-exact; round the module with graphs.round_to_fp16 first")
        name = init.name
        init.CopyFrom(numpy_helper.from_array(half, name + FP16_SUFFIX))
        casts.append(helper.make_node("Cast", [name + FP16_SUFFIX], [name], to=onnx.TensorProto.FLOAT,
                                      name="cast_" + name))
    # Prepend so the graph stays topologically sorted.
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)


def load_initializers(path):
    """{torch parameter name: np.float32 array} from a graph written by export_graph (fp16 storage undone)."""
    model = onnx.load(path)  # loads external data from the graph's folder
    out = {}
    for init in model.graph.initializer:
        arr = numpy_helper.to_array(init)
        name = init.name
        if name.endswith(FP16_SUFFIX):
            name, arr = name[: -len(FP16_SUFFIX)], arr.astype(np.float32)
        out[name] = arr
    return out, model


def load_into_module(module, paths):
    """Copy initializers of one or more graphs into the module's parameters/buffers by name. Graphs that share
    a tensor must agree on it exactly. Parameters no graph carries are set to NaN, so if a forward pass used one
    the checks would fail loudly. Returns (loaded, missing, unknown) name lists."""
    inits = {}
    for path in paths:
        for key, arr in load_initializers(path)[0].items():
            if key in inits and not np.array_equal(inits[key], arr):
                raise ValueError(f"{path}: initializer {key} differs from the same tensor in another graph")
            inits[key] = arr
    params = dict(module.named_parameters())
    loaded, missing = [], []
    with torch.no_grad():
        for key, tensor in module.state_dict().items():  # shares storage with the module
            if key in inits:
                src = torch.from_numpy(np.array(inits[key]))  # copy: onnx arrays may be read-only
                if tuple(src.shape) != tuple(tensor.shape):
                    raise ValueError(f"{key}: graph has shape {tuple(src.shape)}, module expects {tuple(tensor.shape)}")
                tensor.copy_(src.to(tensor.dtype))
                loaded.append(key)
            elif key in params:
                tensor.fill_(float("nan"))
                missing.append(key)
    state = module.state_dict()
    unknown = [k for k in inits if k not in state and not k.startswith("onnx::")]
    return loaded, missing, unknown
