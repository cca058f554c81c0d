/*
 * hlo.h — hloc's HLO intermediate representation, the one public header of
 * hlo/.
 *
 * The IR follows XLA's HLO: a module holds computations, a computation holds
 * instructions in a doubly linked list, each instruction has an opcode from
 * one X-macro table (HLO_OPCODES below), a shape, operands, users, called
 * computations and attributes.  Semantics are XLA's (openxla
 * operation_semantics); the text format is XLA's, so HLO printed by XLA/JAX
 * can be read, evaluated and compiled here.
 *
 * Memory: a module owns an arena.  Everything reachable from a module —
 * computations, instructions, operand and user arrays, names, attribute
 * arrays, constant payloads — lives in it and is freed with the module.
 * Passes unlink instructions, they never free them.  Large constant
 * payloads (a model's weights) are blocks of their own in the arena, so
 * that those of constants no instruction holds any more can be freed
 * before the module, at a point where nothing else refers to them
 * (hlo_module_release_dead_literals).  Literals produced by the
 * evaluator are the exception: they are malloc'd and freed with
 * hlo_literal_free().
 *
 * Errors are values: every function that can fail on bad input returns an
 * HloError * (NULL on success) whose message names the file:line:col or the
 * instruction.  Broken internal invariants abort via HLO_CHECK.
 *
 * The files of hlo/:
 *   ir.c              arena, errors, element types, shapes, literals, the
 *                     module/computation/instruction graph and its edges
 *   narrow.c          the sub-byte integer and the f8/f4 float types
 *   shape_inference.c one shape rule per opcode (used by builder + verifier)
 *   builder.c         convenience constructors that infer shapes
 *   verifier.c        structural and shape checks of a whole module
 *   printer.c         HLO text out
 *   parser.c          HLO text in
 *   evaluator.c       the reference interpreter, oracle of every test
 *   indexing.c        how instructions and fused kernels read their operands
 */
#ifndef HLOC_HLO_H
#define HLOC_HLO_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ------------------------------------------------------------------------ */
/* Internal invariants                                                      */
/* ------------------------------------------------------------------------ */

_Noreturn void hlo_fatal(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define HLO_CHECK(cond)                                                       \
  do {                                                                        \
    if (!(cond)) hlo_fatal(__FILE__, __LINE__, "check failed: %s", #cond);    \
  } while (0)
#define HLO_UNREACHABLE() hlo_fatal(__FILE__, __LINE__, "unreachable")

/* malloc, calloc and realloc for the compiler's own memory (the arena
 * uses them too): running out of memory is fatal (file:line) unless an
 * hlo_guard_oom on this thread catches it; a zero size is one byte. */
void *hlo_xmalloc(size_t n);
void *hlo_xcalloc(size_t n, size_t size);
void *hlo_xrealloc(void *p, size_t n);
char *hlo_xstrdup(const char *s);

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct HloError HloError; /* opaque: one message */

HloError *hlo_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
HloError *hlo_verror(const char *fmt, va_list ap);
/* Prepends "CONTEXT: " to e's message (e may be NULL: returns NULL). */
HloError *hlo_error_wrap(HloError *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

const char *hlo_error_message(const HloError *e);
void hlo_error_free(HloError *e);

/* Runs fn(ctx) so that running out of memory in hlo_xmalloc and friends on
 * this thread, anywhere below fn, returns "out of memory: cannot allocate N
 * bytes" instead of ending the process: the library's entry points and the
 * driver's commands run under it.  What fn allocated before the failure is
 * not freed (it is unreachable), and what fn was changing may be left
 * mid-update: the caller frees it and does not use it. */
HloError *hlo_guard_oom(HloError *(*fn)(void *ctx), void *ctx);

/* ------------------------------------------------------------------------ */
/* Growable strings (printer, diagnostics)                                   */
/* ------------------------------------------------------------------------ */

typedef struct HloStr {
  char *buf;  /* NUL-terminated, malloc'd; NULL while empty */
  size_t len; /* bytes before the NUL */
  size_t cap; /* bytes allocated */
} HloStr;

void hlo_str_printf(HloStr *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void hlo_str_append(HloStr *s, const char *text, size_t n);
/* Returns the malloc'd buffer (never NULL) and resets s. */
char *hlo_str_take(HloStr *s);

/* The Levenshtein distance of a[0..na) and b[0..nb) (insertions,
 * deletions, substitutions), for "did you mean" suggestions: only small
 * distances matter there, so strings longer than 64 bytes are not
 * compared and give HLO_EDIT_FAR, as does any distance above it. */
enum { HLO_EDIT_FAR = 9 };
int hlo_edit_distance(const char *a, size_t na, const char *b, size_t nb);

/* ------------------------------------------------------------------------ */
/* Arena                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct HloArena HloArena;

HloArena *hlo_arena_new(void);
void hlo_arena_free(HloArena *a);
/* Zeroed, 64-byte aligned memory that lives as long as the arena. */
void *hlo_arena_alloc(HloArena *a, size_t size);
/* hlo_arena_alloc of a block of its own, which hlo_arena_release may free
 * before the arena (large payloads that can die while the arena lives).
 * Large blocks are mapped from the system, not malloc'd, so that freeing
 * one gives its memory back whatever malloc's thresholds have become. */
void *hlo_arena_alloc_block(HloArena *a, size_t size);
/* Frees a block of hlo_arena_alloc_block now.  (A module's blocks are its
 * literals' payloads, which hlo_module_release_dead_literals frees.) */
void hlo_arena_release(HloArena *a, void *block);
/* Frees every block of hlo_arena_alloc_block that none of live[0..n)
 * points into (live is sorted in place); returns their bytes. */
size_t hlo_arena_release_unless(HloArena *a, const void **live, size_t n);
char *hlo_arena_strdup(HloArena *a, const char *s);
char *hlo_arena_strndup(HloArena *a, const char *s, size_t n);
void *hlo_arena_memdup(HloArena *a, const void *p, size_t n);

/* ------------------------------------------------------------------------ */
/* Element types                                                            */
/* ------------------------------------------------------------------------ */

/* X(enum suffix, text name, bytes per element).  The types after TOKEN
 * came later and are stored one element per byte (or two floats for the
 * complex ones): XLA packs s4/u4/s2/u2/f4e2m1fn several to a byte only under
 * a layout with an explicit element_size_in_bits, and its literals, like
 * ml_dtypes' NumPy arrays, hold one element per byte, as hloc does
 * everywhere (literals, buffers, kernels).  A sub-byte integer's byte holds
 * its value sign- or zero-extended; a small float's byte its bit pattern in
 * the low bits. */
#define HLO_TYPES(X)                                                          \
  X(PRED, "pred", 1)                                                          \
  X(S8, "s8", 1)                                                              \
  X(S16, "s16", 2)                                                            \
  X(S32, "s32", 4)                                                            \
  X(S64, "s64", 8)                                                            \
  X(U8, "u8", 1)                                                              \
  X(U16, "u16", 2)                                                            \
  X(U32, "u32", 4)                                                            \
  X(U64, "u64", 8)                                                            \
  X(F16, "f16", 2)                                                            \
  X(BF16, "bf16", 2)                                                          \
  X(F32, "f32", 4)                                                            \
  X(F64, "f64", 8)                                                            \
  X(TUPLE, "tuple", 0)                                                        \
  X(TOKEN, "token", 0)                                                        \
  X(S2, "s2", 1)                                                              \
  X(S4, "s4", 1)                                                              \
  X(U2, "u2", 1)                                                              \
  X(U4, "u4", 1)                                                              \
  X(F8E4M3FN, "f8e4m3fn", 1)                                                  \
  X(F8E5M2, "f8e5m2", 1)                                                      \
  X(F8E4M3FNUZ, "f8e4m3fnuz", 1)                                              \
  X(F8E5M2FNUZ, "f8e5m2fnuz", 1)                                              \
  X(F8E4M3B11FNUZ, "f8e4m3b11fnuz", 1)                                        \
  X(F8E4M3, "f8e4m3", 1)                                                      \
  X(F8E3M4, "f8e3m4", 1)                                                      \
  X(F8E8M0FNU, "f8e8m0fnu", 1)                                                \
  X(F4E2M1FN, "f4e2m1fn", 1)                                                  \
  X(C64, "c64", 8)                                                            \
  X(C128, "c128", 16)

typedef enum HloType {
#define X(e, name, bytes) HLO_##e,
  HLO_TYPES(X)
#undef X
  HLO_NUM_TYPES
} HloType;

const char *hlo_type_name(HloType t);
size_t hlo_type_size(HloType t); /* 0 for TUPLE and TOKEN */
/* Looks up "f32", "pred", … (n bytes of name); false when unknown. */
bool hlo_type_from_name(const char *name, size_t n, HloType *out);
bool hlo_type_is_float(HloType t);    /* f16 bf16 f32 f64, the f8 and f4 types */
bool hlo_type_is_signed(HloType t);   /* s2 s4 s8 … s64 */
bool hlo_type_is_unsigned(HloType t); /* u2 u4 u8 … u64 */
bool hlo_type_is_integer(HloType t);  /* signed or unsigned, not pred */
bool hlo_type_is_complex(HloType t);  /* c64 c128 */
bool hlo_type_is_array(HloType t);    /* not TUPLE/TOKEN */
/* The value's width in bits: 1 for pred, 2 for s2, 4 for s4 and f4e2m1fn,
 * 8 for the f8 types, 64 for c64 (the two halves); 0 for TUPLE/TOKEN. */
int hlo_type_bits(HloType t);
/* The float type of a complex type's halves (f32 for c64, f64 for c128),
 * and the complex type with halves of float type t (none: false). */
HloType hlo_complex_part_type(HloType t);
bool hlo_complex_type_of(HloType t, HloType *out);

/* f16 and bf16 are stored as their 16-bit patterns. */
float hlo_f16_to_f32(uint16_t h);
uint16_t hlo_f32_to_f16(float f);   /* round to nearest even */
float hlo_bf16_to_f32(uint16_t h);
uint16_t hlo_f32_to_bf16(float f);  /* round to nearest even */

/* The 8- and 4-bit float types (narrow.c), as ml_dtypes defines them:
 * bits = [sign] exponent mantissa, value (-1)^s × 2^(e-bias) × 1.m, and
 * e = 0 subnormal (0.m × 2^(1-bias)), except where the kind says. */
typedef enum HloSmallFloatKind {
  HLO_SF_IEEE, /* e = all ones: ±inf (m = 0) or NaN (f8e5m2, f8e4m3, f8e3m4) */
  HLO_SF_FN,   /* no inf; only all ones (either sign) is NaN (f8e4m3fn) */
  HLO_SF_FNUZ, /* no inf, no -0; 0x80 (the -0 pattern) is the one NaN */
  HLO_SF_E8M0, /* f8e8m0fnu: no sign, no zero, no subnormals: bits b are
                  2^(b-127), 0xff is NaN; ties round up */
  HLO_SF_F4,   /* f4e2m1fn: no inf, no NaN; overflow saturates */
} HloSmallFloatKind;

typedef struct HloSmallFloat {
  int ebits;              /* exponent field width */
  int mbits;              /* mantissa field width */
  int bias;               /* exponent bias */
  HloSmallFloatKind kind; /* which special values exist */
} HloSmallFloat;

/* t's format, or NULL when t is not one of the f8/f4 types. */
const HloSmallFloat *hlo_small_float(HloType t);
/* Exact widening; NaN keeps its sign bit (fnuz's NaN is -NaN, e8m0's +NaN). */
float hlo_small_to_f32(HloType t, uint8_t bits);
/* XLA's convert (ml_dtypes' rules): round to nearest even (e8m0: ties up);
 * out of range becomes inf (IEEE), NaN (fn, fnuz, e8m0) or the largest
 * value (f4e2m1fn); NaN becomes the type's NaN (f4e2m1fn: -0 for +NaN and
 * +0 for -NaN, as ml_dtypes); e8m0 maps zero and negatives to NaN and
 * values below 2^-127 to 2^-127. */
uint8_t hlo_small_from_f32(HloType t, float f);
/* The same from a double, rounded once (not twice through f32). */
uint8_t hlo_small_from_f64(HloType t, double d);
/* An integer wrapped to a sub-byte integer type's width (sign-extended for
 * s2/s4, zero-extended for u2/u4); other types: v unchanged. */
int64_t hlo_small_int_wrap(HloType t, int64_t v);
/* A double rounded to f32 with round-to-odd: rounding that to a format
 * with at most 21 mantissa bits gives the double's own rounding. */
float hlo_f64_to_f32_odd(double d);

/* ------------------------------------------------------------------------ */
/* Shapes                                                                   */
/* ------------------------------------------------------------------------ */

#define HLO_MAX_RANK 12

/* An array shape (type != TUPLE) or a tuple of shapes.  A shape is a value:
 * it is copied by assignment; only a tuple's element array is shared (and
 * lives in an arena or is static). */
typedef struct HloShape {
  HloType type;
  int rank;                          /* arrays: number of dims */
  int64_t dims[HLO_MAX_RANK];        /* arrays: static sizes, >= 0 */
  bool has_layout;                   /* minor_to_major was given */
  int8_t minor_to_major[HLO_MAX_RANK]; /* layout; default {rank-1,…,0} */
  int ntuple;                        /* tuples: element count */
  const struct HloShape *tuple;      /* tuples: the elements */
  /* XLA's dynamic dimensions: bit d of `dynamic` is set when dim d is
   * written "<=N" (dims[d] is the bound N; the interpreter runs such
   * shapes, codegen refuses them) or "?" (also bit d of `unbounded`;
   * dims[d] is then 0; refused by hlo_verify).  Shapes compare equal
   * whatever these bits. */
  uint16_t dynamic, unbounded;
  /* XLA's buffer shape b(f32[16]) (a buffer holding that array, which
   * custom-calls pin and update in place): on one device, the array
   * (hlo_verify says where it may be). */
  bool is_buffer;
} HloShape;

/* An array shape with the default (row-major) layout. */
HloShape hlo_shape_array(HloType t, int rank, const int64_t *dims);
HloShape hlo_shape_scalar(HloType t);
/* A tuple shape; the element array is copied into arena a. */
HloShape hlo_shape_tuple(HloArena *a, int n, const HloShape *elems);
bool hlo_shape_is_tuple(const HloShape *s);
int64_t hlo_shape_elements(const HloShape *s);   /* product of dims */
size_t hlo_shape_byte_size(const HloShape *s);   /* arrays only */
/* Structural equality; layouts are compared only when with_layout. */
bool hlo_shape_equal(const HloShape *a, const HloShape *b, bool with_layout);
/* Some array of s (tuple elements included) has a dynamic dimension. */
bool hlo_shape_is_dynamic(const HloShape *s);
/* Some array of s has an unbounded dynamic dimension ("?"). */
bool hlo_shape_is_unbounded(const HloShape *s);
/* A value of shape v may stand for `declared`: the same type and rank,
 * and the same dims but where `declared` is dynamic ("<=N"), whose size
 * v's may be, from 0 to N (tuples element by element). */
bool hlo_shape_fits(const HloShape *v, const HloShape *declared);
bool hlo_shape_has_buffer(const HloShape *s);
/* Same dims, any element type. */
bool hlo_shape_same_dims(const HloShape *a, const HloShape *b);
/* The common factors of a reshape from `from` to `to` (their dims, the
 * bounds of dynamic ones): the fewest runs of consecutive dims of each
 * whose products are equal, run k being from's dims [fs[k], fs[k+1]) and
 * to's [ts[k], ts[k+1]) (arrays of rank + 2); returns the number of runs,
 * or -1 where a dim is 0 or the element counts differ. */
int hlo_reshape_groups(const HloShape *from, const HloShape *to, int *fs, int *ts);
/* True when the layout is absent or equals the default {rank-1,…,0}. */
bool hlo_shape_has_default_layout(const HloShape *s);
/* Sets the default layout explicitly (has_layout = true). */
void hlo_shape_set_default_layout(HloShape *s);
/* "f32[2,3]{1,0}", "(s32[], f32[4]{0})", "pred[]"; layouts printed for
 * arrays of rank >= 1 (the default layout when none was given). */
void hlo_shape_print(HloStr *out, const HloShape *s);
/* The same, with or without the layout ("f32[2,3]{1,0}" or "f32[2,3]"). */
void hlo_shape_print_as(HloStr *out, const HloShape *s, bool layout);
/* Convenience for diagnostics: a malloc'd string. */
char *hlo_shape_to_string(const HloShape *s);
/* Row-major strides of an array shape, in elements. */
void hlo_shape_strides(const HloShape *s, int64_t *strides);

/* Sizes.  Every stage checks sizes with these before it multiplies or adds
 * dimensions, so a few bytes of input cannot ask for an overflowing or
 * absurd buffer: one array holds at most HLO_MAX_BUFFER_BYTES, and a
 * compiled model's scratch arena at most HLO_MAX_ARENA_BYTES, whether the
 * module came from HLO text, a GraphDef or the builder. */
#define HLO_MAX_BUFFER_BYTES ((int64_t)1 << 40)
#define HLO_MAX_ARENA_BYTES ((int64_t)1 << 42)
/* a + b and a * b in int64: false on overflow (*r is then unspecified). */
static inline bool hlo_add_ok(int64_t a, int64_t b, int64_t *r) {
  return !__builtin_add_overflow(a, b, r);
}
static inline bool hlo_mul_ok(int64_t a, int64_t b, int64_t *r) {
  return !__builtin_mul_overflow(a, b, r);
}
/* The product of n sizes, each >= 0; false when one is negative or the
 * product overflows int64. */
bool hlo_dims_product(const int64_t *dims, int n, int64_t *product);
/* NULL when every array of s (tuple elements included) has dims >= 0 and at
 * most HLO_MAX_BUFFER_BYTES bytes; else "shape f32[…] is too large: …". */
HloError *hlo_shape_check_size(const HloShape *s);

/* ------------------------------------------------------------------------ */
/* Literals                                                                 */
/* ------------------------------------------------------------------------ */

/* A value: an array in logical row-major order (layouts do not affect the
 * element order of a literal), or a tuple of literals.  Elements use their
 * native C representation: pred as uint8_t 0/1, f16/bf16 as uint16_t bits,
 * s2/s4/u2/u4 as one extended byte, f8/f4 as one byte of bits, c64/c128 as
 * {real, imaginary} pairs of float/double. */
typedef struct HloLiteral {
  HloShape shape;
  void *data;                  /* arrays: hlo_shape_byte_size bytes */
  struct HloLiteral **elems;   /* tuples: shape.ntuple literals */
} HloLiteral;

/* Heap literals (the evaluator's currency).  The shape's tuple elements are
 * copied, so the literal does not depend on any arena. */
HloLiteral *hlo_literal_new(const HloShape *shape);  /* zero-filled */
HloLiteral *hlo_literal_clone(const HloLiteral *l);
void hlo_literal_free(HloLiteral *l);
/* A tuple literal taking ownership of elems[0..n). */
HloLiteral *hlo_literal_tuple(HloLiteral **elems, int n);
/* Arena literals (constants of a module): never freed individually, but
 * large payloads are arena blocks (hlo_module_release_dead_literals). */
HloLiteral *hlo_literal_new_in(HloArena *a, const HloShape *shape);
HloLiteral *hlo_literal_clone_in(HloArena *a, const HloLiteral *l);
/* Element access by linear (row-major) index, converting to/from double
 * (into an integer type saturating, NaN becoming 0).  Convenient in tests
 * and constant folding; not for hot loops. */
double hlo_literal_get_f64(const HloLiteral *l, int64_t i);
void hlo_literal_set_f64(HloLiteral *l, int64_t i, double v);
int64_t hlo_literal_get_s64(const HloLiteral *l, int64_t i);
void hlo_literal_set_s64(HloLiteral *l, int64_t i, int64_t v);
/* Bitwise equality of shape (without layout) and payload. */
bool hlo_literal_equal(const HloLiteral *a, const HloLiteral *b);

/* ------------------------------------------------------------------------ */
/* Opcodes                                                                  */
/* ------------------------------------------------------------------------ */

/* Operand-count classes and op kinds used by the verifier, evaluator and
 * fusion.  HLO_ARITY_VARIADIC: any number of operands. */
#define HLO_ARITY_VARIADIC (-1)

typedef enum HloOpKind {
  HLO_KIND_LEAF,      /* parameter, constant, iota */
  HLO_KIND_UNARY,     /* elementwise, one operand */
  HLO_KIND_BINARY,    /* elementwise, two operands of equal shape */
  HLO_KIND_TERNARY,   /* elementwise, three operands (select, clamp) */
  HLO_KIND_DATA,      /* data movement / shape manipulation */
  HLO_KIND_REDUCTION, /* reduce, reduce-window, sort, map (call a computation) */
  HLO_KIND_CONTRACT,  /* dot, convolution */
  HLO_KIND_CONTROL,   /* call, while, conditional, fusion, custom-call */
  HLO_KIND_TUPLE,     /* tuple, get-tuple-element */
  HLO_KIND_OTHER,     /* batch-norm-inference, -training, -grad, cholesky, triangular-solve, fft,
                       * rng-bit-generator;
                       * collectives, tokens and async wrappers
                       * (pass_single_device rewrites those away) */
  HLO_KIND_REFUSED,   /* XLA's opcodes that hloc reads but does not compile:
                       * hlo_verify refuses them (hlo_opcode_refusal) */
} HloOpKind;

/* What computing one element of an op costs, for the passes' and the
 * emitters' decisions (fusion, hoisting, what pays to vectorize). */
typedef enum HloCost {
  HLO_COST_FREE,           /* names or repeats elements that exist: parameter,
                            * constant, iota, tuple, get-tuple-element, broadcast */
  HLO_COST_MOVE,           /* data movement: index arithmetic, at most a select */
  HLO_COST_CHEAP,          /* a few instructions per element */
  HLO_COST_EXPENSIVE,      /* one slow instruction per element (divide, sqrt) */
  HLO_COST_TRANSCENDENTAL, /* a polynomial per element (codegen/math.c) */
  HLO_COST_LOOP,           /* a loop per element or over the operand: reduce,
                            * reduce-window, dot, convolution, sort, scatter */
  HLO_COST_CONTROL,        /* runs computations: call, while, conditional, fusion */
} HloCost;

/* X(enum suffix, text name, operand count or HLO_ARITY_VARIADIC, kind, cost) */
#define HLO_OPCODES(X)                                                                \
  X(PARAMETER, "parameter", 0, HLO_KIND_LEAF, HLO_COST_FREE)                          \
  X(CONSTANT, "constant", 0, HLO_KIND_LEAF, HLO_COST_FREE)                            \
  X(IOTA, "iota", 0, HLO_KIND_LEAF, HLO_COST_FREE)                                    \
  X(TUPLE, "tuple", HLO_ARITY_VARIADIC, HLO_KIND_TUPLE, HLO_COST_FREE)                \
  X(GET_TUPLE_ELEMENT, "get-tuple-element", 1, HLO_KIND_TUPLE, HLO_COST_FREE)         \
  X(ADD, "add", 2, HLO_KIND_BINARY, HLO_COST_CHEAP)                                   \
  X(SUBTRACT, "subtract", 2, HLO_KIND_BINARY, HLO_COST_CHEAP)                         \
  X(MULTIPLY, "multiply", 2, HLO_KIND_BINARY, HLO_COST_CHEAP)                         \
  X(DIVIDE, "divide", 2, HLO_KIND_BINARY, HLO_COST_EXPENSIVE)                         \
  X(REMAINDER, "remainder", 2, HLO_KIND_BINARY, HLO_COST_EXPENSIVE)                   \
  X(MAXIMUM, "maximum", 2, HLO_KIND_BINARY, HLO_COST_CHEAP)                           \
  X(MINIMUM, "minimum", 2, HLO_KIND_BINARY, HLO_COST_CHEAP)                           \
  X(POWER, "power", 2, HLO_KIND_BINARY, HLO_COST_TRANSCENDENTAL)                      \
  X(ATAN2, "atan2", 2, HLO_KIND_BINARY, HLO_COST_TRANSCENDENTAL)                      \
  X(COMPLEX, "complex", 2, HLO_KIND_BINARY, HLO_COST_CHEAP)                           \
  X(AND, "and", 2, HLO_KIND_BINARY, HLO_COST_CHEAP)                                   \
  X(OR, "or", 2, HLO_KIND_BINARY, HLO_COST_CHEAP)                                     \
  X(XOR, "xor", 2, HLO_KIND_BINARY, HLO_COST_CHEAP)                                   \
  X(SHIFT_LEFT, "shift-left", 2, HLO_KIND_BINARY, HLO_COST_CHEAP)                     \
  X(SHIFT_RIGHT_ARITHMETIC, "shift-right-arithmetic", 2, HLO_KIND_BINARY,             \
    HLO_COST_CHEAP)                                                                   \
  X(SHIFT_RIGHT_LOGICAL, "shift-right-logical", 2, HLO_KIND_BINARY, HLO_COST_CHEAP)   \
  X(COMPARE, "compare", 2, HLO_KIND_BINARY, HLO_COST_CHEAP)                           \
  X(NOT, "not", 1, HLO_KIND_UNARY, HLO_COST_CHEAP)                                    \
  X(NEGATE, "negate", 1, HLO_KIND_UNARY, HLO_COST_CHEAP)                              \
  X(ABS, "abs", 1, HLO_KIND_UNARY, HLO_COST_CHEAP)                                    \
  X(SIGN, "sign", 1, HLO_KIND_UNARY, HLO_COST_CHEAP)                                  \
  X(EXP, "exponential", 1, HLO_KIND_UNARY, HLO_COST_TRANSCENDENTAL)                   \
  X(EXPM1, "exponential-minus-one", 1, HLO_KIND_UNARY, HLO_COST_TRANSCENDENTAL)       \
  X(LOG, "log", 1, HLO_KIND_UNARY, HLO_COST_TRANSCENDENTAL)                           \
  X(LOG1P, "log-plus-one", 1, HLO_KIND_UNARY, HLO_COST_TRANSCENDENTAL)                \
  X(LOGISTIC, "logistic", 1, HLO_KIND_UNARY, HLO_COST_TRANSCENDENTAL)                 \
  X(SQRT, "sqrt", 1, HLO_KIND_UNARY, HLO_COST_EXPENSIVE)                              \
  X(RSQRT, "rsqrt", 1, HLO_KIND_UNARY, HLO_COST_EXPENSIVE)                            \
  X(CBRT, "cbrt", 1, HLO_KIND_UNARY, HLO_COST_TRANSCENDENTAL)                         \
  X(TANH, "tanh", 1, HLO_KIND_UNARY, HLO_COST_TRANSCENDENTAL)                         \
  X(SIN, "sine", 1, HLO_KIND_UNARY, HLO_COST_TRANSCENDENTAL)                          \
  X(COS, "cosine", 1, HLO_KIND_UNARY, HLO_COST_TRANSCENDENTAL)                        \
  X(TAN, "tan", 1, HLO_KIND_UNARY, HLO_COST_TRANSCENDENTAL)                           \
  X(ACOS, "acos", 1, HLO_KIND_UNARY, HLO_COST_TRANSCENDENTAL)                         \
  X(ASIN, "asin", 1, HLO_KIND_UNARY, HLO_COST_TRANSCENDENTAL)                         \
  X(ATAN, "atan", 1, HLO_KIND_UNARY, HLO_COST_TRANSCENDENTAL)                         \
  X(ACOSH, "acosh", 1, HLO_KIND_UNARY, HLO_COST_TRANSCENDENTAL)                       \
  X(ASINH, "asinh", 1, HLO_KIND_UNARY, HLO_COST_TRANSCENDENTAL)                       \
  X(ATANH, "atanh", 1, HLO_KIND_UNARY, HLO_COST_TRANSCENDENTAL)                       \
  X(COSH, "cosh", 1, HLO_KIND_UNARY, HLO_COST_TRANSCENDENTAL)                         \
  X(SINH, "sinh", 1, HLO_KIND_UNARY, HLO_COST_TRANSCENDENTAL)                         \
  X(ERF, "erf", 1, HLO_KIND_UNARY, HLO_COST_TRANSCENDENTAL)                           \
  X(FLOOR, "floor", 1, HLO_KIND_UNARY, HLO_COST_CHEAP)                                \
  X(CEIL, "ceil", 1, HLO_KIND_UNARY, HLO_COST_CHEAP)                                  \
  X(ROUND_AFZ, "round-nearest-afz", 1, HLO_KIND_UNARY, HLO_COST_CHEAP)                \
  X(ROUND_EVEN, "round-nearest-even", 1, HLO_KIND_UNARY, HLO_COST_CHEAP)              \
  X(REDUCE_PRECISION, "reduce-precision", 1, HLO_KIND_UNARY, HLO_COST_CHEAP)          \
  X(IS_FINITE, "is-finite", 1, HLO_KIND_UNARY, HLO_COST_CHEAP)                        \
  X(REAL, "real", 1, HLO_KIND_UNARY, HLO_COST_CHEAP)                                  \
  X(IMAG, "imag", 1, HLO_KIND_UNARY, HLO_COST_CHEAP)                                  \
  X(POPCNT, "popcnt", 1, HLO_KIND_UNARY, HLO_COST_CHEAP)                              \
  X(CLZ, "count-leading-zeros", 1, HLO_KIND_UNARY, HLO_COST_CHEAP)                    \
  X(CONVERT, "convert", 1, HLO_KIND_UNARY, HLO_COST_CHEAP)                            \
  X(BITCAST_CONVERT, "bitcast-convert", 1, HLO_KIND_UNARY, HLO_COST_CHEAP)            \
  X(COPY, "copy", 1, HLO_KIND_UNARY, HLO_COST_CHEAP)                                  \
  X(SELECT, "select", 3, HLO_KIND_TERNARY, HLO_COST_CHEAP)                            \
  X(CLAMP, "clamp", 3, HLO_KIND_TERNARY, HLO_COST_CHEAP)                              \
  X(BROADCAST, "broadcast", 1, HLO_KIND_DATA, HLO_COST_FREE)                          \
  X(RESHAPE, "reshape", 1, HLO_KIND_DATA, HLO_COST_MOVE)                              \
  X(BITCAST, "bitcast", 1, HLO_KIND_DATA, HLO_COST_MOVE)                              \
  X(TRANSPOSE, "transpose", 1, HLO_KIND_DATA, HLO_COST_MOVE)                          \
  X(SLICE, "slice", 1, HLO_KIND_DATA, HLO_COST_MOVE)                                  \
  X(DYNAMIC_SLICE, "dynamic-slice", HLO_ARITY_VARIADIC, HLO_KIND_DATA, HLO_COST_MOVE) \
  X(DYNAMIC_UPDATE_SLICE, "dynamic-update-slice", HLO_ARITY_VARIADIC, HLO_KIND_DATA,  \
    HLO_COST_MOVE)                                                                    \
  X(CONCATENATE, "concatenate", HLO_ARITY_VARIADIC, HLO_KIND_DATA, HLO_COST_MOVE)     \
  X(PAD, "pad", 2, HLO_KIND_DATA, HLO_COST_MOVE)                                      \
  X(REVERSE, "reverse", 1, HLO_KIND_DATA, HLO_COST_MOVE)                              \
  X(GATHER, "gather", 2, HLO_KIND_DATA, HLO_COST_MOVE)                                \
  X(SCATTER, "scatter", HLO_ARITY_VARIADIC, HLO_KIND_DATA, HLO_COST_LOOP)             \
  X(REDUCE, "reduce", HLO_ARITY_VARIADIC, HLO_KIND_REDUCTION, HLO_COST_LOOP)          \
  X(REDUCE_WINDOW, "reduce-window", HLO_ARITY_VARIADIC, HLO_KIND_REDUCTION, HLO_COST_LOOP)\
  X(SORT, "sort", HLO_ARITY_VARIADIC, HLO_KIND_REDUCTION, HLO_COST_LOOP)              \
  X(MAP, "map", HLO_ARITY_VARIADIC, HLO_KIND_REDUCTION, HLO_COST_CONTROL)             \
  X(TOPK, "topk", 1, HLO_KIND_REDUCTION, HLO_COST_LOOP)                               \
  X(DOT, "dot", 2, HLO_KIND_CONTRACT, HLO_COST_LOOP)                                  \
  X(CONVOLUTION, "convolution", 2, HLO_KIND_CONTRACT, HLO_COST_LOOP)                  \
  X(BATCH_NORM_INFERENCE, "batch-norm-inference", 5, HLO_KIND_OTHER, HLO_COST_EXPENSIVE)\
  X(BATCH_NORM_TRAINING, "batch-norm-training", 3, HLO_KIND_OTHER, HLO_COST_LOOP)      \
  X(BATCH_NORM_GRAD, "batch-norm-grad", 5, HLO_KIND_OTHER, HLO_COST_LOOP)              \
  X(CHOLESKY, "cholesky", 1, HLO_KIND_OTHER, HLO_COST_LOOP)                           \
  X(TRIANGULAR_SOLVE, "triangular-solve", 2, HLO_KIND_OTHER, HLO_COST_LOOP)           \
  X(FFT, "fft", 1, HLO_KIND_OTHER, HLO_COST_LOOP)                                     \
  X(RAGGED_DOT, "ragged-dot", 3, HLO_KIND_OTHER, HLO_COST_LOOP)                       \
  X(SCALED_DOT, "scaled-dot", 4, HLO_KIND_OTHER, HLO_COST_LOOP)                       \
  X(GET_DIMENSION_SIZE, "get-dimension-size", 1, HLO_KIND_OTHER, HLO_COST_FREE)       \
  X(SET_DIMENSION_SIZE, "set-dimension-size", 2, HLO_KIND_OTHER, HLO_COST_FREE)       \
  X(DYNAMIC_RESHAPE, "dynamic-reshape", HLO_ARITY_VARIADIC, HLO_KIND_OTHER,            \
    HLO_COST_MOVE)                                                                    \
  X(RNG_BIT_GENERATOR, "rng-bit-generator", 1, HLO_KIND_OTHER, HLO_COST_LOOP)         \
  X(RNG, "rng", HLO_ARITY_VARIADIC, HLO_KIND_OTHER, HLO_COST_LOOP)                    \
  X(STOCHASTIC_CONVERT, "stochastic-convert", 2, HLO_KIND_OTHER, HLO_COST_LOOP)       \
  X(SELECT_AND_SCATTER, "select-and-scatter", 3, HLO_KIND_OTHER, HLO_COST_LOOP)       \
  X(CALL, "call", HLO_ARITY_VARIADIC, HLO_KIND_CONTROL, HLO_COST_CONTROL)             \
  X(WHILE, "while", 1, HLO_KIND_CONTROL, HLO_COST_CONTROL)                            \
  X(CONDITIONAL, "conditional", HLO_ARITY_VARIADIC, HLO_KIND_CONTROL, HLO_COST_CONTROL)\
  X(FUSION, "fusion", HLO_ARITY_VARIADIC, HLO_KIND_CONTROL, HLO_COST_CONTROL)         \
  X(CUSTOM_CALL, "custom-call", HLO_ARITY_VARIADIC, HLO_KIND_CONTROL, HLO_COST_CONTROL)\
  HLO_SINGLE_DEVICE_OPCODES(X)                                                        \
  HLO_REFUSED_OPCODES(X)

/* Collectives, tokens and asynchronous pairs, with XLA's semantics for one
 * participant (hloc compiles single-device programs): the collectives are
 * identities (collective-permute without a pair for 0 gives zeros),
 * replica-id and partition-id are u32[] 0, a start/done pair is the op
 * it carries, async-start runs its called computation, add-dependency(x,
 * token) is x (the token orders it, which one device needs not).  The verifier
 * rejects replica groups or pairs naming other participants;
 * passes/single_device.c rewrites them into plain HLO first in the
 * pipeline, so codegen never sees them. */
#define HLO_SINGLE_DEVICE_OPCODES(X)                                                  \
  X(ALL_REDUCE, "all-reduce", HLO_ARITY_VARIADIC, HLO_KIND_OTHER, HLO_COST_MOVE)      \
  X(ALL_REDUCE_START, "all-reduce-start", HLO_ARITY_VARIADIC, HLO_KIND_OTHER,         \
    HLO_COST_MOVE)                                                                    \
  X(ALL_REDUCE_DONE, "all-reduce-done", 1, HLO_KIND_OTHER, HLO_COST_MOVE)             \
  X(ALL_GATHER, "all-gather", HLO_ARITY_VARIADIC, HLO_KIND_OTHER, HLO_COST_MOVE)      \
  X(ALL_GATHER_START, "all-gather-start", HLO_ARITY_VARIADIC, HLO_KIND_OTHER,         \
    HLO_COST_MOVE)                                                                    \
  X(ALL_GATHER_DONE, "all-gather-done", 1, HLO_KIND_OTHER, HLO_COST_MOVE)             \
  X(REDUCE_SCATTER, "reduce-scatter", HLO_ARITY_VARIADIC, HLO_KIND_OTHER, HLO_COST_MOVE)\
  X(ALL_TO_ALL, "all-to-all", HLO_ARITY_VARIADIC, HLO_KIND_OTHER, HLO_COST_MOVE)      \
  X(COLLECTIVE_PERMUTE, "collective-permute", HLO_ARITY_VARIADIC, HLO_KIND_OTHER,     \
    HLO_COST_MOVE)                                                                    \
  X(COLLECTIVE_PERMUTE_START, "collective-permute-start", HLO_ARITY_VARIADIC,         \
    HLO_KIND_OTHER, HLO_COST_MOVE)                                                    \
  X(COLLECTIVE_PERMUTE_DONE, "collective-permute-done", 1, HLO_KIND_OTHER,            \
    HLO_COST_MOVE)                                                                    \
  X(COLLECTIVE_BROADCAST, "collective-broadcast", HLO_ARITY_VARIADIC, HLO_KIND_OTHER, \
    HLO_COST_MOVE)                                                                    \
  X(REPLICA_ID, "replica-id", 0, HLO_KIND_OTHER, HLO_COST_FREE)                       \
  X(PARTITION_ID, "partition-id", 0, HLO_KIND_OTHER, HLO_COST_FREE)                   \
  X(AFTER_ALL, "after-all", HLO_ARITY_VARIADIC, HLO_KIND_OTHER, HLO_COST_FREE)        \
  X(ADD_DEPENDENCY, "add-dependency", 2, HLO_KIND_OTHER, HLO_COST_FREE)               \
  X(OPT_BARRIER, "opt-barrier", 1, HLO_KIND_OTHER, HLO_COST_FREE)                     \
  X(DOMAIN, "domain", 1, HLO_KIND_OTHER, HLO_COST_FREE)                               \
  X(ASYNC_START, "async-start", HLO_ARITY_VARIADIC, HLO_KIND_OTHER, HLO_COST_CONTROL) \
  X(ASYNC_UPDATE, "async-update", 1, HLO_KIND_OTHER, HLO_COST_FREE)                   \
  X(ASYNC_DONE, "async-done", 1, HLO_KIND_OTHER, HLO_COST_FREE)                       \
  X(COPY_START, "copy-start", 1, HLO_KIND_OTHER, HLO_COST_MOVE)                       \
  X(COPY_DONE, "copy-done", 1, HLO_KIND_OTHER, HLO_COST_FREE)

/* The rest of XLA's opcodes (hlo_opcode.h), with XLA's arities.  The
 * parser reads them like a custom-call: the result shape must be written,
 * every attribute is kept verbatim (and printed back), so that a module
 * XLA prints always parses and what it needs is said by name.  hlo_verify
 * refuses each with hlo_opcode_refusal's reason (host transfers and
 * devices, a device's random state, or an op hloc has not implemented
 * yet): no later stage ever sees one. */
#define HLO_REFUSED_OPCODES(X)                                                        \
  X(COLLECTIVE_REDUCE, "collective-reduce", HLO_ARITY_VARIADIC, HLO_KIND_REFUSED,     \
    HLO_COST_CONTROL)                                                                 \
  X(INFEED, "infeed", 1, HLO_KIND_REFUSED, HLO_COST_CONTROL)                          \
  X(MULHI, "mulhi", 2, HLO_KIND_REFUSED, HLO_COST_CONTROL)                            \
  X(OUTFEED, "outfeed", 2, HLO_KIND_REFUSED, HLO_COST_CONTROL)                        \
  X(RAGGED_ALL_TO_ALL, "ragged-all-to-all", 6, HLO_KIND_REFUSED, HLO_COST_CONTROL)    \
  X(RECV, "recv", 1, HLO_KIND_REFUSED, HLO_COST_CONTROL)                              \
  X(RECV_DONE, "recv-done", 1, HLO_KIND_REFUSED, HLO_COST_CONTROL)                    \
  X(RNG_GET_AND_UPDATE_STATE, "rng-get-and-update-state", 0, HLO_KIND_REFUSED,        \
    HLO_COST_CONTROL)                                                                 \
  X(SCAN, "scan", HLO_ARITY_VARIADIC, HLO_KIND_REFUSED, HLO_COST_CONTROL)             \
  X(SEND, "send", 2, HLO_KIND_REFUSED, HLO_COST_CONTROL)                              \
  X(SEND_DONE, "send-done", 1, HLO_KIND_REFUSED, HLO_COST_CONTROL)                    \
  X(SHUFFLE, "shuffle", 1, HLO_KIND_REFUSED, HLO_COST_CONTROL)

typedef enum HloOpcode {
#define X(e, name, arity, kind, cost) HLO_OP_##e,
  HLO_OPCODES(X)
#undef X
  HLO_NUM_OPCODES
} HloOpcode;

const char *hlo_opcode_name(HloOpcode op);
int hlo_opcode_arity(HloOpcode op); /* or HLO_ARITY_VARIADIC */
HloOpKind hlo_opcode_kind(HloOpcode op);
HloCost hlo_opcode_cost(HloOpcode op);
bool hlo_opcode_from_name(const char *name, size_t n, HloOpcode *out);
/* For an opcode of kind HLO_KIND_REFUSED, a predicate saying what it does
 * and why hloc does not compile it ("receives data from another device or
 * the host: hloc compiles single-device programs, …"); NULL for others. */
const char *hlo_opcode_refusal(HloOpcode op);
/* Unary, binary (incl. compare) and ternary ops: out[i] depends on in[i]. */
bool hlo_opcode_is_elementwise(HloOpcode op);

/* ------------------------------------------------------------------------ */
/* Attributes                                                               */
/* ------------------------------------------------------------------------ */

/* A list of dimension numbers or sizes (arena-allocated). */
typedef struct HloDims {
  int n;
  int64_t *v;
} HloDims;

typedef enum HloCompareDir {
  HLO_CMP_EQ, HLO_CMP_NE, HLO_CMP_LT, HLO_CMP_LE, HLO_CMP_GT, HLO_CMP_GE,
} HloCompareDir;

/* XLA's comparison types; DEFAULT means "not given": derived from the
 * operand type (FLOAT, SIGNED or UNSIGNED; PRED compares as UNSIGNED). */
typedef enum HloCompareType {
  HLO_CMPT_DEFAULT, HLO_CMPT_FLOAT, HLO_CMPT_TOTALORDER, HLO_CMPT_SIGNED,
  HLO_CMPT_UNSIGNED,
} HloCompareType;

typedef enum HloFusionKind {
  HLO_FUSION_LOOP, HLO_FUSION_INPUT, HLO_FUSION_OUTPUT, HLO_FUSION_CUSTOM,
} HloFusionKind;

/* triangular-solve's transpose_a=, numbered as XLA's proto; NONE: not
 * given, which the verifier refuses as XLA does. */
typedef enum HloTranspose {
  HLO_TRANSPOSE_NONE, HLO_TRANSPOSE_NO, HLO_TRANSPOSE_YES, HLO_TRANSPOSE_ADJOINT,
} HloTranspose;

/* rng-bit-generator's algorithm=, numbered as XLA's proto (rng_default
 * when not given). */
typedef enum HloRngAlgorithm {
  HLO_RNG_DEFAULT, HLO_RNG_THREE_FRY, HLO_RNG_PHILOX,
} HloRngAlgorithm;

/* fft's fft_type=, numbered as XLA's proto (FFT when not given). */
typedef enum HloFftType {
  HLO_FFT_FFT, HLO_FFT_IFFT, HLO_FFT_RFFT, HLO_FFT_IRFFT,
} HloFftType;

/* rng's distribution= (required). */
typedef enum HloRngDistribution {
  HLO_RNG_DIST_NONE, HLO_RNG_UNIFORM, HLO_RNG_NORMAL,
} HloRngDistribution;

/* slice={[start:limit:stride], …} */
typedef struct HloSliceDim {
  int64_t start, limit, stride;
} HloSliceDim;

/* padding=lo_hi_interior x … (lo/hi may be negative) */
typedef struct HloPadDim {
  int64_t lo, hi, interior;
} HloPadDim;

/* window={size=… stride=… pad=… lhs_dilate=… rhs_dilate=… rhs_reversal=…};
 * fields absent from the text take XLA's defaults (stride/dilations 1). */
typedef struct HloWindowDim {
  int64_t size, stride, pad_lo, pad_hi, lhs_dilate, rhs_dilate;
  bool reversal;
} HloWindowDim;

/* dim_labels=b01f_01io->b01f, generalised to any number of spatial dims. */
typedef struct HloConvDims {
  int nspatial;
  int64_t in_batch, in_feature, in_spatial[HLO_MAX_RANK];
  int64_t k_in_feature, k_out_feature, k_spatial[HLO_MAX_RANK];
  int64_t out_batch, out_feature, out_spatial[HLO_MAX_RANK];
} HloConvDims;

/* lhs_batch_dims={…}, lhs_contracting_dims={…}, rhs_…; ragged-dot adds
 * lhs_ragged_dims={…} (one lhs dim split into groups) and rhs_group_dims={…}
 * (none, or the one rhs dim that indexes the groups). */
typedef struct HloDotDims {
  HloDims lhs_batch, lhs_contracting, rhs_batch, rhs_contracting;
  HloDims lhs_ragged, rhs_group;
} HloDotDims;

typedef struct HloGatherDims {
  HloDims offset_dims, collapsed_slice_dims, start_index_map;
  HloDims operand_batching_dims, start_indices_batching_dims;
  int64_t index_vector_dim;
  HloDims slice_sizes;
  bool indices_are_sorted;
} HloGatherDims;

typedef struct HloScatterDims {
  HloDims update_window_dims, inserted_window_dims;
  HloDims scatter_dims_to_operand_dims;
  HloDims input_batching_dims, scatter_indices_batching_dims;
  int64_t index_vector_dim;
  bool indices_are_sorted, unique_indices;
} HloScatterDims;

/* metadata={op_type="…" op_name="…" source_file="…" source_line=N}; for a
 * graph imported from TensorFlow, op_type is the TF op and op_name the node. */
typedef struct HloMetadata {
  const char *op_type;      /* NULL when absent */
  const char *op_name;
  const char *source_file;
  int64_t source_line;      /* 0 when absent */
} HloMetadata;

/* An attribute the IR does not interpret (backend_config, sharding,
 * frontend_attributes, operand_precision, …): kept verbatim and printed back
 * as NAME=VALUE. */
typedef struct HloRawAttr {
  const char *name;
  const char *value;
} HloRawAttr;

/* ------------------------------------------------------------------------ */
/* Module, computations, instructions                                        */
/* ------------------------------------------------------------------------ */

typedef struct HloModule HloModule;
typedef struct HloComputation HloComputation;
typedef struct HloInstr HloInstr;

/* One input/output alias of a module (HloModule.alias). */
typedef struct HloAlias {
  int result; /* leaf of the entry's flattened root */
  int param;  /* entry parameter number */
} HloAlias;

struct HloInstr {
  HloOpcode op;
  const char *name;          /* unique within the module, without '%' */
  int64_t id;                /* unique within the module, creation order */
  HloShape shape;
  HloComputation *parent;
  HloInstr *prev, *next;     /* position in parent's instruction list */

  int noperands;
  HloInstr **operands;
  int nusers;                /* one entry per distinct user */
  int users_cap;
  HloInstr **users;

  /* Called computations: to_apply (reduce, reduce-window, sort, scatter,
   * call, and the comparator of sort); while: [condition, body];
   * conditional: the branches in order (pred predicate: [true, false]);
   * fusion: [fused computation]; all-reduce[-start], reduce-scatter:
   * [to_apply]; async-start (async-update and async-done may repeat it):
   * [the computation it runs]. */
  int ncalled;
  HloComputation **called;

  /* Attributes; each is meaningful only for the opcodes named. */
  int64_t parameter_number;  /* parameter */
  HloLiteral *literal;       /* constant (arena); NULL when elided */
  /* constant: written {...}, XLA's text for values it did not print; read
   * and printed back, refused by hlo_verify (there is nothing to compute) */
  bool literal_elided;
  int64_t tuple_index;       /* get-tuple-element: index=N */
  int64_t iota_dimension;    /* iota */
  /* dimensions={…}: broadcast (operand dim i -> result dim v[i]),
   * transpose (permutation), reduce, reverse, concatenate (one), sort
   * (one), reduce dims of … */
  HloDims dimensions;
  HloSliceDim *slice;        /* slice: shape.rank entries */
  HloDims dynamic_slice_sizes; /* dynamic-slice */
  HloPadDim *padding;        /* pad: shape.rank entries */
  int window_rank;
  HloWindowDim *window;      /* reduce-window, convolution */
  HloConvDims conv;          /* convolution */
  int64_t feature_group_count, batch_group_count; /* convolution, >= 1 */
  HloDotDims dot;            /* dot */
  HloGatherDims gather;      /* gather */
  HloScatterDims scatter;    /* scatter */
  HloCompareDir direction;   /* compare */
  HloCompareType compare_type; /* compare */
  HloFusionKind fusion_kind; /* fusion */
  bool is_stable;            /* sort */
  /* topk: the k largest (or smallest) elements of each row along the
   * last dimension, in that order, and their indices (XLA: a stable sort
   * in total order, then the first k). */
  int64_t topk_k;
  bool topk_largest;
  /* cholesky and triangular-solve: lower= (which triangle of a is read;
   * XLA's default false); triangular-solve: left_side= (solve op(a) x = b,
   * else x op(a) = b), unit_diagonal= (a's diagonal taken as ones, not
   * read) and transpose_a= (op: NO_TRANSPOSE, TRANSPOSE or ADJOINT). */
  bool lower, left_side, unit_diagonal;
  HloTranspose transpose_a;
  /* fft: the transform (FFT, IFFT: complex to complex; RFFT: real to
   * complex, the last dimension halved; IRFFT: back) over the last
   * fft_length.n (1 to 3) dimensions, of the lengths fft_length gives. */
  HloFftType fft_type;
  HloDims fft_length;
  HloRngAlgorithm rng_algorithm; /* rng-bit-generator */
  HloRngDistribution rng_distribution; /* rng */
  float epsilon;             /* batch-norm-inference, -training, -grad */
  int64_t feature_index;     /* batch-norm-inference, -training, -grad */
  /* reduce-precision: the format rounded to (exponent_bits >= 1,
   * mantissa_bits >= 0, as shape inference checks). */
  int64_t exponent_bits, mantissa_bits;
  const char *custom_call_target; /* custom-call */
  /* replica_groups={{0},{1,2}} (collectives): every group's ids, one group
   * after another, and each group's size; both empty when not given or {}
   * (one group of all participants).  The iota form [G,S]<=[…] is
   * expanded. */
  HloDims replica_groups, replica_group_sizes;
  /* source_target_pairs={{0,1},{1,0}} (collective-permute[-start]), each
   * pair's source then target. */
  HloDims source_target_pairs;

  HloMetadata metadata;
  int nraw;
  HloRawAttr *raw;           /* uninterpreted attributes, in text order */
};

struct HloComputation {
  const char *name;          /* unique within the module, without '%' */
  HloModule *module;
  HloComputation *prev, *next; /* position in the module's list */
  HloInstr *first, *last;    /* instruction list (not necessarily in
                              * def-before-use order: see hlo_post_order) */
  HloInstr *root;
  int nparams;
  HloInstr **params;         /* params[i]->parameter_number == i */
  int params_cap;
  bool is_entry;
  bool is_fusion;            /* called by a fusion instruction */
};

struct HloModule {
  HloArena *arena;
  const char *name;
  HloComputation *first, *last; /* callees before callers; entry last */
  HloComputation *entry;
  int nraw;                  /* module attributes after the name, kept */
  HloRawAttr *raw;           /* verbatim (is_scheduled, …) */
  int64_t next_id;
  int64_t next_name_suffix;
  struct HloNameTable *names; /* uniquing of instruction names */
  /* Results that write back into parameters (XLA's input_output_alias,
   * as config variables need): leaf `result` of the entry's flattened
   * root is the new value of entry parameter `param`, an array of the
   * same shape; the caller's argument buffer receives it when the run
   * ends.  Passes keep the root's leaves and the parameters, so the
   * numbers stay valid. */
  int nalias;
  HloAlias *alias;           /* arena */
  /* The instructions' metadata names TensorFlow nodes (the frontend's
   * modules): messages say "from TF node"; else XLA's op_name. */
  bool from_tf;
};

HloModule *hlo_module_new(const char *name);
void hlo_module_free(HloModule *m);
/* Frees the large payloads of m's arena literals that no constant of any
 * computation of m holds (those of constants the passes replaced, a
 * folded weight's original, say); returns their bytes.  Only where
 * nothing refers to an unlinked instruction's literal: between passes,
 * before codegen. */
size_t hlo_module_release_dead_literals(HloModule *m);

/* Appends a computation (name made unique).  Set is_entry via
 * hlo_module_set_entry. */
HloComputation *hlo_computation_new(HloModule *m, const char *name);
void hlo_module_set_entry(HloModule *m, HloComputation *c);
HloComputation *hlo_module_find_computation(const HloModule *m,
                                            const char *name);
/* Unlinks a computation no instruction calls any more. */
void hlo_computation_remove(HloComputation *c);
/* Moves c to the front of its module's list, which lists callees before
 * callers: right for a computation that calls nothing. */
void hlo_computation_move_first(HloComputation *c);

/* Creates an instruction at the end of c's list, with operands ops[0..n)
 * (their user lists are updated) and the given shape; all attributes start
 * zeroed (counts 1 where XLA's default is 1).  name may be NULL (a name is
 * derived from the opcode); it is made unique within the module. */
HloInstr *hlo_instr_new(HloComputation *c, HloOpcode op, const HloShape *shape,
                        HloInstr *const *ops, int n, const char *name);
/* A parameter: also registered in c->params. */
HloInstr *hlo_parameter_new(HloComputation *c, int64_t number,
                            const HloShape *shape, const char *name);
/* A constant holding lit (which must live in m's arena: see
 * hlo_literal_clone_in). */
HloInstr *hlo_constant_new(HloComputation *c, HloLiteral *lit,
                           const char *name);
/* A copy of src at the end of dst with operands ops[0..n): same opcode,
 * shape, attributes, called computations and metadata, a fresh id and a
 * name uniqued in dst's module.  Attribute arrays are shared with src, so
 * across modules src's module must outlive the copy. */
HloInstr *hlo_instr_clone(HloComputation *dst, const HloInstr *src,
                          HloInstr *const *ops, int n);
/* Moves instr so it sits right before `before` (same computation). */
void hlo_instr_move_before(HloInstr *instr, HloInstr *before);
void hlo_instr_set_called(HloInstr *instr, HloComputation *const *called,
                          int n);
void hlo_instr_set_dims(HloInstr *instr, HloDims *field, const int64_t *v,
                        int n);
void hlo_instr_add_raw(HloInstr *instr, const char *name, const char *value);
void hlo_set_root(HloComputation *c, HloInstr *root);

/* The only functions that change edges; they keep user lists exact. */
void hlo_set_operand(HloInstr *instr, int i, HloInstr *op);
void hlo_set_operands(HloInstr *instr, HloInstr *const *ops, int n);
/* Every use of old (and the root, when old is root) now refers to new,
 * except new_instr's own uses of old (so "x = f(old); replace(old, x)"
 * reroutes old's other users through x). */
void hlo_replace_all_uses(HloInstr *old, HloInstr *new_instr);
/* Unlinks instr, which must have no users and not be the root; its operands
 * lose it as a user.  The memory stays in the arena. */
void hlo_instr_remove(HloInstr *instr);

/* Positions of instructions in an array (a post order, a list): a hash table
 * sized by that array, so that a pass over one computation costs in
 * proportion to it, not to the module's instruction ids. */
typedef struct HloInstrIndex HloInstrIndex;
HloInstrIndex *hlo_instr_index_new(HloInstr *const *list, int n);
/* The position of `in` in the array indexed, -1 when absent. */
int hlo_instr_index_find(const HloInstrIndex *t, const HloInstr *in);
void hlo_instr_index_free(HloInstrIndex *t);

/* Instructions of c with every operand before its users and the root last;
 * instructions unreachable from the root come first, in list order.
 * Returns a malloc'd array of *n entries. */
HloInstr **hlo_post_order(const HloComputation *c, int *n);
/* Computations of m with callees before callers (malloc'd). */
HloComputation **hlo_computation_post_order(const HloModule *m, int *n);

/* "%name = f32[2]{0} add(%a, %b)" style one-liners for diagnostics: the
 * instruction's name, opcode and TF metadata (malloc'd). */
char *hlo_instr_describe(const HloInstr *instr);
/* x is a reshape, or a bitcast that is one (default layouts on both sides,
 * one element type): its elements are its operand's in the same row-major
 * order.  Any other bitcast reorders or reinterprets them. */
bool hlo_instr_is_reshape(const HloInstr *x);
/* x is a custom-call that XLA uses on one device as the identity of its
 * one operand: Sharding, SPMDFullToShardShape and SPMDShardToFullShape
 * (with one partition the shard is the whole array), MoveToHost,
 * MoveToDevice and JAX's annotate_device_placement (memory placement, not
 * value), ShardBarrierFrom and ShardBarrierTo (sharding propagation's
 * barriers), Pin and Unpin (an array in and out of a buffer),
 * LayoutConstraint (a layout, not a value), with x's shape its
 * operand's (a buffer's, its array's). */
bool hlo_custom_call_is_identity(const HloInstr *x);
/* x is a custom-call with custom_call_target="target". */
bool hlo_is_custom_call_to(const HloInstr *x, const char *target);
/* x is a custom-call that XLA uses to make a new array or buffer of x's
 * shape, its contents unspecified (CreateBuffer, AllocateBuffer): zeros
 * in the evaluator and in compiled code. */
bool hlo_custom_call_allocates(const HloInstr *x);
/* jaxlib's LAPACK kernels on the CPU, as JAX calls them through typed-FFI
 * custom-calls: lapack_Xpotrf_ffi (Cholesky: result (a's factor, s32 info
 * per matrix)) and lapack_Xtrsm_ffi (triangular solve of (a, b): b's
 * shape), X = s d for f32 f64 (c z, complex, are not read yet: cholesky
 * and triangular-solve take real types), with leading batch dims.
 * backend_config holds the LAPACK characters as MLIR ui8 attributes:
 * uplo ('L' or 'U'), side ('L' or 'R'), trans_x ('N', 'T' or 'C'), diag
 * ('N' or 'U'). */
typedef enum HloLapackKind {
  HLO_LAPACK_NONE,  /* not one of them, or shapes or attributes that do not fit */
  HLO_LAPACK_POTRF, /* the factor in the triangle `lower` names */
  HLO_LAPACK_TRSM,  /* op(a) x = b (left_side) or x op(a) = b */
} HloLapackKind;
typedef struct HloLapackCall {
  HloLapackKind kind;
  bool lower, left_side, unit_diagonal; /* as cholesky's and triangular-solve's */
  HloTranspose transpose_a;
} HloLapackCall;
/* x's LAPACK call decoded into the attributes of cholesky (POTRF) or
 * triangular-solve (TRSM); kind NONE when x is not one that fits. */
HloLapackCall hlo_lapack_call(const HloInstr *x);
/* An all-reduce-start or collective-permute-start whose value is the tuple
 * (operand, result[, context]), as XLA prints them, rather than the result
 * alone, as some exporters do (shape_inference.c). */
bool hlo_start_is_tuple(const HloInstr *start);
/* dynamic-slice or dynamic-update-slice in XLA's older form: one rank-1
 * operand holds all the start indices (shape_inference.c). */
bool hlo_start_indices_are_vector(const HloInstr *in);
/* A custom-call of XLA's builder tests (custom_call_target="xla_builder.*"):
 * *comp its one called computation when that takes the operands' shapes and
 * returns the call's, else *op the opcode of a math function hloc has
 * (xla_builder.math.Acos: acos, …) of one f16/bf16/f32/f64 operand, or
 * *op HLO_OP_CUSTOM_CALL for a function hloc computes that is no opcode
 * (xla_builder.math.NextAfter, of two float operands of the call's shape;
 * Polygamma, IgammaGradA, RandomGammaGrad and RegularizedIncompleteBeta,
 * of two or three f32/f64 operands of its shape;
 * Acos, Acosh, Asin, Asinh, Atan, Cosh of one c64/c128 operand, by XLA's
 * complex formulas).
 * Returns NULL when one of them is set, or when in is no such call (*op
 * HLO_NUM_OPCODES, *comp NULL); else why hloc cannot run it. */
const char *hlo_builder_call(const HloInstr *in, HloOpcode *op, const HloComputation **comp);
/* The functions of XLA's builder library (xla_builder.matrix.Einsum,
 * matrix.GetMatrixDiagonalViaGather, prng.ScramblePhiloxKey,
 * tridiagonal.TridiagonalSolver) are such calls too (*op HLO_OP_CUSTOM_CALL),
 * and the verifier refuses one whose shapes do not fit with the reason;
 * hlo_builder_lib_call says which one in is, or HLO_BL_NONE. */
typedef enum HloBuilderLib {
  HLO_BL_NONE, HLO_BL_EINSUM, HLO_BL_DIAGONAL, HLO_BL_PHILOX_KEY, HLO_BL_TRIDIAGONAL,
} HloBuilderLib;
HloBuilderLib hlo_builder_lib_call(const HloInstr *in);
/* The equation of an Einsum call (backend_config="ab,bc->ac"): the labels
 * (letters) of operand k's dims in label[k][…], nlabel[k] of them, and of
 * the result's in label[2]; a letter repeated in an operand takes its
 * diagonal, one repeated in the result puts the values on a diagonal.
 * Returns NULL, or why hloc does not compute this call. */
typedef struct HloEinsum {
  int nlabel[3];
  char label[3][HLO_MAX_RANK];
} HloEinsum;
const char *hlo_einsum_parse(const HloInstr *in, HloEinsum *eq);

/* ------------------------------------------------------------------------ */
/* Indexing (indexing.c): how instructions read their operands              */
/* ------------------------------------------------------------------------ */

/* How u reads operand i at an output index. */
typedef struct HloOperandMap {
  bool identity;             /* at the output's own index */
  bool expands;              /* an operand element may feed several outputs */
  bool partial;              /* some operand elements may feed none (slices,
                              * dynamic slices, gathers) */
  int rank;                  /* the operand's */
  int8_t from[HLO_MAX_RANK]; /* operand dim d is output dim from[d]; -1 when it
                              * is not one output index (reduced, windowed,
                              * computed, or read under a condition) */
} HloOperandMap;
HloOperandMap hlo_operand_map(const HloInstr *u, int i);
/* When u is read at an index starting with the first p indices of a loop
 * nest, operand i is read at an index starting with the first m: the
 * largest m <= p whose dims d < m all follow output dim d. */
int hlo_operand_prefix(const HloOperandMap *m, int p);
/* u reads x (one of its operands, perhaps several times) only at u's own
 * output index. */
bool hlo_reads_at_own_index(const HloInstr *u, const HloInstr *x);

/* What a fused computation's kernel loops over: its root, or what a root
 * that only renames elements (a reshape, default layouts) renames. */
const HloInstr *hlo_fused_nest_root(const HloComputation *fc);
/* By instruction id (malloc'd): read only at the kernel's own loop index —
 * the outputs (a tuple root's operands when they share dims; else the nest
 * root and the views above it) and what reaches them through identity
 * maps alone. */
bool *hlo_fused_at_nest_index(const HloComputation *fc);
/* By instruction id (malloc'd): bit p is set when the member is read with
 * an index starting with the first p loop indices, roots[] being read at
 * their full rank. */
uint16_t *hlo_fused_prefixes(const HloComputation *fc, const HloInstr *const *roots,
                             int nroots);
/* By parameter number (malloc'd, fc->nparams entries): the kernel may read
 * only part of the parameter's elements — some path to the root reads it
 * partially.  Costs in proportion to fc, not to the module. */
bool *hlo_fused_partial_params(const HloComputation *fc);

/* ------------------------------------------------------------------------ */
/* Shape inference and builder (shape_inference.c, builder.c)                */
/* ------------------------------------------------------------------------ */

/* Computes the shape XLA's rules give instr from its operands' shapes, its
 * attributes and its called computations.  Leaves (parameter, constant,
 * iota) and custom-call, whose shapes are given, return their own shape.
 * The result has no layout.  Errors name the instruction and the rule. */
HloError *hlo_infer_shape(const HloInstr *instr, HloShape *out);

/* ragged-dot's three modes, by the kind of its one lhs_ragged_dims dim
 * (JAX's ragged_dot_general, whose reference implementation defines the
 * values): with g groups and group_sizes [p…,g] (or [g], the same for
 * every p…),
 *   NONCONTRACTING  lhs [b,m,k], rhs [g,b,k,n] (rhs_group_dims={g's dim})
 *                   -> [b,m,n]: each row of lhs times its group's rhs,
 *                   rows in no group zeros; p…: the batch dims, then
 *                   lhs's free dims before the ragged one;
 *   CONTRACTING     lhs [b,m,k], rhs [b,k,n] -> [g,b,m,n]: group i sums
 *                   over its own part of k; p…: the batch dims, then the
 *                   contracting dims listed before the ragged one;
 *   BATCH           the dot of lhs and rhs; p…: the batch dims listed
 *                   before the ragged one.
 * Group i holds the indices from the sum of the sizes before it up to
 * that plus its own size (none when that is not positive); each group's
 * part of lhs (and rhs) is taken by zeroing the rest, so an inf or NaN
 * elsewhere still reaches a product with it, as in JAX. */
typedef enum HloRaggedMode {
  HLO_RAGGED_NONCONTRACTING, HLO_RAGGED_CONTRACTING, HLO_RAGGED_BATCH,
} HloRaggedMode;

/* The dot one group of a ragged-dot computes: the ragged-dot's dims with
 * rhs's group dim (if any) left out and rhs's later dims renumbered, and
 * rhs's shape without it.  The dims arrays point into buf. */
typedef struct HloRaggedGroupDot {
  HloDotDims dims;
  HloShape rhs;
  int64_t buf[2][HLO_MAX_RANK];
} HloRaggedGroupDot;

/* For a ragged-dot whose lhs_ragged_dims has one entry in range. */
HloRaggedMode hlo_ragged_dot_mode(const HloInstr *rd);
/* For a ragged-dot that verifies. */
void hlo_ragged_dot_group(const HloInstr *rd, HloRaggedGroupDot *out);
/* The lhs dims group_sizes' dims but the last index (p… above), in order,
 * written to lhs_dims; returns how many (0 when group_sizes is [g]).  For
 * a ragged-dot that verifies. */
int hlo_ragged_dot_size_dims(const HloInstr *rd, int64_t lhs_dims[HLO_MAX_RANK]);

/* Builder: each creates the instruction at the end of c and infers its
 * shape; on a shape error it unlinks what it created and returns NULL with
 * *err set.  Attributes are copied into the module's arena. */
HloInstr *hlo_build_unary(HloComputation *c, HloOpcode op, HloInstr *x,
                          HloError **err);
HloInstr *hlo_build_binary(HloComputation *c, HloOpcode op, HloInstr *a,
                           HloInstr *b, HloError **err);
HloInstr *hlo_build_compare(HloComputation *c, HloCompareDir dir, HloInstr *a,
                            HloInstr *b, HloError **err);
HloInstr *hlo_build_ternary(HloComputation *c, HloOpcode op, HloInstr *a,
                            HloInstr *b, HloInstr *x, HloError **err);
HloInstr *hlo_build_convert(HloComputation *c, HloInstr *x, HloType to,
                            HloError **err);
HloInstr *hlo_build_broadcast(HloComputation *c, HloInstr *x,
                              const HloShape *shape, const int64_t *dims,
                              int ndims, HloError **err);
HloInstr *hlo_build_reshape(HloComputation *c, HloInstr *x, int rank,
                            const int64_t *dims, HloError **err);
HloInstr *hlo_build_transpose(HloComputation *c, HloInstr *x,
                              const int64_t *perm, HloError **err);
HloInstr *hlo_build_slice(HloComputation *c, HloInstr *x,
                          const HloSliceDim *slice, HloError **err);
HloInstr *hlo_build_concatenate(HloComputation *c, HloInstr *const *xs, int n,
                                int64_t dim, HloError **err);
HloInstr *hlo_build_pad(HloComputation *c, HloInstr *x, HloInstr *value,
                        const HloPadDim *pad, HloError **err);
HloInstr *hlo_build_reverse(HloComputation *c, HloInstr *x,
                            const int64_t *dims, int n, HloError **err);
HloInstr *hlo_build_iota(HloComputation *c, const HloShape *shape,
                         int64_t dim, HloError **err);
HloInstr *hlo_build_tuple(HloComputation *c, HloInstr *const *xs, int n,
                          HloError **err);
HloInstr *hlo_build_get_tuple_element(HloComputation *c, HloInstr *t,
                                      int64_t index, HloError **err);
HloInstr *hlo_build_dot(HloComputation *c, HloInstr *a, HloInstr *b,
                        const HloDotDims *dims, HloType result_type,
                        HloError **err);
HloInstr *hlo_build_convolution(HloComputation *c, HloInstr *lhs,
                                HloInstr *rhs, const HloWindowDim *window,
                                const HloConvDims *dims,
                                int64_t feature_group_count,
                                int64_t batch_group_count,
                                HloType result_type, HloError **err);
/* reduce of n inputs with n init values (operands: inputs then inits). */
HloInstr *hlo_build_reduce(HloComputation *c, HloInstr *const *inputs,
                           HloInstr *const *inits, int n,
                           const int64_t *dims, int ndims,
                           HloComputation *to_apply, HloError **err);
HloInstr *hlo_build_reduce_window(HloComputation *c, HloInstr *const *inputs,
                                  HloInstr *const *inits, int n,
                                  const HloWindowDim *window,
                                  HloComputation *to_apply, HloError **err);
/* starts: one scalar integer per dim of x; sizes: one per dim of x. */
HloInstr *hlo_build_dynamic_slice(HloComputation *c, HloInstr *x,
                                  HloInstr *const *starts,
                                  const int64_t *sizes, HloError **err);
HloInstr *hlo_build_dynamic_update_slice(HloComputation *c, HloInstr *x,
                                         HloInstr *update,
                                         HloInstr *const *starts,
                                         HloError **err);
HloInstr *hlo_build_gather(HloComputation *c, HloInstr *x, HloInstr *indices,
                           const HloGatherDims *dims, HloError **err);
/* scatter of n inputs (operands: inputs, indices, updates). */
HloInstr *hlo_build_scatter(HloComputation *c, HloInstr *const *inputs,
                            HloInstr *indices, HloInstr *const *updates,
                            int n, const HloScatterDims *dims,
                            HloComputation *to_apply, HloError **err);
HloInstr *hlo_build_sort(HloComputation *c, HloInstr *const *xs, int n,
                         int64_t dim, bool is_stable,
                         HloComputation *comparator, HloError **err);
HloInstr *hlo_build_constant_scalar(HloComputation *c, HloType t, double v);
/* A sort comparator over n operands of element types types[0..n):
 * (lhs0, rhs0, lhs1, rhs1, …) -> compare(lhs0, rhs0), dir, in total order
 * for floats (XLA's CreateScalarGtComputation and Lt…, one generator);
 * created first in m with a unique name. */
HloComputation *hlo_build_sort_comparator(HloModule *m, HloCompareDir dir, const HloType *types,
                                          int n);
/* A scalar computation (x, y) -> op(x, y) of type t, e.g. the to_apply of a
 * sum; created in c's module with a unique name. */
HloComputation *hlo_build_scalar_computation(HloModule *m, HloOpcode op,
                                             HloType t);

/* ------------------------------------------------------------------------ */
/* Verifier, text format, evaluator                                          */
/* ------------------------------------------------------------------------ */

/* in is custom-call(x), custom_call_target="TopK" (verified): hloc reads
 * it as topk, with *k and *largest from its result and comparator. */
bool hlo_topk_custom_call(const HloInstr *in, int64_t *k, bool *largest);

/* The key rng draws under: FNV-1a of the instruction's name (evaluator.c
 * describes the numbers; passes/rng_expand.c compiles them). */
uint64_t hlo_rng_key(const HloInstr *in);

/* How rng-bit-generator's ThreeFry lays 32-bit values over the shape bs
 * (XLA's rule): the dimension split in halves (the first even one, else
 * the largest), its size *d and the product *inner of the dimensions
 * after it.  A scalar gives dimension 0 with *d = *inner = 1.  Shared by
 * the evaluator and passes/rng_bit_generator_expand.c. */
int hlo_three_fry_split(const HloShape *bs, int64_t *d, int64_t *inner);

/* Checks every computation: operand counts, use lists, parameters, root,
 * called computations' signatures, and every instruction's shape against
 * hlo_infer_shape.  The message names the instruction and the rule. */
HloError *hlo_verify(const HloModule *m);

/* Prints the module in XLA's HLO text syntax. */
void hlo_print_module(HloStr *out, const HloModule *m);
char *hlo_module_to_string(const HloModule *m); /* malloc'd */
void hlo_print_instr(HloStr *out, const HloInstr *instr);
/* How hlo_module_to_dot draws fusions. */
typedef struct HloDotOptions {
  int collapse_above; /* draw each fusion as one box when the graph has more
                       * instructions than this (fused ones counted); 0:
                       * always expand.  A large model stays legible. */
  const char *const *expand; /* fusions drawn expanded all the same, by name */
  int nexpand;
} HloDotOptions;
/* The entry computation as a Graphviz graph (DOT text, malloc'd): fusions
 * as clusters (or, collapsed, as one box naming what they hold), shapes on
 * edges, TF node names in labels (dot.c).  o may be NULL: always expand. */
char *hlo_module_to_dot(const HloModule *m, const HloDotOptions *o);

/* Parses HLO text; `filename` is used in messages "FILE:LINE:COL: …".
 * On success *out owns a module that has not yet been verified. */
HloError *hlo_parse(const char *text, size_t len, const char *filename,
                    HloModule **out);
HloError *hlo_parse_file(const char *path, HloModule **out);

/* Evaluates m's entry computation on args (one per parameter, shapes must
 * match without regard to layout).  *out receives a heap literal (a tuple
 * when the root is a tuple).  custom-call is evaluated only for targets
 * the project defines; others are an error naming the instruction. */
HloError *hlo_evaluate(const HloModule *m, HloLiteral *const *args, int nargs,
                       HloLiteral **out);
HloError *hlo_evaluate_computation(const HloComputation *c,
                                   HloLiteral *const *args, int nargs,
                                   HloLiteral **out);
/* Bounds on an evaluation's running time (hlo_evaluate_with), for modules
 * that may never finish (untrusted input, fuzzing, `hloc run`). */
typedef struct HloEvalOptions {
  /* Read (relaxed) before every instruction and at the head of every while
   * iteration: once another thread has made it non-zero, the evaluation
   * stops with the error "cancelled at WHERE", WHERE being "%x" or
   * "%x in %loop" (the instruction about to run, and its innermost while)
   * or "while %loop" (an iteration about to start).  NULL: never. */
  const atomic_int *cancel;
  /* Body runs of all while loops together: once this many have run, a
   * loop whose condition is still true is an error naming it and the
   * limit (one budget, so nested loops cannot multiply it).  0: none. */
  int64_t max_while_iterations;
  /* Out: WHERE when the evaluation was cancelled (malloc'd, for the
   * caller to free), else NULL. */
  char *stopped_at;
} HloEvalOptions;

/* hlo_evaluate under opts (NULL: unbounded, as hlo_evaluate). */
HloError *hlo_evaluate_with(const HloModule *m, HloLiteral *const *args, int nargs,
                            HloEvalOptions *opts, HloLiteral **out);

#endif /* HLOC_HLO_H */
