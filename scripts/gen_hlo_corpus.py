#!/usr/bin/env python3
"""Generate the JAX/XLA HLO test corpus in testdata/hlo/.

Run with the JAX virtualenv (see scripts/venv.sh):

    $(scripts/venv.sh jax) scripts/gen_hlo_corpus.py [--only NAME ...] [--list]

Everything is deterministic: every case draws its inputs from a numpy
Generator seeded with crc32(NAME), and JAX/XLA on CPU is deterministic.
(The stack-frame tables at the top of the .opt.hlo files quote line numbers
of this script, so editing it changes those lines; that is expected.)

For each JAX case NAME the generator writes
    NAME.hlo       unoptimized HLO:  jax.jit(f).lower(*args).compiler_ir("hlo")
                   .as_hlo_text(print_large_constants=True)
                   (print_large_constants is needed: by default constants of
                   more than 10 elements are printed as `{...}`)
    NAME.opt.hlo   optimized HLO of the XLA:CPU executable, i.e. what
                   jax.jit(f).lower(*args).compile().as_text() prints, but
                   again with large constants printed in full
    NAME.inK.npy   the inputs, in ENTRY parameter order
    NAME.outK.npy  JAX's outputs (flattened tuple order; a single array is out0)
and one MANIFEST line `NAME NIN NOUT ATOL RTOL`.

Hand-written cases (hand_*.hlo) cover HLO that JAX cannot emit (copy, bitcast,
custom-call, the pred form of conditional, ...).  Their expected outputs are
computed with numpy by the `ref` function next to each text (in float64 where
that matters, then cast to the result type), and every hand case is in
addition parsed by XLA's own HLO parser and, where it can be executed,
compiled and run by XLA:CPU and compared with the numpy reference; the
generator fails if the two disagree.  Hand cases have no .opt.hlo.  A case
whose MANIFEST line has `-` for NIN and NOUT is parse-only (not evaluated).

Checks done for every JAX case (the generator fails loudly otherwise):
  * the ENTRY computation of both .hlo and .opt.hlo has exactly NIN
    parameters numbered 0..NIN-1 whose shapes match the inputs in order;
  * the result shape of the ENTRY computation has NOUT arrays matching outputs;
  * no constant was elided as `{...}`;
  * both texts are accepted by XLA's own HLO parser;
  * the required-opcode list is covered by the unoptimized modules (a warning
    listing what is missing is printed at the end).
"""

import argparse
import os
import re
import sys
import zlib

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTDIR = os.path.join(REPO, "testdata", "hlo")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_platforms", "cpu")
# Source locations in the optimized modules' metadata become repo-relative.
jax.config.update("jax_hlo_source_file_canonicalization_regex",
                  "^" + re.escape(REPO + os.sep))

import jax.numpy as jnp  # noqa: E402
from jax import lax  # noqa: E402
from jax.extend.core import Primitive  # noqa: E402
from jax.interpreters import mlir  # noqa: E402
from jax._src.lib.mlir import ir  # noqa: E402
from jax._src.lib.mlir.dialects import hlo as shlo  # noqa: E402
import jaxlib  # noqa: E402
import jaxlib._hlo as xla_hlo  # noqa: E402

f16, f32, f64 = np.float16, np.float32, np.float64
s8, s16, s32, s64 = np.int8, np.int16, np.int32, np.int64
u8, u16, u32, u64 = np.uint8, np.uint16, np.uint32, np.uint64
b1 = np.bool_
bf16 = jnp.bfloat16

# Opcodes that must appear in at least one unoptimized module (JAX or hand).
REQUIRED_OPCODES = """
parameter constant iota tuple get-tuple-element
add subtract multiply divide remainder maximum minimum power atan2
and or xor not shift-left shift-right-arithmetic shift-right-logical
negate abs sign exponential exponential-minus-one log log-plus-one logistic
sqrt rsqrt cbrt tanh sine cosine erf floor ceil round-nearest-afz
round-nearest-even is-finite popcnt count-leading-zeros
compare select clamp convert bitcast-convert copy
broadcast reshape bitcast transpose slice dynamic-slice dynamic-update-slice
concatenate pad reverse gather scatter reduce reduce-window sort dot
convolution call while conditional batch-norm-inference custom-call
rng-bit-generator topk fft complex real imag cholesky triangular-solve
""".split()

# ----------------------------------------------------------------------------
# Two HLO ops that JAX's own lowering never emits, reached through tiny
# primitives that lower straight to the StableHLO op (which XLA turns into the
# HLO op of the same name): `logistic` (lax.logistic lowers to 1/(1+exp(-x)))
# and `batch-norm-inference`.
# ----------------------------------------------------------------------------
hlo_logistic_p = Primitive("hlo_logistic")
hlo_logistic_p.def_abstract_eval(lambda x: jax.core.ShapedArray(x.shape, x.dtype))
mlir.register_lowering(hlo_logistic_p, lambda ctx, x: [shlo.logistic(x)])

hlo_bn_p = Primitive("hlo_batch_norm_inference")
hlo_bn_p.def_abstract_eval(
    lambda x, *rest, epsilon, feature_index: jax.core.ShapedArray(x.shape, x.dtype))


def _bn_lower(ctx, x, scale, offset, mean, var, *, epsilon, feature_index):
    return [shlo.batch_norm_inference(
        x, scale, offset, mean, var,
        ir.FloatAttr.get(ir.F32Type.get(), epsilon),
        ir.IntegerAttr.get(ir.IntegerType.get_signless(64), feature_index))]


mlir.register_lowering(hlo_bn_p, _bn_lower)

# ----------------------------------------------------------------------------
# Case registry
# ----------------------------------------------------------------------------
CASES = []   # (name, builder, atol, rtol, why)


def case(name, atol=None, rtol=None, why=None):
    """Register builder(rng) -> (fn, [inputs]).  atol/rtol default from the
    output dtypes: exact for integer/pred, 1e-5/1e-5 for f32/f64."""
    def deco(builder):
        assert all(c[0] != name for c in CASES), name
        CASES.append((name, builder, atol, rtol, why))
        return builder
    return deco


def normal(r, shape, dtype=f32, scale=1.0):
    return (r.standard_normal(shape) * scale).astype(dtype)


def uniform(r, lo, hi, shape, dtype=f32):
    return r.uniform(lo, hi, shape).astype(dtype)


def ints(r, lo, hi, shape, dtype):
    return r.integers(lo, hi, shape, endpoint=False, dtype=np.int64).astype(dtype)


def arr(values, dtype):
    return np.array(values, dtype=dtype)


TRANSC = "transcendental functions: XLA:CPU uses its own polynomial approximations, not libm"

# ---------------------------------------------------------------- elementwise


@case("binary_f32")
def _(r):
    x = normal(r, (3, 5))
    y = (uniform(r, 0.5, 2.0, (3, 5)) * np.where(r.random((3, 5)) < 0.5, -1, 1)).astype(f32)
    return (lambda x, y: (lax.add(x, y), lax.sub(x, y), lax.mul(x, y), lax.div(x, y),
                          lax.max(x, y), lax.min(x, y))), [x, y]


@case("minmax_nan_f32")
def _(r):
    x = arr([np.nan, 1.0, np.nan, -np.inf, 2.0, -3.0, np.inf], f32)
    y = arr([1.0, np.nan, np.nan, 5.0, -np.inf, -3.0, 0.5], f32)
    return (lambda x, y: (lax.max(x, y), lax.min(x, y), x + y, x * y)), [x, y]


@case("binary_transcendental_f32", atol=1e-5, rtol=1e-4, why=TRANSC + " (pow, atan2)")
def _(r):
    a = normal(r, (7,), scale=4.0)
    b = (uniform(r, 0.5, 3.0, (7,)) * np.where(r.random(7) < 0.5, -1, 1)).astype(f32)
    base = uniform(r, 0.1, 3.0, (7,))
    expo = uniform(r, -2.0, 2.0, (7,))
    nb = arr([-2.0, -1.5, -3.0, 0.0, 0.0, 2.0, -0.5], f32)
    ne = arr([3.0, 2.0, -1.0, 0.0, 2.5, 0.5, 0.5], f32)  # pow(-0.5, 0.5) = nan
    return (lambda a, b, base, expo, nb, ne: (
        lax.rem(a, b), lax.pow(base, expo), lax.pow(nb, ne), lax.atan2(a, b),
        lax.atan2(b, a))), [a, b, base, expo, nb, ne]


@case("int_arith_s32")
def _(r):
    a = ints(r, -1000, 1000, (3, 5), s32)
    b = ints(r, 1, 50, (3, 5), s32) * np.where(r.random((3, 5)) < 0.5, -1, 1).astype(s32)
    big = arr([2**31 - 1, -2**31, 123456789, -987654321, 65536], s32)
    return (lambda a, b, big: (a + b, a - b, a * b, lax.div(a, b), lax.rem(a, b),
                               lax.max(a, b), lax.min(a, b),
                               big * big, big + big)), [a, b, big]


@case("int_div_edge")
def _(r):
    # XLA semantics: x/0 = -1 (all ones), x%0 = x, INT_MIN/-1 = INT_MIN, INT_MIN%-1 = 0
    a = arr([7, -7, 5, -2**31, 3, 0, -9], s32)
    b = arr([0, 0, -2, -1, 2, 0, 4], s32)
    ua = arr([7, 2**32 - 1, 5, 0, 100], u32)
    ub = arr([0, 2, 0, 0, 7], u32)
    return (lambda a, b, ua, ub: (lax.div(a, b), lax.rem(a, b),
                                  lax.div(ua, ub), lax.rem(ua, ub))), [a, b, ua, ub]


@case("int_wraparound")
def _(r):
    x8 = arr([100, -100, 127, -128, 5], s8)
    y8 = arr([100, -100, 1, -1, 60], s8)
    u8a = arr([200, 255, 0, 17, 128], u8)
    u16a = arr([60000, 65535, 1, 300, 256], u16)
    s16a = arr([30000, -30000, 32767, -1, 255], s16)
    u64a = arr([2**64 - 1, 2**63, 12345678901234, 1, 0], u64)
    s64a = arr([2**63 - 1, -2**63, 3037000500, -1, 7], s64)
    return (lambda x8, y8, a, b, c, d, e: (
        x8 + y8, x8 * y8, x8 - y8, a + a, a * a, lax.div(a, arr(7, u8)), b * b, b + b,
        c * c, c - s16(1), d + d, d * d, lax.div(d, u64(3)), e * e, e + e,
        lax.rem(e, s64(-5)))), [x8, y8, u8a, u16a, s16a, u64a, s64a]


@case("bitwise_shift")
def _(r):
    a = arr([0x12345678, -1, 0, -2**31, 0x0F0F0F0F, 7, -12345], s32)
    b = arr([0x0FF000FF, 0x55555555, -1, 1, 0x7FFFFFFF, 3, 99], s32)
    sh = arr([0, 1, 4, 31, 32, 33, -1], s32)  # >= 32 (or negative) is out of range
    ua = arr([0x80000000, 0xFFFFFFFF, 1, 0xDEADBEEF, 2, 3, 0x7FFFFFFF], u32)
    ush = arr([0, 1, 31, 4, 32, 100, 16], u32)
    c = arr([-128, 127, 1, -1, 64, 3, 85], s8)
    csh = arr([1, 1, 7, 7, 8, 9, 2], s8)
    return (lambda a, b, sh, ua, ush, c, csh: (
        a & b, a | b, a ^ b, ~a, ua & ush, ua | ush, ua ^ ush, ~ua,
        lax.shift_left(a, sh), lax.shift_right_arithmetic(a, sh),
        lax.shift_right_logical(a, sh),
        lax.shift_left(ua, ush), lax.shift_right_arithmetic(ua, ush),
        lax.shift_right_logical(ua, ush),
        lax.shift_left(c, csh), lax.shift_right_arithmetic(c, csh),
        lax.shift_right_logical(c, csh), ~c)), [a, b, sh, ua, ush, c, csh]


@case("bitwise_small_types")
def _(r):
    a = ints(r, 0, 65536, (3, 5), u16)
    b = ints(r, -32768, 32768, (3, 5), s16)
    c = ints(r, 0, 256, (3, 5), u8)
    d = arr([0, 1, 2**63, 2**64 - 1, 0x0123456789ABCDEF], u64)
    e = arr([0, -1, -2**63, 2**40, 77], s64)
    return (lambda a, b, c, d, e: (
        a & u16(0xF0F0), a ^ a[::-1], ~a, b | s16(0x00FF), ~b, c ^ u8(0xAA), ~c,
        lax.shift_right_logical(d, u64(60)), lax.shift_left(d, u64(4)), ~d,
        lax.shift_right_arithmetic(e, s64(40)), e & s64(0xFF))), [a, b, c, d, e]


@case("popcnt_clz")
def _(r):
    a = arr([0, 1, -1, 0x7FFFFFFF, -2**31, 0x00F0F000, 255], s32)
    b = arr([0, 1, 128, 255, 15, 16, 3], u8)
    c = arr([0, 1, -1, 2**40, 2**62 + 5, -2**63, 12345], s64)
    d = arr([0, 1, 0xFFFF, 0x8000, 0x0100, 3, 0x7F00], u16)
    e = arr([0, -1, 1, 64, -128, 100, 2], s8)
    return (lambda a, b, c, d, e: (
        lax.population_count(a), lax.clz(a), lax.population_count(b), lax.clz(b),
        lax.population_count(c), lax.clz(c), lax.population_count(d), lax.clz(d),
        lax.population_count(e), lax.clz(e))), [a, b, c, d, e]


@case("pred_logic")
def _(r):
    p = r.random((3, 5)) < 0.5
    q = r.random((3, 5)) < 0.5
    return (lambda p, q: (p & q, p | q, p ^ q, ~p, jnp.logical_not(p & ~q))), [p, q]


@case("unary_rounding_f32")
def _(r):
    x = arr([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, -0.0, 0.0, 3.7, -3.7, 1e8, -7.49999952,
             np.inf, -np.inf, np.nan, 2.4999998, 0.49999997], f32)
    rafz = lambda v: lax.round(v, lax.RoundingMethod.AWAY_FROM_ZERO)  # noqa: E731
    reven = lambda v: lax.round(v, lax.RoundingMethod.TO_NEAREST_EVEN)  # noqa: E731
    return (lambda x: (lax.neg(x), lax.abs(x), lax.sign(x), lax.floor(x), lax.ceil(x),
                       rafz(x), reven(x))), [x]


@case("unary_int")
def _(r):
    a = arr([5, -5, 0, -2**31, 2**31 - 1, -1, 42], s32)
    b = arr([3, -3, 0, -128, 127, -1, 9], s8)
    c = arr([0, 2**63 - 1, -2**63, -7, 7], s64)
    return (lambda a, b, c: (lax.neg(a), lax.abs(a), lax.sign(a), lax.neg(b), lax.abs(b),
                             lax.sign(b), lax.abs(c), lax.sign(c), lax.neg(c))), [a, b, c]


@case("unary_transcendental_f32", atol=1e-5, rtol=1e-4, why=TRANSC)
def _(r):
    x = uniform(r, -4.0, 4.0, (3, 5))
    p = uniform(r, 0.05, 5.0, (3, 5))
    e = uniform(r, -0.9, 3.0, (3, 5))
    return (lambda x, p, e: (
        lax.exp(x), lax.expm1(x), lax.log(p), lax.log1p(e), lax.sqrt(p), lax.rsqrt(p),
        lax.cbrt(x), lax.tanh(x), lax.sin(x), lax.cos(x), lax.erf(x))), [x, p, e]


@case("unary_transcendental_f64", atol=1e-12, rtol=1e-12,
      why=TRANSC + "; f64 results agree with libm to ~1e-15")
def _(r):
    x = uniform(r, -4.0, 4.0, (7,), f64)
    p = uniform(r, 0.05, 5.0, (7,), f64)
    y = uniform(r, 0.5, 2.0, (7,), f64)
    return (lambda x, p, y: (
        lax.exp(x), lax.expm1(x), lax.log(p), lax.log1p(p), lax.sqrt(p), lax.rsqrt(p),
        lax.cbrt(x), lax.tanh(x), lax.sin(x), lax.cos(x), lax.erf(x),
        lax.pow(p, x), lax.atan2(x, y), lax.rem(x, y), x / y)), [x, p, y]


@case("transcendental_special_f32", atol=1e-5, rtol=1e-4,
      why=TRANSC + "; this case checks inf/nan/0 handling")
def _(r):
    x = arr([0.0, -0.0, np.inf, -np.inf, np.nan, -1.0, 1.0, 100.0, -100.0], f32)
    return (lambda x: (lax.exp(x), lax.log(x), lax.sqrt(x), lax.rsqrt(x), lax.tanh(x),
                       lax.log1p(x), lax.expm1(x), lax.erf(x), lax.cbrt(x),
                       lax.sign(x))), [x]


@case("logistic", atol=1e-6, rtol=1e-5)
def _(r):
    x = arr(np.concatenate([np.linspace(-8, 8, 9), [-100.0, 100.0, 0.0]]), f32)
    x64 = uniform(r, -5.0, 5.0, (3,), f64)
    return (lambda x, x64: (hlo_logistic_p.bind(x), hlo_logistic_p.bind(x64))), [x, x64]


@case("batch_norm_inference", atol=1e-5, rtol=1e-5)
def _(r):
    x = normal(r, (2, 3, 2, 4))
    scale = uniform(r, 0.5, 1.5, (4,))
    offset = normal(r, (4,))
    mean = normal(r, (4,))
    var = uniform(r, 0.1, 2.0, (4,))
    return (lambda x, s, o, m, v: hlo_bn_p.bind(x, s, o, m, v, epsilon=0.001, feature_index=3)
            ), [x, scale, offset, mean, var]


@case("nan_inf_constants")
def _(r):
    x = arr([1.5, -2.0, 0.0, np.nan, np.inf, -np.inf, -0.0], f32)
    c = jnp.array([np.nan, np.inf, -np.inf, 1.0, -0.0, 3.0e38, 1e-45], dtype=f32)
    return (lambda x: (jnp.where(x > 0, x, -jnp.inf), lax.is_finite(x),
                       jnp.nan_to_num(x, nan=f32(7.0), posinf=f32(1e9), neginf=f32(-1e9)),
                       x + c, lax.div(x, f32(0.0)), jnp.isnan(x))), [x]


@case("constants_mixed")
def _(r):
    x = ints(r, 0, 100, (4,), s32)
    pc = np.array([True, False, False, True])
    c8 = np.array([-128, 127, 0, -1], s8)
    c16 = np.array([65535, 0, 1, 32768], u16)
    c64 = np.array([0.1, -1e300, 1e-300, 2.0 / 3.0], f64)
    big = np.arange(16, dtype=f32) * f32(0.37) - f32(2.0)   # > 10 elements
    m2 = np.array([[1.5, -2.25, np.inf], [0.0, -0.0, 1e-3]], f32)          # rank-2
    p2 = np.array([[True, False, True], [False, False, True]])
    i3 = np.arange(12, dtype=s32).reshape(2, 3, 2) - s32(5)               # rank-3
    return (lambda x: (jnp.where(pc, x, -x), x.astype(s8) + c8, x.astype(u16) * c16,
                       x.astype(f64) * c64, jnp.sum(big) + x.astype(f32),
                       jnp.array(True) & (x > 50), jnp.array(2**40, s64) + x,
                       jnp.where(p2, m2 * x[:3].astype(f32), m2),
                       i3 * x[0] + jnp.sum(x))), [x]


@case("compare_f32")
def _(r):
    x = arr([1.0, 2.0, np.nan, -0.0, np.inf, -1.0, 3.0], f32)
    y = arr([1.0, 1.0, 1.0, 0.0, np.inf, np.nan, 4.0], f32)
    return (lambda x, y: (x == y, x != y, x < y, x <= y, x > y, x >= y)), [x, y]


@case("compare_int")
def _(r):
    a = arr([1, -1, 0, 2**31 - 1, -2**31, 5], s32)
    b = arr([1, 1, -1, -2**31, 2**31 - 1, 6], s32)
    ua = arr([1, 0xFFFFFFFF, 0, 0x80000000, 7, 5], u32)
    ub = arr([1, 1, 0xFFFFFFFF, 0x7FFFFFFF, 7, 6], u32)
    c = arr([-128, 127, 0, 1, -1, 5], s8)
    d = arr([2**64 - 1, 0, 2**63, 1, 10, 10], u64)
    return (lambda a, b, ua, ub, c, d: (
        a < b, a >= b, a == b, ua > ub, ua <= ub, ua != ub, c < c[::-1], d > d[::-1],
        d <= u64(2**63))), [a, b, ua, ub, c, d]


@case("select_clamp")
def _(r):
    p = r.random((3, 5)) < 0.5
    x = normal(r, (3, 5))
    y = normal(r, (3, 5))
    i = ints(r, -20, 20, (3, 5), s32)
    lo = normal(r, (3, 5)) - f32(0.5)
    return (lambda p, x, y, i, lo: (
        lax.select(p, x, y), lax.select(p, i, -i),
        lax.clamp(f32(-0.5), x, f32(0.75)), lax.clamp(lo, y, lo + f32(1.0)),
        lax.clamp(s32(-5), i, s32(7)))), [p, x, y, i, lo]


# --------------------------------------------------------------- conversions


@case("convert_float_int", atol=0, rtol=0, why="conversions are correctly rounded: exact")
def _(r):
    x = arr([0.0, -0.0, 1.9, -1.9, 2.5, -2.5, 100.7, -100.7, 127.9], f32)
    d = arr([1e10, -1e10, 3.99999, -3.99999, 0.5, 65535.9, 2.0**53, -7.0, 0.0], f64)
    return (lambda x, d: (x.astype(s32), x.astype(s8), jnp.abs(x).astype(u8),
                          jnp.abs(x).astype(u32), x.astype(s64), d.astype(s64),
                          jnp.abs(d).astype(u16), jnp.abs(d).astype(u64),
                          d.astype(s32))), [x, d]


@case("convert_saturate")
def _(r):
    # XLA semantics for float->int: out-of-range values saturate, NaN -> 0.
    x = arr([np.nan, np.inf, -np.inf, 3e9, -3e9, 300.0, -5.7, 255.9, -129.0], f32)
    d = arr([np.nan, 1e300, -1e300, 2.0**64, -1.0, 2.0**63, 70000.0, -40000.0, 1.0], f64)
    return (lambda x, d: (x.astype(s32), x.astype(u8), x.astype(s8), x.astype(u32),
                          d.astype(s64), d.astype(u64), d.astype(s16), d.astype(u16))), [x, d]


@case("convert_int_int")
def _(r):
    a = arr([-128, -1, 0, 1, 127, 100], s8)
    b = arr([2**31 - 1, -2**31, 300, -300, 65535, 70000], s32)
    c = arr([65535, 32768, 0, 1, 40000, 32767], u16)
    d = arr([2**63 - 1, -2**63, -1, 256, 4294967296 + 5, 123], s64)
    e = arr([2**32 - 1, 2**31, 0, 1, 5, 2**16], u32)
    f = arr([2**64 - 1, 2**63, 2**32 + 7, 0, 1, 255], u64)
    return (lambda a, b, c, d, e, f: (
        a.astype(s32), a.astype(u8), a.astype(u64), b.astype(s8), b.astype(u16),
        b.astype(s64), c.astype(s16), c.astype(s32), d.astype(u8), d.astype(s32),
        d.astype(u64), e.astype(s32), e.astype(s64), f.astype(u32), f.astype(s64),
        f.astype(s16))), [a, b, c, d, e, f]


@case("convert_int_float", atol=0, rtol=0, why="conversions are correctly rounded: exact")
def _(r):
    a = arr([2**31 - 1, -2**31, 16777217, -16777219, 0, 7], s32)
    b = arr([2**63 - 1, -2**63, 2**53 + 1, -3, 0, 9007199254740993], s64)
    c = arr([2**32 - 1, 0, 2**31, 16777217, 3, 1], u32)
    d = arr([2**64 - 1, 0, 2**63, 1, 2**53 + 1, 12345], u64)
    e = arr([0, 255, 128, 1, 7, 200], u8)
    g = arr([-128, 127, 0, -1, 5, 100], s8)
    h = arr([70000, -70000, 65504, 2049, -2049, 3], s32)
    return (lambda a, b, c, d, e, g, h: (
        a.astype(f32), a.astype(f64), b.astype(f64), b.astype(f32), c.astype(f32),
        d.astype(f64), d.astype(f32), e.astype(f16), g.astype(f64), g.astype(f32),
        h.astype(f16))), [a, b, c, d, e, g, h]


@case("convert_pred", atol=0, rtol=0, why="conversions are correctly rounded: exact")
def _(r):
    p = np.array([True, False, True, True, False])
    x = arr([0.0, -0.0, 0.5, np.nan, -3.0], f32)
    i = arr([0, 1, -1, 256, 0], s32)
    u = arr([0, 1, 2, 255, 128], u8)
    return (lambda p, x, i, u: (
        p.astype(f32), p.astype(s32), p.astype(u8), p.astype(f64), x.astype(b1),
        i.astype(b1), u.astype(b1), (x != 0).astype(s64), p.astype(f16))), [p, x, i, u]


@case("convert_f16_bf16", atol=0.0, rtol=0.0,
      why="conversions are correctly rounded (round-to-nearest-even): exact")
def _(r):
    x = arr([1.0, 1.0009765625, 1.00048828125, 1.000732421875, 65504.0, 65520.0, 1e6,
             -1e-8, 6.0e-8, np.nan, -np.inf, 3.14159265], f32)
    h = arr([1.0, 0.0999755859375, 65504.0, -0.0, 6.0e-8, np.inf, 2.0, -3.5, 0.5, 1.5,
             100.0, np.nan], f16)
    d = arr([1.0 + 2.0**-11, 1.0 + 2.0**-12, 1e-300, 1e300, -2.5, 0.1, 1.0, 2.0, 3.0, 4.0,
             5.0, 6.0], f64)
    return (lambda x, h, d: (
        x.astype(f16), h.astype(f32), x.astype(bf16).astype(f32), h.astype(f64),
        d.astype(f16), d.astype(bf16).astype(f32), h.astype(bf16).astype(f32),
        x.astype(f16).astype(bf16).astype(f16), d.astype(f32))), [x, h, d]


@case("f16_arith", atol=2e-3, rtol=2e-3,
      why="f16: one f16 ulp is ~1e-3 relative; XLA:CPU evaluates f16 ops in f32 and may"
          " skip intermediate roundings inside a fusion")
def _(r):
    x = normal(r, (3, 5), f16)
    y = uniform(r, 0.5, 2.0, (3, 5), f16)
    return (lambda x, y: (x + y, x * y, x / y, lax.exp(x), lax.tanh(x), lax.sqrt(y),
                          lax.max(x, y), jnp.sum(x * y, axis=1))), [x, y]


@case("bf16_arith", atol=2e-2, rtol=2e-2,
      why="bf16 (8-bit mantissa, ulp 2^-8 relative); XLA:CPU computes bf16 in f32 and may"
          " skip intermediate roundings; dot accumulation order")
def _(r):
    x = normal(r, (4, 6))
    y = normal(r, (6, 3))
    z = normal(r, (4, 6))

    def f(x, y, z):
        xb, yb, zb = x.astype(bf16), y.astype(bf16), z.astype(bf16)
        s = xb * zb + xb
        d = lax.dot(xb, yb, preferred_element_type=f32)
        return (s.astype(f32), lax.tanh(xb).astype(f32), d, jnp.max(zb, axis=0).astype(f32))
    return f, [x, y, z]


@case("bitcast_convert")
def _(r):
    x = arr([1.0, -2.0, 0.0, -0.0, np.inf, np.nan, 1e-40], f32)
    i = arr([0x3F800000, -1, 0x7F800000, 1, 0, -2**31, 0x40490FDB], s32)
    d = arr([1.0, -0.0, 2.0**-1074, 1e300], f64)
    h = arr([1.0, -2.0, 65504.0, 6.0e-8], f16)
    b = np.arange(16, dtype=u8).reshape(4, 4)
    return (lambda x, i, d, h, b: (
        lax.bitcast_convert_type(x, s32), lax.bitcast_convert_type(i, f32),
        lax.bitcast_convert_type(d, u64), lax.bitcast_convert_type(h, s16),
        lax.bitcast_convert_type(x, u16),          # f32[7] -> u16[7,2]
        lax.bitcast_convert_type(b, u32),          # u8[4,4] -> u32[4]
        lax.bitcast_convert_type(d, f32))), [x, i, d, h, b]   # f64[4] -> f32[4,2]


# ------------------------------------------------------------ shape / layout


@case("broadcast_reshape_transpose")
def _(r):
    v = normal(r, (3,))
    m = normal(r, (2, 3, 4))
    s = arr(2.5, f32)
    k = ints(r, -9, 9, (5, 1), s32)
    return (lambda v, m, s, k: (
        lax.broadcast_in_dim(v, (2, 3, 4), (1,)) + m,
        lax.transpose(m, (2, 0, 1)),
        lax.reshape(m, (4, 6)),
        lax.reshape(lax.transpose(m, (1, 2, 0)), (12, 2)),
        lax.broadcast(s, (2, 2)) * s,
        lax.broadcast_in_dim(k, (5, 7), (0, 1)),
        jnp.transpose(k) + k)), [v, m, s, k]


@case("slice_strided")
def _(r):
    x = normal(r, (8, 5))
    y = ints(r, 0, 1000, (4, 6, 7), s32)
    return (lambda x, y: (
        lax.slice(x, (1, 0), (7, 5), (2, 2)),
        lax.slice(x, (2, 1), (5, 4)),
        lax.slice(y, (0, 1, 0), (4, 6, 7), (3, 2, 3)),
        x[::-1, 1::3])), [x, y]


@case("dynamic_slice_update")
def _(r):
    x = normal(r, (6, 5))
    upd = normal(r, (2, 3))
    i = arr(5, s32)      # clamped to 3 (slice of 3 rows must fit)
    j = arr(1, s32)
    k = arr(-2, s64)     # clamped to 0
    q = ints(r, 0, 50, (10,), u8)
    n = arr(8, u32)      # clamped to 7
    return (lambda x, upd, i, j, k, q, n: (
        lax.dynamic_slice(x, (i, j), (3, 2)),
        lax.dynamic_update_slice(x, upd, (k, j.astype(s64))),
        lax.dynamic_update_slice(x, upd, (j, i)),
        lax.dynamic_slice(q, (n,), (3,)),
        lax.dynamic_update_slice(q, jnp.full((2,), u8(255), u8), (n,)))), \
        [x, upd, i, j, k, q, n]


@case("concatenate")
def _(r):
    a = normal(r, (2, 3))
    b = normal(r, (2, 1))
    c = normal(r, (2, 4))
    d = ints(r, 0, 256, (1, 5), u8)
    e = ints(r, 0, 256, (3, 5), u8)
    return (lambda a, b, c, d, e: (lax.concatenate([a, b, c, a], 1),
                                   lax.concatenate([d, e, d], 0))), [a, b, c, d, e]


@case("pad")
def _(r):
    x = normal(r, (3, 4))
    v = arr(-1.5, f32)
    y = ints(r, 0, 9, (5,), s32)
    return (lambda x, v, y: (
        lax.pad(x, v, [(1, 2, 0), (-1, 1, 2)]),
        lax.pad(x, f32(0.0), [(0, -1, 1), (2, -3, 0)]),
        lax.pad(x, v, [(-1, -1, 0), (0, 0, 0)]),
        lax.pad(y, s32(7), [(2, -2, 3)]))), [x, v, y]


@case("reverse")
def _(r):
    x = ints(r, -1000, 1000, (2, 3, 4), s16)
    y = normal(r, (7,))
    return (lambda x, y: (lax.rev(x, (0, 2)), lax.rev(y, (0,)), lax.rev(x, (1,)))), [x, y]


@case("iota")
def _(r):
    x = ints(r, 0, 100, (3, 4), s32)
    y = normal(r, (5,))
    return (lambda x, y: (
        lax.broadcasted_iota(s32, (3, 4), 1) + x,
        lax.broadcasted_iota(s32, (3, 4), 0) * x,
        lax.iota(f32, 5) * y,
        lax.broadcasted_iota(u8, (2, 3), 1) + x[:2, :3].astype(u8),
        lax.iota(s64, 4) - x[0].astype(s64))), [x, y]


@case("empty_and_degenerate")
def _(r):
    x = normal(r, (0, 3))
    y = normal(r, (2, 3))
    z = normal(r, (1, 1, 7))
    return (lambda x, y, z: (
        lax.concatenate([x, y], 0), jnp.sum(x, axis=0), x * f32(2.0),
        jnp.squeeze(z, (0,)) + f32(1.0), jnp.sum(z, axis=(0, 1)))), [x, y, z]


# --------------------------------------------------------- gather / scatter


@case("gather_take")
def _(r):
    x = normal(r, (7,))
    idx = arr([0, 6, 3, 3, 1], s32)
    m = normal(r, (5, 4))
    rows = arr([[4, 0], [2, 2]], s32)
    cols = arr([3, 0, 1], s64)
    return (lambda x, idx, m, rows, cols: (
        x[idx], m[rows], m[:, cols], jnp.take_along_axis(m, jnp.argsort(m, axis=1), axis=1),
        m[rows[:, 0], cols[:2]])), [x, idx, m, rows, cols]


@case("gather_lax")
def _(r):
    x = normal(r, (5, 6))
    # Index pairs (row, col) of 2x3 windows; the last ones are out of bounds and
    # XLA clamps the start so the window fits (PROMISE_IN_BOUNDS lets XLA do it).
    idx = arr([[0, 0], [3, 3], [4, 5], [-2, 1]], s32)
    dn = lax.GatherDimensionNumbers(offset_dims=(1, 2), collapsed_slice_dims=(),
                                    start_index_map=(0, 1))
    dn2 = lax.GatherDimensionNumbers(offset_dims=(0,), collapsed_slice_dims=(1,),
                                     start_index_map=(1,))
    cidx = arr([[5], [0], [2]], s32)
    return (lambda x, idx, cidx: (
        lax.gather(x, idx, dn, (2, 3), mode=lax.GatherScatterMode.PROMISE_IN_BOUNDS),
        lax.gather(x, cidx, dn2, (5, 1), mode=lax.GatherScatterMode.PROMISE_IN_BOUNDS,
                   indices_are_sorted=False, unique_indices=True),
        lax.gather(x, idx, dn, (2, 3), mode=lax.GatherScatterMode.FILL_OR_DROP,
                   fill_value=-9.0))), [x, idx, cidx]


@case("gather_batched")
def _(r):
    x = normal(r, (3, 6))
    i = arr([5, 0, 2], s32)
    j = arr([[1, 2], [0, 0], [5, 4]], s32)
    return (lambda x, i, j: (jax.vmap(lambda row, k: row[k])(x, i),
                             jax.vmap(lambda row, k: row[k])(x, j))), [x, i, j]


@case("scatter_set")
def _(r):
    x = normal(r, (6,))
    idx = arr([4, 0, 9], s32)       # 9 is out of bounds: the update is dropped
    v = normal(r, (3,))
    m = ints(r, 0, 10, (4, 3), s32)
    row = arr(2, s32)
    nr = ints(r, 100, 200, (3,), s32)
    return (lambda x, idx, v, m, row, nr: (x.at[idx].set(v), m.at[row].set(nr),
                                           m.at[:, 1].set(-nr[:1]))), [x, idx, v, m, row, nr]


@case("scatter_add")
def _(r):
    x = ints(r, -10, 10, (5,), s32)
    idx = arr([1, 3, 1, 1, 4], s32)   # duplicates accumulate
    v = ints(r, -10, 10, (5,), s32)
    m = ints(r, -4, 4, (4, 3), s32).astype(f32)   # integer-valued floats: exact sums
    midx = arr([[0], [3], [0]], s32)
    mv = ints(r, -4, 4, (3, 3), s32).astype(f32)
    return (lambda x, idx, v, m, midx, mv: (
        x.at[idx].add(v), m.at[midx[:, 0]].add(mv), m.at[midx[:, 0], 1].add(mv[:, 0]),
        x.at[idx].multiply(s32(2)))), [x, idx, v, m, midx, mv]


@case("scatter_minmax")
def _(r):
    m = normal(r, (4, 5))
    rows = arr([0, 2, 0], s32)
    upd = normal(r, (3, 5))
    cols = arr([4, 1], s32)
    cu = normal(r, (4, 2))
    return (lambda m, rows, upd, cols, cu: (m.at[rows].max(upd), m.at[:, cols].min(cu))), \
        [m, rows, upd, cols, cu]


@case("scatter_lax")
def _(r):
    op = ints(r, 0, 100, (3, 4, 5), s32)
    # scatter 3x2 windows into dims (0, 2) at positions given along dim 1
    idx = arr([[3], [0]], s32)
    upd = ints(r, -100, 0, (2, 3, 5), s32)
    dn = lax.ScatterDimensionNumbers(update_window_dims=(1, 2), inserted_window_dims=(1,),
                                     scatter_dims_to_operand_dims=(1,))
    idx2 = arr([[0, 1], [2, 3]], s32)
    upd2 = ints(r, 1000, 2000, (2, 4), s32)
    dn2 = lax.ScatterDimensionNumbers(update_window_dims=(1,), inserted_window_dims=(0, 2),
                                      scatter_dims_to_operand_dims=(0, 2))
    return (lambda op, idx, upd, idx2, upd2: (
        lax.scatter(op, idx, upd, dn, indices_are_sorted=False, unique_indices=True,
                    mode=lax.GatherScatterMode.PROMISE_IN_BOUNDS),
        lax.scatter_add(op, idx2, upd2, dn2, indices_are_sorted=True, unique_indices=True,
                        mode=lax.GatherScatterMode.PROMISE_IN_BOUNDS),
        lax.scatter_mul(op, idx2, upd2 - s32(1000), dn2,
                        mode=lax.GatherScatterMode.FILL_OR_DROP))), [op, idx, upd, idx2, upd2]


@case("scatter_batched")
def _(r):
    x = normal(r, (3, 5))
    i = arr([4, 0, 2], s32)
    v = normal(r, (3,))
    return (lambda x, i, v: jax.vmap(lambda row, k, w: row.at[k].add(w))(x, i, v)), [x, i, v]


# ------------------------------------------------------------------ reductions


@case("reduce_basic", atol=1e-5, rtol=1e-5)
def _(r):
    x = normal(r, (3, 5))
    y = ints(r, -5, 5, (2, 3, 4), s32)
    z = ints(r, 1, 4, (6,), s64)
    w = normal(r, (2, 3, 4), f64)
    return (lambda x, y, z, w: (
        jnp.sum(x, axis=1), jnp.max(x, axis=0), jnp.min(y), jnp.prod(z),
        jnp.sum(y, axis=(0, 2)), jnp.mean(w, axis=(1,)), jnp.min(x))), [x, y, z, w]


@case("reduce_argmax")
def _(r):
    x = arr([[1.0, 3.0, 3.0, -1.0], [-5.0, -5.0, -6.0, -7.0], [0.0, 2.0, 9.0, 9.0]], f32)
    y = ints(r, 0, 4, (5, 3), s32)
    return (lambda x, y: (jnp.argmax(x, axis=1), jnp.argmin(x, axis=0),
                          jnp.argmax(y, axis=0).astype(s32), jnp.argmin(y, axis=1))), [x, y]


@case("reduce_variadic")
def _(r):
    x = normal(r, (4, 5))
    y = ints(r, -50, 50, (4, 5), s32)
    p = r.random((3, 4)) < 0.7

    def f(x, y, p):
        s, m = lax.reduce((x, y), (f32(0.0), s32(-2**31)),
                          lambda a, b: (a[0] + b[0], lax.max(a[1], b[1])), (1,))
        return s, m, jnp.any(p, axis=0), jnp.all(p, axis=1), jnp.all(p)
    return f, [x, y, p]


@case("reduce_window_pool")
def _(r):
    x = normal(r, (1, 5, 5, 2))

    def f(x):
        mx = lax.reduce_window(x, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "SAME")
        sm = lax.reduce_window(x, f32(0.0), lax.add, (1, 3, 3, 1), (1, 2, 2, 1),
                               ((0, 0), (1, 1), (1, 1), (0, 0)))
        cnt = lax.reduce_window(jnp.ones_like(x), f32(0.0), lax.add, (1, 3, 3, 1),
                                (1, 2, 2, 1), ((0, 0), (1, 1), (1, 1), (0, 0)))
        return mx, sm / cnt
    return f, [x]


@case("reduce_window_dilated")
def _(r):
    x = normal(r, (4, 5))
    y = ints(r, -9, 9, (7,), s32)

    def f(x, y):
        a = lax.reduce_window(x, -jnp.inf, lax.max, (2, 2), (1, 2), ((1, 0), (0, 1)),
                              base_dilation=(2, 1), window_dilation=(1, 2))
        b = lax.reduce_window(y, s32(0), lax.add, (3,), (1,), ((2, 0),),
                              window_dilation=(2,))
        c = lax.reduce_window(x, jnp.inf, lax.min, (2, 3), (2, 1), "VALID",
                              base_dilation=(1, 2))
        return a, b, c, jnp.cumsum(y), lax.cummax(x, axis=1)
    return f, [x, y]


# -------------------------------------------------------------------- sorting


@case("sort_single")
def _(r):
    x = normal(r, (4, 5))
    y = ints(r, -3, 3, (4, 5), s32)
    z = arr([3.0, np.nan, -1.0, -0.0, 0.0, np.inf, -np.inf], f32)
    return (lambda x, y, z: (lax.sort(x, dimension=1, is_stable=False),
                             lax.sort(y, dimension=0, is_stable=False), jnp.sort(z),
                             jnp.sort(y.astype(u8), axis=1))), [x, y, z]


@case("sort_argsort")
def _(r):
    x = ints(r, 0, 4, (9,), s32).astype(f32)   # many ties: stability matters
    y = normal(r, (3, 4))
    return (lambda x, y: (jnp.argsort(x, stable=True), jnp.argsort(-x, stable=True),
                          jnp.argsort(y, axis=0).astype(s32))), [x, y]


@case("sort_num_keys")
def _(r):
    k1 = ints(r, 0, 3, (8,), s32)
    k2 = ints(r, 0, 3, (8,), s32).astype(f32)
    v = np.arange(8, dtype=u8)
    return (lambda k1, k2, v: lax.sort((k1, k2, v), num_keys=2, is_stable=True)), [k1, k2, v]


# ------------------------------------------------------------------------ dot

# Dots here contract at most 8 elements: the default f32 tolerance suffices.


@case("dot_matmul")
def _(r):
    a = normal(r, (3, 5))
    b = normal(r, (5, 4))
    c = normal(r, (4, 6), f64)
    d = normal(r, (6, 2), f64)
    return (lambda a, b, c, d: (a @ b, c @ d)), [a, b, c, d]


@case("dot_batch_einsum")
def _(r):
    a = normal(r, (2, 3, 4))
    b = normal(r, (2, 4, 5))
    c = normal(r, (2, 5, 4))
    return (lambda a, b, c: (jnp.einsum("bij,bjk->bik", a, b),
                             jnp.einsum("bij,bkj->bik", a, c),
                             jnp.einsum("bij,bjk->bki", a, b))), [a, b, c]


@case("dot_vector")
def _(r):
    v = normal(r, (7,))
    w = normal(r, (7,))
    m = normal(r, (3, 7))
    return (lambda v, w, m: (jnp.dot(v, w), m @ v, v @ m.T, jnp.outer(v, w[:3]))), [v, w, m]


@case("dot_general_unusual")
def _(r):
    a = normal(r, (4, 2, 3))
    b = normal(r, (3, 5, 2))
    c = normal(r, (3, 4))
    d = normal(r, (5, 3))
    return (lambda a, b, c, d: (
        lax.dot_general(a, b, (((2,), (0,)), ((1,), (2,))), precision=lax.Precision.HIGHEST),
        lax.dot_general(c, d, (((0,), (1,)), ((), ()))),
        lax.dot_general(a, c, (((0,), (1,)), ((), ())),
                        precision=(lax.Precision.DEFAULT, lax.Precision.HIGH)))), [a, b, c, d]


@case("dot_int")
def _(r):
    a = ints(r, -128, 128, (3, 8), s8)
    b = ints(r, -128, 128, (8, 2), s8)
    c = ints(r, -1000, 1000, (2, 3), s32)
    d = ints(r, -1000, 1000, (3, 4), s32)
    return (lambda a, b, c, d: (lax.dot(a, b, preferred_element_type=s32), c @ d,
                                lax.dot(a.astype(u8), b.astype(u8),
                                        preferred_element_type=u32))), [a, b, c, d]


# ---------------------------------------------------------------- convolution

CONV = "f32 convolution: accumulation order of the reduction differs between implementations"


def conv(x, w, strides, padding, dn, **kw):
    return lax.conv_general_dilated(x, w, strides, padding, dimension_numbers=dn, **kw)


@case("conv_nhwc", atol=1e-4, rtol=1e-4, why=CONV)
def _(r):
    x = normal(r, (2, 7, 6, 3))
    w = normal(r, (3, 3, 3, 4))
    return (lambda x, w: (conv(x, w, (2, 2), "SAME", ("NHWC", "HWIO", "NHWC")),
                          conv(x, w, (1, 1), "VALID", ("NHWC", "HWIO", "NHWC")))), [x, w]


@case("conv_nchw", atol=1e-4, rtol=1e-4, why=CONV)
def _(r):
    x = normal(r, (1, 2, 9, 8))
    w = normal(r, (3, 2, 3, 2))
    return (lambda x, w: (
        conv(x, w, (1, 2), ((2, 1), (0, 3)), ("NCHW", "OIHW", "NCHW"), rhs_dilation=(2, 1)),
        conv(x, w, (1, 1), ((-1, 0), (1, 1)), ("NCHW", "OIHW", "NHWC")))), [x, w]


@case("conv_transpose", atol=1e-4, rtol=1e-4, why=CONV)
def _(r):
    x = normal(r, (1, 4, 3, 2))
    w = normal(r, (3, 3, 2, 3))
    return (lambda x, w: (
        conv(x, w, (1, 1), ((2, 2), (1, 2)), ("NHWC", "HWIO", "NHWC"), lhs_dilation=(2, 2)),
        lax.conv_transpose(x, w, (2, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")))
            ), [x, w]


@case("conv_depthwise", atol=1e-4, rtol=1e-4, why=CONV)
def _(r):
    x = normal(r, (2, 6, 6, 4))
    w = normal(r, (3, 3, 1, 8))   # channel multiplier 2
    return (lambda x, w: conv(x, w, (1, 1), "SAME", ("NHWC", "HWIO", "NHWC"),
                              feature_group_count=4)), [x, w]


@case("conv_batch_group", atol=1e-4, rtol=1e-4, why=CONV)
def _(r):
    x = normal(r, (4, 5, 5, 3))
    w = normal(r, (2, 2, 3, 6))
    return (lambda x, w: (
        conv(x, w, (1, 1), "VALID", ("NHWC", "HWIO", "NHWC"), batch_group_count=2),
        conv(x, w[:, :, :1, :], (2, 1), ((1, 0), (0, 0)), ("NHWC", "HWIO", "NHWC"),
             feature_group_count=3))), [x, w]


@case("conv_1d_3d", atol=1e-4, rtol=1e-4, why=CONV)
def _(r):
    x = normal(r, (2, 3, 11))
    w = normal(r, (5, 3, 3))
    v = normal(r, (1, 4, 4, 3, 2))
    k = normal(r, (2, 2, 2, 2, 3))
    return (lambda x, w, v, k: (
        conv(x, w, (2,), ((1, 1),), ("NCH", "OIH", "NCH"), rhs_dilation=(2,)),
        conv(v, k, (1, 2, 1), "SAME", ("NDHWC", "DHWIO", "NDHWC")))), [x, w, v, k]


@case("conv_int", atol=0, rtol=0)
def _(r):
    x = ints(r, -5, 5, (1, 4, 4, 2), s32)
    w = ints(r, -3, 3, (2, 2, 2, 3), s32)
    return (lambda x, w: conv(x, w, (1, 1), "SAME", ("NHWC", "HWIO", "NHWC"))), [x, w]


# --------------------------------------------------------------- control flow


@jax.jit
def _inner_scale(x, s):
    return x * s + f32(1.0)


@jax.jit
def _inner_outer(x):
    return jnp.sin(_inner_scale(x, f32(2.0))), jnp.sum(x)


@case("call_nested_jit", atol=1e-5, rtol=1e-4, why=TRANSC + " (sine)")
def _(r):
    x = normal(r, (2, 3))
    y = normal(r, (3,))
    return (lambda x, y: (_inner_scale(x, f32(3.0)) + _inner_scale(y, f32(-1.0)),
                          *_inner_outer(x), *_inner_outer(y))), [x, y]


@case("while_fori", atol=1e-5, rtol=1e-5)
def _(r):
    x = normal(r, (4,))
    n = arr(5, s32)

    def f(x, n):
        def body(i, c):
            v, acc = c
            return v * f32(0.5) + jnp.roll(v, 1), acc + i.astype(s32) * n
        return lax.fori_loop(0, 7, body, (x, s32(0)))
    return f, [x, n]


@case("while_dynamic")
def _(r):
    n = arr(27, s64)
    x = normal(r, (3,))
    lim = arr(100.0, f32)

    def f(n, x, lim):
        def collatz(c):
            v, k = c
            return jnp.where(v % 2 == 0, v // 2, 3 * v + 1), k + s32(1)
        _, steps = lax.while_loop(lambda c: c[0] != 1, collatz, (n, s32(0)))
        y, k = lax.while_loop(lambda c: jnp.max(jnp.abs(c[0])) < lim,
                              lambda c: (c[0] * f32(3.0) + f32(0.5), c[1] + s32(1)),
                              (x, s32(0)))
        return steps, y, k
    return f, [n, x, lim]


@case("cond_pred", atol=1e-5, rtol=1e-4, why=TRANSC + " (sine, exp in a branch)")
def _(r):
    t = np.array(True)
    fl = np.array(False)
    x = normal(r, (3,))
    y = ints(r, 0, 9, (2,), s32)

    def f(t, fl, x, y):
        a = lax.cond(t, lambda x, y: jnp.sin(x) * y[0], lambda x, y: jnp.exp(x) + y[1], x, y)
        b = lax.cond(fl, lambda x, y: (x * 2, y + 1), lambda x, y: (x - 1, y * 3), x, y)
        return a, *b
    return f, [t, fl, x, y]


@case("switch_3", atol=1e-5, rtol=1e-4, why=TRANSC + " (tanh, cos in branches)")
def _(r):
    i0 = arr(1, s32)
    i1 = arr(7, s32)     # out of range: lax.switch clamps it to the last branch
    i2 = arr(0, s32)
    x = normal(r, (2, 2))
    branches = [lambda x: jnp.tanh(x), lambda x: x @ x, lambda x: jnp.cos(x) - x.T]
    return (lambda i0, i1, i2, x: (lax.switch(i0, branches, x), lax.switch(i1, branches, x),
                                   lax.switch(i2, branches, x))), [i0, i1, i2, x]


# ------------------------------------------------------------ model-like cases

MODEL = "small model: dots plus transcendentals (exp/tanh/erf) in f32"


@case("mlp_softmax", atol=1e-5, rtol=1e-4, why=MODEL)
def _(r):
    x = normal(r, (4, 8))
    w1 = normal(r, (8, 16), scale=0.3)
    b1 = normal(r, (16,), scale=0.1)
    w2 = normal(r, (16, 3), scale=0.3)
    b2 = normal(r, (3,), scale=0.1)
    return (lambda x, w1, b1, w2, b2: jax.nn.softmax(jax.nn.relu(x @ w1 + b1) @ w2 + b2,
                                                      axis=-1)), [x, w1, b1, w2, b2]


@case("layer_norm", atol=1e-5, rtol=1e-4, why="layer norm: rsqrt and mean/variance reductions in f32")
def _(r):
    x = normal(r, (3, 7), scale=2.0) + f32(1.0)
    g = uniform(r, 0.5, 1.5, (7,))
    b = normal(r, (7,), scale=0.1)

    def f(x, g, b):
        m = jnp.mean(x, axis=-1, keepdims=True)
        v = jnp.mean(jnp.square(x - m), axis=-1, keepdims=True)
        return (x - m) * lax.rsqrt(v + f32(1e-5)) * g + b
    return f, [x, g, b]


@case("gelu_erf", atol=1e-5, rtol=1e-4, why=TRANSC + " (erf)")
def _(r):
    x = normal(r, (3, 5), scale=2.0)
    return (lambda x: jax.nn.gelu(x, approximate=False)), [x]


@case("gelu_tanh", atol=1e-5, rtol=1e-4, why=TRANSC + " (tanh)")
def _(r):
    x = normal(r, (3, 5), scale=2.0)
    return (lambda x: jax.nn.gelu(x, approximate=True)), [x]


@case("attention_tiny", atol=1e-5, rtol=1e-4, why=MODEL)
def _(r):
    q = normal(r, (2, 4, 8))
    k = normal(r, (2, 5, 8))
    v = normal(r, (2, 5, 8))
    mask = r.random((4, 5)) < 0.8
    mask[:, 0] = True

    def f(q, k, v, mask):
        s = jnp.einsum("bqd,bkd->bqk", q, k) / jnp.sqrt(f32(8.0))
        s = jnp.where(mask, s, f32(-1e9))
        return jnp.einsum("bqk,bkd->bqd", jax.nn.softmax(s, axis=-1), v)
    return f, [q, k, v, mask]


@case("small_convnet", atol=1e-4, rtol=1e-4, why=CONV + "; plus log_softmax")
def _(r):
    x = normal(r, (2, 8, 8, 1))
    w1 = normal(r, (3, 3, 1, 4), scale=0.5)
    b1 = normal(r, (4,), scale=0.1)
    w2 = normal(r, (64, 3), scale=0.2)
    b2 = normal(r, (3,), scale=0.1)

    def f(x, w1, b1, w2, b2):
        h = jax.nn.relu(conv(x, w1, (1, 1), "SAME", ("NHWC", "HWIO", "NHWC")) + b1)
        h = lax.reduce_window(h, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
        h = h.reshape(h.shape[0], -1)
        return jax.nn.log_softmax(h @ w2 + b2, axis=-1)
    return f, [x, w1, b1, w2, b2]


@case("threefry_uniform")
def _(r):
    key = arr([0, 42], u32)
    x = normal(r, (2, 3))

    def f(key, x):
        k1, k2 = jax.random.split(key)
        return (jax.random.uniform(k1, (2, 3), f32) + x, jax.random.bits(k2, (4,), u32))
    return f, [key, x]


# ------------------------------------------------------------ random numbers
# jax.random with each key implementation: threefry (plain HLO: shifts, adds
# and xors), rbg and unsafe_rbg (rng-bit-generator with XLA's default
# algorithm), and lax.rng_bit_generator naming Philox and ThreeFry.  Keys
# are inputs: jax.random's key data (u32), rng_bit_generator's state (u64[2],
# or u32[4], which JAX reads as u64[2]).


@case("random_threefry")
def _(r):
    key = arr([7, 2026], u32)

    def f(key):
        k = jax.random.wrap_key_data(key, impl="threefry2x32")
        return jax.random.normal(k, (5,), f32), jax.random.bits(k, (3,), u64)
    return f, [key]


@case("random_rbg")
def _(r):
    key = arr([1, 2, 3, 2026], u32)

    def f(key):
        k = jax.random.wrap_key_data(key, impl="rbg")
        return jax.random.uniform(k, (3, 4), f32), jax.random.bits(k, (6,), u32)
    return f, [key]


@case("random_unsafe_rbg")
def _(r):
    key = arr([9, 8, 7, 6], u32)

    def f(key):
        k = jax.random.wrap_key_data(key, impl="unsafe_rbg")
        return jax.random.uniform(k, (8,), f32)
    return f, [key]


@case("rng_bit_generator_philox")
def _(r):
    key = arr([0x0123456789ABCDEF, 42], u64)
    key4 = arr([1, 2, 3, 4], u32)

    def f(key, key4):
        alg = lax.RandomAlgorithm.RNG_PHILOX
        s1, b1 = lax.rng_bit_generator(key, (3, 5), dtype=u32, algorithm=alg)
        s2, b2 = lax.rng_bit_generator(key4, (7,), dtype=u64, algorithm=alg)
        return s1, b1, s2, b2
    return f, [key, key4]


@case("rng_bit_generator_u8")
def _(r):
    # Bits narrower than 32: XLA draws 32-bit words and splits them into bytes.
    key = arr([5, 6], u64)
    return (lambda key: lax.rng_bit_generator(key, (2, 5), dtype=u8,
                                              algorithm=lax.RandomAlgorithm.RNG_PHILOX)), [key]


@case("rng_bit_generator_threefry")
def _(r):
    key = arr([0xFEDCBA9876543210, 7], u64)

    def f(key):
        return lax.rng_bit_generator(key, (5,), dtype=u64,
                                     algorithm=lax.RandomAlgorithm.RNG_THREE_FRY)
    return f, [key]


# ------------------------------------------------------ top_k, sort, map


@case("top_k")
def _(r):
    x = normal(r, (3, 10))
    x[1, 4] = x[1, 7]          # a tie: the lower index comes first
    n = ints(r, -50, 50, (12,), s32)
    return (lambda x, n: (*lax.top_k(x, 3), *lax.top_k(n, 5))), [x, n]


def hashed_f32(seed, n):
    """n f32 values in about (-2^31, 2^31) from an integer hash of iota and
    a seed, computed in the graph so that the large sorts need no large
    input files."""
    i = lax.iota(u32, n) * u32(0x9E3779B1) + seed
    i = (i ^ (i >> u32(15))) * u32(0x85EBCA6B)
    i = i ^ (i >> u32(13))
    return lax.bitcast_convert_type(i, s32).astype(f32)


@case("sort_large_f32")
def _(r):
    seed = arr(12345, u32)

    def f(seed):
        s = jnp.sort(hashed_f32(seed, 65536))
        # Every 64th element, and how many neighbours are out of order.
        return s[::64], jnp.sum(s[1:] < s[:-1]).astype(s32)
    return f, [seed]


@case("sort_large_key_value")
def _(r):
    seed = arr(777, u32)

    def f(seed):
        keys = hashed_f32(seed, 65536)
        k, v = lax.sort((keys, lax.iota(s32, 65536)), num_keys=1)
        return k[::64], v[::64], jnp.sum(k[1:] < k[:-1]).astype(s32)
    return f, [seed]


@case("lax_map", atol=1e-5, rtol=1e-4, why=TRANSC + " (sine)")
def _(r):
    x = normal(r, (5, 6))

    def f(x):
        return lax.map(lambda row: jnp.sin(row) * jnp.max(row) + jnp.sum(row), x)
    return f, [x]


# ----------------------------------------------------------------- fft
FFT = ("f32 FFT: XLA:CPU's DUCC and other FFT algorithms round differently; "
       "JAX's results differ from an f64 FFT by up to 2e-6 here")


@case("fft_c64", atol=1e-5, rtol=1e-4, why=FFT)
def _(r):
    re_, im = normal(r, (4, 16)), normal(r, (4, 16))

    def f(re_, im):
        z = lax.complex(re_, im)
        a, b = jnp.fft.fft(z), jnp.fft.ifft(z)
        c = jnp.fft.fft(z, axis=0)
        return (jnp.real(a), jnp.imag(a), jnp.real(b), jnp.imag(b), jnp.real(c), jnp.imag(c))
    return f, [re_, im]


@case("rfft_irfft", atol=1e-5, rtol=1e-4, why=FFT)
def _(r):
    x = normal(r, (3, 32))
    hre, him = normal(r, (3, 17)), normal(r, (3, 17))

    def f(x, hre, him):
        h = jnp.fft.rfft(x)
        return jnp.real(h), jnp.imag(h), jnp.fft.irfft(lax.complex(hre, him), n=32)
    return f, [x, hre, him]


@case("fft2_c64", atol=1e-5, rtol=1e-4, why=FFT)
def _(r):
    re_, im = normal(r, (8, 8)), normal(r, (8, 8))

    def f(re_, im):
        a = jnp.fft.fft2(lax.complex(re_, im))
        return jnp.real(a), jnp.imag(a)
    return f, [re_, im]


# --------------------------------------------- cholesky, triangular solve
# On CPU, JAX lowers jnp.linalg.cholesky and solve_triangular to LAPACK
# custom-calls (lapack_spotrf_ffi, lapack_strsm_ffi); the *_op cases reach
# XLA's `cholesky` and `triangular-solve` opcodes through primitives that
# lower to the StableHLO op, which is what JAX emits for other platforms.
hlo_cholesky_p = Primitive("hlo_cholesky")
hlo_cholesky_p.def_abstract_eval(lambda x: jax.core.ShapedArray(x.shape, x.dtype))
mlir.register_lowering(hlo_cholesky_p,
                       lambda ctx, x: [shlo.cholesky(x, lower=ir.BoolAttr.get(True))])

hlo_trsm_p = Primitive("hlo_triangular_solve")
hlo_trsm_p.def_abstract_eval(
    lambda a, b, **kw: jax.core.ShapedArray(b.shape, b.dtype))


def _trsm_lower(ctx, a, b, *, left_side, lower, unit_diagonal, transpose):
    return [shlo.triangular_solve(a, b, ir.BoolAttr.get(left_side), ir.BoolAttr.get(lower),
                                  ir.BoolAttr.get(unit_diagonal),
                                  shlo.TransposeAttr.get(transpose))]


mlir.register_lowering(hlo_trsm_p, _trsm_lower)


def spd(r, n, batch=()):
    m = normal(r, batch + (n, n))
    return (m @ np.swapaxes(m, -1, -2) / n + np.eye(n, dtype=f32) * 2).astype(f32)


def tril(r, n, batch=()):
    m = normal(r, batch + (n, n), scale=0.3)
    return (np.tril(m, -1) + np.eye(n, dtype=f32) * uniform(r, 1.0, 2.0, batch + (n,))[..., None]
            ).astype(f32)


@case("cholesky_lapack")
def _(r):
    return (lambda a: jnp.linalg.cholesky(a)), [spd(r, 6)]


@case("solve_triangular_lapack")
def _(r):
    import jax.scipy.linalg as jsl
    a, b = tril(r, 5), normal(r, (5, 3))
    return (lambda a, b: (jsl.solve_triangular(a, b, lower=True),
                          jsl.solve_triangular(a, b, lower=True, trans=1))), [a, b]


@case("cholesky_op")
def _(r):
    return (lambda a, b: (hlo_cholesky_p.bind(a), hlo_cholesky_p.bind(b))), \
        [spd(r, 6), spd(r, 4, (2,))]


@case("triangular_solve_op")
def _(r):
    a, b, c = tril(r, 5), normal(r, (5, 3)), normal(r, (2, 5))

    def f(a, b, c):
        up = jnp.swapaxes(a, 0, 1)
        return (hlo_trsm_p.bind(a, b, left_side=True, lower=True, unit_diagonal=False,
                                transpose="NO_TRANSPOSE"),
                hlo_trsm_p.bind(a, b, left_side=True, lower=True, unit_diagonal=True,
                                transpose="TRANSPOSE"),
                hlo_trsm_p.bind(up, c, left_side=False, lower=False, unit_diagonal=False,
                                transpose="NO_TRANSPOSE"))
    return f, [a, b, c]


# ------------------------------------------------ quantized matmuls
# Narrow weights as a quantized model carries them: int4 values arrive as
# s8/u8 inputs converted in the graph (a constant's conversion would be
# folded by JAX before lowering; npy has no int4), f8 weights as constants
# the dot takes as they are.  A product of two narrow values is exact in
# f32, so with them only the order of the accumulation differs.


@case("quant_int4_matmul")
def _(r):
    x = normal(r, (4, 32))
    w = ints(r, -8, 8, (32, 8), s8)
    wu = (w + 8).astype(u8)
    scale = uniform(r, 0.01, 0.1, (8,))

    def f(x, w, wu, scale):
        wq = w.astype(jnp.int4)
        y = jnp.dot(x, wq.astype(f32)) * scale
        # int8 activations, int4 weights widened to int8 (XLA:CPU has no
        # dot of int4 operands), s32 accumulation
        xq = jnp.clip(jnp.round(x * 20), -127, 127).astype(s8)
        yi = lax.dot(xq, wq.astype(s8), preferred_element_type=s32)
        z = jnp.dot(x, (wu.astype(jnp.uint4).astype(s32) - 8).astype(f32))
        return y, yi, z
    return f, [x, w, wu, scale]


@case("quant_fp8_matmul")
def _(r):
    x = normal(r, (4, 32))
    w = normal(r, (32, 8), scale=0.5)
    w8 = jnp.asarray(w).astype(jnp.float8_e4m3fn)
    w5 = jnp.asarray(w).astype(jnp.float8_e5m2)

    def f(x):
        y = jnp.dot(x, w8.astype(f32))
        x8 = x.astype(jnp.float8_e4m3fn)
        y8 = lax.dot(x8, w8, preferred_element_type=f32)
        y5 = lax.dot(x.astype(jnp.float8_e5m2), w5, preferred_element_type=f32)
        return y, y8, y5, x8.astype(f32)
    return f, [x]


# ---------------------------------------------------------------------- misc


@case("scalar_f64", atol=1e-12, rtol=1e-12, why=TRANSC + " (sine, log in f64)")
def _(r):
    a = arr(1.75, f64)
    b = arr(-0.3, f64)
    return (lambda a, b: a * b + jnp.sin(a) / b - jnp.log(a)), [a, b]


@case("tuple_mixed_dtypes", atol=1e-5, rtol=1e-5)
def _(r):
    x = normal(r, (2, 3))
    n = ints(r, -10, 10, (3,), s64)
    u = ints(r, 0, 256, (2,), u8)
    return (lambda x, n, u: (
        x * f32(2.0), jnp.sum(n), n > 0, u + u8(1), x[0, :2].astype(f16),
        jnp.sum(x).astype(f64), u.astype(u32) * u32(3), n.astype(s8))), [x, n, u]


@case("odd_shapes")
def _(r):
    a = normal(r, (7,))
    b = normal(r, (3, 5))
    c = normal(r, (5, 1))
    d = normal(r, (1, 7))
    return (lambda a, b, c, d: (a + d[0], jnp.sum(b, axis=0) * b, c + d,
                                b.reshape(5, 3).T, jnp.tile(a[:2], 3))), [a, b, c, d]


# ============================================================================
# Hand-written HLO cases: opcodes / syntax JAX cannot emit.
# `ref(*inputs)` computes the expected outputs with numpy.
# ============================================================================
HAND = []   # (name, text, builder -> (inputs, ref) or None for parse-only, atol, rtol, why)


def hand(name, atol=None, rtol=None, why=None, parse_only=False):
    def deco(builder):
        HAND.append((name, builder, atol, rtol, why, parse_only))
        return builder
    return deco


@hand("hand_copy")
def _(r):
    # copy with a layout change (logical values unchanged), operands written in
    # the long form with their shapes, and a scalar copy.
    text = """\
HloModule hand_copy, entry_computation_layout={(f32[2,3]{1,0}, s32[])->(f32[2,3]{0,1}, f32[2,3]{1,0}, s32[])}

ENTRY %main (p0: f32[2,3], p1: s32[]) -> (f32[2,3], f32[2,3], s32[]) {
  %p0 = f32[2,3]{1,0} parameter(0)
  %p1 = s32[] parameter(1)
  %copy.0 = f32[2,3]{0,1} copy(f32[2,3]{1,0} %p0)
  %copy.1 = f32[2,3]{1,0} copy(f32[2,3]{0,1} %copy.0)
  %neg = f32[2,3]{1,0} negate(f32[2,3]{1,0} %copy.1)
  %copy.2 = s32[] copy(s32[] %p1)
  ROOT %t = (f32[2,3]{0,1}, f32[2,3]{1,0}, s32[]) tuple(f32[2,3]{0,1} %copy.0, f32[2,3]{1,0} %neg, s32[] %copy.2)
}
"""
    x = normal(r, (2, 3))
    k = arr(-17, s32)
    return text, [x, k], (lambda x, k: (x.copy(), -x, k.copy()))


@hand("hand_bitcast")
def _(r):
    # bitcast = reinterpretation of the buffer with the same physical layout;
    # with these (default, row-major) layouts it equals a row-major reshape.
    text = """\
HloModule hand_bitcast, entry_computation_layout={(f32[2,3,4]{2,1,0})->(f32[6,4]{1,0}, f32[24]{0}, f32[2,12]{1,0})}

ENTRY %main.5 (Arg_0.1: f32[2,3,4]) -> (f32[6,4], f32[24], f32[2,12]) {
  %Arg_0.1 = f32[2,3,4]{2,1,0} parameter(0)
  %bitcast.1 = f32[6,4]{1,0} bitcast(%Arg_0.1)
  %bitcast.2 = f32[24]{0} bitcast(%bitcast.1)
  %constant.1 = f32[] constant(0.5)
  %broadcast.1 = f32[24]{0} broadcast(%constant.1), dimensions={}
  %add.1 = f32[24]{0} add(%bitcast.2, %broadcast.1)
  %bitcast.3 = f32[2,12]{1,0} bitcast(%add.1)
  ROOT %tuple.1 = (f32[6,4]{1,0}, f32[24]{0}, f32[2,12]{1,0}) tuple(%bitcast.1, %bitcast.2, %bitcast.3)
}
"""
    x = normal(r, (2, 3, 4))
    return text, [x], (lambda x: (x.reshape(6, 4), x.reshape(24),
                                  (x.reshape(24) + f32(0.5)).reshape(2, 12)))


@hand("hand_batch_norm_inference", atol=1e-5, rtol=1e-5)
def _(r):
    # out = (x - mean) / sqrt(var + epsilon) * scale + offset, per feature
    # (feature_index=3); numpy reference computed in f64, then cast to f32.
    text = """\
HloModule hand_batch_norm_inference, entry_computation_layout={(f32[2,2,3,4]{3,2,1,0}, f32[4]{0}, f32[4]{0}, f32[4]{0}, f32[4]{0})->f32[2,2,3,4]{3,2,1,0}}

ENTRY %main (operand: f32[2,2,3,4], scale: f32[4], offset: f32[4], mean: f32[4], variance: f32[4]) -> f32[2,2,3,4] {
  %operand = f32[2,2,3,4]{3,2,1,0} parameter(0)
  %scale = f32[4]{0} parameter(1)
  %offset = f32[4]{0} parameter(2)
  %mean = f32[4]{0} parameter(3)
  %variance = f32[4]{0} parameter(4)
  ROOT %batch-norm-inference = f32[2,2,3,4]{3,2,1,0} batch-norm-inference(%operand, %scale, %offset, %mean, %variance), epsilon=0.001, feature_index=3
}
"""
    x = normal(r, (2, 2, 3, 4))
    s = uniform(r, 0.5, 1.5, (4,))
    o = normal(r, (4,))
    m = normal(r, (4,))
    v = uniform(r, 0.1, 2.0, (4,))

    def ref(x, s, o, m, v):
        d = lambda a: a.astype(f64)  # noqa: E731
        return ((d(x) - d(m)) / np.sqrt(d(v) + d(f32(0.001))) * d(s) + d(o)).astype(f32)
    return text, [x, s, o, m, v], ref


@hand("hand_conditional_pred", atol=1e-6, rtol=1e-6)
def _(r):
    # The pred form of conditional (true_computation/false_computation), which
    # JAX never emits (lax.cond converts the pred to an s32 branch index).
    text = """\
HloModule hand_conditional_pred, entry_computation_layout={(pred[], pred[], f32[3]{0})->(f32[3]{0}, f32[3]{0})}

%on_true (x: f32[3]) -> f32[3] {
  %x = f32[3]{0} parameter(0)
  ROOT %m = f32[3]{0} multiply(%x, %x)
}

%on_false (y: f32[3]) -> f32[3] {
  %y = f32[3]{0} parameter(0)
  ROOT %n = f32[3]{0} negate(%y)
}

ENTRY %main (p: pred[], q: pred[], a: f32[3]) -> (f32[3], f32[3]) {
  %p = pred[] parameter(0)
  %q = pred[] parameter(1)
  %a = f32[3]{0} parameter(2)
  %c0 = f32[3]{0} conditional(%p, %a, %a), true_computation=%on_true, false_computation=%on_false
  %c1 = f32[3]{0} conditional(%q, %a, %a), true_computation=%on_true, false_computation=%on_false
  ROOT %t = (f32[3]{0}, f32[3]{0}) tuple(%c0, %c1)
}
"""
    a = normal(r, (3,))
    return text, [np.array(True), np.array(False), a], \
        (lambda p, q, a: (a * a if p else -a, a * a if q else -a))


@hand("hand_custom_call", parse_only=True)
def _(r):
    # Parse/round-trip only: a custom-call has no semantics the evaluator knows.
    text = """\
HloModule hand_custom_call, entry_computation_layout={(f32[4]{0}, s32[])->(f32[4]{0}, s32[])}

ENTRY %main (p0: f32[4], p1: s32[]) -> (f32[4], s32[]) {
  %p0 = f32[4]{0} parameter(0)
  %p1 = s32[] parameter(1)
  %cc.0 = (f32[4]{0}, s32[]) custom-call(%p0, %p1), custom_call_target="some_target", api_version=API_VERSION_STATUS_RETURNING, backend_config="opaque \\"quoted\\" bytes"
  %cc.1 = f32[4]{0} custom-call(%p0), custom_call_target="some_target", custom_call_has_side_effect=true, operand_layout_constraints={f32[4]{0}}, api_version=API_VERSION_TYPED_FFI, backend_config={attr_a = 1 : i32, attr_b = 2.5 : f32}
  %gte.0 = f32[4]{0} get-tuple-element(%cc.0), index=0
  %gte.1 = s32[] get-tuple-element(%cc.0), index=1
  %add.0 = f32[4]{0} add(%gte.0, %cc.1)
  ROOT %t = (f32[4]{0}, s32[]) tuple(%add.0, %gte.1)
}
"""
    return text, None, None


# ============================================================================
# Driver
# ============================================================================

def entry_block(text):
    lines = text.splitlines()
    for i, l in enumerate(lines):
        if l.startswith("ENTRY "):
            out = []
            for l2 in lines[i + 1:]:
                if l2.startswith("}"):
                    return out
                out.append(l2)
    raise RuntimeError("no ENTRY computation")


SHAPE_TYPES = {
    np.dtype(b1): "pred", np.dtype(s8): "s8", np.dtype(s16): "s16", np.dtype(s32): "s32",
    np.dtype(s64): "s64", np.dtype(u8): "u8", np.dtype(u16): "u16", np.dtype(u32): "u32",
    np.dtype(u64): "u64", np.dtype(f16): "f16", np.dtype(f32): "f32", np.dtype(f64): "f64",
}


def shape_str(a):
    return "%s[%s]" % (SHAPE_TYPES[a.dtype], ",".join(str(d) for d in a.shape))


def check_params(name, which, text, inputs):
    params = {}
    for l in entry_block(text):
        m = re.match(r"\s*(?:ROOT\s+)?%?[\w.\-]+\s*=\s*(\w+\[[\d,]*\])(?:\{[^}]*\})?\s+"
                     r"parameter\((\d+)\)", l)
        if m:
            k = int(m.group(2))
            if k in params:
                raise RuntimeError(f"{name}: {which}: parameter({k}) twice")
            params[k] = m.group(1)
    want = [shape_str(a) for a in inputs]
    got = [params.get(k) for k in range(len(params))]
    if got != want:
        raise RuntimeError(f"{name}: {which}: ENTRY parameters {got} != inputs {want}")


def split_top(s):
    """Split a tuple shape's body at top-level commas."""
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def check_result(name, which, text, outputs):
    m = re.search(r"entry_computation_layout=\{\((.*)\)->(.*)\}", text.splitlines()[0])
    if not m:
        raise RuntimeError(f"{name}: {which}: no entry_computation_layout")
    res = m.group(2)
    res = re.sub(r"/\*index=\d+\*/", "", res)
    if res.startswith("("):
        parts = split_top(res[1:res.rindex(")")])
    else:
        parts = [res.split("}, allow")[0]]
    got = [re.sub(r"\{[^}]*\}$", "", p) for p in parts]
    want = [shape_str(a) for a in outputs]
    if got != want:
        raise RuntimeError(f"{name}: {which}: ENTRY result {got} != outputs {want}")


def save_npy(path, a):
    a = np.asarray(a)
    if a.dtype not in SHAPE_TYPES:
        raise RuntimeError(f"{path}: unsupported dtype {a.dtype}")
    # copy(order="C") keeps 0-d arrays 0-d (np.ascontiguousarray makes them 1-d)
    a = a.astype(a.dtype.newbyteorder("<"), copy=False).copy(order="C")
    np.save(path, a, allow_pickle=False)


def opt_text(compiled):
    """compiled.as_text(), but with large constants printed in full: lines with
    an elided `constant({...})` are taken from HloModule.to_string() with
    print_large_constants (the rest of that printout may differ, e.g. in the
    key order of JSON backend_configs, so only those lines are replaced)."""
    t = compiled.as_text()
    if "{...}" not in t:
        return t
    opts = xla_hlo.HloPrintOptions()
    opts.print_large_constants = True
    full = compiled.runtime_executable().hlo_modules()[0].to_string(opts)
    tl, fl = t.split("\n"), full.split("\n")
    if len(tl) != len(fl):
        raise RuntimeError("as_text() and HloModule.to_string() differ in length")
    for i, l in enumerate(tl):
        if "{...}" in l:
            if l.split(" = ")[0] != fl[i].split(" = ")[0]:
                raise RuntimeError("cannot match elided constant line: " + l)
            tl[i] = fl[i]
    return "\n".join(tl)


def default_tol(outputs):
    if all(np.issubdtype(o.dtype, np.integer) or o.dtype == b1 for o in outputs):
        return 0.0, 0.0
    if any(o.dtype == f16 for o in outputs):
        raise RuntimeError("f16 outputs need an explicit tolerance")
    return 1e-5, 1e-5


OPC_RE = re.compile(r"(?:^|\s)([a-z][a-z0-9\-]*)\(")


def opcodes(text):
    """Opcodes of all instructions in an HLO module text."""
    ops = set()
    for l in text.splitlines():
        if " = " not in l:
            continue
        lhs, rhs = l.split(" = ", 1)
        if not re.match(r"\s+(ROOT\s+)?%?[\w.\-]+$", lhs):
            continue
        m = OPC_RE.search(rhs)
        if m:
            ops.add(m.group(1))
    return ops


def fmt_tol(x):
    return "0" if x == 0 else "%g" % x


def run_hand_xla(text, inputs):
    """Compile and run a hand-written module on XLA:CPU (cross-check only)."""
    from jax._src.lib import _jax, xla_client as xc
    # The HLO -> StableHLO import used here cannot take `bitcast`; in these
    # modules (row-major layouts) a bitcast is exactly a reshape.
    m = xla_hlo.hlo_module_from_text(text.replace(" bitcast(", " reshape("))
    mod = _jax.mlir.hlo_to_stablehlo(m.as_serialized_hlo_module_proto())
    dev = jax.devices("cpu")[0]
    exe = dev.client.compile_and_load(mod, xc.DeviceList((dev,)), xc.CompileOptions())
    res = exe.execute([jax.device_put(a, dev) for a in inputs])
    return [np.asarray(x) for x in res]


def close(a, b, atol, rtol):
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if not np.issubdtype(a.dtype, np.floating):
        return np.array_equal(a, b)
    return np.allclose(a.astype(f64), b.astype(f64), atol=atol, rtol=rtol, equal_nan=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", nargs="*", help="generate only these cases (no cleanup,"
                    " MANIFEST not rewritten)")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()
    if args.list:
        for c in CASES:
            print(c[0])
        for h in HAND:
            print(h[0])
        return
    os.makedirs(OUTDIR, exist_ok=True)
    only = set(args.only or [])
    if not only:
        for fn in os.listdir(OUTDIR):
            if fn.endswith((".hlo", ".npy")) or fn == "MANIFEST":
                os.remove(os.path.join(OUTDIR, fn))

    manifest = [
        "# HLO test corpus generated by scripts/gen_hlo_corpus.py (JAX %s, jaxlib %s, XLA:CPU)."
        % (jax.__version__, jaxlib.__version__),
        "# One line per case: NAME NIN NOUT ATOL RTOL",
        "#   NAME.hlo (unoptimized), NAME.opt.hlo (XLA:CPU optimized; not for hand_* cases),",
        "#   NAME.in<K>.npy for K < NIN (ENTRY parameter order), NAME.out<K>.npy for K < NOUT",
        "#   (flattened result tuple; a non-tuple result is out0).",
        "# Floating outputs match when |got - want| <= ATOL + RTOL*|want| (NaN matches NaN,",
        "# infinities must be equal); integer and pred outputs are meant to match exactly.",
        "# NIN/NOUT of '-' means parse-only (no inputs/outputs, not evaluated).",
        "# A '#' line right above a case justifies a tolerance wider than the defaults",
        "# (f32/f64: 1e-5 1e-5; integer/pred: 0 0).",
    ]
    unopt_ops, opt_ops = {}, {}

    for name, builder, atol, rtol, why in CASES:
        if only and name not in only:
            continue
        rng = np.random.default_rng(zlib.crc32(name.encode()))
        fn, inputs = builder(rng)
        inputs = [np.asarray(a) for a in inputs]
        for a in inputs:
            assert a.dtype in SHAPE_TYPES, (name, a.dtype)
        lowered = jax.jit(fn).lower(*inputs)
        text = lowered.compiler_ir("hlo").as_hlo_text(print_large_constants=True)
        compiled = lowered.compile()
        otext = opt_text(compiled)
        outs = compiled(*inputs)
        outs = [np.asarray(o) for o in jax.tree_util.tree_leaves(outs)]
        ref = jax.jit(fn)(*inputs)
        for o, o2 in zip(outs, jax.tree_util.tree_leaves(ref)):
            assert close(o, np.asarray(o2), 0, 0), name
        for which, t in (("hlo", text), ("opt.hlo", otext)):
            if "{...}" in t:
                raise RuntimeError(f"{name}.{which}: elided constant")
            check_params(name, which, t, inputs)
            check_result(name, which, t, outs)
            xla_hlo.hlo_module_from_text(t)   # must be accepted by XLA's parser
        if atol is None:
            atol, rtol = default_tol(outs)
        with open(os.path.join(OUTDIR, name + ".hlo"), "w") as f:
            f.write(text)
        with open(os.path.join(OUTDIR, name + ".opt.hlo"), "w") as f:
            f.write(otext)
        for k, a in enumerate(inputs):
            save_npy(os.path.join(OUTDIR, f"{name}.in{k}.npy"), a)
        for k, a in enumerate(outs):
            save_npy(os.path.join(OUTDIR, f"{name}.out{k}.npy"), a)
        if why:
            manifest.append("# " + why)
        manifest.append(f"{name} {len(inputs)} {len(outs)} {fmt_tol(atol)} {fmt_tol(rtol)}")
        unopt_ops[name] = opcodes(text)
        opt_ops[name] = opcodes(otext)
        print(f"{name}: {len(inputs)} in, {len(outs)} out", file=sys.stderr)

    for name, builder, atol, rtol, why, parse_only in HAND:
        if only and name not in only:
            continue
        rng = np.random.default_rng(zlib.crc32(name.encode()))
        text, inputs, ref = builder(rng)
        xla_hlo.hlo_module_from_text(text)   # must parse with XLA's parser
        with open(os.path.join(OUTDIR, name + ".hlo"), "w") as f:
            f.write(text)
        unopt_ops[name] = opcodes(text)
        if parse_only:
            if why:
                manifest.append("# " + why)
            manifest.append(f"{name} - - 0 0")
            continue
        inputs = [np.asarray(a) for a in inputs]
        outs = ref(*inputs)
        outs = [np.asarray(o) for o in (outs if isinstance(outs, tuple) else (outs,))]
        check_params(name, "hlo", text, inputs)
        check_result(name, "hlo", text, outs)
        if atol is None:
            atol, rtol = default_tol(outs)
        xouts = run_hand_xla(text, inputs)
        if len(xouts) != len(outs) or not all(
                close(a, b, atol, rtol) for a, b in zip(outs, xouts)):
            raise RuntimeError(f"{name}: numpy reference disagrees with XLA: {outs} vs {xouts}")
        for k, a in enumerate(inputs):
            save_npy(os.path.join(OUTDIR, f"{name}.in{k}.npy"), a)
        for k, a in enumerate(outs):
            save_npy(os.path.join(OUTDIR, f"{name}.out{k}.npy"), a)
        if why:
            manifest.append("# " + why)
        manifest.append(f"{name} {len(inputs)} {len(outs)} {fmt_tol(atol)} {fmt_tol(rtol)}")
        print(f"{name}: {len(inputs)} in, {len(outs)} out (hand)", file=sys.stderr)

    if not only:
        with open(os.path.join(OUTDIR, "MANIFEST"), "w") as f:
            f.write("\n".join(manifest) + "\n")
        seen = set().union(*unopt_ops.values())
        missing = [o for o in REQUIRED_OPCODES if o not in seen]
        if missing:
            print("WARNING: required opcodes missing from unoptimized modules: "
                  + " ".join(missing), file=sys.stderr)
        extra = (seen | set().union(*opt_ops.values())) - set(REQUIRED_OPCODES)
        print("opcodes outside the required list: " + " ".join(sorted(extra)),
              file=sys.stderr)
        print(f"{len(CASES)} JAX cases + {len(HAND)} hand cases", file=sys.stderr)


if __name__ == "__main__":
    main()
