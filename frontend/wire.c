/*
 * wire.c — the protobuf binary wire format, and loading files in either
 * format.
 *
 * protobuf-c's unpack answers a malformed buffer with NULL (and a line on
 * stderr), which is no help to someone holding a corrupt 90 MB model.  So
 * before unpacking, scan_message() walks the buffer once, driven by the same
 * protobuf-c descriptors: every tag, every length, every packed array, each
 * known field's wire type against the type the descriptor gives, nested
 * messages recursively.  The first problem is reported with its byte offset
 * and the field and message it occurs in.  The scan also bounds nesting
 * depth (protobuf-c's unpack recurses without a limit) at 100, protobuf's
 * own default.  Unknown fields are checked for well-formedness and skipped,
 * as protobuf does; groups (wire types 3 and 4, proto2 only) are refused
 * because protobuf-c cannot skip them either.
 *
 * What the scan accepts, protobuf-c unpacks: lengths are validated against
 * the buffer, so protobuf-c's allocations are bounded by the input size.
 * (Sizes that the data only describes — a TensorProto's shape — are checked
 * where they are decoded, in tensor.c.)
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, beside POSIX 2008 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frontend.h"

#define MAX_DEPTH 100
#define MAX_PROTO_BYTES ((size_t)INT32_MAX) /* protobuf's 2 GiB limit */

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_SGROUP = 3, WT_EGROUP = 4,
       WT_I32 = 5 };

static const char *wire_type_name(int wt) {
  switch (wt) {
  case WT_VARINT: return "varint";
  case WT_I64: return "64-bit";
  case WT_LEN: return "length-delimited";
  case WT_I32: return "32-bit";
  default: return "invalid";
  }
}

/* The wire type protobuf-c expects for a field of type t (not packed). */
static int expected_wire_type(ProtobufCType t) {
  switch (t) {
  case PROTOBUF_C_TYPE_SFIXED32:
  case PROTOBUF_C_TYPE_FIXED32:
  case PROTOBUF_C_TYPE_FLOAT: return WT_I32;
  case PROTOBUF_C_TYPE_SFIXED64:
  case PROTOBUF_C_TYPE_FIXED64:
  case PROTOBUF_C_TYPE_DOUBLE: return WT_I64;
  case PROTOBUF_C_TYPE_STRING:
  case PROTOBUF_C_TYPE_BYTES:
  case PROTOBUF_C_TYPE_MESSAGE: return WT_LEN;
  default: return WT_VARINT;
  }
}

typedef struct Scan {
  const uint8_t *buf;
  const char *filename;
} Scan;

static HloError *scan_error(const Scan *s, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static HloError *scan_error(const Scan *s, size_t at, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  HloError *e = hlo_verror(fmt, ap);
  va_end(ap);
  return hlo_error_wrap(e, "%s: malformed protobuf at byte %zu", s->filename,
                        at);
}

/* Reads a varint at *pos (< end).  Returns 0 on success, 1 when the input
 * ends inside it, 2 when it is longer than 10 bytes. */
static int read_varint(const uint8_t *buf, size_t *pos, size_t end,
                       uint64_t *v) {
  uint64_t r = 0;
  for (int i = 0; i < 10; i++) {
    if (*pos >= end) return 1;
    uint8_t b = buf[(*pos)++];
    r |= (uint64_t)(b & 0x7f) << (7 * i);
    if (!(b & 0x80)) {
      *v = r;
      return 0;
    }
  }
  return 2;
}

/* "field 3 (input) of tensorflow.NodeDef" into buf. */
static const char *field_desc(char *buf, size_t n, uint32_t num,
                              const ProtobufCFieldDescriptor *f,
                              const ProtobufCMessageDescriptor *d) {
  if (f)
    snprintf(buf, n, "field %u (%s) of %s", num, f->name, d->name);
  else
    snprintf(buf, n, "unknown field %u of %s", num, d->name);
  return buf;
}

static bool packable(ProtobufCType t) {
  return t != PROTOBUF_C_TYPE_STRING && t != PROTOBUF_C_TYPE_BYTES &&
         t != PROTOBUF_C_TYPE_MESSAGE;
}

/* Checks the payload [start, end) of a packed repeated field. */
static HloError *scan_packed(const Scan *s, size_t start, size_t end, int wt,
                             const char *what) {
  if (wt == WT_I32 || wt == WT_I64) {
    size_t w = wt == WT_I32 ? 4 : 8;
    if ((end - start) % w)
      return scan_error(s, start, "packed %s has %zu bytes, not a multiple "
                        "of %zu", what, end - start, w);
    return NULL;
  }
  size_t pos = start;
  while (pos < end) {
    size_t at = pos;
    uint64_t v;
    int r = read_varint(s->buf, &pos, end, &v);
    if (r == 1)
      return scan_error(s, at, "truncated varint in packed %s", what);
    if (r == 2)
      return scan_error(s, at, "varint longer than 10 bytes in packed %s",
                        what);
  }
  return NULL;
}

/* Checks the message of type d in [start, end). */
static HloError *scan_message(const Scan *s,
                              const ProtobufCMessageDescriptor *d,
                              size_t start, size_t end, int depth) {
  size_t pos = start;
  char what[256];
  while (pos < end) {
    size_t at = pos;
    uint64_t tag;
    int r = read_varint(s->buf, &pos, end, &tag);
    if (r == 1) return scan_error(s, at, "truncated tag in %s", d->name);
    if (r == 2)
      return scan_error(s, at, "tag longer than 10 bytes in %s", d->name);
    uint64_t num64 = tag >> 3;
    int wt = (int)(tag & 7);
    if (num64 == 0 || num64 > 536870911)
      return scan_error(s, at, "field number %llu in %s is out of range",
                        (unsigned long long)num64, d->name);
    uint32_t num = (uint32_t)num64;
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field(d, (unsigned)num);
    field_desc(what, sizeof what, num, f, d);
    if (wt == WT_SGROUP || wt == WT_EGROUP)
      return scan_error(s, at, "%s uses groups (wire type %d), which are not "
                        "supported", what, wt);
    if (wt > WT_I32)
      return scan_error(s, at, "%s has invalid wire type %d", what, wt);
    if (f) {
      int want = expected_wire_type(f->type);
      bool packed = wt == WT_LEN && f->label == PROTOBUF_C_LABEL_REPEATED &&
                    packable(f->type);
      if (wt != want && !packed)
        return scan_error(s, at, "%s has wire type %d (%s), expected %d (%s)",
                          what, wt, wire_type_name(wt), want,
                          wire_type_name(want));
    }
    switch (wt) {
    case WT_VARINT: {
      uint64_t v;
      size_t vat = pos;
      r = read_varint(s->buf, &pos, end, &v);
      if (r == 1) return scan_error(s, vat, "truncated varint in %s", what);
      if (r == 2)
        return scan_error(s, vat, "varint longer than 10 bytes in %s", what);
      break;
    }
    case WT_I64:
    case WT_I32: {
      size_t w = wt == WT_I32 ? 4 : 8;
      if (end - pos < w)
        return scan_error(s, at, "truncated %zu-byte %s: %zu bytes left", w,
                          what, end - pos);
      pos += w;
      break;
    }
    case WT_LEN: {
      uint64_t n;
      size_t lat = pos;
      r = read_varint(s->buf, &pos, end, &n);
      if (r == 1)
        return scan_error(s, lat, "truncated length of %s", what);
      if (r == 2)
        return scan_error(s, lat, "length of %s is longer than 10 bytes",
                          what);
      if (n > end - pos)
        return scan_error(s, at, "truncated length-delimited %s: length "
                          "%llu, %zu bytes left", what, (unsigned long long)n,
                          end - pos);
      size_t body = pos;
      pos += (size_t)n;
      if (!f) break;
      if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
        if (depth + 1 > MAX_DEPTH)
          return scan_error(s, at, "messages nested deeper than %d at %s",
                            MAX_DEPTH, what);
        HloError *e = scan_message(s, f->descriptor, body, pos, depth + 1);
        if (e) return e;
      } else if (packable(f->type)) {
        HloError *e =
            scan_packed(s, body, pos, expected_wire_type(f->type), what);
        if (e) return e;
      }
      break;
    }
    }
  }
  return NULL;
}

/* Text has no control characters other than whitespace and starts, after
 * whitespace and comments, with a field name; binary protobuf almost always
 * has control characters (lengths, tags of small fields) early on. */
static bool looks_like_text(const uint8_t *p, size_t len) {
  size_t n = len < 4096 ? len : 4096;
  for (size_t i = 0; i < n; i++) {
    uint8_t c = p[i];
    if ((c < 0x20 && !(c >= '\t' && c <= '\r')) || c == 0x7f) return false;
  }
  size_t i = 0;
  while (i < n && (p[i] == '#' || p[i] == ' ' ||
                   (p[i] >= '\t' && p[i] <= '\r'))) {
    if (p[i] == '#')
      while (i < n && p[i] != '\n') i++;
    else
      i++;
  }
  return i == n || p[i] == '_' || p[i] == '[' ||
         ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'z');
}

/* Checks that data[0..len) is a well-formed desc (scan_message), with a
 * hint where it looks like the text format. */
static HloError *check_binary(const ProtobufCMessageDescriptor *desc, const void *data,
                              size_t len, const char *filename) {
  if (len > MAX_PROTO_BYTES)
    return hlo_error("%s: %zu bytes is larger than protobuf's 2 GiB limit",
                     filename, len);
  Scan s = {.buf = data, .filename = filename};
  HloError *e = scan_message(&s, desc, 0, len, 0);
  if (e) {
    if (len && looks_like_text(data, len)) {
      HloError *hint = hlo_error("%s (the file looks like protobuf text "
                                 "format: name it .pbtxt)",
                                 hlo_error_message(e));
      hlo_error_free(e);
      return hint;
    }
    return e;
  }
  return NULL;
}

HloError *tf_proto_parse_binary(const ProtobufCMessageDescriptor *desc,
                                const void *data, size_t len,
                                const char *filename, ProtobufCMessage **out) {
  *out = NULL;
  HloError *e = check_binary(desc, data, len, filename);
  if (e) return e;
  *out = protobuf_c_message_unpack(desc, NULL, len, data);
  if (!*out)
    return hlo_error("%s: protobuf-c could not unpack this %s (%zu bytes)",
                     filename, desc->name, len);
  return NULL;
}

/* 1 for text, 0 for binary, -1 when the extension does not tell. */
static int format_of_name(const char *filename) {
  static const char *const text[] = {".pbtxt", ".pbtext", ".prototxt",
                                     ".textproto", ".txt"};
  static const char *const binary[] = {".pb", ".bin", ".binarypb"};
  const char *slash = strrchr(filename, '/');
  const char *dot = strrchr(slash ? slash : filename, '.');
  if (!dot) return -1;
  for (size_t i = 0; i < sizeof text / sizeof *text; i++)
    if (!strcasecmp(dot, text[i])) return 1;
  for (size_t i = 0; i < sizeof binary / sizeof *binary; i++)
    if (!strcasecmp(dot, binary[i])) return 0;
  return -1;
}

HloError *tf_proto_parse(const ProtobufCMessageDescriptor *desc,
                         const void *data, size_t len, const char *filename,
                         ProtobufCMessage **out) {
  int text = format_of_name(filename);
  if (text < 0) text = looks_like_text(data, len);
  if (text) return tf_proto_parse_text(desc, data, len, filename, out);
  return tf_proto_parse_binary(desc, data, len, filename, out);
}

/* Reads the whole file into a malloc'd buffer. */
HloError *tf_file_read(const char *path, size_t max, const char *limit, char **data,
                       size_t *len) {
  *data = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) return hlo_error("%s: cannot open: %s", path, strerror(errno));
  HloStr s = {0};
  /* A regular file's buffer is its size: one grown by doubling would take
   * up to twice a model's bytes while its protobuf is parsed. */
  struct stat st;
  if (!fstat(fileno(f), &st) && S_ISREG(st.st_mode) && (uintmax_t)st.st_size <= max) {
    s.cap = (size_t)st.st_size + 1;
    s.buf = hlo_xmalloc(s.cap);
    s.buf[0] = '\0';
  }
  char chunk[1 << 16];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
    if (s.len + n > max) {
      fclose(f);
      free(s.buf);
      return hlo_error("%s: larger than %s", path, limit);
    }
    hlo_str_append(&s, chunk, n);
  }
  bool failed = ferror(f);
  int err = errno;
  fclose(f);
  if (failed) {
    free(s.buf);
    return hlo_error("%s: read error: %s", path, strerror(err));
  }
  *len = s.len;
  *data = hlo_str_take(&s);
  return NULL;
}

HloError *tf_proto_read_file(const ProtobufCMessageDescriptor *desc,
                             const char *path, ProtobufCMessage **out) {
  *out = NULL;
  char *data;
  size_t len;
  HloError *e = tf_file_read(path, MAX_PROTO_BYTES, "protobuf's 2 GiB limit", &data, &len);
  if (e) return e;
  e = tf_proto_parse(desc, data, len, path, out);
  free(data);
  return e;
}

/* A frozen graph's weights are most of its bytes, in its nodes.  Unpacked
 * at once, the file's bytes and the message's copy of them are held
 * together; unpacked node by node from pages of their own, the pages
 * parsed are given back as the nodes are made, so the peak is about one
 * copy.  The result is what protobuf-c's unpack of the whole buffer gives:
 * the nodes in file order, the other fields unpacked from their bytes in
 * file order (a GraphDef without nodes), the nodes then attached as
 * protobuf-c would have allocated them (malloc'd, freed with the
 * message). */
static HloError *unpack_graphdef(uint8_t *map, size_t len, const char *path,
                                 size_t *given_back, Tensorflow__GraphDef **out) {
  const ProtobufCMessageDescriptor *d = &tensorflow__graph_def__descriptor;
  const ProtobufCFieldDescriptor *node_field = protobuf_c_message_descriptor_get_field_by_name(d, "node");
  size_t page = (size_t)sysconf(_SC_PAGESIZE), pos = 0;
  size_t *freed = given_back; /* map[0..*freed) is unmapped */
  HloStr rest = {0};
  Tensorflow__NodeDef **nodes = NULL;
  size_t n = 0, cap = 0;
  HloError *e = NULL;
  while (pos < len && !e) {
    /* check_binary accepted every tag and length. */
    size_t at = pos;
    uint64_t tag = 0, flen = 0;
    read_varint(map, &pos, len, &tag);
    switch (tag & 7) {
    case WT_VARINT: read_varint(map, &pos, len, &flen); flen = 0; break;
    case WT_I64: flen = 8; break;
    case WT_I32: flen = 4; break;
    default: read_varint(map, &pos, len, &flen); break;
    }
    if ((tag >> 3) == node_field->id && (tag & 7) == WT_LEN) {
      Tensorflow__NodeDef *nd = tensorflow__node_def__unpack(NULL, flen, map + pos);
      if (!nd) {
        e = hlo_error("%s: protobuf-c could not unpack the node at byte %zu", path, at);
        break;
      }
      if (n == cap) {
        cap = cap ? 2 * cap : 256;
        nodes = hlo_xrealloc(nodes, cap * sizeof *nodes);
      }
      nodes[n++] = nd;
    } else {
      hlo_str_append(&rest, (const char *)map + at, pos + flen - at);
    }
    pos += flen;
    size_t done = pos / page * page;
    if (done > *freed) {
      munmap(map + *freed, done - *freed);
      *freed = done;
    }
  }
  Tensorflow__GraphDef *gd = NULL;
  if (!e) {
    gd = tensorflow__graph_def__unpack(NULL, rest.len, (const uint8_t *)rest.buf);
    if (!gd) e = hlo_error("%s: protobuf-c could not unpack this %s", path, d->name);
  }
  if (e) {
    for (size_t i = 0; i < n; i++) tensorflow__node_def__free_unpacked(nodes[i], NULL);
    free(nodes);
  } else {
    gd->n_node = n;
    gd->node = nodes;
  }
  free(rest.buf);
  *out = gd;
  return e;
}

HloError *tf_graphdef_read(const char *path, Tensorflow__GraphDef **out) {
  *out = NULL;
  ProtobufCMessage *m;
  struct stat st;
  int fd = format_of_name(path) == 1 ? -1 : open(path, O_RDONLY);
  if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) || !st.st_size ||
      (uintmax_t)st.st_size > MAX_PROTO_BYTES) {
    if (fd >= 0) close(fd);
    HloError *e = tf_proto_read_file(&tensorflow__graph_def__descriptor, path, &m);
    *out = (Tensorflow__GraphDef *)m;
    return e;
  }
  size_t len = (size_t)st.st_size, got = 0;
  uint8_t *map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map == MAP_FAILED) {
    close(fd);
    return hlo_error("%s: cannot map %zu bytes: %s", path, len, strerror(errno));
  }
  while (got < len) {
    ssize_t r = read(fd, map + got, len - got);
    if (r <= 0) {
      int err = r ? errno : EIO;
      close(fd);
      munmap(map, len);
      return hlo_error("%s: read error: %s", path, strerror(err));
    }
    got += (size_t)r;
  }
  close(fd);
  HloError *e = NULL;
  if (format_of_name(path) < 0 && looks_like_text(map, len)) {
    e = tf_proto_parse_text(&tensorflow__graph_def__descriptor, (const char *)map, len, path, &m);
    *out = (Tensorflow__GraphDef *)m;
    munmap(map, len);
    return e;
  }
  size_t freed = 0;
  e = check_binary(&tensorflow__graph_def__descriptor, map, len, path);
  if (!e) e = unpack_graphdef(map, len, path, &freed, out);
  if (freed < len) munmap(map + freed, len - freed);
  return e;
}

HloError *tf_config_read(const char *path, Tensorflow__Tf2xla__Config **out) {
  ProtobufCMessage *m;
  HloError *e =
      tf_proto_read_file(&tensorflow__tf2xla__config__descriptor, path, &m);
  *out = (Tensorflow__Tf2xla__Config *)m;
  return e;
}
