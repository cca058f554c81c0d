/*
 * internal.h — helpers shared by the files of passes/ (not public).
 *
 * Conventions they encode: a pass never frees, it unlinks; a replaced
 * instruction and whatever only it kept alive are unlinked at once so that
 * each pass leaves no garbage for the next (DCE still sweeps what other
 * rewrites strand); new instructions are moved next to the instruction
 * they replace so printed modules read in dependency order; a builder
 * failing inside a pass is a bug in the pass, not bad input, so it aborts.
 */
#ifndef HLOC_PASSES_INTERNAL_H
#define HLOC_PASSES_INTERNAL_H

#include "passes.h"


/* Computations of m, callees before callers; fused computations (and the
 * scalar computations reduce/sort/scatter apply) are included only when
 * with_applied is true.  "Applied" computations run per element and are
 * never rewritten by graph passes.  malloc'd. */
HloComputation **px_graph_computations(const HloModule *m, bool with_applied, int *n);

/* The loop most passes are: every still linked instruction of every
 * graph computation (callees first; applied computations too with
 * with_applied), in post order, offered to `rewrite`, which returns its
 * replacement or NULL (or the instruction itself) to leave it; a
 * replacement takes the instruction's place (px_replace).  Returns whether
 * anything was replaced.  px_rewrite_each_with passes `ctx` along. */
bool px_rewrite_each(HloModule *m, bool with_applied, HloInstr *(*rewrite)(HloInstr *));
bool px_rewrite_each_with(HloModule *m, bool with_applied,
                          HloInstr *(*rewrite)(HloInstr *, const void *ctx), const void *ctx);

/* instr is a constant whose elements all equal one value, or a broadcast of
 * such a constant; *v receives it (as a double). */
bool px_splat(const HloInstr *instr, double *v);
bool px_is_splat_of(const HloInstr *instr, double v);
/* A constant (any shape) or a broadcast of a constant. */
bool px_is_constant_like(const HloInstr *instr);
/* A float constant whose every element is finite (0 × it is ±0: a zero
 * padding it multiplies changes no sum). */
bool px_is_finite_constant(const HloInstr *instr);

/* False once the instruction was unlinked (hlo_instr_remove). */
bool px_is_linked(const HloInstr *instr);

/* Reroutes every use of old to repl and unlinks old together with the
 * operands that thereby became unused (never parameters). */
void px_replace(HloInstr *old, HloInstr *repl);
/* Unlinks instr when nothing uses it, then its operands likewise. */
void px_remove_if_dead(HloInstr *instr);
/* Side effects or opaque semantics: never removed, duplicated or merged. */
bool px_has_side_effect(const HloInstr *instr);

/* Aborts with the builder's message when r is NULL; moves r before
 * `before` (when given). */
HloInstr *px_built(HloInstr *r, HloError *err, HloInstr *before);

/* x with the shape `want` (the instruction it replaces): a copy when only
 * the layouts differ, so the replacement keeps the declared layout. */
HloInstr *px_with_layout(HloInstr *x, const HloShape *want, HloInstr *before);

/* The plain HLO computing instr when it is an opcode codegen has no kernel
 * for (expand_ops.c), else NULL; pass_single_device's walk calls it. */
HloInstr *px_expand_op(HloInstr *instr);
/* The same for cholesky (cholesky_expand.c), triangular-solve
 * (triangular_solve_expand.c), rng-bit-generator
 * (rng_bit_generator_expand.c), rng (rng_expand.c), stochastic-convert
 * (stochastic_convert_expand.c) and fft (fft_expand.c), which px_expand_op
 * hands over. */
HloInstr *px_expand_cholesky(HloInstr *instr);
HloInstr *px_expand_triangular_solve(HloInstr *instr);
HloInstr *px_expand_rng_bit_generator(HloInstr *instr);
HloInstr *px_expand_rng(HloInstr *instr);
HloInstr *px_expand_stochastic_convert(HloInstr *instr);
/* batch-norm-training and batch-norm-grad (batchnorm_train_expand.c). */
HloInstr *px_expand_batch_norm(HloInstr *instr);
/* cholesky or triangular-solve (with LAPACK's info) computing instr when
 * it is one of JAX's LAPACK custom-calls (lapack_calls.c), else NULL. */
HloInstr *px_lower_lapack_call(HloInstr *instr);
HloInstr *px_expand_fft(HloInstr *instr);
/* ragged-dot as one masked dot (ragged_dot_expand.c). */
HloInstr *px_expand_ragged_dot(HloInstr *instr);
/* select-and-scatter as a reduce-window and a scatter
 * (select_and_scatter_expand.c). */
HloInstr *px_expand_select_and_scatter(HloInstr *instr);
/* scaled-dot as a dot of the operands times their scales
 * (scaled_dot_expand.c); canonical_forms.c calls it. */
HloInstr *px_expand_scaled_dot(HloInstr *instr);
/* An xla_builder.math.* call that is no opcode (NextAfter, Polygamma,
 * IgammaGradA, …, the complex functions) as the HLO XLA's builder writes
 * for it (builder_math.c); canonical_forms.c calls it. */
HloInstr *px_expand_builder_math(HloInstr *instr);
/* An xla_builder.* call of XLA's builder library (Einsum,
 * GetMatrixDiagonalViaGather, ScramblePhiloxKey, TridiagonalSolver:
 * hlo_builder_lib_call) as plain HLO (builder_lib.c); canonical_forms.c
 * calls it. */
HloInstr *px_expand_builder_lib(HloInstr *instr);

/* A constant of the given shape whose every element is v, before `before`. */
HloInstr *px_constant_splat(HloComputation *c, const HloShape *shape, double v,
                            HloInstr *before);
/* broadcast(scalar constant v) to shape, before `before`. */
HloInstr *px_broadcast_scalar(HloComputation *c, const HloShape *shape, double v,
                              HloInstr *before);

/* Copies the instructions of `callee` reachable from its root into `dst`
 * before `before`, parameters replaced by args; returns the copy of the
 * root.  Used by call inlining and by fusion (which copies the other way). */
HloInstr *px_clone_computation(HloComputation *dst, const HloComputation *callee,
                               HloInstr *const *args, HloInstr *before);

/* Where a pass's builders put what they create: before `before`, or at
 * the end of c when before is NULL (a computation being written). */
typedef struct PxAt {
  HloComputation *c;
  HloInstr *before;
} PxAt;

/* The builders of hlo/ at `at`; a shape error aborts (px_built). */
HloInstr *px_unary(PxAt at, HloOpcode op, HloInstr *x);
HloInstr *px_binary(PxAt at, HloOpcode op, HloInstr *a, HloInstr *b);
HloInstr *px_compare(PxAt at, HloCompareDir dir, HloInstr *a, HloInstr *b);
HloInstr *px_select(PxAt at, HloInstr *p, HloInstr *a, HloInstr *b);
/* The real (or imaginary) part of the complex array x: a of complex(a, b)
 * (b), also through the data movement ops (transpose, reshape, broadcast,
 * copy, slice, reverse), which are rebuilt on the part; else real(x)
 * (imag(x)).  px_moves_complex says whether x is one that folds. */
HloInstr *px_complex_part(PxAt at, HloInstr *x, bool imag);
bool px_moves_complex(const HloInstr *x);
/* x converted to t; x itself when it has that type. */
HloInstr *px_convert(PxAt at, HloInstr *x, HloType t);
HloInstr *px_reshape(PxAt at, HloInstr *x, int rank, const int64_t *dims);
/* x with its last two dimensions swapped (a batch of matrices transposed). */
HloInstr *px_transpose_minor(PxAt at, HloInstr *x);
/* s32 iota of x's dims along dim. */
HloInstr *px_iota_like(PxAt at, const HloInstr *x, int dim);
/* x (a scalar, or an array of shape's leading dims) broadcast to shape's
 * dims, in x's type. */
HloInstr *px_broadcast_leading(PxAt at, HloInstr *x, const HloShape *shape);
/* A scalar constant v of type t; broadcast to shape's dims when shape is
 * given. */
HloInstr *px_scalar(PxAt at, HloType t, double v, const HloShape *shape);

/* A loop `for i in [0, trips): state = body(i, state)` as XLA's expanders
 * write one: a while over the tuple (s32[] i, state…).  px_loop_begin
 * creates the body computation (first in the module: it calls nothing)
 * with its parameter taken apart into l->i and l->state; the caller builds
 * the next state in l->body; px_loop_end makes the body's root
 * (i + 1, next…), the condition i < trips, and the while over (0, init…)
 * at `at`, and returns the final state's element k in results[k]. */
#define PX_LOOP_MAX_STATE 4
typedef struct PxLoop {
  HloComputation *body;
  HloInstr *i;                         /* s32[] in body */
  HloInstr *state[PX_LOOP_MAX_STATE];  /* in body */
  int n;
} PxLoop;
void px_loop_begin(PxLoop *l, HloModule *m, const char *name, HloInstr *const *init, int n);
void px_loop_end(PxLoop *l, HloInstr *const *init, HloInstr *const *next, int64_t trips,
                 PxAt at, HloInstr **results);

/* Bytes of every array leaf of a shape. */
int64_t px_shape_bytes(const HloShape *s);

/* How many times instructions of m call c. */
int px_call_count(const HloModule *m, const HloComputation *c);
/* Replaces while w by nw, a while over another state: element i of w's
 * state is element map[i] of nw's, or init operand i of w where map[i] <
 * 0 (map NULL: element i).  w's get-tuple-elements read nw (or that init
 * operand); its other users get w's state rebuilt as a tuple.  Removes w,
 * then its init tuple when nothing else uses it. */
void px_replace_while(HloInstr *w, HloInstr *nw, const int *map);
/* The iterations of while loop w when they are static (its condition
 * compares a counter the body steps by a constant with a constant or an
 * invariant element; stats.c), else -1. */
int64_t px_while_trip_count(const HloInstr *w);
/* The while instructions of c in order, a snapshot a pass may rewrite
 * them from (malloc'd; NULL with *n = 0 when there are none). */
HloInstr **px_whiles(const HloComputation *c, int *n);
/* Same numbers in the same order.  An empty list may have no array (v
 * NULL: a broadcast of a scalar, a reduce of no dimensions), which
 * memcmp must not see. */
bool px_dims_equal(const HloDims *a, const HloDims *b);

#endif /* HLOC_PASSES_INTERNAL_H */
