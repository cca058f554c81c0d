"""Tiny TensorFlow checkpoints (TensorBundles) for frontend/bundle.c, in
testdata/tf/checkpoints:

  tf2/ckpt.index, tf2/ckpt.data-00000-of-00001
      tf.train.Checkpoint.write of a tf.Module holding variables of several
      dtypes and ranks (and two string variables), so keys look like
      "w/.ATTRIBUTES/VARIABLE_VALUE" and _CHECKPOINTABLE_OBJECT_GRAPH holds
      the serialized object graph
  tf1/model.index, tf1/model.data-00000-of-00001
      tf.compat.v1.train.Saver in a graph of VariableV2 nodes, one of them
      partitioned in two (a "sliced" entry whose pieces have binary keys)
  parts/model.index, parts/model.data-00000-of-00001
      Saver over partitioned variables: "rows" (130 x 2, two slices along
      axis 0, whose starts and lengths take two bytes in the slice keys),
      "cols" (2 x 6 int32, three slices along axis 1) and one plain
      variable; parts_graph.pbtxt is the graph that reads them (through
      their VariableV2 parts "rows/part_0", ...), with a config, an input
      and TensorFlow's output (what `hloc --checkpoint` freezes)

Expected values come from TensorFlow's own checkpoint reader: each key it
lists becomes a .npy (a DT_STRING scalar as its bytes, a u8[] vector).
MANIFEST has one line "CHECKPOINT KEY FILE DTYPE" per key TensorFlow
lists (a partitioned variable once, assembled), FILE being "-" where
there is no .npy (string arrays, which the C reader refuses).  Values are seeded: regeneration
gives the same bytes.
"""
import os
import shutil

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import types_pb2

from .common import rng_for, _save_npy


class _Vars(tf.Module):
    def __init__(self, r):
        super().__init__()
        self.kernel = tf.Variable(r.normal(size=(3, 4)).astype(np.float32))
        self.bias = tf.Variable(r.normal(size=(4,)).astype(np.float32))
        self.scale = tf.Variable(np.float32(r.normal()))
        self.steps = tf.Variable(r.integers(-1000, 1000, (5,), dtype=np.int32))
        self.big = tf.Variable(
            r.integers(-2**40, 2**40, (2, 2), dtype=np.int64))
        self.mean = tf.Variable(r.normal(size=(2, 3)))  # float64
        self.mask = tf.Variable(r.integers(0, 2, (2, 3)).astype(bool))
        self.half = tf.Variable(r.normal(size=(3,)).astype(np.float16))
        self.pixels = tf.Variable(r.integers(0, 256, (2, 2, 2),
                                             dtype=np.uint8))
        self.empty = tf.Variable(np.zeros((0, 3), np.float32))
        self.label = tf.Variable("hello, checkpoint")
        self.vocab = tf.Variable(["a", "bc", ""])


def _tf2(outdir):
    m = _Vars(rng_for("checkpoints/tf2"))
    tf.train.Checkpoint(model=m).write(os.path.join(outdir, "tf2", "ckpt"))


def _tf1(outdir):
    r = rng_for("checkpoints/tf1")
    g = tf.Graph()
    with g.as_default():
        v1 = tf.compat.v1
        a = v1.Variable(r.normal(size=(2, 3)).astype(np.float32),
                        name="dense/kernel", use_resource=False)
        b = v1.Variable(r.integers(-9, 9, (3,), dtype=np.int32),
                        name="dense/bias", use_resource=False)
        step = v1.Variable(np.int64(42), name="global_step",
                           use_resource=False)
        full = r.normal(size=(4, 2)).astype(np.float32)

        def init(shape, dtype=None, partition_info=None):
            o = partition_info.var_offset if partition_info else (0, 0)
            return full[o[0]:o[0] + shape[0], o[1]:o[1] + shape[1]]

        part = v1.get_variable(
            "embedding", shape=(4, 2), dtype=tf.float32, initializer=init,
            partitioner=v1.fixed_size_partitioner(2), use_resource=False)
        assert a.op.type == "VariableV2", a.op.type
        saver = v1.train.Saver([a, b, step] + list(part))
        with v1.Session(graph=g) as sess:
            sess.run(v1.global_variables_initializer())
            saver.save(sess, os.path.join(outdir, "tf1", "model"),
                       write_meta_graph=False, write_state=False)


def _prune(gd, fetch):
    """The nodes `fetch` needs (no initializers, no saver)."""
    byname = {n.name: n for n in gd.node}
    keep, stack = set(), [fetch]
    while stack:
        n = byname[stack.pop().lstrip("^").split(":")[0]]
        if n.name in keep:
            continue
        keep.add(n.name)
        stack.extend(n.input)
    sub = tf.compat.v1.GraphDef()
    sub.versions.CopyFrom(gd.versions)
    sub.node.extend(n for n in gd.node if n.name in keep)
    return sub


def _parts(outdir):
    r = rng_for("checkpoints/parts")
    g = tf.Graph()
    with g.as_default():
        v1 = tf.compat.v1
        values = {"rows": r.normal(size=(130, 2)).astype(np.float32),
                  "cols": r.integers(-50, 50, (2, 6), dtype=np.int32)}

        def init_of(full):
            def init(shape, dtype=None, partition_info=None):
                o = partition_info.var_offset
                return full[o[0]:o[0] + shape[0], o[1]:o[1] + shape[1]]
            return init

        rows = v1.get_variable(
            "rows", shape=(130, 2), dtype=tf.float32,
            initializer=init_of(values["rows"]),
            partitioner=v1.fixed_size_partitioner(2), use_resource=False)
        cols = v1.get_variable(
            "cols", shape=(2, 6), dtype=tf.int32,
            initializer=init_of(values["cols"]),
            partitioner=v1.fixed_size_partitioner(3, axis=1),
            use_resource=False)
        plain = v1.Variable(r.normal(size=(2,)).astype(np.float32),
                            name="plain", use_resource=False)
        x = v1.placeholder(tf.float32, [2, 130], name="x")
        y = tf.identity(
            tf.matmul(x, rows) + tf.cast(
                tf.reduce_sum(cols, axis=1), tf.float32) + plain, name="y")
        saver = v1.train.Saver(list(rows) + list(cols) + [plain])
        xin = rng_for("checkpoints/parts_in").normal(size=(2, 130)).astype(
            np.float32)
        with v1.Session(graph=g) as sess:
            sess.run(v1.global_variables_initializer())
            saver.save(sess, os.path.join(outdir, "parts", "model"),
                       write_meta_graph=False, write_state=False)
            yout = sess.run(y, {x: xin})
        sub = _prune(g.as_graph_def(), "y")
    with open(os.path.join(outdir, "parts_graph.pbtxt"), "w") as f:
        f.write(str(sub))
    with open(os.path.join(outdir, "parts_graph.config.pbtxt"), "w") as f:
        f.write('feed { id { node_name: "x" } shape { dim { size: 2 } '
                'dim { size: 130 } } }\nfetch { id { node_name: "y" } }\n')
    _save_npy(os.path.join(outdir, "parts_graph.in0.npy"), xin)
    _save_npy(os.path.join(outdir, "parts_graph.out0.npy"), yout)


def build(outdir):
    """Writes the checkpoints, .npy files and MANIFEST into outdir."""
    if os.path.isdir(outdir):
        shutil.rmtree(outdir)
    os.makedirs(outdir)
    _tf2(outdir)
    _tf1(outdir)
    _parts(outdir)
    lines = ["# Generated by scripts/gen_tf_testdata.py with TensorFlow %s "
             "(do not edit)." % tf.__version__,
             "# CHECKPOINT KEY FILE DTYPE: the keys TensorFlow's reader "
             "lists; FILE '-': no .npy"]
    for ckpt in ("tf2/ckpt", "tf1/model", "parts/model"):
        reader = tf.train.load_checkpoint(os.path.join(outdir, ckpt))
        dtypes = reader.get_variable_to_dtype_map()
        for i, key in enumerate(sorted(dtypes)):
            dt = types_pb2.DataType.Name(dtypes[key].as_datatype_enum)
            value = reader.get_tensor(key)
            if dt == "DT_STRING" and np.ndim(value):
                fname = "-"
            else:
                if dt == "DT_STRING":
                    value = np.frombuffer(value, np.uint8)
                fname = "%s.%d.npy" % (ckpt.split("/")[0], i)
                _save_npy(os.path.join(outdir, fname), value)
            lines.append("%s %s %s %s" % (ckpt, key, fname, dt))
    with open(os.path.join(outdir, "MANIFEST"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return len(lines) - 2
