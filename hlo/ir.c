/*
 * ir.c — the core of the HLO IR: errors, growable strings, the arena, element
 * types, shapes, literals, and the module/computation/instruction graph.
 *
 * Edges are changed only here (hlo_instr_new, hlo_set_operand(s),
 * hlo_replace_all_uses, hlo_instr_remove), which keeps every instruction's
 * user list exact: one entry per distinct user, in the order users appeared.
 * Instruction names are unique per module; a small open-addressing table of
 * names makes uniquing O(1).
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, beside POSIX 2008 */
#include "hlo.h"

#include <ctype.h>
#include <math.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Fatal errors and error values                                            */
/* ------------------------------------------------------------------------ */

void hlo_fatal(const char *file, int line, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "hloc: internal error at %s:%d: ", file, line);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  abort();
}

struct HloError {
  char *msg;
};

/* The innermost hlo_guard_oom of this thread, and the size that failed. */
static _Thread_local jmp_buf *oom_trap;
static _Thread_local size_t oom_bytes;

static _Noreturn void out_of_memory(const char *file, int line, size_t n) {
  if (oom_trap) {
    oom_bytes = n;
    longjmp(*oom_trap, 1);
  }
  hlo_fatal(file, line, "out of memory (%zu bytes)", n);
}

/* n * size, saturated: an overflowing request fails like a huge one. */
static size_t product_or_max(size_t n, size_t size) {
  size_t r;
  return __builtin_mul_overflow(n, size, &r) ? SIZE_MAX : r;
}

HloError *hlo_guard_oom(HloError *(*fn)(void *ctx), void *ctx) {
  jmp_buf trap;
  jmp_buf *volatile outer = oom_trap;
  if (setjmp(trap)) {
    oom_trap = outer;
    return hlo_error("out of memory: cannot allocate %zu bytes", oom_bytes);
  }
  oom_trap = &trap;
  HloError *e = fn(ctx);
  oom_trap = outer;
  return e;
}

void *hlo_xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) out_of_memory(__FILE__, __LINE__, n);
  return p;
}

void *hlo_xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p) out_of_memory(__FILE__, __LINE__, product_or_max(n, size));
  return p;
}

void *hlo_xrealloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p) out_of_memory(__FILE__, __LINE__, n);
  return p;
}

char *hlo_xstrdup(const char *s) {
  size_t n = strlen(s) + 1;
  return memcpy(hlo_xmalloc(n), s, n);
}

HloError *hlo_verror(const char *fmt, va_list ap) {
  HloStr s = {0};
  va_list cp;
  va_copy(cp, ap);
  int n = vsnprintf(NULL, 0, fmt, cp);
  va_end(cp);
  s.buf = hlo_xmalloc((size_t)n + 1);
  vsnprintf(s.buf, (size_t)n + 1, fmt, ap);
  HloError *e = hlo_xmalloc(sizeof *e);
  e->msg = s.buf;
  return e;
}

HloError *hlo_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  HloError *e = hlo_verror(fmt, ap);
  va_end(ap);
  return e;
}

HloError *hlo_error_wrap(HloError *e, const char *fmt, ...) {
  if (!e) return NULL;
  HloStr s = {0};
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *prefix = hlo_xmalloc((size_t)n + 1);
  va_start(ap, fmt);
  vsnprintf(prefix, (size_t)n + 1, fmt, ap);
  va_end(ap);
  hlo_str_printf(&s, "%s: %s", prefix, e->msg);
  free(prefix);
  free(e->msg);
  e->msg = hlo_str_take(&s);
  return e;
}

const char *hlo_error_message(const HloError *e) { return e ? e->msg : ""; }

void hlo_error_free(HloError *e) {
  if (!e) return;
  free(e->msg);
  free(e);
}

/* ------------------------------------------------------------------------ */
/* Growable strings                                                         */
/* ------------------------------------------------------------------------ */

static void str_reserve(HloStr *s, size_t extra) {
  if (s->len + extra + 1 <= s->cap) return;
  size_t cap = s->cap ? s->cap : 64;
  while (cap < s->len + extra + 1) cap *= 2;
  s->buf = hlo_xrealloc(s->buf, cap);
  s->cap = cap;
}

void hlo_str_append(HloStr *s, const char *text, size_t n) {
  str_reserve(s, n);
  memcpy(s->buf + s->len, text, n);
  s->len += n;
  s->buf[s->len] = '\0';
}

void hlo_str_printf(HloStr *s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  str_reserve(s, (size_t)n);
  va_start(ap, fmt);
  vsnprintf(s->buf + s->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  s->len += (size_t)n;
}

char *hlo_str_take(HloStr *s) {
  char *b = s->buf;
  if (!b) {
    b = hlo_xmalloc(1);
    b[0] = '\0';
  }
  s->buf = NULL;
  s->len = s->cap = 0;
  return b;
}

int hlo_edit_distance(const char *a, size_t na, const char *b, size_t nb) {
  if (na > 64 || nb > 64) return HLO_EDIT_FAR;
  int row[65];
  for (size_t j = 0; j <= nb; j++) row[j] = (int)j;
  for (size_t i = 1; i <= na; i++) {
    int diag = row[0];
    row[0] = (int)i;
    for (size_t j = 1; j <= nb; j++) {
      int up = row[j], best = diag + (a[i - 1] != b[j - 1]);
      if (up + 1 < best) best = up + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      diag = up;
      row[j] = best;
    }
  }
  return row[nb] < HLO_EDIT_FAR ? row[nb] : HLO_EDIT_FAR;
}

/* ------------------------------------------------------------------------ */
/* Arena: a list of chunks; large requests get a chunk of their own.         */
/* ------------------------------------------------------------------------ */

/* Blocks (hlo_arena_alloc_block) of this size and more are mapped: a
 * model's weights, which freed from malloc's heap would leave holes that
 * stay resident.  Below it the page rounding would cost more. */
enum { ARENA_CHUNK = 64 * 1024, ARENA_ALIGN = 64, ARENA_MAP_BYTES = 256 * 1024 };

typedef struct ArenaChunk {
  struct ArenaChunk *next;
  struct ArenaChunk *prev; /* blocks: in the arena's doubly linked list */
  size_t used, size;
  bool mapped;             /* blocks: mmap'd (size rounded to pages) */
  _Alignas(ARENA_ALIGN) unsigned char data[];
} ArenaChunk;

struct HloArena {
  ArenaChunk *head;   /* the chunk small requests are served from */
  ArenaChunk *big;    /* dedicated chunks of large requests */
  ArenaChunk *blocks; /* hlo_arena_alloc_block's, releasable */
};

static ArenaChunk *chunk_new(size_t size) {
  ArenaChunk *c = aligned_alloc(ARENA_ALIGN,
                                (sizeof(ArenaChunk) + size + ARENA_ALIGN - 1) /
                                    ARENA_ALIGN * ARENA_ALIGN);
  if (!c) out_of_memory(__FILE__, __LINE__, size);
  c->next = NULL;
  c->used = 0;
  c->size = size;
  return c;
}

HloArena *hlo_arena_new(void) { return hlo_xcalloc(1, sizeof(HloArena)); }

static void block_free(ArenaChunk *c) {
  if (c->mapped) munmap(c, sizeof(ArenaChunk) + c->size);
  else free(c);
}

void hlo_arena_free(HloArena *a) {
  if (!a) return;
  for (ArenaChunk *c = a->head, *n; c; c = n) {
    n = c->next;
    free(c);
  }
  for (ArenaChunk *c = a->big, *n; c; c = n) {
    n = c->next;
    free(c);
  }
  for (ArenaChunk *c = a->blocks, *n; c; c = n) {
    n = c->next;
    block_free(c);
  }
  free(a);
}

void *hlo_arena_alloc_block(HloArena *a, size_t size) {
  size_t rounded = (size + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
  if (rounded == 0) rounded = ARENA_ALIGN;
  ArenaChunk *c;
  if (rounded >= ARENA_MAP_BYTES) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t total = (sizeof(ArenaChunk) + rounded + page - 1) / page * page;
    c = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (c == MAP_FAILED) out_of_memory(__FILE__, __LINE__, size);
    c->size = total - sizeof(ArenaChunk); /* fresh pages are zero */
    c->mapped = true;
  } else {
    c = chunk_new(rounded);
    c->mapped = false;
    memset(c->data, 0, rounded);
  }
  c->used = c->size;
  c->prev = NULL;
  c->next = a->blocks;
  if (a->blocks) a->blocks->prev = c;
  a->blocks = c;
  return c->data;
}

void hlo_arena_release(HloArena *a, void *block) {
  ArenaChunk *c = (ArenaChunk *)((unsigned char *)block - offsetof(ArenaChunk, data));
  if (c->prev) c->prev->next = c->next;
  else a->blocks = c->next;
  if (c->next) c->next->prev = c->prev;
  block_free(c);
}

void *hlo_arena_alloc(HloArena *a, size_t size) {
  size_t rounded = (size + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
  if (rounded == 0) rounded = ARENA_ALIGN;
  if (rounded > ARENA_CHUNK / 4) {
    ArenaChunk *c = chunk_new(rounded);
    c->next = a->big;
    a->big = c;
    memset(c->data, 0, rounded);
    return c->data;
  }
  if (!a->head || a->head->used + rounded > a->head->size) {
    ArenaChunk *c = chunk_new(ARENA_CHUNK);
    c->next = a->head;
    a->head = c;
  }
  void *p = a->head->data + a->head->used;
  a->head->used += rounded;
  memset(p, 0, rounded);
  return p;
}

char *hlo_arena_strndup(HloArena *a, const char *s, size_t n) {
  char *p = hlo_arena_alloc(a, n + 1);
  if (n) memcpy(p, s, n); /* an empty protobuf string has no data */
  p[n] = '\0';
  return p;
}

char *hlo_arena_strdup(HloArena *a, const char *s) {
  return hlo_arena_strndup(a, s, strlen(s));
}

void *hlo_arena_memdup(HloArena *a, const void *p, size_t n) {
  void *q = hlo_arena_alloc(a, n);
  if (n) memcpy(q, p, n);
  return q;
}

/* ------------------------------------------------------------------------ */
/* Element types                                                            */
/* ------------------------------------------------------------------------ */

static const struct {
  const char *name;
  size_t size;
} type_table[] = {
#define X(e, name, bytes) {name, bytes},
    HLO_TYPES(X)
#undef X
};

const char *hlo_type_name(HloType t) {
  HLO_CHECK((unsigned)t < HLO_NUM_TYPES);
  return type_table[t].name;
}

size_t hlo_type_size(HloType t) {
  HLO_CHECK((unsigned)t < HLO_NUM_TYPES);
  return type_table[t].size;
}

bool hlo_type_from_name(const char *name, size_t n, HloType *out) {
  for (int t = 0; t < HLO_NUM_TYPES; t++) {
    if (strlen(type_table[t].name) == n && !memcmp(type_table[t].name, name, n)) {
      *out = (HloType)t;
      return true;
    }
  }
  return false;
}

bool hlo_type_is_float(HloType t) {
  return t == HLO_F16 || t == HLO_BF16 || t == HLO_F32 || t == HLO_F64 ||
         hlo_small_float(t) != NULL;
}
bool hlo_type_is_signed(HloType t) {
  return t == HLO_S8 || t == HLO_S16 || t == HLO_S32 || t == HLO_S64 || t == HLO_S2 ||
         t == HLO_S4;
}
bool hlo_type_is_unsigned(HloType t) {
  return t == HLO_U8 || t == HLO_U16 || t == HLO_U32 || t == HLO_U64 || t == HLO_U2 ||
         t == HLO_U4;
}
bool hlo_type_is_complex(HloType t) { return t == HLO_C64 || t == HLO_C128; }

int hlo_type_bits(HloType t) {
  switch (t) {
  case HLO_PRED: return 1;
  case HLO_S2: case HLO_U2: return 2;
  case HLO_S4: case HLO_U4: case HLO_F4E2M1FN: return 4;
  default: return (int)hlo_type_size(t) * 8;
  }
}

HloType hlo_complex_part_type(HloType t) {
  HLO_CHECK(hlo_type_is_complex(t));
  return t == HLO_C64 ? HLO_F32 : HLO_F64;
}

bool hlo_complex_type_of(HloType t, HloType *out) {
  if (t != HLO_F32 && t != HLO_F64) return false;
  *out = t == HLO_F32 ? HLO_C64 : HLO_C128;
  return true;
}
bool hlo_type_is_integer(HloType t) {
  return hlo_type_is_signed(t) || hlo_type_is_unsigned(t);
}
bool hlo_type_is_array(HloType t) { return t != HLO_TUPLE && t != HLO_TOKEN; }

float hlo_f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h >> 15) << 31;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else if (exp == 0) {
    /* zero or subnormal: value = mant * 2^-24 */
    float f = ldexpf((float)mant, -24);
    return sign ? -f : f;
  } else {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  }
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

uint16_t hlo_f32_to_f16(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
  uint32_t absx = x & 0x7fffffffu;
  if (absx >= 0x7f800000u) /* inf or nan (keep nan quiet) */
    return sign | 0x7c00 | (absx > 0x7f800000u ? 0x200 | ((absx >> 13) & 0x3ff) : 0);
  if (absx >= 0x477ff000u) return sign | 0x7c00; /* rounds to >= 65520: inf */
  if (absx < 0x38800000u) {
    /* result is subnormal or zero: round mant * 2^-24 to an integer */
    float a;
    memcpy(&a, &absx, 4);
    float scaled = a * 16777216.0f; /* exact: a < 2^-14 */
    return sign | (uint16_t)nearbyintf(scaled);
  }
  uint32_t mant = absx & 0x7fffff, exp = (absx >> 23) - 112;
  uint32_t half = (exp << 10) | (mant >> 13);
  uint32_t rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) half++;
  return sign | (uint16_t)half;
}

float hlo_bf16_to_f32(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

uint16_t hlo_f32_to_bf16(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40);
  uint32_t lsb = (x >> 16) & 1;
  x += 0x7fffu + lsb;
  return (uint16_t)(x >> 16);
}

/* ------------------------------------------------------------------------ */
/* Shapes                                                                   */
/* ------------------------------------------------------------------------ */

HloShape hlo_shape_array(HloType t, int rank, const int64_t *dims) {
  HLO_CHECK(rank >= 0 && rank <= HLO_MAX_RANK);
  HloShape s;
  memset(&s, 0, sizeof s);
  s.type = t;
  s.rank = rank;
  for (int i = 0; i < rank; i++) s.dims[i] = dims[i];
  return s;
}

HloShape hlo_shape_scalar(HloType t) { return hlo_shape_array(t, 0, NULL); }

HloShape hlo_shape_tuple(HloArena *a, int n, const HloShape *elems) {
  HloShape s;
  memset(&s, 0, sizeof s);
  s.type = HLO_TUPLE;
  s.ntuple = n;
  s.tuple = n ? hlo_arena_memdup(a, elems, sizeof(HloShape) * (size_t)n) : NULL;
  return s;
}

bool hlo_shape_is_tuple(const HloShape *s) { return s->type == HLO_TUPLE; }

int64_t hlo_shape_elements(const HloShape *s) {
  int64_t n = 1;
  for (int i = 0; i < s->rank; i++) n *= s->dims[i];
  return n;
}

size_t hlo_shape_byte_size(const HloShape *s) {
  return (size_t)hlo_shape_elements(s) * hlo_type_size(s->type);
}

bool hlo_dims_product(const int64_t *dims, int n, int64_t *product) {
  int64_t p = 1;
  bool ok = true;
  for (int i = 0; i < n; i++) {
    if (dims[i] < 0) return false;
    /* Keep checking signs after an overflow: a zero dim does not excuse a
     * negative one. */
    if (ok && !hlo_mul_ok(p, dims[i], &p)) ok = false;
  }
  if (ok) *product = p;
  return ok;
}

static int log2_of(int64_t v) {
  int k = 0;
  while (((int64_t)1 << k) < v) k++;
  return k;
}

static char *dims_string(const HloShape *s) {
  HloStr str = {0};
  hlo_shape_print_as(&str, s, false);
  return hlo_str_take(&str);
}

HloError *hlo_shape_check_size(const HloShape *s) {
  if (s->type == HLO_TUPLE) {
    for (int i = 0; i < s->ntuple; i++) {
      HloError *e = hlo_shape_check_size(&s->tuple[i]);
      if (e) return e;
    }
    return NULL;
  }
  for (int i = 0; i < s->rank; i++)
    if (s->dims[i] < 0) {
      char *str = dims_string(s);
      HloError *e = hlo_error("shape %s has a negative dimension", str);
      free(str);
      return e;
    }
  int64_t n, bytes;
  bool fits = hlo_dims_product(s->dims, s->rank, &n) &&
              hlo_mul_ok(n, (int64_t)hlo_type_size(s->type), &bytes) &&
              bytes <= HLO_MAX_BUFFER_BYTES;
  if (fits) return NULL;
  char *str = dims_string(s);
  HloError *e = hlo_error("shape %s is too large: one buffer holds at most 2^%d bytes", str,
                          log2_of(HLO_MAX_BUFFER_BYTES));
  free(str);
  return e;
}

bool hlo_shape_has_default_layout(const HloShape *s) {
  if (!s->has_layout) return true;
  for (int i = 0; i < s->rank; i++)
    if (s->minor_to_major[i] != s->rank - 1 - i) return false;
  return true;
}

void hlo_shape_set_default_layout(HloShape *s) {
  s->has_layout = true;
  for (int i = 0; i < s->rank; i++) s->minor_to_major[i] = (int8_t)(s->rank - 1 - i);
}

bool hlo_shape_same_dims(const HloShape *a, const HloShape *b) {
  if (a->rank != b->rank) return false;
  for (int i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i]) return false;
  return true;
}

int hlo_reshape_groups(const HloShape *from, const HloShape *to, int *fs, int *ts) {
  if (hlo_shape_elements(from) != hlo_shape_elements(to) || hlo_shape_elements(from) == 0)
    return -1;
  int i = 0, j = 0, n = 0;
  while (i < from->rank || j < to->rank) {
    fs[n] = i;
    ts[n] = j;
    int64_t pf = 1, pt = 1;
    /* Each run takes one dim of either at least, then the smaller
     * product grows until they meet; trailing 1s join the last run. */
    do {
      if (i < from->rank && (pf <= pt || j == to->rank)) pf *= from->dims[i++];
      else pt *= to->dims[j++];
    } while (pf != pt || (i < from->rank && from->dims[i] == 1 && j == to->rank) ||
             (j < to->rank && to->dims[j] == 1 && i == from->rank));
    n++;
  }
  fs[n] = i;
  ts[n] = j;
  return n;
}

bool hlo_shape_equal(const HloShape *a, const HloShape *b, bool with_layout) {
  if (a->type != b->type) return false;
  if (a->type == HLO_TUPLE) {
    if (a->ntuple != b->ntuple) return false;
    for (int i = 0; i < a->ntuple; i++)
      if (!hlo_shape_equal(&a->tuple[i], &b->tuple[i], with_layout)) return false;
    return true;
  }
  if (!hlo_shape_same_dims(a, b)) return false;
  if (with_layout) {
    bool da = hlo_shape_has_default_layout(a), db = hlo_shape_has_default_layout(b);
    if (da != db) return false;
    if (!da)
      for (int i = 0; i < a->rank; i++)
        if (a->minor_to_major[i] != b->minor_to_major[i]) return false;
  }
  return true;
}

void hlo_shape_print_as(HloStr *out, const HloShape *s, bool layout) {
  if (s->type == HLO_TUPLE) {
    hlo_str_append(out, "(", 1);
    for (int i = 0; i < s->ntuple; i++) {
      if (i) hlo_str_append(out, ", ", 2);
      hlo_shape_print_as(out, &s->tuple[i], layout);
    }
    hlo_str_append(out, ")", 1);
    return;
  }
  if (s->is_buffer) {
    HloShape a = *s;
    a.is_buffer = false;
    hlo_str_append(out, "b(", 2);
    hlo_shape_print_as(out, &a, layout);
    hlo_str_append(out, ")", 1);
    return;
  }
  hlo_str_printf(out, "%s", hlo_type_name(s->type));
  hlo_str_append(out, "[", 1);
  for (int i = 0; i < s->rank; i++) {
    if (i) hlo_str_append(out, ",", 1);
    if (s->unbounded >> i & 1)
      hlo_str_append(out, "?", 1);
    else
      hlo_str_printf(out, "%s%lld", s->dynamic >> i & 1 ? "<=" : "", (long long)s->dims[i]);
  }
  hlo_str_append(out, "]", 1);
  if (s->rank == 0 || !layout) return;
  hlo_str_append(out, "{", 1);
  for (int i = 0; i < s->rank; i++) {
    int d = s->has_layout ? s->minor_to_major[i] : s->rank - 1 - i;
    hlo_str_printf(out, i ? ",%d" : "%d", d);
  }
  hlo_str_append(out, "}", 1);
}

void hlo_shape_print(HloStr *out, const HloShape *s) { hlo_shape_print_as(out, s, true); }

bool hlo_shape_has_buffer(const HloShape *s) {
  if (s->type != HLO_TUPLE) return s->is_buffer;
  for (int i = 0; i < s->ntuple; i++)
    if (hlo_shape_has_buffer(&s->tuple[i])) return true;
  return false;
}

bool hlo_shape_is_unbounded(const HloShape *s) {
  if (s->type != HLO_TUPLE) return s->unbounded != 0;
  for (int i = 0; i < s->ntuple; i++)
    if (hlo_shape_is_unbounded(&s->tuple[i])) return true;
  return false;
}

bool hlo_shape_fits(const HloShape *v, const HloShape *declared) {
  if (v->type != declared->type) return false;
  if (v->type == HLO_TUPLE) {
    if (v->ntuple != declared->ntuple) return false;
    for (int i = 0; i < v->ntuple; i++)
      if (!hlo_shape_fits(&v->tuple[i], &declared->tuple[i])) return false;
    return true;
  }
  if (v->rank != declared->rank) return false;
  for (int d = 0; d < v->rank; d++) {
    bool dyn = declared->dynamic >> d & 1;
    if (dyn ? v->dims[d] > declared->dims[d] : v->dims[d] != declared->dims[d]) return false;
  }
  return true;
}

bool hlo_shape_is_dynamic(const HloShape *s) {
  if (s->type != HLO_TUPLE) return s->dynamic != 0;
  for (int i = 0; i < s->ntuple; i++)
    if (hlo_shape_is_dynamic(&s->tuple[i])) return true;
  return false;
}

char *hlo_shape_to_string(const HloShape *s) {
  HloStr out = {0};
  hlo_shape_print(&out, s);
  return hlo_str_take(&out);
}

void hlo_shape_strides(const HloShape *s, int64_t *strides) {
  int64_t st = 1;
  for (int i = s->rank - 1; i >= 0; i--) {
    strides[i] = st;
    st *= s->dims[i];
  }
}

/* ------------------------------------------------------------------------ */
/* Literals                                                                 */
/* ------------------------------------------------------------------------ */

/* Heap literals copy tuple element shapes into one malloc'd array owned by
 * the literal (freed with it); arena literals copy them into the arena. */

static HloLiteral *literal_new_heap(const HloShape *shape) {
  HloLiteral *l = hlo_xcalloc(1, sizeof *l);
  l->shape = *shape;
  if (shape->type == HLO_TUPLE) {
    HloShape *el = hlo_xcalloc((size_t)(shape->ntuple ? shape->ntuple : 1), sizeof(HloShape));
    l->elems = hlo_xcalloc((size_t)(shape->ntuple ? shape->ntuple : 1), sizeof(HloLiteral *));
    for (int i = 0; i < shape->ntuple; i++) {
      l->elems[i] = literal_new_heap(&shape->tuple[i]);
      el[i] = l->elems[i]->shape;
    }
    l->shape.tuple = el;
  } else {
    l->data = hlo_xcalloc(1, hlo_shape_byte_size(shape));
  }
  return l;
}

HloLiteral *hlo_literal_new(const HloShape *shape) { return literal_new_heap(shape); }

HloLiteral *hlo_literal_clone(const HloLiteral *src) {
  if (src->shape.type == HLO_TUPLE) {
    int n = src->shape.ntuple;
    HloLiteral **elems = hlo_xcalloc((size_t)(n ? n : 1), sizeof *elems);
    for (int i = 0; i < n; i++) elems[i] = hlo_literal_clone(src->elems[i]);
    HloLiteral *l = hlo_literal_tuple(elems, n);
    free(elems);
    return l;
  }
  HloLiteral *l = literal_new_heap(&src->shape);
  memcpy(l->data, src->data, hlo_shape_byte_size(&src->shape));
  return l;
}

void hlo_literal_free(HloLiteral *l) {
  if (!l) return;
  if (l->shape.type == HLO_TUPLE) {
    for (int i = 0; i < l->shape.ntuple; i++) hlo_literal_free(l->elems[i]);
    free(l->elems);
    free((void *)l->shape.tuple);
  }
  free(l->data);
  free(l);
}

HloLiteral *hlo_literal_tuple(HloLiteral **elems, int n) {
  HloLiteral *l = hlo_xcalloc(1, sizeof *l);
  l->shape.type = HLO_TUPLE;
  l->shape.ntuple = n;
  HloShape *el = hlo_xcalloc((size_t)(n ? n : 1), sizeof(HloShape));
  l->elems = hlo_xcalloc((size_t)(n ? n : 1), sizeof(HloLiteral *));
  for (int i = 0; i < n; i++) {
    l->elems[i] = elems[i];
    el[i] = elems[i]->shape;
  }
  l->shape.tuple = el;
  return l;
}

HloLiteral *hlo_literal_new_in(HloArena *a, const HloShape *shape) {
  HloLiteral *l = hlo_arena_alloc(a, sizeof *l);
  l->shape = *shape;
  if (shape->type == HLO_TUPLE) {
    HloShape *el = hlo_arena_alloc(a, sizeof(HloShape) * (size_t)(shape->ntuple + 1));
    l->elems = hlo_arena_alloc(a, sizeof(HloLiteral *) * (size_t)(shape->ntuple + 1));
    for (int i = 0; i < shape->ntuple; i++) {
      l->elems[i] = hlo_literal_new_in(a, &shape->tuple[i]);
      el[i] = l->elems[i]->shape;
    }
    l->shape.tuple = el;
  } else {
    size_t bytes = hlo_shape_byte_size(shape);
    l->data = bytes > ARENA_CHUNK / 4 ? hlo_arena_alloc_block(a, bytes) : hlo_arena_alloc(a, bytes);
  }
  return l;
}

HloLiteral *hlo_literal_clone_in(HloArena *a, const HloLiteral *src) {
  HloLiteral *l = hlo_literal_new_in(a, &src->shape);
  if (src->shape.type == HLO_TUPLE) {
    for (int i = 0; i < src->shape.ntuple; i++)
      l->elems[i] = hlo_literal_clone_in(a, src->elems[i]);
  } else {
    memcpy(l->data, src->data, hlo_shape_byte_size(&src->shape));
  }
  return l;
}

double hlo_literal_get_f64(const HloLiteral *l, int64_t i) {
  const void *p = l->data;
  switch (l->shape.type) {
  case HLO_PRED: return ((const uint8_t *)p)[i] != 0;
  case HLO_S8: return ((const int8_t *)p)[i];
  case HLO_S16: return ((const int16_t *)p)[i];
  case HLO_S32: return ((const int32_t *)p)[i];
  case HLO_S64: return (double)((const int64_t *)p)[i];
  case HLO_U8: return ((const uint8_t *)p)[i];
  case HLO_U16: return ((const uint16_t *)p)[i];
  case HLO_U32: return ((const uint32_t *)p)[i];
  case HLO_U64: return (double)((const uint64_t *)p)[i];
  case HLO_F16: return hlo_f16_to_f32(((const uint16_t *)p)[i]);
  case HLO_BF16: return hlo_bf16_to_f32(((const uint16_t *)p)[i]);
  case HLO_F32: return ((const float *)p)[i];
  case HLO_F64: return ((const double *)p)[i];
  case HLO_S2: case HLO_S4: return ((const int8_t *)p)[i];
  case HLO_U2: case HLO_U4: return ((const uint8_t *)p)[i];
  /* A complex number's real part, as converting it to a real type would. */
  case HLO_C64: return ((const float *)p)[2 * i];
  case HLO_C128: return ((const double *)p)[2 * i];
  default: return hlo_small_to_f32(l->shape.type, ((const uint8_t *)p)[i]);
  }
}

/* v in [lo, hi] (NaN: 0), so that converting it to an integer type is
 * defined: an infinite or huge double saturates. */
static double clamped(double v, double lo, double hi) {
  return v != v ? 0 : v < lo ? lo : v > hi ? hi : v;
}

void hlo_literal_set_f64(HloLiteral *l, int64_t i, double v) {
  void *p = l->data;
  /* The largest doubles below 2^63 and 2^64. */
  const double s64_max = 9223372036854774784.0, u64_max = 18446744073709549568.0;
  switch (l->shape.type) {
  case HLO_PRED: ((uint8_t *)p)[i] = v != 0; break;
  case HLO_S8: ((int8_t *)p)[i] = (int8_t)clamped(v, INT8_MIN, INT8_MAX); break;
  case HLO_S16: ((int16_t *)p)[i] = (int16_t)clamped(v, INT16_MIN, INT16_MAX); break;
  case HLO_S32: ((int32_t *)p)[i] = (int32_t)clamped(v, INT32_MIN, INT32_MAX); break;
  case HLO_S64: ((int64_t *)p)[i] = (int64_t)clamped(v, (double)INT64_MIN, s64_max); break;
  case HLO_U8: ((uint8_t *)p)[i] = (uint8_t)clamped(v, 0, UINT8_MAX); break;
  case HLO_U16: ((uint16_t *)p)[i] = (uint16_t)clamped(v, 0, UINT16_MAX); break;
  case HLO_U32: ((uint32_t *)p)[i] = (uint32_t)clamped(v, 0, UINT32_MAX); break;
  case HLO_U64: ((uint64_t *)p)[i] = (uint64_t)clamped(v, 0, u64_max); break;
  case HLO_F16: ((uint16_t *)p)[i] = hlo_f32_to_f16((float)v); break;
  case HLO_BF16: ((uint16_t *)p)[i] = hlo_f32_to_bf16((float)v); break;
  case HLO_F32: ((float *)p)[i] = (float)v; break;
  case HLO_F64: ((double *)p)[i] = v; break;
  case HLO_S2: ((int8_t *)p)[i] = (int8_t)clamped(v, -2, 1); break;
  case HLO_S4: ((int8_t *)p)[i] = (int8_t)clamped(v, -8, 7); break;
  case HLO_U2: ((uint8_t *)p)[i] = (uint8_t)clamped(v, 0, 3); break;
  case HLO_U4: ((uint8_t *)p)[i] = (uint8_t)clamped(v, 0, 15); break;
  case HLO_C64: ((float *)p)[2 * i] = (float)v; ((float *)p)[2 * i + 1] = 0; break;
  case HLO_C128: ((double *)p)[2 * i] = v; ((double *)p)[2 * i + 1] = 0; break;
  default: ((uint8_t *)p)[i] = hlo_small_from_f64(l->shape.type, v); break;
  }
}

int64_t hlo_literal_get_s64(const HloLiteral *l, int64_t i) {
  const void *p = l->data;
  switch (l->shape.type) {
  case HLO_PRED: return ((const uint8_t *)p)[i] != 0;
  case HLO_S8: return ((const int8_t *)p)[i];
  case HLO_S16: return ((const int16_t *)p)[i];
  case HLO_S32: return ((const int32_t *)p)[i];
  case HLO_S64: return ((const int64_t *)p)[i];
  case HLO_U8: return ((const uint8_t *)p)[i];
  case HLO_U16: return ((const uint16_t *)p)[i];
  case HLO_U32: return ((const uint32_t *)p)[i];
  case HLO_U64: return (int64_t)((const uint64_t *)p)[i];
  case HLO_S2: case HLO_S4: return ((const int8_t *)p)[i];
  case HLO_U2: case HLO_U4: return ((const uint8_t *)p)[i];
  default: return (int64_t)hlo_literal_get_f64(l, i);
  }
}

void hlo_literal_set_s64(HloLiteral *l, int64_t i, int64_t v) {
  void *p = l->data;
  switch (l->shape.type) {
  case HLO_PRED: ((uint8_t *)p)[i] = v != 0; break;
  case HLO_S8: ((int8_t *)p)[i] = (int8_t)v; break;
  case HLO_S16: ((int16_t *)p)[i] = (int16_t)v; break;
  case HLO_S32: ((int32_t *)p)[i] = (int32_t)v; break;
  case HLO_S64: ((int64_t *)p)[i] = v; break;
  case HLO_U8: ((uint8_t *)p)[i] = (uint8_t)v; break;
  case HLO_U16: ((uint16_t *)p)[i] = (uint16_t)v; break;
  case HLO_U32: ((uint32_t *)p)[i] = (uint32_t)v; break;
  case HLO_U64: ((uint64_t *)p)[i] = (uint64_t)v; break;
  case HLO_S2: case HLO_S4: case HLO_U2: case HLO_U4:
    ((int8_t *)p)[i] = (int8_t)hlo_small_int_wrap(l->shape.type, v);
    break;
  default: hlo_literal_set_f64(l, i, (double)v); break;
  }
}

bool hlo_literal_equal(const HloLiteral *a, const HloLiteral *b) {
  if (!hlo_shape_equal(&a->shape, &b->shape, false)) return false;
  if (a->shape.type == HLO_TUPLE) {
    for (int i = 0; i < a->shape.ntuple; i++)
      if (!hlo_literal_equal(a->elems[i], b->elems[i])) return false;
    return true;
  }
  return !memcmp(a->data, b->data, hlo_shape_byte_size(&a->shape));
}

/* ------------------------------------------------------------------------ */
/* Opcodes                                                                  */
/* ------------------------------------------------------------------------ */

static const struct {
  const char *name;
  int arity;
  HloOpKind kind;
  HloCost cost;
} opcode_table[] = {
#define X(e, name, arity, kind, cost) {name, arity, kind, cost},
    HLO_OPCODES(X)
#undef X
};

const char *hlo_opcode_name(HloOpcode op) {
  HLO_CHECK((unsigned)op < HLO_NUM_OPCODES);
  return opcode_table[op].name;
}

int hlo_opcode_arity(HloOpcode op) {
  HLO_CHECK((unsigned)op < HLO_NUM_OPCODES);
  return opcode_table[op].arity;
}

HloOpKind hlo_opcode_kind(HloOpcode op) {
  HLO_CHECK((unsigned)op < HLO_NUM_OPCODES);
  return opcode_table[op].kind;
}

HloCost hlo_opcode_cost(HloOpcode op) {
  HLO_CHECK((unsigned)op < HLO_NUM_OPCODES);
  return opcode_table[op].cost;
}

bool hlo_opcode_from_name(const char *name, size_t n, HloOpcode *out) {
  for (int op = 0; op < HLO_NUM_OPCODES; op++) {
    const char *s = opcode_table[op].name;
    if (strlen(s) == n && !memcmp(s, name, n)) {
      *out = (HloOpcode)op;
      return true;
    }
  }
  return false;
}

/* Why each HLO_KIND_REFUSED opcode is refused: what hlo_verify says
 * instead of compiling something else.  Names as XLA's hlo_opcode.h
 * spells them. */
#define DEVICES ": hloc compiles single-device programs, without host transfers"
#define NOT_YET ", which hloc does not implement yet"
static const char *const refusals[HLO_NUM_OPCODES] = {
    [HLO_OP_SEND] = "sends data to another device or the host" DEVICES,
    [HLO_OP_SEND_DONE] = "completes a send to another device or the host" DEVICES,
    [HLO_OP_RECV] = "receives data from another device or the host" DEVICES,
    [HLO_OP_RECV_DONE] = "completes a receive from another device or the host" DEVICES,
    [HLO_OP_INFEED] = "reads data the host streams in while the program runs" DEVICES,
    [HLO_OP_OUTFEED] = "streams data out to the host while the program runs" DEVICES,
    [HLO_OP_RAGGED_ALL_TO_ALL] = "exchanges ragged slices between devices" DEVICES,
    [HLO_OP_COLLECTIVE_REDUCE] = "reduces across devices" DEVICES,
    [HLO_OP_RNG_GET_AND_UPDATE_STATE] =
        "advances a device's random-number state, which hloc has not",
    [HLO_OP_MULHI] = "is an XLA op" NOT_YET,
    [HLO_OP_SCAN] = "is an XLA op" NOT_YET,
    [HLO_OP_SHUFFLE] = "is an XLA op" NOT_YET,
};
#undef DEVICES
#undef NOT_YET

const char *hlo_opcode_refusal(HloOpcode op) {
  HLO_CHECK((unsigned)op < HLO_NUM_OPCODES);
  const char *why = refusals[op];
  HLO_CHECK((why != NULL) == (opcode_table[op].kind == HLO_KIND_REFUSED));
  return why;
}

bool hlo_opcode_is_elementwise(HloOpcode op) {
  HloOpKind k = hlo_opcode_kind(op);
  return k == HLO_KIND_UNARY || k == HLO_KIND_BINARY || k == HLO_KIND_TERNARY;
}

bool hlo_is_custom_call_to(const HloInstr *x, const char *target) {
  return x->op == HLO_OP_CUSTOM_CALL && x->custom_call_target &&
         !strcmp(x->custom_call_target, target);
}

bool hlo_custom_call_allocates(const HloInstr *x) {
  return (hlo_is_custom_call_to(x, "CreateBuffer") || hlo_is_custom_call_to(x, "AllocateBuffer")) &&
         x->noperands == 0 && hlo_type_is_array(x->shape.type);
}

bool hlo_custom_call_is_identity(const HloInstr *x) {
  static const char *const targets[] = {"Sharding",         "SPMDFullToShardShape",
                                        "SPMDShardToFullShape", "MoveToHost",
                                        "MoveToDevice",     "annotate_device_placement",
                                        "ShardBarrierFrom", "ShardBarrierTo",
                                        "Pin",              "Unpin",
                                        "LayoutConstraint"};
  if (x->op != HLO_OP_CUSTOM_CALL || x->noperands != 1 || !x->custom_call_target ||
      !hlo_shape_equal(&x->shape, &x->operands[0]->shape, false))
    return false;
  for (size_t i = 0; i < sizeof targets / sizeof *targets; i++)
    if (!strcmp(x->custom_call_target, targets[i])) return true;
  return false;
}

/* The number NAME = N carries in x's backend_config ({uplo = 76 : ui8,
 * …}), or -1. */
static int backend_char(const HloInstr *x, const char *name) {
  for (int i = 0; i < x->nraw; i++) {
    if (strcmp(x->raw[i].name, "backend_config")) continue;
    size_t n = strlen(name);
    for (const char *p = x->raw[i].value; (p = strstr(p, name)); p += n) {
      if (p > x->raw[i].value && (isalnum((unsigned char)p[-1]) || p[-1] == '_')) continue;
      const char *q = p + n;
      while (*q == ' ') q++;
      if (*q++ != '=') continue;
      while (*q == ' ') q++;
      if (!isdigit((unsigned char)*q)) return -1;
      long v = strtol(q, NULL, 10);
      return v >= 0 && v < 256 ? (int)v : -1;
    }
  }
  return -1;
}

HloLapackCall hlo_lapack_call(const HloInstr *x) {
  HloLapackCall none = {HLO_LAPACK_NONE, false, false, false, HLO_TRANSPOSE_NONE}, c = none;
  const char *t = x->custom_call_target;
  if (x->op != HLO_OP_CUSTOM_CALL || !t || strncmp(t, "lapack_", 7) || !t[7]) return none;
  /* c and z (c64, c128) wait for cholesky and triangular-solve of complex
   * types, which the verifier refuses. */
  static const char letters[] = "sd";
  static const HloType types[] = {HLO_F32, HLO_F64};
  const char *l = strchr(letters, t[7]);
  if (!l || !*l) return none;
  HloType type = types[l - letters];
  if (!strcmp(t + 8, "potrf_ffi") && x->noperands == 1) c.kind = HLO_LAPACK_POTRF;
  else if (!strcmp(t + 8, "trsm_ffi") && x->noperands == 2) c.kind = HLO_LAPACK_TRSM;
  else return none;
  const HloShape *a = &x->operands[0]->shape;
  int r = a->rank;
  if (a->type != type || r < 2 || a->dims[r - 1] != a->dims[r - 2]) return none;
  int uplo = backend_char(x, "uplo");
  if (uplo != 'L' && uplo != 'U') return none;
  c.lower = uplo == 'L';
  if (c.kind == HLO_LAPACK_POTRF) {
    /* (factor, info): info one s32 per matrix of the batch */
    const HloShape *s = &x->shape;
    if (s->type != HLO_TUPLE || s->ntuple != 2 || !hlo_shape_same_dims(&s->tuple[0], a) ||
        s->tuple[0].type != type || s->tuple[1].type != HLO_S32 || s->tuple[1].rank != r - 2)
      return none;
    for (int i = 0; i < r - 2; i++)
      if (s->tuple[1].dims[i] != a->dims[i]) return none;
    return c;
  }
  const HloShape *b = &x->operands[1]->shape;
  int side = backend_char(x, "side"), trans = backend_char(x, "trans_x"),
      diag = backend_char(x, "diag");
  if ((side != 'L' && side != 'R') || (diag != 'N' && diag != 'U') ||
      (trans != 'N' && trans != 'T' && trans != 'C'))
    return none;
  c.left_side = side == 'L';
  c.unit_diagonal = diag == 'U';
  c.transpose_a = trans == 'N' ? HLO_TRANSPOSE_NO : trans == 'T' ? HLO_TRANSPOSE_YES
                                                                 : HLO_TRANSPOSE_ADJOINT;
  if (b->type != type || b->rank != r || b->dims[c.left_side ? r - 2 : r - 1] != a->dims[r - 1] ||
      !hlo_shape_same_dims(&x->shape, b) || x->shape.type != type)
    return none;
  for (int i = 0; i < r - 2; i++)
    if (b->dims[i] != a->dims[i]) return none;
  return c;
}

bool hlo_instr_is_reshape(const HloInstr *x) {
  if (x->op == HLO_OP_RESHAPE) return true;
  if (x->op != HLO_OP_BITCAST) return false;
  const HloShape *from = &x->operands[0]->shape;
  return x->shape.type == from->type && hlo_shape_has_default_layout(&x->shape) &&
         hlo_shape_has_default_layout(from);
}

/* ------------------------------------------------------------------------ */
/* Name table: open addressing over arena-owned strings                      */
/* ------------------------------------------------------------------------ */

struct HloNameTable {
  size_t cap, count;
  const char **slots;
};

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static bool names_contains(const struct HloNameTable *t, const char *s) {
  if (!t->cap) return false;
  for (size_t i = hash_str(s) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
    if (!t->slots[i]) return false;
    if (!strcmp(t->slots[i], s)) return true;
  }
}

static void names_insert(struct HloNameTable *t, const char *s) {
  if ((t->count + 1) * 2 > t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 256;
    const char **slots = hlo_xcalloc(cap, sizeof *slots);
    for (size_t i = 0; i < t->cap; i++) {
      if (!t->slots[i]) continue;
      size_t j = hash_str(t->slots[i]) & (cap - 1);
      while (slots[j]) j = (j + 1) & (cap - 1);
      slots[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
  }
  size_t j = hash_str(s) & (t->cap - 1);
  while (t->slots[j]) j = (j + 1) & (t->cap - 1);
  t->slots[j] = s;
  t->count++;
}

/* Returns name itself when unused, else "name.N" for the first free N. */
static const char *unique_name(HloModule *m, const char *name) {
  const char *result = hlo_arena_strdup(m->arena, name);
  if (names_contains(m->names, result)) {
    /* Strip an existing ".N" suffix so repeated uniquing stays short. */
    size_t len = strlen(name);
    size_t base = len;
    while (base > 0 && name[base - 1] >= '0' && name[base - 1] <= '9') base--;
    if (base > 0 && base < len && name[base - 1] == '.') len = base - 1;
    char buf[512];
    do {
      snprintf(buf, sizeof buf, "%.*s.%lld", (int)(len > 400 ? 400 : len), name,
               (long long)++m->next_name_suffix);
    } while (names_contains(m->names, buf));
    result = hlo_arena_strdup(m->arena, buf);
  }
  names_insert(m->names, result);
  return result;
}

/* ------------------------------------------------------------------------ */
/* Module and computations                                                  */
/* ------------------------------------------------------------------------ */

HloModule *hlo_module_new(const char *name) {
  HloModule *m = hlo_xcalloc(1, sizeof *m);
  m->arena = hlo_arena_new();
  m->name = hlo_arena_strdup(m->arena, name);
  m->names = hlo_xcalloc(1, sizeof *m->names);
  return m;
}

void hlo_module_free(HloModule *m) {
  if (!m) return;
  free(m->names->slots);
  free(m->names);
  hlo_arena_free(m->arena);
  free(m);
}

/* The payloads of l (a tuple's elements') into *live. */
static void live_payloads(const HloLiteral *l, const unsigned char ***live, size_t *n,
                          size_t *cap) {
  if (l->shape.type == HLO_TUPLE) {
    for (int i = 0; i < l->shape.ntuple; i++) live_payloads(l->elems[i], live, n, cap);
    return;
  }
  if (*n == *cap) {
    *cap = *cap ? 2 * *cap : 64;
    *live = hlo_xrealloc(*live, *cap * sizeof **live);
  }
  (*live)[(*n)++] = l->data;
}

static int compare_ptr(const void *a, const void *b) {
  uintptr_t x = (uintptr_t) * (const unsigned char *const *)a;
  uintptr_t y = (uintptr_t) * (const unsigned char *const *)b;
  return x < y ? -1 : x > y;
}

size_t hlo_arena_release_unless(HloArena *a, const void **live, size_t n) {
  if (n) qsort(live, n, sizeof *live, compare_ptr);
  /* A block stays while any live pointer lies in it (a literal sharing
   * or pointing into another's bytes keeps them). */
  size_t freed = 0;
  for (ArenaChunk *b = a->blocks, *next; b; b = next) {
    next = b->next;
    size_t lo = 0, hi = n;
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if ((uintptr_t)live[mid] < (uintptr_t)b->data) lo = mid + 1;
      else hi = mid;
    }
    if (lo < n && (uintptr_t)live[lo] < (uintptr_t)b->data + b->size) continue;
    freed += b->size;
    hlo_arena_release(a, b->data);
  }
  return freed;
}

size_t hlo_module_release_dead_literals(HloModule *m) {
  const unsigned char **live = NULL;
  size_t n = 0, cap = 0;
  for (const HloComputation *c = m->first; c; c = c->next)
    for (const HloInstr *x = c->first; x; x = x->next)
      if (x->op == HLO_OP_CONSTANT && x->literal) live_payloads(x->literal, &live, &n, &cap);
  size_t freed = hlo_arena_release_unless(m->arena, (const void **)live, n);
  free(live);
  return freed;
}

HloComputation *hlo_computation_new(HloModule *m, const char *name) {
  HloComputation *c = hlo_arena_alloc(m->arena, sizeof *c);
  c->module = m;
  /* Computation names share the module's name space with instructions, as
   * XLA's printer does not distinguish them in references. */
  c->name = unique_name(m, name);
  c->prev = m->last;
  if (m->last) m->last->next = c;
  else m->first = c;
  m->last = c;
  return c;
}

void hlo_module_set_entry(HloModule *m, HloComputation *c) {
  if (m->entry) m->entry->is_entry = false;
  m->entry = c;
  c->is_entry = true;
}

HloComputation *hlo_module_find_computation(const HloModule *m, const char *name) {
  for (HloComputation *c = m->first; c; c = c->next)
    if (!strcmp(c->name, name)) return c;
  return NULL;
}

void hlo_computation_remove(HloComputation *c) {
  HloModule *m = c->module;
  HLO_CHECK(m->entry != c);
  if (c->prev) c->prev->next = c->next;
  else m->first = c->next;
  if (c->next) c->next->prev = c->prev;
  else m->last = c->prev;
  c->prev = c->next = NULL;
}

/* ------------------------------------------------------------------------ */
/* Instructions and edges                                                   */
/* ------------------------------------------------------------------------ */

/* Appends user to op's users without looking for it first: for callers
 * that know user is not there yet. */
static void append_user(HloInstr *op, HloInstr *user) {
  if (op->nusers == op->users_cap) {
    HloArena *a = op->parent->module->arena;
    int cap = op->users_cap ? op->users_cap * 2 : 4;
    HloInstr **users = hlo_arena_alloc(a, sizeof(HloInstr *) * (size_t)cap);
    if (op->nusers) memcpy(users, op->users, sizeof(HloInstr *) * (size_t)op->nusers);
    op->users = users;
    op->users_cap = cap;
  }
  op->users[op->nusers++] = user;
}

static void add_user(HloInstr *op, HloInstr *user) {
  for (int i = 0; i < op->nusers; i++)
    if (op->users[i] == user) return;
  append_user(op, user);
}

static bool uses(const HloInstr *user, const HloInstr *op) {
  for (int i = 0; i < user->noperands; i++)
    if (user->operands[i] == op) return true;
  return false;
}

/* Drops user from op's list unless user still refers to op. */
static void maybe_remove_user(HloInstr *op, HloInstr *user) {
  if (uses(user, op)) return;
  for (int i = 0; i < op->nusers; i++) {
    if (op->users[i] == user) {
      memmove(&op->users[i], &op->users[i + 1],
              sizeof(HloInstr *) * (size_t)(op->nusers - i - 1));
      op->nusers--;
      return;
    }
  }
}

HloInstr *hlo_instr_new(HloComputation *c, HloOpcode op, const HloShape *shape,
                        HloInstr *const *ops, int n, const char *name) {
  HloModule *m = c->module;
  HloInstr *in = hlo_arena_alloc(m->arena, sizeof *in);
  in->op = op;
  in->id = m->next_id++;
  in->shape = *shape;
  if (shape->type == HLO_TUPLE && shape->ntuple)
    in->shape.tuple = hlo_arena_memdup(m->arena, shape->tuple,
                                       sizeof(HloShape) * (size_t)shape->ntuple);
  in->parent = c;
  in->name = unique_name(m, name ? name : hlo_opcode_name(op));
  in->feature_group_count = 1;
  in->batch_group_count = 1;
  in->prev = c->last;
  if (c->last) c->last->next = in;
  else c->first = in;
  c->last = in;
  in->noperands = n;
  in->operands = hlo_arena_alloc(m->arena, sizeof(HloInstr *) * (size_t)(n ? n : 1));
  /* `in` is new, so it is a user of ops[i] already only when an earlier
   * operand is the same instruction: no scan of long user lists. */
  for (int i = 0; i < n; i++) {
    HLO_CHECK(ops[i] && ops[i]->parent == c);
    in->operands[i] = ops[i];
    bool seen = false;
    for (int k = 0; k < i && !seen; k++) seen = ops[k] == ops[i];
    if (!seen) append_user(ops[i], in);
  }
  return in;
}

HloInstr *hlo_parameter_new(HloComputation *c, int64_t number, const HloShape *shape,
                            const char *name) {
  HloInstr *p = hlo_instr_new(c, HLO_OP_PARAMETER, shape, NULL, 0, name);
  p->parameter_number = number;
  HLO_CHECK(number >= 0);
  if (number >= c->params_cap) {
    int cap = c->params_cap ? c->params_cap : 4;
    while (cap <= number) cap *= 2;
    HloInstr **params = hlo_arena_alloc(c->module->arena, sizeof(HloInstr *) * (size_t)cap);
    if (c->nparams) memcpy(params, c->params, sizeof(HloInstr *) * (size_t)c->nparams);
    c->params = params;
    c->params_cap = cap;
  }
  c->params[number] = p;
  if (number >= c->nparams) c->nparams = (int)number + 1;
  return p;
}

HloInstr *hlo_constant_new(HloComputation *c, HloLiteral *lit, const char *name) {
  HloInstr *k = hlo_instr_new(c, HLO_OP_CONSTANT, &lit->shape, NULL, 0, name);
  k->literal = lit;
  return k;
}

HloInstr *hlo_instr_clone(HloComputation *dst, const HloInstr *src, HloInstr *const *ops,
                          int n) {
  HloInstr *k = src->op == HLO_OP_PARAMETER
                    ? hlo_parameter_new(dst, src->parameter_number, &src->shape, src->name)
                    : hlo_instr_new(dst, src->op, &src->shape, ops, n, src->name);
  /* Copy every attribute, then restore what makes k a node of dst. */
  HloInstr keep = *k;
  *k = *src;
  k->name = keep.name;
  k->id = keep.id;
  k->shape = keep.shape;
  k->parent = keep.parent;
  k->prev = keep.prev;
  k->next = keep.next;
  k->noperands = keep.noperands;
  k->operands = keep.operands;
  k->nusers = keep.nusers;
  k->users_cap = keep.users_cap;
  k->users = keep.users;
  return k;
}

static void list_unlink(HloInstr *in) {
  HloComputation *c = in->parent;
  if (in->prev) in->prev->next = in->next;
  else c->first = in->next;
  if (in->next) in->next->prev = in->prev;
  else c->last = in->prev;
  in->prev = in->next = NULL;
}

void hlo_instr_move_before(HloInstr *in, HloInstr *before) {
  HLO_CHECK(in->parent == before->parent);
  if (in == before) return;
  list_unlink(in);
  HloComputation *c = in->parent;
  in->next = before;
  in->prev = before->prev;
  if (before->prev) before->prev->next = in;
  else c->first = in;
  before->prev = in;
}

void hlo_instr_set_called(HloInstr *in, HloComputation *const *called, int n) {
  in->ncalled = n;
  in->called = hlo_arena_alloc(in->parent->module->arena,
                               sizeof(HloComputation *) * (size_t)(n ? n : 1));
  for (int i = 0; i < n; i++) in->called[i] = called[i];
}

void hlo_instr_set_dims(HloInstr *in, HloDims *field, const int64_t *v, int n) {
  field->n = n;
  field->v = hlo_arena_alloc(in->parent->module->arena, sizeof(int64_t) * (size_t)(n ? n : 1));
  for (int i = 0; i < n; i++) field->v[i] = v[i];
}

void hlo_instr_add_raw(HloInstr *in, const char *name, const char *value) {
  HloArena *a = in->parent->module->arena;
  HloRawAttr *raw = hlo_arena_alloc(a, sizeof(HloRawAttr) * (size_t)(in->nraw + 1));
  if (in->nraw) memcpy(raw, in->raw, sizeof(HloRawAttr) * (size_t)in->nraw);
  raw[in->nraw].name = hlo_arena_strdup(a, name);
  raw[in->nraw].value = hlo_arena_strdup(a, value);
  in->raw = raw;
  in->nraw++;
}

void hlo_set_root(HloComputation *c, HloInstr *root) {
  HLO_CHECK(root->parent == c);
  c->root = root;
}

void hlo_set_operand(HloInstr *in, int i, HloInstr *op) {
  HLO_CHECK(i >= 0 && i < in->noperands && op->parent == in->parent);
  HloInstr *old = in->operands[i];
  in->operands[i] = op;
  if (old != op) maybe_remove_user(old, in);
  add_user(op, in);
}

void hlo_set_operands(HloInstr *in, HloInstr *const *ops, int n) {
  HloInstr **old = in->operands;
  int nold = in->noperands;
  in->operands = hlo_arena_alloc(in->parent->module->arena,
                                 sizeof(HloInstr *) * (size_t)(n ? n : 1));
  in->noperands = n;
  for (int i = 0; i < n; i++) {
    HLO_CHECK(ops[i]->parent == in->parent);
    in->operands[i] = ops[i];
  }
  for (int i = 0; i < nold; i++) maybe_remove_user(old[i], in);
  for (int i = 0; i < n; i++) add_user(ops[i], in);
}

void hlo_replace_all_uses(HloInstr *old, HloInstr *new_instr) {
  HLO_CHECK(old->parent == new_instr->parent);
  if (old == new_instr) return;
  /* new_instr itself keeps using old: that is the idiom "insert f(old) and
   * route every other use of old through it". */
  HloInstr **users = hlo_xmalloc(sizeof(HloInstr *) * (size_t)(old->nusers ? old->nusers : 1));
  int n = old->nusers;
  if (n) memcpy(users, old->users, sizeof(HloInstr *) * (size_t)n);
  for (int k = 0; k < n; k++) {
    HloInstr *user = users[k];
    if (user == new_instr) continue;
    for (int i = 0; i < user->noperands; i++)
      if (user->operands[i] == old) user->operands[i] = new_instr;
    maybe_remove_user(old, user);
    add_user(new_instr, user);
  }
  free(users);
  if (old->parent->root == old) old->parent->root = new_instr;
}

void hlo_instr_remove(HloInstr *in) {
  HLO_CHECK(in->nusers == 0);
  HLO_CHECK(in->parent->root != in);
  HloInstr **ops = in->operands;
  int n = in->noperands;
  in->noperands = 0;
  for (int i = 0; i < n; i++) maybe_remove_user(ops[i], in);
  list_unlink(in);
  if (in->op == HLO_OP_PARAMETER) {
    HloComputation *c = in->parent;
    if (in->parameter_number < c->nparams && c->params[in->parameter_number] == in)
      c->params[in->parameter_number] = NULL;
  }
}

/* ------------------------------------------------------------------------ */
/* Orders                                                                   */
/* ------------------------------------------------------------------------ */

/* An open-addressing table of instruction pointers (see hlo.h). */
struct HloInstrIndex {
  const HloInstr **key; /* NULL: empty slot */
  int *pos;             /* position of key[i] in the array indexed */
  size_t mask;          /* slots - 1, slots a power of two */
};

static size_t instr_slot(const HloInstrIndex *t, const HloInstr *in) {
  return (size_t)(((uint64_t)(uintptr_t)in * 0x9E3779B97F4A7C15ull) >> 32) & t->mask;
}

HloInstrIndex *hlo_instr_index_new(HloInstr *const *list, int n) {
  HloInstrIndex *t = hlo_xmalloc(sizeof *t);
  size_t slots = 16;
  while (slots < (size_t)n * 2) slots *= 2;
  t->key = hlo_xcalloc(slots, sizeof *t->key);
  t->pos = hlo_xmalloc(slots * sizeof *t->pos);
  t->mask = slots - 1;
  for (int j = 0; j < n; j++) {
    size_t i = instr_slot(t, list[j]);
    while (t->key[i]) i = (i + 1) & t->mask;
    t->key[i] = list[j];
    t->pos[i] = j;
  }
  return t;
}

int hlo_instr_index_find(const HloInstrIndex *t, const HloInstr *in) {
  for (size_t i = instr_slot(t, in); t->key[i]; i = (i + 1) & t->mask)
    if (t->key[i] == in) return t->pos[i];
  return -1;
}

void hlo_instr_index_free(HloInstrIndex *t) {
  if (!t) return;
  free(t->key);
  free(t->pos);
  free(t);
}

/* One depth-first walk on a computation's local edge lists (see
 * hlo_post_order), appending each instruction once its operands are out. */
typedef struct {
  const int *first, *edge; /* operands of position j: edge[first[j] .. first[j + 1]),
                            * -1 for those outside the computation */
  uint8_t *state;          /* 0 unvisited, 1 on the stack, 2 out */
  int *stack, *next_op;    /* the walk's stack and each entry's next edge */
  HloInstr *const *list;   /* position -> instruction */
  HloInstr **out;
  int nout;
} PostWalk;

static void post_walk(PostWalk *w, int start) {
  int sp = 0;
  w->stack[sp] = start;
  w->next_op[sp] = w->first[start];
  sp++;
  w->state[start] = 1;
  while (sp) {
    int x = w->stack[sp - 1];
    if (w->next_op[sp - 1] < w->first[x + 1]) {
      int o = w->edge[w->next_op[sp - 1]++];
      if (o >= 0 && w->state[o] == 0) {
        w->state[o] = 1;
        w->stack[sp] = o;
        w->next_op[sp] = w->first[o];
        sp++;
      }
      continue;
    }
    w->state[x] = 2;
    w->out[w->nout++] = w->list[x];
    sp--;
  }
}

/* Iterative DFS so deep graphs (long unrolled loops) cannot overflow the C
 * stack.  The instructions are read once, into the list and local edge
 * lists; every walk after that runs on local arrays.  Operands are found
 * through an HloInstrIndex rather than by reading their `parent` (a cache
 * miss per edge: instructions are large and scattered) or by module-wide
 * id (arrays as large as the module for a small computation). */
HloInstr **hlo_post_order(const HloComputation *c, int *n) {
  int count = 0, cap = 64;
  HloInstr **list = hlo_xmalloc(sizeof(HloInstr *) * (size_t)cap);
  /* Operands of list[j], in operand order: edge[first[j] .. first[j + 1]),
   * first as instructions, then as positions (-1: not in c). */
  int *first = hlo_xmalloc(sizeof(int) * (size_t)(cap + 1));
  int nedge = 0, edge_cap = 64;
  HloInstr **opnd = hlo_xmalloc(sizeof(HloInstr *) * (size_t)edge_cap);
  for (HloInstr *in = c->first; in; in = in->next) {
    if (count == cap) {
      cap *= 2;
      list = hlo_xrealloc(list, sizeof(HloInstr *) * (size_t)cap);
      first = hlo_xrealloc(first, sizeof(int) * (size_t)(cap + 1));
    }
    first[count] = nedge;
    list[count++] = in;
    while (nedge + in->noperands > edge_cap)
      opnd = hlo_xrealloc(opnd, sizeof(HloInstr *) * (size_t)(edge_cap *= 2));
    for (int i = 0; i < in->noperands; i++) opnd[nedge++] = in->operands[i];
  }
  first[count] = nedge;
  HloInstrIndex *t = hlo_instr_index_new(list, count);
  int *edge = hlo_xmalloc(sizeof(int) * (size_t)(nedge ? nedge : 1));
  for (int e = 0; e < nedge; e++) edge[e] = hlo_instr_index_find(t, opnd[e]);
  free(opnd);
  int root = c->root ? hlo_instr_index_find(t, c->root) : -1;
  hlo_instr_index_free(t);

  HloInstr **out = hlo_xmalloc(sizeof(HloInstr *) * (size_t)(count ? count : 1));
  uint8_t *state = hlo_xcalloc((size_t)(count ? count : 1), 1);
  uint8_t *reach = hlo_xcalloc((size_t)(count ? count : 1), 1);
  int *stack = hlo_xmalloc(sizeof(int) * (size_t)(count ? count : 1));
  int *next_op = hlo_xmalloc(sizeof(int) * (size_t)(count ? count : 1));

  /* Unreachable instructions first (in list order), then the root's cone,
   * so the root comes last. */
  if (root >= 0) {
    int sp = 0;
    stack[sp++] = root;
    reach[root] = 1;
    while (sp) {
      int x = stack[--sp];
      for (int e = first[x]; e < first[x + 1]; e++) {
        int o = edge[e];
        if (o >= 0 && !reach[o]) {
          reach[o] = 1;
          stack[sp++] = o;
        }
      }
    }
  }
  PostWalk w = {first, edge, state, stack, next_op, list, out, 0};
  for (int j = 0; j < count; j++)
    if (!reach[j] && !state[j]) post_walk(&w, j);
  if (root >= 0 && !state[root]) post_walk(&w, root);
  int nout = w.nout;
  free(next_op);
  free(stack);
  free(reach);
  free(state);
  free(edge);
  free(first);
  free(list);
  *n = nout;
  return out;
}

HloComputation **hlo_computation_post_order(const HloModule *m, int *n) {
  int count = 0;
  for (HloComputation *c = m->first; c; c = c->next) count++;
  HloComputation **all = hlo_xmalloc(sizeof(HloComputation *) * (size_t)(count ? count : 1));
  HloComputation **out = hlo_xmalloc(sizeof(HloComputation *) * (size_t)(count ? count : 1));
  uint8_t *state = hlo_xcalloc((size_t)(count ? count : 1), 1);
  int k = 0, nout = 0;
  for (HloComputation *c = m->first; c; c = c->next) all[k++] = c;
  /* Recursion depth is the call depth, which is small. */
  struct Frame { int idx; HloInstr *in; int called; } *stack =
      hlo_xmalloc(sizeof(struct Frame) * (size_t)(count ? count : 1) + sizeof(struct Frame));
  for (int j = 0; j < count; j++) {
    if (state[j]) continue;
    int sp = 0;
    stack[sp++] = (struct Frame){j, all[j]->first, 0};
    state[j] = 1;
    while (sp) {
      struct Frame *f = &stack[sp - 1];
      HloComputation *callee = NULL;
      while (f->in && !callee) {
        if (f->called < f->in->ncalled) {
          callee = f->in->called[f->called++];
        } else {
          f->in = f->in->next;
          f->called = 0;
        }
      }
      if (callee) {
        int idx = -1;
        for (int t = 0; t < count; t++)
          if (all[t] == callee) idx = t;
        if (idx >= 0 && !state[idx]) {
          state[idx] = 1;
          stack[sp++] = (struct Frame){idx, all[idx]->first, 0};
        }
        continue;
      }
      state[f->idx] = 2;
      out[nout++] = all[f->idx];
      sp--;
    }
  }
  free(stack);
  free(state);
  free(all);
  *n = nout;
  return out;
}

char *hlo_instr_describe(const HloInstr *in) {
  HloStr s = {0};
  hlo_str_printf(&s, "%%%s = ", in->name);
  hlo_shape_print(&s, &in->shape);
  hlo_str_printf(&s, " %s(", hlo_opcode_name(in->op));
  /* A message stays readable: long operand lists show their ends. */
  enum { SHOWN = 8 };
  for (int i = 0; i < in->noperands; i++) {
    if (in->noperands > SHOWN && i == SHOWN - 2) {
      hlo_str_printf(&s, ", … (%d operands in all)", in->noperands);
      i = in->noperands - 2;
      continue;
    }
    hlo_str_printf(&s, i ? ", %%%s" : "%%%s", in->operands[i]->name);
  }
  hlo_str_append(&s, ")", 1);
  const HloMetadata *md = &in->metadata;
  if (in->parent && in->parent->module && in->parent->module->from_tf &&
      (md->op_name || md->op_type)) {
    hlo_str_printf(&s, " (from TF node '%s'", md->op_name ? md->op_name : "?");
    if (md->op_type) hlo_str_printf(&s, " of op %s", md->op_type);
    hlo_str_append(&s, ")", 1);
  } else if (md->op_name || md->op_type) {
    /* XLA's metadata, as written in HLO text. */
    if (md->op_name) hlo_str_printf(&s, " (op_name \"%s\"", md->op_name);
    if (md->op_type) hlo_str_printf(&s, "%sop_type \"%s\"", md->op_name ? ", " : " (", md->op_type);
    hlo_str_append(&s, ")", 1);
  }
  return hlo_str_take(&s);
}
