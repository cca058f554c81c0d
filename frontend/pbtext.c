/*
 * pbtext.c — the protobuf text format, for any message type, driven by
 * protobuf-c's descriptors.
 *
 * TensorFlow writes .pbtxt GraphDefs and tfcompile configs in this format:
 *
 *     node { name: "x" op: "Placeholder"
 *            attr { key: "dtype" value { type: DT_FLOAT } } }
 *     feed { id { node_name: "x" } shape { dim { size: 2 } } }
 *
 * One recursive-descent parser serves every message: a field is looked up by
 * name in the message's ProtobufCMessageDescriptor, and its value is read
 * according to the field's type.  Rather than filling protobuf-c structs by
 * hand (offsets, quantifiers, oneof cases, allocators), the parser writes
 * the binary wire format of what it reads, and protobuf-c unpacks that: the
 * result is exactly the message a binary parse gives, freed the usual way.
 * A nested message is written to a buffer of its own, then appended to its
 * parent with its length.  Repeated scalars are written unpacked (one tag per
 * value), which protobuf-c accepts for packed fields too.  Maps need nothing
 * special: on the wire and in protobuf-c a map is a repeated message of
 * {key, value} entries, and that is how the text format spells it too.
 *
 * Accepted, as protobuf's own text parser does: `name: { … }`, `name { … }`
 * and `name < … >`; repeated fields by repetition or as `name: [a, b]`;
 * `,` or `;` after a field; integers in decimal, hex (0x) and octal (0…);
 * floats with exponents, a trailing f, inf/infinity/nan; bools as true/
 * True/t/false/False/f/1/0; enums by name or number; strings in single or
 * double quotes with C escapes (\n \" \123 \x41 \u00e9 …), adjacent strings
 * concatenated; `#` comments.  Not supported: extensions and Any ([…] field
 * names).  Errors are "FILE:LINE:COL: message"; a non-repeated field given
 * twice, or two members of one oneof, are errors as in protobuf.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "frontend.h"

#define MAX_DEPTH 100

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

typedef enum TokKind {
  TOK_EOF,
  TOK_IDENT,
  TOK_NUMBER,
  TOK_STRING, /* text between the quotes, escapes not yet decoded */
  TOK_SYMBOL, /* one character of {}<>[]:,;- */
} TokKind;

typedef struct Tok {
  TokKind kind;
  const char *p; /* the token's text */
  size_t n;
  int line, col; /* 1-based, of the first character */
  bool is_float; /* numbers: has '.', an exponent or an f suffix */
} Tok;

typedef struct Parser {
  const char *text;
  size_t len;
  size_t pos;        /* next character to tokenize */
  int line;          /* line of text[pos] */
  size_t line_start; /* offset of that line's first character */
  const char *filename;
  Tok tok;           /* the current token */
  HloError *err;     /* the first error; parsing stops there */
} Parser;

static bool fail_at(Parser *P, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static bool fail_at(Parser *P, int line, int col, const char *fmt, ...) {
  if (P->err) return false;
  va_list ap;
  va_start(ap, fmt);
  P->err = hlo_verror(fmt, ap);
  va_end(ap);
  P->err = hlo_error_wrap(P->err, "%s:%d:%d", P->filename, line, col);
  return false;
}
#define fail(P, ...) fail_at(P, (P)->tok.line, (P)->tok.col, __VA_ARGS__)

/* ------------------------------------------------------------------------ */
/* Tokens                                                                    */
/* ------------------------------------------------------------------------ */

static bool is_ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c); }
static bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static char peek_at(const Parser *P, size_t i) {
  return P->pos + i < P->len ? P->text[P->pos + i] : '\0';
}

/* Skips whitespace and comments; returns false at the end of input. */
static bool skip_space(Parser *P) {
  while (P->pos < P->len) {
    char c = P->text[P->pos];
    if (c == '\n') {
      P->pos++;
      P->line++;
      P->line_start = P->pos;
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f') {
      P->pos++;
    } else if (c == '#') {
      while (P->pos < P->len && P->text[P->pos] != '\n') P->pos++;
    } else {
      return true;
    }
  }
  return false;
}

/* A number: 0x hex, or digits with optional fraction, exponent and f. */
static bool lex_number(Parser *P, Tok *t) {
  size_t start = P->pos;
  if (peek_at(P, 0) == '0' && (peek_at(P, 1) == 'x' || peek_at(P, 1) == 'X')) {
    P->pos += 2;
    if (!is_hex(peek_at(P, 0)))
      return fail(P, "expected hex digits after '0x'");
    while (is_hex(peek_at(P, 0))) P->pos++;
  } else {
    while (is_digit(peek_at(P, 0))) P->pos++;
    if (peek_at(P, 0) == '.') {
      t->is_float = true;
      P->pos++;
      while (is_digit(peek_at(P, 0))) P->pos++;
    }
    char e = peek_at(P, 0);
    if (e == 'e' || e == 'E') {
      size_t k = 1;
      if (peek_at(P, 1) == '+' || peek_at(P, 1) == '-') k = 2;
      if (!is_digit(peek_at(P, k)))
        return fail(P, "expected digits in the exponent of a number");
      t->is_float = true;
      P->pos += k;
      while (is_digit(peek_at(P, 0))) P->pos++;
    }
    if (peek_at(P, 0) == 'f' || peek_at(P, 0) == 'F') {
      t->is_float = true;
      P->pos++;
    }
  }
  if (is_ident_char(peek_at(P, 0)) || peek_at(P, 0) == '.')
    return fail(P, "invalid number '%.*s%c'", (int)(P->pos - start),
                P->text + start, peek_at(P, 0));
  t->p = P->text + start;
  t->n = P->pos - start;
  return true;
}

/* A quoted string; escapes are checked later, when decoded. */
static bool lex_string(Parser *P, Tok *t) {
  char q = P->text[P->pos++];
  size_t start = P->pos;
  for (;;) {
    if (P->pos >= P->len || P->text[P->pos] == '\n')
      return fail(P, "string is not terminated on its line");
    char c = P->text[P->pos];
    if (c == q) break;
    P->pos += c == '\\' && P->pos + 1 < P->len && P->text[P->pos + 1] != '\n'
                  ? 2
                  : 1;
  }
  t->p = P->text + start;
  t->n = P->pos - start;
  P->pos++;
  return true;
}

/* Reads the next token into P->tok. */
static bool next(Parser *P) {
  Tok t = {0};
  if (!skip_space(P)) {
    t.kind = TOK_EOF;
    t.line = P->line;
    t.col = (int)(P->pos - P->line_start) + 1;
    P->tok = t;
    return true;
  }
  t.line = P->line;
  t.col = (int)(P->pos - P->line_start) + 1;
  P->tok = t; /* positions errors from the lexers below */
  char c = P->text[P->pos];
  if (is_ident_start(c)) {
    t.kind = TOK_IDENT;
    t.p = P->text + P->pos;
    while (is_ident_char(peek_at(P, 0))) P->pos++;
    t.n = (size_t)(P->text + P->pos - t.p);
  } else if (is_digit(c) || (c == '.' && is_digit(peek_at(P, 1)))) {
    t.kind = TOK_NUMBER;
    if (!lex_number(P, &t)) return false;
  } else if (c == '"' || c == '\'') {
    t.kind = TOK_STRING;
    if (!lex_string(P, &t)) return false;
  } else if (strchr("{}<>[]:,;-", c) && c) {
    t.kind = TOK_SYMBOL;
    t.p = P->text + P->pos++;
    t.n = 1;
  } else if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f) {
    return fail(P, "unexpected character '%c'", c);
  } else {
    return fail(P, "unexpected byte 0x%02x", (unsigned char)c);
  }
  P->tok = t;
  return true;
}

static bool at_symbol(const Parser *P, char c) {
  return P->tok.kind == TOK_SYMBOL && P->tok.p[0] == c;
}

/* The current token, quoted, for messages. */
static const char *tok_text(const Parser *P, char *buf, size_t n) {
  switch (P->tok.kind) {
  case TOK_EOF: return "end of input";
  case TOK_STRING: snprintf(buf, n, "a string"); return buf;
  default:
    snprintf(buf, n, "'%.*s'", (int)(P->tok.n > 40 ? 40 : P->tok.n),
             P->tok.p);
    return buf;
  }
}

static bool expect_symbol(Parser *P, char c, const char *context) {
  char b[64];
  if (!at_symbol(P, c))
    return fail(P, "expected '%c' %s, got %s", c, context,
                tok_text(P, b, sizeof b));
  return next(P);
}

/* ------------------------------------------------------------------------ */
/* Wire output                                                               */
/* ------------------------------------------------------------------------ */

static void put_varint(HloStr *out, uint64_t v) {
  char b[10];
  size_t n = 0;
  do {
    b[n++] = (char)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
    v >>= 7;
  } while (v);
  hlo_str_append(out, b, n);
}

static void put_tag(HloStr *out, uint32_t field, int wt) {
  put_varint(out, (uint64_t)field << 3 | (uint64_t)wt);
}

static void put_fixed(HloStr *out, uint64_t v, int bytes) {
  char b[8];
  for (int i = 0; i < bytes; i++) b[i] = (char)(v >> (8 * i));
  hlo_str_append(out, b, (size_t)bytes);
}

static void put_len(HloStr *out, uint32_t field, const char *p, size_t n) {
  put_tag(out, field, WT_LEN);
  put_varint(out, n);
  hlo_str_append(out, p, n);
}

/* ------------------------------------------------------------------------ */
/* Scalar values                                                             */
/* ------------------------------------------------------------------------ */

/* Appends the UTF-8 encoding of code point c. */
static void put_utf8(HloStr *s, uint32_t c) {
  char b[4];
  size_t n;
  if (c < 0x80) {
    b[0] = (char)c;
    n = 1;
  } else if (c < 0x800) {
    b[0] = (char)(0xc0 | c >> 6);
    b[1] = (char)(0x80 | (c & 0x3f));
    n = 2;
  } else if (c < 0x10000) {
    b[0] = (char)(0xe0 | c >> 12);
    b[1] = (char)(0x80 | (c >> 6 & 0x3f));
    b[2] = (char)(0x80 | (c & 0x3f));
    n = 3;
  } else {
    b[0] = (char)(0xf0 | c >> 18);
    b[1] = (char)(0x80 | (c >> 12 & 0x3f));
    b[2] = (char)(0x80 | (c >> 6 & 0x3f));
    b[3] = (char)(0x80 | (c & 0x3f));
    n = 4;
  }
  hlo_str_append(s, b, n);
}

static int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  return (c | 0x20) - 'a' + 10;
}

/* Decodes the escapes of the current string token onto out. */
static bool decode_string(Parser *P, HloStr *out) {
  const char *p = P->tok.p, *end = p + P->tok.n;
  while (p < end) {
    const char *run = p;
    while (p < end && *p != '\\') p++;
    hlo_str_append(out, run, (size_t)(p - run));
    if (p == end) break;
    const char *esc = p++; /* at the backslash; p at the escape letter */
    int col = P->tok.col + 1 + (int)(esc - P->tok.p);
    char c = *p++;
    switch (c) {
    case 'n': hlo_str_append(out, "\n", 1); break;
    case 't': hlo_str_append(out, "\t", 1); break;
    case 'r': hlo_str_append(out, "\r", 1); break;
    case 'a': hlo_str_append(out, "\a", 1); break;
    case 'b': hlo_str_append(out, "\b", 1); break;
    case 'f': hlo_str_append(out, "\f", 1); break;
    case 'v': hlo_str_append(out, "\v", 1); break;
    case '\\': case '\'': case '"': case '?': hlo_str_append(out, &c, 1); break;
    case 'x': case 'X': {
      if (p == end || !is_hex(*p))
        return fail_at(P, P->tok.line, col, "expected hex digits after \\x");
      int v = 0;
      for (int i = 0; i < 2 && p < end && is_hex(*p); i++)
        v = v * 16 + hex_value(*p++);
      char b = (char)v;
      hlo_str_append(out, &b, 1);
      break;
    }
    case 'u': case 'U': {
      int digits = c == 'u' ? 4 : 8;
      uint32_t v = 0;
      for (int i = 0; i < digits; i++) {
        if (p == end || !is_hex(*p))
          return fail_at(P, P->tok.line, col, "expected %d hex digits after "
                         "\\%c", digits, c);
        v = v * 16 + (uint32_t)hex_value(*p++);
      }
      if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return fail_at(P, P->tok.line, col, "\\%c escape U+%X is not a "
                       "Unicode scalar value", c, v);
      put_utf8(out, v);
      break;
    }
    default:
      if (c >= '0' && c <= '7') {
        int v = c - '0';
        for (int i = 0; i < 2 && p < end && *p >= '0' && *p <= '7'; i++)
          v = v * 8 + (*p++ - '0');
        if (v > 0xff)
          return fail_at(P, P->tok.line, col, "octal escape \\%o is larger "
                         "than a byte", (unsigned)v);
        char b = (char)v;
        hlo_str_append(out, &b, 1);
        break;
      }
      return fail_at(P, P->tok.line, col, "invalid escape '\\%c'", c);
    }
  }
  return true;
}

/* One string value: adjacent string tokens concatenated. */
static bool parse_string(Parser *P, const ProtobufCFieldDescriptor *f,
                         HloStr *out) {
  char b[64];
  if (P->tok.kind != TOK_STRING)
    return fail(P, "expected a string for field '%s', got %s", f->name,
                tok_text(P, b, sizeof b));
  HloStr s = {0};
  while (P->tok.kind == TOK_STRING) {
    if (!decode_string(P, &s) || !next(P)) {
      free(s.buf);
      return false;
    }
  }
  put_len(out, f->id, s.buf ? s.buf : "", s.len);
  free(s.buf);
  return true;
}

/* The magnitude of an integer token: decimal, 0x hex or 0 octal. */
static bool parse_magnitude(Parser *P, const ProtobufCFieldDescriptor *f,
                            uint64_t *out) {
  const Tok *t = &P->tok;
  if (t->kind != TOK_NUMBER || t->is_float) {
    char b[64];
    return fail(P, "expected an integer for field '%s', got %s", f->name,
                tok_text(P, b, sizeof b));
  }
  const char *p = t->p, *end = t->p + t->n;
  unsigned base = 10;
  if (t->n > 2 && (p[1] == 'x' || p[1] == 'X')) {
    base = 16;
    p += 2;
  } else if (t->n > 1 && p[0] == '0') {
    base = 8;
    p++;
  }
  uint64_t v = 0;
  for (; p < end; p++) {
    unsigned d = (unsigned)hex_value(*p);
    if (d >= base)
      return fail(P, "invalid digit '%c' in octal integer '%.*s'", *p,
                  (int)t->n, t->p);
    if (v > (UINT64_MAX - d) / base)
      return fail(P, "integer '%.*s' is out of range", (int)t->n, t->p);
    v = v * base + d;
  }
  *out = v;
  return true;
}

/* [-]integer into *v, range-checked for the field's type. */
static bool parse_integer(Parser *P, const ProtobufCFieldDescriptor *f,
                          bool is_signed, int bits, uint64_t *v) {
  bool neg = false;
  int line = P->tok.line, col = P->tok.col;
  if (at_symbol(P, '-')) {
    neg = true;
    if (!next(P)) return false;
  }
  uint64_t m;
  if (!parse_magnitude(P, f, &m)) return false;
  if (neg && !is_signed)
    return fail_at(P, line, col, "negative value for unsigned field '%s'",
                   f->name);
  uint64_t max = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
  if (is_signed) max >>= 1;
  if (m > max + (neg ? 1 : 0))
    return fail_at(P, line, col, "value %s%.*s out of range for %s-bit "
                   "field '%s'", neg ? "-" : "", (int)P->tok.n, P->tok.p,
                   bits == 64 ? "64" : "32", f->name);
  *v = neg ? (uint64_t)0 - m : m;
  return next(P);
}

static bool parse_float(Parser *P, const ProtobufCFieldDescriptor *f,
                        double *v) {
  bool neg = false;
  if (at_symbol(P, '-')) {
    neg = true;
    if (!next(P)) return false;
  }
  const Tok *t = &P->tok;
  char b[64];
  if (t->kind == TOK_IDENT) {
    if ((t->n == 3 && !strncasecmp(t->p, "inf", 3)) ||
        (t->n == 8 && !strncasecmp(t->p, "infinity", 8)))
      *v = INFINITY;
    else if (t->n == 3 && !strncasecmp(t->p, "nan", 3))
      *v = NAN;
    else
      return fail(P, "expected a number for field '%s', got %s", f->name,
                  tok_text(P, b, sizeof b));
  } else if (t->kind == TOK_NUMBER && !t->is_float) {
    uint64_t m;
    if (!parse_magnitude(P, f, &m)) return false;
    *v = (double)m;
  } else if (t->kind == TOK_NUMBER) {
    size_t n = t->n;
    if (t->p[n - 1] == 'f' || t->p[n - 1] == 'F') n--;
    char *s = hlo_xmalloc(n + 1);
    memcpy(s, t->p, n);
    s[n] = '\0';
    *v = strtod(s, NULL);
    free(s);
  } else {
    return fail(P, "expected a number for field '%s', got %s", f->name,
                tok_text(P, b, sizeof b));
  }
  if (neg) *v = -*v;
  return next(P);
}

static bool parse_bool(Parser *P, const ProtobufCFieldDescriptor *f,
                       bool *v) {
  static const char *const yes[] = {"true", "True", "t", "1"};
  static const char *const no[] = {"false", "False", "f", "0"};
  const Tok *t = &P->tok;
  if (t->kind == TOK_IDENT || t->kind == TOK_NUMBER) {
    for (int i = 0; i < 4; i++) {
      if (strlen(yes[i]) == t->n && !memcmp(t->p, yes[i], t->n)) {
        *v = true;
        return next(P);
      }
      if (strlen(no[i]) == t->n && !memcmp(t->p, no[i], t->n)) {
        *v = false;
        return next(P);
      }
    }
  }
  char b[64];
  return fail(P, "expected true or false for field '%s', got %s", f->name,
              tok_text(P, b, sizeof b));
}

static bool parse_enum(Parser *P, const ProtobufCFieldDescriptor *f,
                       int32_t *v) {
  const ProtobufCEnumDescriptor *ed = f->descriptor;
  if (P->tok.kind == TOK_IDENT) {
    char name[128];
    const ProtobufCEnumValue *ev = NULL;
    if (P->tok.n < sizeof name) {
      memcpy(name, P->tok.p, P->tok.n);
      name[P->tok.n] = '\0';
      ev = protobuf_c_enum_descriptor_get_value_by_name(ed, name);
    }
    if (!ev)
      return fail(P, "unknown value '%.*s' of enum %s for field '%s'",
                  (int)(P->tok.n > 60 ? 60 : P->tok.n), P->tok.p, ed->name,
                  f->name);
    *v = ev->value;
    return next(P);
  }
  if (P->tok.kind != TOK_NUMBER && !at_symbol(P, '-')) {
    char b[64];
    return fail(P, "expected a value of enum %s for field '%s', got %s",
                ed->name, f->name, tok_text(P, b, sizeof b));
  }
  uint64_t u;
  if (!parse_integer(P, f, true, 32, &u)) return false;
  *v = (int32_t)u;
  return true;
}

/* One value of a non-message field, written with its tag. */
static bool parse_scalar(Parser *P, const ProtobufCFieldDescriptor *f,
                         HloStr *out) {
  uint64_t u = 0;
  double d = 0;
  bool b = false;
  int32_t e = 0;
  switch (f->type) {
  case PROTOBUF_C_TYPE_STRING:
  case PROTOBUF_C_TYPE_BYTES:
    return parse_string(P, f, out);
  case PROTOBUF_C_TYPE_BOOL:
    if (!parse_bool(P, f, &b)) return false;
    put_tag(out, f->id, WT_VARINT);
    put_varint(out, b);
    return true;
  case PROTOBUF_C_TYPE_ENUM:
    if (!parse_enum(P, f, &e)) return false;
    put_tag(out, f->id, WT_VARINT);
    put_varint(out, (uint64_t)(int64_t)e);
    return true;
  case PROTOBUF_C_TYPE_FLOAT: {
    if (!parse_float(P, f, &d)) return false;
    float x = (float)d;
    uint32_t bits;
    memcpy(&bits, &x, 4);
    put_tag(out, f->id, WT_I32);
    put_fixed(out, bits, 4);
    return true;
  }
  case PROTOBUF_C_TYPE_DOUBLE: {
    if (!parse_float(P, f, &d)) return false;
    memcpy(&u, &d, 8);
    put_tag(out, f->id, WT_I64);
    put_fixed(out, u, 8);
    return true;
  }
  case PROTOBUF_C_TYPE_INT32:
    if (!parse_integer(P, f, true, 32, &u)) return false;
    put_tag(out, f->id, WT_VARINT);
    put_varint(out, (uint64_t)(int64_t)(int32_t)u);
    return true;
  case PROTOBUF_C_TYPE_SINT32: {
    if (!parse_integer(P, f, true, 32, &u)) return false;
    uint32_t n = (uint32_t)u;
    put_tag(out, f->id, WT_VARINT);
    put_varint(out, (uint32_t)(n << 1) ^ (uint32_t)-(int32_t)(n >> 31));
    return true;
  }
  case PROTOBUF_C_TYPE_SFIXED32:
  case PROTOBUF_C_TYPE_FIXED32:
    if (!parse_integer(P, f, f->type == PROTOBUF_C_TYPE_SFIXED32, 32, &u))
      return false;
    put_tag(out, f->id, WT_I32);
    put_fixed(out, u, 4);
    return true;
  case PROTOBUF_C_TYPE_UINT32:
    if (!parse_integer(P, f, false, 32, &u)) return false;
    put_tag(out, f->id, WT_VARINT);
    put_varint(out, u);
    return true;
  case PROTOBUF_C_TYPE_INT64:
  case PROTOBUF_C_TYPE_UINT64:
    if (!parse_integer(P, f, f->type == PROTOBUF_C_TYPE_INT64, 64, &u))
      return false;
    put_tag(out, f->id, WT_VARINT);
    put_varint(out, u);
    return true;
  case PROTOBUF_C_TYPE_SINT64:
    if (!parse_integer(P, f, true, 64, &u)) return false;
    put_tag(out, f->id, WT_VARINT);
    put_varint(out, (u << 1) ^ (uint64_t)-(int64_t)(u >> 63));
    return true;
  case PROTOBUF_C_TYPE_SFIXED64:
  case PROTOBUF_C_TYPE_FIXED64:
    if (!parse_integer(P, f, f->type == PROTOBUF_C_TYPE_SFIXED64, 64, &u))
      return false;
    put_tag(out, f->id, WT_I64);
    put_fixed(out, u, 8);
    return true;
  case PROTOBUF_C_TYPE_MESSAGE:
    break;
  }
  HLO_UNREACHABLE();
}

/* ------------------------------------------------------------------------ */
/* Messages                                                                  */
/* ------------------------------------------------------------------------ */

static bool parse_body(Parser *P, const ProtobufCMessageDescriptor *d,
                       HloStr *out, char close, int depth, int open_line,
                       int open_col);

/* `{ … }` or `< … >` at the current token: the message, written to out as
 * field f. */
static bool parse_message_value(Parser *P, const ProtobufCFieldDescriptor *f,
                                HloStr *out, int depth) {
  char b[64];
  if (!at_symbol(P, '{') && !at_symbol(P, '<'))
    return fail(P, "expected '{' to start message field '%s', got %s",
                f->name, tok_text(P, b, sizeof b));
  if (depth + 1 > MAX_DEPTH)
    return fail(P, "messages nested deeper than %d", MAX_DEPTH);
  char close = P->tok.p[0] == '{' ? '}' : '>';
  int line = P->tok.line, col = P->tok.col;
  if (!next(P)) return false;
  HloStr child = {0};
  bool ok = parse_body(P, f->descriptor, &child, close, depth + 1, line, col);
  if (ok) put_len(out, f->id, child.buf ? child.buf : "", child.len);
  free(child.buf);
  return ok;
}

/* One value of field f: a message or a scalar. */
static bool parse_value(Parser *P, const ProtobufCFieldDescriptor *f,
                        HloStr *out, int depth) {
  if (f->type == PROTOBUF_C_TYPE_MESSAGE)
    return parse_message_value(P, f, out, depth);
  return parse_scalar(P, f, out);
}

/* `[v, v, …]` at the current token. */
static bool parse_list(Parser *P, const ProtobufCFieldDescriptor *f,
                       HloStr *out, int depth) {
  if (f->label != PROTOBUF_C_LABEL_REPEATED)
    return fail(P, "field '%s' is not repeated: it takes no list", f->name);
  if (!next(P)) return false;
  if (at_symbol(P, ']')) return next(P);
  for (;;) {
    if (!parse_value(P, f, out, depth)) return false;
    if (at_symbol(P, ']')) return next(P);
    if (!expect_symbol(P, ',', "or ']' in a list")) return false;
  }
}

/* Fields until `close` (or the end of input at top level, close == 0),
 * which is consumed; the message was opened at open_line:open_col. */
static bool parse_body(Parser *P, const ProtobufCMessageDescriptor *d,
                       HloStr *out, char close, int depth, int open_line,
                       int open_col) {
  bool *seen = hlo_xcalloc(d->n_fields, sizeof *seen);
  bool ok = false;
  char b[64];
  for (;;) {
    if (close && at_symbol(P, close)) {
      ok = next(P);
      break;
    }
    if (P->tok.kind == TOK_EOF) {
      if (!close) {
        ok = true;
        break;
      }
      fail(P, "unexpected end of input: '%c' at %d:%d is not closed",
           close == '}' ? '{' : '<', open_line, open_col);
      break;
    }
    if (at_symbol(P, '[')) {
      fail(P, "extension and Any fields ([…]) are not supported");
      break;
    }
    if (P->tok.kind != TOK_IDENT) {
      fail(P, "expected a field name, got %s", tok_text(P, b, sizeof b));
      break;
    }
    char name[128];
    const ProtobufCFieldDescriptor *f = NULL;
    if (P->tok.n < sizeof name) {
      memcpy(name, P->tok.p, P->tok.n);
      name[P->tok.n] = '\0';
      f = protobuf_c_message_descriptor_get_field_by_name(d, name);
    }
    if (!f) {
      fail(P, "unknown field '%.*s' in %s",
           (int)(P->tok.n > 60 ? 60 : P->tok.n), P->tok.p, d->name);
      break;
    }
    size_t fi = (size_t)(f - d->fields);
    if (f->label != PROTOBUF_C_LABEL_REPEATED) {
      if (seen[fi]) {
        fail(P, "field '%s' of %s is given more than once", f->name, d->name);
        break;
      }
      const ProtobufCFieldDescriptor *other = NULL;
      for (unsigned i = 0; (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
                           i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *g = &d->fields[i];
        if (seen[i] && (g->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            g->quantifier_offset == f->quantifier_offset)
          other = g;
      }
      if (other) {
        fail(P, "fields '%s' and '%s' of %s are in one oneof: give one",
             other->name, f->name, d->name);
        break;
      }
      seen[fi] = true;
    }
    if (!next(P)) break;
    bool colon = at_symbol(P, ':');
    if (colon && !next(P)) break;
    if (!colon && f->type != PROTOBUF_C_TYPE_MESSAGE) {
      fail(P, "expected ':' after field name '%s', got %s", f->name,
           tok_text(P, b, sizeof b));
      break;
    }
    if (at_symbol(P, '[') ? !parse_list(P, f, out, depth)
                          : !parse_value(P, f, out, depth))
      break;
    if ((at_symbol(P, ',') || at_symbol(P, ';')) && !next(P)) break;
  }
  free(seen);
  return ok;
}

HloError *tf_proto_parse_text(const ProtobufCMessageDescriptor *desc,
                              const char *text, size_t len,
                              const char *filename, ProtobufCMessage **out) {
  *out = NULL;
  if (len >= INT32_MAX) /* also keeps line and column numbers in an int */
    return hlo_error("%s: %zu bytes is larger than protobuf's 2 GiB limit",
                     filename, len);
  Parser P = {.text = text, .len = len, .line = 1, .filename = filename};
  HloStr wire = {0};
  if (next(&P)) parse_body(&P, desc, &wire, 0, 0, 1, 1);
  if (P.err) {
    free(wire.buf);
    return P.err;
  }
  *out = protobuf_c_message_unpack(desc, NULL, wire.len,
                                   (const uint8_t *)(wire.buf ? wire.buf : ""));
  free(wire.buf);
  if (!*out)
    return hlo_error("%s: protobuf-c could not unpack the %s read from text",
                     filename, desc->name);
  return NULL;
}
