"""Small whole-model test cases (testdata/tf/models), Keras with random
weights (fixed seeds; nothing is downloaded), traced with training=False
and frozen like the op cases."""
import zlib

import numpy as np
import tensorflow as tf
import keras
from keras import layers

from .common import Case, rng_for

F32 = np.float32


def _seed(name):
    keras.backend.clear_session()
    keras.utils.set_random_seed(zlib.crc32(name.encode()) & 0x7FFFFFFF)


def _randomize_norms(model, name):
    """Non-trivial BatchNorm statistics / affine params and LayerNorm
    affine params, so that folding mistakes show up in the outputs."""
    r = rng_for(name + "/norm")
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, layers.BatchNormalization):
            c = layer.moving_mean.shape[0]
            layer.moving_mean.assign(r.normal(0, 0.5, c).astype(F32))
            layer.moving_variance.assign(r.uniform(0.5, 2.0, c).astype(F32))
            if layer.gamma is not None:
                layer.gamma.assign(r.uniform(0.6, 1.4, c).astype(F32))
            if layer.beta is not None:
                layer.beta.assign(r.normal(0, 0.2, c).astype(F32))
        elif isinstance(layer, layers.LayerNormalization):
            if layer.gamma is not None:
                c = layer.gamma.shape
                layer.gamma.assign(r.uniform(0.6, 1.4, c).astype(F32))
            if layer.beta is not None:
                c = layer.beta.shape
                layer.beta.assign(r.normal(0, 0.2, c).astype(F32))


def _case(name, model, inputs, ops, fetch_names, **kw):
    _randomize_norms(model, name)
    if len(inputs) == 1:
        fn = lambda x: model(x, training=False)
    else:
        fn = lambda *xs: model(list(xs), training=False)
    return Case(name, fn, inputs, "model", ops, fetch_names=fetch_names,
                config_style="pretty", **kw)


def mnist_mlp():
    name = "mnist_mlp"
    _seed(name)
    x = keras.Input((784,), name="image")
    h = layers.Dense(128, activation="relu")(x)
    y = layers.Dense(10, activation="softmax")(h)
    m = keras.Model(x, y)
    r = rng_for(name)
    return _case(name, m, [("image", r.uniform(0, 1, (2, 784)).astype(F32))],
                 ["MatMul", "Relu", "Softmax"], ["probs"])


def small_cnn():
    name = "small_cnn"
    _seed(name)
    x = keras.Input((28, 28, 1))
    h = x
    for filters in (8, 16):
        h = layers.Conv2D(filters, 3, padding="same")(h)
        h = layers.BatchNormalization()(h)
        h = layers.ReLU()(h)
        h = layers.MaxPooling2D(2)(h)
    h = layers.GlobalAveragePooling2D()(h)
    y = layers.Dense(10, activation="softmax")(h)
    m = keras.Model(x, y)
    r = rng_for(name)
    return _case(name, m, [("image", r.uniform(0, 1, (2, 28, 28, 1)).astype(F32))],
                 ["Conv2D", "MaxPool", "Relu", "Softmax"], ["probs"])


def mobilenet_v2():
    name = "mobilenet_v2"
    _seed(name)
    m = keras.applications.MobileNetV2(alpha=0.35, input_shape=(96, 96, 3),
                                       weights=None, classes=10)
    r = rng_for(name)
    return _case(name, m, [("image", r.uniform(-1, 1, (1, 96, 96, 3)).astype(F32))],
                 ["Conv2D", "DepthwiseConv2dNative", "Softmax"], ["probs"])


def resnet_blocks():
    name = "resnet_blocks"
    _seed(name)

    def block(h, filters, stride):
        shortcut = h
        if stride != 1 or h.shape[-1] != filters:
            shortcut = layers.Conv2D(filters, 1, strides=stride,
                                     use_bias=False)(h)
            shortcut = layers.BatchNormalization()(shortcut)
        h = layers.Conv2D(filters, 3, strides=stride, padding="same",
                          use_bias=False)(h)
        h = layers.BatchNormalization()(h)
        h = layers.ReLU()(h)
        h = layers.Conv2D(filters, 3, padding="same", use_bias=False)(h)
        h = layers.BatchNormalization()(h)
        h = layers.Add()([h, shortcut])
        return layers.ReLU()(h)

    x = keras.Input((32, 32, 3))
    h = layers.Conv2D(16, 3, padding="same", use_bias=False)(x)
    h = layers.BatchNormalization()(h)
    h = layers.ReLU()(h)
    h = block(h, 16, 1)
    h = block(h, 32, 2)  # strided 1x1 projection shortcut
    h = block(h, 32, 1)
    h = layers.GlobalAveragePooling2D()(h)
    y = layers.Dense(10)(h)
    m = keras.Model(x, y)
    r = rng_for(name)
    return _case(name, m, [("image", r.uniform(-1, 1, (1, 32, 32, 3)).astype(F32))],
                 ["Conv2D", "Relu", "AddV2"], ["logits"])


def transformer_block():
    name = "transformer_block"
    _seed(name)
    x = keras.Input((16, 32))
    a = layers.MultiHeadAttention(num_heads=4, key_dim=8)(x, x)
    h = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([x, a]))
    f = layers.Dense(64, activation="gelu")(h)
    f = layers.Dense(32)(f)
    y = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([h, f]))
    m = keras.Model(x, y)
    r = rng_for(name)
    return _case(name, m, [("x", r.normal(0, 1, (2, 16, 32)).astype(F32))],
                 ["Einsum", "Softmax", "Erfc"], ["y"])


def text_classifier():
    name = "text_classifier"
    _seed(name)
    x = keras.Input((20,), dtype="int32")
    emb = layers.Embedding(1000, 16)
    h = emb(x)
    h = layers.GlobalAveragePooling1D()(h)
    y = layers.Dense(4, activation="softmax")(h)
    m = keras.Model(x, y)
    r = rng_for(name)
    # The default init (uniform +-0.05) averages out to near-uniform
    # probabilities; use a larger scale so that the output discriminates.
    emb.embeddings.assign(r.normal(0, 1.0, (1000, 16)).astype(F32))
    return _case(name, m, [("tokens", r.integers(0, 1000, (2, 20)).astype(np.int32))],
                 ["GatherV2", "Softmax"], ["probs"])


def _lstm(name, unroll, ops):
    _seed(name)
    x = keras.Input((8, 12))
    h = layers.LSTM(16, unroll=unroll)(x)
    y = layers.Dense(5)(h)
    m = keras.Model(x, y)
    r = rng_for(name)
    return _case(name, m, [("x", r.normal(0, 1, (2, 8, 12)).astype(F32))],
                 ops, ["y"])


def lstm_unrolled():
    return _lstm("lstm_unrolled", True, ["MatMul", "Sigmoid", "Tanh"])


def lstm_while():
    return _lstm("lstm_while", False, ["Sigmoid", "Tanh"])


def unet_small():
    name = "unet_small"
    _seed(name)

    def cbr(h, f):
        h = layers.Conv2D(f, 3, padding="same", use_bias=False)(h)
        h = layers.BatchNormalization()(h)
        return layers.ReLU()(h)

    x = keras.Input((32, 32, 3))
    c1 = cbr(x, 8)                                   # 32x32x8
    p1 = layers.MaxPooling2D(2)(c1)                  # 16x16
    c2 = cbr(p1, 16)                                 # 16x16x16
    p2 = layers.MaxPooling2D(2)(c2)                  # 8x8
    b = cbr(p2, 32)                                  # 8x8x32
    u2 = layers.Conv2DTranspose(16, 2, strides=2)(b)  # 16x16x16
    d2 = cbr(layers.Concatenate()([u2, c2]), 16)
    u1 = layers.UpSampling2D(2, interpolation="bilinear")(d2)  # 32x32x16
    d1 = cbr(layers.Concatenate()([u1, c1]), 8)
    y = layers.Conv2D(2, 1, activation="softmax")(d1)
    m = keras.Model(x, y)
    r = rng_for(name)
    return _case(name, m, [("image", r.uniform(-1, 1, (1, 32, 32, 3)).astype(F32))],
                 ["Conv2D", "Conv2DBackpropInput", "ConcatV2", "MaxPool",
                  "ResizeBilinear", "Softmax"], ["probs"])


BUILDERS = [mnist_mlp, small_cnn, mobilenet_v2, resnet_blocks,
            transformer_block, text_classifier, lstm_unrolled, lstm_while,
            unet_small]


def build_cases():
    """Builders, not Cases: each Keras model is built only when its case
    is generated (the builder's __name__ is the case name)."""
    return list(BUILDERS)
