"""Freezing, running and writing one test case (GraphDef + config + npy).

A case is a Python function of N tensors returning a tensor or a tuple of
tensors.  It is traced with tf.function under a fixed input_signature, its
variables are turned into constants with convert_variables_to_constants_v2
(lower_control_flow=False so While/If stay functional and the
FunctionDefLibrary is kept), and the frozen GraphDef is run with a
tf.compat.v1.Session to produce the reference outputs.
"""
import os
import zlib

import numpy as np
import tensorflow as tf
from google.protobuf import text_format
from tensorflow.compiler.tf2xla import tf2xla_pb2
from tensorflow.core.framework import graph_pb2, types_pb2
from tensorflow.python.framework.convert_to_constants import (
    convert_variables_to_constants_v2)

# Op types not listed in the MANIFEST "# ops:" comment.
TRIVIAL_OPS = {"Placeholder", "Const", "Identity", "NoOp"}

FAMILIES = {"exact", "elementwise", "transcendental", "matmul", "conv",
            "reduce", "model"}


def rng_for(name):
    """A numpy Generator seeded from the case name (stable across runs)."""
    return np.random.default_rng(zlib.crc32(name.encode()))


def dtype_name(np_dtype):
    return types_pb2.DataType.Name(tf.as_dtype(np_dtype).as_datatype_enum)


class Case:
    def __init__(self, name, fn, inputs, family, ops, fetch_names=None,
                 pbtxt=False, ref=None, pretty_config=False, check_eager=True,
                 config_style=None, fetch_direct=False):
        """name: case name; fn: function of the input tensors;
        inputs: list of (feed_name, np.ndarray) in feed order;
        family: tolerance family; ops: op types that must be in the graph
        (top level or function library); fetch_names: names for the config
        fetches (default y / y0, y1, ...); pbtxt: also write NAME.pbtxt;
        ref: optional function of numpy inputs -> list of outputs computed
        with TensorFlow another way (for ops TF's CPU kernels cannot run,
        e.g. NCHW Conv2D); config_style: "line" (default: one feed/fetch
        block per line), "pretty" (multi-line, like MessageToString, with
        a comment; pretty_config=True is the same) or "compact" (all blocks
        on one line, output_index 0 left out, comments and blank lines)."""
        assert family in FAMILIES, family
        self.name, self.fn, self.inputs, self.family = name, fn, inputs, family
        self.ops = [ops] if isinstance(ops, str) else list(ops)
        self.fetch_names, self.pbtxt, self.ref = fetch_names, pbtxt, ref
        self.config_style = config_style or (
            "pretty" if pretty_config else "line")
        assert self.config_style in ("line", "pretty", "compact")
        # fetch_direct: fetch the tensors the output Identity nodes read
        # (e.g. Split:1) instead of the Identity nodes themselves.
        self.fetch_direct = fetch_direct
        self.check_eager = check_eager


def freeze(fn, inputs):
    sig = [tf.TensorSpec(a.shape, tf.as_dtype(a.dtype), name=n)
           for n, a in inputs]
    cf = tf.function(fn, input_signature=sig, autograph=False,
                     jit_compile=False).get_concrete_function()
    frozen = convert_variables_to_constants_v2(cf, lower_control_flow=False)
    gd = frozen.graph.as_graph_def()
    feed_nodes = [t.name.split(":")[0] for t in frozen.inputs
                  if t.dtype != tf.resource]
    canonical_order(gd, feed_nodes)
    fetch_tensors = [t.name for t in frozen.outputs]
    return gd, feed_nodes, fetch_tensors, cf


def canonical_order(gd, feed_nodes):
    """Reorders gd.node deterministically (the inlining pass run by
    convert_variables_to_constants_v2 does not keep a stable order):
    a topological order, feeds first in feed order, ties broken by name."""
    import heapq
    nodes = {n.name: n for n in gd.node}
    deps = {n.name: set() for n in gd.node}
    users = {n.name: [] for n in gd.node}
    for n in gd.node:
        for i in n.input:
            src = i.lstrip("^").split(":")[0]
            if src in nodes and src not in deps[n.name]:
                deps[n.name].add(src)
                users[src].append(n.name)
    feed_pos = {f: k for k, f in enumerate(feed_nodes)}
    key = lambda nm: ((0, feed_pos[nm], "") if nm in feed_pos else (1, 0, nm))
    ready = [key(nm) for nm, d in deps.items() if not d]
    heapq.heapify(ready)
    left = {nm: len(d) for nm, d in deps.items()}
    order = []
    while ready:
        nm = heapq.heappop(ready)
        nm = nm[2] if nm[0] == 1 else feed_nodes[nm[1]]
        order.append(nm)
        for u in users[nm]:
            left[u] -= 1
            if left[u] == 0:
                heapq.heappush(ready, key(u))
    if len(order) != len(nodes):  # cycles cannot happen in frozen TF2 graphs
        raise AssertionError("graph is not acyclic")
    new = [nodes[nm] for nm in order]
    copies = [type(n)() for n in new]
    for c, n in zip(copies, new):
        c.CopyFrom(n)
    del gd.node[:]
    gd.node.extend(copies)
    return gd


def op_types(gd):
    """(top-level op types with counts, op types inside library functions)."""
    top = {}
    for n in gd.node:
        top[n.op] = top.get(n.op, 0) + 1
    lib = {}
    for f in gd.library.function:
        for n in f.node_def:
            lib[n.op] = lib.get(n.op, 0) + 1
    return top, lib


def run_graph(gd, feeds, fetches):
    g = tf.Graph()
    with g.as_default():
        tf.compat.v1.import_graph_def(gd, name="")
    cfg = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=2,
                                   inter_op_parallelism_threads=1)
    with tf.compat.v1.Session(graph=g, config=cfg) as s:
        return s.run(fetches, feeds)


def config_text(feeds, fetches, style):
    """feeds: [(node, shape, dtype_name)]; fetches: [(node, index, name)]."""
    out = []
    if style == "compact":
        out.append("# tfcompile config, compact variant: output_index 0 is "
                   "implied")
        out.append("")
        blocks = []
        for node, shape, dt in feeds:
            dims = "".join("dim{size:%d}" % d for d in shape)
            blocks.append('feed{id{node_name:"%s"}shape{%s}name:"%s" type:%s}'
                          % (node, dims, node, dt))
        for node, idx, name in fetches:
            oi = " output_index:%d" % idx if idx else ""
            blocks.append('fetch{id{node_name:"%s"%s}name:"%s"}' %
                          (node, oi, name))
        out.append(" ".join(blocks) + "  # feeds then fetches")
        out.append("")
    elif style == "pretty":
        out.append("# tfcompile config (tensorflow.tf2xla.Config), text format")
        for node, shape, dt in feeds:
            out.append("feed {")
            out.append("  id {")
            out.append('    node_name: "%s"' % node)
            out.append("  }")
            if shape:
                out.append("  shape {")
                for d in shape:
                    out.append("    dim {")
                    out.append("      size: %d" % d)
                    out.append("    }")
                out.append("  }")
            else:
                out.append("  shape {")
                out.append("  }")
            out.append('  name: "%s"' % node)
            out.append("  type: %s" % dt)
            out.append("}")
        for node, idx, name in fetches:
            out.append("fetch {")
            out.append("  id {")
            out.append('    node_name: "%s"' % node)
            out.append("    output_index: %d" % idx)
            out.append("  }")
            out.append('  name: "%s"' % name)
            out.append("}")
    else:
        for node, shape, dt in feeds:
            dims = "".join("dim { size: %d } " % d for d in shape)
            out.append('feed { id { node_name: "%s" } shape { %s} name: "%s" '
                       'type: %s }' % (node, dims, node, dt))
        for node, idx, name in fetches:
            out.append('fetch { id { node_name: "%s" output_index: %d } '
                       'name: "%s" }' % (node, idx, name))
    return "\n".join(out) + "\n"


def _check_config(name, text, feeds, fetches, gd):
    """Parses the hand-written config with the real tf2xla Config proto."""
    cfg = tf2xla_pb2.Config()
    text_format.Parse(text, cfg)
    assert len(cfg.feed) == len(feeds) and len(cfg.fetch) == len(fetches), name
    nodes = {n.name for n in gd.node}
    for fd, (node, shape, dt) in zip(cfg.feed, feeds):
        assert fd.id.node_name == node and node in nodes, (name, node)
        assert [d.size for d in fd.shape.dim] == shape, (name, node)
        assert types_pb2.DataType.Name(fd.type) == dt, (name, node)
    for ft, (node, idx, nm) in zip(cfg.fetch, fetches):
        assert (ft.id.node_name, ft.id.output_index, ft.name) == (node, idx, nm)
        assert node in nodes, (name, node)


def _save_npy(path, arr):
    arr = np.asarray(arr)
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    # (np.ascontiguousarray would turn 0-d arrays into 1-d ones)
    np.save(path, np.array(arr, order="C", copy=True), allow_pickle=False)


def _compare(a, b, what):
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        raise AssertionError("%s: shape/dtype mismatch %s %s vs %s %s" %
                             (what, a.shape, a.dtype, b.shape, b.dtype))
    if a.dtype.kind in "biu":
        ok = np.array_equal(a, b)
    else:
        tol = 1e-2 if a.dtype == np.float16 else 1e-4
        ok = np.allclose(a.astype(np.float64), b.astype(np.float64),
                         rtol=tol, atol=tol, equal_nan=True)
    if not ok:
        raise AssertionError("%s: results differ" % what)


def emit(case, outdir):
    """Freeze, check, run and write one case.  Returns a summary dict."""
    gd, feed_nodes, fetch_tensors, cf = freeze(case.fn, case.inputs)
    top, lib = op_types(gd)
    allops = set(top) | set(lib)
    missing = [o for o in case.ops if o not in allops]
    if missing:
        raise AssertionError("%s: op(s) %s not in frozen graph (has %s)" %
                             (case.name, missing, sorted(allops)))
    bad = allops & {"ReadVariableOp", "VarHandleOp", "VariableV2",
                    "ResourceGather", "AssignVariableOp", "PartitionedCall",
                    "StatefulPartitionedCall"}
    if bad:
        raise AssertionError("%s: unexpected ops survive freezing: %s" %
                             (case.name, sorted(bad)))
    if [n for n, _ in case.inputs] != feed_nodes:
        raise AssertionError("%s: feed names %s != %s" %
                             (case.name, feed_nodes, [n for n, _ in case.inputs]))
    if case.fetch_direct:
        nodes = {n.name: n for n in gd.node}
        direct = []
        for t in fetch_tensors:
            n = nodes[t.split(":")[0]]
            assert n.op == "Identity", (case.name, t)
            src = n.input[0]
            direct.append(src if ":" in src else src + ":0")
        fetch_tensors = direct
    names = case.fetch_names
    if names is None:
        names = ["y"] if len(fetch_tensors) == 1 else [
            "y%d" % i for i in range(len(fetch_tensors))]
    assert len(names) == len(fetch_tensors), (case.name, names, fetch_tensors)

    feeds = {"%s:0" % n: a for n, a in case.inputs}
    arrays = [a for _, a in case.inputs]
    if case.ref is not None:
        outs = [np.asarray(o) for o in case.ref(*arrays)]
        try:
            got = run_graph(gd, feeds, fetch_tensors)
        except (tf.errors.UnimplementedError,
                tf.errors.InvalidArgumentError):
            got = None  # e.g. NCHW kernels are missing on CPU
        if got is not None:  # the graph runs after all: keep TF's outputs
            for i, (a, b) in enumerate(zip(got, outs)):
                _compare(a, b, "%s out%d (graph vs ref)" % (case.name, i))
            outs = [np.asarray(o) for o in got]
    else:
        outs = [np.asarray(o) for o in run_graph(gd, feeds, fetch_tensors)]
        if case.check_eager:
            eager = cf(*[tf.constant(a) for a in arrays])
            if not isinstance(eager, (list, tuple)):
                eager = [eager]
            for i, (a, b) in enumerate(zip(outs, eager)):
                _compare(a, b.numpy(), "%s out%d (graph vs eager)" %
                         (case.name, i))
    assert len(outs) == len(fetch_tensors)

    os.makedirs(outdir, exist_ok=True)
    base = os.path.join(outdir, case.name)
    with open(base + ".pb", "wb") as f:
        f.write(gd.SerializeToString(deterministic=True))
    if case.pbtxt:
        with open(base + ".pbtxt", "w") as f:
            f.write(text_format.MessageToString(gd))
    cfg_feeds = [(n, list(a.shape), dtype_name(a.dtype))
                 for n, a in case.inputs]
    cfg_fetches = []
    for t, nm in zip(fetch_tensors, names):
        node, idx = t.rsplit(":", 1)
        cfg_fetches.append((node, int(idx), nm))
    cfg = config_text(cfg_feeds, cfg_fetches, case.config_style)
    _check_config(case.name, cfg, cfg_feeds, cfg_fetches, gd)
    with open(base + ".config.pbtxt", "w") as f:
        f.write(cfg)
    if case.pbtxt:
        back = graph_pb2.GraphDef()
        text_format.Parse(open(base + ".pbtxt").read(), back)
        assert back == gd, case.name
    for i, a in enumerate(arrays):
        _save_npy("%s.in%d.npy" % (base, i), a)
    for i, o in enumerate(outs):
        _save_npy("%s.out%d.npy" % (base, i), o)
    listed = sorted((set(top) | set(lib)) - TRIVIAL_OPS)
    return {"name": case.name, "family": case.family,
            "nin": len(arrays), "nout": len(outs), "ops": listed,
            "top": top, "lib": lib,
            "out_shapes": [(o.shape, str(o.dtype)) for o in outs]}


def write_manifest(outdir, summaries, header):
    lines = ["# " + h for h in header]
    lines.append("# NAME FAMILY NIN NOUT")
    for s in summaries:
        lines.append("%s %s %d %d" % (s["name"], s["family"], s["nin"],
                                      s["nout"]))
        lines.append("# ops: " + " ".join(s["ops"]))
    with open(os.path.join(outdir, "MANIFEST"), "w") as f:
        f.write("\n".join(lines) + "\n")
