/*
 * library.h — model libraries (library.c): the shared libraries that
 * `hloc compile --emit so` and libhloc's hloc_executable_save make, one
 * model's object with a whole copy of the runtime, and their loading by
 * hloc_executable_load.  Internal to driver/.
 */
#ifndef HLOC_DRIVER_LIBRARY_H
#define HLOC_DRIVER_LIBRARY_H

#include <stdbool.h>
#include <stddef.h>

#include "hlo.h"
#include "hloc_runtime.h"

/* The C source linked into the library of model `name` beside its object
 * and the runtime: the symbols hloc_runtime.h ("Model libraries") lists;
 * gpu: the object is a GPU program's, which defines N_cuda_image.
 * malloc'd. */
char *library_stub(const char *name, bool gpu);

/* The C compiler's arguments (after the compiler's own words) that link
 * the library `out` from the stub's source, the model's object and the
 * runtime archive: -shared, -Bsymbolic so that the model's code calls the
 * library's own runtime whatever else the process holds, and the runtime
 * whole, so that a loader finds every function it takes.  soname_flag
 * ("-Wl,-soname,libN.so") may be NULL.  Fills args (valid as long as the
 * strings given) and returns their count. */
#define LIBRARY_LINK_MAX_ARGS 16
int library_link_args(const char *out, const char *soname_flag, const char *stub,
                      const char *object, const char *runtime_archive,
                      const char *args[LIBRARY_LINK_MAX_ARGS]);

/* Links the library of model `name` at `path` from the bytes of its object
 * file, with the runtime archive `runtime_archive` and the C compiler $CC
 * (default cc; its words split at spaces).  The stub and the object go to
 * a private temporary directory, the library to a temporary name beside
 * `path`, renamed into place when complete: `path` ends up the whole
 * library or as it was.  For libhloc: it installs no signal handler and
 * registers nothing (the command uses compile.c's emit_so). */
HloError *library_save(const void *object, size_t len, const char *name, bool gpu,
                       const char *runtime_archive, const char *path);

/* The runtime archive to link model libraries with, beside the file
 * holding this code (libhloc.so: PREFIX/lib in the installed layout, the
 * package directory of a pip-installed binding) or, for the build tree's
 * own library only (HLOC_BUILD_DIR), the build tree's (HLOC_RUNTIME_DIR):
 * never archives a later build or another install changed.  *path is
 * malloc'd. */
HloError *library_runtime_archive(char **path);

/* A loaded model library. */
typedef struct Library {
  void *handle;                /* dlopen's */
  const hloc_program *program; /* hloc_library_program */
  /* The thread functions of the library's own copy of the runtime: its
   * model's rt_parallel_for reads the pool that its hloc_use_thread_pool
   * installs, and its pools are of its own runtime's layout. */
  RtThreadPool *(*pool_create)(int nthreads);
  void (*pool_free)(RtThreadPool *pool);
  RtThreadPool *(*use_pool)(RtThreadPool *pool);
  /* hloc_library_cuda_image: a GPU program's device code, NULL for a CPU
   * program.  The CUDA functions of the library's runtime: its model's
   * entry launches kernels only inside a run of that copy (cuda_run.c). */
  const hloc_cuda_image *cuda_image;
  int (*cuda_open)(hloc_cuda **out, char *err, size_t errlen);
  void (*cuda_close)(hloc_cuda *c);
  int (*cuda_load_image)(hloc_cuda *c, const hloc_cuda_image *img, char *err, size_t errlen);
  int (*cuda_run_host_with)(hloc_cuda *c, const hloc_program *p, void *const *buffers,
                            hloc_cuda_run_options *o, char *err, size_t errlen);
} Library;

/* Loads the model library at `path` (RTLD_NOW | RTLD_LOCAL, so two
 * libraries never see each other's symbols) after checking it is one: a
 * readable regular file, an ELF shared library for this machine (checked
 * before dlopen, whose messages are vague), with hloc_library_abi equal to
 * this hloc's HLOC_LIBRARY_ABI, and every symbol a loader takes.  Errors
 * name the path and say which check failed; on one nothing stays loaded.
 * Loading runs the library's initialisers, as dlopen does: load only
 * libraries you trust. */
HloError *library_open(const char *path, Library *out);
/* Unloads it (no pool of its runtime may still be running); zeroes it. */
void library_close(Library *lib);

#endif
