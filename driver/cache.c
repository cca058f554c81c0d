/*
 * cache.c — libhloc's compile cache.
 *
 * A compile that names a cache directory first looks for the object file a
 * previous compile of the same inputs left there, and loads it with the
 * JIT instead of compiling (a second start of a program costs a file read
 * and a link in memory, not seconds of passes and LLVM).  The file's name
 * is a 128-bit hash (two independent 64-bit hashes side by side) of
 * everything the result depends on: a format tag, hloc's and LLVM's
 * versions, the CPU and features (the host's resolved, never "native"),
 * the model's and the config's and the checkpoint's bytes, and the
 * SavedModel options.  Every item is hashed with its length, so no two
 * different inputs read as one stream.  Files are written to a temporary
 * name and renamed, so concurrent compiles of the same model race
 * harmlessly; a file that does not load is compiled again and replaced.
 */
#include "cache.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>

/* 2: hloc_program gained the kernels and run_profiled; objects of format
 * 1 lack them.  3: hloc_buffer_info gained tf_name, hloc_program cpu and
 * features (HLOC_LIBRARY_ABI 2): a format-2 object would be misread, so
 * its name no longer matches and it is compiled again. */
#define FORMAT "hloc compile cache 3"

typedef struct Hash {
  uint64_t a, b;
} Hash;

static void mix(Hash *h, const void *data, size_t n) {
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i++) {
    h->a = (h->a ^ p[i]) * UINT64_C(1099511628211); /* FNV-1a */
    h->b = ((h->b << 5 | h->b >> 59) ^ p[i]) * UINT64_C(0x9e3779b97f4a7c15);
  }
}

/* An item: its length, then its bytes (NULL: a length of all ones). */
static void item(Hash *h, const void *data, size_t n) {
  uint64_t len = data ? (uint64_t)n : UINT64_MAX;
  mix(h, &len, sizeof len);
  if (data) mix(h, data, n);
}

static void text(Hash *h, const char *s) { item(h, s, s ? strlen(s) : 0); }

static HloError *file(Hash *h, const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return hlo_error("%s: cannot open: %s", path, strerror(errno));
  struct stat st;
  uint64_t size = fstat(fileno(f), &st) ? 0 : (uint64_t)st.st_size;
  mix(h, &size, sizeof size);
  char buf[1 << 16];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) mix(h, buf, n);
  bool failed = ferror(f);
  fclose(f);
  return failed ? hlo_error("%s: read error", path) : NULL;
}

/* A directory's regular files, recursively, in name order, each named by
 * its path below `dir`. */
static HloError *tree(Hash *h, const char *dir, const char *below, int depth) {
  if (depth > 16) return hlo_error("%s: directories nested too deeply", dir);
  struct dirent **list;
  int n = scandir(dir, &list, NULL, alphasort);
  if (n < 0) return hlo_error("%s: cannot list: %s", dir, strerror(errno));
  HloError *e = NULL;
  for (int i = 0; i < n; i++) {
    const char *name = list[i]->d_name;
    if (!e && strcmp(name, ".") && strcmp(name, "..")) {
      HloStr path = {0}, rel = {0};
      hlo_str_printf(&path, "%s/%s", dir, name);
      hlo_str_printf(&rel, "%s%s", below, name);
      struct stat st;
      if (stat(path.buf, &st)) {
        e = hlo_error("%s: %s", path.buf, strerror(errno));
      } else if (S_ISDIR(st.st_mode)) {
        hlo_str_printf(&rel, "/");
        e = tree(h, path.buf, rel.buf, depth + 1);
      } else if (S_ISREG(st.st_mode)) {
        text(h, rel.buf);
        e = file(h, path.buf);
      }
      free(path.buf);
      free(rel.buf);
    }
    free(list[i]);
  }
  free(list);
  return e;
}

/* A checkpoint: PREFIX.index and PREFIX's data files. */
static HloError *checkpoint(Hash *h, const char *prefix) {
  HloStr index = {0};
  hlo_str_printf(&index, "%s.index", prefix);
  HloError *e = file(h, index.buf);
  free(index.buf);
  const char *slash = strrchr(prefix, '/');
  HloStr dir = {0};
  hlo_str_printf(&dir, "%.*s", slash ? (int)(slash - prefix) : 1, slash ? prefix : ".");
  const char *base = slash ? slash + 1 : prefix;
  struct dirent **list;
  int n = e ? 0 : scandir(dir.buf, &list, NULL, alphasort);
  if (n < 0) e = hlo_error("%s: cannot list: %s", dir.buf, strerror(errno));
  for (int i = 0; i < n; i++) {
    size_t k = strlen(base);
    if (!e && !strncmp(list[i]->d_name, base, k) && !strncmp(list[i]->d_name + k, ".data-", 6)) {
      HloStr path = {0};
      hlo_str_printf(&path, "%s/%s", dir.buf, list[i]->d_name);
      text(h, list[i]->d_name + k);
      e = file(h, path.buf);
      free(path.buf);
    }
    free(list[i]);
  }
  if (n > 0) free(list);
  free(dir.buf);
  return e;
}

HloError *cache_name(const char *path, const ModelSource *src, const char *cpu,
                     const char *features, char name[40]) {
  Hash h = {UINT64_C(14695981039346656037), UINT64_C(0x243f6a8885a308d3)};
  text(&h, FORMAT);
  text(&h, HLOC_VERSION);
  unsigned major, minor, patch;
  LLVMGetVersion(&major, &minor, &patch);
  unsigned version[3] = {major, minor, patch};
  item(&h, version, sizeof version);
  if (!cpu || !strcmp(cpu, "native")) {
    char *host = LLVMGetHostCPUName(), *host_features = LLVMGetHostCPUFeatures();
    text(&h, host);
    text(&h, host_features);
    LLVMDisposeMessage(host);
    LLVMDisposeMessage(host_features);
  } else {
    text(&h, cpu);
  }
  text(&h, features);
  struct stat st;
  if (stat(path, &st)) return hlo_error("%s: %s", path, strerror(errno));
  HloError *e = S_ISDIR(st.st_mode) ? tree(&h, path, "", 0) : file(&h, path);
  if (!e) {
    text(&h, src->config ? "config" : NULL);
    if (src->config) e = file(&h, src->config);
  }
  if (!e) {
    text(&h, src->checkpoint ? "checkpoint" : NULL);
    if (src->checkpoint) e = checkpoint(&h, src->checkpoint);
  }
  if (e) return e;
  text(&h, src->saved.tags);
  text(&h, src->saved.signature);
  for (int i = 0; i < src->saved.ninput_shapes; i++) {
    const TfInputShape *s = &src->saved.input_shapes[i];
    text(&h, s->name);
    item(&h, s->dims, sizeof *s->dims * (size_t)s->rank);
  }
  snprintf(name, 40, "%016llx%016llx.o", (unsigned long long)h.a, (unsigned long long)h.b);
  return NULL;
}

HloError *cache_read(const char *dir, const char *name, char **data, size_t *len) {
  *data = NULL;
  *len = 0;
  struct stat st;
  if (!stat(dir, &st) && !S_ISDIR(st.st_mode))
    return hlo_error("cache directory %s: not a directory", dir);
  HloStr path = {0};
  hlo_str_printf(&path, "%s/%s", dir, name);
  HloError *e = NULL;
  if (!stat(path.buf, &st) || errno != ENOENT) /* a miss is no file */
    e = tf_file_read(path.buf, SIZE_MAX, "what a cache file may hold", data, len);
  free(path.buf);
  return e;
}

HloError *cache_write(const char *dir, const char *name, const void *data, size_t len) {
  if (mkdir(dir, 0777) && errno != EEXIST)
    return hlo_error("cache directory %s: %s", dir, strerror(errno));
  HloStr tmp = {0}, path = {0};
  hlo_str_printf(&tmp, "%s/.%s.XXXXXX", dir, name);
  hlo_str_printf(&path, "%s/%s", dir, name);
  HloError *e = NULL;
  int fd = mkstemp(tmp.buf);
  if (fd < 0) {
    e = hlo_error("cache directory %s: %s", dir, strerror(errno));
  } else {
    const char *p = data;
    size_t done = 0;
    while (done < len && !e) {
      ssize_t w = write(fd, p + done, len - done);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) e = hlo_error("%s: cannot write: %s", tmp.buf, strerror(errno));
      else done += (size_t)w;
    }
    if (close(fd) && !e) e = hlo_error("%s: cannot write: %s", tmp.buf, strerror(errno));
    if (!e && rename(tmp.buf, path.buf))
      e = hlo_error("%s: cannot rename into place: %s", path.buf, strerror(errno));
    if (e) unlink(tmp.buf);
  }
  free(tmp.buf);
  free(path.buf);
  return e;
}
