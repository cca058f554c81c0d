/*
 * passes.h — hloc's device-independent HLO passes, the pipeline that runs
 * them, and the analyses codegen consumes (schedule, buffer assignment,
 * statistics).  The one public header of passes/.
 *
 * A pass is `bool pass_NAME(HloModule *)`: it rewrites the module in place
 * and returns whether it changed anything (XLA's convention), so the
 * pipeline can iterate groups of passes to a fixed point and verify only
 * after a change.  Each pass file opens with its contract, QBE-style:
 * "requires" (what the input must satisfy), "keeps" (what stays true),
 * "breaks" (what a later pass may have to restore).  Every pass requires a
 * verified module and leaves one; passes unlink instructions, never free
 * them (the module's arena owns everything).
 *
 * The analyses never change the module.  Buffer assignment is computed over
 * a schedule: codegen must emit each computation's instructions in the
 * order the plan records (pass_plan_schedule), as codegen/plan.c does.
 */
#ifndef HLOC_PASSES_H
#define HLOC_PASSES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "hlo.h"

/* ------------------------------------------------------------------------ */
/* The backend's policy                                                     */
/* ------------------------------------------------------------------------ */

/* What the backend that compiles the module does with a kernel, which
 * fusion and buffer assignment must know to decide well.  The passes take
 * it as input; the backend states it (codegen.h: cg_pass_policy).  Every
 * choice is about speed and memory, never about values: any policy gives
 * the same results.  Zero-initialised: the conservative one, which assumes
 * none of these. */
enum { PASS_POLICY_TARGET_BYTES = 64 };
typedef struct PassPolicy {
  /* A value a kernel reads at an index made of the first p indices of its
   * loop nest is computed once per such prefix, before the inner loops:
   * a row reduction read through a row broadcast costs one reduction per
   * row, so expensive ops may sit below such broadcasts (softmax and layer
   * norm are one kernel). */
  bool hoist_prefix_values;
  /* A reshape rooting a kernel is a view of its operand's bytes: the
   * kernel loops over the operand. */
  bool root_views;
  /* A dot's or convolution's output elements come out of scalar loops one
   * at a time, so transcendentals in its epilogue would not be vectorized:
   * they stay in a kernel of their own. */
  bool scalar_contraction_epilogues;
  /* A reduction kernel can compute a producer it reduces row by row and
   * write it out as a second result (producer-consumer multi-output
   * fusion). */
  bool reductions_write_producers;
  /* An elementwise kernel, or a loop or output fusion, may write its
   * result over an operand it reads only at its own index.  (Input
   * fusions never: a row kernel may write its output before it has read
   * its row.) */
  bool reuse_operand_buffers;
  /* A convolution runs fastest without padding to check: its zero padding
   * is better a pad of its input, one copy (conv-pad, where exact). */
  bool explicit_conv_padding;
  /* … except where this says that convolution x's kernel takes its
   * padding as cheaply as the copy would give it (NULL: nowhere); it may
   * read the backend's facts the backend left in `target`, opaque here. */
  bool (*conv_keeps_padding)(const struct PassPolicy *p, const HloInstr *x);
  _Alignas(8) unsigned char target[PASS_POLICY_TARGET_BYTES];
  /* The working memory the kernel of instruction x needs while it runs,
   * besides its outputs (a sort's merge buffers), in bytes; NULL, or 0 for
   * an instruction: none.  Buffer assignment gives it an arena offset,
   * live during that instruction's step only. */
  int64_t (*kernel_temp_bytes)(const HloInstr *x);
  /* A reduction of rows of at least tree_reduce_min_row elements into
   * fewer than tree_reduce_max_rows results runs as two (tree-reduce):
   * the rows' chunks, then their partials; 0: never (a GPU's block per
   * row would leave it idle, a CPU splits a row across threads itself). */
  int64_t tree_reduce_min_row;
  int64_t tree_reduce_max_rows;
} PassPolicy;

/* ------------------------------------------------------------------------ */
/* Passes                                                                   */
/* ------------------------------------------------------------------------ */

/* Collectives, tokens and async pairs as the plain HLO they compute on one
 * device.  pass_run_pipeline runs it before its steps whatever is disabled
 * (a lowering codegen needs, so not among pass_names). */
bool pass_single_device(HloModule *m);
/* XLA's other forms of select, dynamic-(update-)slice, all-to-all and the
 * xla_builder.* custom-calls in their standard form (canonical_forms.c);
 * pass_single_device runs it first. */
bool pass_canonical_forms(HloModule *m);
/* A map expand_ops.c could not inline as a while loop over its elements
 * (map_loop.c); pass_single_device runs it last. */
bool pass_map_loop(HloModule *m);
/* Bounded dynamic dims (<=N) made static where the module allows it
 * (dynamic_pad.c); pass_run_pipeline runs it after pass_single_device. */
bool pass_dynamic_pad(HloModule *m);
bool pass_inline_calls(HloModule *m);      /* "inline" */
bool pass_tuple_simplify(HloModule *m);    /* "tuple-simplify" */
bool pass_while_invariant(HloModule *m);   /* "while-invariant" */
bool pass_while_input_dot(HloModule *m);   /* "while-input-dot" */
bool pass_algsimp(HloModule *m);           /* "algsimp" */
bool pass_constant_fold(HloModule *m);     /* "constant-fold" */
bool pass_cse(HloModule *m);               /* "cse" */
bool pass_dce(HloModule *m);               /* "dce" */
bool pass_batchnorm_expand(HloModule *m);  /* "batchnorm-expand" */
bool pass_scale_fold(HloModule *m);        /* "scale-fold" */
bool pass_dot_canonicalize(HloModule *m);  /* "dot-canonicalize" */
/* The fusion passes read the backend's policy (NULL: the conservative one). */
bool pass_conv_pad(HloModule *m, const PassPolicy *p);          /* "conv-pad" */
bool pass_tree_reduce(HloModule *m, const PassPolicy *p);       /* "tree-reduce" */
bool pass_fusion(HloModule *m, const PassPolicy *p);            /* "fusion" */
bool pass_multi_output_fusion(HloModule *m, const PassPolicy *p); /* "multi-output-fusion" */
/* The same, adding to *work the instructions it looked at (the tests check
 * that this grows linearly with the module). */
bool pass_multi_output_fusion_counted(HloModule *m, const PassPolicy *p, int64_t *work);

/* Constant folding leaves results larger than this (bytes) unfolded, unless
 * the op only rearranges or narrows its operand. */
#define PASS_FOLD_MAX_BYTES (64 * 1024)

/* ------------------------------------------------------------------------ */
/* Pipeline                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct PassOptions {
  /* Dump the module as HLO text after the pass of this name, or after every
   * pass with "all" (NULL: never).  Files go to dump_dir, which must exist,
   * named "NNN-<pass>.hlo" in run order; "000-input.hlo" is the input. */
  const char *dump_after;
  const char *dump_dir;
  /* Passes not to run, by name (see pass_names). */
  const char *const *disabled;
  int ndisabled;
  /* When set, a table of time and runs per pass is printed here at the end. */
  FILE *timing;
  /* The backend's policy (NULL: the conservative one). */
  const PassPolicy *policy;
} PassOptions;

/* The names of every pass the pipeline may run, NULL-terminated. */
const char *const *pass_names(void);
bool pass_name_is_known(const char *name);

/* Runs the default pipeline (opts may be NULL).  Verifies the input, then
 * after every pass that reports a change; a failure names the pass, as in
 * "after pass 'algsimp': verifier: …".  Also fails on an unknown disabled
 * pass name or a dump file that cannot be written. */
HloError *pass_run_pipeline(HloModule *m, const PassOptions *opts);

/* ------------------------------------------------------------------------ */
/* Scheduling and buffer assignment (analyses: the module is not changed)   */
/* ------------------------------------------------------------------------ */

typedef enum PassScheduler {
  PASS_SCHED_POST_ORDER, /* hlo_post_order */
  PASS_SCHED_DFS,        /* post order visiting the heavier operand first */
  PASS_SCHED_LIST,       /* greedy: the ready instruction freeing most bytes */
  PASS_SCHED_BEST,       /* all three; the lowest simulated peak wins */
} PassScheduler;

/* An order of the instructions of one computation reachable from its root
 * (each after its operands, the root last), with the peak of the bytes live
 * at once when run in that order (parameters and constants not counted). */
typedef struct PassSchedule {
  int n;
  HloInstr **order;      /* malloc'd */
  int64_t peak_bytes;
  PassScheduler chosen;  /* which scheduler produced it */
} PassSchedule;

void pass_schedule(const HloComputation *c, PassScheduler which, PassSchedule *out);
void pass_schedule_free(PassSchedule *s);

/* Where every array value lives.  A value is one array leaf of an
 * instruction's shape (leaf k in row-major order of the tuple tree).
 * Tuples and get-tuple-element define no storage (their leaves are their
 * operands'); entry parameters live in the caller's arguments, constants in
 * read-only data, and the values the entry root returns in the caller's
 * result buffers; everything else, in every computation that is not a fused
 * computation, gets an offset in one scratch arena.  Instructions inside
 * fused computations get no buffers. */
typedef enum PassBufKind {
  PASS_BUF_NONE,     /* aliases another value (tuple, gte) or no storage */
  PASS_BUF_ARG,      /* entry parameter `index` */
  PASS_BUF_CONST,    /* the constant instruction itself */
  PASS_BUF_RESULT,   /* leaf `index` of the entry's result */
  PASS_BUF_SCRATCH,  /* arena offset */
} PassBufKind;

typedef struct PassBuf {
  PassBufKind kind;
  int64_t index;     /* ARG: parameter number; RESULT: result leaf */
  int64_t offset;    /* SCRATCH: bytes from the arena start (aligned) */
  int64_t size;      /* bytes */
} PassBuf;

#define PASS_BUF_ALIGN 64

typedef struct PassBufferPlan {
  int64_t nids;          /* the module's next_id when planned */
  int *first;            /* by instruction id: index of its leaf 0 in bufs, -1 */
  int *count;            /* by instruction id: number of leaves */
  PassBuf *bufs;         /* the leaves, each resolved to its storage */
  int nbufs;
  int64_t arena_bytes;   /* packed arena size */
  int64_t naive_bytes;   /* one aligned slot per scratch value (what a plan
                          * without liveness needs) */
  int64_t peak_live_bytes; /* max over schedule steps of live scratch bytes:
                            * a lower bound for any packing of this schedule */
  int64_t inplace_reuses;  /* values that overwrite their operand's buffer */
  /* By instruction id: the arena offset of its kernel's working memory
   * (PassPolicy.kernel_temp_bytes), -1 when it has none. */
  int64_t *temp_offset;
  /* The schedules used, one per planned computation (entry last). */
  int nschedules;
  const HloComputation **computations;
  PassSchedule *schedules;
} PassBufferPlan;

/* Plans every non-fused computation of a verified module, reusing operand
 * buffers in place where the backend's policy allows (NULL: never). */
HloError *pass_assign_buffers(const HloModule *m, const PassPolicy *p, PassBufferPlan *out);
void pass_buffer_plan_free(PassBufferPlan *p);
/* The storage of leaf k of instr (NULL when instr was not planned). */
const PassBuf *pass_buffer_of(const PassBufferPlan *p, const HloInstr *instr, int leaf);
/* The arena offset of instr's kernel's working memory, or -1 (none). */
int64_t pass_temp_offset(const PassBufferPlan *p, const HloInstr *instr);
/* The schedule of computation c in the plan (NULL when not planned). */
const PassSchedule *pass_plan_schedule(const PassBufferPlan *p, const HloComputation *c);

/* ------------------------------------------------------------------------ */
/* Statistics                                                               */
/* ------------------------------------------------------------------------ */

enum { PASS_STATS_MAX_LOOPS = 8 };

typedef struct PassStats {
  int64_t instructions;    /* in non-fused computations */
  int64_t kernels;         /* fusions + non-trivial instructions outside them */
  int64_t fusions[4];      /* by HloFusionKind */
  int64_t weight_bytes;    /* constants of non-fused computations */
  int64_t flops;           /* 2*MACs of dot and convolution */
  int64_t bytes_moved;     /* each kernel's operands read + results written */
  int64_t arena_bytes;     /* pass_assign_buffers' packed arena */
  int64_t naive_arena_bytes; /* one slot per value */
  int64_t peak_live_bytes;
  /* One run: while bodies times their trip counts (see stats.c). */
  int64_t run_kernels, run_flops, run_bytes_moved;
  int64_t nwhile;          /* while loops a run enters, nested ones per parent */
  int64_t while_unknown;   /* of them, those without a static trip count */
  const char *while_name[PASS_STATS_MAX_LOOPS]; /* the first loops, as found */
  int64_t while_trips[PASS_STATS_MAX_LOOPS];    /* their trip counts; -1: unknown */
} PassStats;

/* True for what runs as a kernel outside fusions: everything but
 * parameter, constant, tuple, get-tuple-element, bitcast and the control
 * ops whose bodies are counted instead. */
bool pass_is_kernel(const HloInstr *instr);
/* The arena figures follow the backend's policy (NULL: the conservative). */
HloError *pass_stats(const HloModule *m, const PassPolicy *policy, PassStats *out);
void pass_stats_print(FILE *f, const PassStats *s);

#endif /* HLOC_PASSES_H */
