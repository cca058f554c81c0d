/*
 * hloc_runtime.h — the runtime that hloc's compiled models and tools link:
 * plain C, no dependency on the compiler, LLVM or MLIR.
 *
 * This header is the runtime's one public header.  It holds the `.npy`
 * reader/writer that generated executables and the `hloc` driver use to
 * exchange arrays with NumPy, the generic descriptor of a compiled program
 * (hloc_program) with the helper that runs one, the loader of separate
 * weights files, the thread pool that compiled code may use, the CUDA
 * driver glue of programs compiled for NVIDIA GPUs, and the main of
 * generated executables.
 *
 * Errors: functions return 0 on success, -1 on failure with a message in the
 * caller's buffer (`err`, `errlen`) naming the file and the problem.
 */
#ifndef HLOC_RUNTIME_H
#define HLOC_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RT_MAX_RANK 12

/* Element types of .npy files, with the NumPy descr each reads from and
 * writes as.  bf16 has no NumPy dtype; ml_dtypes stores it as the 2-byte
 * void type '<V2', which is what RT_BF16 reads and writes.
 *
 * The narrow types after RT_V1 (ml_dtypes' int2, int4, uint2, uint4 and
 * its float8 and float4 types) take one byte per element.  In a file the
 * byte is ml_dtypes': the value's bits in its low bits (2, 4 or 8), the
 * others 0 when ml_dtypes writes and ignored when it reads.  In memory (a
 * compiled program's buffers) an int2 or int4 is sign-extended to fill its
 * byte, the others as in a file; hloc writes that byte as it is, which
 * ml_dtypes reads as the same value.  NumPy saves them all as the void
 * type '|V1' (float8_e5m2 as '<f1', which NumPy itself cannot load), so
 * a file does not say which: rt_npy_read reads either as
 * RT_V1, raw bytes, and a reader that knows the type it wants (a compiled
 * program's argument) gives it with rt_array_retype.  New types are
 * appended: the numbers are an ABI (hloc_buffer_info.dtype, libhloc's
 * hloc_dtype).  The complex types (NumPy's complex64 and complex128) hold
 * each element as its real then imaginary part, as NumPy and XLA do; only
 * the interpreter computes them (hloc run --interpret). */
#define RT_DTYPES(X)                                                          \
  X(BOOL, "|b1", 1)                                                           \
  X(I8, "|i1", 1)                                                             \
  X(I16, "<i2", 2)                                                            \
  X(I32, "<i4", 4)                                                            \
  X(I64, "<i8", 8)                                                            \
  X(U8, "|u1", 1)                                                             \
  X(U16, "<u2", 2)                                                            \
  X(U32, "<u4", 4)                                                            \
  X(U64, "<u8", 8)                                                            \
  X(F16, "<f2", 2)                                                            \
  X(BF16, "<V2", 2)                                                           \
  X(F32, "<f4", 4)                                                            \
  X(F64, "<f8", 8)                                                            \
  X(V1, "|V1", 1)                                                             \
  X(I2, "|V1", 1)                                                             \
  X(I4, "|V1", 1)                                                             \
  X(U2, "|V1", 1)                                                             \
  X(U4, "|V1", 1)                                                             \
  X(F8E4M3FN, "|V1", 1)                                                       \
  X(F8E5M2, "|V1", 1)                                                         \
  X(F8E4M3FNUZ, "|V1", 1)                                                     \
  X(F8E5M2FNUZ, "|V1", 1)                                                     \
  X(F8E4M3B11FNUZ, "|V1", 1)                                                  \
  X(F8E4M3, "|V1", 1)                                                         \
  X(F8E3M4, "|V1", 1)                                                         \
  X(F8E8M0FNU, "|V1", 1)                                                      \
  X(F4E2M1FN, "|V1", 1)                                                      \
  X(C64, "<c8", 8)                                                            \
  X(C128, "<c16", 16)

typedef enum RtDtype {
#define X(e, descr, size) RT_##e,
  RT_DTYPES(X)
#undef X
  RT_NUM_DTYPES
} RtDtype;

/* A dense C-order array.  `data` is malloc'd by rt_npy_read and released
 * with rt_array_free; callers filling one for rt_npy_write own it. */
typedef struct RtArray {
  RtDtype dtype;
  int rank;
  int64_t dims[RT_MAX_RANK];
  void *data;
  size_t nbytes; /* element count * element size */
} RtArray;

const char *rt_dtype_descr(RtDtype t);
/* NumPy's name of the type ("float32", "int8", "bool", "bfloat16"): the
 * notation of every message about an array. */
const char *rt_dtype_name(RtDtype t);
size_t rt_dtype_size(RtDtype t);
/* t is one of the narrow types a '|V1' file may hold (RT_I2 … RT_F4E2M1FN). */
int rt_dtype_is_narrow(RtDtype t);
int64_t rt_array_elements(const RtArray *a);
void rt_array_free(RtArray *a);
/* Gives a, read as RT_V1 (raw bytes), the narrow type t, each byte taken
 * as ml_dtypes takes it (its low bits) and held as in memory; an array
 * already of type t is left as it is.  Any other pair is an error naming
 * `name` and both types. */
int rt_array_retype(RtArray *a, RtDtype t, const char *name, char *err, size_t errlen);

/* Reads a version 1/2/3 .npy file: little-endian or byte-order-free dtypes
 * above, C order, rank <= RT_MAX_RANK; anything else is an error naming the
 * file and the header field.  Only regular files are read ("cannot read
 * 'DIR': Is a directory"), and the data is allocated once, at the size the
 * header gives, after checking that the file holds that much. */
int rt_npy_read(const char *path, RtArray *out, char *err, size_t errlen);
/* Parses an in-memory .npy image (the same checks as rt_npy_read); `name`
 * is used in messages.  The data is copied. */
int rt_npy_parse(const void *buf, size_t len, const char *name, RtArray *out,
                 char *err, size_t errlen);
/* Writes a version 1.0 .npy file, first to PATH.tmp.PID then renamed, so a
 * failure leaves no partial file; the message names PATH and the system's
 * reason ("cannot write 'out/y.npy': No space left on device"). */
int rt_npy_write(const char *path, const RtArray *a, char *err, size_t errlen);
/* The bytes of a version 1.0 .npy file that precede a's data (magic,
 * version, length, and the dict padded to 64 bytes): written to buf, which
 * holds RT_NPY_HEADER_MAX bytes; returns their count.  For writers that put
 * the file together themselves (hloc run's all-or-nothing outputs). */
#define RT_NPY_HEADER_MAX 512
size_t rt_npy_header(const RtArray *a, unsigned char *buf);

/* Bounded dynamic dimensions (dynamic.c; docs/api.md): an array whose
 * dimension d may be smaller than the buffer's, bit d of a uint32_t mask.
 * rt_copy_corner copies between the row-major array `small` (small_dims)
 * and the leading corner of `big` (big_dims), both of `rank` dims and
 * esize-byte elements: into big when into_big, else out of it.
 * rt_type_text writes "float32[<=4,3]" into buf (dims with their bit set
 * get "<="), returning buf.  rt_dims_fit: 1 when dims `got` fit `bound`
 * (the same rank, a static dim equal, a dynamic one at most its bound);
 * else 0, with why "dimension 0 is at most 4, the file has 6" when only a
 * dynamic dim is too large, else empty. */
void rt_copy_corner(size_t esize, int rank, const int64_t *small_dims, void *small,
                    const int64_t *big_dims, void *big, int into_big);
const char *rt_type_text(char *buf, size_t len, RtDtype dtype, int rank, const int64_t *dims,
                         uint32_t dynamic);
int rt_dims_fit(int rank, const int64_t *bound, uint32_t dynamic, int got_rank,
                const int64_t *got, char *why, size_t whylen);

/* ------------------------------------------------------------------------ */
/* Compiled programs: the generic descriptor (ABI shared with codegen/)     */
/* ------------------------------------------------------------------------ */

/* Every object hloc compiles with --name N defines `const hloc_program
 * N_program` describing its typed entry point N_run, so that hosts (the
 * driver, the Python binding) can bind a model by name.  codegen/ emits
 * these structs as LLVM constants with the natural C layout of the 64-bit
 * targets it supports: keep field types and order in sync with
 * codegen/abi.c. */

typedef struct hloc_profiler hloc_profiler; /* below, "Profiling" */

/* One kernel the entry function calls (a call site: a kernel emitted in a
 * while body is one kernel however many times the loop runs it), for
 * profiles.  Strings are NULL where there is nothing to say. */
typedef struct hloc_kernel_info {
  const char *symbol;      /* the kernel's function ("mnist_k3_fusion_2") */
  const char *instruction; /* the HLO instruction it computes ("fusion.2") */
  const char *kind;        /* its opcode; a fusion with the instruction that
                            * dominates it: "fusion(convolution)" */
  const char *shape;       /* its result ("f32[1,10]", "(f32[2], s32[])") */
  const char *tf_op;       /* the TensorFlow node it came from (HLO op_name
                            * metadata: the dominating instruction's in a
                            * fusion, else the root's); NULL for HLO input */
  const char *loop;        /* the innermost while it runs in ("while.3") */
} hloc_kernel_info;

/* One argument or result buffer: a dense row-major array. */
typedef struct hloc_buffer_info {
  const char *name;       /* as the config named it (a C identifier) */
  int32_t dtype;          /* an RtDtype (pred is RT_BOOL, one byte 0/1) */
  int32_t rank;
  const int64_t *dims;    /* rank entries */
  uint64_t bytes;         /* elements × element size */
  int32_t updated;        /* arguments: 1 for a read-write variable (a
                           * tfcompile config variable) whose buffer the
                           * run overwrites with its new value; else 0 */
  const char *tf_name;    /* the TensorFlow tensor it is, "NODE:INDEX"
                           * ("model/dense/MatMul:0": the feed's or the
                           * fetch's node and output); NULL for HLO input */
} hloc_buffer_info;

typedef struct hloc_program {
  const char *name;       /* the --name prefix */
  int32_t num_args;
  int32_t num_results;
  const hloc_buffer_info *args;    /* num_args entries, parameter order */
  const hloc_buffer_info *results; /* num_results entries */
  uint64_t scratch_bytes; /* the scratch arena N_run needs … */
  uint64_t scratch_align; /* … and its alignment */
  /* N_run_buffers: buffers holds the arguments then the results; scratch
   * as above (NULL allowed when scratch_bytes is 0).  Returns 0. */
  int (*run)(void *const *buffers, void *scratch);
  /* N_run_buffers_cancellable: the same, stopping early when *cancel
   * becomes non-zero (below); cancel NULL is not allowed. */
  int (*run_cancellable)(void *const *buffers, void *scratch, const int32_t *cancel);
  int32_t num_cancel_points;
  /* Where a cancelled run stopped: status k in 1..num_cancel_points is
   * cancel_points[k - 1], "%fusion.2", "%add.3 in %loop" (before a kernel,
   * in a while loop) or "while %loop" (at the head of an iteration). */
  const char *const *cancel_points;
  /* The kernels the run calls, in program order; kernel k is the k passed
   * to the profiler's hooks. */
  int32_t num_kernels;
  const hloc_kernel_info *kernels;
  /* N_run_buffers_profiled: run_cancellable that also calls
   * profiler->enter(profiler, k) right before kernel k and
   * profiler->leave(profiler, k) right after it (profiler NULL: neither). */
  int (*run_profiled)(void *const *buffers, void *scratch, const int32_t *cancel,
                      hloc_profiler *profiler);
  /* What the code needs of the CPU that runs it: the LLVM CPU name it was
   * compiled for ("skylake-avx512") and the instruction-set features it
   * may use, LLVM's names separated by commas ("avx,avx2,fma,avx512f");
   * hloc_program_check_cpu compares them with the running CPU's. */
  const char *cpu;
  const char *features;
} hloc_program;

/* Model libraries (`hloc compile --emit so`, libhloc's
 * hloc_executable_save): a shared library holding one model's object and a
 * whole copy of this runtime, which libhloc's hloc_executable_load reads.
 * Besides N_program and the runtime's functions it defines
 *   const uint32_t hloc_library_abi;            HLOC_LIBRARY_ABI when made
 *   const char hloc_library_version[];          hloc's version ("0.1.0")
 *   const hloc_program *const hloc_library_program;   &N_program
 *   const hloc_cuda_image *const hloc_library_cuda_image;
 *                      &N_cuda_image for a program compiled for a GPU
 *                      (--target nvptx64), NULL for a CPU program
 * A loader reads hloc_library_abi first and nothing else of a library whose
 * number differs from its own.  The number changes whenever hloc_program's
 * layout or the meaning of a field changes, or a function a loader takes
 * from the library (rt_threadpool_create, rt_threadpool_free,
 * hloc_use_thread_pool; hloc_cuda_open, hloc_cuda_close,
 * hloc_cuda_load_image, hloc_cuda_run_host_with, which run a GPU
 * program's library) changes its signature or contract. */
#define HLOC_LIBRARY_ABI 3 /* 2: tf_name, cpu and features; 3: hloc_library_cuda_image */

/* Finding an argument or result by name (names.c): one set of rules for
 * `hloc run`, generated executables, libhloc and the Python binding.  NAME
 * is, in this order:
 *   - a buffer's name (the config's or signature's name, a C identifier),
 *     or its TensorFlow name, "NODE:INDEX" or, for output 0, "NODE"
 *     ("model/dense/MatMul:0", "model/out/Softmax"); a name that is one
 *     buffer's name and another's TensorFlow name is an error naming both;
 *   - else its position: "N", or for arguments also "argN".
 * Returns the index, or -1 with a message: "the model has no input named
 * 'imag' (did you mean 'image'?) (inputs: image, mask (model/mask:0))" —
 * a buffer's TensorFlow name is listed where it is not NAME:0 — or the
 * ambiguity.  `what` is "input" or "output"; b has n entries. */
int hloc_buffers_find(const hloc_buffer_info *b, int n, const char *what, const char *name,
                      char *err, size_t errlen);
/* The same over p's arguments (results 0) or results (results 1). */
int hloc_program_find(const hloc_program *p, int results, const char *name, char *err,
                      size_t errlen);

/* The running CPU (cpu.c).  hloc_cpu_has: 1 when it has the instruction-set
 * feature `name` (LLVM's name: "avx2", "avx512f", "amx-tile" on x86-64;
 * "neon", "dotprod", "sve" on AArch64) and the system lets programs use
 * it (x86-64: the register state the OS saves, XCR0), 0 when it lacks it,
 * -1 when this runtime cannot tell (a name it does not know).
 * hloc_program_check_cpu: 0 when the running CPU has every feature of
 * p->features it can tell, else -1 with a message naming p, its CPU and
 * the missing features — checked before any of p's code runs, instead of
 * the SIGILL that code would die of. */
int hloc_cpu_has(const char *name);
int hloc_program_check_cpu(const hloc_program *p, char *err, size_t errlen);

/* Runs p with a scratch arena allocated (aligned) and freed around the
 * call.  Returns p's status, or -1 when the scratch cannot be allocated. */
int hloc_program_run(const hloc_program *p, void *const *buffers);

/* Cancellation.  A run through run_cancellable (N_run_cancellable in the
 * generated header) reads *cancel, an int32_t the host owns, before every
 * kernel and at the head of every while-loop iteration: one relaxed atomic
 * load each.  Once it reads non-zero it skips the remaining kernels, leaves
 * its loops and returns the number of the point where it stopped (> 0);
 * the results are then garbage.  Another thread (a watchdog, a signal
 * handler) sets the flag with an atomic store: C11 atomic_store on an
 * atomic_int (the same object), __atomic_store_n, or std::atomic_ref in
 * C++.  The generated code never writes it.  N_run and run pass a flag
 * that is always 0, so hosts that never cancel need nothing. */
int hloc_program_run_cancellable(const hloc_program *p, void *const *buffers,
                                 const int32_t *cancel);
/* The name of the point where a run that returned `status` stopped, or
 * NULL when status is not such a point (0, -1). */
const char *hloc_program_cancel_point(const hloc_program *p, int status);

/* ------------------------------------------------------------------------ */
/* Profiling (profile.c)                                                    */
/* ------------------------------------------------------------------------ */

/* The hooks a profiled run (run_profiled, N_run_profiled) calls around each
 * kernel, on the thread that called the run: enter right before kernel k
 * (hloc_program.kernels[k]), leave right after it, so the time in between
 * is the kernel's, its parallel loops included.  A host embeds this struct
 * first in its own and casts back in the hooks.  The compiled code reaches
 * the hooks through the pointer it is given, so objects need no symbol of
 * the runtime for them, and a run without a profiler (N_run, run,
 * run_cancellable) pays one untaken branch per kernel. */
struct hloc_profiler {
  void (*enter)(hloc_profiler *self, int32_t kernel);
  void (*leave)(hloc_profiler *self, int32_t kernel);
};

/* The runtime's profiler: time and calls per kernel, summed over runs,
 * with CLOCK_MONOTONIC.  Not shared between concurrent runs: give each its
 * own and add them up (hloc_profile_add). */
typedef struct hloc_profile {
  hloc_profiler hooks;          /* pass &prof->hooks as the profiler */
  const hloc_program *program;  /* whose kernels are counted */
  uint64_t runs;                /* runs timed by hloc_profile_run */
  uint64_t run_ns;              /* their wall time, all of it */
  uint64_t *kernel_ns;          /* per kernel: time inside it … */
  uint64_t *kernel_calls;       /* … and how often it ran */
  uint64_t started_ns;          /* when the running kernel entered */
} hloc_profile;

/* Zeroed counters for p's kernels; -1 when memory cannot be had. */
int hloc_profile_init(hloc_profile *prof, const hloc_program *p);
void hloc_profile_release(hloc_profile *prof); /* frees the counters */
void hloc_profile_clear(hloc_profile *prof);   /* zeroes them */
/* Adds from's counts into into's (both of one program). */
void hloc_profile_add(hloc_profile *into, const hloc_profile *from);
/* One run of prof's program through run_profiled, timed as a whole as
 * well (run_ns: what the kernels took plus the copies, loop control and
 * calls between them).  scratch NULL: allocated around the run as
 * hloc_program_run does; cancel NULL: never cancelled.  Returns the run's
 * status (-1: no scratch). */
int hloc_profile_run(hloc_profile *prof, void *const *buffers, void *scratch,
                     const int32_t *cancel);
/* The profile as a table, in the manner of XLA's HLO profile: kernels
 * sorted by time, each with its rank, time (total and per call), share of
 * the runs' time and the cumulative share, calls, and the kernel's HLO
 * instruction, kind, shape and TensorFlow op; then the time outside
 * kernels and the total.  malloc'd text; NULL when memory cannot be had. */
char *hloc_profile_report(const hloc_profile *prof);

/* ------------------------------------------------------------------------ */
/* Weights files (`hloc compile --separate-weights`)                        */
/* ------------------------------------------------------------------------ */

/* A model compiled with separate weights keeps its constants out of the
 * object: N.o reserves zeroed space for them (N_weights, N_WEIGHTS_BYTES
 * bytes) and PREFIX.weights holds them.  The file is a 64-byte header —
 * the magic "HLOCWTS1", the payload's byte count and its fingerprint, both
 * little-endian uint64, then zeros — followed by the payload.  The
 * fingerprint identifies the model the file belongs to; it is not a
 * checksum of the payload (computing one would read the whole file). */
#define HLOC_WEIGHTS_MAGIC "HLOCWTS1"
#define HLOC_WEIGHTS_HEADER_BYTES 64

/* The fingerprint of a payload (a 64-bit hash of its bytes). */
uint64_t hloc_weights_fingerprint(const void *bytes, size_t len);

/* Reads the weights file at `path` into dst, which holds `bytes` bytes,
 * after checking its magic, byte count and fingerprint against the
 * model's (N_WEIGHTS_BYTES, N_WEIGHTS_FINGERPRINT).  On failure dst may be
 * partly written and the model must not run. */
int hloc_load_weights(const char *path, void *dst, uint64_t bytes, uint64_t fingerprint,
                      char *err, size_t errlen);

/* ------------------------------------------------------------------------ */
/* Threads: a pool, a parallel-for, and the hook compiled code reads        */
/* ------------------------------------------------------------------------ */

/* Compiled code parallelises a large loop by calling rt_parallel_for with a
 * NULL pool: the loop then runs on the calling thread's pool
 * (hloc_use_thread_pool), else on the process's pool
 * (hloc_set_thread_pool), else on the calling thread — so a model runs
 * single-threaded unless its host asks for threads.  Hosts may also call
 * rt_parallel_for with a pool of their own. */

typedef struct RtThreadPool RtThreadPool;

/* A pool of `nthreads` threads in all, counting the thread that calls
 * rt_parallel_for (nthreads - 1 workers are started; nthreads <= 1 starts
 * none).  NULL when memory or threads cannot be had. */
RtThreadPool *rt_threadpool_create(int nthreads);
/* Joins the workers; also uninstalls the pool where it is the process's
 * pool or the calling thread's.  No loop may be running on it, and no
 * other thread may still use it as its pool.  NULL is allowed. */
void rt_threadpool_free(RtThreadPool *pool);
/* nthreads as created (1 for NULL). */
int rt_threadpool_threads(const RtThreadPool *pool);
/* How many loops the pool has taken since it was created: loops handed to
 * its threads, not those rt_parallel_for ran inline (one iteration, a
 * one-thread pool, a busy pool).  0 for NULL.  For tests and statistics. */
int64_t rt_threadpool_parallel_loops(const RtThreadPool *pool);

/* One piece of a loop: the iterations [begin, end). */
typedef void (*rt_range_fn)(void *ctx, int64_t begin, int64_t end);

/* Runs fn over the iterations [0, n), split into contiguous ranges that run
 * concurrently on the pool's threads, the caller's included; returns when
 * all are done.  pool NULL: the calling thread's pool, else the process's
 * pool, if any (see below).  With no pool, or while the pool runs another
 * loop (a nested or concurrent call), the loop runs as one range on the
 * calling thread.  Thread-safe. */
void rt_parallel_for(RtThreadPool *pool, int64_t n, rt_range_fn fn, void *ctx);

/* The thread-pool hooks: which pool rt_parallel_for(NULL, …) — compiled
 * code — uses.  The caller keeps ownership of the pools; a pool must stay
 * alive while it is installed.
 *
 * hloc_use_thread_pool sets the calling thread's pool and returns the
 * previous one (NULL when it had none), so a host running a model with
 * threads of its own brackets the call:
 *     RtThreadPool *prev = hloc_use_thread_pool(pool);
 *     N_run(…);
 *     hloc_use_thread_pool(prev);
 * Each thread has its own, so two threads may run models on different
 * pools (or none) at once.  NULL leaves the thread to the process's pool;
 * to run on the calling thread alone whatever the process's pool, use a
 * pool of one thread (rt_threadpool_create(1): no workers, no cost).  A
 * pool's workers use their own pool as theirs, so a loop nested in a
 * chunk runs inline.  hloc_used_thread_pool returns the calling thread's
 * pool.
 *
 * hloc_set_thread_pool sets the process's pool, for every thread that has
 * none of its own (the generated executables' --threads); NULL (the
 * default) runs such threads' loops on themselves.  hloc_thread_pool
 * returns it. */
RtThreadPool *hloc_use_thread_pool(RtThreadPool *pool);
RtThreadPool *hloc_used_thread_pool(void);
void hloc_set_thread_pool(RtThreadPool *pool);
RtThreadPool *hloc_thread_pool(void);

/* ------------------------------------------------------------------------ */
/* CUDA driver glue (cuda.c)                                                 */
/* ------------------------------------------------------------------------ */

/* What a program compiled for --target nvptx64 runs its kernels with
 * (docs/backends.md, "The GPU backend"): the CUDA driver, libcuda.so.1,
 * opened with dlopen on first use (HLOC_CUDA_DRIVER names another file),
 * device 0's primary context, one module (the program's PTX), device
 * buffers (uint64_t addresses), copies, launches along x and
 * synchronization, all on the default stream, in order.  Errors name the
 * driver call, its CUDA error, and the kernel or global concerned; without
 * a driver, opening fails with "no CUDA driver found", without a device
 * with "no GPU". */
typedef struct hloc_cuda hloc_cuda;
int hloc_cuda_open(hloc_cuda **out, char *err, size_t errlen);
void hloc_cuda_close(hloc_cuda *c);
/* Loads the program's PTX (NUL-terminated), then fills the storage of
 * each constant, the module's global `name`, with its bytes. */
int hloc_cuda_load(hloc_cuda *c, const char *ptx, char *err, size_t errlen);
int hloc_cuda_set_global(hloc_cuda *c, const char *name, const void *bytes, size_t size,
                         char *err, size_t errlen);
int hloc_cuda_alloc(hloc_cuda *c, size_t bytes, uint64_t *dptr, char *err, size_t errlen);
int hloc_cuda_free(hloc_cuda *c, uint64_t dptr, char *err, size_t errlen);
int hloc_cuda_to_device(hloc_cuda *c, uint64_t dst, const void *src, size_t bytes, char *err,
                        size_t errlen);
int hloc_cuda_to_host(hloc_cuda *c, void *dst, uint64_t src, size_t bytes, char *err,
                      size_t errlen);
int hloc_cuda_on_device(hloc_cuda *c, uint64_t dst, uint64_t src, size_t bytes, char *err,
                        size_t errlen);
/* Launches kernel `kernel` of the module on `grid` blocks of `block`
 * threads, its parameters the device addresses args[0..nargs). */
int hloc_cuda_launch(hloc_cuda *c, const char *kernel, uint32_t grid, uint32_t block,
                     const uint64_t *args, int nargs, char *err, size_t errlen);
/* Waits for everything launched so far; `after` names the last kernel,
 * for the message of a failure it reports. */
int hloc_cuda_sync(hloc_cuda *c, const char *after, char *err, size_t errlen);
/* hloc_cuda_launch between two CUDA events, waiting for the second: *ns
 * is the kernel's time on the GPU (for profiles: each timed launch waits
 * for its kernel). */
int hloc_cuda_launch_timed(hloc_cuda *c, const char *kernel, uint32_t grid, uint32_t block,
                           const uint64_t *args, int nargs, uint64_t *ns, char *err,
                           size_t errlen);

/* The same from a cubin of cubin_bytes bytes (NULL: none) where the
 * driver takes it, else from the PTX: a cubin is for one SM, and the
 * driver compiles the PTX for any newer GPU. */
int hloc_cuda_load_program(hloc_cuda *c, const void *cubin, size_t cubin_bytes, const char *ptx,
                           char *err, size_t errlen);

/* Programs compiled for --target nvptx64 (cuda_run.c).  Their object
 * defines, besides N_program (whose entry points run on the host and take
 * the device addresses of every buffer and of the scratch arena), the
 * kernels and the constants they read.  The entry calls the
 * hloc_cuda_entry_* functions; nothing else should.  codegen/gpu/host.c
 * emits hloc_cuda_image as an LLVM constant: keep both in sync. */
typedef struct hloc_cuda_global {
  const char *name;      /* the PTX's global */
  const void *data;      /* its bytes, in the object */
  uint64_t bytes;
} hloc_cuda_global;

typedef struct hloc_cuda_image {
  const char *sm;        /* what it was compiled for ("sm_80") */
  const char *ptx;       /* NUL-terminated */
  const void *cubin;     /* ptxas's for sm, or NULL */
  uint64_t cubin_bytes;
  int32_t num_globals;
  const hloc_cuda_global *globals;
} hloc_cuda_image;

/* Loads a program's kernels into c (hloc_cuda_load_program, then each
 * constant's bytes into its global); once per hloc_cuda. */
int hloc_cuda_load_image(hloc_cuda *c, const hloc_cuda_image *img, char *err, size_t errlen);
/* Runs p on c, whose kernels it loaded, on device buffers (the arguments
 * then the results, as hloc_program.run) and a device scratch arena of
 * p->scratch_bytes, and waits for it.  The message of a failure names p,
 * the driver call, its CUDA error and the kernel. */
int hloc_cuda_run_device(hloc_cuda *c, const hloc_program *p, void *const *buffers,
                         uint64_t scratch, char *err, size_t errlen);
/* The same on host buffers: device buffers and scratch allocated, the
 * arguments copied in, the results (and updated arguments) copied out. */
int hloc_cuda_run_host(hloc_cuda *c, const hloc_program *p, void *const *buffers, char *err,
                       size_t errlen);

/* What a run may also do (hloc_cuda_run_device_with, _host_with): stop
 * when a flag is set, and profile its kernels. */
typedef struct hloc_cuda_run_options {
  /* NULL, or an int32_t another thread sets (an atomic store) to stop the
   * run: read before each launch and each copy of the entry, so a run
   * stops between kernels (those already launched finish).  The run then
   * fails with "N: cancelled before W", cancelled is 1 and where is W:
   * "%INSTRUCTION (kernel SYMBOL)" or "a copy". */
  const int32_t *cancel;
  /* NULL, or counters hloc_profile_init made for the program: each
   * kernel's time on the GPU (CUDA events around its launch, which then
   * waits for it) and calls, and the run's wall time, as
   * hloc_profile_run counts them; hloc_profile_report prints them. */
  hloc_profile *profile;
  int32_t cancelled; /* out */
  char where[256];   /* out */
} hloc_cuda_run_options;
int hloc_cuda_run_device_with(hloc_cuda *c, const hloc_program *p, void *const *buffers,
                              uint64_t scratch, hloc_cuda_run_options *o, char *err,
                              size_t errlen);
int hloc_cuda_run_host_with(hloc_cuda *c, const hloc_program *p, void *const *buffers,
                            hloc_cuda_run_options *o, char *err, size_t errlen);

/* What the compiled entry calls, on the run's thread.  ctx holds pointers:
 * for a launch the nargs parameters of kernel k (hloc_program.kernels[k]
 * names it); for a copy the destination then the source, `kind` below.  They return 0, or -1
 * once the run has failed (then they do nothing, and a copy to the host
 * writes zeros).  hloc_cuda_entry_begin, called first, returns 0 inside
 * hloc_cuda_run_device or hloc_cuda_run_host, else -1: an entry point of a
 * GPU program (N_run, N_program.run…) called directly does nothing and
 * returns -1. */
enum { HLOC_CUDA_ON_DEVICE = 0, HLOC_CUDA_TO_DEVICE = 1, HLOC_CUDA_TO_HOST = 2 };
int32_t hloc_cuda_entry_begin(void);
int32_t hloc_cuda_entry_launch(void *const *ctx, int32_t nargs, int32_t k, int64_t grid,
                               int64_t block);
int32_t hloc_cuda_entry_copy(void *const *ctx, int64_t bytes, int32_t kind);

/* ------------------------------------------------------------------------ */
/* Generated executables (exe.c, in the hloc_exe library)                   */
/* ------------------------------------------------------------------------ */

/* The main of an executable made by `hloc compile --emit exe`: parses
 *   --input [NAME=]FILE.npy ...  --output-dir DIR  --threads N  --bench N
 * checks each input against p's arguments, runs p, and writes one NAME.npy
 * per result into DIR.  Returns the process exit status: 0, 1 (a rejected
 * input, a failed run or write), 2 (a usage error). */
int hloc_exe_main(const hloc_program *p, int argc, char **argv);
/* The same for a program compiled for --target nvptx64, run on the GPU
 * (img: its N_cuda_image): --profile and --timeout as on the CPU (each
 * kernel timed on the GPU; the flag read before each launch and copy),
 * --threads above 1 a usage error, and a machine without a GPU gets the
 * runtime's "no CUDA driver found" or "no GPU" and exit status 1, after
 * the flags are checked. */
int hloc_exe_main_cuda(const hloc_program *p, const hloc_cuda_image *img, int argc,
                       char **argv);
/* The bounded dynamic dims of a program's entry as written (docs/api.md):
 * its first num_args arguments and num_results results are the arrays,
 * args[i] / results[i] the mask of the dims of each that are dynamic (the
 * buffer's dims are the bounds); the remaining arguments and results are
 * their sizes, one s32 scalar per dynamic dim, in array then dim order. */
typedef struct hloc_dynamic_dims {
  int32_t num_args, num_results;
  const uint32_t *args, *results;
} hloc_dynamic_dims;
/* hloc_exe_main (img NULL) or hloc_exe_main_cuda for a program whose entry
 * has dynamic dims (dyn; NULL: none): each --input binds one of the arrays
 * at any size within its bounds and is passed padded with its sizes; each
 * array result is written trimmed to the size the run returned, and the
 * sizes are not written, as `hloc run` does. */
int hloc_exe_main_dynamic(const hloc_program *p, const hloc_cuda_image *img,
                          const hloc_dynamic_dims *dyn, int argc, char **argv);

/* For an executable whose model has separate weights: loads the weights
 * file `file` (a name, looked up in the executable's own directory) into
 * dst before hloc_exe_main runs.  Returns 0, or prints the error and
 * returns the exit status 1. */
int hloc_exe_load_weights(const char *file, void *dst, uint64_t bytes, uint64_t fingerprint);

#ifdef __cplusplus
}
#endif

#endif /* HLOC_RUNTIME_H */
