/*
 * npy.c — NumPy .npy reading and writing for the runtime.
 *
 * The format: the magic "\x93NUMPY", a major/minor version byte pair, the
 * header length (2 bytes little-endian in version 1, 4 bytes in 2 and 3),
 * and an ASCII Python dict literal {'descr': '<f4', 'fortran_order': False,
 * 'shape': (2, 3), } padded with spaces to a 64-byte boundary and ended by a
 * newline; the raw data follows.  The reader accepts exactly the dict NumPy
 * writes (keys in any order, either quote style) and checks that the data
 * length matches the shape, so a truncated or hostile file is rejected with
 * a message, never read past its end or allowed to request a huge buffer.
 */
#include "hloc_runtime.h"
#include "rt_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
  const char *descr;
  size_t size;
} dtype_table[] = {
#define X(e, descr, size) {descr, size},
    RT_DTYPES(X)
#undef X
};

const char *rt_dtype_descr(RtDtype t) { return dtype_table[t].descr; }

const char *rt_dtype_name(RtDtype t) {
  static const char *const names[RT_NUM_DTYPES] = {
      [RT_BOOL] = "bool",   [RT_I8] = "int8",       [RT_I16] = "int16",     [RT_I32] = "int32",
      [RT_I64] = "int64",   [RT_U8] = "uint8",      [RT_U16] = "uint16",    [RT_U32] = "uint32",
      [RT_U64] = "uint64",  [RT_F16] = "float16",   [RT_BF16] = "bfloat16", [RT_F32] = "float32",
      [RT_F64] = "float64", [RT_V1] = "void8", [RT_I2] = "int2", [RT_I4] = "int4",
      [RT_U2] = "uint2", [RT_U4] = "uint4", [RT_F8E4M3FN] = "float8_e4m3fn",
      [RT_F8E5M2] = "float8_e5m2", [RT_F8E4M3FNUZ] = "float8_e4m3fnuz",
      [RT_F8E5M2FNUZ] = "float8_e5m2fnuz", [RT_F8E4M3B11FNUZ] = "float8_e4m3b11fnuz",
      [RT_F8E4M3] = "float8_e4m3", [RT_F8E3M4] = "float8_e3m4",
      [RT_F8E8M0FNU] = "float8_e8m0fnu", [RT_F4E2M1FN] = "float4_e2m1fn",
      [RT_C64] = "complex64", [RT_C128] = "complex128",
  };
  return (int)t >= 0 && t < RT_NUM_DTYPES && names[t] ? names[t] : "?";
}
size_t rt_dtype_size(RtDtype t) { return dtype_table[t].size; }
int rt_dtype_is_narrow(RtDtype t) { return t > RT_V1 && t <= RT_F4E2M1FN; }

int64_t rt_array_elements(const RtArray *a) {
  int64_t n = 1;
  for (int i = 0; i < a->rank; i++) n *= a->dims[i];
  return n;
}

void rt_array_free(RtArray *a) {
  free(a->data);
  a->data = NULL;
  a->nbytes = 0;
}

int rt_array_retype(RtArray *a, RtDtype t, const char *name, char *err, size_t errlen) {
  if (a->dtype == t) return 0;
  if (a->dtype != RT_V1 || t <= RT_V1 || t >= RT_NUM_DTYPES)
    return rt_fail(err, errlen, "%s: the file holds %s, not %s", name, rt_dtype_name(a->dtype),
                   rt_dtype_name(t));
  int bits = 8, sign = 0;
  switch (t) {
  case RT_I2: bits = 2, sign = 1; break;
  case RT_I4: bits = 4, sign = 1; break;
  case RT_U2: bits = 2; break;
  case RT_U4: case RT_F4E2M1FN: bits = 4; break;
  default: break;
  }
  /* The low bits hold the value (ml_dtypes writes the rest 0 and reads
   * past it); in memory a signed one fills its byte. */
  unsigned char *b = a->data;
  int64_t n = rt_array_elements(a);
  for (int64_t i = 0; bits < 8 && i < n; i++) {
    unsigned v = b[i] & ((1u << bits) - 1);
    if (sign && v >> (bits - 1)) v |= 0xffu << bits;
    b[i] = (unsigned char)v;
  }
  a->dtype = t;
  return 0;
}

int rt_fail(char *err, size_t errlen, const char *fmt, ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return -1;
}

/* --- the header dict ------------------------------------------------------ */

typedef struct Cursor {
  const char *p, *end;
} Cursor;

static void skip_space(Cursor *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n')) c->p++;
}

static int eat(Cursor *c, char ch) {
  skip_space(c);
  if (c->p < c->end && *c->p == ch) {
    c->p++;
    return 1;
  }
  return 0;
}

/* A quoted Python string; copies at most cap-1 bytes into out. */
static int parse_string(Cursor *c, char *out, size_t cap) {
  skip_space(c);
  if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return 0;
  char q = *c->p++;
  size_t n = 0;
  while (c->p < c->end && *c->p != q) {
    if (n + 1 >= cap) return 0;
    out[n++] = *c->p++;
  }
  if (c->p >= c->end) return 0;
  c->p++;
  out[n] = '\0';
  return 1;
}

static int parse_header(const char *name, const char *h, size_t hlen, RtArray *out,
                        char *err, size_t errlen) {
  Cursor c = {h, h + hlen};
  int have_descr = 0, have_order = 0, have_shape = 0;
  if (!eat(&c, '{')) return rt_fail(err, errlen, "%s: .npy header is not a dict", name);
  while (!eat(&c, '}')) {
    char key[32];
    if (!parse_string(&c, key, sizeof key) || !eat(&c, ':'))
      return rt_fail(err, errlen, "%s: malformed .npy header near offset %zu", name,
                  (size_t)(c.p - h));
    if (!strcmp(key, "descr")) {
      char descr[32];
      if (!parse_string(&c, descr, sizeof descr))
        return rt_fail(err, errlen, "%s: .npy 'descr' is not a simple dtype string", name);
      /* '=' and '<' are little-endian here; '|' only for 1-byte types. */
      if (descr[0] == '=') descr[0] = '<';
      /* ml_dtypes gives float8_e5m2 the kind 'f', so NumPy saves it as
       * '<f1' (no NumPy type): raw bytes like the other narrow types. */
      if (descr[0] && strchr("<>|", descr[0]) && !strcmp(descr + 1, "f1")) strcpy(descr, "|V1");
      /* The first match: '|V1' is RT_V1, whatever narrow type it holds. */
      int found = -1;
      for (int t = 0; t < RT_NUM_DTYPES && found < 0; t++) {
        const char *d = dtype_table[t].descr;
        if (!strcmp(descr, d) ||
            (d[0] == '|' && (descr[0] == '<' || descr[0] == '>') && !strcmp(descr + 1, d + 1)))
          found = t;
      }
      if (found < 0) {
        if (descr[0] == '>')
          return rt_fail(err, errlen, "%s: big-endian dtype '%s' is not supported", name, descr);
        return rt_fail(err, errlen,
                    "%s: unsupported dtype '%s' (expected one of bool, int8..int64, "
                    "uint8..uint64, float16, float32, float64, complex64, complex128, "
                    "bfloat16 as '<V2', or the ml_dtypes narrow types as '|V1')",
                    name, descr);
      }
      out->dtype = (RtDtype)found;
      have_descr = 1;
    } else if (!strcmp(key, "fortran_order")) {
      skip_space(&c);
      if (c.end - c.p >= 5 && !memcmp(c.p, "False", 5)) {
        c.p += 5;
      } else if (c.end - c.p >= 4 && !memcmp(c.p, "True", 4)) {
        return rt_fail(err, errlen, "%s: Fortran-order arrays are not supported (save in C order)",
                    name);
      } else {
        return rt_fail(err, errlen, "%s: .npy 'fortran_order' must be True or False", name);
      }
      have_order = 1;
    } else if (!strcmp(key, "shape")) {
      if (!eat(&c, '(')) return rt_fail(err, errlen, "%s: .npy 'shape' is not a tuple", name);
      out->rank = 0;
      while (!eat(&c, ')')) {
        skip_space(&c);
        int64_t v = 0;
        int digits = 0;
        while (c.p < c.end && *c.p >= '0' && *c.p <= '9') {
          if (v > (INT64_MAX - 9) / 10)
            return rt_fail(err, errlen, "%s: .npy dimension too large", name);
          v = v * 10 + (*c.p++ - '0');
          digits++;
        }
        if (!digits)
          return rt_fail(err, errlen, "%s: .npy 'shape' has a non-integer dimension", name);
        if (out->rank == RT_MAX_RANK)
          return rt_fail(err, errlen, "%s: rank exceeds %d", name, RT_MAX_RANK);
        out->dims[out->rank++] = v;
        if (!eat(&c, ',')) {
          if (!eat(&c, ')'))
            return rt_fail(err, errlen, "%s: .npy 'shape' tuple is not closed", name);
          break;
        }
      }
      have_shape = 1;
    } else {
      return rt_fail(err, errlen, "%s: unexpected key '%s' in .npy header", name, key);
    }
    if (!eat(&c, ',')) {
      if (!eat(&c, '}')) return rt_fail(err, errlen, "%s: malformed .npy header dict", name);
      break;
    }
  }
  if (!have_descr || !have_order || !have_shape)
    return rt_fail(err, errlen, "%s: .npy header lacks '%s'", name,
                !have_descr ? "descr" : !have_order ? "fortran_order" : "shape");
  return 0;
}

/* The fixed prefix: magic, version and header length.  `len` bytes of
 * the file are at b (at least 12, or the whole file when shorter); sets
 * *off to where the header dict starts and *hlen to its length. */
static int parse_prefix(const unsigned char *b, size_t len, const char *name, size_t *off,
                        size_t *hlen, char *err, size_t errlen) {
  if (len < 10 || memcmp(b, "\x93NUMPY", 6))
    return rt_fail(err, errlen, "%s: not a .npy file (bad magic)", name);
  unsigned major = b[6];
  if (major == 1) {
    *hlen = b[8] | (size_t)b[9] << 8;
    *off = 10;
  } else if (major == 2 || major == 3) {
    if (len < 12) return rt_fail(err, errlen, "%s: truncated .npy header", name);
    *hlen = b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
    *off = 12;
  } else {
    return rt_fail(err, errlen, "%s: unsupported .npy version %u", name, major);
  }
  return 0;
}

/* Parses the header dict into out and checks that `payload` bytes are
 * what its shape and dtype need; sets out->nbytes. */
static int parse_dict(const char *name, const char *h, size_t hlen, size_t payload,
                      RtArray *out, char *err, size_t errlen) {
  if (parse_header(name, h, hlen, out, err, errlen)) return -1;
  /* Element count and byte size, guarding against overflow. */
  size_t esize = rt_dtype_size(out->dtype), count = 1;
  for (int i = 0; i < out->rank; i++) {
    size_t d = (size_t)out->dims[i];
    if (d && count > SIZE_MAX / d / esize)
      return rt_fail(err, errlen, "%s: shape is too large", name);
    count *= d;
  }
  size_t nbytes = count * esize;
  if (payload != nbytes)
    return rt_fail(err, errlen, "%s: data has %zu bytes but shape and dtype need %zu", name,
                payload, nbytes);
  out->nbytes = nbytes;
  return 0;
}

int rt_npy_parse(const void *buf, size_t len, const char *name, RtArray *out, char *err,
                 size_t errlen) {
  const unsigned char *b = buf;
  memset(out, 0, sizeof *out);
  size_t off = 0, hlen = 0;
  if (parse_prefix(b, len, name, &off, &hlen, err, errlen)) return -1;
  if (hlen > len - off) return rt_fail(err, errlen, "%s: truncated .npy header", name);
  if (parse_dict(name, (const char *)b + off, hlen, len - off - hlen, out, err, errlen))
    return -1;
  out->data = malloc(out->nbytes ? out->nbytes : 1);
  if (!out->data)
    return rt_fail(err, errlen, "%s: %zu bytes of data: %s", name, out->nbytes, strerror(ENOMEM));
  memcpy(out->data, b + off + hlen, out->nbytes);
  return 0;
}

/* Reads len bytes at the file's position into buf; 0, or -1 with a
 * message (a short read is a file that changed under us). */
static int read_exactly(FILE *f, void *buf, size_t len, const char *path, char *err,
                        size_t errlen) {
  if (fread(buf, 1, len, f) == len) return 0;
  if (ferror(f)) return rt_fail(err, errlen, "cannot read '%s': %s", path, strerror(errno));
  return rt_fail(err, errlen, "cannot read '%s': the file shrank while it was read", path);
}

/* The file is read in three steps (prefix, header dict, data) and the data
 * lands in its final buffer at once: memory is the array's size, allocated
 * only once the header says the file's size is right for it.  A directory
 * or a device is refused before any read. */
int rt_npy_read(const char *path, RtArray *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  FILE *f = fopen(path, "rb");
  if (!f) return rt_fail(err, errlen, "cannot read '%s': %s", path, strerror(errno));
  struct stat st;
  int rc = -1;
  char *dict = NULL;
  if (fstat(fileno(f), &st)) {
    rt_fail(err, errlen, "cannot read '%s': %s", path, strerror(errno));
  } else if (S_ISDIR(st.st_mode)) {
    rt_fail(err, errlen, "cannot read '%s': %s", path, strerror(EISDIR));
  } else if (!S_ISREG(st.st_mode)) {
    rt_fail(err, errlen, "cannot read '%s': not a regular file", path);
  } else {
    unsigned char prefix[12];
    size_t size = (size_t)st.st_size, got = size < sizeof prefix ? size : sizeof prefix;
    size_t off = 0, hlen = 0;
    if (!read_exactly(f, prefix, got, path, err, errlen) &&
        !parse_prefix(prefix, got, path, &off, &hlen, err, errlen)) {
      if (hlen > size - off) {
        rt_fail(err, errlen, "%s: truncated .npy header", path);
      } else if (!(dict = malloc(hlen + 1))) {
        rt_fail(err, errlen, "cannot read '%s': %s", path, strerror(ENOMEM));
      } else if (fseek(f, (long)off, SEEK_SET)) {
        rt_fail(err, errlen, "cannot read '%s': %s", path, strerror(errno));
      } else if (!read_exactly(f, dict, hlen, path, err, errlen) &&
                 !parse_dict(path, dict, hlen, size - off - hlen, out, err, errlen)) {
        if (!(out->data = malloc(out->nbytes ? out->nbytes : 1)))
          rt_fail(err, errlen, "cannot read '%s': %zu bytes of data: %s", path, out->nbytes,
               strerror(ENOMEM));
        else if (!read_exactly(f, out->data, out->nbytes, path, err, errlen))
          rc = 0;
      }
    }
  }
  free(dict);
  fclose(f);
  if (rc) rt_array_free(out);
  return rc;
}

size_t rt_npy_header(const RtArray *a, unsigned char *buf) {
  char *dict = (char *)buf + 10;
  int n = sprintf(dict, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                  rt_dtype_descr(a->dtype));
  for (int i = 0; i < a->rank; i++)
    n += sprintf(dict + n, "%lld%s", (long long)a->dims[i],
                 a->rank == 1 ? "," : (i + 1 < a->rank ? ", " : ""));
  n += sprintf(dict + n, "), }");
  /* Pad with spaces so magic + lengths + dict + '\n' is a multiple of 64. */
  int pad = (64 - (10 + n + 1) % 64) % 64;
  memset(dict + n, ' ', (size_t)pad);
  n += pad;
  dict[n++] = '\n';
  memcpy(buf, "\x93NUMPY\x01\x00", 8);
  buf[8] = (unsigned char)(n & 0xff);
  buf[9] = (unsigned char)(n >> 8);
  return 10 + (size_t)n;
}

/* Writes len bytes to fd, resuming after short writes; 0 or -1 (errno). */
static int write_all(int fd, const void *data, size_t len) {
  const char *p = data;
  while (len) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int rt_npy_write(const char *path, const RtArray *a, char *err, size_t errlen) {
  unsigned char header[RT_NPY_HEADER_MAX];
  size_t hlen = rt_npy_header(a, header);
  size_t plen = strlen(path);
  char *tmp = malloc(plen + 32);
  if (!tmp) return rt_fail(err, errlen, "cannot write '%s': %s", path, strerror(ENOMEM));
  snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  int ok = fd >= 0 && !write_all(fd, header, hlen) && !write_all(fd, a->data, a->nbytes);
  int saved = errno;
  if (fd >= 0 && close(fd) && ok) {
    ok = 0;
    saved = errno;
  }
  if (ok && rename(tmp, path)) {
    ok = 0;
    saved = errno;
  }
  if (!ok) {
    rt_fail(err, errlen, "cannot write '%s': %s", path, strerror(saved));
    unlink(tmp);
  }
  free(tmp);
  return ok ? 0 : -1;
}
