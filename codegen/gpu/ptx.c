/*
 * ptx.c — the device code as the object of an nvptx64 program carries it:
 * the PTX LLVM's NVPTX target emits, and, when CUDA's ptxas is installed
 * where hloc compiles, a cubin ptxas assembles from it for the SM.
 *
 * ptxas is looked for as $HLOC_PTXAS (empty: never use one), then under
 * $CUDA_HOME, $CUDA_PATH and /usr/local/cuda (bin/ptxas).  A cubin saves
 * the driver's JIT compilation on a GPU of that SM; elsewhere the runtime
 * loads the PTX (runtime/cuda.c).  ptxas refusing the PTX is an error
 * with its message: the PTX would fail on the GPU too.  The files ptxas
 * reads and writes are temporary files, removed whatever happens.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gpu.h"

extern char **environ;

HloError *gpu_ptx(LLVMModuleRef device, const CgTarget *dt, char **ptx, size_t *len) {
  LLVMModuleRef clone = LLVMCloneModule(device);
  char *msg = NULL;
  LLVMMemoryBufferRef buf;
  LLVMBool failed = LLVMTargetMachineEmitToMemoryBuffer(dt->tm, clone, LLVMAssemblyFile, &msg, &buf);
  LLVMDisposeModule(clone);
  if (failed) {
    HloError *e = hlo_error("codegen: nvptx64: PTX emission failed: %s", msg);
    LLVMDisposeMessage(msg);
    return e;
  }
  *len = LLVMGetBufferSize(buf);
  *ptx = hlo_xmalloc(*len + 1);
  memcpy(*ptx, LLVMGetBufferStart(buf), *len);
  (*ptx)[*len] = '\0';
  LLVMDisposeMemoryBuffer(buf);
  return NULL;
}

/* ptxas's path (malloc'd), or NULL. */
static char *find_ptxas(void) {
  const char *own = getenv("HLOC_PTXAS");
  if (own) return *own && !access(own, X_OK) ? hlo_xstrdup(own) : NULL;
  const char *roots[] = {getenv("CUDA_HOME"), getenv("CUDA_PATH"), "/usr/local/cuda"};
  for (size_t i = 0; i < sizeof roots / sizeof *roots; i++) {
    if (!roots[i] || !*roots[i]) continue;
    HloStr p = {0};
    hlo_str_printf(&p, "%s/bin/ptxas", roots[i]);
    if (!access(p.buf, X_OK)) return hlo_str_take(&p);
    free(p.buf);
  }
  return NULL;
}

static HloError *read_all(const char *path, char **data, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return hlo_error("codegen: nvptx64: cannot read %s: %s", path, strerror(errno));
  HloStr s = {0};
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) hlo_str_append(&s, chunk, n);
  fclose(f);
  *len = s.len;
  *data = s.buf ? s.buf : hlo_xcalloc(1, 1);
  return NULL;
}

HloError *gpu_cubin(const char *ptx, const char *sm, char **cubin, size_t *len) {
  *cubin = NULL;
  *len = 0;
  char *ptxas = find_ptxas();
  if (!ptxas) return NULL;
  const char *tmp = getenv("TMPDIR");
  if (!tmp || !*tmp) tmp = "/tmp";
  HloStr dir = {0};
  hlo_str_printf(&dir, "%s/hloc-ptxas-XXXXXX", tmp);
  HloError *e = NULL;
  if (!mkdtemp(dir.buf)) {
    e = hlo_error("codegen: nvptx64: cannot make a directory for ptxas in %s: %s", tmp,
                  strerror(errno));
    free(dir.buf);
    free(ptxas);
    return e;
  }
  HloStr in = {0}, out = {0}, log = {0}, arch = {0};
  hlo_str_printf(&in, "%s/kernels.ptx", dir.buf);
  hlo_str_printf(&out, "%s/kernels.cubin", dir.buf);
  hlo_str_printf(&log, "%s/ptxas.log", dir.buf);
  hlo_str_printf(&arch, "-arch=%s", sm);
  FILE *f = fopen(in.buf, "wb");
  bool written = f && fputs(ptx, f) != EOF;
  if (f && fclose(f)) written = false;
  if (!written) {
    e = hlo_error("codegen: nvptx64: cannot write %s: %s", in.buf, strerror(errno));
  }
  if (!e) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.buf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    char *argv[] = {ptxas, arch.buf, "-o", out.buf, in.buf, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, ptxas, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    int status = 0;
    if (rc) e = hlo_error("codegen: nvptx64: cannot run %s: %s", ptxas, strerror(rc));
    else if (waitpid(pid, &status, 0) < 0)
      e = hlo_error("codegen: nvptx64: waiting for %s: %s", ptxas, strerror(errno));
    else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
      char *text = NULL;
      size_t n = 0;
      HloError *r = read_all(log.buf, &text, &n);
      hlo_error_free(r);
      e = hlo_error("codegen: nvptx64: %s %s refused the kernels' PTX: %.*s", ptxas, arch.buf,
                    (int)(n > 2000 ? 2000 : n), text ? text : "");
      free(text);
    } else {
      e = read_all(out.buf, cubin, len);
    }
  }
  unlink(in.buf);
  unlink(out.buf);
  unlink(log.buf);
  rmdir(dir.buf);
  free(in.buf);
  free(out.buf);
  free(log.buf);
  free(arch.buf);
  free(dir.buf);
  free(ptxas);
  return e;
}
