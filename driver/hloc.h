/*
 * hloc.h — libhloc, the compile-and-run C API of hloc: the one public header
 * of driver/.  For runtimes (Python, C++ servers) that JIT a model in
 * process instead of linking an object that `hloc compile` wrote.
 *
 * A compiler (its target CPU and features) turns a frozen TensorFlow
 * GraphDef with its tfcompile config, or an HLO module in XLA's text format,
 * into an executable: native code for this machine, loaded in this process.
 * An executable describes its inputs and outputs (name, element type, shape,
 * byte size) and runs on buffers the caller owns.  The pipeline is the
 * compiler's (DESIGN.md): frontend, HLO pass pipeline, codegen through MLIR
 * and LLVM for this machine.
 *
 * Handles are opaque.  Errors are values: every function that can fail
 * returns 0 on success and -1 on failure, and on failure stores a new
 * hloc_error in *err (when err is not NULL; *err is set to NULL on success).
 * The message names the file and position, the TensorFlow node or the HLO
 * instruction at fault.  Nothing here exits, aborts or prints on bad input.
 *
 * Threads: every function may be called from any thread.  Compiles are
 * serialized inside the library.  hloc_execute may run concurrently on the
 * same executable: the executable keeps one scratch arena that one call at
 * a time uses, and concurrent calls allocate their own.  An executable must
 * not be freed while a call on it runs.  Each executable runs on as many
 * threads as hloc_executable_set_threads gave it (1 by default: the
 * calling thread alone), whichever thread calls it.
 *
 * Only the hloc_* functions declared here are exported by libhloc.so.
 */
#ifndef HLOC_H
#define HLOC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(HLOC_BUILDING_LIBRARY)
#define HLOC_API __attribute__((visibility("default")))
#else
#define HLOC_API
#endif

typedef struct hloc_compiler hloc_compiler;
typedef struct hloc_executable hloc_executable;
typedef struct hloc_error hloc_error;

/* Element types, with NumPy's names; the values are the runtime's RtDtype
 * and never change.  Buffers hold dense row-major arrays of the C type:
 * bool is one byte 0 or 1; float16 and bfloat16 are their 16-bit patterns. */
typedef enum hloc_dtype {
  HLOC_DTYPE_INVALID = -1, /* what a query with a bad index answers */
  HLOC_DTYPE_BOOL = 0,
  HLOC_DTYPE_INT8 = 1,
  HLOC_DTYPE_INT16 = 2,
  HLOC_DTYPE_INT32 = 3,
  HLOC_DTYPE_INT64 = 4,
  HLOC_DTYPE_UINT8 = 5,
  HLOC_DTYPE_UINT16 = 6,
  HLOC_DTYPE_UINT32 = 7,
  HLOC_DTYPE_UINT64 = 8,
  HLOC_DTYPE_FLOAT16 = 9,
  HLOC_DTYPE_BFLOAT16 = 10,
  HLOC_DTYPE_FLOAT32 = 11,
  HLOC_DTYPE_FLOAT64 = 12,
  /* 13 is the runtime's raw '|V1' bytes, never a program's type.  The
   * narrow types: one byte per element, an int2/int4 sign-extended in it,
   * the others' bits in its low bits (docs/header.md). */
  HLOC_DTYPE_INT2 = 14,
  HLOC_DTYPE_INT4 = 15,
  HLOC_DTYPE_UINT2 = 16,
  HLOC_DTYPE_UINT4 = 17,
  HLOC_DTYPE_FLOAT8_E4M3FN = 18,
  HLOC_DTYPE_FLOAT8_E5M2 = 19,
  HLOC_DTYPE_FLOAT8_E4M3FNUZ = 20,
  HLOC_DTYPE_FLOAT8_E5M2FNUZ = 21,
  HLOC_DTYPE_FLOAT8_E4M3B11FNUZ = 22,
  HLOC_DTYPE_FLOAT8_E4M3 = 23,
  HLOC_DTYPE_FLOAT8_E3M4 = 24,
  HLOC_DTYPE_FLOAT8_E8M0FNU = 25,
  HLOC_DTYPE_FLOAT4_E2M1FN = 26,
  /* Real then imaginary part, as NumPy's complex64 and complex128; only
   * the interpreter computes them, so no compiled program takes one. */
  HLOC_DTYPE_COMPLEX64 = 27,
  HLOC_DTYPE_COMPLEX128 = 28,
} hloc_dtype;

/* "0.1.0": the version of the library. */
HLOC_API const char *hloc_version(void);

/* --- errors --------------------------------------------------------------- */

/* The message: valid until hloc_error_free.  NULL error: "". */
HLOC_API const char *hloc_error_message(const hloc_error *err);
HLOC_API void hloc_error_free(hloc_error *err); /* NULL is a no-op */

/* --- compilers ------------------------------------------------------------ */

/* What to compile for.  A zero-initialised struct (or NULL options) is
 * valid: the CPU of this machine with all of its features.  The strings are
 * copied.  Unknown names are reported by the first compile, with the list
 * of valid ones. */
typedef struct hloc_compiler_options {
  const char *cpu;      /* an LLVM CPU name for this machine's architecture
                         * ("x86-64-v3", "skylake-avx512", "znver4", …),
                         * "native" or "generic"; NULL: "native" */
  const char *features; /* "+avx2,-avx512f" style, added to the CPU's;
                         * NULL: none */
  const char *device;   /* "cpu" (NULL: the same) or "cuda": the model runs
                         * on the machine's NVIDIA GPU (docs/backends.md,
                         * "The GPU backend"), cpu then names its SM
                         * ("sm_80", the default, "sm_86", "sm_89",
                         * "sm_90"); hloc_execute copies the buffers to
                         * the GPU and back, and fails with "no CUDA driver
                         * found" or "no GPU" on a machine without one.
                         * Threads do not apply to it; cancellation and
                         * profiling do (below); it saves as a GPU
                         * program's model library, which loads as such. */
  int gpu_tf32;         /* device "cuda" only (else hloc_compiler_create
                         * fails): nonzero lets f32 dots and convolutions
                         * run on tensor cores with their operands rounded
                         * to TF32 (10-bit mantissas); 0: exact f32 */
  const char *conv_precision; /* "fast" (NULL: the same): 3x3 convolutions
                         * may use Winograd F(4x4,3x3) on the CPU, whose
                         * results differ from the direct sum in the last
                         * bits; "exact": only algorithms exact on small
                         * integers (F(2x2,3x3), direct), as `hloc
                         * --conv-precision exact`; another name fails */
} hloc_compiler_options;

HLOC_API int hloc_compiler_create(const hloc_compiler_options *opts,
                                  hloc_compiler **out, hloc_error **err);
/* NULL is a no-op.  Executables outlive the compiler that made them. */
HLOC_API void hloc_compiler_free(hloc_compiler *compiler);

/* --- compiling ------------------------------------------------------------ */

/* A frozen GraphDef, binary or text, and its tfcompile config
 * (tensorflow.tf2xla.Config), text or binary: each format is recognised from
 * the content.  Inputs are the config's feeds, outputs its fetches, in
 * config order, named as the config names them (made C identifiers). */
HLOC_API int hloc_compile_graphdef(hloc_compiler *compiler, const void *graph,
                                   size_t graph_len, const void *config,
                                   size_t config_len, hloc_executable **out,
                                   hloc_error **err);
/* The same from files; a .pb/.pbtxt extension decides the format, else the
 * content does. */
HLOC_API int hloc_compile_graphdef_file(hloc_compiler *compiler,
                                        const char *graph_path,
                                        const char *config_path,
                                        hloc_executable **out,
                                        hloc_error **err);
/* An HLO module in XLA's text format.  Inputs are the entry computation's
 * parameters in order, named after them; outputs are the arrays of the
 * root's flattened tuple (one output when the root is an array), named
 * result0, result1, … */
HLOC_API int hloc_compile_hlo(hloc_compiler *compiler, const char *text,
                              size_t len, hloc_executable **out,
                              hloc_error **err);
HLOC_API int hloc_compile_hlo_file(hloc_compiler *compiler, const char *path,
                                   hloc_executable **out, hloc_error **err);

/* Where a model's feeds, fetches and variables come from, for
 * hloc_compile_model.  A zero-initialised struct (or NULL options) is
 * valid.  The strings are read during the call only. */
typedef struct hloc_model_options {
  const char *config;     /* a tfcompile config (text or binary): required for
                           * a GraphDef; for a SavedModel it replaces the
                           * signature */
  const char *checkpoint; /* GraphDef: the checkpoint prefix (PREFIX.index
                           * and its data files) whose values freeze the
                           * graph's variables */
  const char *tags;       /* SavedModel: the meta graph's tag set,
                           * comma-separated; NULL: "serve" */
  const char *signature;  /* SavedModel: the signature key; NULL:
                           * "serving_default" */
  int num_input_shapes;   /* SavedModel: static shapes for inputs whose
                           * saved shapes leave dimensions to run time */
  const char *const *input_shape_names; /* the signature's input keys */
  const int *input_shape_ranks;
  const int64_t *const *input_shape_dims; /* rank entries each */
  const char *cache_dir;  /* NULL: no cache.  Else compiled models are kept
                           * in this directory (made if missing), named by
                           * a hash of everything the compile reads (the
                           * model's, config's and checkpoint's bytes, the
                           * options, the CPU, hloc's version), and a later
                           * compile of the same inputs loads the kept code
                           * instead of compiling */
} hloc_model_options;

/* A model file or directory: a SavedModel directory (TensorFlow 2
 * tf.saved_model.save / Keras export, or TensorFlow 1 SavedModelBuilder),
 * a GraphDef (.pb, .pbtxt) with options->config, or HLO text (.hlo).  A
 * SavedModel's inputs and outputs are its signature's, named by their keys,
 * in key order; its variables take their values from its checkpoint. */
HLOC_API int hloc_compile_model(hloc_compiler *compiler, const char *path,
                                const hloc_model_options *options,
                                hloc_executable **out, hloc_error **err);

/* NULL is a no-op. */
HLOC_API void hloc_executable_free(hloc_executable *exe);

/* --- saving and loading --------------------------------------------------- */

/* Writes exe as a model library at path: a shared library holding the
 * compiled code and a copy of the runtime, as `hloc compile --emit so`
 * makes (docs/header.md), which hloc_executable_load reads back — in
 * another process, without compiling.  Linking needs a C compiler ($CC,
 * default cc) and the runtime archive libhloc_runtime.a beside
 * libhloc.so (where `cmake --install` and `pip install ./python` put it;
 * in a build tree, the tree's).  The library is written under a temporary
 * name and renamed: path is the whole library or as it was.  A compiled
 * executable keeps its object file (about the size of its weights) for
 * this; one that hloc_executable_load made cannot be saved (its file is
 * the library already).  The code is for the compiler's CPU: a library
 * saved for this machine's CPU runs on machines that have its features.
 * A GPU executable (device "cuda") makes a GPU program's library, as
 * `hloc compile --target nvptx64 --emit so` does. */
HLOC_API int hloc_executable_save(const hloc_executable *exe, const char *path,
                                  hloc_error **err);

/* Loads the model library at path (made by hloc_executable_save or `hloc
 * compile --emit so`, of any --name) as an executable, which then works as
 * a compiled one does: its inputs and outputs, hloc_execute, threads (on
 * the library's own copy of the runtime), cancellation and profiling; a
 * GPU program's library as a device "cuda" executable (its runs go through
 * the library's own CUDA glue, and fail with "no CUDA driver found" or
 * "no GPU" on a machine without one).
 * Fails, naming path, for a missing or unreadable file, a file that is not
 * a shared library, a shared library for another architecture, a shared
 * library that is no model library, a model
 * library of another library ABI (HLOC_LIBRARY_ABI of hloc_runtime.h: made
 * by an hloc whose descriptor differs from this one's; compile it again),
 * and a library compiled for a CPU whose features this one lacks (the
 * message names them; its code would die of an illegal instruction).
 * Compiles fail so too when the compiler's cpu names such a CPU.
 * Loading runs the library's initialisers, as dlopen does: load only files
 * you trust. */
HLOC_API int hloc_executable_load(const char *path, hloc_executable **out, hloc_error **err);

/* --- describing an executable --------------------------------------------- */

/* Shapes are static: everything below is known once compiled.  Input and
 * output i count from 0; an index out of range gives NULL, -1 or 0. */
HLOC_API int hloc_executable_num_inputs(const hloc_executable *exe);
HLOC_API int hloc_executable_num_outputs(const hloc_executable *exe);

/* A C identifier, unique among the inputs and outputs; valid as long as
 * the executable. */
HLOC_API const char *hloc_executable_input_name(const hloc_executable *exe,
                                                int i);
HLOC_API hloc_dtype hloc_executable_input_dtype(const hloc_executable *exe,
                                                int i);
HLOC_API int hloc_executable_input_rank(const hloc_executable *exe, int i);
/* rank entries (possibly NULL for rank 0), valid as long as the
 * executable. */
HLOC_API const int64_t *hloc_executable_input_dims(const hloc_executable *exe,
                                                   int i);
/* Elements × element size: the size of the buffer hloc_execute reads. */
HLOC_API size_t hloc_executable_input_bytes(const hloc_executable *exe, int i);

HLOC_API const char *hloc_executable_output_name(const hloc_executable *exe,
                                                 int i);
HLOC_API hloc_dtype hloc_executable_output_dtype(const hloc_executable *exe,
                                                 int i);
HLOC_API int hloc_executable_output_rank(const hloc_executable *exe, int i);
HLOC_API const int64_t *hloc_executable_output_dims(const hloc_executable *exe,
                                                    int i);
HLOC_API size_t hloc_executable_output_bytes(const hloc_executable *exe,
                                             int i);

/* The TensorFlow tensor input (output) i is, "NODE:INDEX"
 * ("model/dense/MatMul:0"), for a GraphDef or SavedModel; NULL for HLO
 * input or an index out of range.  Valid as long as the executable. */
HLOC_API const char *hloc_executable_input_tf_name(const hloc_executable *exe, int i);
HLOC_API const char *hloc_executable_output_tf_name(const hloc_executable *exe, int i);

/* The input (output) that `name` names, by the rules `hloc run`, the
 * generated executables and the Python binding share (docs/cli.md,
 * "Names"): its name; its TensorFlow name, "NODE:INDEX" or for output 0
 * just "NODE"; else its position "N" (inputs also "argN").  Returns the
 * index, or -1 with an error that names what exists ("did you mean"), or
 * both buffers of a name that is one's name and the other's TensorFlow
 * name. */
HLOC_API int hloc_executable_input_index(const hloc_executable *exe, const char *name,
                                         hloc_error **err);
HLOC_API int hloc_executable_output_index(const hloc_executable *exe, const char *name,
                                          hloc_error **err);

/* The size of the scratch arena each run uses (allocated by the library). */
HLOC_API size_t hloc_executable_scratch_bytes(const hloc_executable *exe);

/* --- running -------------------------------------------------------------- */

/* Runs the executable: inputs[i] points to input i's bytes, outputs[i] to
 * room for output i's bytes, each a dense row-major array aligned to its
 * element size.  Outputs must not overlap each other or any input; inputs
 * are only read, except the read-write variables of a tfcompile config
 * (its variable {} entries, inputs after the feeds, in config order):
 * when the call returns, such an input's buffer holds the variable's new
 * value, so calls in a row carry the state (as tfcompile's generated
 * classes do; the inputs array stays const for the other inputs' sake,
 * and a variable's buffer must be writable).  Readonly variables are only
 * read.  A buffer may be NULL only when it has no bytes, and the
 * inputs (outputs) array only when no input (output) has bytes.  Fails,
 * with nothing written, on a NULL where a buffer is needed or when the
 * scratch arena cannot be allocated. */
HLOC_API int hloc_execute(hloc_executable *exe, const void *const *inputs,
                          void *const *outputs, hloc_error **err);

/* Stops the calls of hloc_execute on exe that are running when it is
 * called; callable from any thread (a watchdog, the thread of a user's
 * "stop" button), never blocking.  The compiled code checks before every
 * kernel and at the head of every while-loop iteration, so each such call
 * soon returns -1 with "hloc_execute: cancelled at WHERE", WHERE naming the
 * kernel's HLO instruction ("%fusion.3", "%add.1 in %loop" inside a while
 * loop) or the loop ("while %loop"); its outputs are then garbage.  Calls
 * that start afterwards are not affected: with no call running it does
 * nothing.  Returns the number of calls it asked to stop (0: none was
 * running — a caller racing a call that has not yet started may retry);
 * 0 for NULL.  On the GPU (device "cuda") the flag is read before each
 * kernel launch and each copy (a kernel running finishes), WHERE is
 * "%INSTRUCTION (kernel SYMBOL)" or "a copy", and no output is written. */
HLOC_API int hloc_executable_cancel(hloc_executable *exe);

/* --- threads -------------------------------------------------------------- */

/* Runs exe's kernels on nthreads threads in all, the caller's included: the
 * executable owns a pool of nthreads - 1 worker threads, and every
 * hloc_execute of it splits the parallel loops of large kernels (the
 * outermost loop over disjoint output elements; no reduction is split)
 * across the pool and the calling thread.  Results are bit-identical for
 * every thread count.  nthreads 1 (the default) starts no thread: runs use
 * the calling thread alone.  The pool is the calling thread's for the
 * duration of each hloc_execute only, so executables with different thread
 * counts run side by side, from the same or different threads.
 *
 * A new count replaces the pool: the old one is stopped and freed, after
 * the calls running on it have returned (this call waits for them; calls
 * that start meanwhile wait for the new pool).  The same count keeps the
 * pool.  Fails, leaving the executable as it was, when nthreads < 1 or when
 * the threads cannot be started.
 *
 * Concurrent calls of one executable share its pool: a kernel's loop runs
 * on the pool when the pool is idle; a loop that finds it busy with another
 * call's loop runs whole on its own calling thread instead (correct, and
 * without waiting, but not spread).  To run several calls at once each on
 * several threads, use one executable per concurrent caller. */
HLOC_API int hloc_executable_set_threads(hloc_executable *exe, int nthreads,
                                         hloc_error **err);
/* The count last set (1 by default); 0 for NULL. */
HLOC_API int hloc_executable_threads(const hloc_executable *exe);

/* --- profiling ------------------------------------------------------------ */

/* With profiling on, every hloc_execute of exe times each kernel the
 * compiled code calls (a fusion, a convolution, a dot, …: one call site of
 * the program, so a kernel in a while loop counts each iteration) and the
 * run as a whole, and adds the times to the executable's profile; off (the
 * default) the code runs without a profiler, paying one untaken branch per
 * kernel.  Turning it on or off keeps what was gathered.  The profile is
 * what `hloc run --profile` and an executable's --profile print (docs/
 * cli.md): the per-kernel figures below and a table of them.  Concurrent
 * calls each time their own run and add it up when done.  On the GPU
 * (device "cuda") each kernel is timed there with CUDA events, the launch
 * then waiting for it.  Fails only for a NULL executable. */
HLOC_API int hloc_executable_set_profiling(hloc_executable *exe, int on, hloc_error **err);
/* Forgets the profile gathered so far; NULL is a no-op. */
HLOC_API void hloc_executable_clear_profile(hloc_executable *exe);

/* The kernels of exe (0 for NULL); kernel i counts from 0 in program
 * order. */
HLOC_API int hloc_executable_num_kernels(const hloc_executable *exe);

/* One kernel, and its share of the profile.  The strings are valid as long
 * as the executable; NULL where there is nothing to say. */
typedef struct hloc_kernel_profile {
  const char *symbol;      /* the kernel's function in the compiled code */
  const char *instruction; /* the HLO instruction it computes ("fusion.3") */
  const char *kind;        /* its opcode, a fusion with its dominating
                            * instruction's: "fusion(convolution)" */
  const char *shape;       /* its result ("f32[1,112,112,64]") */
  const char *tf_op;       /* the TensorFlow node it came from, when the
                            * model was a GraphDef or SavedModel */
  const char *loop;        /* the while loop it runs in ("while.3") */
  uint64_t calls;          /* how often it ran in the profiled runs */
  double seconds;          /* the time it took, summed over them */
} hloc_kernel_profile;

HLOC_API int hloc_executable_kernel_profile(const hloc_executable *exe, int i,
                                            hloc_kernel_profile *out, hloc_error **err);

/* The profiled runs: how many, their wall time summed, and how much of
 * it went to kernels (the rest: copies, loop control between kernels). */
typedef struct hloc_profile_summary {
  uint64_t runs;
  double seconds;
  double kernel_seconds;
} hloc_profile_summary;

HLOC_API int hloc_executable_profile_summary(const hloc_executable *exe,
                                             hloc_profile_summary *out, hloc_error **err);

/* The profile as the table `hloc run --profile` prints: written to buf as
 * snprintf does (at most size bytes, NUL-terminated when size > 0), and
 * the length of the whole text returned, so a first call with size 0
 * gives the size to allocate (plus 1).  0 for NULL or when memory runs
 * out. */
HLOC_API size_t hloc_executable_profile_report(const hloc_executable *exe, char *buf,
                                               size_t size);

#ifdef __cplusplus
}
#endif

#endif /* HLOC_H */
