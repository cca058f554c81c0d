"""TensorFlow 1 control flow (Switch, Merge, Enter, Exit, NextIteration,
LoopCond) for hloc's functionalization tests.

Most cases are graphs built with tf.compat.v1 under tf.Graph() after
tf.compat.v1.disable_control_flow_v2(), so tf.compat.v1.while_loop and
tf.compat.v1.cond emit the dataflow primitives; the case tf2_lowered is a
tf.function (a while loop holding a cond that reads a variable) frozen with
convert_variables_to_constants_v2(..., lower_control_flow=True), whose
functional While/If TensorFlow lowers to the same primitives (with its own
naming, control-only Merges and unused placeholders), as is
tf2_lowered_loop_in_cond (a while loop inside a cond's branch).

Per case NAME, in OUT: NAME.pb (binary GraphDef), NAME.config.pbtxt
(tensorflow.tf2xla.Config, one block per line), NAME.inK.npy (inputs in
feed order), NAME.outK.npy (TensorFlow's outputs in fetch order, from a
Session on the written GraphDef).  MANIFEST: "NAME NIN NOUT" per case.
"""
import os

import numpy as np
import tensorflow as tf

from tfgen import common


def _rng(name):
    return np.random.default_rng(sum(map(ord, name)) * 104729)


def _placeholder(name, a):
    return tf.compat.v1.placeholder(tf.as_dtype(a.dtype), a.shape, name=name)


def counted_loop(x):
    """A counter and one value: the classic counted loop."""
    i0 = tf.constant(0)
    _, y = tf.compat.v1.while_loop(
        lambda i, a: i < 10,
        lambda i, a: (i + 1, a * 1.25 + tf.cast(i, tf.float32)), [i0, x])
    return [y]


def multi_var(x, w):
    """Three loop variables, an invariant (w) and a bound read from a
    tensor outside the loop; every Exit is fetched."""
    n = tf.cast(tf.reduce_sum(w) * 0.0 + 6.0, tf.int32)
    i0 = tf.constant(0)
    b0 = tf.ones_like(x)

    def body(i, a, b):
        return i + 1, a + w * b, b * 0.5 - a * 0.125

    i, a, b = tf.compat.v1.while_loop(lambda i, a, b: i < n, body,
                                      [i0, x, b0])
    return [i, a, b]


def nested_loops(x):
    """An inner loop in the body of an outer one, reading the outer
    loop's counter (an invariant of the inner frame)."""
    def outer_body(i, a):
        _, a2 = tf.compat.v1.while_loop(
            lambda j, c: j < 3,
            lambda j, c: (j + 1, c + tf.cast(i * 10 + j, tf.float32)),
            [tf.constant(0), a])
        return i + 1, a2 * 0.5

    _, y = tf.compat.v1.while_loop(lambda i, a: i < 4, outer_body,
                                   [tf.constant(0), x])
    return [y]


def cond(x):
    """tf.compat.v1.cond with a computed predicate and two outputs."""
    p = tf.reduce_sum(x) > 0.0
    a, b = tf.compat.v1.cond(p, lambda: (x * 2.0, tf.reduce_max(x)),
                             lambda: (x - 1.0, tf.reduce_min(x)))
    return [a, b]


def cond_fed(x, p):
    """A fed predicate taking the false branch; a constant branch."""
    y = tf.compat.v1.cond(p, lambda: tf.exp(x), lambda: tf.constant(
        [1.0, 2.0, 3.0]))
    return [y + x]


def cond_in_loop(x):
    """A cond inside a loop body, on the loop's values."""
    def body(i, a):
        a = tf.compat.v1.cond(tf.reduce_sum(a) > 20.0, lambda: a * 0.5,
                              lambda: a + 3.0)
        return i + 1, a

    _, y = tf.compat.v1.while_loop(lambda i, a: i < 7, body,
                                   [tf.constant(0), x])
    return [y]


def loop_in_cond(x):
    """A while loop inside a cond's true branch (taken), reading a value
    computed in the branch and one from outside the cond."""
    p = tf.reduce_sum(x) > -100.0
    w = x * 0.25

    def true_fn():
        a0 = x * 2.0
        _, y = tf.compat.v1.while_loop(
            lambda i, a: i < 5,
            lambda i, a: (i + 1, a * 0.5 + w + tf.cast(i, tf.float32)),
            [tf.constant(0), a0])
        return y

    return [tf.compat.v1.cond(p, true_fn, lambda: x - 1.0)]


def loops_in_both_branches(x):
    """Loops in both branches of a cond, the false one (taken) holding a
    cond in its body, and two outputs."""
    p = tf.reduce_sum(x) < -100.0

    def true_fn():
        _, y = tf.compat.v1.while_loop(lambda i, a: i < 3,
                                       lambda i, a: (i + 1, a + 1.0),
                                       [tf.constant(0), x])
        return y, tf.constant(1)

    def false_fn():
        def body(i, a):
            a = tf.compat.v1.cond(tf.reduce_sum(a) > 4.0, lambda: a * 0.5,
                                  lambda: a + 2.0)
            return i + 1, a

        n, y = tf.compat.v1.while_loop(lambda i, a: i < 6, body,
                                       [tf.constant(0), x])
        return y, n

    return list(tf.compat.v1.cond(p, true_fn, false_fn))


V1_CASES = [
    ("counted_loop", counted_loop, [("x", np.float32, (4,))]),
    ("multi_var", multi_var, [("x", np.float32, (2, 3)),
                              ("w", np.float32, (2, 3))]),
    ("nested_loops", nested_loops, [("x", np.float32, (3,))]),
    ("cond", cond, [("x", np.float32, (5,))]),
    ("cond_fed", cond_fed, [("x", np.float32, (3,)), ("p", np.bool_, ())]),
    ("cond_in_loop", cond_in_loop, [("x", np.float32, (4,))]),
    ("loop_in_cond", loop_in_cond, [("x", np.float32, (3,))]),
    ("loops_in_both_branches", loops_in_both_branches,
     [("x", np.float32, (2, 2))]),
]


def _inputs(name, spec):
    r = _rng(name)
    out = []
    for n, dt, shape in spec:
        if dt == np.bool_:
            out.append((n, np.array(False)))
        else:
            out.append((n, r.standard_normal(shape).astype(dt)))
    return out


def _v1_case(name, fn, spec):
    tf.compat.v1.disable_control_flow_v2()
    inputs = _inputs(name, spec)
    g = tf.Graph()
    with g.as_default():
        phs = [_placeholder(n, a) for n, a in inputs]
        outs = fn(*phs)
        names = []
        for k, t in enumerate(outs):
            names.append(tf.identity(t, name="y%d" % k).op.name)
    gd = g.as_graph_def()
    return gd, inputs, names


def _tf2_lowered():
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2)
    tf.compat.v1.enable_control_flow_v2()
    v = tf.Variable(np.linspace(1.0, 3.0, 3).astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec([3], tf.float32, name="x")])
    def f(x):
        def body(i, a):
            a = tf.cond(tf.reduce_sum(a) > 10.0, lambda: a * 0.5,
                        lambda: a + v)
            return i + 1, a

        _, a = tf.while_loop(lambda i, a: i < 6, body, [tf.constant(0), x])
        return a

    frozen = convert_variables_to_constants_v2(f.get_concrete_function(),
                                               lower_control_flow=True)
    gd = frozen.graph.as_graph_def()
    fetch = [t.name.split(":")[0] for t in frozen.outputs]
    assert not gd.library.function, "functions survive lowering"
    x = _rng("tf2_lowered").standard_normal(3).astype(np.float32)
    return gd, [("x", x)], fetch


def _tf2_lowered_loop_in_cond():
    """A tf.function whose tf.cond holds a tf.while_loop in one branch,
    frozen with lower_control_flow=True."""
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2)
    tf.compat.v1.enable_control_flow_v2()

    @tf.function(input_signature=[tf.TensorSpec([3], tf.float32, name="x")])
    def f(x):
        def looped():
            _, a = tf.while_loop(lambda i, a: i < 4,
                                 lambda i, a: (i + 1, a * 1.5 - 0.25),
                                 [tf.constant(0), x])
            return a

        return tf.cond(tf.reduce_max(x) > -10.0, looped, lambda: x * 3.0)

    frozen = convert_variables_to_constants_v2(f.get_concrete_function(),
                                               lower_control_flow=True)
    gd = frozen.graph.as_graph_def()
    fetch = [t.name.split(":")[0] for t in frozen.outputs]
    assert not gd.library.function, "functions survive lowering"
    x = _rng("tf2_lowered_loop_in_cond").standard_normal(3).astype(np.float32)
    return gd, [("x", x)], fetch


def _same_results(old, gd, feeds, fetches):
    """Whether the GraphDef serialized as old computes what gd does."""
    prev = tf.compat.v1.GraphDef()
    try:
        prev.ParseFromString(old)
        was = common.run_graph(prev, feeds, fetches)
    except Exception:
        return False
    now = common.run_graph(gd, feeds, fetches)
    return all(a.dtype == b.dtype and a.shape == b.shape and
               np.array_equal(a, b, equal_nan=True) for a, b in zip(was, now))


def _write(out, name, gd, inputs, fetches, old=None):
    """old: the case's previous .pb, kept when the new graph is the same
    computation.  TensorFlow's lower_control_flow freezing makes a different
    graph on every call (the number of unused_control_flow_input
    placeholders and the node order vary), so without this every
    regeneration would rewrite the tf2_lowered cases."""
    ops = {n.op for n in gd.node}
    assert ops & {"Merge", "Switch"}, (name, sorted(ops))
    feed_values = {n + ":0": a for n, a in inputs}
    fetch_names = [f + ":0" for f in fetches]
    data = gd.SerializeToString(deterministic=True)
    if old is not None and old != data and _same_results(old, gd, feed_values,
                                                          fetch_names):
        data = old
    with open(os.path.join(out, name + ".pb"), "wb") as f:
        f.write(data)
    feeds = [(n, list(a.shape), common.dtype_name(a.dtype)) for n, a in inputs]
    fetch_cfg = [(f, 0, f) for f in fetches]
    with open(os.path.join(out, name + ".config.pbtxt"), "w") as f:
        f.write(common.config_text(feeds, fetch_cfg, "line"))
    got = common.run_graph(gd, feed_values, fetch_names)
    for k, (_, a) in enumerate(inputs):
        common._save_npy(os.path.join(out, "%s.in%d.npy" % (name, k)), a)
    for k, a in enumerate(got):
        common._save_npy(os.path.join(out, "%s.out%d.npy" % (name, k)), a)
    return "%s %d %d" % (name, len(inputs), len(fetches))


def generate(out, verbose=True):
    os.makedirs(out, exist_ok=True)
    previous = {}
    for f in os.listdir(out):
        if f.startswith("tf2_lowered") and f.endswith(".pb"):
            with open(os.path.join(out, f), "rb") as fp:
                previous[f[:-3]] = fp.read()
        if f.endswith((".pb", ".pbtxt", ".npy")) or f == "MANIFEST":
            os.remove(os.path.join(out, f))
    lines = []
    for name, fn, spec in V1_CASES:
        lines.append(_write(out, name, *_v1_case(name, fn, spec)))
        if verbose:
            print("v1control/" + lines[-1], flush=True)
    for name, build in [("tf2_lowered", _tf2_lowered),
                        ("tf2_lowered_loop_in_cond", _tf2_lowered_loop_in_cond)]:
        lines.append(_write(out, name, *build(), old=previous.get(name)))
        if verbose:
            print("v1control/" + lines[-1], flush=True)
    with open(os.path.join(out, "MANIFEST"), "w") as f:
        f.write("# Generated by scripts/gen_tf_testdata.py with TensorFlow %s "
                "(do not edit).\n# NAME NIN NOUT\n" % tf.__version__)
        f.write("\n".join(lines) + "\n")
    return len(lines)
