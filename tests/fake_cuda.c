/*
 * fake_cuda.c — a stand-in for the CUDA driver (libcuda.so.1) that runs
 * no kernel, for tests of what a GPU program's host side does on a
 * machine without a GPU (tests/test_driver_gpu.c builds it as a shared
 * library and names it in HLOC_CUDA_DRIVER).
 *
 * One device whose memory is the host's (cuMemAlloc is calloc, copies
 * are memcpy), so a while loop whose condition no kernel computed reads
 * false.  It refuses every cubin (as the driver refuses one built for
 * another SM), so the runtime must fall back to the PTX, which it keeps:
 * a global's size, a kernel's existence and its parameter count are read
 * from it (as LLVM's NVPTX target prints them), and a launch of a kernel the PTX lacks, or with another number
 * of parameters, fails as the driver would; so does a launch of the kernel
 * $FAKE_CUDA_FAIL names.  A launch takes $FAKE_CUDA_KERNEL_MS
 * milliseconds (0 when unset), slept before it returns, which events
 * (host clock readings when recorded) time.  Each module load and launch
 * is appended to the file $FAKE_CUDA_LOG:
 *   cubin refused | ptx | launch NAME GRID BLOCK NPARAMS
 * Only the entry points runtime/cuda.c resolves exist.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef unsigned long long CUdeviceptr;

static char *ptx;
static void *globals[4096]; /* the module's, freed with it */
static int nglobals;

static void log_line(const char *fmt, const char *name, unsigned grid, unsigned block, int n) {
  const char *path = getenv("FAKE_CUDA_LOG");
  FILE *f = path ? fopen(path, "a") : NULL;
  if (!f) return;
  fprintf(f, fmt, name, grid, block, n);
  fclose(f);
}

int cuInit(unsigned flags) { return flags ? 1 : 0; }
int cuDeviceGetCount(int *n) { *n = 1; return 0; }
int cuDeviceGet(int *d, int i) { *d = i; return i ? 101 : 0; }
int cuDevicePrimaryCtxRetain(void **ctx, int d) { *ctx = (void *)1; return d ? 101 : 0; }
int cuDevicePrimaryCtxRelease_v2(int d) { return d ? 101 : 0; }
int cuCtxSetCurrent(void *ctx) { return ctx ? 0 : 201; }
int cuCtxSynchronize(void) { return 0; }

int cuModuleLoadData(void **mod, const void *image) {
  if (!memcmp(image, "\177ELF", 4)) {
    log_line("cubin refused\n", "", 0, 0, 0);
    return 209; /* CUDA_ERROR_NO_BINARY_FOR_GPU */
  }
  free(ptx);
  ptx = strdup(image);
  log_line("ptx\n", "", 0, 0, 0);
  *mod = ptx;
  return 0;
}

int cuModuleUnload(void *mod) {
  if (mod != ptx) return 400;
  while (nglobals) free(globals[--nglobals]);
  free(ptx);
  ptx = NULL;
  return 0;
}

/* The PTX's text just after `.entry NAME(` or `NAME[`, or NULL. */
static const char *find(const char *name, const char *before, const char *after) {
  char want[512];
  snprintf(want, sizeof want, "%s%s%s", before, name, after);
  const char *at = ptx ? strstr(ptx, want) : NULL;
  return at ? at + strlen(want) : NULL;
}

int cuModuleGetFunction(void **f, void *mod, const char *name) {
  if (mod != ptx || !find(name, ".entry ", "(")) return 500; /* CUDA_ERROR_NOT_FOUND */
  *f = strdup(name);
  return 0;
}

/* An array's size is its `[BYTES]`; a scalar's its type's (`.u64 NAME;`). */
int cuModuleGetGlobal_v2(CUdeviceptr *at, size_t *bytes, void *mod, const char *name) {
  if (mod != ptx) return 400;
  const char *size = find(name, " ", "["), *scalar = find(name, " ", ";");
  if (size) {
    *bytes = strtoull(size, NULL, 10);
  } else if (scalar) {
    const char *type = scalar - strlen(name) - 2;
    while (type > ptx && *type != '.') type--;
    *bytes = strtoull(type + 2, NULL, 10) / 8;
  } else {
    return 500;
  }
  if (nglobals == 4096) return 2;
  globals[nglobals] = calloc(1, *bytes);
  *at = (CUdeviceptr)(size_t)globals[nglobals++];
  return 0;
}

int cuMemAlloc_v2(CUdeviceptr *p, size_t n) {
  *p = (CUdeviceptr)(size_t)calloc(1, n);
  return *p ? 0 : 2;
}
int cuMemFree_v2(CUdeviceptr p) { free((void *)(size_t)p); return 0; }
int cuMemcpyHtoD_v2(CUdeviceptr d, const void *s, size_t n) { memcpy((void *)(size_t)d, s, n); return 0; }
int cuMemcpyDtoH_v2(void *d, CUdeviceptr s, size_t n) { memcpy(d, (void *)(size_t)s, n); return 0; }
int cuMemcpyDtoD_v2(CUdeviceptr d, CUdeviceptr s, size_t n) {
  memmove((void *)(size_t)d, (void *)(size_t)s, n);
  return 0;
}

int cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                   unsigned bz, unsigned shared, void *stream, void **params, void **extra) {
  const char *name = f;
  int n = 0;
  char param[600];
  for (;;) {
    snprintf(param, sizeof param, "%s_param_%d", name, n);
    if (!strstr(ptx, param)) break;
    n++;
  }
  int given = 0;
  while (given < n && params && params[given]) given++;
  const char *fail = getenv("FAKE_CUDA_FAIL");
  if (gy != 1 || gz != 1 || by != 1 || bz != 1 || shared || stream || extra || given != n ||
      !gx || !bx || bx > 1024 || (fail && !strcmp(fail, name))) {
    free(f);
    return 1; /* CUDA_ERROR_INVALID_VALUE */
  }
  log_line("launch %s %u %u %d\n", name, gx, bx, n);
  free(f);
  const char *ms = getenv("FAKE_CUDA_KERNEL_MS");
  long t = ms ? strtol(ms, NULL, 10) : 0;
  if (t > 0) nanosleep(&(struct timespec){t / 1000, t % 1000 * 1000000}, NULL);
  return 0;
}

/* An event is the host's clock when it was recorded. */
int cuEventCreate(void **e, unsigned flags) {
  *e = calloc(1, sizeof(struct timespec));
  return flags ? 1 : *e ? 0 : 2;
}
int cuEventRecord(void *e, void *stream) {
  if (stream) return 1;
  clock_gettime(CLOCK_MONOTONIC, e);
  return 0;
}
int cuEventSynchronize(void *e) { return e ? 0 : 400; }
int cuEventElapsedTime(float *ms, void *start, void *end) {
  const struct timespec *a = start, *b = end;
  *ms = (float)((double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6);
  return 0;
}
int cuEventDestroy_v2(void *e) {
  free(e);
  return 0;
}

int cuGetErrorName(int r, const char **s) {
  *s = r == 209   ? "CUDA_ERROR_NO_BINARY_FOR_GPU"
       : r == 500 ? "CUDA_ERROR_NOT_FOUND"
       : r == 1   ? "CUDA_ERROR_INVALID_VALUE"
                  : "CUDA_ERROR_FAKE";
  return 0;
}
int cuGetErrorString(int r, const char **s) {
  (void)r;
  *s = "the fake driver says no";
  return 0;
}
