/*
 * kir.h — the kernel IR: the small typed SSA IR every kernel of codegen/ is
 * built in before it is printed, once, as MLIR (DESIGN.md decision 3).
 * Internal to codegen/ (the public header is codegen.h).
 *
 * Why an IR of our own and not MLIR's C API: the emitters want to place
 * code at a loop depth they choose (a row fill hoisted out of the loop over
 * the row, a tile computed before the loops that read it), to move ops,
 * and to ask "is this value available here?".  Building MLIR through its
 * C API gives none of that cheaply, and writing MLIR text directly (what
 * codegen did before) made every such move an edit of text.  So kernels
 * are built here, verified here, and printed at the end; MLIR still parses
 * and lowers them (mlirModuleCreateParse).
 *
 * The IR, in the spirit of XLA's loop emitters and tinygrad's UOps:
 *   - a value has a type: an element kind (i1…i64, f32, f64, index, an
 *     opaque pointer, a memref) and a lane count (0: a scalar, N: a vector
 *     of N lanes);
 *   - an op has operands, results (consecutive values), attributes and
 *     regions; structured control flow only: `for` (bounds and step are
 *     values; loop-carried values for accumulators), `if`, `while`,
 *     `switch`, each region one block whose arguments are the loop
 *     variable and carried values;
 *   - a function owns its values and one body block; a module owns
 *     functions, declarations of external functions, read-only globals
 *     (whose bytes never become text nor LLVM IR: codegen writes them into
 *     the object, object.c) and an arena holding everything.
 * Builders insert at an insertion point (before an op, at the start or the
 * end of a block).  kir_verify checks types, dominance and region
 * structure; kir_print_mlir writes MLIR (func, scf, arith, math, vector,
 * memref, and the few llvm-dialect ops a parallel-for, a cancellation
 * poll and a profiler's hooks need; gpu and a gpu.module for a GPU's
 * device functions); kir_print writes the readable form `hloc dump --stage kir`
 * shows.
 *
 * Values are small integers, per function; 0 is "no value".  Results of
 * one op are consecutive, and so are the arguments of one block, so a
 * caller may index them from the first.
 */
#ifndef HLOC_CODEGEN_KIR_H
#define HLOC_CODEGEN_KIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hlo.h"

/* ------------------------------------------------------------------------ */
/* Types                                                                    */
/* ------------------------------------------------------------------------ */

typedef enum KirElem {
  KIR_VOID,   /* no value */
  KIR_I1,
  KIR_I8,
  KIR_I16,
  KIR_I32,
  KIR_I64,
  KIR_F32,
  KIR_F64,
  KIR_INDEX,  /* the target's pointer-sized integer, for addressing */
  KIR_PTR,    /* an opaque pointer */
  KIR_MEMREF, /* a static, row-major buffer: KirType.mref says which */
} KirElem;

typedef struct KirType {
  uint8_t elem;    /* KirElem */
  uint16_t lanes;  /* 0: a scalar; N >= 1: a vector of N lanes */
  int32_t mref;    /* KIR_MEMREF: index into the module's memref types */
} KirType;

/* A memref type: element kind (a scalar kind: pred is i8 in memory,
 * f16/bf16 are i16) and static dims, row-major; in a memory space. */
typedef enum KirSpace {
  KIR_SPACE_DEFAULT, /* the target's ordinary memory (a GPU's global memory) */
  KIR_SPACE_SHARED,  /* a GPU block's shared memory (the gpu dialect's
                      * workgroup space): only SHARED makes such memrefs */
} KirSpace;
typedef struct KirMemref {
  uint8_t elem;
  uint8_t space;   /* KirSpace */
  int rank;
  int64_t dims[HLO_MAX_RANK];
} KirMemref;

static inline KirType kir_scalar(KirElem e) { return (KirType){(uint8_t)e, 0, 0}; }
static inline KirType kir_vector(KirElem e, int lanes) {
  return (KirType){(uint8_t)e, (uint16_t)lanes, 0};
}
static inline bool kir_type_eq(KirType a, KirType b) {
  return a.elem == b.elem && a.lanes == b.lanes && (a.elem != KIR_MEMREF || a.mref == b.mref);
}
bool kir_elem_is_int(KirElem e);   /* i1…i64 and index */
bool kir_elem_is_float(KirElem e); /* f32, f64 */
int kir_elem_bits(KirElem e);      /* i1: 1, index: 64 */

/* ------------------------------------------------------------------------ */
/* Ops                                                                      */
/* ------------------------------------------------------------------------ */

/* Op classes: how the verifier checks an op and how printers lay it out. */
typedef enum KirClass {
  KIR_C_CONST,   /* a constant: imm holds the bits, a vector is a splat;
                  * IOTA: the integer vector 0, 1, 2, … */
  KIR_C_IBIN,    /* two integer operands of one type, that type out */
  KIR_C_FBIN,    /* the same on floats */
  KIR_C_IUN,     /* one integer operand, same type out */
  KIR_C_FUN,     /* one float operand, same type out */
  KIR_C_FMA,     /* a * b + c, one rounding */
  KIR_C_CMPI,    /* integer compare (pred: KirIPred) → i1 (same lanes) */
  KIR_C_CMPF,    /* float compare (pred: KirFPred) → i1 */
  KIR_C_SELECT,  /* cond ? a : b */
  KIR_C_CAST,    /* one operand to the result type */
  KIR_C_MEM,     /* loads, stores, buffers */
  KIR_C_VEC,     /* lane movement: broadcast, extract, insert, reduce, shuffle */
  KIR_C_CTRL,    /* structured control flow and terminators */
  KIR_C_CALL,    /* calls, returns, the parallel-for of the CPU runtime */
  KIR_C_GPU,     /* a GPU's thread and block ids and dims (along x, in
                  * device functions), its block's shared memory, barrier
                  * and warp shuffles, and kernel launches (in host ones) */
} KirClass;

/* X(enum suffix, readable name, MLIR name, class) */
#define KIR_OPCODES(X)                                                   \
  X(CONST, "const", "arith.constant", KIR_C_CONST)                       \
  X(IOTA, "iota", "arith.constant", KIR_C_CONST)                         \
  X(ADDI, "addi", "arith.addi", KIR_C_IBIN)                              \
  X(SUBI, "subi", "arith.subi", KIR_C_IBIN)                              \
  X(MULI, "muli", "arith.muli", KIR_C_IBIN)                              \
  X(DIVSI, "divsi", "arith.divsi", KIR_C_IBIN)                           \
  X(DIVUI, "divui", "arith.divui", KIR_C_IBIN)                           \
  X(REMSI, "remsi", "arith.remsi", KIR_C_IBIN)                           \
  X(REMUI, "remui", "arith.remui", KIR_C_IBIN)                           \
  X(ANDI, "andi", "arith.andi", KIR_C_IBIN)                              \
  X(ORI, "ori", "arith.ori", KIR_C_IBIN)                                 \
  X(XORI, "xori", "arith.xori", KIR_C_IBIN)                              \
  X(SHLI, "shli", "arith.shli", KIR_C_IBIN)                              \
  X(SHRSI, "shrsi", "arith.shrsi", KIR_C_IBIN)                           \
  X(SHRUI, "shrui", "arith.shrui", KIR_C_IBIN)                           \
  X(MAXSI, "maxsi", "arith.maxsi", KIR_C_IBIN)                           \
  X(MINSI, "minsi", "arith.minsi", KIR_C_IBIN)                           \
  X(MAXUI, "maxui", "arith.maxui", KIR_C_IBIN)                           \
  X(MINUI, "minui", "arith.minui", KIR_C_IBIN)                           \
  X(ADDF, "addf", "arith.addf", KIR_C_FBIN)                              \
  X(SUBF, "subf", "arith.subf", KIR_C_FBIN)                              \
  X(MULF, "mulf", "arith.mulf", KIR_C_FBIN)                              \
  X(DIVF, "divf", "arith.divf", KIR_C_FBIN)                              \
  X(REMF, "remf", "arith.remf", KIR_C_FBIN)                              \
  X(SCALEF, "scalef", "llvm.call_intrinsic", KIR_C_FBIN)                 \
  X(ABSI, "absi", "math.absi", KIR_C_IUN)                                \
  X(CTPOP, "ctpop", "math.ctpop", KIR_C_IUN)                             \
  X(CTLZ, "ctlz", "math.ctlz", KIR_C_IUN)                                \
  X(NEGF, "negf", "arith.negf", KIR_C_FUN)                               \
  X(ABSF, "absf", "math.absf", KIR_C_FUN)                                \
  X(SQRT, "sqrt", "math.sqrt", KIR_C_FUN)                                \
  X(FLOOR, "floor", "math.floor", KIR_C_FUN)                             \
  X(CEIL, "ceil", "math.ceil", KIR_C_FUN)                                \
  X(ROUND, "round", "math.round", KIR_C_FUN)                             \
  X(ROUNDEVEN, "roundeven", "math.roundeven", KIR_C_FUN)                 \
  X(FMA, "fma", "math.fma", KIR_C_FMA)                                   \
  X(CMPI, "cmpi", "arith.cmpi", KIR_C_CMPI)                              \
  X(CMPF, "cmpf", "arith.cmpf", KIR_C_CMPF)                              \
  X(SELECT, "select", "arith.select", KIR_C_SELECT)                      \
  X(EXTUI, "extui", "arith.extui", KIR_C_CAST)                           \
  X(EXTSI, "extsi", "arith.extsi", KIR_C_CAST)                           \
  X(TRUNCI, "trunci", "arith.trunci", KIR_C_CAST)                        \
  X(SITOFP, "sitofp", "arith.sitofp", KIR_C_CAST)                        \
  X(UITOFP, "uitofp", "arith.uitofp", KIR_C_CAST)                        \
  X(FPTOSI, "fptosi", "arith.fptosi", KIR_C_CAST)                        \
  X(FPTOUI, "fptoui", "arith.fptoui", KIR_C_CAST)                        \
  X(EXTF, "extf", "arith.extf", KIR_C_CAST)                              \
  X(TRUNCF, "truncf", "arith.truncf", KIR_C_CAST)                        \
  X(BITCAST, "bitcast", "arith.bitcast", KIR_C_CAST)                     \
  X(INDEX_CAST, "index_cast", "arith.index_cast", KIR_C_CAST)            \
  X(INDEX_CASTUI, "index_castui", "arith.index_castui", KIR_C_CAST)      \
  X(LOAD, "load", "memref.load", KIR_C_MEM)                              \
  X(STORE, "store", "memref.store", KIR_C_MEM)                           \
  X(VLOAD, "vload", "vector.load", KIR_C_MEM)                            \
  X(VSTORE, "vstore", "vector.store", KIR_C_MEM)                         \
  X(MLOAD, "mload", "vector.maskedload", KIR_C_MEM)                      \
  X(MSTORE, "mstore", "vector.maskedstore", KIR_C_MEM)                   \
  X(PREFETCH, "prefetch", "memref.prefetch", KIR_C_MEM)                  \
  X(ALLOCA, "alloca", "memref.alloca", KIR_C_MEM)                        \
  X(GLOBAL, "global", "memref.get_global", KIR_C_MEM)                    \
  X(VIEW, "view", "memref.view", KIR_C_MEM)                              \
  X(RESHAPE, "reshape", "memref.reinterpret_cast", KIR_C_MEM)            \
  X(COPY, "copy", "memref.copy", KIR_C_MEM)                              \
  X(ADDR, "addr", "memref.extract_aligned_pointer_as_index", KIR_C_MEM)  \
  X(STREAM_FENCE, "stream_fence", "llvm.call_intrinsic", KIR_C_MEM)      \
  X(BROADCAST, "broadcast", "vector.broadcast", KIR_C_VEC)               \
  X(EXTRACT, "extract", "vector.extract", KIR_C_VEC)                     \
  X(INSERT, "insert", "vector.insert", KIR_C_VEC)                        \
  X(REDUCE, "reduce", "vector.reduction", KIR_C_VEC)                     \
  X(SHUFFLE, "shuffle", "vector.shuffle", KIR_C_VEC)                     \
  X(FOR, "for", "scf.for", KIR_C_CTRL)                                   \
  X(IF, "if", "scf.if", KIR_C_CTRL)                                      \
  X(WHILE, "while", "scf.while", KIR_C_CTRL)                             \
  X(SWITCH, "switch", "scf.index_switch", KIR_C_CTRL)                    \
  X(YIELD, "yield", "scf.yield", KIR_C_CTRL)                             \
  X(CONDITION, "condition", "scf.condition", KIR_C_CTRL)                 \
  X(CALL, "call", "func.call", KIR_C_CALL)                               \
  X(RETURN, "return", "func.return", KIR_C_CALL)                         \
  X(PACK, "pack", "llvm.alloca", KIR_C_CALL)                             \
  X(UNPACK, "unpack", "llvm.load", KIR_C_CALL)                           \
  X(PARALLEL_FOR, "parallel_for", "func.call", KIR_C_CALL)               \
  X(POLL, "poll", "llvm.load", KIR_C_CALL)                               \
  X(NONNULL, "nonnull", "llvm.icmp", KIR_C_CALL)                         \
  X(HOOK, "hook", "llvm.call", KIR_C_CALL)                               \
  X(THREAD_ID, "thread_id", "gpu.thread_id", KIR_C_GPU)                  \
  X(BLOCK_ID, "block_id", "gpu.block_id", KIR_C_GPU)                     \
  X(BLOCK_DIM, "block_dim", "gpu.block_dim", KIR_C_GPU)                  \
  X(GRID_DIM, "grid_dim", "gpu.grid_dim", KIR_C_GPU)                     \
  X(SHARED, "shared", "memref.get_global", KIR_C_GPU)                  \
  X(BARRIER, "barrier", "gpu.barrier", KIR_C_GPU)                       \
  X(SHFL_XOR, "shfl_xor", "gpu.shuffle", KIR_C_GPU)                     \
  X(MMA, "mma", "nvvm.mma.sync", KIR_C_GPU)                              \
  X(WGMMA_DESC, "wgmma_desc", "arith.ori", KIR_C_GPU)                    \
  X(WGMMA, "wgmma", "nvvm.wgmma.mma_async", KIR_C_GPU)                   \
  X(WGMMA_FENCE, "wgmma_fence", "nvvm.wgmma.fence.aligned", KIR_C_GPU)   \
  X(WGMMA_COMMIT, "wgmma_commit", "nvvm.wgmma.commit.group.sync.aligned", KIR_C_GPU) \
  X(WGMMA_WAIT, "wgmma_wait", "nvvm.wgmma.wait.group.sync.aligned", KIR_C_GPU) \
  X(ASYNC_FENCE, "async_fence", "nvvm.fence.proxy", KIR_C_GPU)           \
  X(LAUNCH, "launch", "gpu.launch_func", KIR_C_GPU)

typedef enum KirOpcode {
#define X(e, name, mlir, cls) KIR_##e,
  KIR_OPCODES(X)
#undef X
  KIR_NUM_OPCODES
} KirOpcode;

const char *kir_opcode_name(KirOpcode op);
const char *kir_opcode_mlir_name(KirOpcode op);
KirClass kir_opcode_class(KirOpcode op);

typedef enum KirIPred {
  KIR_EQ, KIR_NE, KIR_SLT, KIR_SLE, KIR_SGT, KIR_SGE, KIR_ULT, KIR_ULE, KIR_UGT, KIR_UGE,
} KirIPred;

/* Ordered (o*: false when either is NaN) and unordered (u*: true then). */
typedef enum KirFPred {
  KIR_OEQ, KIR_ONE, KIR_OLT, KIR_OLE, KIR_OGT, KIR_OGE, KIR_ORD,
  KIR_UEQ, KIR_UNE, KIR_ULTF, KIR_ULEF, KIR_UGTF, KIR_UGEF, KIR_UNO,
} KirFPred;

/* How REDUCE combines lanes. */
typedef enum KirCombine {
  KIR_COMBINE_ADD, KIR_COMBINE_MUL, KIR_COMBINE_MAXF, KIR_COMBINE_MINF,
  KIR_COMBINE_AND, KIR_COMBINE_OR, KIR_COMBINE_XOR,
} KirCombine;

/* The predicates' and combiners' names, as MLIR spells them. */
const char *kir_ipred_name(KirIPred p);
const char *kir_fpred_name(KirFPred p);
const char *kir_combine_name(KirCombine c);

/* What MMA multiplies (KirOp.pred): the shape and the operands' type.
 * Every kind takes A as 4 i32 registers, B as 2 and C as 4 f32, and gives
 * D as 4 f32; which element of which matrix each lane's registers hold
 * is codegen/gpu/mma.c's table (gpu_mma_layout). */
typedef enum KirMmaKind {
  KIR_MMA_F16,  /* m16n8k16, f16 A and B, two to a register (the lower
                 * index in the low half) */
  KIR_MMA_BF16, /* m16n8k16, bf16 A and B, the same */
  KIR_MMA_TF32, /* m16n8k8, tf32 A and B, one to a register (an f32's bits
                 * of which the hardware reads the top 19) */
} KirMmaKind;
const char *kir_mma_name(KirMmaKind k); /* "f16", "bf16", "tf32"; "?" for no kind */

/* A wgmma's shared-memory matrix descriptor (PTX ISA, "Matrix Descriptor
 * Format" of the warpgroup-level matrix instructions), a 64-bit value:
 * bits 0-13 the matrix's start address in shared memory, 16-29 the
 * leading dimension byte offset (LBO), 32-45 the stride dimension byte
 * offset (SBO), each as its bytes >> 4; 49-51 the matrix base offset;
 * 62-63 the swizzle mode (0: none, 1: 128 B, 2: 64 B, 3: 32 B).  The
 * layout these fields describe, and the one the kernels use, is
 * codegen/gpu/wgmma.c's. */
enum {
  KIR_WGMMA_DESC_ADDR_SHIFT = 0,
  KIR_WGMMA_DESC_LBO_SHIFT = 16,
  KIR_WGMMA_DESC_SBO_SHIFT = 32,
  KIR_WGMMA_DESC_BASE_SHIFT = 49,
  KIR_WGMMA_DESC_SWIZZLE_SHIFT = 62,
  KIR_WGMMA_DESC_FIELD_MASK = 0x3FFF, /* the 14 bits of address, LBO, SBO */
};
/* The accumulators of a wgmma m64nNk* per thread (f32): N / 2. */
enum { KIR_WGMMA_M = 64, KIR_WGMMA_MAX_N = 256 };

/* Op flags. */
enum {
  KIR_F_CONTRACT = 1, /* float ops: may fuse with a neighbour (fastmath<contract>) */
  KIR_F_NONTEMPORAL = 2, /* VSTORE: bypasses the caches; imm: the address's alignment */
};

typedef struct KirBlock KirBlock;
typedef struct KirFunc KirFunc;
typedef struct KirModule KirModule;
typedef int KirVal; /* a value of a function; 0: none */

typedef struct KirOp {
  KirOpcode code;
  uint8_t pred;          /* CMPI: KirIPred; CMPF: KirFPred; REDUCE: KirCombine;
                          * MMA, WGMMA: KirMmaKind */
  uint8_t flags;         /* KIR_F_* */
  int nopnds;
  KirVal *opnds;
  int nres;
  KirVal res;            /* the first result */
  int nregions;
  KirBlock **regions;    /* FOR: body; IF: then, else; WHILE: before, after;
                          * SWITCH: case 0 … case n-2, default */
  int64_t imm;           /* CONST: the bits (a float's bit pattern);
                          * ALLOCA: alignment; EXTRACT/INSERT: the lane;
                          * UNPACK, HOOK: the slot; SHFL_XOR: the lane mask;
                          * WGMMA_DESC: the descriptor's fields but the
                          * address; WGMMA: N; WGMMA_WAIT: the groups
                          * left pending */
  const char *sym;       /* CALL, GLOBAL, PARALLEL_FOR, LAUNCH, SHARED: a
                          * symbol */
  int nmask;
  const int32_t *mask;   /* SHUFFLE: the result's lanes from a ++ b */
  struct KirOp *prev, *next;
  KirBlock *parent;
} KirOp;

struct KirBlock {
  KirOp *first, *last;
  KirOp *parent;         /* the op whose region it is; NULL: a function body */
  KirFunc *fn;
  int nargs;
  KirVal args;           /* the first argument */
};

/* What defines a value: an op's result or a block's argument. */
typedef struct KirValue {
  KirType type;
  KirOp *def;            /* its op, or NULL for a block argument */
  KirBlock *block;       /* a block argument's block */
  int index;             /* the result's or argument's position */
} KirValue;

struct KirFunc {
  const char *name;
  bool external;         /* a declaration only (libm, the runtime) */
  bool internal;         /* internal linkage (not exported) */
  bool noinline;
  /* A GPU's code (codegen/gpu/): device functions run on the GPU and are
   * printed in the module's gpu.module; a kernel is a device function the
   * host launches (LAUNCH), on `threads` threads (its grid-stride loop's
   * iterations; 0: one thread runs it all), in blocks of `block` threads
   * (0: as many as the launch picks; else a multiple of the warp that the
   * kernel's barriers and shuffles count on). */
  bool device;
  bool kernel;
  int64_t threads;
  int block;
  int nparams;
  KirType *params;
  int nresults;          /* 0 or 1 */
  KirType result;
  KirBlock *body;        /* NULL when external; its arguments are the params */
  KirValue *vals;        /* by KirVal; [0] unused */
  int nvals, cap;
  KirVal *consts;        /* scalar constants at the body's start, hashed by
                          * type and bits (open addressing; 0: empty) */
  int nconsts, const_cap;
  KirOp *last_const;     /* the last of them (they keep their order) */
  KirModule *m;
  KirFunc *next;
};

/* Makes a derived global's bytes (`dst`: its size, zeroed) from the bytes
 * it is derived from (`src`) as `how` says. */
typedef void (*KirFill)(void *dst, const void *src, const void *how);

/* A read-only buffer: a constant's bytes, never copied into text.  A
 * derived global (a constant packed for a contraction) is made only when
 * a program takes the module's bytes (collect_constants, codegen.c), so
 * that a model's weights need not exist in both forms while the kernels
 * are built; its source may then be freed as soon as it is made. */
typedef struct KirGlobal {
  const char *name;
  KirType type;          /* a memref */
  const void *data;      /* the caller's bytes (an HLO module's literal):
                          * this global's, or its source's when `fill` */
  size_t bytes;          /* this global's size */
  KirFill fill;          /* NULL, or how `bytes` bytes derive from `data` */
  const void *how;       /* fill's parameters (in the module's arena) */
} KirGlobal;

struct KirModule {
  HloArena *arena;
  KirFunc *first, *last;
  KirMemref *mrefs;
  int nmrefs, mref_cap;
  KirGlobal *globals;
  int nglobals, global_cap;
};

KirModule *kir_module_new(void);
void kir_module_free(KirModule *m);

/* The memref type of elem and dims (interned). */
KirType kir_memref(KirModule *m, KirElem elem, int rank, const int64_t *dims);
/* The same in a GPU block's shared memory. */
KirType kir_memref_shared(KirModule *m, KirElem elem, int rank, const int64_t *dims);
const KirMemref *kir_memref_of(const KirModule *m, KirType t);

/* A function with a body (params: its arguments' types). */
KirFunc *kir_func_new(KirModule *m, const char *name, int nparams, const KirType *params,
                      int nresults, const KirType *results);
/* The external function `name`, declared once per module. */
KirFunc *kir_func_declare(KirModule *m, const char *name, int nparams, const KirType *params,
                          int nresults, const KirType *results);
KirFunc *kir_func_find(const KirModule *m, const char *name);
/* A read-only global holding `bytes` bytes at `data` (not copied). */
void kir_global_new(KirModule *m, const char *name, KirType memref, const void *data,
                    size_t bytes);
/* A read-only global of `bytes` bytes that fill(dst, src, how) makes from
 * src (not copied; it must live as long as the module); `how` is copied
 * (how_bytes) into the module. */
void kir_global_derived(KirModule *m, const char *name, KirType memref, const void *src,
                        size_t bytes, KirFill fill, const void *how, size_t how_bytes);

static inline KirType kir_type(const KirFunc *f, KirVal v) { return f->vals[v].type; }
static inline KirVal kir_param(const KirFunc *f, int i) { return f->body->args + i; }
static inline KirVal kir_result(const KirOp *op, int i) { return op->res + i; }
static inline KirBlock *kir_region(const KirOp *op, int i) { return op->regions[i]; }
static inline KirVal kir_arg(const KirBlock *b, int i) { return b->args + i; }
/* The op whose region holds v as an argument (a loop's induction variable,
 * say), or NULL. */
KirOp *kir_arg_owner(const KirFunc *f, KirVal v);
/* Whether v may be used just before op `at` (defined in a block enclosing
 * `at`, and before it there). */
bool kir_available(const KirFunc *f, KirVal v, const KirOp *at);

/* ------------------------------------------------------------------------ */
/* Building                                                                 */
/* ------------------------------------------------------------------------ */

/* Where new ops go: before `before` in `block`, or at its end when NULL. */
typedef struct KirBuilder {
  KirFunc *fn;
  KirBlock *block;
  KirOp *before;
} KirBuilder;

void kir_at_end(KirBuilder *b, KirBlock *block);
void kir_at_start(KirBuilder *b, KirBlock *block);
void kir_before(KirBuilder *b, KirOp *op);
void kir_after(KirBuilder *b, KirOp *op);
/* Moves op (with its regions) to just before `anchor`. */
void kir_move_before(KirOp *op, KirOp *anchor);
/* Takes op out of its block (an op whose results nothing uses, replaced:
 * a call that became a launch). */
void kir_erase(KirOp *op);

/* Constants.  kir_const takes the bits of the element (a float's bit
 * pattern; integers truncated to their width); vectors are splats. */
KirVal kir_const(KirBuilder *b, KirType t, uint64_t bits);
KirVal kir_const_int(KirBuilder *b, KirType t, int64_t v);
KirVal kir_const_float(KirBuilder *b, KirType t, double v); /* rounded to t */
KirVal kir_index(KirBuilder *b, int64_t v);
KirVal kir_bool(KirBuilder *b, bool v);
/* The integer vector (0, 1, …, lanes-1) of element kind e. */
KirVal kir_iota(KirBuilder *b, KirElem e, int lanes);

KirVal kir_binop(KirBuilder *b, KirOpcode op, KirVal x, KirVal y);
KirVal kir_unop(KirBuilder *b, KirOpcode op, KirVal x);
KirVal kir_fma(KirBuilder *b, KirVal x, KirVal y, KirVal z);
KirVal kir_cmpi(KirBuilder *b, KirIPred p, KirVal x, KirVal y);
KirVal kir_cmpf(KirBuilder *b, KirFPred p, KirVal x, KirVal y);
KirVal kir_select(KirBuilder *b, KirVal c, KirVal x, KirVal y);
KirVal kir_cast(KirBuilder *b, KirOpcode op, KirVal x, KirType to);
/* The last op built, to set flags on it. */
KirOp *kir_last(const KirBuilder *b);

/* Memory.  idx has the memref's rank values (index). */
KirVal kir_load(KirBuilder *b, KirVal mem, const KirVal *idx);
void kir_store(KirBuilder *b, KirVal v, KirVal mem, const KirVal *idx);
/* `lanes` consecutive elements along the last dim from idx. */
KirVal kir_vload(KirBuilder *b, KirVal mem, const KirVal *idx, int lanes);
void kir_vstore(KirBuilder *b, KirVal v, KirVal mem, const KirVal *idx);
/* A vector store the caches are not to keep (a streaming store, for data
 * no one reads soon); the address must be a multiple of `align` bytes
 * (at least the vector's size), which the caller has made sure of. */
void kir_vstore_nontemporal(KirBuilder *b, KirVal v, KirVal mem, const KirVal *idx, int align);
/* Orders the nontemporal stores before it before every store after it
 * (x86's sfence: they are weakly ordered, and a thread that reads them
 * learns they are done from a later store). */
void kir_stream_fence(KirBuilder *b);
/* The same, only where the i1 vector mask is set (others: passthru). */
KirVal kir_mload(KirBuilder *b, KirVal mem, const KirVal *idx, KirVal mask, KirVal passthru);
void kir_mstore(KirBuilder *b, KirVal v, KirVal mem, const KirVal *idx, KirVal mask);
/* A hint that the element at idx will be read soon: fetched into the
 * cache level `locality` names (3 the nearest, as llvm.prefetch's); never
 * faults, changes no value. */
void kir_prefetch(KirBuilder *b, KirVal mem, const KirVal *idx, int locality);
KirVal kir_alloca(KirBuilder *b, KirType memref, int align);
KirVal kir_get_global(KirBuilder *b, const char *sym, KirType memref);
/* memref `t` at byte `offset` (index) of a 1-D i8 memref. */
KirVal kir_view(KirBuilder *b, KirVal arena, KirVal offset, KirType t);
/* The same row-major elements as another static shape. */
KirVal kir_reshape(KirBuilder *b, KirVal mem, KirType t);
void kir_copy(KirBuilder *b, KirVal from, KirVal to);
/* The address of mem's first element, as an index. */
KirVal kir_addr(KirBuilder *b, KirVal mem);

/* Lanes. */
KirVal kir_broadcast(KirBuilder *b, KirVal x, int lanes);
KirVal kir_extract(KirBuilder *b, KirVal v, int lane);
KirVal kir_insert(KirBuilder *b, KirVal x, KirVal v, int lane);
KirVal kir_reduce(KirBuilder *b, KirCombine c, KirVal v);
KirVal kir_shuffle(KirBuilder *b, KirVal x, KirVal y, int n, const int32_t *mask);

/* Control flow.  The builder stays where it was; build a region by moving
 * into it (kir_at_end(b, kir_region(op, i))) and close it with kir_yield
 * (or kir_condition) — every region ends in its terminator. */
KirOp *kir_for(KirBuilder *b, KirVal lo, KirVal hi, KirVal step, int n, const KirVal *inits);
static inline KirVal kir_for_iv(const KirOp *f) { return f->regions[0]->args; }
static inline KirVal kir_for_iter(const KirOp *f, int i) { return f->regions[0]->args + 1 + i; }
KirOp *kir_if(KirBuilder *b, KirVal cond, int nres, const KirType *types);
/* scf.while carrying n values of the inits' types through both regions;
 * its results are the values the condition forwards. */
KirOp *kir_while(KirBuilder *b, int n, const KirVal *inits);
/* Cases 0 … ncases-1 on an index value, and a default (region ncases). */
KirOp *kir_switch(KirBuilder *b, KirVal index, int ncases);
void kir_yield(KirBuilder *b, int n, const KirVal *vals);
void kir_condition(KirBuilder *b, KirVal cond, int n, const KirVal *vals);

/* Calls: the callee's result (0 when it has none). */
KirVal kir_call(KirBuilder *b, const KirFunc *callee, int nargs, const KirVal *args);
void kir_return(KirBuilder *b, int n, const KirVal *vals);
/* The CPU runtime's parallel-for: the aligned pointers of memrefs packed
 * into a context on the stack; unpacked in the task as memref t; and
 *   rt_parallel_for(NULL, count, task, ctx)
 * with count an i64 and task a function (ptr ctx, i64 begin, i64 end). */
KirVal kir_pack(KirBuilder *b, int n, const KirVal *memrefs);
KirVal kir_unpack(KirBuilder *b, KirVal ctx, int slot, KirType t);
void kir_parallel_for(KirBuilder *b, KirVal count, KirVal ctx, const KirFunc *task);
/* The i32 a host's cancellation flag (a ptr) holds now: an atomic load
 * (monotonic), so it is read afresh each time and never hoisted out of a
 * loop, and another thread may set it meanwhile. */
KirVal kir_poll(KirBuilder *b, KirVal flag);
/* Whether a pointer is not NULL (i1). */
KirVal kir_nonnull(KirBuilder *b, KirVal ptr);
/* A host's hook: obj points to a struct whose pointer-sized field `slot`
 * holds a function void(ptr obj, i32 arg), called as fn(obj, arg) (the
 * profiler's enter and leave, runtime/hloc_runtime.h). */
void kir_hook(KirBuilder *b, KirVal obj, int slot, KirVal arg);
/* On a GPU, in a device function: the thread's index in its block, the
 * block's in the grid, the threads of a block and the blocks of the grid,
 * along x (op: THREAD_ID, BLOCK_ID, BLOCK_DIM or GRID_DIM; index values). */
KirVal kir_gpu_index(KirBuilder *b, KirOpcode op);
/* In a device function: the shared memory of the thread's block named
 * `sym` (a name of its own in the module), of memref type t (made by
 * kir_memref_shared).  Every thread of a block sees the same bytes;
 * they are uninitialized when the block starts. */
KirVal kir_shared(KirBuilder *b, const char *sym, KirType t);
/* In a device function: waits until every thread of the block has come
 * here, and makes the memory writes before it visible to all of them.
 * Every thread of the block must reach the same barrier. */
void kir_barrier(KirBuilder *b);
/* In a device function: x (i32, i64, f32 or f64) of the lane of this
 * warp whose lane number is this one's xor `mask` (1..16).  All 32 lanes
 * of the warp must run it together (the full mask). */
KirVal kir_shfl_xor(KirBuilder *b, KirVal x, int mask);
/* In a device function: the warp's tensor-core multiply-accumulate
 * D = A·B + C of kind k on a 16×8 tile of f32 sums (16×16 · 16×8 for f16
 * and bf16, 16×8 · 8×8 for tf32), every lane giving its registers of A
 * (a[4], i32), B (b[2], i32) and C (c[4], f32) and getting its 4 of D
 * (f32, consecutive values from the one returned), laid out as
 * gpu_mma_layout says.  All 32 lanes of the warp must run it together.
 * The products are exact and summed in f32 (in an order and with an
 * internal precision the PTX ISA leaves to the hardware). */
KirVal kir_mma(KirBuilder *b, KirMmaKind k, const KirVal *a, const KirVal *bb, const KirVal *c);
/* Hopper's warpgroup MMA (sm_90a), in a device function whose blocks are
 * whole warpgroups (4 warps, 128 threads):
 *   kir_wgmma_desc: the matrix descriptor (i64) of the operand at byte
 *     `offset` (index) of shared memref `mem`: its start address there,
 *     ORed into `fields` (LBO, SBO, base offset, swizzle: kir.h's bit
 *     positions, the address bits 0).  The address is taken modulo
 *     256 KiB and must be a multiple of 16.
 *   kir_wgmma: D = A·B + C of kind k on a 64×n tile (n a multiple of 8,
 *     at most 256; k16 for f16 and bf16, k8 for tf32), A (64×k) and B
 *     (k×n, stored as its transpose: both K-major) read from shared memory
 *     through descriptors da and db, C the n/2 f32 accumulators of each
 *     thread (c), D returned as n/2 consecutive f32 values, laid out as
 *     gpu/wgmma.c's table says.  Asynchronous: it may read shared memory
 *     and its operands until a kir_wgmma_wait lets it complete, and its
 *     results may be used only after that wait (or by the next wgmma as
 *     its C).
 *   kir_wgmma_fence: orders the registers' earlier writes (the
 *     accumulators') before the wgmmas after it; needed before the first
 *     wgmma of a batch.
 *   kir_wgmma_commit: makes the wgmmas since the last commit a group.
 *   kir_wgmma_wait: waits until at most `pending` groups are pending.
 *   kir_async_fence: makes this thread's earlier writes to shared memory
 *     visible to the async proxy wgmma reads through (a barrier then
 *     makes them visible to the whole block's wgmmas).
 * Every thread of each warpgroup runs them together. */
KirVal kir_wgmma_desc(KirBuilder *b, KirVal mem, KirVal offset, uint64_t fields);
KirVal kir_wgmma(KirBuilder *b, KirMmaKind k, int n, KirVal da, KirVal db, const KirVal *c);
void kir_wgmma_fence(KirBuilder *b);
void kir_wgmma_commit(KirBuilder *b);
void kir_wgmma_wait(KirBuilder *b, int pending);
void kir_async_fence(KirBuilder *b);
/* In a host function: launches kernel with `grid` blocks of `block`
 * threads (index values) on args (its parameters), in order after the
 * launches before it. */
void kir_launch(KirBuilder *b, const KirFunc *kernel, KirVal grid, KirVal block, int nargs,
                const KirVal *args);

/* ------------------------------------------------------------------------ */
/* Checking and printing                                                    */
/* ------------------------------------------------------------------------ */

/* Types of every op, dominance of every use, region structure and
 * terminators, callees and globals that exist.  The message names the
 * function and prints the offending op. */
HloError *kir_verify(const KirModule *m);
HloError *kir_verify_func(const KirFunc *f);

/* The gpu.module the device functions of a GPU's module print in. */
#define KIR_DEVICE_MODULE "hloc_device"

/* The module as MLIR text (malloc'd).  Globals are declared, without
 * their bytes (the object gets them, object.c). */
char *kir_print_mlir(const KirModule *m);
/* A module cut into parts compiled apart (split.c): each function's part
 * (-1: a declaration) and whether another part refers to it (`shared`:
 * then it keeps external linkage).  nparts 0 takes one part per
 * ops_per_part ops of the module; at most KIR_MAX_PARTS, at most one per
 * group of functions that refer to each other. */
enum { KIR_MAX_PARTS = 64 };
typedef struct KirSplit {
  int nparts;
  int nfuncs;
  KirFunc **funcs;  /* in module order: part[i] and shared[i] are funcs[i]'s */
  int *part;        /* by function */
  bool *shared;     /* by function */
} KirSplit;
KirSplit *kir_split(const KirModule *m, int nparts, int64_t ops_per_part);
void kir_split_free(KirSplit *s);
/* Part `part` of split s as MLIR: its functions' definitions, the others
 * declared, every global declared. */
char *kir_print_mlir_part(const KirModule *m, const KirSplit *s, int part);
/* The readable form (malloc'd): one op a line, values numbered in order. */
char *kir_print(const KirModule *m);
/* One op (and its regions) in the readable form, for messages. */
void kir_print_op(HloStr *out, const KirFunc *f, const KirOp *op);
void kir_type_print(HloStr *out, const KirModule *m, KirType t);
/* A declaration's signature: "(T, …)" and " -> R" when it has a result. */
void kir_signature_print(HloStr *out, const KirFunc *f);

#endif /* HLOC_CODEGEN_KIR_H */
