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
 * anything was replaced. */
bool px_rewrite_each(HloModule *m, bool with_applied, HloInstr *(*rewrite)(HloInstr *));

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

/* Bytes of every array leaf of a shape. */
int64_t px_shape_bytes(const HloShape *s);

/* Same numbers in the same order.  An empty list may have no array (v
 * NULL: a broadcast of a scalar, a reduce of no dimensions), which
 * memcmp must not see. */
bool px_dims_equal(const HloDims *a, const HloDims *b);

#endif /* HLOC_PASSES_INTERNAL_H */
