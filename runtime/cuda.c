/*
 * cuda.c — the runtime's CUDA driver glue: what a program compiled for
 * `--target nvptx64` will call to run its kernels (docs/backends.md, "The
 * GPU backend").  Plain C with no CUDA header and no CUDA library at link
 * time: the driver, libcuda.so.1, is opened with dlopen when a program
 * first needs it (HLOC_CUDA_DRIVER names another file, for tests and
 * unusual installs), so the runtime, hloc and every compiled model load
 * on machines without CUDA, where opening is an error value, "no CUDA
 * driver found", and a driver without a device is "no GPU".
 *
 * One hloc_cuda is device 0's primary context (shared with whatever else
 * in the process uses the driver API or the runtime API) and at most one
 * module, the program's PTX, which the driver compiles for the GPU it
 * finds.  The constants' storage is the module's globals: a program
 * copies each constant's bytes in once, after loading
 * (hloc_cuda_set_global).  Device memory is addressed as uint64_t (the
 * driver's CUdeviceptr).  Every call goes to the context's default
 * stream, so launches and copies run in the order they are made; copies
 * to the host wait for what came before.  A timed launch (profiles)
 * records a CUDA event before and after the kernel and waits for the
 * second: the two events are the hloc_cuda's, made at its first timed
 * launch.  Each function returns 0, or
 * -1 with a message in err naming the driver call that failed, its
 * CUDA error, and the kernel or global concerned.
 *
 * The driver's types and entry points are declared here as cuda.h
 * defines them for 64-bit hosts (CUresult an int, CUdeviceptr 64 bits,
 * the _v2 symbols where cuda.h maps a name to one).
 */
#include <dlfcn.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hloc_runtime.h"

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef struct CUctx *CUcontext;
typedef struct CUmod *CUmodule;
typedef struct CUfunc *CUfunction;
typedef struct CUstream_st *CUstream;
typedef struct CUevent_st *CUevent;

/* The entry points used, resolved by name. */
typedef struct Driver {
  CUresult (*init)(unsigned);
  CUresult (*device_count)(int *);
  CUresult (*device_get)(CUdevice *, int);
  CUresult (*ctx_retain)(CUcontext *, CUdevice);
  CUresult (*ctx_release)(CUdevice);
  CUresult (*ctx_set_current)(CUcontext);
  CUresult (*module_load)(CUmodule *, const void *);
  CUresult (*module_unload)(CUmodule);
  CUresult (*module_function)(CUfunction *, CUmodule, const char *);
  CUresult (*module_global)(CUdeviceptr *, size_t *, CUmodule, const char *);
  CUresult (*mem_alloc)(CUdeviceptr *, size_t);
  CUresult (*mem_free)(CUdeviceptr);
  CUresult (*to_device)(CUdeviceptr, const void *, size_t);
  CUresult (*to_host)(void *, CUdeviceptr, size_t);
  CUresult (*on_device)(CUdeviceptr, CUdeviceptr, size_t);
  CUresult (*launch)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                     unsigned, CUstream, void **, void **);
  CUresult (*sync)(void);
  CUresult (*event_create)(CUevent *, unsigned);
  CUresult (*event_record)(CUevent, CUstream);
  CUresult (*event_sync)(CUevent);
  CUresult (*event_elapsed)(float *, CUevent, CUevent);
  CUresult (*event_destroy)(CUevent);
  CUresult (*error_name)(CUresult, const char **);
  CUresult (*error_string)(CUresult, const char **);
} Driver;

static const struct {
  const char *symbol;
  size_t offset;
} entry_points[] = {
#define E(field, symbol) {symbol, offsetof(Driver, field)}
    E(init, "cuInit"),
    E(device_count, "cuDeviceGetCount"),
    E(device_get, "cuDeviceGet"),
    E(ctx_retain, "cuDevicePrimaryCtxRetain"),
    E(ctx_release, "cuDevicePrimaryCtxRelease_v2"),
    E(ctx_set_current, "cuCtxSetCurrent"),
    E(module_load, "cuModuleLoadData"),
    E(module_unload, "cuModuleUnload"),
    E(module_function, "cuModuleGetFunction"),
    E(module_global, "cuModuleGetGlobal_v2"),
    E(mem_alloc, "cuMemAlloc_v2"),
    E(mem_free, "cuMemFree_v2"),
    E(to_device, "cuMemcpyHtoD_v2"),
    E(to_host, "cuMemcpyDtoH_v2"),
    E(on_device, "cuMemcpyDtoD_v2"),
    E(launch, "cuLaunchKernel"),
    E(sync, "cuCtxSynchronize"),
    E(event_create, "cuEventCreate"),
    E(event_record, "cuEventRecord"),
    E(event_sync, "cuEventSynchronize"),
    E(event_elapsed, "cuEventElapsedTime"),
    E(event_destroy, "cuEventDestroy_v2"),
    E(error_name, "cuGetErrorName"),
    E(error_string, "cuGetErrorString"),
#undef E
};

struct hloc_cuda {
  void *lib;        /* the driver's dlopen handle */
  Driver d;
  CUdevice device;
  CUcontext ctx;    /* device's primary context, retained */
  CUmodule module;  /* the program's, once loaded */
  CUevent timer[2]; /* a timed launch's start and end, made at its first */
};

static int fail(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (errlen) vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return -1;
}

/* A driver call's failure: "CALL (WHAT): NAME: description". */
static int cuda_fail(const hloc_cuda *c, CUresult r, const char *call, const char *what,
                     char *err, size_t errlen) {
  const char *name = NULL, *text = NULL;
  if (c->d.error_name(r, &name) || !name) name = "an unknown CUDA error";
  if (c->d.error_string(r, &text) || !text) text = "";
  return fail(err, errlen, "%s%s%s%s: %s (%d)%s%s", call, what ? " (" : "", what ? what : "",
              what ? ")" : "", name, r, *text ? ": " : "", text);
}

#define CALL(c, call, what, expr)                                          \
  do {                                                                     \
    CUresult r_ = (expr);                                                  \
    if (r_) return cuda_fail(c, r_, call, what, err, errlen);             \
  } while (0)

int hloc_cuda_open(hloc_cuda **out, char *err, size_t errlen) {
  *out = NULL;
  const char *path = getenv("HLOC_CUDA_DRIVER");
  if (!path || !*path) path = "libcuda.so.1";
  void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char *why = dlerror();
    return fail(err, errlen, "no CUDA driver found (%s: %s)", path, why ? why : "not loaded");
  }
  hloc_cuda *c = calloc(1, sizeof *c);
  if (!c) {
    dlclose(lib);
    return fail(err, errlen, "out of memory");
  }
  c->lib = lib;
  for (size_t i = 0; i < sizeof entry_points / sizeof *entry_points; i++) {
    void *fn = dlsym(lib, entry_points[i].symbol);
    if (!fn) {
      fail(err, errlen, "no CUDA driver found (%s has no %s)", path, entry_points[i].symbol);
      hloc_cuda_close(c);
      return -1;
    }
    memcpy((char *)&c->d + entry_points[i].offset, &fn, sizeof fn);
  }
  int count = 0, rc = 0;
  CUresult r = c->d.init(0);
  if (r == 100 /* CUDA_ERROR_NO_DEVICE */ ||
      (!r && !(r = c->d.device_count(&count)) && count == 0)) {
    rc = fail(err, errlen, "no GPU: the CUDA driver (%s) finds no device", path);
  } else if (r) {
    rc = cuda_fail(c, r, "cuInit", NULL, err, errlen);
  } else if ((r = c->d.device_get(&c->device, 0))) {
    rc = cuda_fail(c, r, "cuDeviceGet", "device 0", err, errlen);
  } else if ((r = c->d.ctx_retain(&c->ctx, c->device))) {
    rc = cuda_fail(c, r, "cuDevicePrimaryCtxRetain", "device 0", err, errlen);
  } else if ((r = c->d.ctx_set_current(c->ctx))) {
    rc = cuda_fail(c, r, "cuCtxSetCurrent", "device 0", err, errlen);
  }
  if (rc) {
    hloc_cuda_close(c);
    return rc;
  }
  *out = c;
  return 0;
}

void hloc_cuda_close(hloc_cuda *c) {
  if (!c) return;
  if (c->module) c->d.module_unload(c->module);
  for (int i = 0; i < 2; i++)
    if (c->timer[i]) c->d.event_destroy(c->timer[i]);
  if (c->ctx) c->d.ctx_release(c->device);
  dlclose(c->lib);
  free(c);
}

int hloc_cuda_load(hloc_cuda *c, const char *ptx, char *err, size_t errlen) {
  if (c->module) return fail(err, errlen, "cuModuleLoadData: a module is loaded already");
  CALL(c, "cuModuleLoadData", "the program's PTX", c->d.module_load(&c->module, ptx));
  return 0;
}

int hloc_cuda_load_program(hloc_cuda *c, const void *cubin, size_t cubin_bytes, const char *ptx,
                           char *err, size_t errlen) {
  if (c->module) return fail(err, errlen, "cuModuleLoadData: a module is loaded already");
  /* A cubin for another SM is refused (CUDA_ERROR_NO_BINARY_FOR_GPU and
   * the like): the driver then compiles the PTX for the GPU it has. */
  if (cubin && cubin_bytes && !c->d.module_load(&c->module, cubin)) return 0;
  c->module = NULL;
  return hloc_cuda_load(c, ptx, err, errlen);
}

int hloc_cuda_set_global(hloc_cuda *c, const char *name, const void *bytes, size_t size,
                         char *err, size_t errlen) {
  if (!c->module) return fail(err, errlen, "cuModuleGetGlobal (%s): no module is loaded", name);
  CUdeviceptr at;
  size_t have;
  CALL(c, "cuModuleGetGlobal", name, c->d.module_global(&at, &have, c->module, name));
  if (have != size)
    return fail(err, errlen, "cuModuleGetGlobal (%s): the module's global has %zu bytes, not %zu",
                name, have, size);
  CALL(c, "cuMemcpyHtoD", name, c->d.to_device(at, bytes, size));
  return 0;
}

int hloc_cuda_alloc(hloc_cuda *c, size_t bytes, uint64_t *dptr, char *err, size_t errlen) {
  CUdeviceptr p = 0;
  *dptr = 0;
  /* The driver refuses 0 bytes; an empty buffer is never read. */
  if (bytes) CALL(c, "cuMemAlloc", NULL, c->d.mem_alloc(&p, bytes));
  *dptr = p;
  return 0;
}

int hloc_cuda_free(hloc_cuda *c, uint64_t dptr, char *err, size_t errlen) {
  if (dptr) CALL(c, "cuMemFree", NULL, c->d.mem_free(dptr));
  return 0;
}

int hloc_cuda_to_device(hloc_cuda *c, uint64_t dst, const void *src, size_t bytes, char *err,
                        size_t errlen) {
  if (bytes) CALL(c, "cuMemcpyHtoD", NULL, c->d.to_device(dst, src, bytes));
  return 0;
}

int hloc_cuda_to_host(hloc_cuda *c, void *dst, uint64_t src, size_t bytes, char *err,
                      size_t errlen) {
  if (bytes) CALL(c, "cuMemcpyDtoH", NULL, c->d.to_host(dst, src, bytes));
  return 0;
}

int hloc_cuda_on_device(hloc_cuda *c, uint64_t dst, uint64_t src, size_t bytes, char *err,
                        size_t errlen) {
  if (bytes) CALL(c, "cuMemcpyDtoD", NULL, c->d.on_device(dst, src, bytes));
  return 0;
}

int hloc_cuda_launch(hloc_cuda *c, const char *kernel, uint32_t grid, uint32_t block,
                     const uint64_t *args, int nargs, char *err, size_t errlen) {
  if (!c->module) return fail(err, errlen, "cuModuleGetFunction (%s): no module is loaded", kernel);
  CUfunction f;
  CALL(c, "cuModuleGetFunction", kernel, c->d.module_function(&f, c->module, kernel));
  /* The driver reads each parameter through a pointer to it. */
  void *params[256];
  if (nargs < 0 || nargs > 256)
    return fail(err, errlen, "cuLaunchKernel (%s): %d parameters", kernel, nargs);
  for (int i = 0; i < nargs; i++) params[i] = (void *)&args[i];
  CALL(c, "cuLaunchKernel", kernel,
       c->d.launch(f, grid, 1, 1, block, 1, 1, 0, NULL, nargs ? params : NULL, NULL));
  return 0;
}

int hloc_cuda_sync(hloc_cuda *c, const char *after, char *err, size_t errlen) {
  CALL(c, "cuCtxSynchronize", after, c->d.sync());
  return 0;
}

int hloc_cuda_launch_timed(hloc_cuda *c, const char *kernel, uint32_t grid, uint32_t block,
                           const uint64_t *args, int nargs, uint64_t *ns, char *err,
                           size_t errlen) {
  *ns = 0;
  for (int i = 0; i < 2; i++)
    if (!c->timer[i]) CALL(c, "cuEventCreate", kernel, c->d.event_create(&c->timer[i], 0));
  CALL(c, "cuEventRecord", kernel, c->d.event_record(c->timer[0], NULL));
  if (hloc_cuda_launch(c, kernel, grid, block, args, nargs, err, errlen)) return -1;
  CALL(c, "cuEventRecord", kernel, c->d.event_record(c->timer[1], NULL));
  CALL(c, "cuEventSynchronize", kernel, c->d.event_sync(c->timer[1]));
  float ms = 0;
  CALL(c, "cuEventElapsedTime", kernel, c->d.event_elapsed(&ms, c->timer[0], c->timer[1]));
  *ns = ms > 0 ? (uint64_t)((double)ms * 1e6) : 0;
  return 0;
}
