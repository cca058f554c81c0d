/*
 * parser.c — HLO text in.
 *
 * Reads XLA's HLO text format, as XLA and JAX print it, into an HloModule:
 *
 *   module      := ('HloModule' name ':'? (',' name '=' value)*)? stack-tables?
 *                  computation+
 *   computation := 'ENTRY'? name ('(' params ')' '->' shape)?
 *                  '{' instruction+ '}' (',' 'execution_thread' '=' string)?
 *   instruction := 'ROOT'? name '=' rhs
 *   rhs         := shape? opcode '(' operands ')' (',' name '=' value)*
 *   operand     := shape? name | shape? opcode '(' operands ')'
 *
 * Names may carry XLA's '%' or not; operands may be preceded by their shape
 * (older XLA prints them); comments are skipped wherever whitespace is
 * allowed.  The parser is hand-written recursive descent over characters,
 * because several attribute values are small languages of their own
 * (padding=1_-1_2x0_2_0, window={size=3x3 pad=0_1x0_1}, dim_labels=
 * b01f_01io->b01f) that a general tokenizer would only get in the way of.
 *
 * Names are resolved late, as XLA allows uses before definitions: operands
 * when a computation's closing brace is reached (they are scoped to their
 * computation), called computations after the whole text.  Until then each
 * use is kept as a Ref pointing into the input text.  Shapes written in the
 * text are kept and not checked here (hlo_verify does that); a shape left
 * out, for the opcodes where XLA allows it, is inferred with
 * hlo_infer_shape once everything is resolved.  An operand written as an
 * instruction (XLA's "nested instruction") becomes an instruction of its
 * own, without attributes, in front of its user.
 *
 * The stack-frame tables newer XLA prints after the module header
 * (FileNames, FunctionNames, FileLocations, StackFrames) are read only to
 * turn metadata's stack_frame_id into source_file/source_line.
 *
 * Bad input never crashes or aborts: the first error is kept as a message
 * "FILE:LINE:COL: …", everything built so far is freed with the module, and
 * sizes are bounded before anything is allocated for them (shapes whose
 * dimensions multiply to more than 2^40 are rejected; a constant's payload
 * is allocated only when the remaining text could hold its elements;
 * nesting is capped).
 */
#include "hlo.h"

#include <errno.h>
#include <math.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

enum {
  MAX_NESTING = 64,    /* tuple shapes, tuple literals, raw values */
  MAX_NUMBER_LEN = 128, /* longest numeric token converted with strtod */
};
#define MAX_ELEMENTS ((int64_t)1 << 40)
/* The most elements the array constants written as one value may have
 * together in a module: their zeros are allocated although the text is a
 * few bytes. */
#define MAX_BARE_ELEMENTS ((int64_t)1 << 24)

/* ------------------------------------------------------------------------ */
/* Parser state                                                             */
/* ------------------------------------------------------------------------ */

/* A use of a name that is resolved later; s points into the input. */
typedef struct Ref {
  const char *s;
  size_t n;
  size_t pos; /* where it appears, for messages */
  int64_t key; /* called computations: order among the instruction's */
  HloInstr *instr; /* an operand written inline: the instruction itself */
  HloComputation *comp; /* a computation written inline: the computation */
} Ref;

/* Text name -> index, open addressing; keys point into the input. */
typedef struct NameMap {
  size_t cap, count;
  struct NameSlot {
    const char *s;
    size_t n;
    int value;
  } *slots;
} NameMap;

/* An instruction of the computation being read. */
typedef struct Pending {
  HloInstr *instr;
  const char *name; /* text name, for messages */
  size_t name_len;
  size_t pos;
  int first_ref, nrefs; /* its operands in Parser.refs */
} Pending;

/* An instruction whose called computations are resolved at the end. */
typedef struct CallSite {
  HloInstr *instr;
  int first, n; /* in Parser.comp_refs */
} CallSite;

typedef struct CompDef {
  HloComputation *c;
  size_t pos;
} CompDef;

/* An instruction written without its result shape, inferred at the end. */
typedef struct Unshaped {
  HloInstr *instr;
  size_t pos;
} Unshaped;

/* Stack-frame tables: FileNames, FileLocations, StackFrames entries. */
typedef struct FrameEntry {
  int64_t id;
  int64_t a, b;     /* location: file_name_id, line; frame: location id */
  const char *text; /* file name */
} FrameEntry;

typedef struct FrameTable {
  FrameEntry *v;
  int n, cap;
} FrameTable;

typedef struct Parser {
  const char *src;
  size_t len, pos;
  const char *file;
  HloModule *m;
  HloError *err;
  size_t open_comment; /* 1 + position of an unterminated comment, or 0 */
  char *buf;           /* scratch for NUL-terminated copies */
  size_t buf_cap;

  /* The computation being read. */
  HloComputation *comp;
  Pending *pend;
  int npend, pend_cap;
  Ref *refs;
  int nrefs, refs_cap;
  NameMap instrs;

  /* The module. */
  NameMap comps;
  CompDef *defs;
  int ndefs, defs_cap;
  Ref *comp_refs;
  int ncomp_refs, comp_refs_cap;
  CallSite *calls;
  int ncalls, calls_cap;
  HloRawAttr *mraw;
  int nmraw, mraw_cap;
  Unshaped *unshaped;
  int nunshaped, unshaped_cap;
  bool shape_left_out; /* of the instruction whose attributes are read */
  int attr_first;      /* its called computations start at comp_refs[attr_first] */
  int inline_depth;    /* computations written inline, one in another */
  int64_t bare_elements; /* of the array constants written as one value */

  /* Scratch lists. */
  int64_t *ints;
  int nints, ints_cap;
  void **ptrs;
  int ptrs_cap;

  FrameTable files, locations, frames;
} Parser;

static void *grow(void *p, int *cap, int need, size_t elem) {
  if (need <= *cap) return p;
  int c = *cap ? *cap : 16;
  while (c < need) c = c > INT_MAX / 2 ? INT_MAX : c * 2;
  p = hlo_xrealloc(p, (size_t)c * elem);
  *cap = c;
  return p;
}

/* The scratch buffer, at least n bytes; its contents last until the next
 * call. */
static char *scratch(Parser *p, size_t n) {
  if (n > p->buf_cap) {
    size_t cap = p->buf_cap ? p->buf_cap : 256;
    while (cap < n) cap *= 2;
    free(p->buf);
    p->buf = hlo_xmalloc(cap);
    p->buf_cap = cap;
  }
  return p->buf;
}

/* A NUL-terminated copy of s[0..n) in the scratch buffer. */
static const char *cstr(Parser *p, const char *s, size_t n) {
  char *b = scratch(p, n + 1);
  memcpy(b, s, n);
  b[n] = '\0';
  return b;
}

/* ------------------------------------------------------------------------ */
/* Name maps                                                                */
/* ------------------------------------------------------------------------ */

static uint64_t hash_bytes(const char *s, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
  return h;
}

static int map_find(const NameMap *m, const char *s, size_t n) {
  if (!m->cap) return -1;
  for (size_t i = hash_bytes(s, n) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
    const struct NameSlot *e = &m->slots[i];
    if (!e->s) return -1;
    if (e->n == n && !memcmp(e->s, s, n)) return e->value;
  }
}

/* Inserts a key known to be absent. */
static void map_put(NameMap *m, const char *s, size_t n, int value) {
  if ((m->count + 1) * 2 > m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 64;
    struct NameSlot *slots = hlo_xcalloc(cap, sizeof *slots);
    for (size_t i = 0; i < m->cap; i++) {
      if (!m->slots[i].s) continue;
      size_t j = hash_bytes(m->slots[i].s, m->slots[i].n) & (cap - 1);
      while (slots[j].s) j = (j + 1) & (cap - 1);
      slots[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
  }
  size_t j = hash_bytes(s, n) & (m->cap - 1);
  while (m->slots[j].s) j = (j + 1) & (m->cap - 1);
  m->slots[j] = (struct NameSlot){s, n, value};
  m->count++;
}

static void map_clear(NameMap *m) {
  free(m->slots);
  *m = (NameMap){0};
}

/* ------------------------------------------------------------------------ */
/* Characters, whitespace, errors                                           */
/* ------------------------------------------------------------------------ */

static int peek(const Parser *p) {
  return p->pos < p->len ? (unsigned char)p->src[p->pos] : -1;
}

static int peek_at(const Parser *p, size_t k) {
  return p->pos + k < p->len ? (unsigned char)p->src[p->pos + k] : -1;
}

static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_alnum(int c) { return is_alpha(c) || is_digit(c); }
static bool is_name_char(int c) {
  return is_alnum(c) || c == '_' || c == '.' || c == '-';
}

/* Skips blanks and comments (block and line comments, as XLA's lexer). */
static void skip_ws(Parser *p) {
  while (p->pos < p->len) {
    char c = p->src[p->pos];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      p->pos++;
    } else if (c == '/' && peek_at(p, 1) == '*') {
      size_t i = p->pos + 2;
      while (i + 1 < p->len && !(p->src[i] == '*' && p->src[i + 1] == '/')) i++;
      if (i + 1 >= p->len) {
        /* Reported as such when end of input is then unexpected. */
        p->open_comment = p->pos + 1;
        p->pos = p->len;
        return;
      }
      p->pos = i + 2;
    } else if (c == '/' && peek_at(p, 1) == '/') {
      while (p->pos < p->len && p->src[p->pos] != '\n') p->pos++;
    } else {
      break;
    }
  }
}

static void line_col(const Parser *p, size_t pos, int *line, int *col) {
  int l = 1;
  size_t start = 0;
  for (size_t i = 0; i < pos && i < p->len; i++) {
    if (p->src[i] == '\n') {
      l++;
      start = i + 1;
    }
  }
  *line = l;
  *col = (int)(pos - start) + 1;
}

static bool fail_at(Parser *p, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the first error (later ones are consequences) and returns false. */
static bool fail_at(Parser *p, size_t pos, const char *fmt, ...) {
  if (p->err) return false;
  va_list ap;
  va_start(ap, fmt);
  HloError *e = hlo_verror(fmt, ap);
  va_end(ap);
  int line, col;
  line_col(p, pos, &line, &col);
  p->err = hlo_error_wrap(e, "%s:%d:%d", p->file, line, col);
  return false;
}

/* Describes what is at pos for "expected X, found Y". */
static void describe(const Parser *p, size_t pos, char *out, size_t cap) {
  if (pos >= p->len) {
    snprintf(out, cap, "end of input");
    return;
  }
  unsigned char c = (unsigned char)p->src[pos];
  size_t n = 0;
  if (c == '%') n = 1;
  while (pos + n < p->len && is_name_char((unsigned char)p->src[pos + n])) n++;
  if (n > (c == '%')) {
    snprintf(out, cap, "'%.*s'%s", (int)(n > 40 ? 40 : n), p->src + pos, n > 40 ? "..." : "");
  } else if (c == '"') {
    snprintf(out, cap, "a string");
  } else if (c >= 0x20 && c < 0x7f) {
    snprintf(out, cap, "'%c'", c);
  } else {
    snprintf(out, cap, "byte 0x%02x", c);
  }
}

/* "expected WHAT, found …" at the current position (blanks skipped). */
static bool fail_expected(Parser *p, const char *what) {
  skip_ws(p);
  if (p->pos >= p->len) {
    if (p->open_comment) return fail_at(p, p->open_comment - 1, "unterminated comment");
    return fail_at(p, p->pos, "unexpected end of input, expected %s", what);
  }
  char found[64];
  describe(p, p->pos, found, sizeof found);
  return fail_at(p, p->pos, "expected %s, found %s", what, found);
}

static bool accept(Parser *p, int c) {
  skip_ws(p);
  if (peek(p) != c) return false;
  p->pos++;
  return true;
}

static bool expect(Parser *p, int c, const char *what) {
  return accept(p, c) || fail_expected(p, what);
}

/* Consumes `word` when it is the whole name-like token at pos. */
static bool accept_word(Parser *p, const char *word) {
  skip_ws(p);
  size_t n = strlen(word);
  if (p->pos + n > p->len || memcmp(p->src + p->pos, word, n)) return false;
  if (p->pos + n < p->len && is_name_char((unsigned char)p->src[p->pos + n])) return false;
  p->pos += n;
  return true;
}

/* A name: optional '%', then [A-Za-z_][A-Za-z0-9_.-]* (digits may start a
 * name after '%'). */
static bool parse_name(Parser *p, const char *what, Ref *out) {
  skip_ws(p);
  size_t start = p->pos;
  bool percent = peek(p) == '%';
  if (percent) p->pos++;
  int c = peek(p);
  if (!(is_alpha(c) || c == '_' || (percent && is_digit(c)))) {
    p->pos = start;
    return fail_expected(p, what);
  }
  size_t s = p->pos;
  while (is_name_char(peek(p))) p->pos++;
  *out = (Ref){p->src + s, p->pos - s, start, 0};
  return true;
}

/* A name printed without '%' (module name, signature parameters): any run
 * of name characters, since "%7.1" is printed as "7.1" there. */
static bool parse_bare_name(Parser *p, const char *what, Ref *out) {
  skip_ws(p);
  size_t start = p->pos;
  if (peek(p) == '%') p->pos++;
  size_t s = p->pos;
  while (is_name_char(peek(p))) p->pos++;
  if (p->pos == s) {
    p->pos = start;
    return fail_expected(p, what);
  }
  *out = (Ref){p->src + s, p->pos - s, start, 0};
  return true;
}

static bool ref_is(const Ref *r, const char *word) {
  return strlen(word) == r->n && !memcmp(r->s, word, r->n);
}

/* A keyword such as ROOT or ENTRY, only when another name follows it (so an
 * instruction may still be called "ROOT"). */
static bool accept_keyword(Parser *p, const char *word) {
  size_t save = p->pos;
  if (!accept_word(p, word)) return false;
  skip_ws(p);
  int c = peek(p);
  if (c == '%' || is_alpha(c) || c == '_') return true;
  p->pos = save;
  return false;
}

/* ------------------------------------------------------------------------ */
/* Numbers and strings                                                      */
/* ------------------------------------------------------------------------ */

/* Reads [-]digits at pos (no blanks skipped) as sign and magnitude. */
static bool scan_integer(Parser *p, const char *what, bool *neg, uint64_t *mag) {
  size_t start = p->pos;
  *neg = false;
  if (peek(p) == '-') {
    *neg = true;
    p->pos++;
  }
  if (!is_digit(peek(p))) {
    p->pos = start;
    return fail_expected(p, what);
  }
  uint64_t v = 0;
  while (is_digit(peek(p))) {
    unsigned d = (unsigned)(peek(p) - '0');
    if (v > (UINT64_MAX - d) / 10) {
      while (is_digit(peek(p))) p->pos++;
      return fail_at(p, start, "integer '%.*s' is out of range", (int)(p->pos - start),
                     p->src + start);
    }
    v = v * 10 + d;
    p->pos++;
  }
  *mag = v;
  return true;
}

/* A signed 64-bit integer at pos (no blanks skipped). */
static bool scan_int64(Parser *p, const char *what, int64_t *out) {
  size_t start = p->pos;
  bool neg;
  uint64_t mag;
  if (!scan_integer(p, what, &neg, &mag)) return false;
  if (mag > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
    return fail_at(p, start, "integer '%.*s' is out of range", (int)(p->pos - start),
                   p->src + start);
  *out = neg ? (int64_t)(0 - mag) : (int64_t)mag;
  return true;
}

static bool parse_int64(Parser *p, const char *what, int64_t *out) {
  skip_ws(p);
  return scan_int64(p, what, out);
}

/* A numeric token: sign, alphanumerics and dots, and an exponent's sign
 * (after e/E, or after p/P in hex floats). */
static void scan_number_token(Parser *p, size_t *start, size_t *end) {
  size_t s = p->pos, i = s;
  if (i < p->len && (p->src[i] == '-' || p->src[i] == '+')) i++;
  bool hex = i + 1 < p->len && p->src[i] == '0' && (p->src[i + 1] == 'x' || p->src[i + 1] == 'X');
  while (i < p->len) {
    int c = (unsigned char)p->src[i];
    int prev = i > s ? (unsigned char)p->src[i - 1] : 0;
    bool exponent_sign = (c == '+' || c == '-') &&
                         (hex ? (prev == 'p' || prev == 'P') : (prev == 'e' || prev == 'E'));
    if (!is_alnum(c) && c != '.' && !exponent_sign) break;
    i++;
  }
  p->pos = i;
  *start = s;
  *end = i;
}

/* Converts src[s..e) with strtod/strtof; the whole token must be a number. */
static bool convert_float(Parser *p, size_t s, size_t e, bool as_float, double *d, float *f) {
  if (e == s || e - s >= MAX_NUMBER_LEN) {
    p->pos = s;
    if (e == s) return fail_expected(p, "number");
    return fail_at(p, s, "number '%.20s...' is too long", p->src + s);
  }
  const char *text = cstr(p, p->src + s, e - s);
  char *endp;
  errno = 0;
  if (as_float) *f = strtof(text, &endp);
  else *d = strtod(text, &endp);
  if (*endp != '\0' || endp == text)
    return fail_at(p, s, "invalid number '%.*s'", (int)(e - s), p->src + s);
  return true;
}

static int hex_value(int c) {
  if (is_digit(c)) return c - '0';
  c |= 32;
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A float literal for element type t, as its bit pattern: a number (decimal,
 * exponent or hex), inf, nan, or nan(0xPAYLOAD), each optionally signed. */
static bool parse_float_bits(Parser *p, HloType t, uint64_t *bits) {
  skip_ws(p);
  size_t s = p->pos;
  int mant = t == HLO_F16 ? 10 : t == HLO_BF16 ? 7 : t == HLO_F32 ? 23 : 52;
  int expb = t == HLO_F16 ? 5 : t == HLO_BF16 ? 8 : t == HLO_F32 ? 8 : 11;
  uint64_t sign_bit = (uint64_t)1 << (mant + expb);
  uint64_t inf = (((uint64_t)1 << expb) - 1) << mant;
  bool neg = false;
  if (peek(p) == '-' || peek(p) == '+') {
    neg = peek(p) == '-';
    p->pos++;
  }
  if (accept_word(p, "inf")) {
    *bits = inf | (neg ? sign_bit : 0);
    return true;
  }
  if (accept_word(p, "nan")) {
    uint64_t payload = (uint64_t)1 << (mant - 1);
    if (peek(p) == '(') {
      p->pos++;
      size_t ps = p->pos;
      if (!(peek(p) == '0' && (peek_at(p, 1) == 'x' || peek_at(p, 1) == 'X')))
        return fail_expected(p, "NaN payload 0x…");
      p->pos += 2;
      payload = 0;
      int ndig = 0;
      for (int d; (d = hex_value(peek(p))) >= 0 && ndig < 16; p->pos++, ndig++)
        payload = payload * 16 + (uint64_t)d;
      if (payload == 0 || payload >> mant || hex_value(peek(p)) >= 0)
        return fail_at(p, ps, "NaN payload does not fit the %d mantissa bits of %s", mant,
                       hlo_type_name(t));
      if (peek(p) != ')') return fail_expected(p, "')'");
      p->pos++;
    }
    *bits = inf | payload | (neg ? sign_bit : 0);
    return true;
  }
  p->pos = s;
  size_t ts, te;
  scan_number_token(p, &ts, &te);
  if (t == HLO_F64) {
    double d;
    if (!convert_float(p, ts, te, false, &d, NULL)) return false;
    memcpy(bits, &d, 8);
    return true;
  }
  float f;
  if (!convert_float(p, ts, te, true, NULL, &f)) return false;
  uint32_t u;
  memcpy(&u, &f, 4);
  *bits = t == HLO_F32 ? u : t == HLO_F16 ? hlo_f32_to_f16(f) : hlo_f32_to_bf16(f);
  return true;
}

/* Finds the end of a string literal starting at pos (a '"'), honouring
 * backslash escapes; leaves pos after the closing quote.  A string may run
 * over several lines, as in XLA. */
static bool scan_string(Parser *p, size_t *start, size_t *end) {
  skip_ws(p);
  if (peek(p) != '"') return fail_expected(p, "a string");
  size_t s = ++p->pos;
  while (p->pos < p->len && p->src[p->pos] != '"') {
    if (p->src[p->pos] == '\\') p->pos++;
    if (p->pos < p->len && p->src[p->pos] == '\0') break;
    p->pos++;
  }
  /* A NUL byte would cut the C string the text becomes (escape it). */
  if (p->pos < p->len && p->src[p->pos] == '\0')
    return fail_at(p, p->pos, "NUL byte in string");
  if (p->pos >= p->len || p->src[p->pos] != '"')
    return fail_at(p, s - 1, "unterminated string");
  *start = s;
  *end = p->pos++;
  return true;
}

/* A string literal, unescaped (C escapes, as absl::CEscape writes them)
 * into the module's arena. */
static bool parse_string(Parser *p, const char **out) {
  size_t s, e;
  if (!scan_string(p, &s, &e)) return false;
  char *r = hlo_arena_alloc(p->m->arena, e - s + 1);
  size_t n = 0;
  for (size_t i = s; i < e; i++) {
    char c = p->src[i];
    if (c != '\\') {
      r[n++] = c;
      continue;
    }
    c = p->src[++i];
    switch (c) {
    case 'n': r[n++] = '\n'; break;
    case 't': r[n++] = '\t'; break;
    case 'r': r[n++] = '\r'; break;
    case 'a': r[n++] = '\a'; break;
    case 'b': r[n++] = '\b'; break;
    case 'f': r[n++] = '\f'; break;
    case 'v': r[n++] = '\v'; break;
    case '\\': case '"': case '\'': case '?': r[n++] = c; break;
    case 'x': {
      int v = 0, k = 0;
      while (k < 2 && i + 1 < e && hex_value((unsigned char)p->src[i + 1]) >= 0)
        v = v * 16 + hex_value((unsigned char)p->src[++i]), k++;
      if (!k) return fail_at(p, i - 1, "invalid escape sequence in string");
      r[n++] = (char)v;
      break;
    }
    default:
      if (c >= '0' && c <= '7') {
        int v = c - '0', k = 1;
        while (k < 3 && i + 1 < e && p->src[i + 1] >= '0' && p->src[i + 1] <= '7')
          v = v * 8 + (p->src[++i] - '0'), k++;
        r[n++] = (char)v;
        break;
      }
      return fail_at(p, i - 1, "invalid escape sequence in string");
    }
  }
  r[n] = '\0';
  *out = r;
  return true;
}

/* ------------------------------------------------------------------------ */
/* Shapes                                                                   */
/* ------------------------------------------------------------------------ */

/* {minor,…,major} right after an array shape's ']'; a tiling or memory
 * space suffix (":T(8,128)S(1)") is skipped. */
static bool parse_layout(Parser *p, HloShape *s) {
  size_t at = p->pos++;
  int n = 0;
  int64_t v[HLO_MAX_RANK];
  skip_ws(p);
  if (is_digit(peek(p))) {
    for (;;) {
      int64_t d;
      size_t dpos = p->pos;
      if (!parse_int64(p, "layout dimension", &d)) return false;
      if (n == s->rank)
        return fail_at(p, dpos, "layout has more entries than the shape's %d dimensions",
                       s->rank);
      v[n++] = d;
      if (!accept(p, ',')) break;
    }
  }
  skip_ws(p);
  if (peek(p) == ':') {
    int depth = 0;
    while (p->pos < p->len && !(depth == 0 && p->src[p->pos] == '}')) {
      if (p->src[p->pos] == '(') depth++;
      if (p->src[p->pos] == ')' && depth > 0) depth--;
      p->pos++;
    }
  }
  if (!expect(p, '}', "',' or '}' in layout")) return false;
  if (n != s->rank)
    return fail_at(p, at, "layout has %d entries, the shape has %d dimensions", n, s->rank);
  bool seen[HLO_MAX_RANK] = {0};
  for (int i = 0; i < n; i++) {
    if (v[i] < 0 || v[i] >= n || seen[v[i]])
      return fail_at(p, at, "layout is not a permutation of the shape's dimensions");
    seen[v[i]] = true;
    s->minor_to_major[i] = (int8_t)v[i];
  }
  s->has_layout = n > 0;
  return true;
}

static bool parse_shape_at(Parser *p, HloShape *out, int depth);

static bool parse_tuple_shape(Parser *p, HloShape *out, int depth) {
  size_t at = p->pos++;
  if (depth >= MAX_NESTING)
    return fail_at(p, at, "tuple shape nested more than %d deep", MAX_NESTING);
  HloShape *elems = NULL;
  int n = 0, cap = 0;
  bool ok = true;
  if (!accept(p, ')')) {
    for (;;) {
      HloShape e;
      if (!(ok = parse_shape_at(p, &e, depth + 1))) break;
      elems = grow(elems, &cap, n + 1, sizeof *elems);
      elems[n++] = e;
      if (accept(p, ',')) continue;
      ok = expect(p, ')', "',' or ')' in tuple shape");
      break;
    }
  }
  if (ok) *out = hlo_shape_tuple(p->m->arena, n, elems);
  free(elems);
  return ok;
}

/* f32[2,3]{1,0}, pred[], token[], (s32[], f32[4]{0}).  As in XLA's
 * parser, a '{' starts a layout only when a dimension or ':' follows it,
 * blanks or not, so that "-> f32[2] {" and "-> f32[2]{" are still a shape
 * then a body (which starts with a name). */
static bool parse_shape_at(Parser *p, HloShape *out, int depth) {
  skip_ws(p);
  if (peek(p) == '(') return parse_tuple_shape(p, out, depth);
  size_t at = p->pos;
  while (is_alnum(peek(p))) p->pos++;
  HloType t;
  if (!hlo_type_from_name(p->src + at, p->pos - at, &t) || t == HLO_TUPLE) {
    bool bracket = p->pos > at && peek(p) == '[';
    size_t n = p->pos - at;
    if (n == 1 && p->src[at] == 'b' && peek(p) == '(') {
      /* b(array shape): a buffer holding the array. */
      p->pos++;
      skip_ws(p);
      size_t inner = p->pos;
      if (peek(p) == '(') return fail_expected(p, "array shape in a buffer shape");
      if (!parse_shape_at(p, out, depth + 1)) return false;
      if (out->type == HLO_TOKEN || out->is_buffer)
        return fail_at(p, inner, "a buffer shape holds an array");
      out->is_buffer = true;
      return expect(p, ')', "')' closing a buffer shape");
    }
    p->pos = at;
    if (bracket)
      return fail_at(p, at, "unknown element type '%.*s'", (int)(n > 40 ? 40 : n), p->src + at);
    return fail_expected(p, "shape");
  }
  memset(out, 0, sizeof *out);
  out->type = t;
  if (t == HLO_TOKEN && peek(p) != '[') return true; /* "token" as well as "token[]" */
  if (!expect(p, '[', "'['")) return false;
  /* Zero-sized dimensions are left out of the bound, so that no product of
   * dimensions (a stride, say) can overflow either. */
  int64_t product = 1;
  if (!accept(p, ']')) {
    for (;;) {
      skip_ws(p);
      size_t dpos = p->pos;
      if (out->rank == HLO_MAX_RANK)
        return fail_at(p, dpos, "shape has more than %d dimensions", HLO_MAX_RANK);
      /* A dynamic dimension: "<=N" (bounded by N) or "?" (unbounded). */
      if (accept(p, '?')) {
        out->dynamic |= (uint16_t)(1u << out->rank);
        out->unbounded |= (uint16_t)(1u << out->rank);
        out->dims[out->rank++] = 0;
        if (accept(p, ',')) continue;
        if (!expect(p, ']', "',' or ']' in shape")) return false;
        break;
      }
      if (peek(p) == '<' && peek_at(p, 1) == '=') {
        p->pos += 2;
        out->dynamic |= (uint16_t)(1u << out->rank);
      }
      bool neg;
      uint64_t d;
      if (!is_digit(peek(p))) return fail_expected(p, "dimension size");
      if (!scan_integer(p, "dimension size", &neg, &d)) return false;
      if (d > (uint64_t)MAX_ELEMENTS || (d && product > MAX_ELEMENTS / (int64_t)d))
        return fail_at(p, at, "shape is too large: its dimensions multiply to more than 2^40");
      if (d) product *= (int64_t)d;
      out->dims[out->rank++] = (int64_t)d;
      if (accept(p, ',')) continue;
      if (!expect(p, ']', "',' or ']' in shape")) return false;
      break;
    }
  }
  if (t == HLO_TOKEN && out->rank)
    return fail_at(p, at, "a token shape has no dimensions");
  size_t end = p->pos;
  /* A scalar's empty layout, written right after it: f32[]{}. */
  if (out->rank == 0 && end + 1 < p->len && p->src[end] == '{' && p->src[end + 1] == '}') {
    p->pos = end + 2;
    return true;
  }
  skip_ws(p);
  if (peek(p) == '{') {
    size_t brace = p->pos++;
    skip_ws(p);
    int c = peek(p);
    p->pos = brace;
    if (is_digit(c) || c == ':') return parse_layout(p, out);
  }
  p->pos = end;
  return true;
}

static bool parse_shape(Parser *p, HloShape *out) { return parse_shape_at(p, out, 0); }

/* Elements in all arrays of s (saturating). */
static int64_t total_elements(const HloShape *s) {
  if (s->type != HLO_TUPLE) return hlo_shape_elements(s);
  int64_t n = 0;
  for (int i = 0; i < s->ntuple; i++) {
    int64_t k = total_elements(&s->tuple[i]);
    n = k > INT64_MAX - n ? INT64_MAX : n + k;
  }
  return n;
}

static bool has_token(const HloShape *s) {
  if (s->type == HLO_TOKEN) return true;
  for (int i = 0; s->type == HLO_TUPLE && i < s->ntuple; i++)
    if (has_token(&s->tuple[i])) return true;
  return false;
}

/* ------------------------------------------------------------------------ */
/* Literals                                                                 */
/* ------------------------------------------------------------------------ */

/* One element of type t stored at data[i] (data may be NULL: checking only). */
static bool parse_element(Parser *p, HloType t, void *data, int64_t i) {
  skip_ws(p);
  size_t at = p->pos;
  if (t == HLO_PRED) {
    uint8_t v;
    if (accept_word(p, "true") || accept_word(p, "1")) v = 1;
    else if (accept_word(p, "false") || accept_word(p, "0")) v = 0;
    else return fail_expected(p, "true or false");
    if (data) ((uint8_t *)data)[i] = v;
    return true;
  }
  if (hlo_small_float(t)) {
    /* Read as a double, then rounded to the type; a value the type cannot
     * hold (overflow, an infinity or NaN it lacks) is an error, as in
     * XLA's parser. */
    uint64_t bits;
    double d;
    if (!parse_float_bits(p, HLO_F64, &bits)) return false;
    memcpy(&d, &bits, 8);
    HloSmallFloatKind kind = hlo_small_float(t)->kind;
    uint8_t b = hlo_small_from_f64(t, d);
    float back = hlo_small_to_f32(t, b);
    const char *lacks = isinf(d) && kind != HLO_SF_IEEE ? "has no infinity"
                        : isnan(d) && kind == HLO_SF_F4 ? "has no NaN"
                        : !isnan(d) && !isinf(d) && (isnan(back) || isinf(back))
                            ? "cannot hold it (out of range)"
                            : NULL;
    if (lacks)
      return fail_at(p, at, "value %.*s: %s %s", (int)(p->pos - at > 40 ? 40 : p->pos - at),
                     p->src + at, hlo_type_name(t), lacks);
    if (data) ((uint8_t *)data)[i] = b;
    return true;
  }
  if (hlo_type_is_complex(t)) {
    /* (real, imaginary) */
    HloType part = hlo_complex_part_type(t);
    uint64_t re, im;
    if (!expect(p, '(', "'(' starting a complex number") || !parse_float_bits(p, part, &re) ||
        !expect(p, ',', "',' in a complex number") || !parse_float_bits(p, part, &im) ||
        !expect(p, ')', "')' ending a complex number"))
      return false;
    if (!data) return true;
    if (part == HLO_F32) {
      ((uint32_t *)data)[2 * i] = (uint32_t)re;
      ((uint32_t *)data)[2 * i + 1] = (uint32_t)im;
    } else {
      ((uint64_t *)data)[2 * i] = re;
      ((uint64_t *)data)[2 * i + 1] = im;
    }
    return true;
  }
  if (hlo_type_is_float(t)) {
    uint64_t bits;
    if (!parse_float_bits(p, t, &bits)) return false;
    if (!data) return true;
    size_t sz = hlo_type_size(t);
    if (sz == 2) ((uint16_t *)data)[i] = (uint16_t)bits;
    else if (sz == 4) ((uint32_t *)data)[i] = (uint32_t)bits;
    else ((uint64_t *)data)[i] = bits;
    return true;
  }
  size_t ts, te;
  scan_number_token(p, &ts, &te);
  p->pos = ts;
  bool neg = false;
  uint64_t mag = 0;
  if (te == ts) return fail_expected(p, "integer");
  if (!is_digit(peek_at(p, peek(p) == '-')) ||
      !scan_integer(p, "integer", &neg, &mag) || p->pos != te) {
    if (p->err) return false;
    return fail_at(p, ts, "expected %s integer, found '%.*s'", hlo_type_name(t),
                   (int)(te - ts > 40 ? 40 : te - ts), p->src + ts);
  }
  int bits = hlo_type_bits(t);
  bool ok;
  if (hlo_type_is_signed(t))
    ok = neg ? mag <= (uint64_t)1 << (bits - 1) : mag < (uint64_t)1 << (bits - 1);
  else
    ok = neg ? mag == 0 : bits == 64 || mag < (uint64_t)1 << bits;
  if (!ok)
    return fail_at(p, at, "value %.*s is out of range for %s",
                   (int)(te - ts > 40 ? 40 : te - ts), p->src + ts, hlo_type_name(t));
  if (!data) return true;
  uint64_t u = neg ? 0 - mag : mag;
  switch (hlo_type_size(t) * 8) {
  case 8: ((uint8_t *)data)[i] = (uint8_t)u; break;
  case 16: ((uint16_t *)data)[i] = (uint16_t)u; break;
  case 32: ((uint32_t *)data)[i] = (uint32_t)u; break;
  default: ((uint64_t *)data)[i] = u; break;
  }
  return true;
}

/* Dimension `level` of an array literal: '{' children '}' (XLA nests one
 * brace level per dimension; the innermost holds elements). */
static bool parse_array_level(Parser *p, const HloShape *s, void *data, int64_t *index,
                              int level) {
  if (!expect(p, '{', "'{'")) return false;
  skip_ws(p);
  if (p->pos + 3 <= p->len && !memcmp(p->src + p->pos, "...", 3))
    return fail_at(p, p->pos, "'...' (values not printed) stands only for a whole array "
                              "constant");
  int64_t count = 0, want = s->dims[level];
  if (peek(p) != '}') {
    for (;;) {
      skip_ws(p);
      if (count == want)
        return fail_at(p, p->pos, "too many elements in dimension %d of the literal: expected %lld",
                       level, (long long)want);
      if (level == s->rank - 1) {
        if (!parse_element(p, s->type, data, (*index)++)) return false;
      } else if (!parse_array_level(p, s, data, index, level + 1)) {
        return false;
      }
      count++;
      if (!accept(p, ',')) break;
    }
  }
  skip_ws(p);
  if (peek(p) != '}') return fail_expected(p, "',' or '}' in literal");
  if (count != want)
    return fail_at(p, p->pos, "expected %lld elements in dimension %d of the literal, found %lld",
                   (long long)want, level, (long long)count);
  p->pos++;
  return true;
}

/* An array constant's "{...}": XLA prints it for values it left out.
 * Consumes it and returns true when the text at p is one. */
static bool elided_literal(Parser *p, const HloShape *s) {
  size_t at = p->pos;
  if (s->type == HLO_TUPLE || s->rank == 0 || !accept(p, '{')) return false;
  skip_ws(p);
  if (p->pos + 3 <= p->len && !memcmp(p->src + p->pos, "...", 3)) {
    p->pos += 3;
    if (accept(p, '}')) return true;
  }
  p->pos = at;
  return false;
}

/* A literal of shape s into lit (NULL: check the syntax and counts only). */
static bool parse_literal(Parser *p, const HloShape *s, HloLiteral *lit) {
  if (s->type == HLO_TUPLE) {
    if (!expect(p, '(', "'(' starting a tuple literal")) return false;
    int i = 0;
    if (!accept(p, ')')) {
      for (;;) {
        skip_ws(p);
        if (i == s->ntuple)
          return fail_at(p, p->pos, "too many elements in tuple literal: expected %d",
                         s->ntuple);
        if (!parse_literal(p, &s->tuple[i], lit ? lit->elems[i] : NULL))
          return false;
        i++;
        if (!accept(p, ',')) break;
      }
      skip_ws(p);
      if (peek(p) != ')') return fail_expected(p, "',' or ')' in tuple literal");
      p->pos++;
    }
    if (i != s->ntuple)
      return fail_at(p, p->pos - 1, "expected %d elements in tuple literal, found %d",
                     s->ntuple, i);
    return true;
  }
  if (s->rank == 0) return parse_element(p, s->type, lit ? lit->data : NULL, 0);
  int64_t index = 0;
  return parse_array_level(p, s, lit ? lit->data : NULL, &index, 0);
}

/* ------------------------------------------------------------------------ */
/* Raw attribute values and stack-frame tables                               */
/* ------------------------------------------------------------------------ */

/* A value kept verbatim: everything up to a ',' or newline outside
 * brackets and strings, or an unmatched closing bracket.  With `one_group`
 * the value ends right after its first bracketed group (metadata fields are
 * separated by blanks, not commas). */
static bool scan_raw_value(Parser *p, bool one_group, size_t *start, size_t *end) {
  skip_ws(p);
  size_t s = p->pos;
  char stack[MAX_NESTING];
  int depth = 0;
  while (p->pos < p->len) {
    char c = p->src[p->pos];
    if (c == '"') {
      size_t a, b;
      if (!scan_string(p, &a, &b)) return false;
      if (one_group && depth == 0) break;
      continue;
    }
    if (c == '{' || c == '[' || c == '(') {
      if (depth == MAX_NESTING)
        return fail_at(p, p->pos, "value nested more than %d deep", MAX_NESTING);
      stack[depth++] = c == '{' ? '}' : c == '[' ? ']' : ')';
    } else if (c == '}' || c == ']' || c == ')') {
      if (depth == 0) break;
      if (stack[depth - 1] != c) return fail_at(p, p->pos, "mismatched '%c' in value", c);
      if (--depth == 0 && one_group) {
        p->pos++;
        break;
      }
    } else if (depth == 0 && (c == ',' || c == '\n')) {
      break;
    } else if (c == '\0') {
      return fail_at(p, p->pos, "NUL byte in attribute value");
    }
    p->pos++;
  }
  if (depth > 0) return fail_expected(p, "closing bracket of the value");
  size_t e = p->pos;
  while (e > s && (p->src[e - 1] == ' ' || p->src[e - 1] == '\t' || p->src[e - 1] == '\r')) e--;
  if (e == s) return fail_expected(p, "attribute value");
  *start = s;
  *end = e;
  return true;
}

static const FrameEntry *frame_find(const FrameTable *t, int64_t id) {
  /* XLA numbers entries 1, 2, …: try the direct slot first. */
  if (id >= 1 && id <= t->n && t->v[id - 1].id == id) return &t->v[id - 1];
  for (int i = 0; i < t->n; i++)
    if (t->v[i].id == id) return &t->v[i];
  return NULL;
}

/* {key=int key=int …} of a FileLocations or StackFrames entry. */
static bool parse_frame_fields(Parser *p, const char *ka, const char *kb, FrameEntry *e) {
  if (!expect(p, '{', "'{'")) return false;
  while (!accept(p, '}')) {
    Ref key;
    if (!parse_name(p, "field name or '}'", &key)) return false;
    int64_t v;
    if (!expect(p, '=', "'='") || !parse_int64(p, "integer", &v)) return false;
    if (ref_is(&key, ka)) e->a = v;
    if (kb && ref_is(&key, kb)) e->b = v;
    accept(p, ',');
  }
  return true;
}

/* The FileNames / FunctionNames / FileLocations / StackFrames sections. */
static bool parse_stack_tables(Parser *p) {
  for (;;) {
    int kind;
    if (accept_word(p, "FileNames")) kind = 0;
    else if (accept_word(p, "FunctionNames")) kind = 1;
    else if (accept_word(p, "FileLocations")) kind = 2;
    else if (accept_word(p, "StackFrames")) kind = 3;
    else return true;
    for (;;) {
      skip_ws(p);
      if (!is_digit(peek(p))) break;
      FrameEntry e = {0};
      if (!parse_int64(p, "entry id", &e.id)) return false;
      FrameTable *t = kind == 0 ? &p->files : kind == 2 ? &p->locations : &p->frames;
      if (kind == 0) {
        if (!parse_string(p, &e.text)) return false;
      } else if (kind == 1) {
        size_t a, b;
        if (!scan_string(p, &a, &b)) return false;
        continue;
      } else if (kind == 2) {
        if (!parse_frame_fields(p, "file_name_id", "line", &e)) return false;
      } else if (!parse_frame_fields(p, "file_location_id", NULL, &e)) {
        return false;
      }
      t->v = grow(t->v, &t->cap, t->n + 1, sizeof *t->v);
      t->v[t->n++] = e;
    }
  }
}

/* metadata={op_type="…" op_name="…" source_file="…" source_line=N …}:
 * other fields are skipped; stack_frame_id supplies the source location
 * when none is given. */
static bool parse_metadata(Parser *p, HloInstr *in) {
  if (!expect(p, '{', "'{'")) return false;
  HloMetadata *md = &in->metadata;
  int64_t frame = -1;
  while (!accept(p, '}')) {
    Ref key;
    if (!parse_name(p, "metadata field or '}'", &key)) return false;
    if (!expect(p, '=', "'='")) return false;
    if (ref_is(&key, "op_type")) {
      if (!parse_string(p, &md->op_type)) return false;
    } else if (ref_is(&key, "op_name")) {
      if (!parse_string(p, &md->op_name)) return false;
    } else if (ref_is(&key, "source_file")) {
      if (!parse_string(p, &md->source_file)) return false;
    } else if (ref_is(&key, "source_line")) {
      if (!parse_int64(p, "integer", &md->source_line)) return false;
    } else if (ref_is(&key, "stack_frame_id")) {
      if (!parse_int64(p, "integer", &frame)) return false;
    } else {
      skip_ws(p);
      if (peek(p) == '"' || peek(p) == '{') {
        size_t a, b;
        if (!scan_raw_value(p, true, &a, &b)) return false;
      } else {
        size_t s = p->pos;
        while (p->pos < p->len && !strchr(" \t\r\n,}", p->src[p->pos])) p->pos++;
        if (p->pos == s) return fail_expected(p, "metadata value");
      }
    }
    accept(p, ',');
  }
  if (frame >= 0 && !md->source_file) {
    const FrameEntry *f = frame_find(&p->frames, frame);
    const FrameEntry *loc = f ? frame_find(&p->locations, f->a) : NULL;
    const FrameEntry *file = loc ? frame_find(&p->files, loc->a) : NULL;
    if (file) {
      md->source_file = file->text;
      md->source_line = loc->b;
    }
  }
  return true;
}

/* ------------------------------------------------------------------------ */
/* Instruction attributes                                                   */
/* ------------------------------------------------------------------------ */

typedef enum AttrKind {
  A_DIMENSIONS, A_SLICE, A_PADDING, A_WINDOW, A_DIM_LABELS, A_FEATURE_GROUPS,
  A_BATCH_GROUPS, A_LHS_BATCH, A_LHS_CONTRACTING, A_RHS_BATCH, A_RHS_CONTRACTING,
  A_DIRECTION, A_COMPARE_TYPE, A_TO_APPLY, A_CONDITION, A_BODY, A_CALLS, A_KIND,
  A_BRANCHES, A_TRUE, A_FALSE, A_INDEX, A_IOTA_DIMENSION, A_DYNAMIC_SLICE_SIZES,
  A_OFFSET_DIMS, A_COLLAPSED_SLICE_DIMS, A_START_INDEX_MAP, A_OPERAND_BATCHING,
  A_START_INDICES_BATCHING, A_INDEX_VECTOR_DIM, A_SLICE_SIZES, A_INDICES_SORTED,
  A_UPDATE_WINDOW_DIMS, A_INSERTED_WINDOW_DIMS, A_SCATTER_DIMS_TO_OPERAND,
  A_INPUT_BATCHING, A_SCATTER_INDICES_BATCHING, A_UNIQUE_INDICES, A_IS_STABLE,
  A_EPSILON, A_FEATURE_INDEX, A_EXPONENT_BITS, A_MANTISSA_BITS, A_TARGET, A_CALLED_COMPUTATIONS, A_METADATA,
  A_REPLICA_GROUPS, A_SOURCE_TARGET_PAIRS, A_K, A_LARGEST, A_LOWER, A_LEFT_SIDE,
  A_UNIT_DIAGONAL, A_TRANSPOSE_A, A_RNG_ALGORITHM, A_RNG_DISTRIBUTION, A_FFT_TYPE,
  A_FFT_LENGTH, A_LHS_RAGGED, A_RHS_GROUP, A_SELECT, A_SCATTER, A_COUNT
} AttrKind;

static const struct {
  const char *name;
  AttrKind kind;
} attr_names[] = {
    {"dimensions", A_DIMENSIONS},
    {"slice", A_SLICE},
    {"padding", A_PADDING},
    {"window", A_WINDOW},
    {"dim_labels", A_DIM_LABELS},
    {"feature_group_count", A_FEATURE_GROUPS},
    {"batch_group_count", A_BATCH_GROUPS},
    {"lhs_batch_dims", A_LHS_BATCH},
    {"lhs_contracting_dims", A_LHS_CONTRACTING},
    {"rhs_batch_dims", A_RHS_BATCH},
    {"rhs_contracting_dims", A_RHS_CONTRACTING},
    {"lhs_ragged_dims", A_LHS_RAGGED},
    {"rhs_group_dims", A_RHS_GROUP},
    {"direction", A_DIRECTION},
    {"type", A_COMPARE_TYPE},
    {"to_apply", A_TO_APPLY},
    {"condition", A_CONDITION},
    {"body", A_BODY},
    {"calls", A_CALLS},
    {"kind", A_KIND},
    {"branch_computations", A_BRANCHES},
    {"true_computation", A_TRUE},
    {"false_computation", A_FALSE},
    {"index", A_INDEX},
    {"iota_dimension", A_IOTA_DIMENSION},
    {"dynamic_slice_sizes", A_DYNAMIC_SLICE_SIZES},
    {"offset_dims", A_OFFSET_DIMS},
    {"collapsed_slice_dims", A_COLLAPSED_SLICE_DIMS},
    {"start_index_map", A_START_INDEX_MAP},
    {"operand_batching_dims", A_OPERAND_BATCHING},
    {"start_indices_batching_dims", A_START_INDICES_BATCHING},
    {"index_vector_dim", A_INDEX_VECTOR_DIM},
    {"slice_sizes", A_SLICE_SIZES},
    {"indices_are_sorted", A_INDICES_SORTED},
    {"update_window_dims", A_UPDATE_WINDOW_DIMS},
    {"inserted_window_dims", A_INSERTED_WINDOW_DIMS},
    {"scatter_dims_to_operand_dims", A_SCATTER_DIMS_TO_OPERAND},
    {"input_batching_dims", A_INPUT_BATCHING},
    {"scatter_indices_batching_dims", A_SCATTER_INDICES_BATCHING},
    {"unique_indices", A_UNIQUE_INDICES},
    {"is_stable", A_IS_STABLE},
    {"epsilon", A_EPSILON},
    {"feature_index", A_FEATURE_INDEX},
    {"exponent_bits", A_EXPONENT_BITS},
    {"mantissa_bits", A_MANTISSA_BITS},
    {"custom_call_target", A_TARGET},
    {"called_computations", A_CALLED_COMPUTATIONS},
    {"metadata", A_METADATA},
    {"replica_groups", A_REPLICA_GROUPS},
    {"source_target_pairs", A_SOURCE_TARGET_PAIRS},
    {"k", A_K},
    {"largest", A_LARGEST},
    {"lower", A_LOWER},
    {"left_side", A_LEFT_SIDE},
    {"unit_diagonal", A_UNIT_DIAGONAL},
    {"transpose_a", A_TRANSPOSE_A},
    {"algorithm", A_RNG_ALGORITHM},
    {"distribution", A_RNG_DISTRIBUTION},
    {"fft_type", A_FFT_TYPE},
    {"fft_length", A_FFT_LENGTH},
    {"select", A_SELECT},
    {"scatter", A_SCATTER},
};

/* Annotations XLA prints on instructions that change nothing hloc
 * computes: accepted on any instruction, kept verbatim in instr->raw (and
 * printed back).  Any other attribute an op does not define is an error, so
 * a misspelt one cannot silently mean its default.  custom-call keeps every
 * attribute: they are its target's; so do the opcodes hlo_verify refuses
 * (HLO_KIND_REFUSED), which nothing reads. */
static const char *const annotations[] = {
    "backend_config", "frontend_attributes", "sharding", "control-predecessors",
    "statistics", "statistics_viz", "result_accuracy", "operand_precision", "algorithm", "origin",
    "parameter_replication", "is_composite", "output_to_operand_aliasing",
};

/* What the collectives, tokens and async pairs carry that changes nothing
 * on one device (a channel, how ids are numbered, the thread an async op
 * runs on, the sharding a domain separates): accepted on those ops only,
 * kept verbatim. */
static const char *const single_device_annotations[] = {
    "channel_id", "use_global_device_ids", "constrain_layout", "async_execution_thread",
    "async_group_id", "cross_program_prefetch_index", "is_cross_program_prefetch", "domain",
    "keep_original_sequence_order_in_group",
};

static bool is_single_device_op(HloOpcode op) {
  return hlo_opcode_kind(op) == HLO_KIND_OTHER && op != HLO_OP_BATCH_NORM_INFERENCE &&
         op != HLO_OP_BATCH_NORM_TRAINING && op != HLO_OP_BATCH_NORM_GRAD &&
         op != HLO_OP_CHOLESKY && op != HLO_OP_TRIANGULAR_SOLVE && op != HLO_OP_RNG_BIT_GENERATOR &&
         op != HLO_OP_RNG && op != HLO_OP_STOCHASTIC_CONVERT && op != HLO_OP_FFT &&
         op != HLO_OP_RAGGED_DOT && op != HLO_OP_GET_DIMENSION_SIZE &&
         op != HLO_OP_SET_DIMENSION_SIZE && op != HLO_OP_DYNAMIC_RESHAPE &&
         op != HLO_OP_SELECT_AND_SCATTER &&
         op != HLO_OP_SCALED_DOT;
}

static bool is_annotation(HloOpcode op, const Ref *an) {
  for (size_t i = 0; i < sizeof annotations / sizeof annotations[0]; i++)
    if (ref_is(an, annotations[i])) return true;
  /* The dimension XLA's dynamic reshape derived: nothing for static shapes. */
  if (op == HLO_OP_RESHAPE && ref_is(an, "inferred_dimension")) return true;
  /* The in-place collective-permute's slices: kept for hlo_verify to refuse. */
  if ((op == HLO_OP_COLLECTIVE_PERMUTE || op == HLO_OP_COLLECTIVE_PERMUTE_START) &&
      ref_is(an, "slice_sizes"))
    return true;
  size_t n = sizeof single_device_annotations / sizeof single_device_annotations[0];
  for (size_t i = 0; is_single_device_op(op) && i < n; i++)
    if (ref_is(an, single_device_annotations[i])) return true;
  return false;
}

static bool interprets(HloOpcode op, AttrKind k);

/* "unknown attribute 'iota_dimenson' for iota (did you mean
 * 'iota_dimension'?)", or that a known attribute does not apply to op. */
static bool undefined_attribute(Parser *p, const Ref *an, HloOpcode op, bool known) {
  if (known)
    return fail_at(p, an->pos, "attribute '%.*s' does not apply to %s", (int)an->n, an->s,
                   hlo_opcode_name(op));
  const char *best = NULL;
  int best_d = 3; /* suggest only close names */
  for (size_t i = 0; i < sizeof attr_names / sizeof attr_names[0]; i++) {
    if (!interprets(op, attr_names[i].kind)) continue;
    int d = hlo_edit_distance(an->s, an->n, attr_names[i].name, strlen(attr_names[i].name));
    if (d < best_d) best_d = d, best = attr_names[i].name;
  }
  if (best)
    return fail_at(p, an->pos, "unknown attribute '%.*s' for %s (did you mean '%s'?)",
                   (int)an->n, an->s, hlo_opcode_name(op), best);
  return fail_at(p, an->pos, "unknown attribute '%.*s' for %s", (int)an->n, an->s,
                 hlo_opcode_name(op));
}

/* Whether op gives attribute k a meaning. */
static bool interprets(HloOpcode op, AttrKind k) {
  switch (k) {
  case A_METADATA: return true;
  case A_DIMENSIONS:
    return op == HLO_OP_BROADCAST || op == HLO_OP_TRANSPOSE || op == HLO_OP_REDUCE ||
           op == HLO_OP_REVERSE || op == HLO_OP_CONCATENATE || op == HLO_OP_SORT ||
           op == HLO_OP_ALL_GATHER || op == HLO_OP_ALL_GATHER_START ||
           op == HLO_OP_REDUCE_SCATTER || op == HLO_OP_ALL_TO_ALL || op == HLO_OP_MAP ||
           op == HLO_OP_GET_DIMENSION_SIZE || op == HLO_OP_SET_DIMENSION_SIZE;
  case A_REPLICA_GROUPS:
    return op == HLO_OP_ALL_REDUCE || op == HLO_OP_ALL_REDUCE_START || op == HLO_OP_ALL_GATHER ||
           op == HLO_OP_ALL_GATHER_START || op == HLO_OP_REDUCE_SCATTER ||
           op == HLO_OP_ALL_TO_ALL || op == HLO_OP_COLLECTIVE_BROADCAST;
  case A_SOURCE_TARGET_PAIRS:
    return op == HLO_OP_COLLECTIVE_PERMUTE || op == HLO_OP_COLLECTIVE_PERMUTE_START;
  case A_SLICE: return op == HLO_OP_SLICE;
  case A_PADDING: return op == HLO_OP_PAD;
  case A_WINDOW:
    return op == HLO_OP_REDUCE_WINDOW || op == HLO_OP_CONVOLUTION ||
           op == HLO_OP_SELECT_AND_SCATTER;
  case A_SELECT: case A_SCATTER: return op == HLO_OP_SELECT_AND_SCATTER;
  case A_DIM_LABELS: case A_FEATURE_GROUPS: case A_BATCH_GROUPS:
    return op == HLO_OP_CONVOLUTION;
  case A_LHS_BATCH: case A_LHS_CONTRACTING: case A_RHS_BATCH: case A_RHS_CONTRACTING:
    return op == HLO_OP_DOT || op == HLO_OP_RAGGED_DOT || op == HLO_OP_SCALED_DOT;
  case A_LHS_RAGGED: case A_RHS_GROUP: return op == HLO_OP_RAGGED_DOT;
  case A_DIRECTION: case A_COMPARE_TYPE: return op == HLO_OP_COMPARE;
  case A_TO_APPLY:
    return op == HLO_OP_REDUCE || op == HLO_OP_REDUCE_WINDOW || op == HLO_OP_SORT ||
           op == HLO_OP_SCATTER || op == HLO_OP_CALL || op == HLO_OP_ALL_REDUCE ||
           op == HLO_OP_ALL_REDUCE_START || op == HLO_OP_REDUCE_SCATTER || op == HLO_OP_MAP;
  case A_CONDITION: case A_BODY: return op == HLO_OP_WHILE;
  case A_CALLS:
    return op == HLO_OP_FUSION || op == HLO_OP_CALL || op == HLO_OP_ASYNC_START ||
           op == HLO_OP_ASYNC_UPDATE || op == HLO_OP_ASYNC_DONE;
  case A_KIND: return op == HLO_OP_FUSION;
  case A_BRANCHES: case A_TRUE: case A_FALSE: return op == HLO_OP_CONDITIONAL;
  case A_INDEX: return op == HLO_OP_GET_TUPLE_ELEMENT;
  case A_IOTA_DIMENSION: return op == HLO_OP_IOTA;
  case A_DYNAMIC_SLICE_SIZES: return op == HLO_OP_DYNAMIC_SLICE;
  case A_OFFSET_DIMS: case A_COLLAPSED_SLICE_DIMS: case A_START_INDEX_MAP:
  case A_OPERAND_BATCHING: case A_START_INDICES_BATCHING: case A_SLICE_SIZES:
    return op == HLO_OP_GATHER;
  case A_INDEX_VECTOR_DIM: case A_INDICES_SORTED:
    return op == HLO_OP_GATHER || op == HLO_OP_SCATTER;
  case A_UPDATE_WINDOW_DIMS: case A_INSERTED_WINDOW_DIMS: case A_SCATTER_DIMS_TO_OPERAND:
  case A_INPUT_BATCHING: case A_SCATTER_INDICES_BATCHING: case A_UNIQUE_INDICES:
    return op == HLO_OP_SCATTER;
  case A_IS_STABLE: return op == HLO_OP_SORT;
  case A_K: case A_LARGEST: return op == HLO_OP_TOPK;
  case A_LOWER: return op == HLO_OP_CHOLESKY || op == HLO_OP_TRIANGULAR_SOLVE;
  case A_LEFT_SIDE: case A_UNIT_DIAGONAL: case A_TRANSPOSE_A:
    return op == HLO_OP_TRIANGULAR_SOLVE;
  case A_RNG_ALGORITHM: return op == HLO_OP_RNG_BIT_GENERATOR;
  case A_RNG_DISTRIBUTION: return op == HLO_OP_RNG;
  case A_FFT_TYPE: case A_FFT_LENGTH: return op == HLO_OP_FFT;
  case A_EPSILON: case A_FEATURE_INDEX:
    return op == HLO_OP_BATCH_NORM_INFERENCE || op == HLO_OP_BATCH_NORM_TRAINING ||
           op == HLO_OP_BATCH_NORM_GRAD;
  case A_EXPONENT_BITS: case A_MANTISSA_BITS: return op == HLO_OP_REDUCE_PRECISION;
  case A_TARGET: case A_CALLED_COMPUTATIONS: return op == HLO_OP_CUSTOM_CALL;
  case A_COUNT: break;
  }
  return false;
}

/* {1,0} into p->ints. */
static bool parse_int_list(Parser *p) {
  p->nints = 0;
  if (!expect(p, '{', "'{'")) return false;
  if (accept(p, '}')) return true;
  for (;;) {
    int64_t v;
    if (!parse_int64(p, "integer", &v)) return false;
    p->ints = grow(p->ints, &p->ints_cap, p->nints + 1, sizeof *p->ints);
    p->ints[p->nints++] = v;
    if (accept(p, ',')) continue;
    return expect(p, '}', "',' or '}'");
  }
}

static bool parse_dims(Parser *p, HloInstr *in, HloDims *field) {
  if (!parse_int_list(p)) return false;
  hlo_instr_set_dims(in, field, p->ints, p->nints);
  return true;
}

static bool parse_bool(Parser *p, bool *out) {
  if (accept_word(p, "true")) *out = true;
  else if (accept_word(p, "false")) *out = false;
  else return fail_expected(p, "true or false");
  return true;
}

/* One of `names` (n of them) as an index. */
static bool parse_enum(Parser *p, const char *what, const char *const *names, int n, int *out) {
  skip_ws(p);
  size_t s = p->pos;
  while (is_name_char(peek(p))) p->pos++;
  for (int i = 0; i < n; i++) {
    if (strlen(names[i]) == p->pos - s && !memcmp(names[i], p->src + s, p->pos - s)) {
      *out = i;
      return true;
    }
  }
  if (p->pos == s) return fail_expected(p, what);
  return fail_at(p, s, "unknown %s '%.*s'", what, (int)(p->pos - s > 40 ? 40 : p->pos - s),
                 p->src + s);
}

/* slice={[0:2:1], [1:3]} with one entry per dimension of the shape. */
static bool parse_slice(Parser *p, HloInstr *in) {
  size_t at = p->pos;
  p->nints = 0;
  if (!expect(p, '{', "'{'")) return false;
  if (!accept(p, '}')) {
    for (;;) {
      int64_t v[3] = {0, 0, 1};
      if (!expect(p, '[', "'['") || !parse_int64(p, "slice start", &v[0]) ||
          !expect(p, ':', "':'") || !parse_int64(p, "slice limit", &v[1]))
        return false;
      if (accept(p, ':') && !parse_int64(p, "slice stride", &v[2])) return false;
      if (!expect(p, ']', "':' or ']'")) return false;
      p->ints = grow(p->ints, &p->ints_cap, p->nints + 3, sizeof *p->ints);
      memcpy(p->ints + p->nints, v, sizeof v);
      p->nints += 3;
      if (accept(p, ',')) continue;
      if (!expect(p, '}', "',' or '}'")) return false;
      break;
    }
  }
  int n = p->nints / 3;
  if (n != in->shape.rank)
    return fail_at(p, at, "slice has %d dimensions, the shape has %d", n, in->shape.rank);
  in->slice = hlo_arena_alloc(p->m->arena, sizeof(HloSliceDim) * (size_t)(n ? n : 1));
  for (int i = 0; i < n; i++)
    in->slice[i] = (HloSliceDim){p->ints[3 * i], p->ints[3 * i + 1], p->ints[3 * i + 2]};
  return true;
}

/* padding=lo_hi[_interior]x… with one entry per dimension of the shape. */
static bool parse_padding(Parser *p, HloInstr *in) {
  skip_ws(p);
  size_t at = p->pos;
  p->nints = 0;
  if (is_digit(peek(p)) || peek(p) == '-') {
    for (;;) {
      int64_t v[3] = {0, 0, 0};
      if (!scan_int64(p, "low padding", &v[0])) return false;
      if (peek(p) != '_') return fail_expected(p, "'_' in padding");
      p->pos++;
      if (!scan_int64(p, "high padding", &v[1])) return false;
      if (peek(p) == '_') {
        p->pos++;
        if (!scan_int64(p, "interior padding", &v[2])) return false;
      }
      p->ints = grow(p->ints, &p->ints_cap, p->nints + 3, sizeof *p->ints);
      memcpy(p->ints + p->nints, v, sizeof v);
      p->nints += 3;
      if (peek(p) != 'x') break;
      p->pos++;
    }
  }
  int n = p->nints / 3;
  /* A pad written without its shape keeps the count in its placeholder's
   * rank, for infer_one. */
  if (p->shape_left_out && n > HLO_MAX_RANK)
    return fail_at(p, at, "padding has more than %d dimensions", HLO_MAX_RANK);
  if (p->shape_left_out)
    in->shape.rank = n;
  else if (n != in->shape.rank)
    return fail_at(p, at, "padding has %d dimensions, the shape has %d", n, in->shape.rank);
  in->padding = hlo_arena_alloc(p->m->arena, sizeof(HloPadDim) * (size_t)(n ? n : 1));
  for (int i = 0; i < n; i++)
    in->padding[i] = (HloPadDim){p->ints[3 * i], p->ints[3 * i + 1], p->ints[3 * i + 2]};
  return true;
}

/* N x N x … (or lo_hi x lo_hi for pad) into v; returns the count in *n. */
static bool parse_window_list(Parser *p, bool pairs, int64_t *v, int *n) {
  *n = 0;
  skip_ws(p);
  for (;;) {
    size_t at = p->pos;
    if (*n == HLO_MAX_RANK)
      return fail_at(p, at, "window has more than %d dimensions", HLO_MAX_RANK);
    if (!scan_int64(p, "window size", &v[2 * *n])) return false;
    if (pairs) {
      if (peek(p) != '_') return fail_expected(p, "'_' in window padding");
      p->pos++;
      if (!scan_int64(p, "high padding", &v[2 * *n + 1])) return false;
    }
    ++*n;
    if (peek(p) != 'x') return true;
    p->pos++;
  }
}

/* window={size=3x3 stride=2x2 pad=0_1x0_1 lhs_dilate=… rhs_dilate=…
 * rhs_reversal=0x1}; absent fields take XLA's defaults. */
static bool parse_window(Parser *p, HloInstr *in) {
  static const char *const fields[] = {"size", "stride", "pad", "lhs_dilate", "rhs_dilate",
                                       "rhs_reversal"};
  int64_t v[6][2 * HLO_MAX_RANK];
  int counts[6] = {0};
  bool given[6] = {false};
  int rank = -1;
  if (!expect(p, '{', "'{'")) return false;
  while (!accept(p, '}')) {
    int f;
    skip_ws(p);
    size_t at = p->pos;
    if (!parse_enum(p, "window field", fields, 6, &f)) return false;
    if (given[f]) return fail_at(p, at, "window field '%s' is given twice", fields[f]);
    given[f] = true;
    if (!expect(p, '=', "'='") || !parse_window_list(p, f == 2, v[f], &counts[f])) return false;
    if (rank >= 0 && counts[f] != rank)
      return fail_at(p, at, "window field '%s' has %d dimensions, expected %d", fields[f],
                     counts[f], rank);
    rank = counts[f];
  }
  if (rank > 0 && !given[0]) return fail_at(p, p->pos - 1, "window has no size=");
  if (rank < 0) rank = 0;
  in->window_rank = rank;
  in->window = hlo_arena_alloc(p->m->arena, sizeof(HloWindowDim) * (size_t)(rank ? rank : 1));
  for (int i = 0; i < rank; i++) {
    HloWindowDim *w = &in->window[i];
    w->size = v[0][2 * i];
    w->stride = given[1] ? v[1][2 * i] : 1;
    w->pad_lo = given[2] ? v[2][2 * i] : 0;
    w->pad_hi = given[2] ? v[2][2 * i + 1] : 0;
    w->lhs_dilate = given[3] ? v[3][2 * i] : 1;
    w->rhs_dilate = given[4] ? v[4][2 * i] : 1;
    if (given[5] && v[5][2 * i] != 0 && v[5][2 * i] != 1)
      return fail_at(p, p->pos - 1, "rhs_reversal entries must be 0 or 1");
    w->reversal = given[5] && v[5][2 * i] == 1;
  }
  return true;
}

/* One side of dim_labels: `a` and `b` name the two non-spatial dimensions
 * (b/f, i/o), digits the spatial ones; positions go to *pa, *pb and sp[]. */
static bool dim_label_side(Parser *p, size_t at, const char *s, size_t n, char a, char b,
                           int64_t *pa, int64_t *pb, int64_t *sp, int *nspatial) {
  int ns = (int)n - 2;
  bool seen[10] = {false};
  *pa = *pb = -1;
  if (ns < 0 || ns > 10) goto bad;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == a && *pa < 0) *pa = (int64_t)i;
    else if (c == b && *pb < 0) *pb = (int64_t)i;
    else if (c >= '0' && c - '0' < ns && !seen[c - '0']) {
      seen[c - '0'] = true;
      sp[c - '0'] = (int64_t)i;
    } else goto bad;
  }
  if (*pa < 0 || *pb < 0 || (*nspatial >= 0 && *nspatial != ns)) goto bad;
  *nspatial = ns;
  return true;
bad:
  return fail_at(p, at, "invalid dim_labels '%.*s': each side needs %c, %c and the spatial "
                        "dimensions 0…N-1 once, with the same N on every side",
                 (int)n, s, a, b);
}

/* dim_labels=b01f_01io->b01f (any number of spatial dimensions). */
static bool parse_dim_labels(Parser *p, HloInstr *in) {
  skip_ws(p);
  size_t at = p->pos;
  const char *s[3];
  size_t n[3];
  for (int k = 0; k < 3; k++) {
    size_t b = p->pos;
    while (is_alnum(peek(p))) p->pos++;
    s[k] = p->src + b;
    n[k] = p->pos - b;
    if (k == 0) {
      if (peek(p) != '_') return fail_expected(p, "'_' in dim_labels");
      p->pos++;
    } else if (k == 1) {
      if (peek(p) != '-' || peek_at(p, 1) != '>') return fail_expected(p, "'->' in dim_labels");
      p->pos += 2;
    }
  }
  HloConvDims *d = &in->conv;
  int ns = -1;
  if (!dim_label_side(p, at, s[0], n[0], 'b', 'f', &d->in_batch, &d->in_feature,
                      d->in_spatial, &ns) ||
      !dim_label_side(p, at, s[1], n[1], 'i', 'o', &d->k_in_feature, &d->k_out_feature,
                      d->k_spatial, &ns) ||
      !dim_label_side(p, at, s[2], n[2], 'b', 'f', &d->out_batch, &d->out_feature,
                      d->out_spatial, &ns))
    return false;
  d->nspatial = ns;
  return true;
}

/* The iota form of replica groups, [G,S]<=[d0,d1,…] or …T(perm): the ids
 * 0…N-1 laid out with dims d, transposed by perm, cut into G groups of S.
 * XLA prints it for large meshes; it is expanded here (at most 2^20 ids). */
static bool parse_iota_groups(Parser *p, HloInstr *in) {
  size_t at = p->pos;
  int64_t gs[2], dims[HLO_MAX_RANK], perm[HLO_MAX_RANK];
  int nd = 0;
  if (!expect(p, '[', "'['") || !parse_int64(p, "group count", &gs[0]) ||
      !expect(p, ',', "','") || !parse_int64(p, "group size", &gs[1]) ||
      !expect(p, ']', "']'"))
    return false;
  skip_ws(p);
  if (peek(p) != '<' || peek_at(p, 1) != '=') return fail_expected(p, "'<='");
  p->pos += 2;
  if (!expect(p, '[', "'['")) return false;
  int64_t total = 1;
  for (;;) {
    if (nd == HLO_MAX_RANK) return fail_at(p, p->pos, "too many replica group dimensions");
    if (!parse_int64(p, "dimension size", &dims[nd])) return false;
    if (dims[nd] < 1 || dims[nd] > (1 << 20) || total * dims[nd] > (1 << 20))
      return fail_at(p, at, "replica groups of more than 2^20 ids are not supported");
    total *= dims[nd];
    perm[nd] = nd;
    nd++;
    if (accept(p, ',')) continue;
    if (!expect(p, ']', "',' or ']'")) return false;
    break;
  }
  if (accept_word(p, "T")) {
    bool seen[HLO_MAX_RANK] = {false};
    if (!expect(p, '(', "'('")) return false;
    for (int i = 0; i < nd; i++) {
      if (i && !expect(p, ',', "','")) return false;
      size_t ppos = p->pos;
      if (!parse_int64(p, "dimension", &perm[i])) return false;
      if (perm[i] < 0 || perm[i] >= nd || seen[perm[i]])
        return fail_at(p, ppos, "replica group transpose is not a permutation");
      seen[perm[i]] = true;
    }
    if (!expect(p, ')', "')'")) return false;
  }
  if (gs[0] < 1 || gs[1] < 1 || gs[0] > total || gs[0] * gs[1] != total)
    return fail_at(p, at, "replica groups [%lld,%lld] do not hold the %lld ids", (long long)gs[0],
                   (long long)gs[1], (long long)total);
  int64_t *ids = hlo_xmalloc(sizeof(int64_t) * (size_t)total);
  for (int64_t k = 0; k < total; k++) {
    /* k indexes the transposed array; find the id at that position. */
    int64_t rest = k, idx[HLO_MAX_RANK], id = 0;
    for (int i = nd - 1; i >= 0; i--) {
      idx[perm[i]] = rest % dims[perm[i]];
      rest /= dims[perm[i]];
    }
    for (int i = 0; i < nd; i++) id = id * dims[i] + idx[i];
    ids[k] = id;
  }
  hlo_instr_set_dims(in, &in->replica_groups, ids, (int)total);
  free(ids);
  p->nints = 0;
  for (int64_t g = 0; g < gs[0]; g++) {
    p->ints = grow(p->ints, &p->ints_cap, p->nints + 1, sizeof *p->ints);
    p->ints[p->nints++] = gs[1];
  }
  hlo_instr_set_dims(in, &in->replica_group_sizes, p->ints, p->nints);
  return true;
}

/* {{a,b,…},{…},…} into *flat (every list's entries, one after another)
 * and *sizes (each list's length); `pairs` wants two entries a list. */
static bool parse_id_lists(Parser *p, HloInstr *in, HloDims *flat, HloDims *sizes,
                           bool pairs) {
  int64_t *ids = NULL, *lens = NULL;
  int nids = 0, ids_cap = 0, nlens = 0, lens_cap = 0;
  bool ok = expect(p, '{', "'{'");
  if (ok && !accept(p, '}')) {
    for (;;) {
      size_t at = p->pos;
      if (!(ok = parse_int_list(p))) break;
      if (pairs && p->nints != 2) {
        ok = fail_at(p, at, "a source-target pair needs 2 ids, has %d", p->nints);
        break;
      }
      ids = grow(ids, &ids_cap, nids + p->nints, sizeof *ids);
      if (p->nints) memcpy(ids + nids, p->ints, sizeof *ids * (size_t)p->nints);
      nids += p->nints;
      lens = grow(lens, &lens_cap, nlens + 1, sizeof *lens);
      lens[nlens++] = p->nints;
      if (accept(p, ',')) continue;
      ok = expect(p, '}', "',' or '}'");
      break;
    }
  }
  if (ok) {
    hlo_instr_set_dims(in, flat, ids, nids);
    if (sizes) hlo_instr_set_dims(in, sizes, lens, nlens);
  }
  free(ids);
  free(lens);
  return ok;
}

/* replica_groups={{0,1},{2,3}}, {} or the iota form [2,2]<=[4]. */
static bool parse_replica_groups(Parser *p, HloInstr *in) {
  skip_ws(p);
  if (peek(p) == '[') return parse_iota_groups(p, in);
  return parse_id_lists(p, in, &in->replica_groups, &in->replica_group_sizes, false);
}

static bool parse_source_target_pairs(Parser *p, HloInstr *in) {
  return parse_id_lists(p, in, &in->source_target_pairs, NULL, true);
}

/* A computation reference (to_apply=%c) appended to p->comp_refs. */
static bool parse_inline_computation(Parser *p, int64_t key);

static bool parse_comp_ref(Parser *p, int64_t key) {
  skip_ws(p);
  if (peek(p) == '{') return parse_inline_computation(p, key);
  Ref r = {0};
  if (!parse_name(p, "computation name", &r)) return false;
  r.key = key;
  p->comp_refs = grow(p->comp_refs, &p->comp_refs_cap, p->ncomp_refs + 1, sizeof *p->comp_refs);
  p->comp_refs[p->ncomp_refs++] = r;
  return true;
}

/* {%a, %b}: keys first, first+1, … keep the list's order. */
static bool parse_comp_list(Parser *p, int64_t first) {
  if (!expect(p, '{', "'{'")) return false;
  if (accept(p, '}')) return true;
  for (int64_t k = first;; k++) {
    if (!parse_comp_ref(p, k)) return false;
    if (accept(p, ',')) continue;
    return expect(p, '}', "',' or '}'");
  }
}

/* Order of called computations among an instruction's: while calls
 * [condition, body], conditional [true, false] or its branches in order,
 * select-and-scatter [select, scatter]. */
enum { KEY_FIRST = 0, KEY_SECOND = 1 };

static bool parse_attr_value(Parser *p, HloInstr *in, AttrKind k) {
  static const char *const directions[] = {"EQ", "NE", "LT", "LE", "GT", "GE"};
  static const char *const compare_types[] = {"", "FLOAT", "TOTALORDER", "SIGNED", "UNSIGNED"};
  static const char *const fusion_kinds[] = {"kLoop", "kInput", "kOutput", "kCustom"};
  static const char *const transposes[] = {"NO_TRANSPOSE", "TRANSPOSE", "ADJOINT"};
  static const char *const rng_algorithms[] = {"rng_default", "rng_three_fry", "rng_philox"};
  int e;
  switch (k) {
  case A_DIMENSIONS: return parse_dims(p, in, &in->dimensions);
  case A_SLICE: return parse_slice(p, in);
  case A_PADDING: return parse_padding(p, in);
  case A_WINDOW: return parse_window(p, in);
  case A_DIM_LABELS: return parse_dim_labels(p, in);
  case A_FEATURE_GROUPS: return parse_int64(p, "integer", &in->feature_group_count);
  case A_BATCH_GROUPS: return parse_int64(p, "integer", &in->batch_group_count);
  case A_LHS_BATCH: return parse_dims(p, in, &in->dot.lhs_batch);
  case A_LHS_CONTRACTING: return parse_dims(p, in, &in->dot.lhs_contracting);
  case A_RHS_BATCH: return parse_dims(p, in, &in->dot.rhs_batch);
  case A_RHS_CONTRACTING: return parse_dims(p, in, &in->dot.rhs_contracting);
  case A_LHS_RAGGED: return parse_dims(p, in, &in->dot.lhs_ragged);
  case A_RHS_GROUP: return parse_dims(p, in, &in->dot.rhs_group);
  case A_DIRECTION:
    if (!parse_enum(p, "comparison direction", directions, 6, &e)) return false;
    in->direction = (HloCompareDir)e;
    return true;
  case A_COMPARE_TYPE:
    if (!parse_enum(p, "comparison type", compare_types + 1, 4, &e)) return false;
    in->compare_type = (HloCompareType)(e + 1);
    return true;
  case A_TO_APPLY: case A_CALLS: case A_CONDITION: case A_TRUE:
    return parse_comp_ref(p, KEY_FIRST);
  case A_BODY: case A_FALSE: case A_SCATTER: return parse_comp_ref(p, KEY_SECOND);
  case A_SELECT: return parse_comp_ref(p, KEY_FIRST);
  case A_BRANCHES: case A_CALLED_COMPUTATIONS: return parse_comp_list(p, 0);
  case A_KIND:
    if (!parse_enum(p, "fusion kind", fusion_kinds, 4, &e)) return false;
    in->fusion_kind = (HloFusionKind)e;
    return true;
  case A_INDEX: return parse_int64(p, "integer", &in->tuple_index);
  case A_IOTA_DIMENSION: return parse_int64(p, "integer", &in->iota_dimension);
  case A_DYNAMIC_SLICE_SIZES: return parse_dims(p, in, &in->dynamic_slice_sizes);
  case A_OFFSET_DIMS: return parse_dims(p, in, &in->gather.offset_dims);
  case A_COLLAPSED_SLICE_DIMS: return parse_dims(p, in, &in->gather.collapsed_slice_dims);
  case A_START_INDEX_MAP: return parse_dims(p, in, &in->gather.start_index_map);
  case A_OPERAND_BATCHING: return parse_dims(p, in, &in->gather.operand_batching_dims);
  case A_START_INDICES_BATCHING:
    return parse_dims(p, in, &in->gather.start_indices_batching_dims);
  case A_INDEX_VECTOR_DIM:
    return parse_int64(p, "integer", in->op == HLO_OP_GATHER ? &in->gather.index_vector_dim
                                                             : &in->scatter.index_vector_dim);
  case A_SLICE_SIZES: return parse_dims(p, in, &in->gather.slice_sizes);
  case A_INDICES_SORTED:
    return parse_bool(p, in->op == HLO_OP_GATHER ? &in->gather.indices_are_sorted
                                                 : &in->scatter.indices_are_sorted);
  case A_UPDATE_WINDOW_DIMS: return parse_dims(p, in, &in->scatter.update_window_dims);
  case A_INSERTED_WINDOW_DIMS: return parse_dims(p, in, &in->scatter.inserted_window_dims);
  case A_SCATTER_DIMS_TO_OPERAND:
    return parse_dims(p, in, &in->scatter.scatter_dims_to_operand_dims);
  case A_INPUT_BATCHING: return parse_dims(p, in, &in->scatter.input_batching_dims);
  case A_SCATTER_INDICES_BATCHING:
    return parse_dims(p, in, &in->scatter.scatter_indices_batching_dims);
  case A_UNIQUE_INDICES: return parse_bool(p, &in->scatter.unique_indices);
  case A_IS_STABLE: return parse_bool(p, &in->is_stable);
  case A_K: return parse_int64(p, "integer", &in->topk_k);
  case A_LARGEST: return parse_bool(p, &in->topk_largest);
  case A_LOWER: return parse_bool(p, &in->lower);
  case A_LEFT_SIDE: return parse_bool(p, &in->left_side);
  case A_UNIT_DIAGONAL: return parse_bool(p, &in->unit_diagonal);
  case A_TRANSPOSE_A:
    if (!parse_enum(p, "transpose_a", transposes, 3, &e)) return false;
    in->transpose_a = (HloTranspose)(e + 1);
    return true;
  case A_RNG_ALGORITHM:
    if (!parse_enum(p, "algorithm", rng_algorithms, 3, &e)) return false;
    in->rng_algorithm = (HloRngAlgorithm)e;
    return true;
  case A_RNG_DISTRIBUTION: {
    static const char *const dists[] = {"rng_uniform", "rng_normal"};
    if (!parse_enum(p, "distribution", dists, 2, &e)) return false;
    in->rng_distribution = (HloRngDistribution)(e + 1);
    return true;
  }
  case A_EPSILON: {
    uint64_t bits;
    if (!parse_float_bits(p, HLO_F32, &bits)) return false;
    uint32_t u = (uint32_t)bits;
    memcpy(&in->epsilon, &u, 4);
    return true;
  }
  case A_FEATURE_INDEX: return parse_int64(p, "integer", &in->feature_index);
  case A_FFT_TYPE: {
    static const char *const types[] = {"FFT", "IFFT", "RFFT", "IRFFT"};
    if (!parse_enum(p, "fft_type", types, 4, &e)) return false;
    in->fft_type = (HloFftType)e;
    return true;
  }
  case A_FFT_LENGTH: return parse_dims(p, in, &in->fft_length);
  case A_EXPONENT_BITS: return parse_int64(p, "integer", &in->exponent_bits);
  case A_MANTISSA_BITS: return parse_int64(p, "integer", &in->mantissa_bits);
  case A_TARGET: return parse_string(p, &in->custom_call_target);
  case A_METADATA: return parse_metadata(p, in);
  case A_REPLICA_GROUPS: return parse_replica_groups(p, in);
  case A_SOURCE_TARGET_PAIRS: return parse_source_target_pairs(p, in);
  case A_COUNT: break;
  }
  HLO_UNREACHABLE();
}

/* Attributes after the operand list (none when !allow, but the checks
 * still run; async_op: in is the op an OP-start wraps, which also takes
 * the pair's async_execution_thread); called computations are collected in p->comp_refs from index
 * `first_ref` on and sorted into their slots. */
static bool parse_attributes(Parser *p, HloInstr *in, const Ref *name, bool allow,
                             bool async_op) {
  uint64_t seen = 0;
  int outer_first = p->attr_first;
  p->attr_first = p->ncomp_refs;
  while (allow && accept(p, ',')) {
    Ref an;
    if (!parse_name(p, "attribute name", &an)) return false;
    if (!expect(p, '=', "'='")) return false;
    int kind = -1;
    for (size_t i = 0; kind < 0 && i < sizeof attr_names / sizeof attr_names[0]; i++)
      if (ref_is(&an, attr_names[i].name)) kind = (int)attr_names[i].kind;
    if (kind >= 0 && interprets(in->op, (AttrKind)kind)) {
      /* to_apply= and calls= are one slot of a call. */
      int slot = kind == A_CALLS && in->op == HLO_OP_CALL ? A_TO_APPLY : kind;
      if (seen >> slot & 1)
        return fail_at(p, an.pos, "attribute '%.*s' is given twice", (int)an.n, an.s);
      seen |= (uint64_t)1 << slot;
      if (!parse_attr_value(p, in, (AttrKind)kind)) return false;
      continue;
    }
    if (in->op != HLO_OP_CUSTOM_CALL && hlo_opcode_kind(in->op) != HLO_KIND_REFUSED &&
        !is_annotation(in->op, &an) && !(async_op && ref_is(&an, "async_execution_thread")))
      return undefined_attribute(p, &an, in->op, kind >= 0);
    for (int i = 0; i < in->nraw; i++)
      if (ref_is(&an, in->raw[i].name))
        return fail_at(p, an.pos, "attribute '%.*s' is given twice", (int)an.n, an.s);
    size_t s, e;
    if (!scan_raw_value(p, false, &s, &e)) return false;
    /* Name and value side by side in the scratch buffer, NUL-terminated. */
    char *kv = scratch(p, an.n + 1 + (e - s) + 1);
    memcpy(kv, an.s, an.n);
    kv[an.n] = '\0';
    memcpy(kv + an.n + 1, p->src + s, e - s);
    kv[an.n + 1 + (e - s)] = '\0';
    hlo_instr_add_raw(in, kv, kv + an.n + 1);
  }

  const char *what = NULL;
  if (in->op == HLO_OP_WHILE && (seen >> A_CONDITION & 1) != (seen >> A_BODY & 1))
    what = "both condition= and body=";
  if (in->op == HLO_OP_SELECT_AND_SCATTER && !((seen >> A_SELECT & 1) && (seen >> A_SCATTER & 1)))
    what = "select= and scatter=";
  if (in->op == HLO_OP_CONDITIONAL && (seen >> A_TRUE & 1) != (seen >> A_FALSE & 1))
    what = "both true_computation= and false_computation=";
  if (in->op == HLO_OP_CONDITIONAL && (seen >> A_TRUE & 1) && (seen >> A_BRANCHES & 1))
    what = "either branch_computations= or true_computation=/false_computation=, not both";
  if (in->op == HLO_OP_SLICE && !(seen >> A_SLICE & 1)) what = "slice=";
  if (in->op == HLO_OP_PAD && !(seen >> A_PADDING & 1)) what = "padding=";
  if (in->op == HLO_OP_COMPARE && !(seen >> A_DIRECTION & 1)) what = "direction=";
  if (in->op == HLO_OP_CONVOLUTION && !(seen >> A_DIM_LABELS & 1)) what = "dim_labels=";
  if (in->op == HLO_OP_TOPK && !(seen >> A_K & 1)) what = "k=";
  if (in->op == HLO_OP_RNG && !(seen >> A_RNG_DISTRIBUTION & 1)) what = "distribution=";
  if (in->op == HLO_OP_TOPK && !(seen >> A_LARGEST & 1)) in->topk_largest = true;
  if (in->op == HLO_OP_REDUCE_PRECISION && !(seen >> A_EXPONENT_BITS & 1))
    what = "exponent_bits=";
  if (in->op == HLO_OP_REDUCE_PRECISION && !(seen >> A_MANTISSA_BITS & 1))
    what = "mantissa_bits=";
  if (what)
    return fail_at(p, name->pos, "%s '%.*s' needs %s", hlo_opcode_name(in->op), (int)name->n,
                   name->s, what);
  if (in->op == HLO_OP_CONVOLUTION && in->window_rank != in->conv.nspatial)
    return fail_at(p, name->pos, "convolution '%.*s' has a window of %d dimensions but %d "
                                 "spatial dimensions",
                   (int)name->n, name->s, in->window_rank, in->conv.nspatial);

  /* A computation written inline moved this list's start (its own
   * instructions' references come first). */
  int first_ref = p->attr_first;
  p->attr_first = outer_first;
  int n = p->ncomp_refs - first_ref;
  if (n == 0) return true;
  Ref *r = p->comp_refs + first_ref;
  /* Stable insertion sort by key: lists arrive in order, so only a while's
   * or conditional's two slots given in reverse ever move. */
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && r[j - 1].key > r[j].key; j--) {
      Ref t = r[j];
      r[j] = r[j - 1];
      r[j - 1] = t;
    }
  p->calls = grow(p->calls, &p->calls_cap, p->ncalls + 1, sizeof *p->calls);
  p->calls[p->ncalls++] = (CallSite){in, first_ref, n};
  return true;
}

/* ------------------------------------------------------------------------ */
/* Instructions and computations                                            */
/* ------------------------------------------------------------------------ */

/* Whether the text may leave op's result shape out, XLA inferring it from
 * the operands and attributes (hlo_parser.cc's CanInferShape, for the
 * opcodes hloc has).  XLA wants it written for conversions, reshapes,
 * slices, leaves, fusions, custom-calls and collectives. */
static bool can_infer_shape(HloOpcode op) {
  switch (hlo_opcode_kind(op)) {
  case HLO_KIND_UNARY: return op != HLO_OP_CONVERT && op != HLO_OP_BITCAST_CONVERT;
  case HLO_KIND_BINARY: case HLO_KIND_TERNARY: case HLO_KIND_TUPLE:
  case HLO_KIND_REDUCTION: case HLO_KIND_CONTRACT:
    return true;
  default: break;
  }
  switch (op) {
  case HLO_OP_BROADCAST: case HLO_OP_TRANSPOSE: case HLO_OP_CONCATENATE: case HLO_OP_PAD:
  case HLO_OP_REVERSE: case HLO_OP_GATHER: case HLO_OP_SCATTER: case HLO_OP_CALL:
  case HLO_OP_WHILE: case HLO_OP_CONDITIONAL: case HLO_OP_BATCH_NORM_INFERENCE:
  case HLO_OP_BATCH_NORM_TRAINING: case HLO_OP_BATCH_NORM_GRAD:
  case HLO_OP_CHOLESKY: case HLO_OP_TRIANGULAR_SOLVE: case HLO_OP_FFT:
  case HLO_OP_AFTER_ALL: case HLO_OP_OPT_BARRIER: case HLO_OP_DOMAIN: case HLO_OP_REPLICA_ID:
  case HLO_OP_PARTITION_ID: case HLO_OP_ADD_DEPENDENCY:
    return true;
  default: return false;
  }
}

/* Whether an instruction's right-hand side starts with its shape: a tuple
 * shape, a word followed by '[' (an unknown element type is reported by
 * parse_shape), "token", the one shape written without brackets, or XLA's
 * buffer shape b(…) (which parse_shape refuses). */
static bool rhs_has_shape(Parser *p) {
  skip_ws(p);
  if (peek(p) == '(') return true;
  size_t at = p->pos;
  while (is_alnum(peek(p))) p->pos++;
  size_t n = p->pos - at;
  bool shape = n && (peek(p) == '[' || (n == 5 && !memcmp(p->src + at, "token", 5) &&
                                        !is_name_char(peek(p)) && peek(p) != '(') ||
                     (n == 1 && p->src[at] == 'b' && peek(p) == '('));
  p->pos = at;
  return shape;
}

static bool parse_rhs(Parser *p, const Ref *name, int depth, int *index);

/* XLA's older asynchronous spelling, OP-start, OP-update and OP-done
 * around any opcode OP (custom-call-start, call-done, ...), which XLA's
 * parser reads as async-start, async-update and async-done. */
static bool async_sugar(const char *s, size_t n, HloOpcode *op, HloOpcode *wrapped) {
  static const struct {
    const char *suffix;
    HloOpcode op;
  } forms[] = {{"-start", HLO_OP_ASYNC_START},
               {"-update", HLO_OP_ASYNC_UPDATE},
               {"-done", HLO_OP_ASYNC_DONE}};
  for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
    size_t k = strlen(forms[i].suffix);
    if (n > k && !memcmp(s + n - k, forms[i].suffix, k) && hlo_opcode_from_name(s, n - k, wrapped)) {
      *op = forms[i].op;
      return true;
    }
  }
  return false;
}

/* A computation made while another is read, placed in front of it
 * (callees first; the last computation stays the entry when none is
 * marked). */
static HloComputation *new_computation_before(Parser *p, const char *name) {
  HloComputation *w = hlo_computation_new(p->m, name), *cur = p->comp;
  p->m->last = w->prev;
  w->prev->next = NULL;
  w->prev = cur->prev;
  w->next = cur;
  if (cur->prev) cur->prev->next = w;
  else p->m->first = w;
  cur->prev = w;
  return w;
}

/* OP-start(operands), attributes: as XLA, the async-start `start` calls a
 * computation of its own, placed before the one being read, whose
 * parameters have the shapes of start's tuple element 0 and whose root is
 * OP with the attributes, shaped as element 1.  The thread the pair runs
 * on stays with start. */
static bool wrap_async(Parser *p, HloInstr *start, HloOpcode op, const Ref *self, bool allow) {
  const HloShape *args = &start->shape.tuple[0];
  HloComputation *w = new_computation_before(p, "async_wrapped");
  p->ptrs = grow(p->ptrs, &p->ptrs_cap, args->ntuple, sizeof *p->ptrs);
  HloInstr **params = (HloInstr **)p->ptrs;
  for (int i = 0; i < args->ntuple; i++)
    params[i] = hlo_parameter_new(w, i, &args->tuple[i], "async_param");
  HloInstr *root = hlo_instr_new(w, op, &start->shape.tuple[1], params, args->ntuple, "async_op");
  hlo_set_root(w, root);
  hlo_instr_set_called(start, &w, 1);
  if (!parse_attributes(p, root, self, allow, true)) return false;
  int kept = 0;
  for (int i = 0; i < root->nraw; i++) {
    if (!strcmp(root->raw[i].name, "async_execution_thread"))
      hlo_instr_add_raw(start, root->raw[i].name, root->raw[i].value);
    else
      root->raw[kept++] = root->raw[i];
  }
  root->nraw = kept;
  return true;
}

/* Operands: [shape] name, …  (shapes, printed by older XLA, are ignored),
 * or an instruction written inline, [shape] opcode(operands), which is
 * created before its user.  The operands of pend[index] go to p->refs in
 * one run, after those of the inline instructions. */
static bool parse_operands(Parser *p, int index, int depth) {
  Ref *list = NULL;
  int n = 0, cap = 0;
  bool ok = true;
  if (!accept(p, ')')) {
    for (;;) {
      skip_ws(p);
      size_t at = p->pos;
      while (is_alnum(peek(p))) p->pos++;
      HloType t;
      bool shape = peek(p) == '[' && hlo_type_from_name(p->src + at, p->pos - at, &t);
      p->pos = at;
      HloShape ignored;
      Ref r;
      if ((shape || peek(p) == '(') && !(ok = parse_shape(p, &ignored))) break;
      if (!(ok = parse_name(p, "operand name", &r))) break;
      skip_ws(p);
      if (peek(p) == '(') {
        /* It and the instructions inline in it are created at the end of
         * the list, in order, and move in front of the user. */
        HloInstr *user = p->pend[index].instr, *mark = p->comp->last;
        int k;
        p->pos = at;
        if (!(ok = parse_rhs(p, NULL, depth + 1, &k))) break;
        r = (Ref){NULL, 0, at, 0, p->pend[k].instr};
        for (HloInstr *x = mark->next, *next; x; x = next) {
          next = x->next;
          hlo_instr_move_before(x, user);
        }
      }
      list = grow(list, &cap, n + 1, sizeof *list);
      list[n++] = r;
      if (accept(p, ',')) continue;
      ok = expect(p, ')', "',' or ')'");
      break;
    }
  }
  if (ok) {
    p->refs = grow(p->refs, &p->refs_cap, p->nrefs + n, sizeof *p->refs);
    if (n) memcpy(p->refs + p->nrefs, list, sizeof *list * (size_t)n);
    p->pend[index].first_ref = p->nrefs;
    p->pend[index].nrefs = n;
    p->nrefs += n;
  }
  free(list);
  return ok;
}

/* [shape] opcode(operands) [, attributes]: the instruction `name`, or, when
 * name is NULL, an operand written inline, which XLA names "opcode.anon"
 * and which has no attributes (a ',' there separates operands).  *index is
 * its entry in p->pend. */
static bool parse_rhs(Parser *p, const Ref *name, int depth, int *index) {
  skip_ws(p);
  size_t at = p->pos;
  if (depth > MAX_NESTING)
    return fail_at(p, at, "instructions written inline nested more than %d deep", MAX_NESTING);
  HloShape shape;
  bool has_shape = rhs_has_shape(p);
  if (has_shape && !parse_shape(p, &shape)) return false;
  skip_ws(p);
  size_t op_at = p->pos;
  if (!is_alpha(peek(p))) return fail_expected(p, has_shape ? "opcode" : "shape or opcode");
  while (is_name_char(peek(p))) p->pos++;
  HloOpcode op, wrapped = HLO_NUM_OPCODES;
  if (!hlo_opcode_from_name(p->src + op_at, p->pos - op_at, &op) &&
      !async_sugar(p->src + op_at, p->pos - op_at, &op, &wrapped)) {
    int n = (int)(p->pos - op_at > 40 ? 40 : p->pos - op_at);
    return fail_at(p, op_at, "unknown opcode '%.*s'", n, p->src + op_at);
  }
  if (wrapped != HLO_NUM_OPCODES && op == HLO_OP_ASYNC_START && has_shape &&
      !(shape.type == HLO_TUPLE && shape.ntuple >= 2 && shape.tuple[0].type == HLO_TUPLE))
    return fail_at(p, op_at, "the shape of %s-start must be ((operands), result, context...)",
                   hlo_opcode_name(wrapped));
  if (!has_shape && !can_infer_shape(op))
    return fail_at(p, op_at, "the result shape of %s cannot be inferred: write it before the "
                             "opcode", hlo_opcode_name(op));
  if (!expect(p, '(', "'('")) return false;

  if (!has_shape) {
    /* Until infer_shapes: an empty tuple, which no operand count fits. */
    memset(&shape, 0, sizeof shape);
    shape.type = HLO_TUPLE;
  }
  const char *text_name;
  if (name) {
    text_name = cstr(p, name->s, name->n);
  } else {
    char *b = scratch(p, strlen(hlo_opcode_name(op)) + 6);
    sprintf(b, "%s.anon", hlo_opcode_name(op));
    text_name = b;
  }
  HloInstr *in = hlo_instr_new(p->comp, op, &shape, NULL, 0, text_name);
  if (name) map_put(&p->instrs, name->s, name->n, p->npend);
  p->pend = grow(p->pend, &p->pend_cap, p->npend + 1, sizeof *p->pend);
  *index = p->npend++;
  Ref self = name ? *name : (Ref){in->name, strlen(in->name), at, 0, NULL};
  p->pend[*index] = (Pending){in, self.s, self.n, self.pos, p->nrefs, 0};
  if (!has_shape) {
    p->unshaped = grow(p->unshaped, &p->unshaped_cap, p->nunshaped + 1, sizeof *p->unshaped);
    p->unshaped[p->nunshaped++] = (Unshaped){in, self.pos};
  }

  if (op == HLO_OP_PARAMETER) {
    if (!parse_int64(p, "parameter number", &in->parameter_number)) return false;
    if (!expect(p, ')', "')'")) return false;
  } else if (op == HLO_OP_CONSTANT) {
    skip_ws(p);
    if (has_token(&shape))
      return fail_at(p, self.pos, "constants of type token are not supported");
    if (elided_literal(p, &shape)) {
      in->literal_elided = true;
      if (!expect(p, ')', "')'")) return false;
      return parse_attributes(p, in, &self, name != NULL, false);
    }
    if (shape.type != HLO_TUPLE && shape.rank > 0 && peek(p) != '{') {
      /* One value for an array: XLA's parser reads it as the first
       * element and leaves the others zero (f32[3] constant(1) is
       * {1, 0, 0}), which is not a splat. */
      int64_t n = hlo_shape_elements(&shape);
      if (n == 0 || n > MAX_BARE_ELEMENTS - p->bare_elements)
        return fail_at(p, p->pos, "expected '{' starting the literal of %s",
                       n ? "a constant this large" : "an empty array");
      p->bare_elements += n;
      HloLiteral *lit = hlo_literal_new_in(p->m->arena, &shape);
      if (!parse_element(p, shape.type, lit->data, 0)) return false;
      in->literal = lit;
      if (!expect(p, ')', "')'")) return false;
      return parse_attributes(p, in, &self, name != NULL, false);
    }
    /* Every element takes at least one character, so a shape with more
     * elements than the text has left cannot be satisfied: check the text
     * without allocating (it fails with a precise message). */
    bool fits = total_elements(&shape) <= (int64_t)(p->len - p->pos);
    HloLiteral *lit = fits ? hlo_literal_new_in(p->m->arena, &shape) : NULL;
    if (!parse_literal(p, &shape, lit)) return false;
    HLO_CHECK(fits);
    in->literal = lit;
    if (!expect(p, ')', "')'")) return false;
  } else if (!parse_operands(p, *index, depth)) {
    return false;
  }
  p->shape_left_out = !has_shape;
  if (wrapped != HLO_NUM_OPCODES && op == HLO_OP_ASYNC_START)
    return wrap_async(p, in, wrapped, &self, name != NULL);
  return parse_attributes(p, in, &self, name != NULL, false);
}

/* [ROOT] name = rhs; *index is its entry in p->pend. */
static bool parse_instruction(Parser *p, int *root, int *index) {
  bool is_root = accept_keyword(p, "ROOT");
  Ref name;
  if (!parse_name(p, "instruction name", &name)) return false;
  int prev = map_find(&p->instrs, name.s, name.n);
  if (prev >= 0) {
    int line, col;
    line_col(p, p->pend[prev].pos, &line, &col);
    return fail_at(p, name.pos, "duplicate instruction name '%.*s' (first defined at %d:%d)",
                   (int)name.n, name.s, line, col);
  }
  if (is_root && *root >= 0)
    return fail_at(p, name.pos, "second ROOT instruction '%.*s' (the first is '%.*s')",
                   (int)name.n, name.s, (int)p->pend[*root].name_len, p->pend[*root].name);
  if (!expect(p, '=', "'='") || !parse_rhs(p, &name, 0, index)) return false;
  if (is_root) *root = *index;
  return true;
}

/* Operands, parameters and root (pend[root]) of the computation just
 * read. */
static bool finish_computation(Parser *p, const Ref *cname, size_t close, int root) {
  HloComputation *c = p->comp;
  if (p->npend == 0)
    return fail_at(p, close, "computation '%.*s' has no instructions", (int)cname->n, cname->s);
  int nparams = 0;
  for (int i = 0; i < p->npend; i++) {
    Pending *pd = &p->pend[i];
    p->ptrs = grow(p->ptrs, &p->ptrs_cap, pd->nrefs, sizeof *p->ptrs);
    HloInstr **ops = (HloInstr **)p->ptrs;
    for (int k = 0; k < pd->nrefs; k++) {
      const Ref *r = &p->refs[pd->first_ref + k];
      if (r->instr) {
        ops[k] = r->instr;
        continue;
      }
      int idx = map_find(&p->instrs, r->s, r->n);
      if (idx < 0)
        return fail_at(p, r->pos, "instruction '%.*s' uses undefined operand '%.*s'",
                       (int)pd->name_len, pd->name, (int)r->n, r->s);
      ops[k] = p->pend[idx].instr;
    }
    if (pd->nrefs) hlo_set_operands(pd->instr, ops, pd->nrefs);
    if (pd->instr->op == HLO_OP_PARAMETER) nparams++;
  }
  /* Parameters are registered here rather than with hlo_parameter_new, so
   * that a parameter number is checked against the count before anything
   * is allocated for it. */
  HloInstr **params =
      hlo_arena_alloc(p->m->arena, sizeof(HloInstr *) * (size_t)(nparams ? nparams : 1));
  for (int i = 0; i < p->npend; i++) {
    HloInstr *in = p->pend[i].instr;
    if (in->op != HLO_OP_PARAMETER) continue;
    int64_t k = in->parameter_number;
    if (k < 0 || k >= nparams)
      return fail_at(p, p->pend[i].pos,
                     "parameter number %lld of '%.*s' is out of range: computation '%.*s' has "
                     "%d parameters",
                     (long long)k, (int)p->pend[i].name_len, p->pend[i].name, (int)cname->n,
                     cname->s, nparams);
    if (params[k])
      return fail_at(p, p->pend[i].pos, "parameter number %lld is used twice", (long long)k);
    params[k] = in;
  }
  c->params = params;
  c->nparams = c->params_cap = nparams;
  hlo_set_root(c, p->pend[root].instr);
  return true;
}

/* The instructions of p->comp, after its '{', and the closing '}'. */
static bool parse_body(Parser *p, const Ref *name) {
  /* Without ROOT the last instruction written is the root, not one
   * written inline in it. */
  int root = -1, last = -1;
  for (;;) {
    skip_ws(p);
    if (peek(p) == '}') break;
    if (p->pos >= p->len) {
      char what[128];
      snprintf(what, sizeof what, "instruction or '}' closing computation '%.*s'",
               (int)(name->n > 60 ? 60 : name->n), name->s);
      return fail_expected(p, what);
    }
    if (!parse_instruction(p, &root, &last)) return false;
  }
  size_t close = p->pos++;
  return finish_computation(p, name, close, root >= 0 ? root : last);
}

/* A computation written as an attribute's value, to_apply={ instructions }:
 * XLA names it "_" and gives it a scope of its own.  It is read with the
 * outer computation's state set aside, placed before that computation,
 * and referred to directly.  The references to called computations the
 * outer attribute list has collected so far move after the nested
 * computation's own, so that the list stays in one run. */
static bool parse_inline_computation(Parser *p, int64_t key) {
  size_t at = p->pos;
  if (p->inline_depth >= MAX_NESTING)
    return fail_at(p, at, "computations written inline nested more than %d deep", MAX_NESTING);
  int nouter = p->ncomp_refs - p->attr_first;
  Ref *outer = hlo_xmalloc(sizeof *outer * (size_t)(nouter ? nouter : 1));
  if (nouter) memcpy(outer, p->comp_refs + p->attr_first, sizeof *outer * (size_t)nouter);
  p->ncomp_refs = p->attr_first;
  Parser saved = *p;
  p->pend = NULL, p->npend = p->pend_cap = 0;
  p->refs = NULL, p->nrefs = p->refs_cap = 0;
  p->instrs = (NameMap){0};
  p->inline_depth++;
  HloComputation *c = new_computation_before(p, "_");
  p->comp = c;
  p->pos++; /* '{' */
  Ref name = {"_", 1, at, 0, NULL, NULL};
  bool ok = parse_body(p, &name);
  free(p->pend);
  free(p->refs);
  map_clear(&p->instrs);
  p->comp = saved.comp;
  p->pend = saved.pend, p->npend = saved.npend, p->pend_cap = saved.pend_cap;
  p->refs = saved.refs, p->nrefs = saved.nrefs, p->refs_cap = saved.refs_cap;
  p->instrs = saved.instrs;
  p->shape_left_out = saved.shape_left_out;
  p->inline_depth--;
  p->attr_first = p->ncomp_refs;
  p->comp_refs =
      grow(p->comp_refs, &p->comp_refs_cap, p->ncomp_refs + nouter + 1, sizeof *p->comp_refs);
  if (nouter) memcpy(p->comp_refs + p->ncomp_refs, outer, sizeof *outer * (size_t)nouter);
  p->ncomp_refs += nouter;
  free(outer);
  if (!ok) return false;
  p->comp_refs[p->ncomp_refs++] = (Ref){"_", 1, at, key, NULL, c};
  return true;
}

/* [ENTRY] name [(p: shape, …) -> shape] { instructions } */
static bool parse_computation(Parser *p) {
  bool is_entry = accept_keyword(p, "ENTRY");
  Ref name;
  if (!parse_name(p, "computation", &name)) return false;
  if (accept(p, '(')) {
    /* The signature repeats the parameters' and root's shapes; the body is
     * authoritative, so it is only read. */
    if (!accept(p, ')')) {
      for (;;) {
        Ref pn;
        HloShape ignored;
        if (!parse_bare_name(p, "parameter name", &pn) || !expect(p, ':', "':'") ||
            !parse_shape(p, &ignored))
          return false;
        if (accept(p, ',')) continue;
        if (!expect(p, ')', "',' or ')'")) return false;
        break;
      }
    }
    skip_ws(p);
    if (peek(p) != '-' || peek_at(p, 1) != '>') return fail_expected(p, "'->'");
    p->pos += 2;
    HloShape ignored;
    if (!parse_shape(p, &ignored)) return false;
  }
  if (!expect(p, '{', "'{'")) return false;
  int prev = map_find(&p->comps, name.s, name.n);
  if (prev >= 0) {
    int line, col;
    line_col(p, p->defs[prev].pos, &line, &col);
    return fail_at(p, name.pos, "computation '%.*s' is already defined at %d:%d", (int)name.n,
                   name.s, line, col);
  }
  HloComputation *c = hlo_computation_new(p->m, cstr(p, name.s, name.n));
  map_put(&p->comps, name.s, name.n, p->ndefs);
  p->defs = grow(p->defs, &p->defs_cap, p->ndefs + 1, sizeof *p->defs);
  p->defs[p->ndefs++] = (CompDef){c, name.pos};
  if (is_entry) {
    if (p->m->entry)
      return fail_at(p, name.pos, "second ENTRY computation '%.*s' (the first is '%s')",
                     (int)name.n, name.s, p->m->entry->name);
    hlo_module_set_entry(p->m, c);
  }

  p->comp = c;
  p->npend = p->nrefs = 0;
  map_clear(&p->instrs);
  if (!parse_body(p, &name)) return false;
  /* execution_thread="host": the thread XLA runs the computation on,
   * which changes nothing on one device, so it is read and dropped. */
  if (accept(p, ',')) {
    Ref an;
    size_t s, e;
    if (!parse_name(p, "computation attribute", &an)) return false;
    if (!ref_is(&an, "execution_thread"))
      return fail_at(p, an.pos, "unknown computation attribute '%.*s' (only execution_thread)",
                     (int)an.n, an.s);
    if (!expect(p, '=', "'='") || !scan_string(p, &s, &e)) return false;
  }
  return true;
}

/* Called computations, once every computation is known. */
static bool resolve_calls(Parser *p) {
  for (int i = 0; i < p->ncalls; i++) {
    CallSite *cs = &p->calls[i];
    p->ptrs = grow(p->ptrs, &p->ptrs_cap, cs->n, sizeof *p->ptrs);
    HloComputation **called = (HloComputation **)p->ptrs;
    for (int k = 0; k < cs->n; k++) {
      const Ref *r = &p->comp_refs[cs->first + k];
      if (r->comp) {
        called[k] = r->comp;
        continue;
      }
      int idx = map_find(&p->comps, r->s, r->n);
      if (idx < 0)
        return fail_at(p, r->pos, "computation '%.*s' is not defined", (int)r->n, r->s);
      called[k] = p->defs[idx].c;
    }
    hlo_instr_set_called(cs->instr, called, cs->n);
    if (cs->instr->op == HLO_OP_FUSION) called[0]->is_fusion = true;
  }
  return true;
}

/* ------------------------------------------------------------------------ */
/* Result shapes left out                                                   */
/* ------------------------------------------------------------------------ */

/* XLA's shape of broadcast(x), dimensions={…} written without one
 * (ShapeInference::InferBroadcastShape of the operand and sizes): the
 * dimensions read as sizes, in front of the operand's. */
static bool infer_broadcast_shape(Parser *p, HloInstr *x, size_t at, HloShape *out) {
  const HloShape *o = &x->operands[0]->shape;
  const HloDims *d = &x->dimensions;
  if (d->n + o->rank > HLO_MAX_RANK)
    return fail_at(p, at, "cannot infer the shape of broadcast '%s': it would have more than %d "
                          "dimensions", x->name, HLO_MAX_RANK);
  int64_t dims[HLO_MAX_RANK];
  for (int i = 0; i < d->n; i++) {
    if (d->v[i] < 0)
      return fail_at(p, at, "cannot infer the shape of broadcast '%s': size %lld is negative",
                     x->name, (long long)d->v[i]);
    dims[i] = d->v[i];
  }
  memcpy(dims + d->n, o->dims, sizeof *dims * (size_t)o->rank);
  *out = hlo_shape_array(o->type, d->n + o->rank, dims);
  return true;
}

/* What XLA's inference keeps of the operands' layouts: an elementwise
 * result, a copy and the ops that pass a value through have the layout of
 * the operand they are shaped like; a tuple, get-tuple-element, while and
 * call have the very shapes (with layouts) they are made of.  s is the
 * inferred shape, without layouts. */
static HloShape with_source_layout(Parser *p, const HloInstr *x, HloShape s) {
  const HloShape *src = NULL;
  if (x->op == HLO_OP_TUPLE) {
    HloShape *el = hlo_xmalloc(sizeof *el * (size_t)(x->noperands ? x->noperands : 1));
    for (int i = 0; i < x->noperands; i++) el[i] = x->operands[i]->shape;
    HloShape t = hlo_shape_tuple(p->m->arena, x->noperands, el);
    free(el);
    return t;
  }
  if (x->op == HLO_OP_GET_TUPLE_ELEMENT)
    src = &x->operands[0]->shape.tuple[x->tuple_index];
  else if (x->op == HLO_OP_WHILE || x->op == HLO_OP_COPY || x->op == HLO_OP_OPT_BARRIER ||
           x->op == HLO_OP_DOMAIN || x->op == HLO_OP_ADD_DEPENDENCY)
    src = &x->operands[0]->shape;
  else if (x->op == HLO_OP_CALL)
    src = &x->called[0]->root->shape;
  if (src) return hlo_shape_equal(src, &s, false) ? *src : s;
  if (!hlo_opcode_is_elementwise(x->op) || s.type == HLO_TUPLE) return s;
  const HloShape *like = &x->operands[x->op == HLO_OP_SELECT || x->op == HLO_OP_CLAMP]->shape;
  if (like->has_layout && like->rank == s.rank) {
    s.has_layout = true;
    memcpy(s.minor_to_major, like->minor_to_major, sizeof s.minor_to_major);
  }
  return s;
}

/* The shape of x, written without one, from its operands' (inferred
 * already), attributes and called computations; shape_pos[id] is 1 + the
 * position of an instruction still waiting for its shape. */
static bool infer_one(Parser *p, HloInstr *x, const size_t *shape_pos) {
  size_t at = shape_pos[x->id] - 1;
  for (int i = 0; i < x->noperands; i++)
    if (shape_pos[x->operands[i]->id])
      return fail_at(p, at, "cannot infer the shape of %s '%s': its operand '%s' depends on it",
                     hlo_opcode_name(x->op), x->name, x->operands[i]->name);
  for (int i = 0; i < x->ncalled; i++)
    if (x->called[i]->root && shape_pos[x->called[i]->root->id])
      return fail_at(p, at, "cannot infer the shape of %s '%s': computation '%s' depends on it",
                     hlo_opcode_name(x->op), x->name, x->called[i]->name);
  HloShape s;
  if (x->op == HLO_OP_BROADCAST && x->noperands == 1 &&
      hlo_type_is_array(x->operands[0]->shape.type)) {
    if (!infer_broadcast_shape(p, x, at, &s)) return false;
  } else {
    /* A dot or convolution takes its element type from its own shape
     * (XLA's preferred element type); XLA infers none: the operands'. */
    if ((x->op == HLO_OP_DOT || x->op == HLO_OP_RAGGED_DOT || x->op == HLO_OP_SCALED_DOT ||
         x->op == HLO_OP_CONVOLUTION) &&
        x->noperands > 0 &&
        hlo_type_is_array(x->operands[0]->shape.type))
      x->shape = hlo_shape_scalar(x->operands[0]->shape.type);
    /* A pad's padding has an entry per dimension of its own shape: that
     * many the placeholder got from parse_padding. */
    if (x->op == HLO_OP_PAD) {
      int64_t dims[HLO_MAX_RANK] = {0};
      x->shape = hlo_shape_array(HLO_F32, x->shape.rank, dims);
    }
    HloError *e = hlo_infer_shape(x, &s);
    if (e) {
      /* The rule without the instruction hlo_infer_shape names: its shape
       * is the placeholder. */
      char *d = hlo_instr_describe(x);
      const char *msg = hlo_error_message(e), *op = hlo_opcode_name(x->op);
      size_t dn = strlen(d), on = strlen(op);
      if (!strncmp(msg, d, dn) && !strncmp(msg + dn, ": ", 2) && !strncmp(msg + dn + 2, op, on) &&
          !strncmp(msg + dn + 2 + on, ": ", 2))
        msg += dn + 2 + on + 2;
      fail_at(p, at, "cannot infer the shape of %s '%s': %s", op, x->name, msg);
      free(d);
      hlo_error_free(e);
      return false;
    }
    s = with_source_layout(p, x, s);
  }
  HloError *e = hlo_shape_check_size(&s);
  if (e) {
    fail_at(p, at, "cannot infer the shape of %s '%s': %s", hlo_opcode_name(x->op), x->name,
            hlo_error_message(e));
    hlo_error_free(e);
    return false;
  }
  x->shape = s;
  return true;
}

/* Shapes left out of the text, once operands and called computations are
 * resolved: callees before callers, operands before users, as XLA, which
 * infers each one as it reads it (it allows no uses before definitions). */
static bool infer_shapes(Parser *p) {
  if (!p->nunshaped) return true;
  size_t *shape_pos = hlo_xcalloc((size_t)p->m->next_id, sizeof *shape_pos);
  for (int i = 0; i < p->nunshaped; i++)
    shape_pos[p->unshaped[i].instr->id] = p->unshaped[i].pos + 1;
  int nc;
  HloComputation **comps = hlo_computation_post_order(p->m, &nc);
  bool ok = true;
  for (int i = 0; ok && i < nc; i++) {
    int n;
    HloInstr **order = hlo_post_order(comps[i], &n);
    for (int k = 0; ok && k < n; k++) {
      if (!shape_pos[order[k]->id]) continue;
      ok = infer_one(p, order[k], shape_pos);
      shape_pos[order[k]->id] = 0;
    }
    free(order);
  }
  free(comps);
  free(shape_pos);
  return ok;
}

/* The header is optional: without one, XLA names the module after its
 * entry computation. */
static bool parse_module(Parser *p) {
  bool header = accept_word(p, "HloModule");
  Ref name;
  if (!header) {
    skip_ws(p);
    if (p->pos >= p->len) return fail_expected(p, "'HloModule' or a computation");
    p->m = hlo_module_new("module");
  } else {
    if (!parse_bare_name(p, "module name", &name)) return false;
    /* Older XLA ends the name with a colon: "HloModule m:". */
    if (peek(p) == ':') p->pos++;
    p->m = hlo_module_new(cstr(p, name.s, name.n));
  }
  while (header && accept(p, ',')) {
    Ref key;
    size_t s, e;
    if (!parse_name(p, "module attribute name", &key) || !expect(p, '=', "'='") ||
        !scan_raw_value(p, false, &s, &e))
      return false;
    p->mraw = grow(p->mraw, &p->mraw_cap, p->nmraw + 1, sizeof *p->mraw);
    p->mraw[p->nmraw++] = (HloRawAttr){hlo_arena_strndup(p->m->arena, key.s, key.n),
                                       hlo_arena_strndup(p->m->arena, p->src + s, e - s)};
  }
  if (p->nmraw) {
    p->m->raw = hlo_arena_memdup(p->m->arena, p->mraw, sizeof *p->mraw * (size_t)p->nmraw);
    p->m->nraw = p->nmraw;
  }
  if (!parse_stack_tables(p)) return false;
  do {
    if (!parse_computation(p)) return false;
    skip_ws(p);
  } while (p->pos < p->len);
  if (p->open_comment) return fail_at(p, p->open_comment - 1, "unterminated comment");
  if (!resolve_calls(p)) return false;
  if (!p->m->entry) hlo_module_set_entry(p->m, p->m->last);
  if (!header) {
    const char *entry = p->m->entry->name;
    char *b = scratch(p, strlen(entry) + 8);
    sprintf(b, "module_%s", entry);
    p->m->name = hlo_arena_strdup(p->m->arena, b);
  }
  return infer_shapes(p);
}

HloError *hlo_parse(const char *text, size_t len, const char *filename, HloModule **out) {
  *out = NULL;
  Parser p = {0};
  p.src = text;
  p.len = len;
  p.file = filename ? filename : "<input>";
  if (len > INT_MAX) {
    fail_at(&p, 0, "input is larger than 2 GiB");
  } else {
    parse_module(&p);
  }
  free(p.buf);
  free(p.pend);
  free(p.refs);
  map_clear(&p.instrs);
  map_clear(&p.comps);
  free(p.defs);
  free(p.comp_refs);
  free(p.calls);
  free(p.mraw);
  free(p.unshaped);
  free(p.ints);
  free(p.ptrs);
  free(p.files.v);
  free(p.locations.v);
  free(p.frames.v);
  if (p.err) {
    hlo_module_free(p.m);
    return p.err;
  }
  *out = p.m;
  return NULL;
}

HloError *hlo_parse_file(const char *path, HloModule **out) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) return hlo_error("%s: cannot open: %s", path, strerror(errno));
  HloStr s = {0};
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) hlo_str_append(&s, chunk, n);
  bool bad = ferror(f);
  fclose(f);
  size_t len = s.len;
  char *text = hlo_str_take(&s);
  HloError *e = bad ? hlo_error("%s: read error", path) : hlo_parse(text, len, path, out);
  free(text);
  return e;
}
