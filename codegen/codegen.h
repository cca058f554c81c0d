/*
 * codegen.h — code generation: HLO module → kernel IR → MLIR → LLVM →
 * object code or in-process JIT.  The one public header of codegen/.
 *
 * cg_compile() turns a verified HLO module into a CgProgram: every kernel
 * built as kernel IR (codegen/kir.h) shaped by the target's facts (vector
 * width, registers, caches), printed once as MLIR, lowered by the
 * backend's MLIR pass pipeline, translated to LLVM IR, given the target
 * triple and data layout, and optimized with LLVM's default<O3> — a large
 * model in parts, on every core (docs/backends.md).  The CPU backend
 * (codegen/cpu/) compiles for x86-64 and AArch64.  A program can then be
 * written out (object, assembly, LLVM IR), described by a C header, or run
 * in-process through ORC's LLJIT.
 *
 * The compiled function (DESIGN.md, "The compiled function") for name N:
 *
 *   int N_run(const T0 *arg0, …, T *res0, …, void *scratch);
 *   int N_run_buffers(void *const *buffers, void *scratch);
 *   extern const hloc_program N_program;
 *
 * and the same with a cancellation flag (N_run_cancellable,
 * N_run_buffers_cancellable) and with a flag and a profiler
 * (N_run_profiled, N_run_buffers_profiled; runtime/hloc_runtime.h). 
 *
 * Arguments are the entry computation's parameters in parameter order;
 * results are the arrays of the flattened result tuple (one result when the
 * root is an array).  Buffers are dense row-major arrays of the element's C
 * type (pred: one byte 0/1; f16/bf16: their 16-bit patterns) and must not
 * overlap; scratch holds scratch_bytes aligned to scratch_align (it may be
 * NULL when scratch_bytes is 0).  Both functions return 0.  N_run_buffers
 * takes the arguments then the results in one array; N_program (defined in
 * the object itself) describes the same signature for hosts that bind by
 * name (struct hloc_program in runtime/hloc_runtime.h).
 *
 * A module whose results alias parameters (HloModule.alias: tfcompile's
 * read-write config variables) updates those arguments in place: the
 * aliased results are no result buffers of the function; they are
 * computed in scratch and copied into the argument's buffer after the
 * last kernel, when nothing reads the old value any more.  Such an
 * argument is `T *x`, not `const T *x`, and CgBufferInfo.updated.
 *
 * Everything here returns errors as values (HloError *, NULL on success);
 * unsupported instructions are errors naming the instruction.
 */
#ifndef HLOC_CODEGEN_H
#define HLOC_CODEGEN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "hlo.h"
#include "hloc_runtime.h"
#include "passes.h"

/* What to compile for.  Zero-initialised options are valid: name "model",
 * target x86_64, CPU "native" when the target is the host's architecture
 * ("generic" otherwise), no extra features. */
typedef struct CgOptions {
  const char *name;     /* symbol prefix: a C identifier; NULL: "model" */
  const char *target;   /* "x86_64" or "aarch64"; NULL: "x86_64" */
  const char *cpu;      /* an LLVM CPU name ("x86-64-v3", "skylake-avx512",
                         * "znver4", "neoverse-n1", …), "native" or
                         * "generic"; NULL: see above */
  const char *features; /* "+avx2,-avx512f" style, added to the CPU's */
  /* Names of the arguments and results in the header and descriptor, as the
   * config gave them; NULL (or a NULL entry) derives a name from the HLO
   * (parameter name; result i: "result<i>").  Names are made C identifiers
   * and unique. */
  const char *const *arg_names;
  int narg_names;
  const char *const *result_names;
  int nresult_names;
  /* The TensorFlow tensors the arguments and results are ("NODE:INDEX"),
   * recorded in the descriptor (hloc_buffer_info.tf_name) for hosts that
   * bind by them; NULL (or a NULL entry): none.  Counted as the names. */
  const char *const *arg_tf_names;
  const char *const *result_tf_names;
  /* Where intermediates live.  false: passes/' buffer assignment — kernels
   * run in its schedule and values whose lifetimes do not overlap share one
   * packed arena (scratch_bytes is pass_assign_buffers' arena_bytes); true:
   * every value gets a slot of its own (no analysis: for modules compiled
   * without the pass pipeline, or to rule the plan out when debugging). */
  bool one_slot_per_value;
  /* Run the kernel-IR verifier on every kernel before printing it
   * (--verify-kernels); dumps always do. */
  bool verify_kernels;
  /* When set, the time of each codegen phase (kernel IR, MLIR printing,
   * lowering, LLVM optimization, and each emission) is printed here, after
   * the passes' table of --time-passes. */
  FILE *timing;
  /* The kernels are lowered, optimized and emitted in this many parts, in
   * parallel, and merged into one object (split.c); 0: by the module's
   * size (small ones stay whole); 1: never split. */
  int parts;
  /* The constants go to a separate weights file instead of the object:
   * the object reserves zeroed, writable space for them (N_weights, in
   * .bss) that the host fills from the file before the first run
   * (hloc_load_weights), so a 2 GB model needs no 2 GB object.  The bytes
   * for the file come from cg_program_weights. */
  bool separate_weights;
  /* For a device target (nvptx64): build the device code alone, whose
   * assembly is the PTX; no host side and no ptxas (`hloc dump --stage
   * ptx`, the tests of the PTX).  Such a program has no object. */
  bool device_only;
  /* nvptx64 only: f32 dots and convolutions may run on tensor cores with
   * their operands rounded to TF32 (10-bit mantissas; --gpu-tf32).  false:
   * f32 contractions are exact f32 sums. */
  bool gpu_tf32;
  /* nvptx64 with cpu "sm_90a" only: the contractions that run on tensor
   * cores use Hopper's warpgroup MMA (wgmma.mma_async) instead of
   * mma.sync (--gpu-wgmma; gpu/wgmma.c). */
  bool gpu_wgmma;
  /* CPU: 3×3 convolutions by Winograd only in the form that is exact on
   * small integers, F(2×2, 3×3) (its transforms' coefficients 0, ±1,
   * ±1/2), never F(4×4, 3×3) (1/6, 1/24): for checks that compare with
   * the evaluator exactly.  false: F(4×4, 3×3) where it pays. */
  bool exact_winograd;
} CgOptions;

/* One argument or result of the compiled function. */
typedef struct CgBufferInfo {
  const char *name;            /* a C identifier, unique in the signature */
  const char *tf_name;         /* the TensorFlow tensor, "NODE:INDEX";
                                * NULL when none */
  HloType type;                /* an array type */
  int rank;
  int64_t dims[HLO_MAX_RANK];
  size_t bytes;                /* elements × element size */
  bool updated;                /* arguments: a variable the run updates (a
                                * module alias): its buffer receives the
                                * new value when the run ends, so the
                                * header declares it non-const */
} CgBufferInfo;

/* The names a signature gives its buffers, arguments then results:
 * want[i] (a config name, an HLO parameter name, "result3") made a C
 * identifier — every character but letters, digits and '_' becomes '_'
 * ("model/dense/MatMul" → "model_dense_MatMul", "Arg_0.1" → "Arg_0_1"),
 * '_' goes before a leading digit and after a C or C++ keyword — then
 * unique among the names before it, with a suffix "_2", "_3", ….  For
 * hosts that name buffers as compiled code does without compiling (`hloc
 * run --interpret`).  n malloc'd strings in a malloc'd array. */
char **cg_buffer_names(const char *const *want, int n);

/* A kernel the entry function calls, for profiles (hloc_kernel_info in
 * runtime/hloc_runtime.h says what each field holds; NULL: nothing). */
typedef struct CgKernelInfo {
  char *symbol, *instruction, *kind, *shape, *tf_op, *loop;
} CgKernelInfo;

/* The signature of a compiled program, known at compile time. */
typedef struct CgSignature {
  const char *name;            /* the symbol prefix N */
  int nargs, nresults;
  CgBufferInfo *args;          /* entry parameters, in parameter order */
  CgBufferInfo *results;       /* flattened result tuple, in order,
                                * less the results aliased to arguments
                                * (HloModule.alias): those are written
                                * back into their argument instead */
  size_t scratch_bytes;        /* size of the scratch arena */
  size_t scratch_align;        /* its required alignment (bytes) */
  /* With CgOptions.separate_weights: the bytes N_weights must hold and
   * their fingerprint (hloc_weights_fingerprint), else 0 and false. */
  bool separate_weights;
  size_t weights_bytes;
  uint64_t weights_fingerprint;
  /* Where a cancelled run can stop: N_run_cancellable returns k (1-based)
   * when it stopped at cancel_points[k - 1], one per kernel call ("%fusion.2",
   * "%add.3 in %loop") and per while loop ("while %loop"), in program order. */
  char **cancel_points;
  int ncancel_points;
  /* The kernel calls of N_run, in program order: kernel k is the k that
   * N_run_profiled passes to the profiler's hooks. */
  CgKernelInfo *kernels;
  int nkernels;
  /* --target nvptx64: the SM ("sm_80"); the object's entry points take
   * device buffers and it defines N_cuda_image (runtime/hloc_runtime.h).
   * Empty for the CPU. */
  char gpu_sm[16];
} CgSignature;

typedef struct CgProgram CgProgram; /* optimized LLVM modules + signature */
typedef struct CgJit CgJit;         /* a program loaded in-process */

/* HLO → MLIR text as codegen prints it (before any MLIR pass), checked by
 * parsing and verifying it; *mlir is malloc'd.  For dumps and tests. */
HloError *cg_emit_mlir(const HloModule *m, const CgOptions *opts, char **mlir);
/* HLO → the kernel IR in its readable form (`hloc dump --stage kir`),
 * verified; *text is malloc'd. */
HloError *cg_emit_kir(const HloModule *m, const CgOptions *opts, char **text);

/* The policy the passes follow for the target's backend (passes.h):
 * what codegen does with kernels there.  Fails as cg_compile does on an
 * unknown target, CPU or feature. */
HloError *cg_pass_policy(const CgOptions *opts, PassPolicy *out);

/* The whole pipeline up to an optimized LLVM module for the target.  The
 * module must verify (hlo_verify).  Unknown targets, CPUs or features are
 * errors listing the valid ones.  The program does not refer to m. */
HloError *cg_compile(const HloModule *m, const CgOptions *opts,
                     CgProgram **out);
/* cg_compile in two steps, for a caller that frees the module in between,
 * so that a model's weights are not held twice (the module's literals,
 * the program's constants) while LLVM runs.  cg_program_build makes the
 * kernels and takes from m every byte the program needs (the constants
 * the kernels read, packed for a contraction or copied); cg_program_lower
 * then lowers and optimizes the kernels, once.  Only a lowered program may
 * be emitted or JIT-loaded; a built one may be freed. */
HloError *cg_program_build(const HloModule *m, const CgOptions *opts, CgProgram **out);
/* cg_program_build for a caller that frees m next: the payloads of m's
 * constants are freed as the program takes their bytes, so that a
 * weight's packed form and its literal are not both held for every
 * weight at once.  Afterwards m may only be freed (hlo_module_free). */
HloError *cg_program_build_consuming(HloModule *m, const CgOptions *opts, CgProgram **out);
HloError *cg_program_lower(CgProgram *p);
void cg_program_free(CgProgram *p);
const CgSignature *cg_program_signature(const CgProgram *p);
/* The constants' bytes as N_weights holds them (the payload of the weights
 * file of a program compiled with separate_weights), as pieces to write
 * one after another: *pieces (malloc'd) point into p, valid while it is,
 * and add up to the signature's weights_bytes.  Returns their count. */
int cg_program_weights(const CgProgram *p, struct iovec **pieces);
/* The target triple and CPU the program was compiled for. */
const char *cg_program_triple(const CgProgram *p);
const char *cg_program_cpu(const CgProgram *p);
/* Whether the program is for this machine's architecture (so it can be
 * JIT-run, and links with the host's runtime). */
bool cg_program_is_host(const CgProgram *p);
/* Whether the program runs on an NVIDIA GPU (--target nvptx64): its
 * object, compiled for the host, launches the kernels through the
 * runtime's CUDA glue (hloc_cuda_run_host and friends). */
bool cg_program_is_cuda(const CgProgram *p);

typedef enum CgFileType {
  CG_FILE_OBJECT,   /* ELF relocatable object */
  CG_FILE_ASSEMBLY, /* target assembly text */
  CG_FILE_LLVM_IR,  /* optimized LLVM IR text */
} CgFileType;

/* Writes the program to memory: *data is malloc'd, *len bytes (text
 * outputs are also NUL-terminated). */
HloError *cg_program_emit(const CgProgram *p, CgFileType type, char **data,
                          size_t *len);

/* The object file cg_program_emit(CG_FILE_OBJECT) makes, as pieces to
 * write one after another (writev's iovecs): the constants' pieces are the
 * program's own bytes, so writing a model's object copies none of its
 * weights.  The pieces are valid while p and the CgObjectFile are. */
typedef struct CgObjectFile {
  struct iovec *pieces;
  int npieces;
  size_t size;       /* the file's bytes: the pieces' total */
  HloStr head, tail; /* what the pieces hold besides the constants */
} CgObjectFile;
HloError *cg_program_object(const CgProgram *p, CgObjectFile *out);
void cg_object_file_free(CgObjectFile *f);

/* The C header declaring N_run, N_run_buffers, N_program and the size
 * constants of a signature (malloc'd text). */
char *cg_header(const CgSignature *sig);
/* The C++ header of a signature (*out, malloc'd): a header-only class in
 * the shape of tfcompile's generated classes wrapping the C API, named
 * cpp_class ("ns1::ns2::Name", each part a C++ identifier; NULL: N in
 * CamelCase) and including the C header by the name c_header (NULL: the
 * caller puts the C header's text before this one, in the same file).  An error
 * when the class would have a member of its own name. */
HloError *cg_header_cpp(const CgSignature *sig, const char *cpp_class, const char *c_header,
                        char **out);

/* Loads the program's object code into this process (ORC LLJIT); the
 * program must target the host's architecture.  The JIT does not refer to
 * the program afterwards. */
HloError *cg_jit(const CgProgram *p, CgJit **out);
/* cg_jit that also hands over the object file it loaded (*object,
 * malloc'd; NULL on error), for a caller that keeps it (a cache). */
HloError *cg_jit_keep(const CgProgram *p, CgJit **out, char **object, size_t *object_len);
/* Loads an object file's bytes (what cg_jit_keep handed over, for this
 * host), whose program descriptor is `name`_program. */
HloError *cg_jit_bytes(const void *data, size_t len, const char *name, CgJit **out);
/* The loaded N_program descriptor; valid until cg_jit_free. */
const hloc_program *cg_jit_program(const CgJit *j);
/* A GPU program's device code (N_cuda_image), to load with
 * hloc_cuda_load_image before running the program with hloc_cuda_run_host
 * or hloc_cuda_run_device; NULL for a CPU program. */
const hloc_cuda_image *cg_jit_cuda_image(const CgJit *j);
void cg_jit_free(CgJit *j);

#endif /* HLOC_CODEGEN_H */
