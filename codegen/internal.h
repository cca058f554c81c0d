/*
 * internal.h — what the files of codegen/ share; not part of the public API
 * (codegen.h).
 *
 * The backend builds one kernel-IR module (kir.h) from the module
 * legalize.c hands it (tuple parameters and constants split, fusions that
 * cannot be one kernel inlined, bitcasts that reorder memory and pred
 * contractions rewritten; often the input itself), verifies it when asked,
 * and prints it once as MLIR.  Layers, bottom up:
 *
 *   kir*.c      the kernel IR: types, builders, verifier, the MLIR
 *               printer and the readable one.
 *   plan.c      the buffer plan: where every value lives (an argument, a
 *               result, a constant global, or an offset in the scratch
 *               arena) and the order instructions run in, from passes/'
 *               buffer assignment or one slot per value.
 *   elemental.c the elemental emitter: the element of an instruction at an
 *               output index, as kernel-IR values, computed from its
 *               operands' elements (recursively through fused computations
 *               and called scalar computations, memoized per index).
 *               Helpers in scalar.c (element-type semantics), math.c
 *               (transcendentals), reduce.c, dot.c, conv.c, gather.c.
 *   kernel.c    one kernel function per unfused instruction (a loop nest
 *               over the output storing emitted elements, with values of
 *               a row — row reductions — hoisted out of the inner loops;
 *               scatter.c and sort.c for the kernels that are not
 *               elemental), and the entry function N_run with control flow
 *               (while, conditional, call) and the copies into result
 *               buffers.
 *
 * Register representation of element types: pred is i1 (i8 in memory),
 * integers are signless iN (signedness picks the op), f32/f64 are
 * themselves, and f16/bf16 stay their 16-bit patterns (i16) in registers
 * and memory: arithmetic decodes them to f32, computes, and rounds back
 * (round to nearest even), so every HLO instruction rounds its result the
 * way the evaluator does and no half-precision libcall is ever needed.
 * scalar.c and math.c take every type from their operands, lanes included,
 * so the same code computes one element or a vector of them.
 *
 * Errors while emitting are sticky: the first one is kept in CgGen.err and
 * emission carries on with placeholder values; the IR is then discarded.
 */
#ifndef HLOC_CODEGEN_INTERNAL_H
#define HLOC_CODEGEN_INTERNAL_H

#include <stdarg.h>

#include "codegen.h"
#include "kir.h"
#include "passes.h"

typedef KirVal CgVal; /* a kernel-IR value of the function being built */

/* The register type of an element type: i1 for pred, i16 for f16/bf16. */
KirType cg_reg_type(HloType t);
/* The element kind in memory: i8 for pred, i16 for f16/bf16. */
KirElem cg_mem_elem(HloType t);
int cg_type_bits(HloType t); /* bits of the register type */

/* ------------------------------------------------------------------------ */
/* plan.c — where values live                                               */
/* ------------------------------------------------------------------------ */

typedef enum CgBufKind {
  CG_BUF_ARG,     /* the entry's argument `index` */
  CG_BUF_RESULT,  /* the entry's result `index` */
  CG_BUF_SCRATCH, /* `offset` bytes into the scratch arena */
  CG_BUF_CONST,   /* the literal of `constant` (a read-only global) */
  CG_BUF_NONE,    /* a token: zero bytes, nothing stored, nothing passed */
} CgBufKind;

typedef struct CgBuf {
  CgBufKind kind;
  int index;                 /* ARG, RESULT; SCRATCH: the slot (one memref
                              * view per offset and shape) */
  size_t offset;             /* SCRATCH */
  const HloInstr *constant;  /* CONST */
  HloShape shape;            /* the array stored there */
} CgBuf;

typedef enum CgPlanKind {
  CG_PLAN_ASSIGNED, /* pass_assign_buffers: schedules, shared packed arena */
  CG_PLAN_SLOTS,    /* one slot per value, post order */
} CgPlanKind;

typedef struct CgPlan {
  int64_t ninstrs;   /* capacity of the per-instruction arrays (ids) */
  int *first;        /* by instruction id: first leaf, -1 when unplanned */
  int *count;        /* by instruction id: leaves of its (flat) shape */
  int *temp;         /* by instruction id: the leaf (not among its own) of
                      * its kernel's working memory, a SCRATCH u8 array;
                      * -1: none */
  CgBuf *leaves;     /* a tuple's leaves repeat its operands' buffers */
  int nleaves;
  /* Where result i is computed; results whose buffer is not RESULT(i)
   * (a parameter, a constant, a repeated value) are copied at the end. */
  int nresults;
  CgBuf *result_src;
  int nslots;        /* SCRATCH views, numbered 0.. */
  size_t scratch_bytes, scratch_align;
  PassBufferPlan *assigned; /* CG_PLAN_ASSIGNED: the analysis it follows */
} CgPlan;

/* Plans the entry computation and every computation it reaches through
 * while, conditional and call (their parameters get buffers of their own:
 * callers copy arguments in).  Fused and to_apply computations are not
 * planned: they are emitted elementally inside kernels.  An assigned plan
 * follows the backend's policy (in-place reuse). */
HloError *cg_plan_buffers(const HloModule *m, CgPlanKind kind, const PassPolicy *policy,
                          CgPlan *out);
void cg_plan_free(CgPlan *p);
/* The leaves of a planned instruction (NULL when unplanned). */
const CgBuf *cg_plan_leaves(const CgPlan *p, const HloInstr *x, int *n);
/* The working memory of x's kernel (NULL when it needs none). */
const CgBuf *cg_plan_temp(const CgPlan *p, const HloInstr *x);
/* The same memory (scratch buffers at one offset are, whatever their
 * shapes). */
bool cg_buf_same(const CgBuf *a, const CgBuf *b);
/* The order in which c's instructions run (malloc'd): its schedule under
 * an assigned plan, else post order. */
HloInstr **cg_plan_order(const CgPlan *p, const HloComputation *c, int *n);

/* The array leaves of a shape in order (a flattened tuple; an array is its
 * own single leaf).  Returns the count; fills out[0..max). */
int cg_shape_leaves(const HloShape *s, const HloShape **out, int max);
int cg_shape_nleaves(const HloShape *s);

/* ------------------------------------------------------------------------ */
/* Backends: what a target provides (cpu/ and gpu/ implement it)           */
/* ------------------------------------------------------------------------ */

#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>

/* Facts of the target that kernels are shaped by: vector width and
 * register count decide tile shapes and how many lanes an op computes,
 * cache sizes the blocking.  They come from the target description (the
 * CPU's LLVM model and the features named), never from constants measured
 * on one machine. */
typedef struct CgTargetInfo {
  int vector_bits;         /* the widest vector register for f32 arithmetic:
                            * 128 (SSE2, NEON), 256 (AVX), 512 (AVX-512) */
  int preferred_bits;      /* the width the CPU's model prefers where code
                            * is not bound by arithmetic: 256 on Intel's
                            * AVX-512 parts, whose clock drops with wide
                            * vectors; vector_bits elsewhere */
  int vector_regs;         /* architectural vector registers (16 or 32) */
  bool fma;                /* fused multiply-add instructions */
  bool int8_dot;           /* int8 dot-product instructions (VNNI, dotprod) */
  bool scalef;             /* vectors of vector_bits scale by 2^floor(n) in
                            * one instruction (AVX-512's vscalefps/pd: the
                            * kernel-IR op scalef) */
  int64_t l1d_bytes;       /* per-core L1 data cache */
  int64_t l2_bytes;        /* per-core L2 */
  int64_t l3_bytes;        /* the shared last level */
  int line_bytes;          /* a cache line: what one prefetch fetches */
  bool streaming_stores;   /* vector stores that bypass the caches, from
                            * addresses aligned to the vector's size
                            * (x86's movntps: kir_vstore_nontemporal) */
  bool cheap_threads;      /* starting a thread costs nothing next to the
                            * kernel's own start (a GPU's launch), so every
                            * loop nest of 2 iterations or more is split
                            * (kernel.c); else only where the work pays
                            * for waking a thread pool */
  bool exact_winograd;     /* CgOptions.exact_winograd: Winograd only as
                            * F(2×2, 3×3) */
} CgTargetInfo;


typedef struct CgBackend CgBackend;
typedef struct CgData CgData;
typedef struct CgGen CgGen;
typedef struct CgFn CgFn;
typedef struct CgGemm CgGemm;

/* A target: its backend, its facts, and the LLVM target machine. */
typedef struct CgTarget {
  const CgBackend *backend;
  CgTargetInfo info;
  LLVMTargetMachineRef tm;
  char *triple;   /* malloc'd */
  char *cpu;      /* malloc'd: the resolved CPU name */
  char *required; /* malloc'd: the instruction-set features the code may
                   * use, LLVM's names, comma-separated (hloc_program's
                   * features); NULL where the backend records none */
  bool is_host;   /* the target is this process's architecture */
  bool tf32;      /* a GPU's f32 contractions may run on tensor cores in
                   * TF32 (CgOptions.gpu_tf32) */
  bool wgmma;     /* a GPU's tensor-core contractions run on sm_90a's
                   * warpgroup MMA (CgOptions.gpu_wgmma) */
} CgTarget;

/* Where a parallel kernel's split loop is emitted: the task function, the
 * kernel's memrefs as the task sees them, and the loop's range [lo, hi)
 * (index values) in it. */
typedef struct CgTask {
  KirFunc *fn;
  CgVal *params;  /* malloc'd, one per kernel parameter */
  CgVal lo, hi;
  /* A group's task (CgBackend.groups): this thread's number in its group
   * (an index value in the task) and the group's threads; else 0, 0. */
  CgVal lane;
  int group;
} CgTask;

/* What a backend implements.  codegen/ is target-independent: it plans
 * buffers, legalizes, and builds every kernel as kernel IR from the
 * target's facts; the backend says which targets it takes and what they
 * are, how the passes should treat kernels for them, how a kernel's
 * parallel dimension runs, how the printed MLIR becomes LLVM IR, and what
 * the LLVM module needs before it is emitted.  A new backend (docs/
 * backends.md) implements these and registers itself in codegen.c. */
struct CgBackend {
  const char *name;
  const char *targets;   /* the --target names it takes, ", "-separated */
  /* The target for the options (target, CPU and features validated). */
  HloError *(*create)(const CgOptions *o, CgTarget *out);
  void (*destroy)(CgTarget *t);
  /* How the passes should treat kernels for this target. */
  void (*policy)(const CgTarget *t, PassPolicy *out);
  /* Runs kernel k's split loop of n iterations in parallel: builds k's
   * body (which hands the iterations out) and returns the task where
   * codegen emits the loop over [lo, hi). */
  CgTask (*parallel)(CgGen *g, KirFunc *k, int64_t n);
  /* NULL, or runs kernel k's split loop of n iterations on groups of
   * threads that cooperate (a GPU's blocks), one group per iteration, the
   * iteration's reductions reducing `per_row` elements each, its other
   * work `row_elems` elements of the nest (with
   * `columns`, for each of the CG_COLUMN_TILE columns its threads take in
   * turn, kernel.c's "column kernel"): builds k's
   * body and returns the task each thread of a group runs the iteration
   * in (lane and group set).  False (out untouched): the target gains
   * nothing by it here; k is built as `parallel` builds it. */
  bool (*groups)(CgGen *g, KirFunc *k, int64_t n, int64_t per_row, int64_t row_elems,
                 bool columns, CgTask *out);
  /* With groups: reduce x at idx across the threads of the group (at
   * the points CgFn.uniform says), every thread getting the result: x's
   * leaves in out[], their count returned.  x reduces its input's
   * trailing dims, idx the same in every thread; or, in a column kernel,
   * x keeps its input's minor dim, idx's last index being the thread's
   * column (thread t's is the tile's column t mod CG_COLUMN_TILE). */
  int (*group_reduce)(CgFn *f, const HloInstr *x, const CgVal *idx, CgVal *out);
  /* NULL, or runs contraction kernel k (gm: cg_gemm_plan's) as tiles of
   * its output, one per group of threads that cooperate (a GPU's
   * blocks), staging its operands' tiles in the group's shared memory:
   * builds k's body and returns the task a group's threads compute a
   * tile in (its number in [lo, lo + 1); lane and group set).  False: k
   * is built as everywhere (gemm.c), which takes f32 only: with `tiles`
   * cg_gemm_plan also plans f16 and bf16 contractions, which it must take. */
  bool (*tiles)(CgGen *g, KirFunc *k, const CgGemm *gm, CgTask *out);
  /* With tiles: the tile's body in f (the kernel's operands bound),
   * storing the root's elements into out (of the root's shape). */
  void (*tile_emit)(CgFn *f, const CgGemm *gm, CgVal out);
  /* NULL, or adapts the finished kernel IR to the target before it is
   * verified and printed: the GPU backend moves the kernels onto the
   * device and launches them from the entry (gpu/device.c).  An error
   * names the instruction a kernel cannot run on the target. */
  HloError *(*place)(KirModule *k, const CgSignature *sig, const CgTarget *t);
  /* The program is compiled as one part, never split (split.c): the GPU's
   * device code is one PTX module. */
  bool whole;
  /* NULL, or why the target's programs cannot be written as objects yet
   * (then they can be emitted as assembly only). */
  const char *no_object;
  /* NULL for a target whose code runs on the host; else (the GPU) the
   * object holds a host part, compiled for the host's CPU with the CPU
   * backend, after the device's part is lowered: host_mlir rewrites the
   * module's host functions to run the device code and prints them alone
   * (the module is not printed again), host_finish completes the host's
   * lowered module (entry points, descriptor, the device code as data,
   * optimization) from the device's finished one. */
  HloError *(*host_mlir)(KirModule *k, const CgSignature *sig, char **mlir);
  HloError *(*host_finish)(LLVMModuleRef mod, const CgTarget *ht, const CgSignature *sig,
                           LLVMModuleRef device, const CgTarget *dt, const CgData *consts);
  /* The printed MLIR as an LLVM module of ctx (the backend's pipeline). */
  HloError *(*lower)(const char *mlir, LLVMContextRef ctx, LLVMModuleRef *out);
  /* Completes part `part` of a program (split.c): part 0 gets the entry
   * points and the descriptor; then optimizes it for the target.  (The
   * constants are declarations; their bytes join the object when the
   * parts' objects are merged, object.c.) */
  HloError *(*finish)(LLVMModuleRef mod, const CgTarget *t, const CgSignature *sig, int part);
};

extern const CgBackend cg_cpu_backend;
extern const CgBackend cg_gpu_backend;

/* The target of the options, by the backend that takes it (codegen.c). */
HloError *cg_target_create(const CgOptions *opts, CgTarget *out);
void cg_target_free(CgTarget *t);

/* mlir.c: parses and verifies MLIR text (mlir_check), or also runs a pass
 * pipeline down to the LLVM dialect and translates the result into a new
 * module of ctx (mlir_lower).  The MLIR comes from kir_print_mlir. */
HloError *cg_mlir_check(const char *mlir);
HloError *cg_mlir_lower(const char *mlir, const char *pipeline, LLVMContextRef ctx,
                        LLVMModuleRef *out);
/* The same, then translates only what the op named `nested` (the first
 * one in the module's body: a gpu.module) holds: nothing when there is
 * none (a program without kernels). */
HloError *cg_mlir_lower_nested(const char *mlir, const char *pipeline, const char *nested,
                               LLVMContextRef ctx, LLVMModuleRef *out);

/* Read-only data an object defines besides its parts': the constants'
 * bytes, each at a 64-byte aligned offset of one section, named, zeros
 * between them.  Each constant's bytes are a buffer of their own, made
 * (packed or copied) once and written out from there: a model's weights
 * are never gathered into one more buffer, in memory or in the object. */
typedef struct CgDataSymbol {
  char *name;     /* malloc'd */
  size_t offset, size;
  char *bytes;    /* its `size` bytes, malloc'd (NULL when size is 0) */
} CgDataSymbol;
struct CgData {
  size_t size;    /* the section's: where the last symbol ends */
  CgDataSymbol *syms; /* by offset */
  int nsyms;
  /* Set for separate weights: the section is zeroed writable space
   * (.bss.hloc_weights, no bytes in the object) and this global symbol
   * (N_weights) names all of it. */
  char *region_symbol;
};

/* object.c: the section's bytes as pieces to write one after another
 * (each symbol's bytes and the zeros before it), appended to (*v)[0..n)
 * (realloc'd); returns the new count.  The pieces point into d. */
int cg_data_pieces(const CgData *d, struct iovec **v, int n);

/* object.c: one relocatable ELF object out of n (a program's parts') and
 * its constants: sections of one name concatenated, symbol tables merged,
 * hidden definitions and the constants local, undefined symbols resolved.
 * The file is *head, then the constants' bytes as cg_data_pieces gives
 * them (none with separate weights, or without constants), then *tail;
 * both malloc'd. */
HloError *cg_object_merge_around(const char *const *objs, const size_t *lens, int n,
                                 const CgData *data, HloStr *head, HloStr *tail);
/* The same object in one buffer (*out, malloc'd). */
HloError *cg_object_merge(const char *const *objs, const size_t *lens, int n,
                          const CgData *data, char **out, size_t *out_len);

/* ------------------------------------------------------------------------ */
/* kernel.c — the module being generated                                    */
/* ------------------------------------------------------------------------ */

struct CgGen {
  const HloModule *m;
  const char *prefix;         /* symbol prefix N */
  const CgTarget *target;
  CgPlan plan;
  KirModule *k;               /* the kernel IR being built */
  const char **global_of;     /* by instruction id: its constant's global */
  int nglobals;
  int nkernels;
  HloError *err;              /* the first error (sticky) */
};

/* Records an error unless one is already recorded. */
void cg_fail(CgGen *g, HloError *e);
void cg_fail_instr(CgGen *g, const HloInstr *x, const char *what);
/* The name of the read-only global holding constant x's literal. */
const char *cg_constant_global(CgGen *g, const HloInstr *x);
/* The memref type of an array shape. */
KirType cg_memref_type(CgGen *g, const HloShape *s);

/* legalize.c: the module codegen emits (m, or a rewritten copy of it when
 * m has forms the emitters do not take) and the options for it (argument
 * names follow the flattening of tuple parameters). */
typedef struct CgLegalized {
  const HloModule *m;
  CgOptions opts;
  HloModule *owned;  /* the copy, when one was made */
  char **arg_names;  /* owned: the flat argument names, with the copy */
  const char **arg_tf_names; /* owned array: their TensorFlow names (an
                              * array parameter keeps its own; a tuple's
                              * leaves have none) */
  /* owned, with the copy: each flat argument's and result leaf's element
   * type in m (c64/c128 where the copy holds its pairs: complex.c) */
  HloType *arg_types, *result_types;
} CgLegalized;
HloError *cg_legalize(const HloModule *m, const CgOptions *o, CgLegalized *out);

/* complex.c: complex values as real arrays of (re, im) pairs, in
 * legalize.c's copy.  cg_complex_check refuses, naming x, what has no
 * such form; cg_complex_lower builds x's form in c from its operands'
 * (NULL: x's clone with the shape cg_complex_shape gives will do). */
bool cg_shape_has_complex(const HloShape *s);
bool cg_instr_has_complex(const HloInstr *x);
HloShape cg_complex_shape(HloArena *a, const HloShape *s);
HloError *cg_complex_check(const HloInstr *x);
HloInstr *cg_complex_lower(HloComputation *c, const HloInstr *x, HloInstr *const *ops);
/* An array constant of l's pairs (l complex). */
HloInstr *cg_complex_constant(HloComputation *c, const HloLiteral *l, const char *name);
void cg_legalized_free(CgLegalized *l);

/* A module's kernels, built: the kernel IR, the signature of the function
 * it defines, and the legalized module, whose literals are the bytes of
 * the globals that are no packed constants (so it lives until the program
 * has taken them: collect_constants, codegen.c). */
typedef struct CgKernels {
  KirModule *k;
  CgSignature sig;
  CgLegalized legal;
} CgKernels;
HloError *cg_generate(const HloModule *m, const CgOptions *opts, const CgTarget *t,
                      CgKernels *out);
/* Frees the IR and the legalized module; the signature stays. */
void cg_kernels_free(CgKernels *k);
/* m's kernels as cg_program_build gets them for opts' target, verified:
 * for a GPU, with the entry's launches and before host.c rewrites it for
 * the host (what kir_interp.h runs).  On error nothing is left to free. */
HloError *cg_kernels_build(const HloModule *m, const CgOptions *opts, CgKernels *out);

/* ------------------------------------------------------------------------ */
/* elemental.c — elements of instructions                                   */
/* ------------------------------------------------------------------------ */

/* How a function being emitted obtains an instruction's elements. */
typedef enum CgSrcKind {
  CG_SRC_COMPUTE, /* emit its computation from its operands' elements */
  CG_SRC_MEMREF,  /* load from memrefs (one per leaf) */
  CG_SRC_SCALARS, /* bound scalar values (one per leaf): parameters of an
                   * inlined scalar computation */
  CG_SRC_ALIAS,   /* the elements of another instruction, `alias` (a fused
                   * parameter reads the fusion's operand) */
} CgSrcKind;

typedef struct CgSrc {
  CgSrcKind kind;
  int n;
  CgVal *vals;               /* MEMREF: n values (owned); SCALARS: n values
                              * (borrowed from the cg_apply caller, or owned:
                              * cg_bind_value) */
  const HloInstr *alias;     /* ALIAS */
} CgSrc;

typedef struct CgMemo CgMemo;

/* A region being built (a loop's body, a branch) and the memo's size when
 * it opened: what the memo held then is available before the region's op. */
typedef struct CgScope {
  KirOp *op;
  int mark;
} CgScope;

enum { CG_NT_MAX = 4 };

/* One kernel-IR function being emitted. */
struct CgFn {
  CgGen *g;
  KirFunc *fn;
  KirBuilder b;   /* where the next op goes */
  CgSrc *src;     /* by instruction id; default CG_SRC_COMPUTE */
  CgMemo *memo;   /* (instruction, index) → values, a scoped stack */
  int nmemo, memo_cap;
  CgScope *scopes; /* the regions open around the insertion point */
  int nscopes, scope_cap;
  /* Vector mode (cg_elem_vec): the last index value is the first of
   * vlanes consecutive positions along the last dim, every element is a
   * vector of them, and vmask (0: all) the lanes inside the array. */
  int vlanes;
  CgVal vmask;
  /* A parallel-for task (kernel.c): the kernel's loop nest runs its loop
   * over dim par_dim (of par_n iterations, the dims before it being 1)
   * over [par_lo, par_hi) only (index values).  In a group's task: the
   * row par_lo of the nest's first par_dim dims (row-major) only. */
  bool par;
  int par_dim;
  int64_t par_n;
  CgVal par_lo, par_hi;
  /* A group's task (CgTask.group): `group` threads run it together, this
   * one being number `lane` (an index value); they all run the ops
   * emitted while exactly `uniform` regions are open (kernel.c keeps
   * every thread of the group there: no branch on the lane, no loop
   * whose trip count differs between them), and a reduction emitted
   * there is the group's (CgBackend.group_reduce).  group 0: no group. */
  int group;
  CgVal lane;
  int uniform;
  bool columns;   /* a column kernel's task (kernel.c) */
  bool tiled;     /* a tile's task (CgBackend.tiles) */
  /* A row kernel's pass that a later pass over the same row follows
   * (kernel.c, a reduction hoisted before the sweep): it does not
   * prefetch the next row (reduce.c, "Prefetching the next row"). */
  bool early_pass;
  /* The sweep over the last dim covers a task's range of it only (a
   * kernel split along it): a row fill hoisted before it fills that
   * range (dot.c, CgRow.lo). */
  bool split_row;
  /* Vector stores of the sweep into these memrefs stream past the caches
   * (kernel.c, "Streaming stores"), from addresses known to be multiples
   * of nt_align[k] bytes. */
  int nnt;
  CgVal nt_mem[CG_NT_MAX];
  int nt_align[CG_NT_MAX];
  bool streamed;  /* a sweep streamed: the nest ends with a stream fence */
};

void cg_fn_init(CgFn *f, CgGen *g, KirFunc *fn);
void cg_fn_free(CgFn *f);
void cg_bind_memrefs(CgFn *f, const HloInstr *x, int n, const CgVal *memrefs);
void cg_bind_alias(CgFn *f, const HloInstr *x, const HloInstr *alias);
/* Back to computing x from its operands. */
void cg_bind_compute(CgFn *f, const HloInstr *x);
/* x's element is v wherever it is read (a register tile's accumulator). */
void cg_bind_value(CgFn *f, const HloInstr *x, CgVal v);

/* The element of array-shaped x at idx (x->shape.rank index values). */
CgVal cg_elem(CgFn *f, const HloInstr *x, const CgVal *idx);
/* `lanes` consecutive elements of x along its last dim from idx, as a
 * vector (mask: see CgSweep; lanes it leaves out hold anything).  Ops
 * whose elements along the last dim come from consecutive operand
 * elements (elementwise ops, broadcasts, reshapes and transposes that keep
 * the last dim, unit-stride slices, loads) are computed as vectors; others
 * one lane at a time.  cg_vec_native says whether all of x's computation
 * at such an index is vectors. */
CgVal cg_elem_vec(CgFn *f, const HloInstr *x, const CgVal *idx, int lanes, CgVal mask);
int cg_elems_vec(CgFn *f, const HloInstr *x, const CgVal *idx, int lanes, CgVal mask,
                 CgVal *out);
bool cg_vec_native(const CgFn *f, const HloInstr *x);
/* x itself is computed as vectors in vector mode (its operands may not). */
bool cg_vec_direct(const HloInstr *x);
/* The elements of every leaf of x at idx (all leaves share the index:
 * variadic reduce, tuples of such); returns the number of leaves. */
int cg_elems(CgFn *f, const HloInstr *x, const CgVal *idx, CgVal *out);
/* The memref x's elements are loaded from, when they are (a kernel
 * parameter, or a constant's global), so that they can be loaded as
 * vectors; else 0 (x is computed). */
CgVal cg_memref_source(CgFn *f, const HloInstr *x);
/* Element of x's operand i at idx; a scalar operand of a non-scalar
 * elementwise op is read at the empty index. */
CgVal cg_operand(CgFn *f, const HloInstr *x, int i, const CgVal *idx);
/* Inlines scalar computation c on args (one per parameter); writes one
 * value per leaf of its root to results; returns their count. */
int cg_apply(CgFn *f, const HloComputation *c, const CgVal *args,
             CgVal *results);

/* Memory and regions, keeping the memo's scopes in step with the IR's. */
CgVal cg_load(CgFn *f, CgVal memref, const HloShape *s, const CgVal *idx);
void cg_store(CgFn *f, CgVal v, CgVal memref, const HloShape *s,
              const CgVal *idx);
/* The type of a value of the function being emitted. */
static inline KirType cg_type(const CgFn *f, CgVal v) { return kir_type(f->fn, v); }

typedef struct CgLoop {
  KirOp *op;
  CgVal iv;       /* the induction variable (index) */
  CgVal iters;    /* first loop-carried value (niter consecutive values) */
  CgVal results;  /* first result after the loop */
  int niter;
  KirBuilder after; /* where emission resumes after the loop */
} CgLoop;
/* for iv in [0, n) with niter loop-carried values starting at init;
 * emission continues inside the body. */
CgLoop cg_for(CgFn *f, int64_t n, int niter, const CgVal *init);
/* The same over [lo, hi) (index values). */
CgLoop cg_for_range(CgFn *f, CgVal lo, CgVal hi, int niter, const CgVal *init);
/* The same over [lo, hi) in steps of `step`. */
CgLoop cg_for_step(CgFn *f, int64_t lo, int64_t hi, int64_t step, int niter, const CgVal *init);
/* The same over [lo, hi) in steps of `step` (index values). */
CgLoop cg_for_values(CgFn *f, CgVal lo, CgVal hi, CgVal step, int niter, const CgVal *init);
/* Yields the carried values (niter of them) and resumes after the loop. */
void cg_for_end(CgFn *f, CgLoop *l, const CgVal *yields);

typedef struct CgIf {
  KirOp *op;
  CgVal results;  /* first of nres results */
  int nres;
  KirBuilder after;
} CgIf;
/* An if on cond with nres results of the given types; emission continues
 * in the then-region. */
CgIf cg_if(CgFn *f, CgVal cond, int nres, const KirType *types);
void cg_else(CgFn *f, CgIf *c, const CgVal *yields);
void cg_endif(CgFn *f, CgIf *c, const CgVal *yields);

/* A sweep over [0, n) by vectors of `lanes` elements: the full vectors,
 * then the rest (when n is not a multiple) as one masked vector or, with
 * scalar_tail, element by element.  while (cg_sweep_next(f, &s)) { … s.j,
 * s.now, s.mask … } emits the body for each: j is the first element's
 * index, `now` the lanes of this step (0: one element, a scalar), mask 0
 * for a full vector, else the i1 vector of the lanes inside [0, n).  Up
 * to CG_SWEEP_UNROLL full vectors are emitted one after the other, more as
 * a loop (LLVM's loop unroller is off: cpu_optimize).
 *
 * Scalar tails exist because LLVM 22 miscompiles some masked stores: a
 * one-lane masked store of a truncated vector (<4 x i16> from <4 x i64>)
 * becomes a store of the whole untruncated element, past the row. */
enum { CG_SWEEP_UNROLL = 4 };
typedef struct CgSweep {
  int64_t n;
  int lanes;
  bool scalar_tail;
  int phase;    /* 0: nothing emitted; 1: in the loop; 2 + k: k emitted */
  CgLoop loop;
  CgVal j, mask;
  int now;
} CgSweep;
static inline CgSweep cg_sweep(int64_t n, int lanes, bool scalar_tail) {
  return (CgSweep){.n = n, .lanes = lanes, .scalar_tail = scalar_tail};
}
bool cg_sweep_next(CgFn *f, CgSweep *s);
/* `lanes` consecutive elements of memref m along its last dim from idx
 * (lanes 0: the one element); where mask is given (not 0), only its lanes
 * (the others read 0).  cg_vstore stores a vector or an element. */
CgVal cg_vload(CgFn *f, CgVal m, const CgVal *idx, int lanes, CgVal mask);
void cg_vstore(CgFn *f, CgVal v, CgVal m, const CgVal *idx, CgVal mask);

/* Emission at another point: ops go before `op`, a loop or branch open
 * around the insertion point (or the insertion point's own block when op
 * is NULL: nothing changes), and the memo serves only what is available
 * there.  cg_resume returns to where emission was. */
typedef struct CgDetour {
  KirBuilder saved;
  CgMemo *memo;         /* the memo's entries set aside … */
  int nmemo;
  int mark;             /* … from its size when op opened */
  CgScope *scopes;      /* the scopes set aside (op's and those inside) … */
  int nscopes;
  int depth;            /* … from this depth */
} CgDetour;
CgDetour cg_detour(CgFn *f, KirOp *op);
void cg_resume(CgFn *f, CgDetour *d);
/* The innermost open region's op whose body has v as an argument (the loop
 * whose induction variable v is), or NULL. */
KirOp *cg_open_loop_of(const CgFn *f, CgVal v);

/* Index arithmetic (values of type index). */
CgVal cg_index(CgFn *f, int64_t v);
CgVal cg_iop(CgFn *f, KirOpcode op, CgVal a, CgVal b);
CgVal cg_iadd_c(CgFn *f, CgVal a, int64_t c);
CgVal cg_imul_c(CgFn *f, CgVal a, int64_t c);
/* An integer element (register type of t) as an index, and back. */
CgVal cg_to_index(CgFn *f, CgVal v, HloType t);
CgVal cg_from_index(CgFn *f, CgVal v, HloType t);
/* clamp(v, lo, hi) on index values (signed). */
CgVal cg_iclamp(CgFn *f, CgVal v, int64_t lo, int64_t hi);
/* Whether dimension list d holds v. */
bool cg_dims_contain(const HloDims *d, int64_t v);
/* Comparisons and boolean (i1) ops. */
CgVal cg_icmp(CgFn *f, KirIPred pred, CgVal a, CgVal b);
CgVal cg_and(CgFn *f, CgVal a, CgVal b);
CgVal cg_select(CgFn *f, CgVal c, CgVal a, CgVal b);

/* ------------------------------------------------------------------------ */
/* scalar.c — element-type semantics on register values                     */
/* ------------------------------------------------------------------------ */

/* A scalar constant of element type t (register representation). */
CgVal cg_const(CgFn *f, HloType t, double v);
CgVal cg_const_bits(CgFn *f, HloType t, uint64_t bits);
/* The element i (row-major) of an array literal as a constant. */
CgVal cg_literal_elem(CgFn *f, const HloLiteral *l, int64_t i);
/* f16/bf16 bits → f32 and back (round to nearest even); identity for
 * f32/f64.  cg_float_elem: the register type arithmetic on t uses. */
CgVal cg_to_float(CgFn *f, CgVal v, HloType t);
CgVal cg_from_float(CgFn *f, CgVal v, HloType t);
KirElem cg_float_elem(HloType t);
/* Elementwise HLO ops on register values; `t` is the operand type. */
CgVal cg_unary(CgFn *f, const HloInstr *x, HloType t, CgVal a);
CgVal cg_binary(CgFn *f, HloOpcode op, HloType t, CgVal a, CgVal b);
CgVal cg_compare(CgFn *f, HloCompareDir dir, HloCompareType ct, HloType t,
                 CgVal a, CgVal b);
CgVal cg_convert(CgFn *f, CgVal v, HloType from, HloType to);
/* Reinterprets v between two types of equal width (f32 <-> s32, …). */
CgVal cg_bitcast(CgFn *f, CgVal v, HloType from, HloType to);

/* ------------------------------------------------------------------------ */
/* math.c — transcendentals (the one place they are emitted)                */
/* ------------------------------------------------------------------------ */

/* op on f32 or f64 values (scalars or vectors). */
CgVal cg_math_unary(CgFn *f, HloOpcode op, CgVal a);
CgVal cg_math_binary(CgFn *f, HloOpcode op, CgVal a, CgVal b);
bool cg_math_handles(HloOpcode op);

/* ------------------------------------------------------------------------ */
/* Elemental emitters of the non-trivial ops                                */
/* ------------------------------------------------------------------------ */

int cg_elem_reduce(CgFn *f, const HloInstr *x, const CgVal *idx, CgVal *out);
/* Whether reduce x reduces the trailing dims of its input (the rows a
 * group of threads reduces together, CgBackend.groups), or keeps its
 * minor dim (the columns). */
bool cg_reduces_trailing(const HloInstr *x);
bool cg_reduces_columns(const HloInstr *x);
/* Reduce x runs as vectors along its minor dim, which it keeps (one
 * output element a lane; reduce.c). */
bool cg_reduce_vec_direct(const HloInstr *x);
/* Column reductions by rows (reduce.c): xs[0..n) (cg_reduce_vec_direct,
 * each of the nest's dims and read only at the nest's full index idx,
 * whose first r - 1 values are set) over the columns [lo, hi) of the
 * nest's last dim (of ncols), each end moved up to a multiple of `lanes`
 * (or ncols), so that split ranges still cover each column once: in
 * blocks of `block` columns (cg_column_block: the most whose sums fill
 * half the target's L1), each block's sums in a stack buffer, the rows
 * outer and the vectors of `lanes` columns inner; then body(f, idx, ctx)
 * per vector of columns with xs[] bound to their sums, and per column
 * past the whole vectors. */
enum { CG_COLUMN_BY_ROWS_MAX = 8 };
int64_t cg_column_block(const CgTargetInfo *t, const HloInstr *const *xs, int n, int lanes);
/* Prefetching the next row (reduce.c, "Prefetching the next row"): the
 * memrefs the rows of values xs[] (of the dims of `rows`, read along its
 * last dim) are loaded from, and outs[] (of the same dims), as one dim
 * each; n is 0 when the rows are too short to prefetch, when there are
 * none, or in an early pass (CgFn.early_pass). */
enum { CG_ROW_PREFETCH_MAX = 4 };
typedef struct CgRowPrefetch {
  int n;
  CgVal mem[CG_ROW_PREFETCH_MAX];  /* the memrefs */
  CgVal flat[CG_ROW_PREFETCH_MAX]; /* … as one dim each */
  CgVal base;            /* the flat index prefetched for the row's first */
  int line;              /* elements a cache line */
} CgRowPrefetch;
/* idx: the row's index (its dims before the last). */
void cg_row_prefetch_plan(CgFn *f, const HloInstr *const *xs, int nx, const CgVal *outs,
                          const HloShape *const *out_shapes, int nouts, const HloShape *rows,
                          const CgVal *idx, CgRowPrefetch *p);
/* The prefetches for the `count` elements of the row from its element j. */
void cg_row_prefetch(CgFn *f, const CgRowPrefetch *p, CgVal j, int count);
void cg_reduce_columns_by_rows(CgFn *f, const HloInstr *const *xs, int n, int64_t block,
                               CgVal lo, CgVal hi, int64_t ncols, CgVal *idx, int r, int lanes,
                               void (*body)(CgFn *, const CgVal *, void *), void *ctx);
/* The columns of a column kernel's group (kernel.c): a warp's. */
enum { CG_COLUMN_TILE = 32 };
int cg_elem_reduce_window(CgFn *f, const HloInstr *x, const CgVal *idx,
                          CgVal *out);
CgVal cg_elem_dot(CgFn *f, const HloInstr *x, const CgVal *idx);
CgVal cg_elem_convolution(CgFn *f, const HloInstr *x, const CgVal *idx);
CgVal cg_elem_gather(CgFn *f, const HloInstr *x, const CgVal *idx);
/* The input position output position o reads through window tap wi along
 * one dim (sizes: output osz, window ksz, input isz; reduce.c).  When some
 * tap can fall into padding or between base-dilated elements, the
 * condition that it reads a real element is and-ed into *inside and
 * *checked is set. */
CgVal cg_window_position(CgFn *f, const HloWindowDim *w, CgVal o, CgVal wi, int64_t osz,
                         int64_t ksz, int64_t isz, CgVal *inside, bool *checked);
/* Gather and scatter: the operand start (rank index values, unclamped) of
 * the index grid position `grid` (one value per dim of `indices` other than
 * index dim ivd): index vector entry k goes to operand dim map[k]; operand
 * batching dim i takes the grid coordinate of index dim index_batching[i]. */
void cg_grid_start(CgFn *f, const HloInstr *indices, int64_t ivd,
                   const CgVal *grid, const HloDims *map,
                   const HloDims *operand_batching,
                   const HloDims *index_batching, int rank, CgVal *start);
/* The accumulator type of a dot or convolution producing t: f32 for f16,
 * bf16 and f32, f64 for f64, t itself for integers (dot.c). */
HloType cg_accum_type(HloType t);
/* A sum accumulated in cg_accum_type(rt) as a value of rt (dot.c). */
CgVal cg_from_accum(CgFn *f, CgVal s, HloType rt);

/* gemm.c: a kernel that is a canonical f32 dot, or an output fusion of one
 * with an elementwise epilogue, computed by register tiles. */
enum { CG_GEMM_MAX_MR = 16, CG_GEMM_MAX_NV = 4 };
struct CgGemm {
  const HloInstr *op;       /* the dot or convolution */
  const HloInstr *root;     /* what the kernel stores: op, or the fused
                             * root (its nest root) */
  int64_t B, M, N, K;       /* a conv: B 1, M its output pixels, N its
                             * output features, K taps × input features */
  int lanes;                /* of the vectors (the target's widest) */
  int mr, nv;               /* the register tile: mr rows × nv vectors */
  int64_t npanels;          /* of nv·lanes columns */
  int64_t ntiles;           /* rows of mr-row tiles */
  int64_t nunits;           /* B · npanels · ntiles: the tiles a parallel
                             * task takes a range of */
  const HloInstr *packed;   /* the constant B, packed at compile time */
  /* A convolution's geometry, two spatial dims (one is taken as two, the
   * first of size 1): input, output and kernel sizes, stride, window
   * dilation, low padding; IC input features. */
  int ns;
  int64_t in_sp[2], out_sp[2], k_sp[2], stride[2], dilate[2], pad_lo[2], IC;
  bool guarded;             /* some tap falls in padding */
  bool all_border;          /* … for some pixel of every tile */
  bool depthwise;           /* a group per feature: IC 1, the input read at
                             * the output's features */
  /* K blocking: the K loop runs in blocks of kc steps (a convolution's
   * within one tap), each block over a group of `group` tiles while its
   * kc × nr slice of B stays in L1, the tiles' sums kept in a stack buffer
   * between blocks; kc 0: one pass over K (its slice of B fits L1 whole). */
  int64_t kc;
  int group;
  bool prefetch;            /* … and the next block's slice of packed B
                             * fetched into L2 while a block runs */
  /* A depthwise convolution by rows (gemm.c, "Depthwise by rows"): a
   * tile is mr consecutive pixels of one output row (dw_tiles tiles per
   * row, the last of the rest) over all panels of nv vectors in turn, and
   * a unit one tile of one row (nunits: batch × output rows × dw_tiles). */
  bool dw_rows;
  int64_t dw_tiles;
  /* A convolution by Winograd (winograd.c): 3×3 by F(m×m, 3×3), 1×r or
   * r×1 by a 1-D F(m, r); wg_form the forms along the rows and columns
   * (winograd.c's indices, the identity on a kernel axis of size 1),
   * wg_mb the block's output rows and columns, wg_m the larger.
   * A tile is mr blocks of output pixels (wg_bh × wg_bw blocks an image,
   * wg_blocks in all), a unit one tile of one panel; the products' K
   * loop in blocks of wg_kc input features (wg_kc = IC: one pass), each
   * over a group of wg_group tiles whose sums wait in a stack buffer. */
  bool winograd;
  int wg_m, wg_form[2], wg_mb[2];
  int64_t wg_bh, wg_bw, wg_blocks, wg_kc, wg_group;
};
/* Whether kernel x is one (then *out plans it): f32, or (for a backend
 * with `tiles`, its register tiles left unplanned) f16 or bf16. */
bool cg_gemm_plan(const CgGen *g, const HloInstr *x, CgGemm *out);
/* The kernel's body, its operands bound, storing into memref out (of the
 * root's shape); in a parallel task, over its range of units. */
void cg_gemm_emit(CgFn *f, const CgGemm *gm, CgVal out);
/* The register tile gemm.c chooses for M rows by N columns: mr rows of nv
 * vectors of `lanes`. */
void cg_gemm_tile(const CgTargetInfo *t, int64_t M, int64_t N, int lanes, int *mr, int *nv);
/* winograd.c: whether planned convolution g (its direct tile chosen) runs
 * by Winograd instead (F(4×4, 3×3) or F(2×2, 3×3); for 1×r and r×1
 * kernels a 1-D F(m, r)) (then g is replanned for it); its
 * units [lo, hi) storing into out. */
bool cg_winograd_plan(const CgTargetInfo *t, CgGemm *g);
/* Whether convolution x (its kernel a constant) would run by Winograd
 * (before fusion: what the backend's policy tells conv-pad). */
bool cg_conv_by_winograd(const CgTargetInfo *t, const HloInstr *x);
void cg_winograd_emit(CgFn *f, const CgGemm *gm, CgVal out, CgVal lo, CgVal hi);

/* ------------------------------------------------------------------------ */
/* Kernels that are not elemental (write their outputs in place)            */
/* ------------------------------------------------------------------------ */

/* out[] are the memrefs of x's leaves, already holding copies of the
 * operands being updated. */
void cg_kernel_scatter(CgFn *f, const HloInstr *x, const CgVal *out);
/* Sorts operands op[] into x's leaves out[], with temp (a u8 memref of
 * cg_sort_temp_bytes(x) bytes; 0 when that is 0) between. */
void cg_kernel_sort(CgFn *f, const HloInstr *x, const CgVal *out, const CgVal *op,
                    CgVal temp);
int64_t cg_sort_temp_bytes(const HloInstr *x);
/* Element moves of x's sort (its cost): elements × merge passes. */
int64_t cg_sort_moves(const HloInstr *x);
/* The working memory x's kernel needs besides its outputs (bytes; the
 * backend's PassPolicy.kernel_temp_bytes). */
int64_t cg_kernel_temp_bytes(const HloInstr *x);

/* dot.c: float dots and convolutions (conv.c) whose output rows are
 * contiguous compute a whole row at a time with vector FMA into a row
 * buffer being filled (cg_row_begin … cg_row_end). */
typedef struct CgRow {
  CgVal buf, tag, row;
  CgIf c;
  int64_t n;
  int block;             /* rows filled at once (cg_row_begin_block) */
  CgVal in_block;        /* which of them idx's row is */
  bool hoisted;          /* the fill is built before the row's loop */
  CgDetour detour;       /* … by this detour */
  CgVal lo, hi;          /* hoisted, one row, CgFn.split_row: the loop's
                          * range, the only elements it reads (0: the
                          * whole row) */
} CgRow;
bool cg_row_order_ok(CgFn *f, const HloInstr *x);
CgRow cg_row_begin(CgFn *f, const HloShape *s, const CgVal *idx, int64_t n,
                   KirElem aty);
/* The same, filling `block` consecutive rows along dim rank-2 at once when
 * the fill can be hoisted (r.block says how many it does: 1 or block).
 * block must divide that dim. */
CgRow cg_row_begin_block(CgFn *f, const HloShape *s, const CgVal *idx, int64_t n,
                         KirElem aty, int block);
void cg_row_fma(CgFn *f, const CgRow *r, CgVal j, int u, const CgVal *a,
                const CgVal *b);
/* cg_row_fma on row p of the block. */
void cg_row_fma_at(CgFn *f, const CgRow *r, int p, CgVal j, int u, const CgVal *a,
                   const CgVal *b);
/* The vector form: j the first of `lanes` elements (mask: see CgSweep),
 * a[] broadcast to vectors, b[] vectors; lanes 0: elements. */
void cg_row_vfma_at(CgFn *f, const CgRow *r, int p, CgVal j, int u, const CgVal *a,
                    const CgVal *b, int lanes, CgVal mask);
/* The lanes the row sweep (of n elements) of a contraction producing t
 * loads its contiguous operand `op` with, its memref in *mem; 0 when op
 * cannot be loaded as vectors of the accumulator (computed, or of another
 * type) or the row is too short. */
int cg_row_lanes(CgFn *f, const HloInstr *op, HloType t, int64_t n, CgVal *mem);
int cg_row_unroll(int64_t k, int64_t n);
CgVal cg_row_end(CgFn *f, CgRow *r, CgVal j);

/* Frees what a signature owns (kernel.c builds it). */
void cg_signature_free(CgSignature *s);

#endif /* HLOC_CODEGEN_INTERNAL_H */
