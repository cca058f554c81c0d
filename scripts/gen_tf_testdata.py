#!/usr/bin/env python3
"""Regenerates testdata/tf/ (frozen TensorFlow GraphDefs + tfcompile configs +
.npy inputs/outputs) for the hloc C test suite.

    $(bash scripts/venv.sh tf) scripts/gen_tf_testdata.py [--only REGEX]
        [--skip-ops] [--skip-models] [--skip-checkpoints] [--skip-savedmodels]
        [--skip-v1control] [--skip-variables] [--skip-names] [--out testdata/tf]

Layout (per case NAME in testdata/tf/ops or testdata/tf/models):
  NAME.pb             frozen binary GraphDef (FunctionDefLibrary kept)
  NAME.pbtxt          same GraphDef as text (some op cases only)
  NAME.config.pbtxt   tensorflow.tf2xla.Config in text format
  NAME.inK.npy        inputs in config feed order
  NAME.outK.npy       TensorFlow's outputs in config fetch order
  MANIFEST            "NAME FAMILY NIN NOUT" + "# ops: ..." per case
testdata/tf/checkpoints holds small TensorBundle checkpoints with their
values as .npy (scripts/tfgen/checkpoints.py; "--only checkpoints");
testdata/tf/variables graphs of config variables run several times in a
row (scripts/tfgen/variables.py; "--only variables"); testdata/tf/names
graphs with '/' in their tensor names (scripts/tfgen/names.py; "--only
names"); savedmodels and
v1control regenerate with "--only savedmodels" and "--only v1control"
(TensorFlow does not write SavedModels byte for byte the same twice: keep
the directories of cases that did not change).
Everything is deterministic (seeds derive from case names); nothing is
downloaded.
"""
import argparse
import os
import re
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

sys.dont_write_bytecode = True  # keep scripts/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import tensorflow as tf  # noqa: E402

from tfgen import common  # noqa: E402


def run_dir(outdir, cases, header, only, verbose):
    os.makedirs(outdir, exist_ok=True)
    if only is None:  # full regeneration: drop stale files
        for f in os.listdir(outdir):
            if f.endswith((".pb", ".pbtxt", ".npy")) or f == "MANIFEST":
                os.remove(os.path.join(outdir, f))
    # a case may be a builder function (models) whose __name__ is its name
    name_of = lambda c: c.__name__ if callable(c) else c.name
    names = [name_of(c) for c in cases]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise SystemExit("duplicate case names: %s" % sorted(dup))
    summaries = []
    for c in cases:
        if only is not None and not re.search(only, name_of(c)):
            continue
        if callable(c):
            c = c()
            assert c.name == names[len(summaries) if only is None else
                                   names.index(c.name)]
        s = common.emit(c, outdir)
        summaries.append(s)
        if verbose:
            print("%-40s %-14s in=%d out=%d %s" % (
                c.name, c.family, s["nin"], s["nout"], " ".join(s["ops"])),
                flush=True)
    if only is None:
        common.write_manifest(outdir, summaries, header)
    return summaries


README = """\
TensorFlow-generated test data for hloc.  Do not edit: regenerate with

    $(bash scripts/venv.sh tf) scripts/gen_tf_testdata.py

(TensorFlow %s CPU, Keras %s; deterministic, nothing is downloaded).

ops/     one small graph per op (several where attributes matter)
models/  small Keras models with random weights (fixed seeds)
checkpoints/  TensorBundle checkpoints (TF2 tf.train.Checkpoint, TF1 Saver,
         partitioned variables) with each key's value as .npy, and a graph
         of partitioned variables (scripts/tfgen/checkpoints.py)
savedmodels/  SavedModel directories (TF2 Keras export, tf.Module, TF1
         SavedModelBuilder) and a TF1 GraphDef with its checkpoint; their
         MANIFEST and layout are described in scripts/tfgen/savedmodels.py
v1control/  TensorFlow 1 control flow (Switch/Merge/Enter/Exit/NextIteration)
         graphs with configs, inputs and outputs (scripts/tfgen/v1control.py)
variables/  graphs of tfcompile config variables, run several times in a
         row (scripts/tfgen/variables.py describes the layout)
names/   a graph whose tensor names have '/', with a config and one whose
         names collide, for the naming rules (scripts/tfgen/names.py)

Per case NAME:
  NAME.pb            frozen binary GraphDef; variables are Consts, While/If
                     stay functional and the FunctionDefLibrary is kept
  NAME.pbtxt         the same GraphDef in text format (a few op cases)
  NAME.config.pbtxt  tensorflow.tf2xla.Config (tfcompile) in text format;
                     feeds carry shape and type.  Three layouts occur: one
                     block per line (most), pretty-printed multi-line (some
                     op cases, all models) and "compact" (one line, no
                     spaces, output_index 0 left out, comments)
  NAME.inK.npy       inputs, in config feed order
  NAME.outK.npy      TensorFlow's outputs, in config fetch order
MANIFEST: "NAME FAMILY NIN NOUT" per case (FAMILY: exact elementwise
transcendental matmul conv reduce model), then "# ops: ..." with the op types
in the GraphDef and its function library, except Placeholder Const Identity
NoOp.  Node order in each GraphDef is a topological order (feeds first).

Notes:
- NCHW Conv2D/MaxPool/AvgPool and dilated DepthwiseConv2dNative have no TF
  CPU kernel; those outputs were computed by TF with the equivalent NHWC
  (transposes around the op) / tf.nn.depthwise_conv2d formulation.
- ops/div_int32_neg: TF's CPU Div truncates integer quotients toward zero.
- ops/const_nofeed has no feeds (NIN 0).
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--out", default=os.path.join(top, "testdata", "tf"))
    ap.add_argument("--only", default=None,
                    help="regex: regenerate matching cases only (MANIFEST is "
                         "left untouched)")
    ap.add_argument("--skip-ops", action="store_true")
    ap.add_argument("--skip-models", action="store_true")
    ap.add_argument("--skip-checkpoints", action="store_true")
    ap.add_argument("--skip-savedmodels", action="store_true")
    ap.add_argument("--skip-v1control", action="store_true")
    ap.add_argument("--skip-variables", action="store_true")
    ap.add_argument("--skip-names", action="store_true")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args()
    tf.config.threading.set_intra_op_parallelism_threads(2)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    hdr = ["Generated by scripts/gen_tf_testdata.py with TensorFlow %s "
           "(do not edit)." % tf.__version__,
           "Families: exact elementwise transcendental matmul conv reduce "
           "model.",
           "'# ops:' lists the op types in the GraphDef and its function "
           "library, except Placeholder Const Identity NoOp."]
    if args.only is None:
        import keras
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "README"), "w") as f:
            f.write(README % (tf.__version__, keras.__version__))
    if not args.skip_ops:
        from tfgen import ops
        s = run_dir(os.path.join(args.out, "ops"), ops.build_cases(), hdr,
                    args.only, not args.quiet)
        print("ops: %d cases" % len(s))
    if not args.skip_models:
        from tfgen import models
        s = run_dir(os.path.join(args.out, "models"), models.build_cases(),
                    hdr, args.only, not args.quiet)
        print("models: %d cases" % len(s))
    if not args.skip_checkpoints and (args.only is None or
                                      re.search(args.only, "checkpoints")):
        from tfgen import checkpoints
        n = checkpoints.build(os.path.join(args.out, "checkpoints"))
        print("checkpoints: %d keys" % n)
    if not args.skip_savedmodels and (args.only is None or
                                      re.search(args.only, "savedmodels")):
        from tfgen import savedmodels
        savedmodels.generate(os.path.join(args.out, "savedmodels"),
                             not args.quiet)
    if not args.skip_v1control and (args.only is None or
                                    re.search(args.only, "v1control")):
        from tfgen import v1control
        n = v1control.generate(os.path.join(args.out, "v1control"),
                               not args.quiet)
        print("v1control: %d cases" % n)
    if not args.skip_variables and (args.only is None or
                                    re.search(args.only, "variables")):
        from tfgen import variables
        n = variables.generate(os.path.join(args.out, "variables"),
                               not args.quiet)
        print("variables: %d cases" % n)
    if not args.skip_names and (args.only is None or re.search(args.only, "names")):
        from tfgen import names
        names.generate(os.path.join(args.out, "names"), not args.quiet)


if __name__ == "__main__":
    main()
