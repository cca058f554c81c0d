/*
 * archive.c — `ar` archives, read and written (archive.h).
 *
 * The format: the magic "!<arch>\n", then members, each a 60-byte text
 * header (name 16, date 12, uid 6, gid 6, octal mode 8, decimal size 10,
 * "`\n") followed by its bytes and a '\n' pad to an even offset.  GNU
 * names end in '/'; a name too long for 16 bytes is "/OFFSET" into the
 * long-name member "//" (names ended by "/\n").  The member "/" is the
 * symbol index: a big-endian 32-bit count, that many big-endian 32-bit
 * offsets of the members' headers, then the symbol names, NUL-terminated.
 * GNU ld resolves symbols in an archive only through that index, so the
 * writer reads each member's ELF symbol table and lists the global and
 * weak symbols the member defines, as `ar s` does.
 *
 * Only what hloc makes is supported: ELF64 little-endian objects (x86-64,
 * AArch64) and archives under 4 GiB.
 */
#include "archive.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { HEADER_SIZE = 60, SHORT_NAME = 15 };

static const char magic[] = "!<arch>\n";

void ar_members_free(ArMember *members, int n) {
  for (int i = 0; i < n; i++) {
    free(members[i].name);
    free(members[i].data);
  }
  free(members);
}

/* --- reading ------------------------------------------------------------ */

/* A decimal header field (space padded); -1 when malformed. */
static int64_t field_number(const char *f, int width) {
  int64_t v = 0;
  int i = 0;
  while (i < width && f[i] == ' ') i++;
  if (i == width || f[i] < '0' || f[i] > '9') return -1;
  for (; i < width && f[i] >= '0' && f[i] <= '9'; i++) {
    if (v > (INT64_MAX - 9) / 10) return -1;
    v = v * 10 + (f[i] - '0');
  }
  for (; i < width; i++)
    if (f[i] != ' ') return -1;
  return v;
}

/* The name of a member: GNU "name/", "/OFFSET" into the long names, or a
 * plain space-padded System V name. */
static char *member_name(const char *field, const char *longnames, size_t nlong) {
  if (field[0] == '/' && field[1] >= '0' && field[1] <= '9') {
    int64_t off = field_number(field + 1, 15);
    if (off < 0 || !longnames || (size_t)off >= nlong) return NULL;
    const char *s = longnames + off, *end = s;
    while ((size_t)(end - longnames) < nlong && *end != '/' && *end != '\n') end++;
    return strndup(s, (size_t)(end - s));
  }
  size_t n = 16;
  while (n > 0 && field[n - 1] == ' ') n--;
  if (n > 0 && field[n - 1] == '/') n--;
  return strndup(field, n);
}

HloError *ar_read(const char *path, ArMember **members, int *n) {
  *members = NULL;
  *n = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return hlo_error("%s: %s", path, strerror(errno));
  HloStr buf = {0};
  char chunk[65536];
  size_t got;
  while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) hlo_str_append(&buf, chunk, got);
  bool read_error = ferror(f);
  fclose(f);
  if (read_error) {
    free(buf.buf);
    return hlo_error("%s: read error", path);
  }
  const char *data = buf.buf;
  size_t len = buf.len, pos = sizeof magic - 1;
  if (len < pos || memcmp(data, magic, pos)) {
    free(buf.buf);
    return hlo_error("%s: not an ar archive", path);
  }
  const char *longnames = NULL;
  size_t nlong = 0;
  ArMember *m = NULL;
  int count = 0;
  HloError *e = NULL;
  while (pos < len && !e) {
    if (len - pos < HEADER_SIZE || memcmp(data + pos + 58, "`\n", 2)) {
      e = hlo_error("%s: malformed member header at byte %zu", path, pos);
      break;
    }
    const char *h = data + pos;
    int64_t size = field_number(h + 48, 10);
    if (size < 0 || (uint64_t)size > len - pos - HEADER_SIZE) {
      e = hlo_error("%s: bad member size at byte %zu", path, pos);
      break;
    }
    const char *body = h + HEADER_SIZE;
    if (!memcmp(h, "//              ", 16)) {
      longnames = body;
      nlong = (size_t)size;
    } else if (memcmp(h, "/               ", 16) && memcmp(h, "/SYM64/         ", 16)) {
      char *name = member_name(h, longnames, nlong);
      if (!name || !*name) {
        free(name);
        e = hlo_error("%s: bad member name at byte %zu", path, pos);
        break;
      }
      m = hlo_xrealloc(m, ((size_t)count + 1) * sizeof *m);
      m[count].name = name;
      m[count].size = (size_t)size;
      m[count].data = hlo_xmalloc((size_t)size + 1);
      memcpy(m[count].data, body, (size_t)size);
      count++;
    }
    pos += HEADER_SIZE + (size_t)size + ((size_t)size & 1);
  }
  free(buf.buf);
  if (e) {
    ar_members_free(m, count);
    return e;
  }
  *members = m;
  *n = count;
  return NULL;
}

/* --- ELF symbols ------------------------------------------------------------ */

static uint64_t le(const unsigned char *p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

/* Whether [off, off + size) lies inside a buffer of len bytes. */
static bool in_bounds(uint64_t off, uint64_t size, size_t len) {
  return off <= len && size <= len - off;
}

/* Appends the names of the global and weak symbols `m` defines, each with
 * its NUL, to names, and counts them. */
static HloError *defined_symbols(const ArMember *m, HloStr *names, int *count) {
  const unsigned char *d = m->data;
  size_t len = m->size;
  if (len < 64 || memcmp(d, "\177ELF", 4))
    return hlo_error("archive member %s: not an ELF object", m->name);
  if (d[4] != 2 || d[5] != 1)
    return hlo_error("archive member %s: not a 64-bit little-endian ELF object", m->name);
  uint64_t shoff = le(d + 0x28, 8), shentsize = le(d + 0x3a, 2), shnum = le(d + 0x3c, 2);
  if (shentsize < 64 || !in_bounds(shoff, shnum * shentsize, len))
    return hlo_error("archive member %s: malformed ELF section table", m->name);
  for (uint64_t s = 0; s < shnum; s++) {
    const unsigned char *sh = d + shoff + s * shentsize;
    if (le(sh + 4, 4) != 2 /* SHT_SYMTAB */) continue;
    uint64_t off = le(sh + 0x18, 8), size = le(sh + 0x20, 8), link = le(sh + 0x28, 4);
    uint64_t entsize = le(sh + 0x38, 8);
    if (entsize < 24 || link >= shnum || !in_bounds(off, size, len))
      return hlo_error("archive member %s: malformed ELF symbol table", m->name);
    const unsigned char *strsh = d + shoff + link * shentsize;
    uint64_t stroff = le(strsh + 0x18, 8), strsize = le(strsh + 0x20, 8);
    if (!in_bounds(stroff, strsize, len) || strsize == 0 || d[stroff + strsize - 1])
      return hlo_error("archive member %s: malformed ELF string table", m->name);
    for (uint64_t k = 1; k < size / entsize; k++) {
      const unsigned char *sym = d + off + k * entsize;
      uint64_t name = le(sym, 4);
      int bind = sym[4] >> 4;
      bool global = bind == 1 /* GLOBAL */ || bind == 2 /* WEAK */ || bind == 10 /* UNIQUE */;
      if (!global || le(sym + 6, 2) == 0 /* SHN_UNDEF */ || name == 0) continue;
      if (name >= strsize)
        return hlo_error("archive member %s: malformed ELF symbol name", m->name);
      const char *str = (const char *)d + stroff + name;
      hlo_str_append(names, str, strlen(str) + 1);
      (*count)++;
    }
  }
  return NULL;
}

/* --- writing ------------------------------------------------------------ */

/* Fields wider than their columns cannot occur: names are at most 16
 * characters and sizes stay below 4 GiB (ar_build checks). */
static void header(HloStr *out, const char *name, size_t size) {
  char h[128];
  snprintf(h, sizeof h, "%-16s%-12s%-6s%-6s%-8s%-10zu`\n", name, "0", "0", "0", "644", size);
  hlo_str_append(out, h, HEADER_SIZE);
}

static void be32(HloStr *out, uint32_t v) {
  char b[4] = {(char)(v >> 24), (char)(v >> 16), (char)(v >> 8), (char)v};
  hlo_str_append(out, b, 4);
}

static void body(HloStr *out, const void *data, size_t size) {
  hlo_str_append(out, data, size);
  if (size & 1) hlo_str_append(out, "\n", 1);
}

HloError *ar_build(const ArMember *members, int n, HloStr *out) {
  HloStr names = {0}, longnames = {0};
  int *nsyms = hlo_xcalloc((size_t)n + 1, sizeof *nsyms);
  int total = 0;
  for (int i = 0; i < n; i++) {
    HloError *e = defined_symbols(&members[i], &names, &nsyms[i]);
    if (e) {
      free(names.buf);
      free(nsyms);
      return e;
    }
    total += nsyms[i];
    if (strlen(members[i].name) > SHORT_NAME)
      hlo_str_printf(&longnames, "%s/\n", members[i].name);
  }
  /* The index precedes the members, so their offsets are known up front. */
  size_t index_size = 4 + 4 * (size_t)total + names.len;
  uint64_t pos = sizeof magic - 1 + HEADER_SIZE + index_size + (index_size & 1);
  if (longnames.len) pos += HEADER_SIZE + longnames.len + (longnames.len & 1);
  uint32_t *offsets = hlo_xcalloc((size_t)n + 1, sizeof *offsets);
  for (int i = 0; i < n; i++) {
    if (pos > UINT32_MAX) {
      free(names.buf);
      free(longnames.buf);
      free(nsyms);
      free(offsets);
      return hlo_error("archive larger than 4 GiB");
    }
    offsets[i] = (uint32_t)pos;
    pos += HEADER_SIZE + members[i].size + (members[i].size & 1);
  }
  hlo_str_append(out, magic, sizeof magic - 1);
  header(out, "/", index_size);
  be32(out, (uint32_t)total);
  for (int i = 0; i < n; i++)
    for (int k = 0; k < nsyms[i]; k++) be32(out, offsets[i]);
  body(out, names.buf ? names.buf : "", names.len);
  if (longnames.len) {
    header(out, "//", longnames.len);
    body(out, longnames.buf, longnames.len);
  }
  size_t longpos = 0;
  for (int i = 0; i < n; i++) {
    char name[32];
    size_t len = strlen(members[i].name);
    if (len > SHORT_NAME) {
      snprintf(name, sizeof name, "/%zu", longpos);
      longpos += len + 2;
    } else {
      snprintf(name, sizeof name, "%s/", members[i].name);
    }
    header(out, name, members[i].size);
    body(out, members[i].data, members[i].size);
  }
  free(names.buf);
  free(longnames.buf);
  free(nsyms);
  free(offsets);
  return NULL;
}
