"""SavedModels and a TF1 checkpoint for hloc's SavedModel tests.

Each case NAME is written to OUT/NAME/ (a SavedModel directory as
TensorFlow writes it), with NAME.inK.npy (inputs in signature key order)
and NAME.outK.npy (TensorFlow's outputs in signature key order, computed by
tf.saved_model.load of the written directory, so what is compared is what
TensorFlow itself gets back from the files).  MANIFEST has one line per case:

    NAME DIR SIGNATURE NIN NOUT [INPUT=D,D,... ...]

the SavedModel directory, the signature the outputs are for and the static shapes its inputs need
(inputs whose saved shape leaves dimensions to run time).  The case
tf1_graph is a GraphDef with VariableV2 nodes and the checkpoint of its
variables (tf1_graph.pbtxt, tf1_graph.config.pbtxt, tf1_graph.ckpt.*): what
`hloc --checkpoint` freezes.
"""
import os
import shutil

import numpy as np
import tensorflow as tf


def _rng(name):
    """A generator seeded from the case name (stable across runs)."""
    return np.random.default_rng(sum(map(ord, name)) * 7919)


def _save(path, a):
    np.save(path, np.ascontiguousarray(a), allow_pickle=False)


def _run_loaded(d, signature, inputs):
    """TensorFlow's outputs of `signature` of the SavedModel in d, sorted by
    key, for inputs given in key order, and the input keys."""
    loaded = tf.saved_model.load(d)
    fn = loaded.signatures[signature]
    keys = sorted(fn.structured_input_signature[1].keys())
    out = fn(**{k: tf.constant(v) for k, v in zip(keys, inputs)})
    return [out[k].numpy() for k in sorted(out.keys())], keys


def keras_mlp(d):
    """Keras model.export: a dynamic batch, every weight saved twice."""
    import keras
    keras.utils.set_random_seed(11)
    m = keras.Sequential([keras.Input((6,)),
                          keras.layers.Dense(5, activation="relu"),
                          keras.layers.Dense(3, activation="softmax")])
    m.export(d, verbose=False)
    x = _rng("keras_mlp").standard_normal((2, 6)).astype(np.float32)
    return "serving_default", [x], [0]


def keras_conv(d):
    """A small Keras CNN (conv, batch norm, pooling) exported with a dynamic
    batch."""
    import keras
    keras.utils.set_random_seed(12)
    m = keras.Sequential([
        keras.Input((8, 8, 3)),
        keras.layers.Conv2D(4, 3, padding="same"),
        keras.layers.BatchNormalization(),
        keras.layers.ReLU(),
        keras.layers.DepthwiseConv2D(3, padding="same"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(2)])
    # non-trivial batch-norm statistics
    bn = m.layers[1]
    bn.moving_mean.assign(np.linspace(-0.5, 0.5, 4).astype(np.float32))
    bn.moving_variance.assign(np.linspace(0.5, 2.0, 4).astype(np.float32))
    m.export(d, verbose=False)
    x = _rng("keras_conv").standard_normal((1, 8, 8, 3)).astype(np.float32)
    return "serving_default", [x], [0]


class _Multi(tf.Module):
    def __init__(self):
        super().__init__()
        r = _rng("module_multi")
        self.w = tf.Variable(r.standard_normal((4, 3)).astype(np.float32))
        self.b = tf.Variable(r.standard_normal((3,)).astype(np.float32))
        self.table = tf.Variable(r.standard_normal((10, 3)).astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="x")])
    def predict(self, x):
        return {"y": tf.matmul(x, self.w) + self.b,
                "z": tf.reduce_sum(x, axis=1)}

    @tf.function(input_signature=[tf.TensorSpec([3], tf.int32, name="ids"),
                                  tf.TensorSpec([3], tf.float32, name="scale")])
    def lookup(self, ids, scale):
        return {"rows": tf.gather(self.table, ids) * scale}


def module_multi(d):
    """A tf.Module with two signatures, named outputs, an embedding lookup
    (ResourceGather) and variables all named "Variable"."""
    m = _Multi()
    tf.saved_model.save(m, d, signatures={"serving_default": m.predict,
                                          "lookup": m.lookup})
    r = _rng("module_multi_in")
    x = r.standard_normal((3, 4)).astype(np.float32)
    return "serving_default", [x], [0]


def module_multi_lookup(d):
    """The second signature of module_multi (same directory)."""
    r = _rng("module_multi_lookup")
    ids = np.array([7, 0, 3], np.int32)
    scale = r.standard_normal(3).astype(np.float32)
    return "lookup", [ids, scale], []


class _Nested(tf.Module):
    def __init__(self):
        super().__init__()
        r = _rng("nested")
        self.a = tf.Variable(r.standard_normal((5, 5)).astype(np.float32))
        self.c = tf.Variable(2.5)
        self.steps = tf.Variable(3, dtype=tf.int32, trainable=False)

    @tf.function
    def inner(self, x):
        return tf.tanh(tf.matmul(x, self.a)) * self.c

    @tf.function
    def middle(self, x):
        return self.inner(x) + self.inner(x * 0.5)

    @tf.function(input_signature=[tf.TensorSpec([2, 5], tf.float32)])
    def __call__(self, x):
        i = tf.constant(0)
        while i < self.steps:
            x = self.middle(x) * 0.25
            i += 1
        return x


def nested(d):
    """Nested tf.functions reading variables, inside a while loop whose
    trip count is a variable."""
    m = _Nested()
    tf.saved_model.save(m, d, signatures=m.__call__)
    x = _rng("nested_in").standard_normal((2, 5)).astype(np.float32)
    return "serving_default", [x], []


def keras_lstm(d):
    """A Keras LSTM (a While loop capturing its kernels) exported with a
    dynamic batch."""
    import keras
    keras.utils.set_random_seed(13)
    m = keras.Sequential([keras.Input((5, 3)),
                          keras.layers.LSTM(8),
                          keras.layers.Dense(2)])
    m.export(d, verbose=False)
    x = _rng("keras_lstm").standard_normal((1, 5, 3)).astype(np.float32)
    return "serving_default", [x], [0]


def tf1_builder(d):
    """TensorFlow 1: reference variables (VariableV2) saved by
    SavedModelBuilder with a named signature."""
    g = tf.Graph()
    r = _rng("tf1_builder")
    with g.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, 3], name="x")
        w = tf.compat.v1.Variable(r.standard_normal((3, 2)).astype(np.float32),
                                  name="w", use_resource=False)
        b = tf.compat.v1.Variable(r.standard_normal((2,)).astype(np.float32),
                                  name="b", use_resource=False)
        y = tf.nn.sigmoid(tf.matmul(x, w) + b, name="y")
        with tf.compat.v1.Session(graph=g) as s:
            s.run(tf.compat.v1.global_variables_initializer())
            builder = tf.compat.v1.saved_model.Builder(d)
            sig = tf.compat.v1.saved_model.predict_signature_def(
                inputs={"x": x}, outputs={"y": y})
            builder.add_meta_graph_and_variables(
                s, ["serve"], signature_def_map={"predict": sig})
            builder.save()
    xin = _rng("tf1_builder_in").standard_normal((4, 3)).astype(np.float32)
    return "predict", [xin], [0]


def tf1_partitioned(d):
    """TensorFlow 1: a partitioned variable (three VariableV2 parts, one
    checkpoint entry in slices) saved by SavedModelBuilder."""
    g = tf.Graph()
    r = _rng("tf1_partitioned")
    full = r.standard_normal((6, 4)).astype(np.float32)

    def init(shape, dtype=None, partition_info=None):
        o = partition_info.var_offset
        return full[o[0]:o[0] + shape[0], o[1]:o[1] + shape[1]]

    with g.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, 6], name="x")
        w = tf.compat.v1.get_variable(
            "w", shape=(6, 4), initializer=init, use_resource=False,
            partitioner=tf.compat.v1.fixed_size_partitioner(3))
        y = tf.nn.relu(tf.matmul(x, w), name="y")
        with tf.compat.v1.Session(graph=g) as s:
            s.run(tf.compat.v1.global_variables_initializer())
            builder = tf.compat.v1.saved_model.Builder(d)
            sig = tf.compat.v1.saved_model.predict_signature_def(
                inputs={"x": x}, outputs={"y": y})
            builder.add_meta_graph_and_variables(
                s, ["serve"], signature_def_map={"predict": sig})
            builder.save()
    xin = _rng("tf1_partitioned_in").standard_normal((3, 6)).astype(
        np.float32)
    return "predict", [xin], [0]


def tf1_graph(out):
    """A GraphDef with VariableV2 nodes and a TF1 checkpoint of them."""
    g = tf.Graph()
    r = _rng("tf1_graph")
    with g.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [2, 3], name="x")
        w = tf.compat.v1.Variable(r.standard_normal((3, 3)).astype(np.float32),
                                  name="w", use_resource=False)
        v = tf.compat.v1.Variable(r.standard_normal((3,)).astype(np.float32),
                                  name="v")  # a resource variable
        y = tf.identity(tf.nn.relu(tf.matmul(x, w)) + v, name="y")
        with tf.compat.v1.Session(graph=g) as s:
            s.run(tf.compat.v1.global_variables_initializer())
            saver = tf.compat.v1.train.Saver([w, v])
            saver.save(s, os.path.join(out, "tf1_graph.ckpt"),
                       write_meta_graph=False, write_state=False)
            xin = _rng("tf1_graph_in").standard_normal((2, 3)).astype(
                np.float32)
            yout = s.run(y, {x: xin})
        gd = g.as_graph_def()
        keep = set()
        # only what y needs (no initializers, no saver)
        byname = {n.name: n for n in gd.node}
        stack = ["y"]
        while stack:
            n = byname[stack.pop().lstrip("^").split(":")[0]]
            if n.name in keep:
                continue
            keep.add(n.name)
            stack.extend(n.input)
        sub = tf.compat.v1.GraphDef()
        sub.versions.CopyFrom(gd.versions)
        sub.node.extend(n for n in gd.node if n.name in keep)
    with open(os.path.join(out, "tf1_graph.pbtxt"), "w") as f:
        f.write(str(sub))
    with open(os.path.join(out, "tf1_graph.config.pbtxt"), "w") as f:
        f.write('feed { id { node_name: "x" } shape { dim { size: 2 } '
                'dim { size: 3 } } }\nfetch { id { node_name: "y" } }\n')
    _save(os.path.join(out, "tf1_graph.in0.npy"), xin)
    _save(os.path.join(out, "tf1_graph.out0.npy"), yout)


CASES = [keras_mlp, keras_conv, module_multi, module_multi_lookup, nested,
         keras_lstm, tf1_builder, tf1_partitioned]
# cases that read another case's directory
SHARED_DIR = {"module_multi_lookup": "module_multi"}


def generate(out, verbose=True):
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    lines = []
    for case in CASES:
        name = case.__name__
        d = os.path.join(out, SHARED_DIR.get(name, name))
        sig, inputs, dynamic = case(d)
        outputs, keys = _run_loaded(d, sig, inputs)
        for i, a in enumerate(inputs):
            _save(os.path.join(out, "%s.in%d.npy" % (name, i)), a)
        for i, a in enumerate(outputs):
            _save(os.path.join(out, "%s.out%d.npy" % (name, i)), a)
        shape_args = " ".join("%s=%s" % (keys[i], ",".join(
            map(str, inputs[i].shape))) for i in dynamic)
        lines.append(("%s %s %s %d %d %s" % (
            name, SHARED_DIR.get(name, name), sig, len(inputs), len(outputs),
            shape_args)).rstrip())
        if verbose:
            print(lines[-1], flush=True)
    tf1_graph(out)
    # fingerprints hold a timestamp-dependent hash: not needed by hloc
    for root, _, files in os.walk(out):
        for f in files:
            if f == "fingerprint.pb":
                os.remove(os.path.join(root, f))
    with open(os.path.join(out, "MANIFEST"), "w") as f:
        f.write("# Generated by scripts/gen_tf_testdata.py with TensorFlow "
                "%s (do not edit).\n" % tf.__version__)
        f.write("# NAME DIR SIGNATURE NIN NOUT [INPUT=D,D,...]...\n")
        f.write("\n".join(lines) + "\n")
