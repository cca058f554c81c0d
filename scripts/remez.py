#!/usr/bin/env python3
"""Minimax polynomial coefficients for codegen/math.c.

    python3 scripts/remez.py [NAME...]   # prints the tables of math.c

Needs mpmath (Debian: python3-mpmath; PyPI: mpmath).  Each approximation
of math.c is a polynomial p in one variable v on an interval, used inside a
fixed form (for example exp's e^r = 1 + r + r^2 p(r)); the fit minimizes
the largest *weighted* error max |w(v) (p(v) - g(v))| where g is what the
form needs p to be and w turns p's error into the relative error of the
function's result.  The classical Remez exchange does it: solve for the
polynomial whose weighted error alternates in sign with equal magnitude E
on n+2 reference points, move the references to the extrema of the new
error curve (found on a dense Chebyshev grid, then refined by a
golden-section search), repeat until the extrema are level (or 40 rounds:
E is then only a lower bound, and the measured error below is what counts).

Everything runs at 40 significant digits.  The coefficients are then
rounded to the precision math.c evaluates them in (binary32 or binary64)
and the script reports the weighted error of the rounded polynomial on a
uniform grid: that, not E, is the figure math.c quotes next to each table.
The printed tables are pasted into math.c as they are.
"""
import struct
import sys

import mpmath as mp

mp.mp.dps = 40


def to_f32(x):
    return struct.unpack("<f", struct.pack("<f", float(x)))[0]


def c_hex(x):
    """C hexadecimal literal of a double (exact), trailing zeros dropped."""
    mant, exp = float.hex(x).split("p")
    mant = mant.rstrip("0")
    return (mant + "0" if mant.endswith(".") else mant) + "p" + exp


def remez(g, w, a, b, powers, iters=40):
    """Weighted minimax p(v) = sum c_k v^powers[k] on [a, b]."""
    n = len(powers)
    # Only the weight's magnitude counts: a sign change of w (at v = 0 for
    # relative errors of odd functions) is no alternation of the error.
    w0 = w
    w = lambda v: abs(w0(v))
    grid = [a + (b - a) * (1 - mp.cos(mp.pi * i / 2000)) / 2
            for i in range(2001)]
    grid = [v for v in grid if w(v) != 0]
    # The first references stay clear of a and of 0: several weights vanish
    # at 0 (the relative error of r + r^3 p(r^2) is 0 at r = 0), and a
    # reference where the weight is ~0 would force p to absurd values.
    refs = [a + (b - a) * (1 - mp.cos(mp.pi * (i + 1) / (n + 2))) / 2
            for i in range(n + 2)]
    refs = [v if abs(v) > (b - a) / 1000 else v + (b - a) / 1000 for v in refs]
    coef, E = None, None
    for _ in range(iters):
        rows, rhs = [], []
        for i, v in enumerate(refs):
            wi = w(v)
            rows.append([wi * v ** p for p in powers] + [(-1) ** i])
            rhs.append(wi * g(v))
        sol = mp.lu_solve(mp.matrix(rows), mp.matrix(rhs))
        coef = [sol[k] for k in range(n)]
        E = abs(sol[n])

        def err(v):
            return w(v) * (sum(c * v ** p for c, p in zip(coef, powers)) - g(v))

        vals = [err(v) for v in grid]
        # Local extrema of the error on the grid, one per sign run.
        ext = []
        for i, v in enumerate(grid):
            if ext and mp.sign(vals[i]) == mp.sign(err(ext[-1])):
                if abs(vals[i]) > abs(err(ext[-1])):
                    ext[-1] = v
            else:
                ext.append(v)
        ext = [refine(err, grid, v) for v in ext]
        # Keep n+2 alternating extrema, dropping the smallest at the ends.
        while len(ext) > n + 2:
            if abs(err(ext[0])) < abs(err(ext[-1])):
                ext.pop(0)
            else:
                ext.pop()
        if len(ext) < n + 2:
            break
        top = max(abs(err(v)) for v in ext)
        refs = ext
        if top - E < E * mp.mpf("1e-6"):
            break
    return coef, E


def refine(err, grid, v):
    """Golden-section search for the extremum of |err| next to grid point v."""
    i = grid.index(v)
    lo = grid[max(i - 1, 0)]
    hi = grid[min(i + 1, len(grid) - 1)]
    f = lambda t: -abs(err(t))
    for _ in range(60):
        m1 = lo + (hi - lo) * mp.mpf("0.381966")
        m2 = hi - (hi - lo) * mp.mpf("0.381966")
        if f(m1) < f(m2):
            hi = m2
        else:
            lo = m1
    return (lo + hi) / 2


def rounded_error(g, w, a, b, powers, coef, rnd):
    cs = [rnd(c) for c in coef]
    worst = 0
    for i in range(5001):
        v = a + (b - a) * mp.mpf(i) / 5000
        if w(v) == 0:
            continue
        e = abs(w(v) * (sum(mp.mpf(c) * v ** p for c, p in zip(cs, powers)) - g(v)))
        worst = max(worst, e)
    return cs, worst


def series_or(f, series, v):
    """f(v), or its series near 0 where f cancels catastrophically."""
    return series(v) if abs(v) < mp.mpf("1e-12") else f(v)


def fit(name, g, w, a, b, powers, precision):
    a, b = mp.mpf(a), mp.mpf(b)
    coef, E = remez(g, w, a, b, powers)
    rnd = to_f32 if precision == "f32" else float
    cs, worst = rounded_error(g, w, a, b, powers, coef, rnd)
    if precision == "f32":
        # The leading coefficient's rounding error can dominate in binary32:
        # round it first and refit the others around it, keeping whichever
        # rounded polynomial is better.  Dividing out v^powers[1] keeps the
        # remaining basis 1, v, ... (a Haar system, as the exchange needs).
        c0 = mp.mpf(rnd(coef[0]))
        p1 = powers[1]
        rest, _ = remez(lambda v: (g(v) - c0 * v ** powers[0]) / v ** p1,
                        lambda v: w(v) * v ** p1, a, b,
                        [p - p1 for p in powers[1:]])
        cs2, worst2 = rounded_error(g, w, a, b, powers, [c0] + rest, rnd)
        if worst2 < worst:
            cs, worst = cs2, worst2
    print(f"/* {name}: powers {powers} on [{mp.nstr(a, 8)}, "
          f"{mp.nstr(b, 8)}], minimax {mp.nstr(E, 3)} "
          f"(2^{mp.nstr(mp.log(E, 2), 4)}), rounded to {precision} "
          f"{mp.nstr(worst, 3)} */")
    lits = [c_hex(c) for c in cs]
    print("{" + ", ".join(lits) + "}\n")
    return cs


def fits():
    """Every table of math.c: (name, g, w, a, b, powers, precision)."""
    ln2 = mp.log(2)
    smax = 3 - 2 * mp.sqrt(2)
    erf_mid = mp.mpf(2.4)
    return [
        # expm1(r) = r + r^2 p(r), |r| <= ln2/2, relative to expm1(r).  The
        # same p serves exp (e^r = 1 + (r + r^2 p(r))), a looser weight.
        ("expm1_f32",
         lambda r: series_or(lambda t: (mp.expm1(t) - t) / t**2,
                             lambda t: mp.mpf(1) / 2 + t / 6, r),
         lambda r: series_or(lambda t: t**2 / mp.expm1(t), lambda t: t, r),
         -ln2 / 2, ln2 / 2, [0, 1, 2, 3, 4], "f32"),
        # log1p(f) = f - f^2/2 + f^3 p(f), sqrt(1/2)-1 <= f < sqrt(2)-1.
        ("log1p_f32",
         lambda f: series_or(lambda t: (mp.log1p(t) - t + t**2 / 2) / t**3,
                             lambda t: mp.mpf(1) / 3 - t / 4, f),
         lambda f: series_or(lambda t: t**3 / mp.log1p(t), lambda t: t**2, f),
         mp.sqrt(0.5) - 1, mp.sqrt(2) - 1, list(range(8)), "f32"),
        # tanh(x) = x + x^3 p(x^2), 0 <= x <= 0.625.
        ("tanh_f32",
         lambda x: series_or(lambda t: (mp.tanh(t) - t) / t**3,
                             lambda t: -mp.mpf(1) / 3 + 2 * t**2 / 15, x),
         lambda x: series_or(lambda t: t**3 / mp.tanh(t), lambda t: t**2, x),
         0, 0.625, [0, 2, 4, 6, 8], "f32"),
        # erf(x) = x + x p(x^2), 0 <= x <= 0.875 (p(0) = 2/sqrt(pi) - 1, so
        # the leading term x is exact).
        ("erf_small_f32",
         lambda x: series_or(lambda t: mp.erf(t) / t - 1,
                             lambda t: 2 / mp.sqrt(mp.pi) - 1, x),
         lambda x: series_or(lambda t: t / mp.erf(t),
                             lambda t: mp.sqrt(mp.pi) / 2, x),
         0, 0.875, [0, 2, 4, 6, 8, 10], "f32"),
        # erf(x) = 1 - exp(p(x - 2.4) - x^2), 0.875 <= x <= 3.92: p
        # approximates log(erfc(x)) + x^2, smooth and slowly varying.  An
        # absolute error in p is a relative error in erfc(x) <= 0.22, hence
        # the weight erfc/erf (relative to erf).  Centering the variable
        # keeps the terms small, so Horner's rounding stays small too.
        ("erf_large_f32",
         lambda u: mp.log(mp.erfc(u + erf_mid)) + (u + erf_mid)**2,
         lambda u: mp.erfc(u + erf_mid) / mp.erf(u + erf_mid),
         0.875 - erf_mid, 3.92 - erf_mid, list(range(8)), "f32"),
        # atan(t) = t + t^3 p(t^2), 0 <= t <= 1/2.
        ("atan_f32",
         lambda t: series_or(lambda u: (mp.atan(u) - u) / u**3,
                             lambda u: -mp.mpf(1) / 3 + u**2 / 5, t),
         lambda t: series_or(lambda u: u**3 / mp.atan(u), lambda u: u**2, t),
         0, 0.5, [0, 2, 4, 6, 8, 10], "f32"),
        # In binary64 for f32 results: sin(r) = r + r^3 p(r^2) and
        # cos(r) = 1 - r^2/2 + r^4 q(r^2), |r| <= pi/4.
        ("sin_f64",
         lambda r: series_or(lambda t: (mp.sin(t) - t) / t**3,
                             lambda t: -mp.mpf(1) / 6 + t**2 / 120, r),
         lambda r: series_or(lambda t: t**3 / mp.sin(t), lambda t: t**2, r),
         0, mp.pi / 4, [0, 2, 4, 6], "f64"),
        ("cos_f64",
         lambda r: series_or(lambda t: (mp.cos(t) - 1 + t**2 / 2) / t**4,
                             lambda t: mp.mpf(1) / 24 - t**2 / 720, r),
         lambda r: r**4 / mp.cos(r),
         0, mp.pi / 4, [0, 2, 4], "f64"),
        # pow in binary64: log(1+f) = 2s + s^3 p(s^2), s = f/(2+f),
        # |s| <= 3 - 2 sqrt(2); and 2^r = 1 + r p(r), |r| <= 1/2.
        ("log_atanh_f64",
         lambda s: series_or(lambda t: (2 * mp.atanh(t) - 2 * t) / t**3,
                             lambda t: mp.mpf(2) / 3 + 2 * t**2 / 5, s),
         lambda s: series_or(lambda t: t**3 / (2 * mp.atanh(t)),
                             lambda t: t**2 / 2, s),
         0, smax, [0, 2, 4, 6], "f64"),
        ("exp2_f64",
         lambda r: series_or(lambda t: (mp.power(2, t) - 1) / t,
                             lambda t: ln2 + ln2**2 * t / 2, r),
         lambda r: series_or(lambda t: t / mp.power(2, t), lambda t: t, r),
         -0.5, 0.5, list(range(7)), "f64"),
    ]


def cbrt_seed():
    """The constant C of cbrt's first estimate bits(x)/3 + C (binary32).

    bits/3 + (2/3) 127 2^23 divides the exponent by 3 and interpolates the
    mantissa linearly; lowering C balances the estimate's relative error
    over a period of three binades.  The scan picks the C with the smallest
    largest error on a grid of that period."""
    def worst(c):
        e = 0
        for j in range(0, 3 << 23, 4099):
            b = 0x3F800000 + j
            x = struct.unpack("<f", struct.pack("<I", b))[0]
            y = struct.unpack("<f", struct.pack("<I", b // 3 + c))[0]
            e = max(e, abs(y / x ** (1 / 3) - 1))
        return e
    best = min(range(0x2A555555 - 0x80000, 0x2A555555 + 1, 0x1000), key=worst)
    print(f"/* cbrt seed: 0x{best:08X}, relative error {worst(best):.3g} */\n")


def two_over_pi():
    """The first 224 bits of 2/pi, 32 to a word (Payne-Hanek's table)."""
    mp.mp.dps = 100
    v = int(mp.floor(2 / mp.pi * mp.mpf(2) ** 224))
    mp.mp.dps = 40
    words = [(v >> (32 * (6 - i))) & 0xFFFFFFFF for i in range(7)]
    print("/* 2/pi */\n{" + ", ".join(f"0x{w:08X}" for w in words) + "}\n")


def main():
    only = sys.argv[1:]
    for f in fits():
        if not only or f[0] in only:
            fit(*f)
    if not only or "cbrt_seed" in only:
        cbrt_seed()
    if not only or "two_over_pi" in only:
        two_over_pi()


if __name__ == "__main__":
    main()
