/*
 * libhloc.c — the compile-and-run C API of hloc.h, on top of the frontend,
 * the pass pipeline and codegen's JIT.
 *
 * A compile is the compiler's pipeline kept in memory: the pipeline of
 * pipeline.c that `hloc` runs (GraphDef and config → tf_import, or HLO text
 * → hlo_parse + hlo_verify; then the passes; then codegen for this
 * machine), then cg_jit, which loads the object file that codegen would
 * write for the program.  The executable is that JIT plus the
 * N_program descriptor it exports (hloc_runtime.h); every query reads the
 * descriptor, so what is reported is what the code was compiled for.
 *
 * Errors cross the API as hloc_error, a copy of the internal HloError's
 * message, so callers never see the IR's error type.  NULL handles and
 * buffers are errors too: a binding that passes NULL gets a message naming
 * the function and the argument, not a crash inside generated code.
 *
 * Compiles hold one process-wide lock: the frontend and codegen do not
 * promise thread safety (tf_type_name's rotating buffers, for one), and a
 * compile is long enough that the lock costs nothing.
 * Execution takes no lock: the scratch arena cached in the executable is
 * claimed with an atomic flag, and a call that finds it taken allocates its
 * own, so concurrent calls are correct and the common single-threaded call
 * allocates nothing.
 *
 * Threads: an executable may own a runtime thread pool
 * (hloc_executable_set_threads).  hloc_execute installs it as the calling
 * thread's pool (hloc_use_thread_pool) around the call and restores the
 * previous one, so executables with different thread counts, run from
 * different threads, never see each other's pool.  The compiled code finds
 * it because cg_jit resolves the code's rt_parallel_for to this library's
 * own copy of the runtime (codegen/cpu/jit.c takes &rt_parallel_for, and
 * --exclude-libs keeps the copy private): the one whose thread-local pool
 * hloc_execute sets.  Calls count themselves in `pool_users` while they
 * hold the pool; hloc_executable_set_threads holds new calls back
 * (`replacing`) and waits for the count to drop to zero before it swaps
 * and frees the pool — so a stream of calls cannot starve it, and a call
 * never runs on a freed pool.
 *
 * Cancellation: each call runs the code through the descriptor's
 * run_cancellable with a flag of its own, listed in the executable's `runs`
 * while the call lasts; hloc_executable_cancel sets the flags of the calls
 * listed then.  One flag per call, rather than one per executable, so that
 * a cancel stops exactly the calls running when it is made, never a later
 * one, and concurrent calls need no agreement on when to clear it.  A GPU
 * program's call (execute_cuda) is listed the same way and gives its flag
 * to the runtime's hloc_cuda_run_host_with (the library's, for a loaded
 * one), which reads it before each launch and copy.
 *
 * Model libraries (library.c): hloc_executable_save links the object the
 * JIT loaded, which a compiled executable keeps, into a shared library;
 * hloc_executable_load opens one.  A loaded executable runs the same way,
 * except that its pools come from, and are installed in, the library's own
 * copy of the runtime (the executable's pool_* functions), since that is
 * the copy whose rt_parallel_for its code calls.
 *
 * Profiling: with it on, a call runs the code through the descriptor's
 * run_profiled with a runtime profiler of its own (hloc_profile_run) and
 * adds what it measured to the executable's profile under a lock when it
 * returns; so concurrent calls never share counters, and the lock is
 * taken once per call, not per kernel.  A GPU program's call gives its
 * profile (made by hloc_profile_init for the program, whose kernels are
 * the ones the entry launches by index) to hloc_cuda_run_host_with, which
 * times each launch with CUDA events.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "codegen.h"
#include "frontend.h"
#include "hlo.h"
#include "hloc.h"
#include "library.h"
#include "pipeline.h"

_Static_assert(HLOC_DTYPE_BOOL == (int)RT_BOOL && HLOC_DTYPE_INT8 == (int)RT_I8 &&
                   HLOC_DTYPE_INT16 == (int)RT_I16 && HLOC_DTYPE_INT32 == (int)RT_I32 &&
                   HLOC_DTYPE_INT64 == (int)RT_I64 && HLOC_DTYPE_UINT8 == (int)RT_U8 &&
                   HLOC_DTYPE_UINT16 == (int)RT_U16 && HLOC_DTYPE_UINT32 == (int)RT_U32 &&
                   HLOC_DTYPE_UINT64 == (int)RT_U64 && HLOC_DTYPE_FLOAT16 == (int)RT_F16 &&
                   HLOC_DTYPE_BFLOAT16 == (int)RT_BF16 && HLOC_DTYPE_FLOAT32 == (int)RT_F32 &&
                   HLOC_DTYPE_FLOAT64 == (int)RT_F64 && HLOC_DTYPE_INT2 == (int)RT_I2 &&
                   HLOC_DTYPE_INT4 == (int)RT_I4 && HLOC_DTYPE_UINT2 == (int)RT_U2 &&
                   HLOC_DTYPE_UINT4 == (int)RT_U4 &&
                   HLOC_DTYPE_FLOAT8_E4M3FN == (int)RT_F8E4M3FN &&
                   HLOC_DTYPE_FLOAT8_E5M2 == (int)RT_F8E5M2 &&
                   HLOC_DTYPE_FLOAT8_E4M3FNUZ == (int)RT_F8E4M3FNUZ &&
                   HLOC_DTYPE_FLOAT8_E5M2FNUZ == (int)RT_F8E5M2FNUZ &&
                   HLOC_DTYPE_FLOAT8_E4M3B11FNUZ == (int)RT_F8E4M3B11FNUZ &&
                   HLOC_DTYPE_FLOAT8_E4M3 == (int)RT_F8E4M3 &&
                   HLOC_DTYPE_FLOAT8_E3M4 == (int)RT_F8E3M4 &&
                   HLOC_DTYPE_FLOAT8_E8M0FNU == (int)RT_F8E8M0FNU &&
                   HLOC_DTYPE_FLOAT4_E2M1FN == (int)RT_F4E2M1FN &&
                   HLOC_DTYPE_COMPLEX64 == (int)RT_C64 && HLOC_DTYPE_COMPLEX128 == (int)RT_C128,
               "hloc_dtype must keep RtDtype's values: they are the public ABI");

struct hloc_error {
  char message[1]; /* NUL-terminated, allocated to its length */
};

struct hloc_compiler {
  char *cpu;      /* NULL: codegen's default, the host CPU */
  char *features; /* NULL: none */
  bool cuda;      /* device "cuda": --target nvptx64, cpu the SM */
  bool tf32;      /* gpu_tf32: f32 contractions on tensor cores */
  bool exact_conv; /* conv_precision "exact": CgOptions.exact_winograd */
};

struct hloc_executable {
  CgJit *jit;                   /* owns the code and the descriptor … */
  Library lib;                  /* … or a loaded model library does */
  const hloc_program *program;  /* N_program, inside either */
  char *object;                 /* the JIT's object file, for saving; NULL
                                 * for a loaded library */
  char *cpu_refusal;            /* why this CPU cannot run the code (it
                                 * lacks features the compile assumed);
                                 * NULL when it can */
  size_t object_len;
  /* The runtime the code calls: libhloc's own for the JIT, the library's
   * copy for a loaded library (library.c). */
  RtThreadPool *(*pool_create)(int nthreads);
  void (*pool_free)(RtThreadPool *pool);
  RtThreadPool *(*use_pool)(RtThreadPool *pool);
  void **buffers;               /* cached: inputs then outputs, per call */
  void *scratch;                /* cached arena; NULL when none is needed */
  atomic_flag busy;             /* set while a call uses the two above */
  pthread_mutex_t pool_lock;    /* guards the three below */
  pthread_cond_t pool_changed;  /* pool_users reached 0, or replacing ended */
  int pool_users;               /* calls running on `pool` */
  bool replacing;               /* set_threads is waiting for pool_users == 0 */
  RtThreadPool *pool;           /* NULL: runs on the calling thread */
  /* A GPU program (device "cuda", or a GPU program's library): its device
   * code, and the GPU it was loaded into on the first call (gpu_lock: one
   * run at a time), through the CUDA functions of the runtime the code
   * calls (as the pool's above). */
  const hloc_cuda_image *cuda_image;
  hloc_cuda *gpu;
  int (*cuda_open)(hloc_cuda **out, char *err, size_t errlen);
  void (*cuda_close)(hloc_cuda *c);
  int (*cuda_load_image)(hloc_cuda *c, const hloc_cuda_image *img, char *err, size_t errlen);
  int (*cuda_run_host_with)(hloc_cuda *c, const hloc_program *p, void *const *buffers,
                            hloc_cuda_run_options *o, char *err, size_t errlen);
  pthread_mutex_t gpu_lock;
  atomic_int nthreads;          /* as last set; 1 by default */
  struct Run *runs;             /* calls now running (runs_lock) */
  atomic_int profiling;         /* hloc_executable_set_profiling */
  pthread_mutex_t profile_lock; /* guards `profile` */
  hloc_profile profile;         /* what the profiled calls gathered */
};

/* A call of hloc_execute while its code runs: the flag the code polls. */
typedef struct Run {
  atomic_int cancel;
  struct Run *next;
} Run;

/* Guards every executable's `runs`: held only to link, unlink or walk. */
static pthread_mutex_t runs_lock = PTHREAD_MUTEX_INITIALIZER;

static pthread_mutex_t compile_lock = PTHREAD_MUTEX_INITIALIZER;

const char *hloc_version(void) { return HLOC_VERSION; }

/* --- errors ----------------------------------------------------------------------------------- */

/* Converts (and frees) an internal error; returns -1 for the caller to
 * return. */
static int fail(hloc_error **err, HloError *e) {
  if (err) {
    const char *msg = hlo_error_message(e);
    size_t n = strlen(msg);
    *err = malloc(sizeof **err + n);
    HLO_CHECK(*err);
    memcpy((*err)->message, msg, n + 1);
  }
  hlo_error_free(e);
  return -1;
}

static int succeed(hloc_error **err) {
  if (err) *err = NULL;
  return 0;
}

const char *hloc_error_message(const hloc_error *err) { return err ? err->message : ""; }

void hloc_error_free(hloc_error *err) { free(err); }

/* --- compilers -------------------------------------------------------------------------------- */

static char *copy_or_null(const char *s) {
  if (!s) return NULL;
  return hlo_xstrdup(s);
}

int hloc_compiler_create(const hloc_compiler_options *opts, hloc_compiler **out,
                         hloc_error **err) {
  if (!out) return fail(err, hlo_error("hloc_compiler_create: out is NULL"));
  hloc_compiler *c = hlo_xcalloc(1, sizeof *c);
  if (opts) {
    c->cpu = copy_or_null(opts->cpu);
    c->features = copy_or_null(opts->features);
    c->cuda = opts->device && !strcmp(opts->device, "cuda");
    if (opts->device && !c->cuda && strcmp(opts->device, "cpu")) {
      HloError *e = hlo_error("hloc_compiler_create: device '%s': the devices are cpu and cuda",
                              opts->device);
      hloc_compiler_free(c);
      return fail(err, e);
    }
    c->tf32 = opts->gpu_tf32 != 0;
    const char *prec = opts->conv_precision;
    if (prec && strcmp(prec, "exact") && strcmp(prec, "fast")) {
      HloError *e = hlo_error("hloc_compiler_create: conv_precision '%s': the precisions are "
                              "exact and fast",
                              prec);
      hloc_compiler_free(c);
      return fail(err, e);
    }
    c->exact_conv = prec && !strcmp(prec, "exact");
    if (c->tf32 && !c->cuda) {
      hloc_compiler_free(c);
      return fail(err, hlo_error("hloc_compiler_create: gpu_tf32 runs f32 dots on a GPU's "
                                 "tensor cores; it needs device \"cuda\""));
    }
  }
  *out = c;
  return succeed(err);
}

void hloc_compiler_free(hloc_compiler *compiler) {
  if (!compiler) return;
  free(compiler->cpu);
  free(compiler->features);
  free(compiler);
}

/* --- compiling -------------------------------------------------------------------------------- */

/* The scratch arena of p, or NULL when it needs none (*ok false when the
 * allocation fails). */
static void *scratch_alloc(const hloc_program *p, bool *ok) {
  *ok = true;
  if (!p->scratch_bytes) return NULL;
  size_t align = p->scratch_align > sizeof(void *) ? (size_t)p->scratch_align : sizeof(void *);
  void *s = NULL;
  if (posix_memalign(&s, align, (size_t)p->scratch_bytes)) *ok = false;
  return s;
}

static void **buffers_alloc(const hloc_program *p) {
  void **b = hlo_xcalloc((size_t)p->num_args + (size_t)p->num_results + 1, sizeof(void *));
  return b;
}

/* Takes a loaded model (consumed) through the rest of the pipeline —
 * the passes, then codegen for the host — into an executable. */
/* Each executable has a JIT of its own: one name serves them all. */
#define PROGRAM_NAME "model"

static HloError *executable_new(CgJit *jit, Library *lib, char *object, size_t object_len,
                                hloc_executable **out);

/* Compiles a loaded model; *object, when not NULL, receives a copy of the
 * object file the JIT loaded (for the cache). */
static HloError *compile_model_keep(const hloc_compiler *c, Model *md, hloc_executable **out,
                                    char **object, size_t *object_len) {
  CgOptions o = {
      .name = PROGRAM_NAME,
      .cpu = c->cpu,
      .features = c->features,
      .target = c->cuda ? "nvptx64" : NULL,
      .gpu_tf32 = c->tf32,
      .exact_winograd = c->exact_conv,
  };
  CgProgram *prog = NULL;
  CgJit *jit = NULL;
  HloError *e = pipeline_optimize(md, NULL, &o);
  if (!e) e = pipeline_compile(md, &o, &prog);
  model_free(md);
  char *kept = NULL;
  size_t kept_len = 0;
  if (!e) e = cg_jit_keep(prog, &jit, &kept, &kept_len);
  cg_program_free(prog);
  if (!e && object) {
    *object = hlo_xmalloc(kept_len ? kept_len : 1);
    memcpy(*object, kept, kept_len);
    *object_len = kept_len;
  }
  return e ? e : executable_new(jit, NULL, kept, kept_len, out);
}

static HloError *compile_model(const hloc_compiler *c, Model *md, hloc_executable **out) {
  return compile_model_keep(c, md, out, NULL, NULL);
}

/* An executable around a program (all taken): JIT'd from `object`, or a
 * loaded library (lib; jit and object NULL). */
static HloError *executable_new(CgJit *jit, Library *lib, char *object, size_t object_len,
                                hloc_executable **out) {
  HloError *e;
  hloc_executable *exe = hlo_xcalloc(1, sizeof *exe);
  exe->jit = jit;
  exe->object = object;
  exe->object_len = object_len;
  if (lib) {
    exe->lib = *lib;
    exe->program = lib->program;
    exe->pool_create = lib->pool_create;
    exe->pool_free = lib->pool_free;
    exe->use_pool = lib->use_pool;
    exe->cuda_image = lib->cuda_image;
    exe->cuda_open = lib->cuda_open;
    exe->cuda_close = lib->cuda_close;
    exe->cuda_load_image = lib->cuda_load_image;
    exe->cuda_run_host_with = lib->cuda_run_host_with;
  } else {
    exe->program = cg_jit_program(jit);
    /* A compiler's cpu may name a CPU this one is not: such code may be
     * saved for the machines that have it, but not run here.  (A loaded
     * library's is checked as it opens, library.c.) */
    char why[1024];
    if (hloc_program_check_cpu(exe->program, why, sizeof why)) exe->cpu_refusal = hlo_xstrdup(why);
    exe->cuda_image = cg_jit_cuda_image(jit);
    exe->pool_create = rt_threadpool_create;
    exe->pool_free = rt_threadpool_free;
    exe->use_pool = hloc_use_thread_pool;
    exe->cuda_open = hloc_cuda_open;
    exe->cuda_close = hloc_cuda_close;
    exe->cuda_load_image = hloc_cuda_load_image;
    exe->cuda_run_host_with = hloc_cuda_run_host_with;
  }
  atomic_flag_clear(&exe->busy);
  pthread_mutex_init(&exe->gpu_lock, NULL);
  pthread_mutex_init(&exe->pool_lock, NULL);
  pthread_cond_init(&exe->pool_changed, NULL);
  atomic_init(&exe->nthreads, 1);
  atomic_init(&exe->profiling, 0);
  pthread_mutex_init(&exe->profile_lock, NULL);
  exe->buffers = buffers_alloc(exe->program);
  bool ok = !hloc_profile_init(&exe->profile, exe->program);
  exe->scratch = ok ? scratch_alloc(exe->program, &ok) : NULL;
  if (!ok) {
    e = hlo_error("cannot allocate the %llu-byte scratch arena of the model",
                  (unsigned long long)exe->program->scratch_bytes);
    hloc_executable_free(exe);
    return e;
  }
  *out = exe;
  return NULL;
}

/* Checks the arguments every compile function shares. */
static HloError *check_compile_args(const char *fn, const hloc_compiler *c,
                                    hloc_executable **out) {
  if (!c) return hlo_error("%s: compiler is NULL", fn);
  if (!out) return hlo_error("%s: out is NULL", fn);
  *out = NULL;
  return NULL;
}

static HloError *check_bytes(const char *fn, const char *what, const void *data, size_t len) {
  if (!data && len) return hlo_error("%s: %s is NULL but its length is %zu", fn, what, len);
  return NULL;
}

/* One compile request: which loader, its inputs, and where the
 * executable goes. */
typedef enum {
  FROM_GRAPHDEF,
  FROM_GRAPHDEF_FILES,
  FROM_HLO,
  FROM_HLO_FILE,
  FROM_MODEL_FILE
} CompileSource;

typedef struct CompileJob {
  const hloc_compiler *c;
  CompileSource source;
  const void *data, *config;    /* FROM_GRAPHDEF, FROM_HLO */
  size_t data_len, config_len;
  const char *path, *config_path; /* the _file variants */
  const ModelSource *model;       /* FROM_MODEL_FILE */
  const char *cache_dir;          /* FROM_MODEL_FILE: the compile cache, or NULL */
  hloc_executable **out;
} CompileJob;

/* A model file through the cache (cache.c): the kept object when one
 * loads, else a compile whose object is kept. */
static HloError *compile_cached(const CompileJob *j) {
  char name[40];
  HloStr cpu = {0};
  if (j->c->cuda)
    hlo_str_printf(&cpu, "nvptx64 %s%s", j->c->cpu ? j->c->cpu : "sm_80",
                   j->c->tf32 ? " tf32" : "");
  /* conv_precision "exact" compiles other code: another name */
  HloStr features = {0};
  if (j->c->exact_conv)
    hlo_str_printf(&features, "%s conv-precision=exact", j->c->features ? j->c->features : "");
  HloError *e = cache_name(j->path, j->model, j->c->cuda ? cpu.buf : j->c->cpu,
                           j->c->exact_conv ? features.buf : j->c->features, name);
  free(features.buf);
  free(cpu.buf);
  char *object = NULL;
  size_t len = 0;
  if (!e) e = cache_read(j->cache_dir, name, &object, &len);
  if (e) return e;
  if (object) {
    CgJit *jit = NULL;
    HloError *bad = cg_jit_bytes(object, len, PROGRAM_NAME, &jit);
    if (!bad) return executable_new(jit, NULL, object, len, j->out);
    free(object);
    hlo_error_free(bad); /* not loadable (truncated, foreign): compile again */
  }
  Model md;
  e = pipeline_load_file(j->path, j->model, &md);
  if (!e) e = compile_model_keep(j->c, &md, j->out, &object, &len);
  if (!e) {
    e = cache_write(j->cache_dir, name, object, len);
    if (e) {
      hloc_executable_free(*j->out);
      *j->out = NULL;
    }
  }
  free(object);
  return e;
}

static HloError *load_graphdef(const CompileJob *j, Model *md) {
  ProtobufCMessage *gd = NULL, *cfg = NULL;
  /* "graph" and "config" have no extension: the content tells binary from
   * text, and they name the input in messages. */
  HloError *e = tf_proto_parse(&tensorflow__graph_def__descriptor, j->data ? j->data : "",
                               j->data_len, "graph", &gd);
  if (!e)
    e = tf_proto_parse(&tensorflow__tf2xla__config__descriptor, j->config ? j->config : "",
                       j->config_len, "config", &cfg);
  if (e) {
    if (gd) protobuf_c_message_free_unpacked(gd, NULL);
    return e;
  }
  TfGraph *g = NULL;
  e = tf_graph_new((Tensorflow__GraphDef *)gd, (Tensorflow__Tf2xla__Config *)cfg, &g);
  return e ? e : pipeline_load_graph(g, md);
}

static HloError *run_job(void *ctx) {
  const CompileJob *j = ctx;
  Model md;
  HloError *e = NULL;
  TfGraph *g = NULL;
  switch (j->source) {
  case FROM_GRAPHDEF: e = load_graphdef(j, &md); break;
  case FROM_GRAPHDEF_FILES:
    e = tf_graph_load(j->path, j->config_path, &g);
    if (!e) e = pipeline_load_graph(g, &md);
    break;
  case FROM_HLO:
    e = pipeline_load_hlo_text(j->data ? j->data : "", j->data_len, "hlo", &md);
    break;
  case FROM_HLO_FILE: e = pipeline_load_hlo_file(j->path, &md); break;
  case FROM_MODEL_FILE:
    if (j->cache_dir) return compile_cached(j);
    e = pipeline_load_file(j->path, j->model, &md);
    break;
  }
  return e ? e : compile_model(j->c, &md, j->out);
}

/* Compiles one at a time (LLVM's and the passes' globals), and never lets
 * running out of memory end the caller's process. */
static int compile_job(const CompileJob *j, HloError *e, hloc_error **err) {
  if (!e) {
    pthread_mutex_lock(&compile_lock);
    e = hlo_guard_oom(run_job, (void *)j);
    pthread_mutex_unlock(&compile_lock);
  }
  return e ? fail(err, e) : succeed(err);
}

/* The model options as the pipeline takes them (src->shapes holds the
 * input shapes). */
static HloError *model_source(const char *fn, const hloc_model_options *o, ModelSource *src) {
  memset(src, 0, sizeof *src);
  if (!o) return NULL;
  src->config = o->config;
  src->checkpoint = o->checkpoint;
  src->saved.tags = o->tags;
  src->saved.signature = o->signature;
  int n = o->num_input_shapes;
  if (n < 0 || n > MODEL_MAX_INPUT_SHAPES)
    return hlo_error("%s: num_input_shapes is %d; at most %d", fn, n, MODEL_MAX_INPUT_SHAPES);
  if (n && (!o->input_shape_names || !o->input_shape_ranks || !o->input_shape_dims))
    return hlo_error("%s: num_input_shapes is %d but a shape array is NULL", fn, n);
  for (int i = 0; i < n; i++) {
    TfInputShape *s = &src->shapes[i];
    int rank = o->input_shape_ranks[i];
    if (!o->input_shape_names[i])
      return hlo_error("%s: input shape %d has no name", fn, i);
    if (rank < 0 || rank > HLO_MAX_RANK || (rank && !o->input_shape_dims[i]))
      return hlo_error("%s: input shape '%s' has rank %d (0 to %d, with dims)", fn,
                       o->input_shape_names[i], rank, HLO_MAX_RANK);
    s->name = o->input_shape_names[i];
    s->rank = rank;
    for (int d = 0; d < rank; d++) s->dims[d] = o->input_shape_dims[i][d];
  }
  src->saved.input_shapes = src->shapes;
  src->saved.ninput_shapes = n;
  return NULL;
}

int hloc_compile_model(hloc_compiler *compiler, const char *path,
                       const hloc_model_options *options, hloc_executable **out,
                       hloc_error **err) {
  static const char fn[] = "hloc_compile_model";
  ModelSource src;
  HloError *e = check_compile_args(fn, compiler, out);
  if (!e && !path) e = hlo_error("%s: path is NULL", fn);
  if (!e) e = model_source(fn, options, &src);
  CompileJob j = {compiler, FROM_MODEL_FILE, .path = path, .model = &src,
                  .cache_dir = options ? options->cache_dir : NULL, .out = out};
  return compile_job(&j, e, err);
}

int hloc_compile_graphdef(hloc_compiler *compiler, const void *graph, size_t graph_len,
                          const void *config, size_t config_len, hloc_executable **out,
                          hloc_error **err) {
  static const char fn[] = "hloc_compile_graphdef";
  HloError *e = check_compile_args(fn, compiler, out);
  if (!e) e = check_bytes(fn, "graph", graph, graph_len);
  if (!e) e = check_bytes(fn, "config", config, config_len);
  CompileJob j = {compiler, FROM_GRAPHDEF, .data = graph, .data_len = graph_len,
                  .config = config, .config_len = config_len, .out = out};
  return compile_job(&j, e, err);
}

int hloc_compile_graphdef_file(hloc_compiler *compiler, const char *graph_path,
                               const char *config_path, hloc_executable **out,
                               hloc_error **err) {
  static const char fn[] = "hloc_compile_graphdef_file";
  HloError *e = check_compile_args(fn, compiler, out);
  if (!e && !graph_path) e = hlo_error("%s: graph_path is NULL", fn);
  if (!e && !config_path) e = hlo_error("%s: config_path is NULL", fn);
  CompileJob j = {compiler, FROM_GRAPHDEF_FILES, .path = graph_path,
                  .config_path = config_path, .out = out};
  return compile_job(&j, e, err);
}

int hloc_compile_hlo(hloc_compiler *compiler, const char *text, size_t len,
                     hloc_executable **out, hloc_error **err) {
  static const char fn[] = "hloc_compile_hlo";
  HloError *e = check_compile_args(fn, compiler, out);
  if (!e) e = check_bytes(fn, "text", text, len);
  CompileJob j = {compiler, FROM_HLO, .data = text, .data_len = len, .out = out};
  return compile_job(&j, e, err);
}

int hloc_compile_hlo_file(hloc_compiler *compiler, const char *path, hloc_executable **out,
                          hloc_error **err) {
  static const char fn[] = "hloc_compile_hlo_file";
  HloError *e = check_compile_args(fn, compiler, out);
  if (!e && !path) e = hlo_error("%s: path is NULL", fn);
  CompileJob j = {compiler, FROM_HLO_FILE, .path = path, .out = out};
  return compile_job(&j, e, err);
}

void hloc_executable_free(hloc_executable *exe) {
  if (!exe) return;
  /* The pool's threads run the library's code: stopped before it goes. */
  if (exe->pool) exe->pool_free(exe->pool);
  if (exe->gpu) exe->cuda_close(exe->gpu);
  pthread_mutex_destroy(&exe->gpu_lock);
  pthread_cond_destroy(&exe->pool_changed);
  pthread_mutex_destroy(&exe->pool_lock);
  pthread_mutex_destroy(&exe->profile_lock);
  hloc_profile_release(&exe->profile);
  free(exe->scratch);
  free(exe->buffers);
  cg_jit_free(exe->jit);
  library_close(&exe->lib);
  free(exe->object);
  free(exe->cpu_refusal);
  free(exe);
}

/* --- saving and loading ----------------------------------------------------------------------- */

int hloc_executable_save(const hloc_executable *exe, const char *path, hloc_error **err) {
  static const char fn[] = "hloc_executable_save";
  if (!exe) return fail(err, hlo_error("%s: executable is NULL", fn));
  if (!path) return fail(err, hlo_error("%s: path is NULL", fn));
  if (!exe->object)
    return fail(err, hlo_error("%s: %s: the executable was loaded from a model library, "
                               "which is what saving makes: copy that file instead",
                               fn, path));
  char *runtime = NULL;
  HloError *e = library_runtime_archive(&runtime);
  if (!e)
    e = library_save(exe->object, exe->object_len, PROGRAM_NAME, exe->cuda_image != NULL, runtime,
                     path);
  free(runtime);
  return e ? fail(err, e) : succeed(err);
}

int hloc_executable_load(const char *path, hloc_executable **out, hloc_error **err) {
  static const char fn[] = "hloc_executable_load";
  if (!out) return fail(err, hlo_error("%s: out is NULL", fn));
  *out = NULL;
  if (!path) return fail(err, hlo_error("%s: path is NULL", fn));
  Library lib;
  HloError *e = library_open(path, &lib);
  if (!e) e = executable_new(NULL, &lib, NULL, 0, out);
  return e ? fail(err, e) : succeed(err);
}

/* --- describing ------------------------------------------------------------------------------- */

static const hloc_buffer_info *input_info(const hloc_executable *exe, int i) {
  return exe && i >= 0 && i < exe->program->num_args ? &exe->program->args[i] : NULL;
}

static const hloc_buffer_info *output_info(const hloc_executable *exe, int i) {
  return exe && i >= 0 && i < exe->program->num_results ? &exe->program->results[i] : NULL;
}

int hloc_executable_num_inputs(const hloc_executable *exe) {
  return exe ? exe->program->num_args : 0;
}

int hloc_executable_num_outputs(const hloc_executable *exe) {
  return exe ? exe->program->num_results : 0;
}

size_t hloc_executable_scratch_bytes(const hloc_executable *exe) {
  return exe ? (size_t)exe->program->scratch_bytes : 0;
}

/* The five queries of one buffer, for inputs and outputs alike. */
#define DEFINE_QUERIES(kind, info)                                                          \
  const char *hloc_executable_##kind##_name(const hloc_executable *exe, int i) {           \
    const hloc_buffer_info *b = info(exe, i);                                              \
    return b ? b->name : NULL;                                                             \
  }                                                                                        \
  hloc_dtype hloc_executable_##kind##_dtype(const hloc_executable *exe, int i) {           \
    const hloc_buffer_info *b = info(exe, i);                                              \
    return b ? (hloc_dtype)b->dtype : HLOC_DTYPE_INVALID;                                  \
  }                                                                                        \
  int hloc_executable_##kind##_rank(const hloc_executable *exe, int i) {                   \
    const hloc_buffer_info *b = info(exe, i);                                              \
    return b ? b->rank : -1;                                                               \
  }                                                                                        \
  const int64_t *hloc_executable_##kind##_dims(const hloc_executable *exe, int i) {        \
    const hloc_buffer_info *b = info(exe, i);                                              \
    return b ? b->dims : NULL;                                                             \
  }                                                                                        \
  size_t hloc_executable_##kind##_bytes(const hloc_executable *exe, int i) {               \
    const hloc_buffer_info *b = info(exe, i);                                              \
    return b ? (size_t)b->bytes : 0;                                                       \
  }                                                                                        \
  const char *hloc_executable_##kind##_tf_name(const hloc_executable *exe, int i) {        \
    const hloc_buffer_info *b = info(exe, i);                                              \
    return b ? b->tf_name : NULL;                                                          \
  }

DEFINE_QUERIES(input, input_info)
DEFINE_QUERIES(output, output_info)

/* The runtime's rules (hloc_buffers_find), so that names mean here what
 * they mean to `hloc run` and the executables. */
static int find(const char *fn, const hloc_executable *exe, int results, const char *name,
                hloc_error **err) {
  if (!exe) return fail(err, hlo_error("%s: exe is NULL", fn));
  if (!name) return fail(err, hlo_error("%s: name is NULL", fn));
  char why[2048];
  int i = hloc_program_find(exe->program, results, name, why, sizeof why);
  if (i < 0) return fail(err, hlo_error("%s: %s", fn, why));
  succeed(err);
  return i;
}

int hloc_executable_input_index(const hloc_executable *exe, const char *name, hloc_error **err) {
  return find("hloc_executable_input_index", exe, 0, name, err);
}

int hloc_executable_output_index(const hloc_executable *exe, const char *name,
                                 hloc_error **err) {
  return find("hloc_executable_output_index", exe, 1, name, err);
}

/* --- running ---------------------------------------------------------------------------------- */

/* The error for a NULL where buffer `i` (of `kind`, "input" or "output")
 * needs one; `array` tells whether the whole array was NULL. */
static HloError *missing_buffer(const char *kind, int i, const hloc_buffer_info *b, bool array) {
  if (array)
    return hlo_error("hloc_execute: %ss is NULL but %s %d (%s) needs %llu bytes", kind, kind, i,
                     b->name, (unsigned long long)b->bytes);
  return hlo_error("hloc_execute: %s %d (%s) is NULL but needs %llu bytes", kind, i, b->name,
                   (unsigned long long)b->bytes);
}

/* Fills bufs (inputs then outputs), checking that every buffer with bytes
 * is there. */
static HloError *bind_buffers(const hloc_program *p, const void *const *inputs,
                              void *const *outputs, void **bufs) {
  for (int i = 0; i < p->num_args; i++) {
    const void *b = inputs ? inputs[i] : NULL;
    if (!b && p->args[i].bytes) return missing_buffer("input", i, &p->args[i], !inputs);
    bufs[i] = (void *)b; /* written only for config variables (hloc.h) */
  }
  for (int i = 0; i < p->num_results; i++) {
    void *b = outputs ? outputs[i] : NULL;
    if (!b && p->results[i].bytes) return missing_buffer("output", i, &p->results[i], !outputs);
    bufs[p->num_args + i] = b;
  }
  return NULL;
}

/* The executable's pool for one call (NULL: none), held until
 * pool_release. */
static RtThreadPool *pool_acquire(hloc_executable *exe) {
  pthread_mutex_lock(&exe->pool_lock);
  while (exe->replacing) pthread_cond_wait(&exe->pool_changed, &exe->pool_lock);
  exe->pool_users++;
  RtThreadPool *pool = exe->pool;
  pthread_mutex_unlock(&exe->pool_lock);
  return pool;
}

static void pool_release(hloc_executable *exe) {
  pthread_mutex_lock(&exe->pool_lock);
  if (--exe->pool_users == 0) pthread_cond_broadcast(&exe->pool_changed);
  pthread_mutex_unlock(&exe->pool_lock);
}

/* Lists run in exe->runs while the call lasts, so that
 * hloc_executable_cancel reaches it. */
static void runs_link(hloc_executable *exe, Run *run) {
  pthread_mutex_lock(&runs_lock);
  run->next = exe->runs;
  exe->runs = run;
  pthread_mutex_unlock(&runs_lock);
}

static void runs_unlink(hloc_executable *exe, Run *run) {
  pthread_mutex_lock(&runs_lock);
  Run **at = &exe->runs;
  while (*at != run) at = &(*at)->next;
  *at = run->next;
  pthread_mutex_unlock(&runs_lock);
}

/* hloc_execute of a GPU program: on the GPU the first call opened (the
 * device code loaded into it), one call at a time.  The call is listed
 * in `runs` from before it waits for the GPU, so a cancel also stops a
 * call still waiting; the runtime reads its flag before each launch and
 * copy, and with profiling on times each kernel with CUDA events into a
 * profile of the call's own, added to the executable's at the end. */
static int execute_cuda(hloc_executable *exe, const void *const *inputs, void *const *outputs,
                        hloc_error **err) {
  const hloc_program *p = exe->program;
  void **bufs = buffers_alloc(p);
  HloError *e = bind_buffers(p, inputs, outputs, bufs);
  char msg[1024];
  Run run = {.cancel = 0};
  runs_link(exe, &run);
  pthread_mutex_lock(&exe->gpu_lock);
  if (!e && !exe->gpu) {
    if (exe->cuda_open(&exe->gpu, msg, sizeof msg)) {
      e = hlo_error("hloc_execute: %s", msg);
    } else if (exe->cuda_load_image(exe->gpu, exe->cuda_image, msg, sizeof msg)) {
      e = hlo_error("hloc_execute: %s", msg);
      exe->cuda_close(exe->gpu);
      exe->gpu = NULL;
    }
  }
  hloc_profile prof;
  bool profiled = !e && atomic_load(&exe->profiling) && !hloc_profile_init(&prof, p);
  /* atomic_int and int32_t are one object: the runtime reads it with an
   * atomic load. */
  hloc_cuda_run_options o = {.cancel = (const int32_t *)&run.cancel,
                             .profile = profiled ? &prof : NULL};
  if (!e && exe->cuda_run_host_with(exe->gpu, p, bufs, &o, msg, sizeof msg))
    e = o.cancelled ? hlo_error("hloc_execute: cancelled at %s", o.where)
                    : hlo_error("hloc_execute: %s", msg);
  pthread_mutex_unlock(&exe->gpu_lock);
  runs_unlink(exe, &run);
  if (profiled) {
    pthread_mutex_lock(&exe->profile_lock);
    hloc_profile_add(&exe->profile, &prof);
    pthread_mutex_unlock(&exe->profile_lock);
    hloc_profile_release(&prof);
  }
  free(bufs);
  return e ? fail(err, e) : succeed(err);
}

int hloc_execute(hloc_executable *exe, const void *const *inputs, void *const *outputs,
                 hloc_error **err) {
  if (!exe) return fail(err, hlo_error("hloc_execute: executable is NULL"));
  if (exe->cpu_refusal) return fail(err, hlo_error("hloc_execute: %s", exe->cpu_refusal));
  if (exe->cuda_image) return execute_cuda(exe, inputs, outputs, err);
  const hloc_program *p = exe->program;
  bool cached = !atomic_flag_test_and_set_explicit(&exe->busy, memory_order_acquire);
  void **bufs = cached ? exe->buffers : buffers_alloc(p);
  bool ok = true;
  void *scratch = cached ? exe->scratch : scratch_alloc(p, &ok);
  HloError *e = NULL;
  if (!ok)
    e = hlo_error("hloc_execute: cannot allocate the %llu-byte scratch arena",
                  (unsigned long long)p->scratch_bytes);
  if (!e) e = bind_buffers(p, inputs, outputs, bufs);
  if (!e) {
    Run run = {.cancel = 0};
    runs_link(exe, &run);
    RtThreadPool *previous = exe->use_pool(pool_acquire(exe));
    /* atomic_int and int32_t are one object on every target: the code
     * reads it with an atomic load. */
    const int32_t *cancel = (const int32_t *)&run.cancel;
    hloc_profile prof;
    bool profiled = atomic_load(&exe->profiling) && !hloc_profile_init(&prof, p);
    int status = profiled ? hloc_profile_run(&prof, bufs, scratch, cancel)
                          : p->run_cancellable(bufs, scratch, cancel);
    if (profiled) {
      pthread_mutex_lock(&exe->profile_lock);
      hloc_profile_add(&exe->profile, &prof);
      pthread_mutex_unlock(&exe->profile_lock);
      hloc_profile_release(&prof);
    }
    exe->use_pool(previous);
    pool_release(exe);
    runs_unlink(exe, &run);
    const char *where = hloc_program_cancel_point(p, status);
    if (where) e = hlo_error("hloc_execute: cancelled at %s", where);
    else if (status) e = hlo_error("hloc_execute: the model returned status %d", status);
  }
  if (cached) {
    atomic_flag_clear_explicit(&exe->busy, memory_order_release);
  } else {
    free(bufs);
    free(scratch);
  }
  return e ? fail(err, e) : succeed(err);
}

int hloc_executable_cancel(hloc_executable *exe) {
  if (!exe) return 0;
  int n = 0;
  pthread_mutex_lock(&runs_lock);
  for (Run *r = exe->runs; r; r = r->next, n++) atomic_store(&r->cancel, 1);
  pthread_mutex_unlock(&runs_lock);
  return n;
}

/* --- threads ---------------------------------------------------------------------------------- */

int hloc_executable_set_threads(hloc_executable *exe, int nthreads, hloc_error **err) {
  static const char fn[] = "hloc_executable_set_threads";
  if (!exe) return fail(err, hlo_error("%s: executable is NULL", fn));
  if (nthreads < 1)
    return fail(err, hlo_error("%s: nthreads is %d, but must be at least 1 (1: run on the "
                               "calling thread alone)",
                               fn, nthreads));
  if (nthreads == atomic_load(&exe->nthreads)) return succeed(err);
  /* The new pool first: when its threads cannot be started, the old one
   * stays. */
  RtThreadPool *pool = NULL;
  if (nthreads > 1 && !(pool = exe->pool_create(nthreads)))
    return fail(err, hlo_error("%s: cannot start a pool of %d threads (the system refused to "
                               "create %d more threads)",
                               fn, nthreads, nthreads - 1));
  pthread_mutex_lock(&exe->pool_lock);
  while (exe->replacing) pthread_cond_wait(&exe->pool_changed, &exe->pool_lock);
  exe->replacing = true; /* no new call takes the pool … */
  while (exe->pool_users) pthread_cond_wait(&exe->pool_changed, &exe->pool_lock);
  RtThreadPool *old = exe->pool; /* … and none runs on it */
  exe->pool = pool;
  atomic_store(&exe->nthreads, nthreads);
  exe->replacing = false;
  pthread_cond_broadcast(&exe->pool_changed);
  pthread_mutex_unlock(&exe->pool_lock);
  if (old) exe->pool_free(old);
  return succeed(err);
}

int hloc_executable_threads(const hloc_executable *exe) {
  return exe ? atomic_load(&((hloc_executable *)exe)->nthreads) : 0;
}

/* --- profiling -------------------------------------------------------------------------------- */

int hloc_executable_set_profiling(hloc_executable *exe, int on, hloc_error **err) {
  if (!exe) return fail(err, hlo_error("hloc_executable_set_profiling: executable is NULL"));
  atomic_store(&exe->profiling, on != 0);
  return succeed(err);
}

void hloc_executable_clear_profile(hloc_executable *exe) {
  if (!exe) return;
  pthread_mutex_lock(&exe->profile_lock);
  hloc_profile_clear(&exe->profile);
  pthread_mutex_unlock(&exe->profile_lock);
}

int hloc_executable_num_kernels(const hloc_executable *exe) {
  return exe ? exe->program->num_kernels : 0;
}

int hloc_executable_kernel_profile(const hloc_executable *exe, int i, hloc_kernel_profile *out,
                                   hloc_error **err) {
  static const char fn[] = "hloc_executable_kernel_profile";
  if (!exe) return fail(err, hlo_error("%s: executable is NULL", fn));
  if (!out) return fail(err, hlo_error("%s: out is NULL", fn));
  int n = exe->program->num_kernels;
  if (i < 0 || i >= n)
    return fail(err, hlo_error("%s: kernel %d does not exist (the executable has %d)", fn, i, n));
  const hloc_kernel_info *k = &exe->program->kernels[i];
  hloc_executable *e = (hloc_executable *)exe; /* the lock only */
  pthread_mutex_lock(&e->profile_lock);
  *out = (hloc_kernel_profile){
      .symbol = k->symbol,
      .instruction = k->instruction,
      .kind = k->kind,
      .shape = k->shape,
      .tf_op = k->tf_op,
      .loop = k->loop,
      .calls = exe->profile.kernel_calls[i],
      .seconds = (double)exe->profile.kernel_ns[i] / 1e9,
  };
  pthread_mutex_unlock(&e->profile_lock);
  return succeed(err);
}

int hloc_executable_profile_summary(const hloc_executable *exe, hloc_profile_summary *out,
                                    hloc_error **err) {
  static const char fn[] = "hloc_executable_profile_summary";
  if (!exe) return fail(err, hlo_error("%s: executable is NULL", fn));
  if (!out) return fail(err, hlo_error("%s: out is NULL", fn));
  hloc_executable *e = (hloc_executable *)exe;
  pthread_mutex_lock(&e->profile_lock);
  uint64_t in_kernels = 0;
  for (int i = 0; i < exe->program->num_kernels; i++) in_kernels += exe->profile.kernel_ns[i];
  *out = (hloc_profile_summary){.runs = exe->profile.runs,
                                .seconds = (double)exe->profile.run_ns / 1e9,
                                .kernel_seconds = (double)in_kernels / 1e9};
  pthread_mutex_unlock(&e->profile_lock);
  return succeed(err);
}

size_t hloc_executable_profile_report(const hloc_executable *exe, char *buf, size_t size) {
  if (!exe) return 0;
  hloc_executable *e = (hloc_executable *)exe;
  pthread_mutex_lock(&e->profile_lock);
  char *text = hloc_profile_report(&exe->profile);
  pthread_mutex_unlock(&e->profile_lock);
  if (!text) return 0;
  size_t n = strlen(text);
  if (size > 0) {
    size_t k = n < size - 1 ? n : size - 1;
    memcpy(buf, text, k);
    buf[k] = '\0';
  }
  free(text);
  return n;
}
