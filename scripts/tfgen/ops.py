"""Single-op test cases (testdata/tf/ops).

Each entry builds a Case: a tiny tf.function around one op (plus the
Placeholders, Consts and Identity nodes that come with it).  Inputs are
random with a seed derived from the case name and lie in the domain where
the op is well defined.
"""
import numpy as np
import tensorflow as tf

from .common import Case, rng_for

raw = tf.raw_ops
F32, F64, F16 = np.float32, np.float64, np.float16
I32, I64 = np.int32, np.int64


# ---------------------------------------------------------------- inputs --
def U(r, shape, lo=-1.0, hi=1.0, dtype=F32):
    return r.uniform(lo, hi, size=shape).astype(dtype)


def N(r, shape, dtype=F32):
    return r.standard_normal(size=shape).astype(dtype)


def I(r, shape, lo, hi, dtype=I32):
    """Integers in [lo, hi)."""
    return r.integers(lo, hi, size=shape).astype(dtype)


def B(r, shape):
    return r.integers(0, 2, size=shape).astype(bool)


def distinct(r, shape, lo=-4.0, hi=4.0, dtype=F32):
    """Pairwise distinct values (gaps >= (hi-lo)/(2n)): no ties for
    ArgMax / TopK / MaxPool."""
    n = int(np.prod(shape))
    v = (r.permutation(n) + r.uniform(0.25, 0.75, size=n)) / n
    return (lo + (hi - lo) * v).reshape(shape).astype(dtype)


def nonzero(r, shape, lo=0.5, hi=3.0, dtype=F32):
    """Magnitudes in [lo, hi), random signs."""
    s = np.where(r.integers(0, 2, size=shape) == 1, 1.0, -1.0)
    return (s * r.uniform(lo, hi, size=shape)).astype(dtype)


def halves(r, shape, dtype=F32):
    """Mix of exact .5 values (rounding ties), integers and random values."""
    a = r.integers(-12, 13, size=shape) / 2.0
    b = r.uniform(-6, 6, size=shape)
    pick = r.integers(0, 3, size=shape)
    return np.where(pick == 2, b, a).astype(dtype)


def t_nchw(t):
    return tf.transpose(t, [0, 2, 3, 1])


def t_nhwc(t):
    return tf.transpose(t, [0, 3, 1, 2])


# ----------------------------------------------------------------- cases --
def build_cases():
    cases = []

    def add(name, fn, inputs, family, ops, **kw):
        """inputs: function of a numpy Generator -> [(feed, array)]."""
        cases.append(Case(name, fn, inputs(rng_for(name)), family, ops, **kw))

    # ---- graph plumbing -------------------------------------------------
    add("placeholder", lambda x: x, lambda r: [("x", U(r, [2, 3]))],
        "exact", ["Placeholder"], pbtxt=True)
    add("placeholder_multi",
        lambda a, b, c: (a * 2.0, b + 1, tf.logical_not(c)),
        lambda r: [("a", U(r, [2, 3])), ("b", I(r, [4], -50, 50)),
                   ("c", B(r, [3]))],
        "exact", ["Placeholder", "Mul", "AddV2", "LogicalNot"],
        fetch_names=["a2", "b1", "not_c"], pbtxt=True, pretty_config=True)
    add("placeholder_scalar", lambda s, x: x * s,
        lambda r: [("s", np.array(1.5, F32)), ("x", U(r, [4]))],
        "exact", ["Mul"])
    add("placeholder_with_default",
        lambda x: x + raw.PlaceholderWithDefault(
            input=tf.constant([1.0, -2.0, 0.5]), shape=[3], name="bias"),
        lambda r: [("x", U(r, [2, 3]))], "elementwise",
        ["PlaceholderWithDefault", "AddV2"])
    add("const", lambda x: x * tf.constant([[1.0, 2.0, 3.0], [-1.0, 0.5, 4.0]]),
        lambda r: [("x", U(r, [2, 3]))], "elementwise", ["Const", "Mul"])
    add("const_nofeed",
        lambda: (tf.constant([[1.5, -2.0], [3.25, 4.0]]),
                 tf.constant([7, 8, 9], dtype=tf.int32),
                 tf.constant([True, False])),
        lambda r: [], "exact", ["Const"])
    add("identity", lambda x: raw.Identity(input=x) * 1,
        lambda r: [("x", I(r, [3, 2], -9, 9))], "exact", ["Identity", "Mul"])
    add("identity_n", lambda a, b: tuple(raw.IdentityN(input=[a, b])),
        lambda r: [("a", U(r, [2, 3])), ("b", I(r, [4], 0, 9))],
        "exact", ["IdentityN"], config_style="compact",
        fetch_direct=True)

    def noop(x):
        with tf.control_dependencies([tf.no_op()]):
            return x * 2.0
    add("noop", noop, lambda r: [("x", U(r, [3]))], "exact", ["NoOp", "Mul"])
    add("stop_gradient", lambda x: tf.stop_gradient(x) * 2.0,
        lambda r: [("x", U(r, [2, 3]))], "exact", ["StopGradient"])
    add("snapshot", lambda x: raw.Snapshot(input=x) + 1.0,
        lambda r: [("x", U(r, [2, 3]))], "elementwise", ["Snapshot"])
    add("ensure_shape", lambda x: tf.ensure_shape(x, [2, 3]) * 3.0,
        lambda r: [("x", U(r, [2, 3]))], "elementwise", ["EnsureShape"])
    add("check_numerics",
        lambda x: tf.debugging.check_numerics(x, "x has NaN/Inf") - 1.0,
        lambda r: [("x", U(r, [2, 3]))], "elementwise", ["CheckNumerics"])

    # ---- unary ------------------------------------------------------------
    S = [3, 4, 5]

    def unary(name, op, inputs, family, optype, **kw):
        add(name, op, inputs, family, [optype], **kw)

    unary("neg", tf.negative, lambda r: [("x", U(r, S))], "exact", "Neg")
    unary("neg_int32", tf.negative, lambda r: [("x", I(r, S, -100, 100))],
          "exact", "Neg")
    unary("abs", tf.abs, lambda r: [("x", U(r, S))], "exact", "Abs")
    unary("abs_int32", tf.abs, lambda r: [("x", I(r, S, -100, 100))],
          "exact", "Abs")
    unary("sign", tf.sign,
          lambda r: [("x", np.where(I(r, S, 0, 4) == 0, 0.0, U(r, S))
                      .astype(F32))], "exact", "Sign")
    unary("sign_int32", tf.sign, lambda r: [("x", I(r, S, -3, 4))],
          "exact", "Sign")
    unary("exp", tf.exp, lambda r: [("x", U(r, S, -4, 4))],
          "transcendental", "Exp")
    unary("exp_f64", tf.exp, lambda r: [("x", U(r, S, -4, 4, F64))],
          "transcendental", "Exp")
    unary("expm1", tf.math.expm1,
          lambda r: [("x", (U(r, S, -2, 2) * 10.0 ** I(r, S, -6, 1))
                      .astype(F32))], "transcendental", "Expm1")
    unary("log", tf.math.log, lambda r: [("x", U(r, S, 0.01, 10))],
          "transcendental", "Log")
    unary("log1p", tf.math.log1p,
          lambda r: [("x", (U(r, S, -0.9, 5) * 10.0 ** I(r, S, -6, 1))
                      .astype(F32))], "transcendental", "Log1p")
    unary("sqrt", tf.sqrt, lambda r: [("x", U(r, S, 0, 10))],
          "transcendental", "Sqrt")
    unary("rsqrt", tf.math.rsqrt, lambda r: [("x", U(r, S, 0.1, 10))],
          "transcendental", "Rsqrt")
    unary("square", tf.square, lambda r: [("x", U(r, S, -3, 3))],
          "elementwise", "Square")
    unary("reciprocal", lambda x: raw.Reciprocal(x=x),
          lambda r: [("x", nonzero(r, S))], "elementwise", "Reciprocal")
    unary("sigmoid", tf.sigmoid, lambda r: [("x", U(r, S, -8, 8))],
          "transcendental", "Sigmoid")
    unary("tanh", tf.tanh, lambda r: [("x", U(r, S, -4, 4))],
          "transcendental", "Tanh")
    unary("tanh_f16", tf.tanh, lambda r: [("x", U(r, S, -3, 3, F16))],
          "transcendental", "Tanh")
    unary("relu", tf.nn.relu, lambda r: [("x", U(r, S))], "exact", "Relu",
          pbtxt=True, config_style="compact")
    unary("relu6", tf.nn.relu6, lambda r: [("x", U(r, S, -3, 9))],
          "exact", "Relu6")
    unary("elu", tf.nn.elu, lambda r: [("x", U(r, S, -4, 4))],
          "transcendental", "Elu")
    unary("selu", tf.nn.selu, lambda r: [("x", U(r, S, -4, 4))],
          "transcendental", "Selu")
    unary("leaky_relu", lambda x: raw.LeakyRelu(features=x),
          lambda r: [("x", U(r, S, -4, 4))], "elementwise", "LeakyRelu")
    unary("leaky_relu_a01", lambda x: raw.LeakyRelu(features=x, alpha=0.1),
          lambda r: [("x", U(r, S, -4, 4))], "elementwise", "LeakyRelu")
    unary("softplus", tf.math.softplus, lambda r: [("x", U(r, S, -20, 20))],
          "transcendental", "Softplus")
    unary("softsign", tf.math.softsign, lambda r: [("x", U(r, S, -5, 5))],
          "elementwise", "Softsign")
    unary("erf", tf.math.erf, lambda r: [("x", U(r, S, -3, 3))],
          "transcendental", "Erf")
    unary("floor", tf.floor, lambda r: [("x", halves(r, S))], "exact",
          "Floor")
    unary("ceil", tf.math.ceil, lambda r: [("x", halves(r, S))], "exact",
          "Ceil")
    unary("round", tf.round, lambda r: [("x", halves(r, S))], "exact",
          "Round")
    unary("rint", tf.math.rint, lambda r: [("x", halves(r, S))], "exact",
          "Rint")
    unary("sin", tf.sin, lambda r: [("x", U(r, S, -7, 7))],
          "transcendental", "Sin")
    unary("cos", tf.cos, lambda r: [("x", U(r, S, -7, 7))],
          "transcendental", "Cos")

    def specials(r):
        a = U(r, S, -1e3, 1e3)
        pick = I(r, S, 0, 6)
        a = np.where(pick == 0, np.inf, a)
        a = np.where(pick == 1, -np.inf, a)
        a = np.where(pick == 2, np.nan, a)
        return [("x", a.astype(F32))]
    unary("is_finite", tf.math.is_finite, specials, "exact", "IsFinite")
    unary("is_nan", tf.math.is_nan, specials, "exact", "IsNan")
    unary("logical_not", tf.logical_not, lambda r: [("x", B(r, S))],
          "exact", "LogicalNot")

    # Cast (various dtype pairs)
    def cast(name, dst, inputs, pbtxt=False):
        unary(name, lambda x: tf.cast(x, dst), inputs, "exact", "Cast",
              pbtxt=pbtxt)
    cast("cast_f32_i32", tf.int32, lambda r: [("x", U(r, S, -100, 100))],
         pbtxt=True)
    cast("cast_i32_f32", tf.float32, lambda r: [("x", I(r, S, -1000, 1000))])
    cast("cast_f32_f16", tf.float16, lambda r: [("x", U(r, S, -100, 100))])
    cast("cast_f16_f32", tf.float32, lambda r: [("x", U(r, S, -100, 100, F16))])
    cast("cast_f64_f32", tf.float32, lambda r: [("x", U(r, S, -100, 100, F64))])
    cast("cast_f32_f64", tf.float64, lambda r: [("x", U(r, S, -100, 100))])
    cast("cast_bool_f32", tf.float32, lambda r: [("x", B(r, S))])
    cast("cast_f32_bool", tf.bool,
         lambda r: [("x", np.where(I(r, S, 0, 2) == 0, 0.0, U(r, S))
                     .astype(F32))])
    cast("cast_u8_f32", tf.float32, lambda r: [("x", I(r, S, 0, 256, np.uint8))])
    cast("cast_i8_i32", tf.int32, lambda r: [("x", I(r, S, -128, 128, np.int8))])
    cast("cast_i64_i32", tf.int32, lambda r: [("x", I(r, S, -10**6, 10**6, I64))])
    cast("cast_i32_i64", tf.int64, lambda r: [("x", I(r, S, -10**6, 10**6))])
    cast("cast_f32_u8", tf.uint8, lambda r: [("x", U(r, S, 0, 255))])

    # ---- binary -------------------------------------------------------
    add("add", lambda x, y: raw.Add(x=x, y=y),
        lambda r: [("x", U(r, [2, 3])), ("y", U(r, [2, 3]))],
        "elementwise", ["Add"], pbtxt=True)
    add("add_v2", lambda x, y: raw.AddV2(x=x, y=y),
        lambda r: [("x", U(r, [2, 3, 4])), ("y", U(r, [4]))],
        "elementwise", ["AddV2"], pbtxt=True)
    add("add_v2_f16", lambda x, y: x + y,
        lambda r: [("x", U(r, [4, 5], -10, 10, F16)),
                   ("y", U(r, [4, 5], -10, 10, F16))],
        "elementwise", ["AddV2"])
    add("add_v2_i64", lambda x, y: x + y,
        lambda r: [("x", I(r, [3, 4], -10**12, 10**12, I64)),
                   ("y", I(r, [1, 4], -10**12, 10**12, I64))],
        "exact", ["AddV2"])
    add("add_n", lambda a, b, c: tf.add_n([a, b, c]),
        lambda r: [("a", U(r, [3, 4])), ("b", U(r, [3, 4])),
                   ("c", U(r, [3, 4]))], "elementwise", ["AddN"],
        config_style="compact")
    add("sub", lambda x, y: x - y,
        lambda r: [("x", U(r, [3, 1])), ("y", U(r, [1, 4]))],
        "elementwise", ["Sub"])
    add("mul", lambda x, y: x * y,
        lambda r: [("x", U(r, [2, 3, 4])), ("y", U(r, [3, 1]))],
        "elementwise", ["Mul"])
    add("mul_int32", lambda x, y: x * y,
        lambda r: [("x", I(r, [3, 4], -1000, 1000)),
                   ("y", I(r, [3, 4], -1000, 1000))], "exact", ["Mul"])
    add("div", lambda x, y: raw.Div(x=x, y=y),
        lambda r: [("x", U(r, [3, 4], -5, 5)), ("y", nonzero(r, [3, 4]))],
        "elementwise", ["Div"])
    add("div_int32_pos", lambda x, y: raw.Div(x=x, y=y),
        lambda r: [("x", I(r, [3, 4], 0, 100)), ("y", I(r, [3, 4], 1, 10))],
        "exact", ["Div"])
    # TF's CPU Div kernel truncates toward zero for integers (-7/2 = -3).
    add("div_int32_neg", lambda x, y: raw.Div(x=x, y=y),
        lambda r: [("x", I(r, [3, 4], -100, 100)),
                   ("y", nonzero(r, [3, 4], 1, 10).astype(I32))],
        "exact", ["Div"])
    add("real_div", lambda x, y: raw.RealDiv(x=x, y=y),
        lambda r: [("x", U(r, [3, 4], -5, 5)), ("y", nonzero(r, [4]))],
        "elementwise", ["RealDiv"])
    add("div_no_nan", lambda x, y: tf.math.divide_no_nan(x, y),
        lambda r: [("x", U(r, [3, 4], -5, 5)),
                   ("y", np.where(I(r, [3, 4], 0, 3) == 0, 0.0,
                                  nonzero(r, [3, 4])).astype(F32))],
        "elementwise", ["DivNoNan"])
    add("floor_div_int32", lambda x, y: tf.math.floordiv(x, y),
        lambda r: [("x", I(r, [3, 4], -100, 100)),
                   ("y", nonzero(r, [3, 4], 1, 10).astype(I32))],
        "exact", ["FloorDiv"])
    add("floor_div", lambda x, y: tf.math.floordiv(x, y),
        lambda r: [("x", U(r, [3, 4], -10, 10)), ("y", nonzero(r, [3, 4]))],
        "elementwise", ["FloorDiv"])
    add("floor_mod_int32", lambda x, y: tf.math.floormod(x, y),
        lambda r: [("x", I(r, [3, 4], -100, 100)),
                   ("y", nonzero(r, [3, 4], 1, 10).astype(I32))],
        "exact", ["FloorMod"])
    add("floor_mod", lambda x, y: tf.math.floormod(x, y),
        lambda r: [("x", U(r, [3, 4], -10, 10)), ("y", nonzero(r, [3, 4]))],
        "elementwise", ["FloorMod"])
    add("maximum", lambda x, y: tf.maximum(x, y),
        lambda r: [("x", U(r, [3, 4])), ("y", U(r, [4]))],
        "exact", ["Maximum"])
    add("maximum_int32", lambda x, y: tf.maximum(x, y),
        lambda r: [("x", I(r, [3, 4], -9, 9)), ("y", I(r, [3, 4], -9, 9))],
        "exact", ["Maximum"])
    add("minimum", lambda x: tf.minimum(x, 0.25),
        lambda r: [("x", U(r, [3, 4]))], "exact", ["Minimum"])
    add("pow", lambda x, y: tf.pow(x, y),
        lambda r: [("x", U(r, [3, 4], 0.1, 3)), ("y", U(r, [3, 4], -2, 2))],
        "transcendental", ["Pow"])
    add("squared_difference", lambda x, y: tf.math.squared_difference(x, y),
        lambda r: [("x", U(r, [3, 4])), ("y", U(r, [3, 4]))],
        "elementwise", ["SquaredDifference"])
    add("bias_add", lambda x, b: tf.nn.bias_add(x, b, data_format="NHWC"),
        lambda r: [("x", U(r, [2, 4, 4, 3])), ("b", U(r, [3]))],
        "elementwise", ["BiasAdd"])
    add("bias_add_nchw",
        lambda x, b: tf.nn.bias_add(x, b, data_format="NCHW"),
        lambda r: [("x", U(r, [2, 3, 4, 5])), ("b", U(r, [3]))],
        "elementwise", ["BiasAdd"],
        ref=lambda x, b: [x + b.reshape(1, 3, 1, 1)])
    add("bias_add_2d", lambda x, b: tf.nn.bias_add(x, b),
        lambda r: [("x", U(r, [4, 6])), ("b", U(r, [6]))],
        "elementwise", ["BiasAdd"])
    add("clip_by_value",
        lambda x: raw.ClipByValue(t=x, clip_value_min=tf.constant(-0.5),
                                  clip_value_max=tf.constant(0.75)),
        lambda r: [("x", U(r, [3, 4]))], "exact", ["ClipByValue"])
    add("clip_by_value_tensor",
        lambda x, lo, hi: raw.ClipByValue(t=x, clip_value_min=lo,
                                          clip_value_max=hi),
        lambda r: [("x", U(r, [3, 4])), ("lo", U(r, [3, 4], -1, 0)),
                   ("hi", U(r, [3, 4], 0, 1))], "exact", ["ClipByValue"])
    add("logical_and", tf.logical_and,
        lambda r: [("x", B(r, [3, 4])), ("y", B(r, [4]))], "exact",
        ["LogicalAnd"])
    add("logical_or", tf.logical_or,
        lambda r: [("x", B(r, [3, 1])), ("y", B(r, [1, 4]))], "exact",
        ["LogicalOr"])

    def tied(r, shape):  # floats with many ties
        return (I(r, shape, -3, 4) * 0.5).astype(F32)
    for nm, fn, op in [("equal", tf.equal, "Equal"),
                       ("not_equal", tf.not_equal, "NotEqual"),
                       ("less", tf.less, "Less"),
                       ("less_equal", tf.less_equal, "LessEqual"),
                       ("greater", tf.greater, "Greater"),
                       ("greater_equal", tf.greater_equal, "GreaterEqual")]:
        add(nm, fn, lambda r: [("x", tied(r, [3, 4])), ("y", tied(r, [4]))],
            "exact", [op])
        add(nm + "_int32", fn,
            lambda r: [("x", I(r, [3, 4], -3, 3)), ("y", I(r, [3, 4], -3, 3))],
            "exact", [op])
    add("equal_bool", tf.equal, lambda r: [("x", B(r, [5])), ("y", B(r, [5]))],
        "exact", ["Equal"])
    add("select", lambda c, t, e: raw.Select(condition=c, x=t, y=e),
        lambda r: [("c", B(r, [2, 3])), ("t", U(r, [2, 3])),
                   ("e", U(r, [2, 3]))], "exact", ["Select"])
    # Legacy Select: rank-1 condition picks whole rows.
    add("select_rank1_cond", lambda c, t, e: raw.Select(condition=c, x=t, y=e),
        lambda r: [("c", B(r, [4])), ("t", U(r, [4, 3])),
                   ("e", U(r, [4, 3]))], "exact", ["Select"])
    add("select_v2", lambda c, t, e: raw.SelectV2(condition=c, t=t, e=e),
        lambda r: [("c", B(r, [2, 1, 4])), ("t", U(r, [3, 1])),
                   ("e", U(r, []))], "exact", ["SelectV2"], pbtxt=True)
    add("select_v2_int32", lambda c, t, e: tf.where(c, t, e),
        lambda r: [("c", B(r, [3, 4])), ("t", I(r, [3, 4], -9, 9)),
                   ("e", I(r, [4], -9, 9))], "exact", ["SelectV2"])

    # ---- matmul / einsum ---------------------------------------------------
    add("matmul", lambda a, b: tf.matmul(a, b),
        lambda r: [("a", U(r, [3, 4])), ("b", U(r, [4, 5]))], "matmul",
        ["MatMul"], pbtxt=True)
    add("matmul_ta", lambda a, b: tf.matmul(a, b, transpose_a=True),
        lambda r: [("a", U(r, [4, 3])), ("b", U(r, [4, 5]))], "matmul",
        ["MatMul"])
    add("matmul_tb", lambda a, b: tf.matmul(a, b, transpose_b=True),
        lambda r: [("a", U(r, [3, 4])), ("b", U(r, [5, 4]))], "matmul",
        ["MatMul"])
    add("matmul_ta_tb",
        lambda a, b: tf.matmul(a, b, transpose_a=True, transpose_b=True),
        lambda r: [("a", U(r, [4, 3])), ("b", U(r, [5, 4]))], "matmul",
        ["MatMul"])
    add("matmul_f64", lambda a, b: tf.matmul(a, b),
        lambda r: [("a", U(r, [6, 7], dtype=F64)), ("b", U(r, [7, 2], dtype=F64))],
        "matmul", ["MatMul"])
    add("matmul_vec", lambda a, b: tf.matmul(a, b),
        lambda r: [("a", U(r, [1, 16])), ("b", U(r, [16, 8]))], "matmul",
        ["MatMul"])
    add("batch_matmul_v2", lambda a, b: raw.BatchMatMulV2(x=a, y=b),
        lambda r: [("a", U(r, [2, 3, 4, 5])), ("b", U(r, [3, 5, 6]))],
        "matmul", ["BatchMatMulV2"])
    add("batch_matmul_v2_adj",
        lambda a, b: raw.BatchMatMulV2(x=a, y=b, adj_x=True, adj_y=True),
        lambda r: [("a", U(r, [2, 5, 4])), ("b", U(r, [2, 6, 5]))],
        "matmul", ["BatchMatMulV2"])
    add("batch_matmul_v2_rank2", lambda a, b: raw.BatchMatMulV2(x=a, y=b),
        lambda r: [("a", U(r, [2, 3, 4])), ("b", U(r, [4, 5]))],
        "matmul", ["BatchMatMulV2"])
    add("batch_matmul_v3_adj_x",
        lambda a, b: raw.BatchMatMulV3(x=a, y=b, Tout=tf.float32, adj_x=True),
        lambda r: [("a", U(r, [1, 3, 5, 4])), ("b", U(r, [2, 1, 5, 6]))],
        "matmul", ["BatchMatMulV3"])
    add("batch_matmul_v3_adj_y",
        lambda a, b: raw.BatchMatMulV3(x=a, y=b, Tout=tf.float32, adj_y=True),
        lambda r: [("a", U(r, [2, 1, 3, 4])), ("b", U(r, [3, 6, 4]))],
        "matmul", ["BatchMatMulV3"])

    einsums = [
        ("einsum_ij_jk", "ij,jk->ik", [[3, 4], [4, 5]]),
        ("einsum_bij_bjk", "bij,bjk->bik", [[2, 3, 4], [2, 4, 5]]),
        ("einsum_bhqd_bhkd", "bhqd,bhkd->bhqk", [[2, 4, 6, 8], [2, 4, 5, 8]]),
        ("einsum_bhqk_bhkd", "bhqk,bhkd->bhqd", [[2, 4, 6, 5], [2, 4, 5, 8]]),
        ("einsum_abc_cd", "abc,cd->abd", [[2, 3, 4], [4, 5]]),
        ("einsum_bqhd_bkhd", "bqhd,bkhd->bhqk", [[2, 6, 4, 8], [2, 5, 4, 8]]),
        ("einsum_abc_cde", "abc,cde->abde", [[2, 6, 8], [8, 4, 3]]),
        ("einsum_abcd_cde", "abcd,cde->abe", [[2, 6, 4, 3], [4, 3, 8]]),
        # the two equations Keras 3 MultiHeadAttention emits (upper case)
        ("einsum_mha_scores", "BTNH,BSNH->BNTS", [[2, 6, 4, 8], [2, 5, 4, 8]]),
        ("einsum_mha_context", "BNTS,BSNH->BTNH", [[2, 4, 6, 5], [2, 5, 4, 8]]),
        ("einsum_transpose", "ij->ji", [[3, 5]]),
        ("einsum_dot", "i,i->", [[7], [7]]),
        ("einsum_outer", "i,j->ij", [[3], [4]]),
        # a label repeated within an operand: diagonals and traces
        ("einsum_diag", "ii->i", [[4, 4]]),
        ("einsum_trace", "ii->", [[5, 5]]),
        ("einsum_batch_diag", "bii->bi", [[2, 3, 3]]),
        ("einsum_diag_keep", "iij->ij", [[3, 3, 4]]),
        ("einsum_diag_contract", "ij,jj->i", [[3, 4], [4, 4]]),
        ("einsum_diag_transposed", "jii->ij", [[2, 3, 3]]),
        ("einsum_diag_both", "iji,jj->ij", [[3, 2, 3], [2, 2]]),
    ]
    for nm, eq, shapes in einsums:
        names = ["a", "b"][:len(shapes)]
        add(nm, (lambda eq: lambda *xs: raw.Einsum(inputs=list(xs),
                                                   equation=eq))(eq),
            (lambda shapes, names: lambda r: [(n, U(r, s))
                                              for n, s in zip(names, shapes)])(
                shapes, names),
            "matmul", ["Einsum"])

    # ---- convolution / pooling ---------------------------------------------
    def conv(name, xs, ws, strides, padding, dil=(1, 1), explicit=None,
             fmt="NHWC", pbtxt=False, pretty=False):
        kw = {}
        if explicit is not None:
            kw["explicit_paddings"] = explicit
        if fmt == "NHWC":
            st = [1, strides[0], strides[1], 1]
            dl = [1, dil[0], dil[1], 1]
            fn = lambda x, w: raw.Conv2D(input=x, filter=w, strides=st,
                                         padding=padding, dilations=dl,
                                         data_format="NHWC", **kw)
            add(name, fn, lambda r: [("x", U(r, xs)), ("w", U(r, ws))],
                "conv", ["Conv2D"], pbtxt=pbtxt, pretty_config=pretty)
        else:
            st = [1, 1, strides[0], strides[1]]
            dl = [1, 1, dil[0], dil[1]]
            stn = [1, strides[0], strides[1], 1]
            dln = [1, dil[0], dil[1], 1]
            kwn = dict(kw)
            if explicit is not None:  # NCHW order -> NHWC order
                e = explicit
                kwn["explicit_paddings"] = [e[0], e[1], e[4], e[5], e[6], e[7],
                                            e[2], e[3]]
            fn = lambda x, w: raw.Conv2D(input=x, filter=w, strides=st,
                                         padding=padding, dilations=dl,
                                         data_format="NCHW", **kw)
            ref = lambda x, w: [t_nhwc(raw.Conv2D(
                input=t_nchw(tf.constant(x)), filter=w, strides=stn,
                padding=padding, dilations=dln, data_format="NHWC",
                **kwn)).numpy()]
            add(name, fn, lambda r: [("x", U(r, xs)), ("w", U(r, ws))],
                "conv", ["Conv2D"], ref=ref)

    conv("conv2d_same", [1, 8, 8, 3], [3, 3, 3, 4], (1, 1), "SAME",
         pretty=True)
    conv("conv2d_valid", [2, 7, 6, 2], [3, 2, 2, 5], (1, 1), "VALID")
    conv("conv2d_valid_s2", [2, 9, 9, 3], [3, 3, 3, 5], (2, 2), "VALID")
    conv("conv2d_same_s2", [1, 8, 8, 2], [3, 3, 2, 4], (2, 2), "SAME")
    conv("conv2d_same_s2_odd", [1, 7, 9, 2], [4, 4, 2, 3], (2, 3), "SAME")
    conv("conv2d_explicit", [1, 6, 7, 2], [3, 3, 2, 4], (1, 2), "EXPLICIT",
         explicit=[0, 0, 1, 2, 2, 1, 0, 0])
    conv("conv2d_dilated", [1, 9, 9, 2], [3, 3, 2, 3], (1, 1), "SAME",
         dil=(2, 2))
    conv("conv2d_dilated_valid", [1, 10, 9, 2], [3, 2, 2, 3], (1, 1), "VALID",
         dil=(2, 3))
    conv("conv2d_1x1", [2, 5, 5, 8], [1, 1, 8, 4], (1, 1), "VALID")
    conv("conv2d_nchw", [1, 3, 8, 8], [3, 3, 3, 4], (1, 1), "SAME",
         fmt="NCHW")
    conv("conv2d_nchw_valid_s2", [2, 2, 9, 8], [3, 3, 2, 4], (2, 2), "VALID",
         fmt="NCHW")
    conv("conv2d_nchw_explicit", [1, 2, 6, 6], [3, 3, 2, 3], (1, 1),
         "EXPLICIT", explicit=[0, 0, 0, 0, 1, 1, 2, 0], fmt="NCHW")

    def dw(name, xs, ws, strides, padding, dil=(1, 1)):
        ref = None
        if dil != (1, 1):
            # The CPU kernel has no dilation support; tf.nn.depthwise_conv2d
            # computes the same thing via SpaceToBatchND.
            ref = lambda x, w: [tf.nn.depthwise_conv2d(
                x, w, strides=[1, strides[0], strides[1], 1], padding=padding,
                dilations=list(dil)).numpy()]
        add(name, lambda x, w: raw.DepthwiseConv2dNative(
                input=x, filter=w, strides=[1, strides[0], strides[1], 1],
                padding=padding, dilations=[1, dil[0], dil[1], 1]),
            lambda r: [("x", U(r, xs)), ("w", U(r, ws))], "conv",
            ["DepthwiseConv2dNative"], ref=ref)
    dw("depthwise_same", [1, 8, 8, 3], [3, 3, 3, 1], (1, 1), "SAME")
    dw("depthwise_mult2_valid_s2", [2, 9, 9, 3], [3, 3, 3, 2], (2, 2), "VALID")
    dw("depthwise_mult3_same_s2", [1, 8, 8, 2], [3, 3, 2, 3], (2, 2), "SAME")
    dw("depthwise_dilated", [1, 9, 9, 2], [3, 3, 2, 1], (1, 1), "SAME",
       dil=(2, 2))

    def bprop(name, in_sizes, ws, dys, stride, padding):
        add(name, lambda w, dy: raw.Conv2DBackpropInput(
                input_sizes=tf.constant(in_sizes, tf.int32), filter=w,
                out_backprop=dy, strides=[1, stride, stride, 1],
                padding=padding),
            lambda r: [("w", U(r, ws)), ("dy", U(r, dys))], "conv",
            ["Conv2DBackpropInput"])
    bprop("conv2d_backprop_input_same_s2", [1, 8, 8, 3], [3, 3, 3, 4],
          [1, 4, 4, 4], 2, "SAME")
    bprop("conv2d_backprop_input_valid_s2", [2, 9, 9, 3], [3, 3, 3, 4],
          [2, 4, 4, 4], 2, "VALID")
    bprop("conv2d_backprop_input_same_s2_k2", [1, 8, 8, 2], [2, 2, 2, 4],
          [1, 4, 4, 4], 2, "SAME")
    bprop("conv2d_backprop_input_same_s1", [1, 5, 5, 2], [3, 3, 2, 3],
          [1, 5, 5, 3], 1, "SAME")

    def pool(name, kind, xs, k, s, padding, fmt="NHWC"):
        if kind == "max":
            op = lambda value, **kw: raw.MaxPool(input=value, **kw)
        else:
            op = raw.AvgPool
        optype = "MaxPool" if kind == "max" else "AvgPool"
        fam = "exact" if kind == "max" else "reduce"
        if fmt == "NHWC":
            fn = lambda x: op(value=x, ksize=[1, k[0], k[1], 1],
                              strides=[1, s[0], s[1], 1], padding=padding,
                              data_format="NHWC")
            add(name, fn, lambda r: [("x", distinct(r, xs))], fam, [optype])
        else:
            fn = lambda x: op(value=x, ksize=[1, 1, k[0], k[1]],
                              strides=[1, 1, s[0], s[1]], padding=padding,
                              data_format="NCHW")
            ref = lambda x: [t_nhwc(op(
                value=t_nchw(tf.constant(x)), ksize=[1, k[0], k[1], 1],
                strides=[1, s[0], s[1], 1], padding=padding,
                data_format="NHWC")).numpy()]
            add(name, fn, lambda r: [("x", distinct(r, xs))], fam, [optype],
                ref=ref)
    pool("maxpool_valid", "max", [1, 8, 8, 3], (2, 2), (2, 2), "VALID")
    pool("maxpool_same", "max", [2, 7, 7, 2], (3, 3), (2, 2), "SAME")
    pool("maxpool_same_s1", "max", [1, 5, 6, 2], (3, 2), (1, 1), "SAME")
    pool("maxpool_nchw", "max", [1, 3, 8, 8], (2, 2), (2, 2), "VALID",
         fmt="NCHW")
    pool("maxpool_nchw_same", "max", [1, 2, 7, 7], (3, 3), (2, 2), "SAME",
         fmt="NCHW")
    pool("avgpool_valid", "avg", [1, 8, 8, 3], (2, 2), (2, 2), "VALID")
    pool("avgpool_same", "avg", [2, 7, 7, 2], (3, 3), (2, 2), "SAME")
    pool("avgpool_same_s1", "avg", [1, 5, 6, 2], (3, 3), (1, 1), "SAME")
    pool("avgpool_nchw", "avg", [1, 3, 8, 8], (2, 2), (2, 2), "VALID",
         fmt="NCHW")
    pool("avgpool_nchw_same", "avg", [1, 2, 7, 7], (3, 3), (2, 2), "SAME",
         fmt="NCHW")

    def conv3d(name, xs, ws, strides, padding, dil=(1, 1, 1)):
        add(name, lambda x, w: raw.Conv3D(
                input=x, filter=w, strides=[1] + list(strides) + [1],
                padding=padding, dilations=[1] + list(dil) + [1]),
            lambda r: [("x", U(r, xs)), ("w", U(r, ws))], "conv", ["Conv3D"])
    conv3d("conv3d_same", [1, 5, 6, 4, 2], [2, 3, 2, 2, 3], (1, 1, 1), "SAME")
    conv3d("conv3d_valid_s2", [2, 6, 5, 7, 3], [3, 2, 3, 3, 2], (2, 1, 2),
           "VALID")
    conv3d("conv3d_same_s2_odd", [1, 5, 7, 6, 2], [3, 3, 2, 2, 4], (2, 2, 3),
           "SAME")
    conv3d("conv3d_1x1x1", [2, 3, 3, 3, 4], [1, 1, 1, 4, 2], (1, 1, 1),
           "VALID")

    def pool3d(name, kind, xs, k, s, padding):
        op = raw.MaxPool3D if kind == "max" else raw.AvgPool3D
        add(name, lambda x: op(input=x, ksize=[1] + list(k) + [1],
                               strides=[1] + list(s) + [1], padding=padding),
            lambda r: [("x", distinct(r, xs))],
            "exact" if kind == "max" else "reduce",
            ["MaxPool3D" if kind == "max" else "AvgPool3D"])
    pool3d("maxpool3d_valid", "max", [1, 4, 6, 6, 2], (2, 2, 2), (2, 2, 2),
           "VALID")
    pool3d("maxpool3d_same", "max", [2, 5, 5, 4, 3], (3, 3, 2), (2, 2, 1),
           "SAME")
    pool3d("avgpool3d_valid", "avg", [1, 4, 6, 5, 2], (2, 3, 2), (2, 3, 1),
           "VALID")
    pool3d("avgpool3d_same", "avg", [1, 5, 5, 5, 2], (3, 3, 3), (2, 2, 2),
           "SAME")

    def lrn(name, xs, **kw):
        add(name, lambda x: raw.LRN(input=x, **kw),
            lambda r: [("x", U(r, xs, -2, 2))], "transcendental", ["LRN"])
    lrn("lrn_default", [1, 2, 3, 12])
    lrn("lrn_r2_beta075", [2, 3, 3, 8], depth_radius=2, bias=1.5, alpha=0.3,
        beta=0.75)
    lrn("lrn_r0_beta1", [1, 2, 2, 5], depth_radius=0, bias=2.0, alpha=1.0,
        beta=1.0)
    lrn("lrn_wide_radius", [1, 1, 2, 3], depth_radius=4, bias=1.0, alpha=0.1,
        beta=0.5)

    def bn_inputs(xs, c):
        return lambda r: [("x", N(r, xs)), ("scale", U(r, [c], 0.5, 2)),
                          ("offset", U(r, [c])), ("mean", U(r, [c])),
                          ("variance", U(r, [c], 0.2, 3))]
    add("fused_batch_norm",
        lambda x, s, o, m, v: raw.FusedBatchNorm(
            x=x, scale=s, offset=o, mean=m, variance=v, epsilon=0.001,
            is_training=False)[0],
        bn_inputs([2, 4, 4, 3], 3), "elementwise", ["FusedBatchNorm"])
    add("fused_batch_norm_v3",
        lambda x, s, o, m, v: raw.FusedBatchNormV3(
            x=x, scale=s, offset=o, mean=m, variance=v, epsilon=0.001,
            is_training=False)[0],
        bn_inputs([2, 4, 4, 3], 3), "elementwise", ["FusedBatchNormV3"])

    def bn_nchw_ref(x, s, o, m, v):
        return [((x - m.reshape(1, -1, 1, 1)) /
                 np.sqrt(v.reshape(1, -1, 1, 1) + np.float32(1e-3)) *
                 s.reshape(1, -1, 1, 1) + o.reshape(1, -1, 1, 1))
                .astype(F32)]
    add("fused_batch_norm_v3_nchw",
        lambda x, s, o, m, v: raw.FusedBatchNormV3(
            x=x, scale=s, offset=o, mean=m, variance=v, epsilon=0.001,
            is_training=False, data_format="NCHW")[0],
        bn_inputs([2, 3, 4, 5], 3), "elementwise", ["FusedBatchNormV3"],
        ref=bn_nchw_ref)
    add("softmax", tf.nn.softmax, lambda r: [("x", U(r, [4, 10], -5, 5))],
        "transcendental", ["Softmax"])
    add("softmax_3d", lambda x: raw.Softmax(logits=x),
        lambda r: [("x", U(r, [2, 3, 7], -5, 5))], "transcendental",
        ["Softmax"])
    add("log_softmax", tf.nn.log_softmax,
        lambda r: [("x", U(r, [4, 10], -5, 5))], "transcendental",
        ["LogSoftmax"])

    # ---- reductions -------------------------------------------------------
    def red(name, op, optype, inputs, axes, keep, family="reduce", pbtxt=False):
        add(name, lambda x: op(input=x, axis=tf.constant(axes, tf.int32),
                               keep_dims=keep),
            inputs, family, [optype], pbtxt=pbtxt)
    R3 = [3, 4, 5]
    red("sum_axis1", raw.Sum, "Sum", lambda r: [("x", U(r, R3))], [1], False,
        pbtxt=True)
    red("sum_keep_multi", raw.Sum, "Sum", lambda r: [("x", U(r, R3))], [0, 2],
        True)
    red("sum_neg_axis", raw.Sum, "Sum", lambda r: [("x", U(r, R3))], [-1],
        False)
    red("sum_all", raw.Sum, "Sum", lambda r: [("x", U(r, R3))], [0, 1, 2],
        False)
    red("sum_scalar_axis", raw.Sum, "Sum", lambda r: [("x", U(r, R3))], 0,
        False)
    red("sum_int32", raw.Sum, "Sum", lambda r: [("x", I(r, R3, -100, 100))],
        [1], True, family="exact")
    red("mean_keep", raw.Mean, "Mean", lambda r: [("x", U(r, R3))], [1], True)
    red("mean_neg_multi", raw.Mean, "Mean", lambda r: [("x", U(r, R3))],
        [-1, -3], False)
    red("mean_hw", raw.Mean, "Mean", lambda r: [("x", U(r, [2, 5, 5, 3]))],
        [1, 2], False)
    red("max", raw.Max, "Max", lambda r: [("x", U(r, R3))], [1], False,
        family="exact")
    red("max_keep_neg", raw.Max, "Max", lambda r: [("x", U(r, R3))], [-2, -1],
        True, family="exact")
    red("max_int32", raw.Max, "Max", lambda r: [("x", I(r, R3, -99, 99))],
        [0], False, family="exact")
    red("min", raw.Min, "Min", lambda r: [("x", U(r, R3))], [2], False,
        family="exact")
    red("min_keep_multi", raw.Min, "Min", lambda r: [("x", U(r, R3))], [0, 1],
        True, family="exact")
    red("prod", raw.Prod, "Prod", lambda r: [("x", U(r, R3, 0.5, 1.5))], [1],
        False)
    red("prod_int32", raw.Prod, "Prod", lambda r: [("x", I(r, R3, -3, 4))],
        [2], True, family="exact")
    red("all", raw.All, "All",
        lambda r: [("x", r.uniform(size=R3) < 0.8)], [1], False,
        family="exact")
    red("all_keep_multi", raw.All, "All",
        lambda r: [("x", r.uniform(size=R3) < 0.9)], [0, -1], True,
        family="exact")
    red("any", raw.Any, "Any", lambda r: [("x", r.uniform(size=R3) < 0.15)],
        [2], False, family="exact")
    red("any_keep", raw.Any, "Any",
        lambda r: [("x", r.uniform(size=R3) < 0.1)], [-2], True,
        family="exact")

    def argx(name, op, optype, axis, out_type, xs=(3, 4, 5)):
        add(name, lambda x: op(input=x, dimension=tf.constant(axis, tf.int32),
                               output_type=out_type),
            lambda r: [("x", distinct(r, list(xs)))], "exact", [optype])
    argx("argmax", raw.ArgMax, "ArgMax", 1, tf.int64)
    argx("argmax_i32_neg", raw.ArgMax, "ArgMax", -1, tf.int32)
    argx("argmax_2d", raw.ArgMax, "ArgMax", 0, tf.int32, xs=(6, 4))
    argx("argmin", raw.ArgMin, "ArgMin", 2, tf.int64)
    argx("argmin_i32", raw.ArgMin, "ArgMin", 0, tf.int32)

    def cumsum(name, axis, excl, rev, inputs, family="reduce"):
        add(name, lambda x: raw.Cumsum(x=x, axis=tf.constant(axis, tf.int32),
                                       exclusive=excl, reverse=rev),
            inputs, family, ["Cumsum"])
    cumsum("cumsum", 1, False, False, lambda r: [("x", U(r, R3))])
    cumsum("cumsum_exclusive", 2, True, False, lambda r: [("x", U(r, R3))])
    cumsum("cumsum_reverse", 0, False, True, lambda r: [("x", U(r, R3))])
    cumsum("cumsum_excl_rev_neg", -1, True, True, lambda r: [("x", U(r, R3))])
    cumsum("cumsum_int32", 0, False, False,
           lambda r: [("x", I(r, [6, 3], -50, 50))], family="exact")

    def cumprod(name, axis, excl, rev, inputs, family="reduce"):
        add(name, lambda x: raw.Cumprod(x=x, axis=tf.constant(axis, tf.int32),
                                        exclusive=excl, reverse=rev),
            inputs, family, ["Cumprod"])
    cumprod("cumprod", 1, False, False, lambda r: [("x", U(r, R3, 0.5, 1.5))])
    cumprod("cumprod_excl_rev_neg", -1, True, True,
            lambda r: [("x", U(r, R3, -1.5, 1.5))])
    cumprod("cumprod_int32", 0, False, False,
            lambda r: [("x", I(r, [5, 3], -3, 4))], family="exact")

    # ---- data movement ---------------------------------------------------
    add("reshape", lambda x: raw.Reshape(tensor=x, shape=[-1, 6]),
        lambda r: [("x", U(r, [2, 3, 4]))], "exact", ["Reshape"], pbtxt=True)
    add("reshape_int64_shape",
        lambda x: raw.Reshape(tensor=x, shape=tf.constant([4, -1, 2], tf.int64)),
        lambda r: [("x", I(r, [2, 3, 4], -9, 9))], "exact", ["Reshape"])
    add("reshape_scalar", lambda x: raw.Reshape(tensor=x, shape=tf.constant([], tf.int32)),
        lambda r: [("x", U(r, [1, 1]))], "exact", ["Reshape"])
    add("squeeze", lambda x: tf.squeeze(x, axis=[1]),
        lambda r: [("x", U(r, [3, 1, 4, 1]))], "exact", ["Squeeze"])
    add("squeeze_all", lambda x: tf.squeeze(x),
        lambda r: [("x", U(r, [1, 3, 1, 4, 1]))], "exact", ["Squeeze"])
    add("squeeze_neg", lambda x: tf.squeeze(x, axis=[-1, 0]),
        lambda r: [("x", U(r, [1, 3, 4, 1]))], "exact", ["Squeeze"])
    add("expand_dims", lambda x: tf.expand_dims(x, -1),
        lambda r: [("x", U(r, [3, 4]))], "exact", ["ExpandDims"])
    add("expand_dims_0", lambda x: tf.expand_dims(x, 0),
        lambda r: [("x", I(r, [3, 4], 0, 9))], "exact", ["ExpandDims"])
    add("expand_dims_mid_neg", lambda x: tf.expand_dims(x, -2),
        lambda r: [("x", U(r, [3, 4]))], "exact", ["ExpandDims"])
    add("transpose", lambda x: tf.transpose(x, [2, 0, 1]),
        lambda r: [("x", U(r, [2, 3, 4]))], "exact", ["Transpose"])
    add("transpose_nhwc_nchw", lambda x: tf.transpose(x, [0, 3, 1, 2]),
        lambda r: [("x", U(r, [2, 3, 4, 5]))], "exact", ["Transpose"])
    add("transpose_2d_i64", lambda x: tf.transpose(x),
        lambda r: [("x", I(r, [3, 5], -9, 9, I64))], "exact", ["Transpose"])
    add("concat_v2", lambda a, b, c: tf.concat([a, b, c], axis=-1),
        lambda r: [("a", U(r, [2, 3, 1])), ("b", U(r, [2, 3, 4])),
                   ("c", U(r, [2, 3, 2]))], "exact", ["ConcatV2"],
        pbtxt=True)
    add("concat_v2_axis0", lambda a, b: tf.concat([a, b], axis=0),
        lambda r: [("a", I(r, [2, 3], -9, 9)), ("b", I(r, [1, 3], -9, 9))],
        "exact", ["ConcatV2"])
    add("concat_v2_axis1_4d", lambda a, b: tf.concat([a, b], axis=1),
        lambda r: [("a", U(r, [1, 2, 3, 2])), ("b", U(r, [1, 3, 3, 2]))],
        "exact", ["ConcatV2"])
    add("pack", lambda a, b, c: tf.stack([a, b, c], axis=1),
        lambda r: [("a", U(r, [2, 3])), ("b", U(r, [2, 3])),
                   ("c", U(r, [2, 3]))], "exact", ["Pack"])
    add("pack_axis0_neg", lambda a, b: tf.stack([a, b], axis=-1),
        lambda r: [("a", I(r, [4], -9, 9)), ("b", I(r, [4], -9, 9))],
        "exact", ["Pack"])
    add("unpack", lambda x: tuple(tf.unstack(x, axis=1)),
        lambda r: [("x", U(r, [2, 3, 4]))], "exact", ["Unpack"],
        fetch_direct=True)
    add("unpack_axis0", lambda x: tuple(tf.unstack(x, axis=0)),
        lambda r: [("x", U(r, [2, 5]))], "exact", ["Unpack"])
    add("split", lambda x: tuple(raw.Split(axis=tf.constant(1), value=x,
                                           num_split=3)),
        lambda r: [("x", U(r, [2, 6, 2]))], "exact", ["Split"],
        config_style="compact", fetch_direct=True)
    add("split_neg_axis", lambda x: tuple(raw.Split(axis=tf.constant(-1),
                                                    value=x, num_split=2)),
        lambda r: [("x", U(r, [3, 4]))], "exact", ["Split"])
    add("split_v", lambda x: tuple(raw.SplitV(
            value=x, size_splits=tf.constant([2, -1, 1]),
            axis=tf.constant(-1), num_split=3)),
        lambda r: [("x", U(r, [2, 3, 7]))], "exact", ["SplitV"])
    add("slice", lambda x: raw.Slice(input=x, begin=[1, 0, 1], size=[2, -1, 2]),
        lambda r: [("x", U(r, [3, 4, 5]))], "exact", ["Slice"])
    add("slice_int64", lambda x: raw.Slice(input=x,
                                           begin=tf.constant([0, 2], tf.int64),
                                           size=tf.constant([2, 2], tf.int64)),
        lambda r: [("x", I(r, [3, 5], -9, 9))], "exact", ["Slice"])

    X4 = lambda r: [("x", U(r, [4, 5, 6]))]
    add("strided_slice", lambda x: x[1:3, ::2, 1:], X4, "exact",
        ["StridedSlice"], pbtxt=True)
    add("strided_slice_masks", lambda x: raw.StridedSlice(
            input=x, begin=[1, 2, 0], end=[0, 4, 3], strides=[1, 1, 1],
            begin_mask=0b100, end_mask=0b001), X4, "exact", ["StridedSlice"])
    add("strided_slice_ellipsis", lambda x: x[..., 1:3], X4, "exact",
        ["StridedSlice"])
    add("strided_slice_new_axis", lambda x: x[:, tf.newaxis, 1], X4, "exact",
        ["StridedSlice"])
    add("strided_slice_shrink", lambda x: x[1, :, 2], X4, "exact",
        ["StridedSlice"])
    add("strided_slice_neg_stride", lambda x: x[::-1, 3:0:-2, -1:-5:-1], X4,
        "exact", ["StridedSlice"])
    add("strided_slice_combo", lambda x: x[tf.newaxis, ..., -1], X4, "exact",
        ["StridedSlice"])
    add("strided_slice_neg_idx", lambda x: x[-3:-1, -1, ::3], X4, "exact",
        ["StridedSlice"])
    add("strided_slice_raw", lambda x: raw.StridedSlice(
            input=x, begin=[0, 0, 0, 1], end=[0, 0, 0, 0],
            strides=[1, 1, -1, 2], begin_mask=0b0101, end_mask=0b1101,
            ellipsis_mask=0, new_axis_mask=0b0010, shrink_axis_mask=0),
        X4, "exact", ["StridedSlice"])

    add("pad", lambda x: tf.pad(x, [[1, 2], [0, 1]]),
        lambda r: [("x", U(r, [3, 4]))], "exact", ["Pad"])
    add("pad_4d", lambda x: raw.Pad(input=x, paddings=tf.constant(
            [[0, 0], [1, 1], [2, 0], [0, 0]], tf.int64)),
        lambda r: [("x", I(r, [1, 3, 3, 2], -9, 9))], "exact", ["Pad"])
    add("pad_v2", lambda x: tf.pad(x, [[1, 0], [2, 3]], constant_values=3.5),
        lambda r: [("x", U(r, [3, 4]))], "exact", ["PadV2"])
    add("mirror_pad_reflect",
        lambda x: tf.pad(x, [[1, 2], [2, 1]], mode="REFLECT"),
        lambda r: [("x", U(r, [4, 5]))], "exact", ["MirrorPad"])
    add("mirror_pad_symmetric",
        lambda x: tf.pad(x, [[0, 0], [2, 3], [1, 0]], mode="SYMMETRIC"),
        lambda r: [("x", U(r, [2, 4, 3]))], "exact", ["MirrorPad"])
    add("tile", lambda x: tf.tile(x, [2, 1, 3]),
        lambda r: [("x", U(r, [2, 3, 2]))], "exact", ["Tile"])
    add("tile_int32", lambda x: tf.tile(x, [3, 2]),
        lambda r: [("x", I(r, [1, 3], -9, 9))], "exact", ["Tile"])
    add("fill", lambda v: raw.Fill(dims=tf.constant([2, 3]), value=v),
        lambda r: [("v", np.array(2.5, F32))], "exact", ["Fill"])
    add("fill_int32", lambda v, x: raw.Fill(dims=tf.constant([3, 4]), value=v) + x,
        lambda r: [("v", np.array(7, I32)), ("x", I(r, [3, 4], -9, 9))],
        "exact", ["Fill", "AddV2"])
    add("zeros_like", lambda x: raw.ZerosLike(x=x) + 1.0,
        lambda r: [("x", U(r, [3, 4]))], "exact", ["ZerosLike"])
    add("ones_like", lambda x: raw.OnesLike(x=x) * 2,
        lambda r: [("x", I(r, [3, 4], -9, 9))], "exact", ["OnesLike"])
    add("shape", lambda x: raw.Shape(input=x, out_type=tf.int32),
        lambda r: [("x", U(r, [2, 3, 4]))], "exact", ["Shape"])
    add("shape_int64", lambda x: raw.Shape(input=x, out_type=tf.int64) * 2,
        lambda r: [("x", U(r, [5, 1]))], "exact", ["Shape"])
    add("shape_reshape", lambda x, y: raw.Reshape(
            tensor=x, shape=raw.Shape(input=y)),
        lambda r: [("x", U(r, [12])), ("y", U(r, [3, 4]))], "exact",
        ["Shape", "Reshape"])
    add("size", lambda x: raw.Size(input=x, out_type=tf.int32),
        lambda r: [("x", U(r, [2, 3, 4]))], "exact", ["Size"])
    add("rank", lambda x: raw.Rank(input=x),
        lambda r: [("x", U(r, [2, 3, 4]))], "exact", ["Rank"])
    add("range", lambda x: x + raw.Range(start=tf.constant(0),
                                         limit=tf.constant(10),
                                         delta=tf.constant(3)),
        lambda r: [("x", I(r, [4], -9, 9))], "exact", ["Range"])
    add("range_f32", lambda x: x * raw.Range(start=tf.constant(0.5),
                                             limit=tf.constant(3.0),
                                             delta=tf.constant(0.5)),
        lambda r: [("x", U(r, [5]))], "elementwise", ["Range"])
    add("range_neg_delta", lambda x: x + raw.Range(start=tf.constant(5),
                                                   limit=tf.constant(-4),
                                                   delta=tf.constant(-2)),
        lambda r: [("x", I(r, [5], -9, 9))], "exact", ["Range"])

    def gather(name, ps, idx_fn, axis, bd=0, pdtype=F32):
        add(name, lambda p, i: raw.GatherV2(params=p, indices=i,
                                            axis=tf.constant(axis),
                                            batch_dims=bd),
            lambda r: [("params", U(r, ps, -9, 9).astype(pdtype)),
                       ("indices", idx_fn(r))], "exact", ["GatherV2"])
    gather("gather_v2", [5, 3], lambda r: I(r, [4], 0, 5), 0)
    gather("gather_v2_axis1_i64", [2, 6, 3], lambda r: I(r, [2, 3], 0, 6, I64),
           1)
    gather("gather_v2_neg_axis", [2, 3, 7], lambda r: I(r, [4], 0, 7), -1,
           pdtype=I32)
    gather("gather_v2_batch_dims", [2, 5, 3], lambda r: I(r, [2, 4], 0, 5), 1,
           bd=1)
    gather("gather_v2_batch_dims_axis2", [2, 3, 5, 2],
           lambda r: I(r, [2, 4], 0, 5), 2, bd=1)
    gather("gather_v2_scalar_idx", [4, 3], lambda r: np.array(2, I32), 0)

    def gather_nd(name, ps, idx_fn, pdtype=F32, **kw):
        add(name, lambda p, i: raw.GatherNd(params=p, indices=i, **kw),
            lambda r: [("params", U(r, ps, -9, 9).astype(pdtype)),
                       ("indices", idx_fn(r))], "exact", ["GatherNd"])
    gather_nd("gather_nd", [4, 5], lambda r: np.stack(
        [I(r, [3], 0, 4), I(r, [3], 0, 5)], -1))
    gather_nd("gather_nd_slices", [3, 4, 2], lambda r: I(r, [2, 1], 0, 3))
    gather_nd("gather_nd_batch_i64", [2, 3, 4], lambda r: np.stack(
        [I(r, [2, 2], 0, 2, I64), I(r, [2, 2], 0, 3, I64)], -1),
        pdtype=I32)
    gather_nd("gather_nd_full_rank", [2, 3, 2], lambda r: np.stack(
        [I(r, [4], 0, 2), I(r, [4], 0, 3), I(r, [4], 0, 2)], -1))
    # out-of-range index vectors give zeros under the IGNORE policy
    gather_nd("gather_nd_ignore_bad", [4, 3],
              lambda r: np.array([[1], [4], [-1], [3], [0]], I32),
              bad_indices_policy="IGNORE")
    add("gather_nd_empty_index", lambda p: raw.GatherNd(
            params=p, indices=tf.zeros([2, 0], tf.int32)),
        lambda r: [("params", U(r, [3, 2]))], "exact", ["GatherNd"])

    def scatter_nd(name, idx, us, shape, udtype=F32, **kw):
        add(name, lambda i, u: raw.ScatterNd(
                indices=i, updates=u,
                shape=tf.constant(shape, tf.as_dtype(idx.dtype)), **kw),
            lambda r: [("indices", idx),
                       ("updates", U(r, us, -9, 9).astype(udtype)
                        if udtype != I32 else I(r, us, -9, 9))],
            "exact", ["ScatterNd"])
    scatter_nd("scatter_nd", np.array([[4], [3], [1], [7]], I32), [4], [8])
    scatter_nd("scatter_nd_duplicates", np.array([[1], [3], [1], [1], [0]],
                                                 I32), [5], [6], udtype=I32)
    scatter_nd("scatter_nd_slices", np.array([[0], [2]], I64), [2, 4, 3],
               [5, 4, 3])
    scatter_nd("scatter_nd_2d_index", np.array([[0, 1], [3, 2], [1, 0]], I32),
               [3, 2], [4, 3, 2])
    scatter_nd("scatter_nd_ignore_bad", np.array([[2], [6], [-1], [0]], I32),
               [4, 2], [5, 2], bad_indices_policy="IGNORE")

    def tscatter(name, op, xs, idx, us, xdtype=F32, **kw):
        def vals(r, shape):
            return I(r, shape, -9, 9) if xdtype == I32 else U(r, shape, -9, 9)
        add(name, lambda x, i, u: getattr(raw, op)(
                tensor=x, indices=i, updates=u, **kw),
            lambda r: [("tensor", vals(r, xs)), ("indices", idx),
                       ("updates", vals(r, us))], "exact", [op])
    tscatter("tensor_scatter_update", "TensorScatterUpdate", [5, 3],
             np.array([[3], [0]], I32), [2, 3])
    tscatter("tensor_scatter_update_elems", "TensorScatterUpdate", [4, 4],
             np.array([[0, 3], [2, 2], [3, 0]], I64), [3], xdtype=I32)
    tscatter("tensor_scatter_update_ignore_bad", "TensorScatterUpdate",
             [4, 2], np.array([[5], [1], [-2]], I32), [3, 2],
             bad_indices_policy="IGNORE")
    tscatter("tensor_scatter_add", "TensorScatterAdd", [6, 2],
             np.array([[1], [4], [1], [5]], I32), [4, 2], xdtype=I32)
    tscatter("tensor_scatter_add_f32", "TensorScatterAdd", [3, 4, 2],
             np.array([[0, 1], [2, 3]], I32), [2, 2])
    tscatter("tensor_scatter_sub", "TensorScatterSub", [5],
             np.array([[2], [0], [2]], I32), [3], xdtype=I32)
    tscatter("tensor_scatter_max", "TensorScatterMax", [4, 3],
             np.array([[3], [1], [3]], I32), [3, 3])
    tscatter("tensor_scatter_min", "TensorScatterMin", [4, 3],
             np.array([[0], [2], [0]], I64), [3, 3], xdtype=I32)

    add("one_hot", lambda i: tf.one_hot(i, 5),
        lambda r: [("indices", I(r, [4], 0, 5))], "exact", ["OneHot"])
    add("one_hot_axis0", lambda i: raw.OneHot(
            indices=i, depth=tf.constant(4), on_value=tf.constant(2.0),
            off_value=tf.constant(-1.0), axis=0),
        lambda r: [("indices", I(r, [2, 3], -1, 5))], "exact", ["OneHot"])
    add("one_hot_int64_idx", lambda i: raw.OneHot(
            indices=i, depth=tf.constant(3), on_value=tf.constant(1),
            off_value=tf.constant(0), axis=-1),
        lambda r: [("indices", I(r, [2, 3], 0, 3, I64))], "exact",
        ["OneHot"])
    add("reverse_v2", lambda x: tf.reverse(x, [0, 2]),
        lambda r: [("x", U(r, [2, 3, 4]))], "exact", ["ReverseV2"])
    add("reverse_v2_neg", lambda x: tf.reverse(x, [-1]),
        lambda r: [("x", I(r, [3, 4], -9, 9))], "exact", ["ReverseV2"])
    add("broadcast_to", lambda x: tf.broadcast_to(x, [2, 4, 3]),
        lambda r: [("x", U(r, [3]))], "exact", ["BroadcastTo"])
    add("broadcast_to_mid", lambda x: tf.broadcast_to(x, [2, 3, 4]),
        lambda r: [("x", I(r, [2, 1, 4], -9, 9))], "exact", ["BroadcastTo"])
    add("top_k", lambda x: tuple(tf.math.top_k(x, k=3)),
        lambda r: [("x", distinct(r, [10]))], "exact", ["TopKV2"],
        fetch_names=["values", "indices"], pretty_config=True)
    add("top_k_2d", lambda x: tuple(tf.math.top_k(x, k=4)),
        lambda r: [("x", distinct(r, [3, 8]))], "exact", ["TopKV2"],
        fetch_names=["values", "indices"], fetch_direct=True,
        pretty_config=True)

    def resize(name, op, optype, ac, hp, xs=(1, 4, 5, 2), size=(8, 7)):
        add(name, lambda x: op(images=x, size=tf.constant(list(size)),
                               align_corners=ac, half_pixel_centers=hp),
            lambda r: [("x", U(r, list(xs)))],
            "elementwise" if optype == "ResizeBilinear" else "exact",
            [optype])
    resize("resize_bilinear", raw.ResizeBilinear, "ResizeBilinear", False,
           False)
    resize("resize_bilinear_align_corners", raw.ResizeBilinear,
           "ResizeBilinear", True, False)
    resize("resize_bilinear_half_pixel", raw.ResizeBilinear,
           "ResizeBilinear", False, True)
    resize("resize_bilinear_down_half_pixel", raw.ResizeBilinear,
           "ResizeBilinear", False, True, xs=(2, 8, 9, 3), size=(3, 5))
    resize("resize_nearest", raw.ResizeNearestNeighbor,
           "ResizeNearestNeighbor", False, False)
    resize("resize_nearest_align_corners", raw.ResizeNearestNeighbor,
           "ResizeNearestNeighbor", True, False)
    resize("resize_nearest_half_pixel", raw.ResizeNearestNeighbor,
           "ResizeNearestNeighbor", False, True)
    resize("resize_nearest_down_half_pixel", raw.ResizeNearestNeighbor,
           "ResizeNearestNeighbor", False, True, xs=(1, 9, 8, 2), size=(4, 3))
    add("depth_to_space", lambda x: tf.nn.depth_to_space(x, 2),
        lambda r: [("x", U(r, [1, 2, 3, 8]))], "exact", ["DepthToSpace"])
    add("space_to_depth", lambda x: tf.nn.space_to_depth(x, 2),
        lambda r: [("x", U(r, [2, 4, 6, 2]))], "exact", ["SpaceToDepth"])
    add("space_to_depth_b3", lambda x: tf.nn.space_to_depth(x, 3),
        lambda r: [("x", I(r, [1, 3, 6, 2], -9, 9))], "exact",
        ["SpaceToDepth"])

    def s2b(name, xs, block, pads, ints=False):
        add(name, lambda x: raw.SpaceToBatchND(
                input=x, block_shape=tf.constant(block, tf.int32),
                paddings=tf.constant(pads, tf.int32)),
            lambda r: [("x", I(r, xs, -99, 99) if ints else U(r, xs))],
            "exact", ["SpaceToBatchND"])
    s2b("space_to_batch_nd", [2, 4, 6, 3], [2, 3], [[0, 0], [0, 0]])
    s2b("space_to_batch_nd_pad", [1, 5, 4, 2], [2, 2], [[1, 0], [2, 2]])
    s2b("space_to_batch_nd_rank1", [2, 5, 3], [3], [[1, 0]], ints=True)
    s2b("space_to_batch_nd_block1", [2, 3, 2, 2], [1, 1], [[1, 1], [0, 2]])
    s2b("space_to_batch_nd_rank3", [1, 4, 2, 6, 2], [2, 1, 3],
        [[0, 0], [1, 1], [0, 0]], ints=True)

    def b2s(name, xs, block, crops, ints=False):
        add(name, lambda x: raw.BatchToSpaceND(
                input=x, block_shape=tf.constant(block, tf.int64),
                crops=tf.constant(crops, tf.int64)),
            lambda r: [("x", I(r, xs, -99, 99) if ints else U(r, xs))],
            "exact", ["BatchToSpaceND"])
    b2s("batch_to_space_nd", [4, 2, 3, 2], [2, 2], [[0, 0], [0, 0]])
    b2s("batch_to_space_nd_crops", [6, 2, 3, 1], [2, 3], [[1, 0], [2, 1]])
    b2s("batch_to_space_nd_rank1", [6, 4, 2], [3], [[0, 2]], ints=True)
    b2s("batch_to_space_nd_block1", [2, 3, 3, 2], [1, 1], [[0, 1], [1, 1]])
    b2s("batch_to_space_nd_rank3", [12, 2, 1, 2, 3], [2, 3, 2],
        [[1, 1], [0, 1], [0, 0]], ints=True)

    # the dilated convolutions tf.nn.convolution (and so Keras'
    # Conv2D(dilation_rate=...)) and tf.nn.atrous_conv2d write as
    # SpaceToBatchND -> VALID Conv2D -> BatchToSpaceND
    add("atrous_conv2d_same", lambda x, w: tf.nn.atrous_conv2d(
            x, w, rate=2, padding="SAME"),
        lambda r: [("x", U(r, [1, 9, 8, 3])), ("w", U(r, [3, 3, 3, 4]))],
        "conv", ["SpaceToBatchND", "Conv2D", "BatchToSpaceND"])
    add("atrous_conv2d_valid", lambda x, w: tf.nn.atrous_conv2d(
            x, w, rate=3, padding="VALID"),
        lambda r: [("x", U(r, [2, 10, 11, 2])), ("w", U(r, [2, 3, 2, 3]))],
        "conv", ["SpaceToBatchND", "Conv2D", "BatchToSpaceND"])
    add("convolution_dilated_2x3", lambda x, w: tf.nn.convolution(
            x, w, padding="SAME", dilations=[2, 3]),
        lambda r: [("x", U(r, [2, 7, 10, 2])), ("w", U(r, [3, 2, 2, 5]))],
        "conv", ["SpaceToBatchND", "Conv2D", "BatchToSpaceND"])
    add("depthwise_dilated_s2b", lambda x, w: tf.nn.depthwise_conv2d(
            x, w, strides=[1, 1, 1, 1], padding="SAME", dilations=[2, 2]),
        lambda r: [("x", U(r, [1, 8, 9, 3])), ("w", U(r, [3, 3, 3, 2]))],
        "conv", ["SpaceToBatchND", "DepthwiseConv2dNative",
                 "BatchToSpaceND"])

    # ---- functional control flow ------------------------------------------
    def while_fixed(x):
        i0 = tf.constant(0)
        _, y = tf.while_loop(lambda i, v: i < 5,
                             lambda i, v: (i + 1, v * 0.5 + tf.sin(v)),
                             (i0, x))
        return y
    add("while_loop", while_fixed, lambda r: [("x", U(r, [2, 3]))],
        "transcendental", ["StatelessWhile", "Less", "Sin"], pbtxt=True,
        pretty_config=True)

    def while_dyn(n, x):
        _, s, acc = tf.while_loop(
            lambda i, s, acc: i < n,
            lambda i, s, acc: (i + 1, s * 2.0 - 1.0, acc + tf.cast(i, tf.float32)),
            (tf.constant(0), x, tf.constant(0.0)))
        return s, acc
    add("while_dynamic_trip", while_dyn,
        lambda r: [("n", np.array(4, I32)), ("x", U(r, [3]))],
        "elementwise", ["StatelessWhile"], fetch_names=["s", "acc"])

    def while_stateful(x):
        def body(i, v):
            a = tf.debugging.Assert(tf.reduce_all(tf.math.is_finite(v)), [v])
            with tf.control_dependencies([a]):
                return i + 1, tf.tanh(v) * 1.5
        _, y = tf.while_loop(lambda i, v: i < 3, body, (tf.constant(0), x))
        return y
    add("while_stateful", while_stateful, lambda r: [("x", U(r, [4]))],
        "transcendental", ["While", "Assert"])

    def cond(p, x):
        return tf.cond(p, lambda: x * 2.0, lambda: x - 1.0)
    add("cond", cond, lambda r: [("p", np.array(True)), ("x", U(r, [2, 3]))],
        "elementwise", ["StatelessIf"])
    add("cond_false", cond,
        lambda r: [("p", np.array(False)), ("x", U(r, [2, 3]))],
        "elementwise", ["StatelessIf"])

    def cond_computed(x):
        return tf.cond(tf.reduce_sum(x) > 0.0,
                       lambda: (tf.exp(x), tf.reduce_max(x)),
                       lambda: (tf.negative(x), tf.reduce_min(x)))
    add("cond_computed_pred", cond_computed,
        lambda r: [("x", U(r, [4], -0.2, 1.0))], "transcendental",
        ["StatelessIf", "Greater", "Exp"])

    def if_stateful(p, x):
        def t():
            a = tf.debugging.Assert(tf.reduce_all(tf.math.is_finite(x)), [x])
            with tf.control_dependencies([a]):
                return x * 2.0
        return tf.cond(p, t, lambda: x + 1.0)
    add("if_stateful", if_stateful,
        lambda r: [("p", np.array(True)), ("x", U(r, [3]))],
        "elementwise", ["If", "Assert"])

    # TensorArray in a while loop: the TensorList* ops Keras' LSTM emits
    # (models/lstm_while), in isolation.
    def tensor_list_while(x):
        inp = tf.TensorArray(tf.float32, size=5).unstack(x)
        out = tf.TensorArray(tf.float32, size=5)

        def body(i, acc, out):
            acc = acc * 0.5 + inp.read(i)
            return i + 1, acc, out.write(i, acc)
        _, acc, out = tf.while_loop(lambda i, a, o: i < 5, body,
                                    (tf.constant(0), tf.zeros([3]), out))
        return out.stack(), acc
    add("tensor_list_while", tensor_list_while,
        lambda r: [("x", U(r, [5, 3]))], "elementwise",
        ["TensorListFromTensor", "TensorListGetItem", "TensorListSetItem",
         "TensorListStack", "TensorListReserve"], fetch_names=["seq", "last"])

    # not in the op list, but Keras' exact GELU (models/transformer_block)
    # uses it
    unary("erfc", tf.math.erfc, lambda r: [("x", U(r, S, -3, 3))],
          "transcendental", "Erfc")

    def band(name, xs, lo, hi, tidx=tf.int64, xdtype=F32):
        add(name, lambda x: raw.MatrixBandPart(
                input=x, num_lower=tf.constant(lo, tidx),
                num_upper=tf.constant(hi, tidx)),
            lambda r: [("x", U(r, xs, -9, 9).astype(xdtype))], "exact",
            ["MatrixBandPart"])
    band("matrix_band_part", [4, 5], 1, 2)
    band("matrix_band_part_lower_tri", [2, 4, 4], -1, 0)
    band("matrix_band_part_diag_i32", [3, 2, 3], 0, 0, tidx=tf.int32,
         xdtype=I32)
    band("matrix_band_part_wide", [2, 3], 2, -1)
    add("matrix_band_part_runtime_bounds", lambda x, lo, hi: raw.MatrixBandPart(
            input=x, num_lower=lo, num_upper=hi),
        lambda r: [("x", U(r, [3, 5, 4])), ("lo", np.array(0, I64)),
                   ("hi", np.array(-1, I64))], "exact", ["MatrixBandPart"])

    def bucketize(name, x, bounds):
        add(name, lambda x: raw.Bucketize(input=x, boundaries=bounds),
            lambda r: [("x", x(r))], "exact", ["Bucketize"])
    bucketize("bucketize", lambda r: np.concatenate([
        U(r, [9], -3, 3), np.array([-0.5, 0, 2.5, -2, np.nan], F32)]).reshape(
            [2, 7]), [-2.0, -0.5, 0.0, 0.5, 2.5])
    bucketize("bucketize_int32", lambda r: I(r, [3, 4], -8, 12),
              [-5.0, 0.0, 3.5, 10.0])
    bucketize("bucketize_f64_repeated", lambda r: np.concatenate([
        U(r, [6], -2, 2, F64), np.array([1.0, 1.5], F64)]), [-1.0, 1.0, 1.0])
    bucketize("bucketize_no_boundaries", lambda r: U(r, [5]), [])

    unary("erfinv", tf.math.erfinv, lambda r: [("x", np.concatenate([
        U(r, [18], -0.999, 0.999),
        np.array([0.0, 1.0, -1.0, 1.5, 0.99, -0.995], F32)]).reshape([4, 6]))],
          "transcendental", "Erfinv")

    add("fake_quant_args", lambda x: raw.FakeQuantWithMinMaxArgs(inputs=x),
        lambda r: [("x", U(r, [3, 7], -8, 8))], "elementwise",
        ["FakeQuantWithMinMaxArgs"])
    add("fake_quant_args_narrow_4bit", lambda x: raw.FakeQuantWithMinMaxArgs(
            inputs=x, min=-0.3, max=1.7, num_bits=4, narrow_range=True),
        lambda r: [("x", U(r, [4, 5], -1, 2))], "elementwise",
        ["FakeQuantWithMinMaxArgs"])
    add("fake_quant_args_positive_range", lambda x: raw.FakeQuantWithMinMaxArgs(
            inputs=x, min=0.5, max=3.0),
        lambda r: [("x", U(r, [10], -1, 4))], "elementwise",
        ["FakeQuantWithMinMaxArgs"])
    add("fake_quant_vars", lambda x: raw.FakeQuantWithMinMaxVars(
            inputs=x, min=tf.constant(-1.2), max=tf.constant(2.9)),
        lambda r: [("x", U(r, [2, 3, 4], -2, 4))], "elementwise",
        ["FakeQuantWithMinMaxVars"])
    add("fake_quant_vars_runtime_16bit", lambda x, lo, hi:
        raw.FakeQuantWithMinMaxVars(inputs=x, min=lo, max=hi, num_bits=16),
        lambda r: [("x", U(r, [12], -1, 1)), ("lo", np.array(-0.7, F32)),
                   ("hi", np.array(0.8, F32))], "elementwise",
        ["FakeQuantWithMinMaxVars"])
    add("fake_quant_vars_per_channel", lambda x: raw.FakeQuantWithMinMaxVarsPerChannel(
            inputs=x, min=tf.constant([-1.0, 0.0, -3.0]),
            max=tf.constant([1.0, 2.5, 0.5]), narrow_range=True),
        lambda r: [("x", U(r, [2, 4, 3], -3, 3))], "elementwise",
        ["FakeQuantWithMinMaxVarsPerChannel"])

    # ---- inverse trigonometric, hyperbolic, x-times ops -------------------
    def edges(r, shape, lo, hi, extra, dtype=F32):
        a = U(r, [int(np.prod(shape)) - len(extra)], lo, hi, dtype)
        return np.concatenate([a, np.array(extra, dtype)]).reshape(shape)
    unary("atan", tf.math.atan, lambda r: [("x", edges(
        r, [4, 5], -20, 20, [0.0, 1e-4, -1e-4, np.inf, -np.inf]))],
          "transcendental", "Atan")
    unary("asin", tf.math.asin, lambda r: [("x", edges(
        r, [4, 5], -1, 1, [0.0, 1.0, -1.0, 0.9999, 1e-5, 1.5]))],
          "transcendental", "Asin")
    unary("acos", tf.math.acos, lambda r: [("x", edges(
        r, [4, 5], -1, 1, [0.0, 1.0, -1.0, -0.9999, 1e-5, -2.0]))],
          "transcendental", "Acos")
    unary("sinh", tf.math.sinh, lambda r: [("x", edges(
        r, [4, 6], -6, 6, [0.0, 1e-5, -3e-3, 0.999, -1.0, 89.0, -89.5, 95.0]))],
          "transcendental", "Sinh")
    unary("cosh", tf.math.cosh, lambda r: [("x", edges(
        r, [4, 6], -6, 6, [0.0, 1e-5, 89.0, -89.5, 95.0]))],
          "transcendental", "Cosh")
    unary("cosh_f64", tf.math.cosh, lambda r: [("x", U(r, [7], -4, 4, F64))],
          "transcendental", "Cosh")
    unary("asinh", tf.math.asinh, lambda r: [("x", edges(
        r, [4, 6], -10, 10, [0.0, 1e-6, -3e-3, 1e20, -3e38, np.inf]))],
          "transcendental", "Asinh")
    unary("acosh", tf.math.acosh, lambda r: [("x", edges(
        r, [4, 6], 1, 20, [1.0, 1.0001, 1e20, 3e38, 0.5, np.inf]))],
          "transcendental", "Acosh")
    unary("atanh", tf.math.atanh, lambda r: [("x", edges(
        r, [4, 6], -1, 1, [0.0, 1e-6, 1.0, -1.0, 0.99999, 2.0]))],
          "transcendental", "Atanh")

    def x_times(name, op, optype, ys):
        add(name, op, lambda r: [
            ("x", np.where(I(r, [3, 5], 0, 3) == 0, 0.0, U(r, [3, 5], -3, 3))
             .astype(F32)),
            ("y", ys(r))], "transcendental", [optype])
    x_times("xlogy", tf.math.xlogy, "Xlogy", lambda r: edges(
        r, [5], 0.01, 5, [0.0, np.nan]))
    x_times("xlog1py", tf.math.xlog1py, "Xlog1py", lambda r: edges(
        r, [5], -0.9, 5, [1e-6, -1.0]))
    x_times("xdivy", tf.math.xdivy, "Xdivy", lambda r: edges(
        r, [3, 5], 0.5, 3, [0.0, 0.0, -1.0, np.nan]))

    # ---- diagonals, permutations, rolls, small formulas ----------------------
    add("matrix_diag", lambda d: raw.MatrixDiag(diagonal=d),
        lambda r: [("d", U(r, [2, 4]))], "exact", ["MatrixDiag"])
    add("matrix_diag_v3_wide_pad", lambda d: raw.MatrixDiagV3(
            diagonal=d, k=0, num_rows=3, num_cols=5, padding_value=-1.5),
        lambda r: [("d", U(r, [2, 3]))], "exact", ["MatrixDiagV3"])
    add("matrix_diag_v3_tall_i32", lambda d: raw.MatrixDiagV3(
            diagonal=d, k=0, num_rows=4, num_cols=-1, padding_value=7),
        lambda r: [("d", I(r, [3], -9, 9))], "exact", ["MatrixDiagV3"])
    add("matrix_diag_part", lambda x: raw.MatrixDiagPart(input=x),
        lambda r: [("x", U(r, [2, 3, 5]))], "exact", ["MatrixDiagPart"])
    add("matrix_diag_part_v3_tall", lambda x: raw.MatrixDiagPartV3(
            input=x, k=0, padding_value=0.0),
        lambda r: [("x", U(r, [5, 3]))], "exact", ["MatrixDiagPartV3"])
    add("matrix_set_diag", lambda x, d: raw.MatrixSetDiag(input=x, diagonal=d),
        lambda r: [("x", U(r, [2, 3, 3])), ("d", U(r, [2, 3]))], "exact",
        ["MatrixSetDiag"])
    add("matrix_set_diag_v3_tall", lambda x, d: raw.MatrixSetDiagV3(
            input=x, diagonal=d, k=0),
        lambda r: [("x", U(r, [5, 3])), ("d", U(r, [3]))], "exact",
        ["MatrixSetDiagV3"])
    add("matrix_set_diag_v3_wide", lambda x, d: raw.MatrixSetDiagV3(
            input=x, diagonal=d, k=0),
        lambda r: [("x", I(r, [2, 2, 4], -9, 9)), ("d", I(r, [2, 2], -9, 9))],
        "exact", ["MatrixSetDiagV3"])
    add("diag", lambda x: raw.Diag(diagonal=x),
        lambda r: [("x", U(r, [2, 3]))], "exact", ["Diag"])
    add("diag_part", lambda x: raw.DiagPart(input=x),
        lambda r: [("x", U(r, [2, 3, 2, 3]))], "exact", ["DiagPart"])
    add("invert_permutation", lambda x: raw.InvertPermutation(x=x),
        lambda r: [("x", r.permutation(7).astype(I32))], "exact",
        ["InvertPermutation"])
    add("roll", lambda x: raw.Roll(input=x, shift=tf.constant([2, -1, 4]),
                                   axis=tf.constant([0, 1, 0])),
        lambda r: [("x", U(r, [5, 4]))], "exact", ["Roll"])
    add("roll_scalar_neg_axis", lambda x: raw.Roll(
            input=x, shift=tf.constant(-7, tf.int64), axis=tf.constant(-1)),
        lambda r: [("x", I(r, [2, 3, 5], -9, 9))], "exact", ["Roll"])
    add("reverse_sequence", lambda x, l: raw.ReverseSequence(
            input=x, seq_lengths=l, seq_dim=1, batch_dim=0),
        lambda r: [("x", U(r, [4, 5, 2])), ("l", np.array([0, 1, 3, 5], I64))],
        "exact", ["ReverseSequence"])
    add("reverse_sequence_batch_last", lambda x, l: raw.ReverseSequence(
            input=x, seq_lengths=l, seq_dim=0, batch_dim=2),
        lambda r: [("x", I(r, [6, 2, 3], -9, 9)), ("l", np.array([6, 2, 4], I32))],
        "exact", ["ReverseSequence"])
    add("lin_space", lambda a, b: raw.LinSpace(start=a, stop=b, num=7),
        lambda r: [("a", np.array(-1.3, F32)), ("b", np.array(2.9, F32))],
        "exact", ["LinSpace"])
    add("lin_space_one_f64", lambda a, b: raw.LinSpace(start=a, stop=b, num=1),
        lambda r: [("a", np.array(0.7, F64)), ("b", np.array(2.0, F64))],
        "exact", ["LinSpace"])
    add("cross", lambda a, b: raw.Cross(a=a, b=b),
        lambda r: [("a", U(r, [4, 3], -3, 3)), ("b", U(r, [4, 3], -3, 3))],
        "elementwise", ["Cross"])
    add("broadcast_args", lambda x: tf.broadcast_to(x, raw.BroadcastArgs(
            s0=tf.constant([3, 1]), s1=tf.constant([2, 1, 4]))),
        lambda r: [("x", U(r, [3, 1]))], "exact", ["BroadcastArgs", "BroadcastTo"])
    add("l2_loss", lambda x: raw.L2Loss(t=x),
        lambda r: [("x", U(r, [6, 7], -2, 2))], "reduce", ["L2Loss"])
    # Unique of a constant (or a constant subgraph) folds to constants
    add("unique", lambda: tuple(raw.Unique(
            x=tf.constant([4, 1, 4, 7, 1, 1, 9, -3], tf.int32))),
        lambda r: [], "exact", ["Unique"])
    add("unique_f32_folded", lambda x: (lambda u: (x + u.y, u.idx))(raw.Unique(
            x=tf.constant([1.5, -0.0, 2.0, 1.5, 0.0, 2.0, 3.0]) * 2.0,
            out_idx=tf.int64)),
        lambda r: [("x", U(r, [4]))], "exact", ["Unique", "Mul", "AddV2"])
    add("unique_v2_axis0", lambda: tuple(raw.UniqueV2(
            x=tf.constant([[1, 2], [3, 4], [1, 2], [5, 6], [3, 4]], tf.int64),
            axis=tf.constant([0], tf.int64))),
        lambda r: [], "exact", ["UniqueV2"])
    add("unique_v2_axis1", lambda: tuple(raw.UniqueV2(
            x=tf.constant([[1, 1, 2, 1], [3, 3, 4, 5]], tf.float32),
            axis=tf.constant([-1], tf.int32))),
        lambda r: [], "exact", ["UniqueV2"])
    add("unique_with_counts", lambda: tuple(raw.UniqueWithCounts(
            x=tf.constant([2, 2, 0, 5, 0, 2], tf.uint8), out_idx=tf.int64)),
        lambda r: [], "exact", ["UniqueWithCounts"])

    # ---- misc dtypes --------------------------------------------------------
    add("mul_f16", lambda x, y: x * y,
        lambda r: [("x", U(r, [3, 4], -4, 4, F16)),
                   ("y", U(r, [3, 4], -4, 4, F16))], "elementwise", ["Mul"])
    add("add_u8", lambda x, y: x + y,
        lambda r: [("x", I(r, [6], 0, 128, np.uint8)),
                   ("y", I(r, [6], 0, 128, np.uint8))], "exact", ["AddV2"])
    add("sub_f64", lambda x, y: x - y,
        lambda r: [("x", U(r, [5], dtype=F64)), ("y", U(r, [5], dtype=F64))],
        "elementwise", ["Sub"])

    # ---- random numbers (Philox, as TensorFlow's CPU kernels) ----------------
    U64 = np.uint64

    def seed(r, dtype=I32):
        return [("seed", I(r, [2], -2**31, 2**31 - 1, I64).astype(dtype))]
    add("stateless_uniform", lambda s: tf.random.stateless_uniform([3, 5], s),
        seed, "exact", ["StatelessRandomGetKeyCounter",
                        "StatelessRandomUniformV2"])
    add("stateless_uniform_f64_i64seed", lambda s: tf.random.stateless_uniform(
            [7], s, dtype=tf.float64),
        lambda r: seed(r, I64), "exact", ["StatelessRandomUniformV2"])
    add("stateless_uniform_f16", lambda s: tf.random.stateless_uniform(
            [2, 3], s, minval=-2.0, maxval=3.0, dtype=tf.float16),
        seed, "exact", ["StatelessRandomUniformV2"])
    add("stateless_uniform_bf16", lambda s: tf.cast(tf.random.stateless_uniform(
            [5], s, dtype=tf.bfloat16), tf.float32),
        seed, "exact", ["StatelessRandomUniformV2"])
    add("stateless_normal", lambda s: tf.random.stateless_normal(
            [4, 5], s, mean=1.0, stddev=2.0),
        seed, "transcendental", ["StatelessRandomNormalV2"])
    add("stateless_normal_f64", lambda s: tf.random.stateless_normal(
            [5], s, dtype=tf.float64),
        seed, "transcendental", ["StatelessRandomNormalV2"])
    add("stateless_normal_f16", lambda s: tf.random.stateless_normal(
            [2, 5], s, dtype=tf.float16),
        seed, "transcendental", ["StatelessRandomNormalV2"])
    add("stateless_uniform_int", lambda s: tf.random.stateless_uniform(
            [3, 7], s, minval=-5, maxval=1000, dtype=tf.int32),
        seed, "exact", ["StatelessRandomUniformIntV2"])
    add("stateless_uniform_int64", lambda s: tf.random.stateless_uniform(
            [5], s, minval=-2**40, maxval=2**62, dtype=tf.int64),
        seed, "exact", ["StatelessRandomUniformIntV2"])
    add("stateless_uniform_full_int", lambda s: tf.random.stateless_uniform(
            [6], s, minval=None, maxval=None, dtype=tf.int64),
        seed, "exact", ["StatelessRandomUniformFullIntV2"])
    add("stateless_get_key_counter",
        lambda s: tuple(raw.StatelessRandomGetKeyCounter(seed=s)),
        lambda r: seed(r, I64), "exact", ["StatelessRandomGetKeyCounter"])
    # A counter one below a 64-bit carry: the blocks' counters carry into
    # the upper words.
    add("stateless_uniform_v2_key_counter", lambda k, c: raw.StatelessRandomUniformV2(
            shape=[11], key=k, counter=c, alg=1),
        lambda r: [("key", np.array([0x0123456789abcdef], U64)),
                   ("counter", np.array([2**64 - 2, 2**63 + 5], U64))],
        "exact", ["StatelessRandomUniformV2"])
    add("stateless_v1_uniform", lambda s: raw.StatelessRandomUniform(
            shape=[3, 4], seed=s, dtype=tf.float32),
        seed, "exact", ["StatelessRandomUniform"])
    add("stateless_v1_normal", lambda s: raw.StatelessRandomNormal(
            shape=[9], seed=s, dtype=tf.float32),
        lambda r: seed(r, I64), "transcendental", ["StatelessRandomNormal"])
    add("stateless_v1_uniform_int", lambda s: raw.StatelessRandomUniformInt(
            shape=[2, 5], seed=s, minval=tf.constant(3, tf.int64),
            maxval=tf.constant(17, tf.int64)),
        seed, "exact", ["StatelessRandomUniformInt"])
    add("random_uniform_seeded", lambda x: x + raw.RandomUniform(
            shape=[3, 4], dtype=tf.float32, seed=11, seed2=7),
        lambda r: [("x", U(r, [3, 4]))], "elementwise", ["RandomUniform"],
        check_eager=False)
    add("random_normal_seeded", lambda x: x * raw.RandomStandardNormal(
            shape=[6], dtype=tf.float32, seed=87654321, seed2=3),
        lambda r: [("x", U(r, [6]))], "transcendental", ["RandomStandardNormal"],
        check_eager=False)
    # truncated normals: 53 groups of 4, so some groups reject and read on
    add("stateless_truncated_normal", lambda s: tf.random.stateless_truncated_normal(
            [30, 7], s, mean=1.0, stddev=2.0),
        seed, "transcendental", ["StatelessTruncatedNormalV2"])
    add("stateless_truncated_normal_f64", lambda s: tf.random.stateless_truncated_normal(
            [41], s, dtype=tf.float64),
        lambda r: seed(r, I64), "transcendental", ["StatelessTruncatedNormalV2"])
    add("stateless_truncated_normal_f16", lambda s: tf.random.stateless_truncated_normal(
            [6, 5], s, dtype=tf.float16),
        seed, "transcendental", ["StatelessTruncatedNormalV2"])
    # group g starts g * 256 blocks on: a 64-bit carry a few groups in
    add("stateless_truncated_normal_v2_key_counter",
        lambda k, c: raw.StatelessTruncatedNormalV2(
            shape=[23], key=k, counter=c, alg=1),
        lambda r: [("key", np.array([0x0123456789abcdef], U64)),
                   ("counter", np.array([2**64 - 700, 2**63 + 5], U64))],
        "transcendental", ["StatelessTruncatedNormalV2"])
    add("stateless_v1_truncated_normal", lambda s: raw.StatelessTruncatedNormal(
            shape=[3, 9], seed=s, dtype=tf.float32),
        seed, "transcendental", ["StatelessTruncatedNormal"])
    add("truncated_normal_seeded", lambda x: x * raw.TruncatedNormal(
            shape=[13], dtype=tf.float32, seed=5, seed2=9),
        lambda r: [("x", U(r, [13]))], "transcendental", ["TruncatedNormal"],
        check_eager=False)

    # ---- quantization (QuantizeV2 / Dequantize) -------------------------------
    def quantize(name, T, lo, hi, xs=(3, 4), xlo=-3.0, xhi=5.0, dq=False,
                 dtype=tf.float32, **kw):
        def fn(x):
            q = raw.QuantizeV2(input=x, min_range=tf.constant(lo, tf.float32),
                               max_range=tf.constant(hi, tf.float32), T=T, **kw)
            if dq:
                dkw = {k: v for k, v in kw.items()
                       if k in ("mode", "narrow_range", "axis")}
                return raw.Dequantize(input=q.output, min_range=q.output_min,
                                      max_range=q.output_max, dtype=dtype, **dkw)
            return (tf.cast(q.output, tf.int32), q.output_min, q.output_max)
        ops = ["QuantizeV2"] + (["Dequantize"] if dq else ["Cast"])
        add(name, fn, lambda r: [("x", np.concatenate([
                halves(r, [int(np.prod(xs)) // 2]),
                U(r, [int(np.prod(xs)) - int(np.prod(xs)) // 2], xlo, xhi)])
                .reshape(xs).astype(F32))],
            "exact", ops, fetch_direct=not dq)
    quantize("quantize_min_combined_quint8", tf.quint8, -1.0, 3.0)
    quantize("quantize_min_combined_qint8", tf.qint8, -2.5, 4.0)
    quantize("quantize_min_combined_qint16", tf.qint16, -3.0, 6.0)
    quantize("quantize_min_combined_tiny_range", tf.quint8, 0.25, 0.25,
             ensure_minimum_range=0.5)
    quantize("quantize_min_first_quint8", tf.quint8, -1.5, 3.0,
             mode="MIN_FIRST")
    quantize("quantize_min_first_qint8", tf.qint8, -2.0, 2.0, mode="MIN_FIRST")
    quantize("quantize_min_first_qint32", tf.qint32, -4.0, 4.0,
             mode="MIN_FIRST")
    quantize("quantize_scaled_qint8", tf.qint8, -4.0, 3.0, mode="SCALED")
    quantize("quantize_scaled_qint8_narrow_even", tf.qint8, -2.0, 6.0,
             mode="SCALED", narrow_range=True, round_mode="HALF_TO_EVEN")
    quantize("quantize_scaled_quint16", tf.quint16, 0.0, 5.0, mode="SCALED")
    quantize("quantize_scaled_qint8_axis", tf.qint8, [-4.0, -1.0, -2.0],
             [3.0, 1.0, 8.0], xs=(2, 3, 4), mode="SCALED", axis=1)
    quantize("quantize_min_combined_quint8_axis", tf.quint8,
             [-1.0, -3.0, 0.5, -2.0], [3.0, 1.0, 2.0, 2.0], mode="MIN_COMBINED",
             axis=1)
    quantize("dequantize_min_combined_qint8", tf.qint8, -2.5, 4.0, dq=True)
    quantize("dequantize_min_combined_quint16", tf.quint16, -1.0, 3.0, dq=True)
    quantize("dequantize_min_first_quint8", tf.quint8, -1.5, 3.0, dq=True,
             mode="MIN_FIRST")
    quantize("dequantize_min_first_qint16", tf.qint16, -3.0, 2.0, dq=True,
             mode="MIN_FIRST")
    quantize("dequantize_scaled_qint8_narrow", tf.qint8, -2.0, 6.0, dq=True,
             mode="SCALED", narrow_range=True)
    quantize("dequantize_min_combined_quint8_bf16", tf.quint8, -1.0, 5.0,
             dq=True, dtype=tf.bfloat16)
    quantize("dequantize_scaled_qint8_axis", tf.qint8, [-4.0, -1.0, -2.0],
             [3.0, 1.0, 8.0], xs=(2, 3, 4), dq=True, mode="SCALED", axis=1)
    add("dequantize_cast_qint8", lambda x: raw.Dequantize(
            input=tf.cast(x, tf.qint8), min_range=tf.constant(-1.0),
            max_range=tf.constant(2.0), mode="MIN_COMBINED"),
        lambda r: [("x", I(r, [8], -128, 128, np.int8))], "exact",
        ["Cast", "Dequantize"])

    # ---- ops lowered without a case of their own until now: older
    # spellings (V1/V2 forms, aliases) and the rarer bitwise and math ops
    unary("tan", tf.math.tan, lambda r: [("x", U(r, S, -1.4, 1.4))],
          "transcendental", "Tan")
    unary("is_inf", tf.math.is_inf, specials, "exact", "IsInf")
    unary("inv", lambda x: raw.Inv(x=x), lambda r: [("x", nonzero(r, S))],
          "elementwise", "Inv")
    unary("invert_int32", lambda x: raw.Invert(x=x),
          lambda r: [("x", I(r, S, -100, 100))], "exact", "Invert")
    unary("invert_u8", lambda x: raw.Invert(x=x),
          lambda r: [("x", I(r, S, 0, 256, np.uint8))], "exact", "Invert")
    unary("prevent_gradient", lambda x: raw.PreventGradient(input=x) * 2.0,
          lambda r: [("x", U(r, S))], "exact", "PreventGradient")
    add("atan2", lambda y, x: tf.math.atan2(y, x),
        lambda r: [("y", U(r, [3, 4], -3, 3)), ("x", U(r, [3, 4], -3, 3))],
        "transcendental", ["Atan2"])

    def binary_int(name, op, optype, lo=-100, hi=100):
        add(name, lambda x, y: op(x=x, y=y),
            lambda r: [("x", I(r, [3, 4], lo, hi)),
                       ("y", nonzero(r, [3, 4], 1, 10).astype(I32)
                        * np.where(I(r, [3, 4], 0, 2) == 0, -1, 1).astype(I32))],
            "exact", [optype])
    binary_int("bitwise_and", raw.BitwiseAnd, "BitwiseAnd")
    binary_int("bitwise_or", raw.BitwiseOr, "BitwiseOr")
    binary_int("bitwise_xor", raw.BitwiseXor, "BitwiseXor")
    binary_int("mod_int32", raw.Mod, "Mod")
    binary_int("truncate_div_int32", raw.TruncateDiv, "TruncateDiv")
    binary_int("truncate_mod_int32", raw.TruncateMod, "TruncateMod")
    add("truncate_mod", lambda x, y: raw.TruncateMod(x=x, y=y),
        lambda r: [("x", U(r, [3, 4], -10, 10)), ("y", nonzero(r, [3, 4]))],
        "elementwise", ["TruncateMod"])
    add("mul_no_nan", lambda x, y: tf.math.multiply_no_nan(x, y),
        lambda r: [("x", np.where(I(r, [3, 4], 0, 4) == 0, np.inf,
                                  U(r, [3, 4], -5, 5)).astype(F32)),
                   ("y", np.where(I(r, [3, 4], 0, 3) == 0, 0.0,
                                  U(r, [3, 4])).astype(F32))],
        "elementwise", ["MulNoNan"])
    add("shape_n", lambda a, b: tuple(raw.ShapeN(input=[a, b], out_type=tf.int64)),
        lambda r: [("a", U(r, [2, 3])), ("b", U(r, [4, 1, 5]))], "exact",
        ["ShapeN"])
    add("concat_v1", lambda a, b: raw.Concat(concat_dim=tf.constant(1),
                                             values=[a, b]),
        lambda r: [("a", U(r, [2, 3])), ("b", U(r, [2, 4]))], "exact",
        ["Concat"])
    add("batch_mat_mul_adj_y", lambda a, b: raw.BatchMatMul(x=a, y=b, adj_y=True),
        lambda r: [("a", U(r, [2, 3, 4])), ("b", U(r, [2, 5, 4]))], "matmul",
        ["BatchMatMul"])
    add("bias_add_v1", lambda x, b: raw.BiasAddV1(value=x, bias=b),
        lambda r: [("x", U(r, [2, 3, 4])), ("b", U(r, [4]))], "elementwise",
        ["BiasAddV1"])
    add("max_pool_v2", lambda x: raw.MaxPoolV2(
            input=x, ksize=tf.constant([1, 2, 2, 1]),
            strides=tf.constant([1, 2, 2, 1]), padding="SAME"),
        lambda r: [("x", distinct(r, [1, 5, 5, 2]))], "exact", ["MaxPoolV2"])
    add("matrix_diag_v2", lambda d: raw.MatrixDiagV2(
            diagonal=d, k=tf.constant(0), num_rows=tf.constant(-1),
            num_cols=tf.constant(4), padding_value=tf.constant(0.5)),
        lambda r: [("d", U(r, [2, 3]))], "exact", ["MatrixDiagV2"])
    add("matrix_diag_part_v2", lambda x: raw.MatrixDiagPartV2(
            input=x, k=tf.constant(0), padding_value=tf.constant(9.0)),
        lambda r: [("x", U(r, [2, 3, 4]))], "exact", ["MatrixDiagPartV2"])
    add("matrix_set_diag_v2", lambda x, d: raw.MatrixSetDiagV2(
            input=x, diagonal=d, k=tf.constant(0)),
        lambda r: [("x", U(r, [2, 3, 4])), ("d", U(r, [2, 3]))], "exact",
        ["MatrixSetDiagV2"])
    add("fused_batch_norm_v2",
        lambda x, s, o, m, v: raw.FusedBatchNormV2(
            x=x, scale=s, offset=o, mean=m, variance=v, epsilon=0.001,
            is_training=False)[0],
        bn_inputs([2, 4, 4, 3], 3), "elementwise", ["FusedBatchNormV2"])
    add("unique_with_counts_v2", lambda: tuple(raw.UniqueWithCountsV2(
            x=tf.constant([[1, 2], [3, 4], [1, 2], [1, 2]], tf.int32),
            axis=tf.constant([0], tf.int64), out_idx=tf.int32)),
        lambda r: [], "exact", ["UniqueWithCountsV2"])
    add("random_uniform_int_seeded", lambda x: x + raw.RandomUniformInt(
            shape=[3, 4], minval=tf.constant(-5), maxval=tf.constant(100),
            seed=5, seed2=9),
        lambda r: [("x", I(r, [3, 4], -9, 9))], "exact", ["RandomUniformInt"],
        check_eager=False)

    def key_counter_alg(s):
        k, c, alg = raw.StatelessRandomGetKeyCounterAlg(seed=s)
        return raw.StatelessRandomUniformV2(shape=[2, 5], key=k, counter=c,
                                            alg=alg)
    add("stateless_get_key_counter_alg", key_counter_alg, seed, "exact",
        ["StatelessRandomGetKeyCounterAlg", "StatelessRandomUniformV2"])

    def get_alg(s):
        k, c = raw.StatelessRandomGetKeyCounter(seed=s)
        return raw.StatelessRandomNormalV2(shape=[6], key=k, counter=c,
                                           alg=raw.StatelessRandomGetAlg())
    add("stateless_get_alg", get_alg, lambda r: seed(r, I64), "transcendental",
        ["StatelessRandomGetAlg", "StatelessRandomNormalV2"])

    return cases
