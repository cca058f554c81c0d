"""tfcompile config variables (variable {} entries) for hloc's tests, in
testdata/tf/variables.

The graphs are TensorFlow 1 graphs of resource variables (VarHandleOp,
ReadVariableOp, Assign*VariableOp, ordered by control dependencies), built
as tensorflow/compiler/aot/tests/make_test_graphs.py builds its
tfvariable* graphs, and the same with reference variables (VariableV2,
Assign, AssignAdd, AssignSub, reads through Identity); none is frozen: the variables stay variables, and the
config names them.  TensorFlow runs each graph several times in a row in
one Session, so each run starts from the variables the previous one left.

Per case NAME, in OUT:
  NAME.pb              binary GraphDef
  NAME.config.pbtxt    tensorflow.tf2xla.Config with its variable entries
  NAME.inK.npy         the feeds (the same every run), in config order
  NAME.var.V.npy       variable V (its config name) before the first run
  NAME.runR.outK.npy   fetch K of run R (R = 0, 1, ...)
  NAME.runR.var.V.npy  variable V after run R
MANIFEST: "NAME NFEEDS NFETCHES NRUNS VAR[:ro]..." per case, the variables
in config order (":ro" for readonly ones).
"""
import os

import numpy as np
import tensorflow as tf

from tfgen import common

RUNS = 3


def tfvariable():
    """make_test_graphs.py's tfvariable: the old value, then the value
    after assign_add 42, stacked."""
    x = tf.compat.v1.Variable([1000.0], name="x", shape=[1], use_resource=True)
    old_x = x.value()
    with tf.control_dependencies([old_x]):
        new_x = x.assign_add([42.0])
    tf.stack([old_x, new_x], name="result")
    return [], ["result"], [("x", False)], {"x": np.array([1000.0], np.float32)}


def tfvariable_readonly():
    """tfvariable_readonly: a readonly variable read once (and one the
    graph never reads)."""
    x = tf.compat.v1.Variable(1000.0, name="x", use_resource=True)
    tf.compat.v1.Variable(1000.0, name="y", use_resource=True)
    old_x = x.value()
    with tf.control_dependencies([old_x]):
        new_value = old_x + 42.0
    tf.identity(new_value, name="result")
    return [], ["result"], [("x", True), ("y", True)], {
        "x": np.float32(23.0), "y": np.float32(1000.0)}


def tfvariable_sequential_updates():
    """tfvariable_sequential_updates: three assign_subs, each reading the
    value the previous one left, ordered by control dependencies only."""
    x = tf.compat.v1.Variable(1.0, name="x", use_resource=True)
    y = tf.compat.v1.Variable(1.0, name="y", use_resource=True)
    updates = tf.no_op()
    for _ in range(3):
        with tf.control_dependencies([updates]):
            x_val = x.read_value() + y
            updates = x.assign_sub(0.1 * x_val)
    tf.identity(updates, name="result")
    return [], ["result"], [("x", False), ("y", True)], {
        "x": np.float32(2.0), "y": np.float32(1.0)}


def feed_and_variables():
    """A feed and two read-write variables of other shapes and types: an
    accumulator of the feed and a step counter assigned outright, fetched
    twice (before and after)."""
    v = tf.compat.v1.placeholder(tf.float32, [2, 3], name="v")
    acc = tf.compat.v1.Variable(np.zeros((2, 3), np.float32), name="acc",
                                use_resource=True)
    step = tf.compat.v1.Variable(np.int32(0), name="step", use_resource=True)
    before = acc.value()
    with tf.control_dependencies([before]):
        after = acc.assign_add(v * 2.0)
        with tf.control_dependencies([after]):
            counted = step.assign(step.read_value() + 1)
    tf.identity(before, name="before")
    with tf.control_dependencies([counted]):
        tf.identity(after, name="after")
    r = common.rng_for("variables/feed_and_variables")
    acc0 = r.standard_normal((2, 3)).astype(np.float32)
    return [("v", r.standard_normal((2, 3)).astype(np.float32))], \
        ["before", "after"], [("acc", False), ("step", False)], \
        {"acc": acc0, "step": np.int32(5)}


def ref_assign_add():
    """tfvariable with a TensorFlow 1 reference variable (VariableV2):
    the value read through its "read" Identity, then the AssignAdd's
    output.  The read goes through a Mul that the AssignAdd waits for: a
    reference read is a view of the variable's buffer, which the in-place
    AssignAdd would change under a later reader."""
    x = tf.compat.v1.Variable([1000.0, -3.0], name="x", use_resource=False)
    old_x = x.read_value() * 1.0
    with tf.control_dependencies([old_x]):
        new_x = x.assign_add([42.0, 0.5])
    tf.stack([old_x, new_x], name="result")
    return [], ["result"], [("x", False)], {
        "x": np.array([1000.0, -3.0], np.float32)}


def ref_sequential_updates():
    """tfvariable_sequential_updates with reference variables: three
    AssignSubs chained by control dependencies, each reading the value
    the previous one left; y is readonly and read through its snapshot."""
    x = tf.compat.v1.Variable(1.0, name="x", use_resource=False)
    y = tf.compat.v1.Variable(1.0, name="y", use_resource=False)
    updates = tf.no_op()
    for _ in range(3):
        with tf.control_dependencies([updates]):
            x_val = x.read_value() + y
            updates = x.assign_sub(0.1 * x_val)
    tf.identity(updates, name="result")
    return [], ["result"], [("x", False), ("y", True)], {
        "x": np.float32(2.0), "y": np.float32(1.0)}


def ref_assign_feed():
    """Reference variables with a feed: an int32 counter replaced by
    Assign, a matrix decayed towards the feed by AssignSub, and a fetch of
    the Assign's output."""
    v = tf.compat.v1.placeholder(tf.float32, [2, 2], name="v")
    m = tf.compat.v1.Variable(np.zeros((2, 2), np.float32), name="m",
                              use_resource=False)
    n = tf.compat.v1.Variable(np.int32(0), name="n", use_resource=False)
    delta = (m.read_value() - v) * 0.5
    with tf.control_dependencies([delta]):
        moved = m.assign_sub(delta)
    with tf.control_dependencies([moved]):
        counted = n.assign(n.read_value() * 2 + 1)
    tf.identity(moved, name="moved")
    tf.identity(counted, name="counted")
    r = common.rng_for("variables/ref_assign_feed")
    return [("v", r.standard_normal((2, 2)).astype(np.float32))], \
        ["moved", "counted"], [("m", False), ("n", False)], \
        {"m": r.standard_normal((2, 2)).astype(np.float32), "n": np.int32(3)}


def assign_in_function():
    """A tf.function that assigns the variable it is passed (a
    StatefulPartitionedCall whose body holds the AssignAddVariableOp and a
    read ordered after it), and a read of the variable after the call."""
    x = tf.compat.v1.Variable([1.0, 2.0], name="x", use_resource=True)
    d = tf.compat.v1.placeholder(tf.float32, [2], name="d")

    @tf.function
    def step(v, delta):
        v.assign_add(delta * 0.5)
        return v.read_value() * 2.0

    y = step(x, d)
    with tf.control_dependencies([y]):
        after = x.read_value() + 1.0
    tf.identity(y, name="doubled")
    tf.identity(after, name="after")
    r = common.rng_for("variables/assign_in_function")
    return [("d", r.standard_normal(2).astype(np.float32))], \
        ["doubled", "after"], [("x", False)], \
        {"x": r.standard_normal(2).astype(np.float32)}


CASES = [tfvariable, tfvariable_readonly, tfvariable_sequential_updates,
         feed_and_variables, ref_assign_add, ref_sequential_updates,
         ref_assign_feed, assign_in_function]


def _dims(shape):
    return "".join("dim { size: %d } " % d for d in shape)


def _config(feeds, fetches, variables, values):
    out = []
    for name, a in feeds:
        out.append('feed { id { node_name: "%s" } shape { %s} name: "%s" '
                   'type: %s }' % (name, _dims(a.shape), name,
                                   common.dtype_name(a.dtype)))
    for name in fetches:
        out.append('fetch { id { node_name: "%s" } name: "%s" }'
                   % (name, name))
    for name, ro in variables:
        a = np.asarray(values[name])
        out.append('variable { node_name: "%s" name: "%s" shape { %s} '
                   'type: %s readonly: %s }'
                   % (name, name, _dims(a.shape), common.dtype_name(a.dtype),
                      "true" if ro else "false"))
    return "\n".join(out) + "\n"


def _emit(out, build):
    name = build.__name__
    g = tf.Graph()
    with g.as_default():
        feeds, fetches, variables, values = build()
        gd = g.as_graph_def()
        handles = {v.op.name: v for v in tf.compat.v1.global_variables()}
        init = [handles[n].assign(values[n]) for n, _ in variables]
        reads = [handles[n].read_value() for n, _ in variables]
    with open(os.path.join(out, name + ".pb"), "wb") as f:
        f.write(gd.SerializeToString(deterministic=True))
    with open(os.path.join(out, name + ".config.pbtxt"), "w") as f:
        f.write(_config(feeds, fetches, variables, values))
    for k, (_, a) in enumerate(feeds):
        common._save_npy(os.path.join(out, "%s.in%d.npy" % (name, k)), a)
    for n, _ in variables:
        common._save_npy(os.path.join(out, "%s.var.%s.npy" % (name, n)),
                         np.asarray(values[n]))
    cfg = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=1,
                                   inter_op_parallelism_threads=1)
    with tf.compat.v1.Session(graph=g, config=cfg) as s:
        s.run(init)
        feed_dict = {n + ":0": a for n, a in feeds}
        for r in range(RUNS):
            got = s.run([f + ":0" for f in fetches], feed_dict)
            for k, a in enumerate(got):
                common._save_npy(
                    os.path.join(out, "%s.run%d.out%d.npy" % (name, r, k)), a)
            for (n, _), a in zip(variables, s.run(reads)):
                common._save_npy(
                    os.path.join(out, "%s.run%d.var.%s.npy" % (name, r, n)), a)
    return "%s %d %d %d %s" % (
        name, len(feeds), len(fetches), RUNS,
        " ".join(n + (":ro" if ro else "") for n, ro in variables))


def generate(out, verbose=True):
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        if f.endswith((".pb", ".pbtxt", ".npy")) or f == "MANIFEST":
            os.remove(os.path.join(out, f))
    lines = []
    for build in CASES:
        lines.append(_emit(out, build))
        if verbose:
            print("variables/" + lines[-1], flush=True)
    with open(os.path.join(out, "MANIFEST"), "w") as f:
        f.write("# Generated by scripts/gen_tf_testdata.py with TensorFlow %s "
                "(do not edit).\n# NAME NFEEDS NFETCHES NRUNS VAR[:ro]...\n"
                % tf.__version__)
        f.write("\n".join(lines) + "\n")
    return len(lines)
