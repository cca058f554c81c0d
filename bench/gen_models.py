#!/usr/bin/env python3
"""Generates real-size TensorFlow models for bench/run.py (not test data).

    .venv/tf/bin/python bench/gen_models.py [--only REGEX] [--out DIR]

Writes, per model NAME, into DIR (default build-bench/models, outside git),
the same files as testdata/tf/models (scripts/gen_tf_testdata.py):
  NAME.pb             frozen binary GraphDef
  NAME.config.pbtxt   tensorflow.tf2xla.Config (tfcompile) in text format
  NAME.inK.npy        inputs, in feed order
  NAME.outK.npy       TensorFlow's outputs, in fetch order
  MANIFEST            "NAME FAMILY NIN NOUT" + "# ops: ..." per model
Batch 1, f32, random weights (seeds derive from the model names; BatchNorm
statistics and norm affine parameters randomized so that folding them is
exercised); nothing is downloaded.  The image classifiers fetch logits
(classifier_activation=None): a saturated softmax would hide differences.
With --only, the other models' MANIFEST entries are kept.
"""
import argparse
import os
import re
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

sys.dont_write_bytecode = True  # keep scripts/ free of __pycache__
TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "scripts"))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402

from tfgen import common  # noqa: E402
from tfgen.common import rng_for  # noqa: E402
from tfgen.models import _case, _seed  # noqa: E402

F32 = np.float32
apps = keras.applications


def _image(name, size):
    return [("image", rng_for(name).uniform(-1, 1, (1, size, size, 3)).astype(F32))]


def _app(name, ctor, size, ops, **kw):
    _seed(name)
    m = ctor(weights=None, input_shape=(size, size, 3), classes=1000,
             classifier_activation=None, **kw)
    return _case(name, m, _image(name, size), ops, ["logits"])


def mobilenet_v2_224():
    return _app("mobilenet_v2_224", apps.MobileNetV2, 224,
                ["Conv2D", "DepthwiseConv2dNative", "Relu6"], alpha=1.0)


def resnet50():
    return _app("resnet50", apps.ResNet50, 224, ["Conv2D", "MaxPool", "Relu"])


def efficientnet_b0():
    return _app("efficientnet_b0", apps.EfficientNetB0, 224,
                ["Conv2D", "DepthwiseConv2dNative", "Sigmoid"])


def inception_v3():
    return _app("inception_v3", apps.InceptionV3, 299,
                ["Conv2D", "AvgPool", "MaxPool", "ConcatV2"])


def densenet121():
    return _app("densenet121", apps.DenseNet121, 224,
                ["Conv2D", "AvgPool", "ConcatV2"])


class _PositionEmbedding(layers.Layer):
    """Adds a learned (random) position embedding, BERT style."""

    def build(self, shape):
        self.table = self.add_weight(
            shape=tuple(shape[1:]), name="table",
            initializer=keras.initializers.TruncatedNormal(stddev=0.02))

    def call(self, x):
        return x + self.table


def bert_base():
    """BERT-base encoder: token ids and attention mask (int32 [1, 128]) ->
    last hidden state [1, 128, 768] and the tanh pooler output [1, 768].
    12 post-LN layers, hidden 768, 12 heads, intermediate 3072, exact GELU
    (Erfc), vocabulary 30522; no token-type embedding."""
    name = "bert_base"
    _seed(name)
    seq, hidden, heads, inter, vocab = 128, 768, 12, 3072, 30522
    # A new initializer per layer: one instance draws the same values for
    # every kernel of a shape (and hloc would share the duplicate constants).
    init = lambda: keras.initializers.TruncatedNormal(stddev=0.02)
    ids = keras.Input((seq,), dtype="int32", name="input_ids")
    mask = keras.Input((seq,), dtype="int32", name="attention_mask")
    h = layers.Embedding(vocab, hidden, embeddings_initializer=init())(ids)
    h = _PositionEmbedding()(h)
    h = layers.LayerNormalization(epsilon=1e-12)(h)
    # [B, 1, S]: every query position sees the unpadded keys
    att_mask = keras.ops.cast(keras.ops.expand_dims(mask, 1), "bool")
    for _ in range(12):
        a = layers.MultiHeadAttention(heads, hidden // heads,
                                      kernel_initializer=init())(
            h, h, attention_mask=att_mask)
        h = layers.LayerNormalization(epsilon=1e-12)(layers.Add()([h, a]))
        f = layers.Dense(inter, activation="gelu", kernel_initializer=init())(h)
        f = layers.Dense(hidden, kernel_initializer=init())(f)
        h = layers.LayerNormalization(epsilon=1e-12)(layers.Add()([h, f]))
    pooled = layers.Dense(hidden, activation="tanh", kernel_initializer=init())(
        h[:, 0])
    m = keras.Model([ids, mask], [h, pooled])
    r = rng_for(name)
    tokens = r.integers(1, vocab, (1, seq)).astype(np.int32)
    valid = np.zeros((1, seq), np.int32)
    valid[:, :100] = 1  # the last 28 positions are padding
    tokens[valid == 0] = 0
    return _case(name, m, [("input_ids", tokens), ("attention_mask", valid)],
                 ["Einsum", "Softmax", "Erfc", "GatherV2"],
                 ["hidden", "pooled"])


def lstm_lm():
    """Language model: token ids int32 [1, 32] -> logits [1, 32, 10000];
    embedding 512, two LSTM(512) layers (While loops), a dense decoder."""
    name = "lstm_lm"
    _seed(name)
    steps, vocab, width = 32, 10000, 512
    x = keras.Input((steps,), dtype="int32")
    emb = layers.Embedding(vocab, width)
    h = emb(x)
    h = layers.LSTM(width, return_sequences=True)(h)
    h = layers.LSTM(width, return_sequences=True)(h)
    y = layers.Dense(vocab)(h)
    m = keras.Model(x, y)
    r = rng_for(name)
    # The default init (uniform +-0.05) leaves the logits near 0 (|y| < 0.01);
    # a larger scale drives the LSTMs and spreads the logits.
    emb.embeddings.assign(r.normal(0, 1.0, (vocab, width)).astype(F32))
    return _case(name, m, [("tokens", r.integers(0, vocab, (1, steps)).astype(np.int32))],
                 ["GatherV2", "While", "Sigmoid", "Tanh"], ["logits"])


BUILDERS = [mobilenet_v2_224, resnet50, efficientnet_b0, inception_v3,
            densenet121, bert_base, lstm_lm]


def read_manifest(outdir):
    """The entries of an existing MANIFEST as emit() summaries."""
    path, entries = os.path.join(outdir, "MANIFEST"), {}
    if os.path.exists(path):
        last = None
        for line in open(path).read().splitlines():
            if line.startswith("# ops:") and last:
                entries[last]["ops"] = line[len("# ops:"):].split()
            elif line and not line.startswith("#"):
                last, family, nin, nout = line.split()
                entries[last] = dict(name=last, family=family, nin=int(nin),
                                     nout=int(nout), ops=[])
    return entries


def write_manifest(outdir, summaries):
    """MANIFEST of the models generated now and, with --only, those of
    earlier runs whose files are still there."""
    entries = {n: e for n, e in read_manifest(outdir).items()
               if os.path.exists(os.path.join(outdir, n + ".pb"))}
    entries.update((s["name"], s) for s in summaries)
    order = [b.__name__ for b in BUILDERS]
    names = [n for n in order if n in entries] + sorted(set(entries) - set(order))
    hdr = ["Generated by bench/gen_models.py with TensorFlow %s (do not edit)."
           % tf.__version__,
           "'# ops:' lists the op types in the GraphDef and its function "
           "library, except Placeholder Const Identity NoOp."]
    common.write_manifest(outdir, [entries[n] for n in names], hdr)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", default=os.path.join(TOP, "build-bench", "models"),
                    help="output directory (default build-bench/models)")
    ap.add_argument("--only", default=None, help="regex: generate matching models only")
    ap.add_argument("--list", action="store_true", help="list the models and exit")
    args = ap.parse_args()
    if args.list:
        print("\n".join(b.__name__ for b in BUILDERS))
        return
    tf.config.threading.set_intra_op_parallelism_threads(2)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    os.makedirs(args.out, exist_ok=True)
    summaries = []
    for b in BUILDERS:
        if args.only is not None and not re.search(args.only, b.__name__):
            continue
        t0 = time.time()
        case = b()
        assert case.name == b.__name__, (case.name, b.__name__)
        s = common.emit(case, args.out)
        summaries.append(s)
        size = os.path.getsize(os.path.join(args.out, case.name + ".pb")) / 2**20
        print("%-18s %5.0f s  %6.1f MiB  in=%d out=%d %s" % (
            case.name, time.time() - t0, size, s["nin"], s["nout"],
            " ".join(s["ops"])), flush=True)
    if not summaries:
        raise SystemExit("no model matches %r" % args.only)
    write_manifest(args.out, summaries)


if __name__ == "__main__":
    main()
