"""Reference bits for rng-bit-generator (tests/test_hlo_eval.c), from XLA on CPU.

Run: .venv/tf/bin/python scripts/gen_rng_bit_generator.py (the venv scripts/venv.sh makes)
Each case is xla.rng_bit_generator(algorithm, state, shape, dtype) under
tf.function(jit_compile=True); algorithm 0 = rng_default, 1 = rng_philox,
2 = rng_three_fry.  Prints the new state and the bits as hex."""
import tensorflow as tf
from tensorflow.compiler.tf2xla.python import xla

CASES = [
    (1, [1, 2], [5], tf.uint32),
    (1, [0x0123456789abcdef, 0xfffffffffffffffe], [2, 3], tf.uint32),
    (1, [7, 0xffffffffffffffff, 5], [6], tf.uint32),
    (1, [3, 4], [3], tf.uint64),
    (2, [1, 2], [5], tf.uint32),
    (2, [0x0123456789abcdef, 42], [3, 2], tf.uint32),
    (2, [9, 10], [3], tf.uint64),
    (0, [1, 2], [5], tf.uint32),
]

for alg, state, shape, dtype in CASES:
    f = tf.function(lambda s: xla.rng_bit_generator(alg, s, shape, dtype=dtype),
                    jit_compile=True)
    s = tf.constant(state, dtype=tf.uint64)
    new_state, bits = f(s)
    hlo = f.experimental_get_compiler_ir(s)(stage="hlo")
    algname = [l for l in hlo.splitlines() if "rng-bit-generator(" in l][0]
    algname = algname.split("algorithm=")[1].split(",")[0]
    w = dtype.size * 2
    print(alg, algname, [hex(x) for x in state], shape, dtype.name)
    print("  state", [hex(int(x)) for x in new_state.numpy()])
    print("  bits ", ["0x%0*x" % (w, int(x) & ((1 << (8 * dtype.size)) - 1))
                      for x in bits.numpy().reshape(-1)])
