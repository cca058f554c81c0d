/*
 * kir_interp.c — the kernel-IR interpreter of kir_interp.h: a GPU's
 * execution model simulated on the CPU, so tests can check what the GPU
 * backend's kernels compute (against hlo/'s evaluator) without a GPU.
 *
 * How it runs.  A function runs in a frame: one slot of 64 bits per lane
 * of each value (a memref takes two: the address of its first element
 * and the region it lies in), for each thread of the frame.  A host
 * function's frame has one thread; a kernel's, its block's threads.  Ops
 * run in lockstep over the block: each op, in order, for every thread
 * active at it (SIMT).  Structured control flow narrows the active set:
 * an `if` runs its `then` for the threads whose condition holds and its
 * `else` for the others, a `for` or `while` iterates while some thread
 * still does, a call runs the callee for the caller's active threads.
 * So a block never needs its threads suspended at a barrier or a shuffle:
 * all of them are at the op together when the kernel is right, and when
 * some are not (a barrier under a thread-dependent branch), that is the
 * error reported.  LAUNCH runs its kernel once per block of the grid,
 * block after block, with fresh shared memory (filled with 0xFF bytes, a
 * NaN, so a read before any write shows).
 *
 * Lockstep is one legal schedule; a kernel that is right only under it
 * has a race.  Each shared-memory region keeps, per byte, the thread that
 * last wrote it and the one that last read it (or "several") in the
 * current barrier epoch; a thread touching an element another thread
 * wrote in the epoch, or writing one another read, is reported, and so
 * is a read of an element no thread of the block has written.
 *
 * Values: integers are held zero-extended to their width and sign-
 * extended where an op reads them as signed; f32 is computed in f32 (its
 * bits in the low half), f64 in f64.  Where LLVM leaves a result poison
 * the interpreter picks NVPTX's: shifts by the width or more give 0 (or
 * the sign), float to integer conversions saturate and take NaN to 0.
 * An integer division by zero is reported instead (immediate undefined
 * behaviour in LLVM).  External functions are libdevice's __nv_NAME or
 * libm's NAME, computed by libm's NAME (f32 ones by NAMEf).
 *
 * The host's own ops run too, so a module built for the CPU runs as well
 * (the tests check the interpreter on the CPU's vector-heavy kernels that
 * way): PACK keeps each memref's two slots, PARALLEL_FOR runs its task on
 * [0, count) in three chunks, the last first (a thread pool may hand out
 * any ranges in any order).  A profiler's HOOK is refused.
 *
 * MMA, the tensor cores' warp-level multiply-accumulate, gathers the
 * warp's A, B and C from its lanes' registers by gpu/mma.c's fragment
 * table (gpu_mma_elem, the one the emitter uses), multiplies exactly
 * (f16, bf16 and TF32 products fit a double), sums in double and rounds
 * each result once to f32; the hardware's order and internal precision
 * are its own, so results agree to an f32 sum's rounding.  A TF32 operand
 * is read as the hardware does, from the top 19 bits of its f32.  This
 * checks the kernels built on the table, not that the table is the
 * hardware's (test_codegen_gpu_kernels.c says what does).
 *
 * WGMMA, Hopper's warpgroup MMA, runs when it is issued, for each whole
 * warpgroup (128 threads) at it: it decodes its two descriptors
 * (gpu/wgmma.c's decoding and layout, the ones the emitter's staging
 * uses), finds the shared buffer the start address falls in (each of a
 * block's shared buffers gets an address in a shared window of its own,
 * in order of first use, 16-byte aligned), reads A and B from there with
 * the race and unwritten-byte checks, and sums as MMA does.  Being
 * asynchronous on a GPU, it is held to the rules that make issuing it
 * early harmless: no wgmma while shared memory has stores since the last
 * async_fence (the async proxy would not see them), none without a
 * wgmma_fence since the last wait that completed every group, and no
 * barrier, nor the block's end, while wgmmas are uncommitted or pending
 * (they might still read what the block overwrites next).  The block's
 * warpgroups share these counts (the kernels have one).
 *
 * The opcode dispatch is one switch (exec_op): a new op of the kernel IR
 * is one case there.
 */
#include "kir_interp.h"

#include "gpu/gpu.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum RegionKind { R_ARG, R_GLOBAL, R_ALLOCA, R_SHARED } RegionKind;

/* Memory a memref may point into; accesses must stay inside it. */
typedef struct Region {
  uint8_t *base;
  int64_t bytes;
  RegionKind kind;
  const char *name;        /* SHARED, GLOBAL: the symbol */
  int64_t window;          /* SHARED: its address in the block's window */
  /* SHARED: per byte, the last writer and reader (-1: several) and the
   * barrier epoch they touched it in (0: never). */
  int32_t *writer, *reader;
  uint32_t *wepoch, *repoch;
  struct Region *next;     /* in the list that frees it */
} Region;

/* Where each value's slots are in a frame of function f. */
typedef struct FnInfo {
  const KirFunc *f;
  int64_t *off;            /* by value: first slot (times the threads) */
  int64_t words;           /* slots per thread */
} FnInfo;

typedef struct Frame {
  const FnInfo *fi;
  int nthr;
  uint64_t *w;             /* [slot][thread] */
  Region *allocas;
} Frame;

/* The threads an op runs for. */
typedef struct Act {
  int n;
  int *t;
} Act;

typedef struct Interp {
  const KirModule *m;
  HloError *err;
  bool races;
  int64_t max_grid;        /* KirInterpOptions.max_grid */
  KirInterpStats st;
  FnInfo *fns;             /* by function, in module order */
  int nfns;
  Region *globals;         /* by global */
  /* The launch running, if any. */
  bool device;
  int64_t block_id, block_dim, grid_dim;
  uint32_t epoch;
  Region *shared;          /* this block's */
  int64_t shared_top;      /* the window's next free address */
  /* Warpgroup MMA state of the block: stores to shared memory since the
   * last async fence; a wgmma fence since the last full wait; wgmmas not
   * committed; groups committed and not waited for. */
  bool smem_dirty, wg_fenced;
  int wg_uncommitted, wg_pending;
} Interp;

/* ------------------------------------------------------------------------ */
/* Frames and errors                                                        */
/* ------------------------------------------------------------------------ */

static void fail(Interp *I, const Frame *fr, const KirOp *op, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fail(Interp *I, const Frame *fr, const KirOp *op, const char *fmt, ...) {
  if (I->err) return;
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  HloStr s = {0};
  if (op) kir_print_op(&s, fr->fi->f, op);
  /* An op with regions: its first line only, not its whole body. */
  size_t n = s.buf ? (op->nregions ? strcspn(s.buf, "\n") : strlen(s.buf)) : 0;
  if (n) s.buf[n] = '\0';
  while (n && s.buf[n - 1] == '\n') s.buf[--n] = '\0';
  I->err = hlo_error("kir_interp: @%s: %s%s%s", fr->fi->f->name, msg, n ? ", at: " : "",
                     n ? s.buf : "");
  free(s.buf);
}

static int width_of(KirType t) { return t.elem == KIR_MEMREF ? 2 : t.lanes ? t.lanes : 1; }

static FnInfo *fn_info(Interp *I, const KirFunc *f) {
  int i = 0;
  for (const KirFunc *g = I->m->first; g && g != f; g = g->next) i++;
  FnInfo *fi = &I->fns[i];
  if (!fi->off) {
    fi->f = f;
    fi->off = malloc((size_t)(f->nvals + 1) * sizeof *fi->off);
    int64_t w = 0;
    for (int v = 1; v < f->nvals; v++) {
      fi->off[v] = w;
      w += width_of(f->vals[v].type);
    }
    fi->words = w;
  }
  return fi;
}

/* The function named sym (NULL when none). */
static const KirFunc *find_func(Interp *I, const char *sym) {
  for (const KirFunc *g = I->m->first; g; g = g->next)
    if (!strcmp(g->name, sym)) return g;
  return NULL;
}

static void frame_init(Frame *fr, const FnInfo *fi, int nthr) {
  fr->fi = fi;
  fr->nthr = nthr;
  fr->w = malloc((size_t)(fi->words ? fi->words : 1) * (size_t)nthr * sizeof *fr->w);
  fr->allocas = NULL;
}

static void regions_free(Region *r) {
  while (r) {
    Region *next = r->next;
    if (r->kind != R_ARG && r->kind != R_GLOBAL) free(r->base);
    free(r->writer);
    free(r->reader);
    free(r->wepoch);
    free(r->repoch);
    free(r);
    r = next;
  }
}

static void frame_free(Frame *fr) {
  free(fr->w);
  regions_free(fr->allocas);
}

static inline uint64_t *slot(const Frame *fr, KirVal v, int lane, int t) {
  return &fr->w[(fr->fi->off[v] + lane) * fr->nthr + t];
}

static inline KirType type_of(const Frame *fr, KirVal v) { return fr->fi->f->vals[v].type; }

/* Copies value `from` of thread tf in frame a to `to` of thread tt in b. */
static void copy_val(Frame *b, KirVal to, int tt, const Frame *a, KirVal from, int tf) {
  int w = width_of(type_of(a, from));
  for (int l = 0; l < w; l++) *slot(b, to, l, tt) = *slot(a, from, l, tf);
}

/* The same for n values at once (read all before writing any: a loop's
 * yield may swap its carried values). */
static void copy_vals(Frame *fr, KirVal to, const KirVal *from, int n, int t) {
  uint64_t buf[256], *tmp = buf;
  int k = 0, words = 0;
  for (int i = 0; i < n; i++) words += width_of(type_of(fr, from[i]));
  if (words > 256) tmp = malloc((size_t)words * sizeof *tmp);
  for (int i = 0; i < n; i++)
    for (int l = 0; l < width_of(type_of(fr, from[i])); l++) tmp[k++] = *slot(fr, from[i], l, t);
  k = 0;
  for (int i = 0; i < n; i++)
    for (int l = 0; l < width_of(type_of(fr, to + i)); l++) *slot(fr, to + i, l, t) = tmp[k++];
  if (tmp != buf) free(tmp);
}

/* ------------------------------------------------------------------------ */
/* Scalars                                                                  */
/* ------------------------------------------------------------------------ */

static int bits_of(KirElem e) { return kir_elem_bits(e); }

static uint64_t trunc_to(int bits, uint64_t v) {
  return bits >= 64 ? v : v & (((uint64_t)1 << bits) - 1);
}

static int64_t sext(int bits, uint64_t v) {
  if (bits >= 64) return (int64_t)v;
  int s = 64 - bits;
  return (int64_t)(v << s) >> s;
}

static float f32_of(uint64_t b) {
  uint32_t u = (uint32_t)b;
  float f;
  memcpy(&f, &u, 4);
  return f;
}

static double f64_of(uint64_t b) {
  double d;
  memcpy(&d, &b, 8);
  return d;
}

static uint64_t of_f32(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

static uint64_t of_f64(double d) {
  uint64_t u;
  memcpy(&u, &d, 8);
  return u;
}

/* A float element's value, widened (exact). */
static double fval(KirElem e, uint64_t b) { return e == KIR_F32 ? f32_of(b) : f64_of(b); }
static uint64_t fbits(KirElem e, double d) { return e == KIR_F32 ? of_f32((float)d) : of_f64(d); }

/* Integer binary ops; false on a division by zero. */
static bool ibin(KirOpcode code, int bits, uint64_t a, uint64_t b, uint64_t *out) {
  int64_t sa = sext(bits, a), sb = sext(bits, b);
  int64_t smin = bits >= 64 ? INT64_MIN : -((int64_t)1 << (bits - 1));
  uint64_t r = 0;
  switch (code) {
  case KIR_ADDI: r = a + b; break;
  case KIR_SUBI: r = a - b; break;
  case KIR_MULI: r = a * b; break;
  case KIR_DIVSI:
    if (!sb) return false;
    r = sa == smin && sb == -1 ? (uint64_t)sa : (uint64_t)(sa / sb);
    break;
  case KIR_DIVUI:
    if (!b) return false;
    r = a / b;
    break;
  case KIR_REMSI:
    if (!sb) return false;
    r = sa == smin && sb == -1 ? 0 : (uint64_t)(sa % sb);
    break;
  case KIR_REMUI:
    if (!b) return false;
    r = a % b;
    break;
  case KIR_ANDI: r = a & b; break;
  case KIR_ORI: r = a | b; break;
  case KIR_XORI: r = a ^ b; break;
  case KIR_SHLI: r = b >= (uint64_t)bits ? 0 : a << b; break;
  case KIR_SHRSI: r = (uint64_t)(b >= (uint64_t)bits ? (sa < 0 ? -1 : 0) : sa >> b); break;
  case KIR_SHRUI: r = b >= (uint64_t)bits ? 0 : a >> b; break;
  case KIR_MAXSI: r = sa > sb ? a : b; break;
  case KIR_MINSI: r = sa < sb ? a : b; break;
  case KIR_MAXUI: r = a > b ? a : b; break;
  case KIR_MINUI: r = a < b ? a : b; break;
  default: HLO_CHECK(!"an integer binary op");
  }
  *out = trunc_to(bits, r);
  return true;
}

/* scalef: x · 2^floor(y), rounded once (ldexp's rounding).  A NaN in
 * either is NaN; y = ±inf scales by 2^±inf, where 0 · 2^inf and inf · 2^-inf
 * are NaN, as AVX-512's vscalefps/pd define them. */
static double scalef64(double x, double y) {
  if (isnan(x) || isnan(y)) return NAN;
  if (isinf(y)) {
    if ((y > 0 && x == 0) || (y < 0 && isinf(x))) return NAN;
    return y > 0 ? x * INFINITY : x * 0.0;
  }
  double k = floor(y);
  return ldexp(x, k > 4096 ? 4096 : k < -4096 ? -4096 : (int)k);
}

static float scalef32(float x, float y) {
  if (isnan(x) || isnan(y)) return NAN;
  if (isinf(y)) return (float)scalef64(x, y);
  float k = floorf(y);
  return ldexpf(x, k > 512 ? 512 : k < -512 ? -512 : (int)k);
}

static uint64_t fbin(KirOpcode code, KirElem e, uint64_t a, uint64_t b) {
  if (e == KIR_F32) {
    float x = f32_of(a), y = f32_of(b), r = 0;
    switch (code) {
    case KIR_ADDF: r = x + y; break;
    case KIR_SUBF: r = x - y; break;
    case KIR_MULF: r = x * y; break;
    case KIR_DIVF: r = x / y; break;
    case KIR_REMF: r = fmodf(x, y); break;
    case KIR_SCALEF: r = scalef32(x, y); break;
    default: HLO_CHECK(!"a float binary op");
    }
    return of_f32(r);
  }
  double x = f64_of(a), y = f64_of(b), r = 0;
  switch (code) {
  case KIR_ADDF: r = x + y; break;
  case KIR_SUBF: r = x - y; break;
  case KIR_MULF: r = x * y; break;
  case KIR_DIVF: r = x / y; break;
  case KIR_REMF: r = fmod(x, y); break;
  case KIR_SCALEF: r = scalef64(x, y); break;
  default: HLO_CHECK(!"a float binary op");
  }
  return of_f64(r);
}

static uint64_t iun(KirOpcode code, int bits, uint64_t a) {
  switch (code) {
  case KIR_ABSI: {
    int64_t s = sext(bits, a);
    return trunc_to(bits, (uint64_t)(s < 0 ? -(uint64_t)s : (uint64_t)s));
  }
  case KIR_CTPOP: return (uint64_t)__builtin_popcountll(a);
  case KIR_CTLZ: return a ? (uint64_t)(__builtin_clzll(a) - (64 - bits)) : (uint64_t)bits;
  default: HLO_CHECK(!"an integer unary op");
  }
  return 0;
}

static uint64_t fun(KirOpcode code, KirElem e, uint64_t a) {
  if (e == KIR_F32) {
    float x = f32_of(a), r = 0;
    switch (code) {
    case KIR_NEGF: r = -x; break;
    case KIR_ABSF: r = fabsf(x); break;
    case KIR_SQRT: r = sqrtf(x); break;
    case KIR_FLOOR: r = floorf(x); break;
    case KIR_CEIL: r = ceilf(x); break;
    case KIR_ROUND: r = roundf(x); break;
    case KIR_ROUNDEVEN: r = rintf(x); break;
    default: HLO_CHECK(!"a float unary op");
    }
    return of_f32(r);
  }
  double x = f64_of(a), r = 0;
  switch (code) {
  case KIR_NEGF: r = -x; break;
  case KIR_ABSF: r = fabs(x); break;
  case KIR_SQRT: r = sqrt(x); break;
  case KIR_FLOOR: r = floor(x); break;
  case KIR_CEIL: r = ceil(x); break;
  case KIR_ROUND: r = round(x); break;
  case KIR_ROUNDEVEN: r = rint(x); break;
  default: HLO_CHECK(!"a float unary op");
  }
  return of_f64(r);
}

static bool cmpi(KirIPred p, int bits, uint64_t a, uint64_t b) {
  int64_t sa = sext(bits, a), sb = sext(bits, b);
  switch (p) {
  case KIR_EQ: return a == b;
  case KIR_NE: return a != b;
  case KIR_SLT: return sa < sb;
  case KIR_SLE: return sa <= sb;
  case KIR_SGT: return sa > sb;
  case KIR_SGE: return sa >= sb;
  case KIR_ULT: return a < b;
  case KIR_ULE: return a <= b;
  case KIR_UGT: return a > b;
  case KIR_UGE: return a >= b;
  }
  return false;
}

static bool cmpf(KirFPred p, double x, double y) {
  bool uno = isnan(x) || isnan(y);
  switch (p) {
  case KIR_OEQ: return !uno && x == y;
  case KIR_ONE: return !uno && x != y;
  case KIR_OLT: return !uno && x < y;
  case KIR_OLE: return !uno && x <= y;
  case KIR_OGT: return !uno && x > y;
  case KIR_OGE: return !uno && x >= y;
  case KIR_ORD: return !uno;
  case KIR_UEQ: return uno || x == y;
  case KIR_UNE: return uno || x != y;
  case KIR_ULTF: return uno || x < y;
  case KIR_ULEF: return uno || x <= y;
  case KIR_UGTF: return uno || x > y;
  case KIR_UGEF: return uno || x >= y;
  case KIR_UNO: return uno;
  }
  return false;
}

/* A float to an integer of `bits`, saturating, NaN to 0 (cvt.rzi.sat). */
static uint64_t ftoi(double x, int bits, bool is_signed) {
  if (isnan(x)) return 0;
  x = trunc(x);
  if (is_signed) {
    double hi = ldexp(1.0, bits - 1);
    if (x >= hi) return trunc_to(bits, (uint64_t)(bits >= 64 ? INT64_MAX : (int64_t)hi - 1));
    if (x < -hi) return trunc_to(bits, (uint64_t)(bits >= 64 ? INT64_MIN : -(int64_t)hi));
    return trunc_to(bits, (uint64_t)(int64_t)x);
  }
  double hi = ldexp(1.0, bits);
  if (x >= hi) return trunc_to(bits, UINT64_MAX);
  if (x <= 0) return 0;
  return (uint64_t)x;
}

static uint64_t cast(KirOpcode code, KirElem from, KirElem to, uint64_t a) {
  int fb = bits_of(from), tb = bits_of(to);
  switch (code) {
  case KIR_EXTUI:
  case KIR_INDEX_CASTUI: return trunc_to(tb, a);
  case KIR_EXTSI:
  case KIR_TRUNCI:
  case KIR_INDEX_CAST: return trunc_to(tb, (uint64_t)sext(fb, a));
  case KIR_SITOFP:
    return fbits(to, to == KIR_F32 ? (double)(float)sext(fb, a) : (double)sext(fb, a));
  case KIR_UITOFP: return fbits(to, to == KIR_F32 ? (double)(float)a : (double)a);
  case KIR_FPTOSI: return ftoi(fval(from, a), tb, true);
  case KIR_FPTOUI: return ftoi(fval(from, a), tb, false);
  case KIR_EXTF:
  case KIR_TRUNCF: return fbits(to, fval(from, a));
  case KIR_BITCAST: return trunc_to(tb, a);
  default: HLO_CHECK(!"a cast");
  }
  return 0;
}

/* maximumf/minimumf: NaN wins, -0 < +0. */
static double fmaximum(double x, double y, bool max) {
  if (isnan(x) || isnan(y)) return NAN;
  if (x == y) return (signbit(x) != 0) == max ? y : x; /* ±0: max +0, min -0 */
  return (x > y) == max ? x : y;
}

static uint64_t combine(KirCombine c, KirElem e, uint64_t a, uint64_t b) {
  int bits = bits_of(e);
  if (kir_elem_is_float(e)) {
    switch (c) {
    case KIR_COMBINE_ADD: return fbin(KIR_ADDF, e, a, b);
    case KIR_COMBINE_MUL: return fbin(KIR_MULF, e, a, b);
    case KIR_COMBINE_MAXF:
    case KIR_COMBINE_MINF: return fbits(e, fmaximum(fval(e, a), fval(e, b), c == KIR_COMBINE_MAXF));
    default: break;
    }
  }
  switch (c) {
  case KIR_COMBINE_ADD: return trunc_to(bits, a + b);
  case KIR_COMBINE_MUL: return trunc_to(bits, a * b);
  case KIR_COMBINE_AND: return a & b;
  case KIR_COMBINE_OR: return a | b;
  case KIR_COMBINE_XOR: return a ^ b;
  default: HLO_CHECK(!"a reduction's combiner");
  }
  return 0;
}

/* ------------------------------------------------------------------------ */
/* External math                                                            */
/* ------------------------------------------------------------------------ */

typedef struct MathFn {
  const char *name;
  double (*d1)(double);
  float (*f1)(float);
  double (*d2)(double, double);
  float (*f2)(float, float);
} MathFn;

static const MathFn math_fns[] = {
    {"exp", exp, expf, NULL, NULL},       {"expm1", expm1, expm1f, NULL, NULL},
    {"exp2", exp2, exp2f, NULL, NULL},    {"log", log, logf, NULL, NULL},
    {"log1p", log1p, log1pf, NULL, NULL}, {"log2", log2, log2f, NULL, NULL},
    {"log10", log10, log10f, NULL, NULL}, {"cbrt", cbrt, cbrtf, NULL, NULL},
    {"tanh", tanh, tanhf, NULL, NULL},    {"sinh", sinh, sinhf, NULL, NULL},
    {"cosh", cosh, coshf, NULL, NULL},    {"sin", sin, sinf, NULL, NULL},
    {"cos", cos, cosf, NULL, NULL},       {"tan", tan, tanf, NULL, NULL},
    {"asin", asin, asinf, NULL, NULL},    {"acos", acos, acosf, NULL, NULL},
    {"atan", atan, atanf, NULL, NULL},    {"erf", erf, erff, NULL, NULL},
    {"erfc", erfc, erfcf, NULL, NULL},    {"pow", NULL, NULL, pow, powf},
    {"atan2", NULL, NULL, atan2, atan2f}, {"fmod", NULL, NULL, fmod, fmodf},
    {"hypot", NULL, NULL, hypot, hypotf},
};

/* Calls external f on args (float bits); false when it is none of ours. */
static bool call_math(const KirFunc *f, const uint64_t *args, uint64_t *out) {
  const char *name = f->name;
  if (!strncmp(name, "__nv_", 5)) name += 5;
  if (f->nresults != 1 || f->nparams < 1 || f->nparams > 2) return false;
  KirElem e = (KirElem)f->result.elem;
  if (!kir_elem_is_float(e) || f->result.lanes) return false;
  size_t n = strlen(name);
  if (e == KIR_F32) {
    if (!n || name[n - 1] != 'f') return false;
    n--;
  }
  for (size_t i = 0; i < sizeof math_fns / sizeof *math_fns; i++) {
    const MathFn *m = &math_fns[i];
    if (strlen(m->name) != n || strncmp(m->name, name, n)) continue;
    if (f->nparams != (m->d1 ? 1 : 2)) return false;
    if (e == KIR_F32)
      *out = of_f32(m->f1 ? m->f1(f32_of(args[0])) : m->f2(f32_of(args[0]), f32_of(args[1])));
    else
      *out = of_f64(m->d1 ? m->d1(f64_of(args[0])) : m->d2(f64_of(args[0]), f64_of(args[1])));
    return true;
  }
  return false;
}

/* ------------------------------------------------------------------------ */
/* Memory                                                                   */
/* ------------------------------------------------------------------------ */

static int elem_bytes(KirElem e) {
  switch (e) {
  case KIR_I16: return 2;
  case KIR_I32:
  case KIR_F32: return 4;
  case KIR_I64:
  case KIR_F64:
  case KIR_INDEX:
  case KIR_PTR: return 8;
  default: return 1;
  }
}

static int64_t memref_bytes(const KirMemref *r) {
  int64_t n = elem_bytes((KirElem)r->elem);
  for (int i = 0; i < r->rank; i++) n *= r->dims[i];
  return n;
}

static Region *region_new(RegionKind kind, uint8_t *base, int64_t bytes, const char *name) {
  Region *r = calloc(1, sizeof *r);
  r->kind = kind;
  r->base = base;
  r->bytes = bytes;
  r->name = name;
  return r;
}

/* The address of element idx (rank values, as the op's operands from
 * `first`) of memref `mem`, for `lanes` consecutive elements along the
 * last dim, of thread t; NULL after reporting when out of bounds. */
static uint8_t *address(Interp *I, Frame *fr, const KirOp *op, KirVal mem, int first, int lanes,
                        int t, Region **rg) {
  const KirMemref *r = kir_memref_of(I->m, type_of(fr, mem));
  uint8_t *p = (uint8_t *)(uintptr_t)*slot(fr, mem, 0, t);
  *rg = (Region *)(uintptr_t)*slot(fr, mem, 1, t);
  int64_t lin = 0;
  for (int d = 0; d < r->rank; d++) {
    int64_t i = (int64_t)*slot(fr, op->opnds[first + d], 0, t);
    int64_t hi = r->dims[d] - (d == r->rank - 1 ? lanes - 1 : 0);
    if (i < 0 || i >= hi) {
      fail(I, fr, op, "thread %d: index %" PRId64 "%s of dim %d is out of [0, %" PRId64 ")", t,
           i, lanes > 1 ? " (a vector's first)" : "", d, hi);
      return NULL;
    }
    lin = lin * r->dims[d] + i;
  }
  int es = elem_bytes((KirElem)r->elem);
  p += lin * es;
  if (p < (*rg)->base || p + (int64_t)lanes * es > (*rg)->base + (*rg)->bytes) {
    fail(I, fr, op, "thread %d: an access outside the buffer its memref views", t);
    return NULL;
  }
  return p;
}

/* The race check of thread t touching shared byte p of r (and, reading,
 * that some thread wrote it). */
static bool race_free(Interp *I, Frame *fr, const KirOp *op, Region *r, uint8_t *p, int t,
                      bool write) {
  if (!I->races || r->kind != R_SHARED) return true;
  int64_t o = p - r->base;
  uint32_t e = I->epoch;
  if (!write && !r->wepoch[o]) {
    fail(I, fr, op, "thread %d reads byte %" PRId64 " of shared memory @%s, which no thread of "
         "the block wrote", t, o, r->name);
    return false;
  }
  int other = -2;
  if (r->wepoch[o] == e && r->writer[o] != t) other = r->writer[o];
  else if (write && r->repoch[o] == e && r->reader[o] != t) other = r->reader[o];
  if (other != -2) {
    char who[32] = "several threads";
    if (other >= 0) snprintf(who, sizeof who, "thread %d", other);
    fail(I, fr, op,
         "a race on shared memory @%s: thread %d %s byte %" PRId64 " that %s %s since the last "
         "barrier",
         r->name, t, write ? "writes" : "reads", o, who,
         r->wepoch[o] == e && r->writer[o] != t ? "wrote" : "read");
    return false;
  }
  if (write) {
    r->wepoch[o] = e;
    r->writer[o] = t;
  } else if (r->repoch[o] == e && r->reader[o] != t) {
    r->reader[o] = -1;
  } else {
    r->repoch[o] = e;
    r->reader[o] = t;
  }
  return true;
}

static uint64_t read_elem(const uint8_t *p, int es) {
  uint64_t v = 0;
  memcpy(&v, p, (size_t)es);
  return v;
}

/* A load's or store's lanes (masked: where mask is set) of thread t. */
static void access(Interp *I, Frame *fr, const KirOp *op, bool store, int t) {
  /* STORE/VSTORE/MSTORE: value, mem, idx…[, mask]; loads: mem, idx…[, mask, passthru] */
  int lead = store ? 1 : 0;
  KirVal mem = op->opnds[lead];
  const KirMemref *r = kir_memref_of(I->m, type_of(fr, mem));
  KirVal v = store ? op->opnds[0] : op->res;
  int lanes = width_of(type_of(fr, v));
  bool masked = op->code == KIR_MLOAD || op->code == KIR_MSTORE;
  KirVal mask = masked ? op->opnds[lead + 1 + r->rank] : 0;
  int es = elem_bytes((KirElem)r->elem);
  Region *rg;
  uint8_t *p;
  if (!masked) {
    p = address(I, fr, op, mem, lead + 1, lanes, t, &rg);
    if (!p) return;
    if ((op->flags & KIR_F_NONTEMPORAL) && (uintptr_t)p % (uintptr_t)op->imm) {
      fail(I, fr, op, "thread %d: a nontemporal store to an address not a multiple of %" PRId64,
           t, op->imm);
      return;
    }
  } else {
    /* Only the lanes the mask sets must be inside the memref. */
    uint8_t *base = (uint8_t *)(uintptr_t)*slot(fr, mem, 0, t);
    rg = (Region *)(uintptr_t)*slot(fr, mem, 1, t);
    int64_t lin = 0;
    for (int d = 0; d < r->rank; d++) {
      int64_t i = (int64_t)*slot(fr, op->opnds[lead + 1 + d], 0, t);
      if (d < r->rank - 1 && (i < 0 || i >= r->dims[d])) {
        fail(I, fr, op, "thread %d: index %" PRId64 " of dim %d is out of [0, %" PRId64 ")", t, i,
             d, r->dims[d]);
        return;
      }
      lin = lin * r->dims[d] + i;
    }
    int64_t last = r->rank ? (int64_t)*slot(fr, op->opnds[lead + r->rank], 0, t) : 0;
    for (int l = 0; l < lanes; l++) {
      if (!*slot(fr, mask, l, t)) continue;
      int64_t at = last + l;
      int64_t dim = r->rank ? r->dims[r->rank - 1] : 1;
      if (at < 0 || at >= dim) {
        fail(I, fr, op,
             "thread %d: lane %d at index %" PRId64 " of the last dim is out of [0, %" PRId64 ")",
             t, l, at, dim);
        return;
      }
    }
    p = base + lin * es;
  }
  if (store && rg->kind == R_GLOBAL) {
    fail(I, fr, op, "a store into the constant @%s", rg->name);
    return;
  }
  if (store && rg->kind == R_SHARED) I->smem_dirty = true;
  for (int l = 0; l < lanes; l++) {
    uint8_t *q = p + (int64_t)l * es;
    bool on = !masked || *slot(fr, mask, l, t);
    if (!on) {
      if (!store) *slot(fr, v, l, t) = *slot(fr, op->opnds[op->nopnds - 1], l, t);
      continue;
    }
    if (q < rg->base || q + es > rg->base + rg->bytes) {
      fail(I, fr, op, "thread %d: an access outside the buffer its memref views", t);
      return;
    }
    if (!race_free(I, fr, op, rg, q, t, store)) return;
    if (store) {
      uint64_t x = *slot(fr, v, l, t);
      memcpy(q, &x, (size_t)es);
    } else {
      *slot(fr, v, l, t) = read_elem(q, es);
    }
  }
}

static void set_memref(Frame *fr, KirVal v, int t, uint8_t *p, Region *r) {
  *slot(fr, v, 0, t) = (uint64_t)(uintptr_t)p;
  *slot(fr, v, 1, t) = (uint64_t)(uintptr_t)r;
}

/* This block's shared memory `sym` of type t, made on first use. */
static Region *shared_region(Interp *I, const char *sym, const KirMemref *r) {
  for (Region *s = I->shared; s; s = s->next)
    if (!strcmp(s->name, sym)) return s;
  int64_t n = memref_bytes(r);
  Region *s = region_new(R_SHARED, malloc((size_t)(n ? n : 1)), n, sym);
  memset(s->base, 0xFF, (size_t)n);
  if (I->races) {
    s->writer = calloc((size_t)(n ? n : 1), sizeof *s->writer);
    s->reader = calloc((size_t)(n ? n : 1), sizeof *s->reader);
    s->wepoch = calloc((size_t)(n ? n : 1), sizeof *s->wepoch);
    s->repoch = calloc((size_t)(n ? n : 1), sizeof *s->repoch);
  }
  s->window = I->shared_top;
  I->shared_top += (n + 15) / 16 * 16;
  s->next = I->shared;
  I->shared = s;
  return s;
}

/* ------------------------------------------------------------------------ */
/* Execution                                                                */
/* ------------------------------------------------------------------------ */

static void exec_block(Interp *I, Frame *fr, const KirBlock *b, const Act *a);
static bool wgmma_idle(Interp *I, Frame *fr, const KirOp *op, const char *what);
static void run_func(Interp *I, const KirFunc *f, Frame *caller, const KirOp *call, const Act *a);

static Act act_new(int nthr) { return (Act){0, malloc((size_t)nthr * sizeof(int))}; }

/* The results of op from the operands of its region's terminator term
 * (from the from-th on), for thread t. */
static void results_from(Frame *fr, const KirOp *op, const KirOp *term, int from, int t) {
  for (int i = 0; i < op->nres; i++) copy_val(fr, op->res + i, t, fr, term->opnds[from + i], t);
}

static void exec_for(Interp *I, Frame *fr, const KirOp *op, const Act *a) {
  const KirBlock *body = op->regions[0];
  int n = op->nopnds - 3;
  Act cur = act_new(fr->nthr);
  for (int i = 0; i < a->n; i++) {
    int t = a->t[i];
    int64_t lo = (int64_t)*slot(fr, op->opnds[0], 0, t),
            hi = (int64_t)*slot(fr, op->opnds[1], 0, t);
    int64_t step = (int64_t)*slot(fr, op->opnds[2], 0, t);
    if (step <= 0 && lo < hi) {
      fail(I, fr, op, "thread %d: a loop from %" PRId64 " to %" PRId64 " by %" PRId64, t, lo, hi,
           step);
      free(cur.t);
      return;
    }
    for (int k = 0; k < n; k++) copy_val(fr, body->args + 1 + k, t, fr, op->opnds[3 + k], t);
    *slot(fr, body->args, 0, t) = (uint64_t)lo;
    if (lo < hi) cur.t[cur.n++] = t;
    else
      for (int k = 0; k < n; k++) copy_val(fr, op->res + k, t, fr, op->opnds[3 + k], t);
  }
  while (cur.n && !I->err) {
    exec_block(I, fr, body, &cur);
    if (I->err) break;
    int keep = 0;
    for (int i = 0; i < cur.n; i++) {
      int t = cur.t[i];
      copy_vals(fr, body->args + 1, body->last->opnds, n, t);
      int64_t iv = (int64_t)*slot(fr, body->args, 0, t) + (int64_t)*slot(fr, op->opnds[2], 0, t);
      int64_t hi = (int64_t)*slot(fr, op->opnds[1], 0, t);
      *slot(fr, body->args, 0, t) = (uint64_t)iv;
      if (iv < hi) cur.t[keep++] = t;
      else
        for (int k = 0; k < n; k++) copy_val(fr, op->res + k, t, fr, body->args + 1 + k, t);
    }
    cur.n = keep;
  }
  free(cur.t);
}

static void exec_if(Interp *I, Frame *fr, const KirOp *op, const Act *a) {
  Act yes = act_new(fr->nthr), no = act_new(fr->nthr);
  for (int i = 0; i < a->n; i++) {
    int t = a->t[i];
    if (*slot(fr, op->opnds[0], 0, t)) yes.t[yes.n++] = t;
    else no.t[no.n++] = t;
  }
  for (int r = 0; r < op->nregions && !I->err; r++) {
    const Act *on = r ? &no : &yes;
    if (!on->n) continue;
    exec_block(I, fr, op->regions[r], on);
    for (int i = 0; i < on->n && !I->err; i++)
      results_from(fr, op, op->regions[r]->last, 0, on->t[i]);
  }
  free(yes.t);
  free(no.t);
}

static void exec_while(Interp *I, Frame *fr, const KirOp *op, const Act *a) {
  const KirBlock *before = op->regions[0], *after = op->regions[1];
  Act cur = act_new(fr->nthr);
  for (int i = 0; i < a->n; i++) {
    int t = a->t[i];
    copy_vals(fr, before->args, op->opnds, op->nopnds, t);
    cur.t[cur.n++] = t;
  }
  while (cur.n && !I->err) {
    exec_block(I, fr, before, &cur);
    if (I->err) break;
    const KirOp *cond = before->last;
    int keep = 0;
    for (int i = 0; i < cur.n; i++) {
      int t = cur.t[i];
      if (*slot(fr, cond->opnds[0], 0, t)) {
        copy_vals(fr, after->args, cond->opnds + 1, cond->nopnds - 1, t);
        cur.t[keep++] = t;
      } else {
        results_from(fr, op, cond, 1, t);
      }
    }
    cur.n = keep;
    if (!cur.n) break;
    exec_block(I, fr, after, &cur);
    for (int i = 0; i < cur.n && !I->err; i++)
      copy_vals(fr, before->args, after->last->opnds, after->last->nopnds, cur.t[i]);
  }
  free(cur.t);
}

static void exec_switch(Interp *I, Frame *fr, const KirOp *op, const Act *a) {
  int ncases = op->nregions - 1;
  Act on = act_new(fr->nthr);
  for (int r = 0; r < op->nregions && !I->err; r++) {
    on.n = 0;
    for (int i = 0; i < a->n; i++) {
      int t = a->t[i];
      int64_t x = (int64_t)*slot(fr, op->opnds[0], 0, t);
      int which = x >= 0 && x < ncases ? (int)x : ncases;
      if (which == r) on.t[on.n++] = t;
    }
    if (!on.n) continue;
    exec_block(I, fr, op->regions[r], &on);
    for (int i = 0; i < on.n && !I->err; i++)
      results_from(fr, op, op->regions[r]->last, 0, on.t[i]);
  }
  free(on.t);
}

static void exec_launch(Interp *I, Frame *fr, const KirOp *op, const Act *a) {
  const KirFunc *k = find_func(I, op->sym);
  if (I->device || fr->nthr != 1 || a->n != 1) {
    fail(I, fr, op, "a launch from device code");
    return;
  }
  if (!k || !k->body) {
    fail(I, fr, op, "a launch of no function with a body");
    return;
  }
  int64_t grid = (int64_t)*slot(fr, op->opnds[0], 0, 0);
  int64_t block = (int64_t)*slot(fr, op->opnds[1], 0, 0);
  if (grid < 1 || block < 1 || block > 1024) {
    fail(I, fr, op, "a launch of %" PRId64 " blocks of %" PRId64 " threads", grid, block);
    return;
  }
  if (I->max_grid && grid > I->max_grid) grid = I->max_grid;
  FnInfo *fi = fn_info(I, k);
  I->st.launches++;
  I->device = true;
  I->block_dim = block;
  I->grid_dim = grid;
  Act all = act_new((int)block);
  for (int t = 0; t < block; t++) all.t[all.n++] = t;
  for (int64_t b = 0; b < grid && !I->err; b++) {
    I->block_id = b;
    I->epoch = 1;
    Frame kf;
    frame_init(&kf, fi, (int)block);
    for (int t = 0; t < block; t++)
      for (int i = 0; i < k->nparams; i++)
        copy_val(&kf, kir_param(k, i), t, fr, op->opnds[2 + i], 0);
    exec_block(I, &kf, k->body, &all);
    if (!I->err) wgmma_idle(I, fr, op, "the end of a block");
    frame_free(&kf);
    regions_free(I->shared);
    I->shared = NULL;
    I->shared_top = 0;
    I->smem_dirty = I->wg_fenced = false;
    I->wg_uncommitted = I->wg_pending = 0;
    I->st.blocks++;
    I->st.threads += block;
  }
  free(all.t);
  I->device = false;
}

/* The CPU runtime's parallel-for: the task over [0, count) in three
 * chunks, the last first (a thread pool's tasks take any ranges, in any
 * order: a task that counts on starting at 0 shows). */
static void exec_parallel_for(Interp *I, Frame *fr, const KirOp *op, const Act *a) {
  const KirFunc *task = find_func(I, op->sym);
  if (I->device || fr->nthr != 1 || a->n != 1 || !task || !task->body || task->nparams != 3) {
    fail(I, fr, op, "a parallel-for outside a host function, or of no task");
    return;
  }
  int64_t count = (int64_t)*slot(fr, op->opnds[0], 0, 0);
  int64_t chunk = (count + 2) / 3;
  FnInfo *fi = fn_info(I, task);
  for (int64_t hi = count; hi > 0 && !I->err; hi -= chunk) {
    int64_t lo = hi - chunk > 0 ? hi - chunk : 0;
    Frame tf;
    frame_init(&tf, fi, 1);
    *slot(&tf, kir_param(task, 0), 0, 0) = *slot(fr, op->opnds[1], 0, 0);
    *slot(&tf, kir_param(task, 1), 0, 0) = (uint64_t)lo;
    *slot(&tf, kir_param(task, 2), 0, 0) = (uint64_t)hi;
    exec_block(I, &tf, task->body, a);
    frame_free(&tf);
  }
}

static void exec_call(Interp *I, Frame *fr, const KirOp *op, const Act *a) {
  const KirFunc *callee = find_func(I, op->sym);
  if (!callee) {
    fail(I, fr, op, "a call of no function");
    return;
  }
  if (callee->body) {
    run_func(I, callee, fr, op, a);
    return;
  }
  for (int i = 0; i < a->n; i++) {
    int t = a->t[i];
    uint64_t args[2] = {0, 0}, r;
    for (int k = 0; k < op->nopnds && k < 2; k++) args[k] = *slot(fr, op->opnds[k], 0, t);
    if (!call_math(callee, args, &r)) {
      fail(I, fr, op, "a call of the external @%s, which the interpreter does not know",
           callee->name);
      return;
    }
    *slot(fr, op->res, 0, t) = r;
  }
}

/* Runs op for the threads of a. */
/* Whether every lane of each warp the active threads belong to is active
 * (what a shuffle or an mma needs); else the error, naming `what`. */
static bool whole_groups(Interp *I, Frame *fr, const KirOp *op, const Act *a, const char *what,
                         int size) {
  if (!I->device) {
    fail(I, fr, op, "%s outside a kernel", what);
    return false;
  }
  uint8_t *on = calloc((size_t)fr->nthr, 1);
  if (!on) {
    fail(I, fr, op, "out of memory");
    return false;
  }
  for (int i = 0; i < a->n; i++) on[a->t[i]] = 1;
  for (int i = 0; i < a->n; i++) {
    int t = a->t[i], w0 = t - t % size;
    for (int l = w0; l < w0 + size; l++)
      if (l >= fr->nthr || !on[l]) {
        fail(I, fr, op, "%s that lane %d of thread %d's %s does not reach", what, l - w0, t,
             size == 32 ? "warp" : "warpgroup");
        free(on);
        return false;
      }
  }
  free(on);
  return true;
}

static bool whole_warps(Interp *I, Frame *fr, const KirOp *op, const Act *a, const char *what) {
  return whole_groups(I, fr, op, a, what, 32);
}

/* Element e of an mma operand of kind k from the register bits r holds
 * it in (mma.c: per_reg elements to a register, the lower in the low
 * half). */
static double mma_operand(KirMmaKind k, uint64_t r, int e) {
  if (k == KIR_MMA_TF32) return f32_of(r & 0xFFFFE000u);
  uint16_t h = (uint16_t)(r >> (16 * (e % 2)));
  return k == KIR_MMA_F16 ? hlo_f16_to_f32(h) : hlo_bf16_to_f32(h);
}

/* MMA for the warp whose first lane is thread w0 (all 32 active). */
static void exec_mma(Frame *fr, const KirOp *op, int w0) {
  KirMmaKind k = (KirMmaKind)op->pred;
  const GpuMmaShape *s = gpu_mma_shape(k);
  double A[16][16] = {{0}}, B[16][8] = {{0}}, D[16][8] = {{0}};
  for (int lane = 0; lane < 32; lane++) {
    int t = w0 + lane, r, c;
    for (int e = 0; e < s->na; e++) {
      gpu_mma_elem(k, GPU_MMA_A, lane, e, &r, &c);
      A[r][c] = mma_operand(k, *slot(fr, op->opnds[e / s->per_reg], 0, t), e);
    }
    for (int e = 0; e < s->nb; e++) {
      gpu_mma_elem(k, GPU_MMA_B, lane, e, &r, &c);
      B[r][c] = mma_operand(k, *slot(fr, op->opnds[4 + e / s->per_reg], 0, t), e);
    }
    for (int e = 0; e < 4; e++) {
      gpu_mma_elem(k, GPU_MMA_C, lane, e, &r, &c);
      D[r][c] = f32_of(*slot(fr, op->opnds[6 + e], 0, t));
    }
  }
  for (int r = 0; r < s->m; r++)
    for (int c = 0; c < s->n; c++)
      for (int j = 0; j < s->k; j++) D[r][c] += A[r][j] * B[j][c];
  for (int lane = 0; lane < 32; lane++)
    for (int e = 0, r, c; e < 4; e++) {
      gpu_mma_elem(k, GPU_MMA_C, lane, e, &r, &c);
      *slot(fr, op->res + e, 0, w0 + lane) = of_f32((float)D[r][c]);
    }
}

/* The shared buffer and the byte in it that address `addr` of the block's
 * window is, or NULL. */
static Region *shared_at(Interp *I, int64_t addr, int64_t *off) {
  for (Region *s = I->shared; s; s = s->next)
    if (addr >= s->window && addr < s->window + s->bytes) {
      *off = addr - s->window;
      return s;
    }
  return NULL;
}

/* Operand `which` (0: A, rows m; 1: B, rows n) of a wgmma of kind k for
 * the warpgroup of thread w0, through descriptor d: rows × k elements
 * into x ([row][k]). */
static bool wgmma_operand(Interp *I, Frame *fr, const KirOp *op, uint64_t d, KirMmaKind k,
                          int rows, int kk, int w0, double *x) {
  GpuWgmmaDesc g;
  gpu_wgmma_decode(d, &g);
  int es = k == KIR_MMA_TF32 ? 4 : 2;
  int64_t at;
  Region *r = shared_at(I, g.addr, &at);
  if (!r) {
    fail(I, fr, op, "a wgmma descriptor at shared address %" PRId64 ", in no shared buffer",
         g.addr);
    return false;
  }
  for (int row = 0; row < rows; row++)
    for (int j = 0; j < kk; j++) {
      int64_t o = gpu_wgmma_offset(&g, row, j, es);
      if (o < 0) {
        fail(I, fr, op, "a wgmma descriptor of swizzle mode %d and base offset %d, which the "
             "interpreter does not read", g.swizzle, g.base);
        return false;
      }
      o += at;
      if (o + es > r->bytes) {
        fail(I, fr, op, "a wgmma reads byte %" PRId64 " of shared memory @%s, past its %" PRId64
             " bytes", o + es - 1, r->name, r->bytes);
        return false;
      }
      /* The race check keeps an element's state at its first byte. */
      if (!race_free(I, fr, op, r, r->base + o, w0, false)) return false;
      x[row * kk + j] = mma_operand(k, read_elem(r->base + o, es), 0);
    }
  return true;
}

/* WGMMA for the warpgroup whose first thread is w0 (all 128 active). */
static void exec_wgmma(Interp *I, Frame *fr, const KirOp *op, int w0) {
  KirMmaKind k = (KirMmaKind)op->pred;
  int n = (int)op->imm, kk = k == KIR_MMA_TF32 ? 8 : 16;
  uint64_t da = *slot(fr, op->opnds[0], 0, w0), db = *slot(fr, op->opnds[1], 0, w0);
  for (int t = w0; t < w0 + GPU_WARPGROUP; t++)
    if (*slot(fr, op->opnds[0], 0, t) != da || *slot(fr, op->opnds[1], 0, t) != db) {
      fail(I, fr, op, "a wgmma whose threads %d and %d give different descriptors", w0, t);
      return;
    }
  double *A = calloc((size_t)KIR_WGMMA_M * kk, sizeof *A);
  double *B = calloc((size_t)n * kk, sizeof *B);
  double *D = calloc((size_t)KIR_WGMMA_M * n, sizeof *D);
  if (A && B && D && wgmma_operand(I, fr, op, da, k, KIR_WGMMA_M, kk, w0, A) &&
      wgmma_operand(I, fr, op, db, k, n, kk, w0, B)) {
    for (int t = 0; t < GPU_WARPGROUP; t++)
      for (int i = 0, r, c; i < n / 2; i++) {
        gpu_wgmma_acc(t, i, &r, &c);
        D[r * n + c] = f32_of(*slot(fr, op->opnds[2 + i], 0, w0 + t));
      }
    for (int r = 0; r < KIR_WGMMA_M; r++)
      for (int c = 0; c < n; c++)
        for (int j = 0; j < kk; j++) D[r * n + c] += A[r * kk + j] * B[c * kk + j];
    for (int t = 0; t < GPU_WARPGROUP; t++)
      for (int i = 0, r, c; i < n / 2; i++) {
        gpu_wgmma_acc(t, i, &r, &c);
        *slot(fr, op->res + i, 0, w0 + t) = of_f32((float)D[r * n + c]);
      }
  } else if (!I->err) {
    fail(I, fr, op, "out of memory");
  }
  free(A);
  free(B);
  free(D);
}

/* The async rules of the warpgroup MMA (the top of the file). */
static bool wgmma_idle(Interp *I, Frame *fr, const KirOp *op, const char *what) {
  if (!I->wg_uncommitted && !I->wg_pending) return true;
  fail(I, fr, op, "%s while %d wgmma(s) are uncommitted and %d group(s) pending (they may still "
       "read shared memory)", what, I->wg_uncommitted, I->wg_pending);
  return false;
}

static void exec_op(Interp *I, Frame *fr, const KirOp *op, const Act *a) {
  const KirModule *m = I->m;
  KirType rt = op->nres ? type_of(fr, op->res) : kir_scalar(KIR_VOID);
  int lanes = rt.lanes ? rt.lanes : 1;
  KirElem re = (KirElem)rt.elem;
  switch (op->code) {
  case KIR_CONST:
    for (int i = 0; i < a->n; i++)
      for (int l = 0; l < lanes; l++) *slot(fr, op->res, l, a->t[i]) = (uint64_t)op->imm;
    return;
  case KIR_IOTA:
    for (int i = 0; i < a->n; i++)
      for (int l = 0; l < lanes; l++) *slot(fr, op->res, l, a->t[i]) = (uint64_t)l;
    return;
  case KIR_ADDI: case KIR_SUBI: case KIR_MULI: case KIR_DIVSI: case KIR_DIVUI: case KIR_REMSI:
  case KIR_REMUI: case KIR_ANDI: case KIR_ORI: case KIR_XORI: case KIR_SHLI: case KIR_SHRSI:
  case KIR_SHRUI: case KIR_MAXSI: case KIR_MINSI: case KIR_MAXUI: case KIR_MINUI:
    for (int i = 0; i < a->n; i++)
      for (int l = 0; l < lanes; l++) {
        int t = a->t[i];
        if (!ibin(op->code, bits_of(re), *slot(fr, op->opnds[0], l, t),
                  *slot(fr, op->opnds[1], l, t), slot(fr, op->res, l, t))) {
          fail(I, fr, op, "thread %d: an integer division by zero", t);
          return;
        }
      }
    return;
  case KIR_ADDF: case KIR_SUBF: case KIR_MULF: case KIR_DIVF: case KIR_REMF:
  case KIR_SCALEF:
    for (int i = 0; i < a->n; i++)
      for (int l = 0; l < lanes; l++) {
        int t = a->t[i];
        *slot(fr, op->res, l, t) =
            fbin(op->code, re, *slot(fr, op->opnds[0], l, t), *slot(fr, op->opnds[1], l, t));
      }
    return;
  case KIR_ABSI: case KIR_CTPOP: case KIR_CTLZ:
    for (int i = 0; i < a->n; i++)
      for (int l = 0; l < lanes; l++) {
        int t = a->t[i];
        *slot(fr, op->res, l, t) = iun(op->code, bits_of(re), *slot(fr, op->opnds[0], l, t));
      }
    return;
  case KIR_NEGF: case KIR_ABSF: case KIR_SQRT: case KIR_FLOOR: case KIR_CEIL: case KIR_ROUND:
  case KIR_ROUNDEVEN:
    for (int i = 0; i < a->n; i++)
      for (int l = 0; l < lanes; l++) {
        int t = a->t[i];
        *slot(fr, op->res, l, t) = fun(op->code, re, *slot(fr, op->opnds[0], l, t));
      }
    return;
  case KIR_FMA:
    for (int i = 0; i < a->n; i++)
      for (int l = 0; l < lanes; l++) {
        int t = a->t[i];
        uint64_t x = *slot(fr, op->opnds[0], l, t), y = *slot(fr, op->opnds[1], l, t),
                 z = *slot(fr, op->opnds[2], l, t);
        *slot(fr, op->res, l, t) = re == KIR_F32 ? of_f32(fmaf(f32_of(x), f32_of(y), f32_of(z)))
                                                 : of_f64(fma(f64_of(x), f64_of(y), f64_of(z)));
      }
    return;
  case KIR_CMPI: {
    int bits = bits_of((KirElem)type_of(fr, op->opnds[0]).elem);
    for (int i = 0; i < a->n; i++)
      for (int l = 0; l < lanes; l++) {
        int t = a->t[i];
        *slot(fr, op->res, l, t) = cmpi((KirIPred)op->pred, bits, *slot(fr, op->opnds[0], l, t),
                                        *slot(fr, op->opnds[1], l, t));
      }
    return;
  }
  case KIR_CMPF: {
    KirElem e = (KirElem)type_of(fr, op->opnds[0]).elem;
    for (int i = 0; i < a->n; i++)
      for (int l = 0; l < lanes; l++) {
        int t = a->t[i];
        *slot(fr, op->res, l, t) = cmpf((KirFPred)op->pred, fval(e, *slot(fr, op->opnds[0], l, t)),
                                        fval(e, *slot(fr, op->opnds[1], l, t)));
      }
    return;
  }
  case KIR_SELECT: {
    bool vcond = type_of(fr, op->opnds[0]).lanes != 0;
    int w = width_of(rt);
    for (int i = 0; i < a->n; i++)
      for (int l = 0; l < w; l++) {
        int t = a->t[i];
        bool c = *slot(fr, op->opnds[0], vcond ? l : 0, t) != 0;
        *slot(fr, op->res, l, t) = *slot(fr, op->opnds[c ? 1 : 2], l, t);
      }
    return;
  }
  case KIR_EXTUI: case KIR_EXTSI: case KIR_TRUNCI: case KIR_SITOFP: case KIR_UITOFP:
  case KIR_FPTOSI: case KIR_FPTOUI: case KIR_EXTF: case KIR_TRUNCF: case KIR_BITCAST:
  case KIR_INDEX_CAST: case KIR_INDEX_CASTUI: {
    KirElem from = (KirElem)type_of(fr, op->opnds[0]).elem;
    for (int i = 0; i < a->n; i++)
      for (int l = 0; l < lanes; l++) {
        int t = a->t[i];
        *slot(fr, op->res, l, t) = cast(op->code, from, re, *slot(fr, op->opnds[0], l, t));
      }
    return;
  }
  case KIR_LOAD: case KIR_VLOAD: case KIR_MLOAD:
  case KIR_STORE: case KIR_VSTORE: case KIR_MSTORE: {
    bool store = op->code == KIR_STORE || op->code == KIR_VSTORE || op->code == KIR_MSTORE;
    for (int i = 0; i < a->n && !I->err; i++) access(I, fr, op, store, a->t[i]);
    return;
  }
  case KIR_PREFETCH: case KIR_STREAM_FENCE: return;
  case KIR_ADDR:
    for (int i = 0; i < a->n; i++)
      *slot(fr, op->res, 0, a->t[i]) = *slot(fr, op->opnds[0], 0, a->t[i]);
    return;
  case KIR_ALLOCA: {
    int64_t n = memref_bytes(kir_memref_of(m, rt));
    for (int i = 0; i < a->n; i++) {
      Region *r = region_new(R_ALLOCA, malloc((size_t)(n ? n : 1)), n, "alloca");
      memset(r->base, 0xA5, (size_t)n);
      r->next = fr->allocas;
      fr->allocas = r;
      set_memref(fr, op->res, a->t[i], r->base, r);
    }
    return;
  }
  case KIR_GLOBAL: {
    Region *g = NULL;
    for (int i = 0; i < m->nglobals; i++)
      if (!strcmp(m->globals[i].name, op->sym)) g = &I->globals[i];
    if (!g) {
      fail(I, fr, op, "no global @%s", op->sym);
      return;
    }
    if (g->bytes < memref_bytes(kir_memref_of(m, rt))) {
      fail(I, fr, op, "global @%s holds %" PRId64 " bytes, less than its type", op->sym, g->bytes);
      return;
    }
    for (int i = 0; i < a->n; i++) set_memref(fr, op->res, a->t[i], g->base, g);
    return;
  }
  case KIR_VIEW: {
    int64_t n = memref_bytes(kir_memref_of(m, rt));
    int64_t arena = memref_bytes(kir_memref_of(m, type_of(fr, op->opnds[0])));
    for (int i = 0; i < a->n; i++) {
      int t = a->t[i];
      int64_t off = (int64_t)*slot(fr, op->opnds[1], 0, t);
      if (off < 0 || off + n > arena) {
        fail(I, fr, op, "a view of bytes [%" PRId64 ", %" PRId64 ") of an arena of %" PRId64, off,
             off + n, arena);
        return;
      }
      uint8_t *p = (uint8_t *)(uintptr_t)*slot(fr, op->opnds[0], 0, t);
      set_memref(fr, op->res, t, p + off, (Region *)(uintptr_t)*slot(fr, op->opnds[0], 1, t));
    }
    return;
  }
  case KIR_RESHAPE:
    for (int i = 0; i < a->n; i++) copy_val(fr, op->res, a->t[i], fr, op->opnds[0], a->t[i]);
    return;
  case KIR_COPY: {
    int64_t n = memref_bytes(kir_memref_of(m, type_of(fr, op->opnds[0])));
    for (int i = 0; i < a->n; i++) {
      int t = a->t[i];
      uint8_t *from = (uint8_t *)(uintptr_t)*slot(fr, op->opnds[0], 0, t);
      uint8_t *to = (uint8_t *)(uintptr_t)*slot(fr, op->opnds[1], 0, t);
      Region *rf = (Region *)(uintptr_t)*slot(fr, op->opnds[0], 1, t);
      Region *rt2 = (Region *)(uintptr_t)*slot(fr, op->opnds[1], 1, t);
      if (rt2->kind == R_GLOBAL) {
        fail(I, fr, op, "a copy into the constant @%s", rt2->name);
        return;
      }
      if (from < rf->base || from + n > rf->base + rf->bytes || to < rt2->base ||
          to + n > rt2->base + rt2->bytes) {
        fail(I, fr, op, "a copy outside the buffers its memrefs view");
        return;
      }
      memmove(to, from, (size_t)n);
    }
    return;
  }
  case KIR_BROADCAST: {
    bool vec = type_of(fr, op->opnds[0]).lanes != 0;
    for (int i = 0; i < a->n; i++)
      for (int l = 0; l < lanes; l++)
        *slot(fr, op->res, l, a->t[i]) = *slot(fr, op->opnds[0], vec ? l : 0, a->t[i]);
    return;
  }
  case KIR_EXTRACT:
    for (int i = 0; i < a->n; i++)
      *slot(fr, op->res, 0, a->t[i]) = *slot(fr, op->opnds[0], (int)op->imm, a->t[i]);
    return;
  case KIR_INSERT:
    for (int i = 0; i < a->n; i++) {
      int t = a->t[i];
      for (int l = 0; l < lanes; l++) *slot(fr, op->res, l, t) = *slot(fr, op->opnds[1], l, t);
      *slot(fr, op->res, (int)op->imm, t) = *slot(fr, op->opnds[0], 0, t);
    }
    return;
  case KIR_REDUCE: {
    KirType vt = type_of(fr, op->opnds[0]);
    for (int i = 0; i < a->n; i++) {
      int t = a->t[i];
      uint64_t acc = *slot(fr, op->opnds[0], 0, t);
      for (int l = 1; l < vt.lanes; l++)
        acc = combine((KirCombine)op->pred, re, acc, *slot(fr, op->opnds[0], l, t));
      *slot(fr, op->res, 0, t) = acc;
    }
    return;
  }
  case KIR_SHUFFLE: {
    int n0 = width_of(type_of(fr, op->opnds[0]));
    for (int i = 0; i < a->n; i++) {
      int t = a->t[i];
      for (int l = 0; l < op->nmask; l++) {
        int k = op->mask[l];
        *slot(fr, op->res, l, t) =
            k < n0 ? *slot(fr, op->opnds[0], k, t) : *slot(fr, op->opnds[1], k - n0, t);
      }
    }
    return;
  }
  case KIR_FOR: exec_for(I, fr, op, a); return;
  case KIR_IF: exec_if(I, fr, op, a); return;
  case KIR_WHILE: exec_while(I, fr, op, a); return;
  case KIR_SWITCH: exec_switch(I, fr, op, a); return;
  case KIR_YIELD:
  case KIR_CONDITION:
  case KIR_RETURN: return; /* their regions' owners read them */
  case KIR_CALL: exec_call(I, fr, op, a); return;
  case KIR_POLL:
    for (int i = 0; i < a->n; i++) {
      int t = a->t[i];
      const int32_t *flag = (const int32_t *)(uintptr_t)*slot(fr, op->opnds[0], 0, t);
      if (!flag) {
        fail(I, fr, op, "a poll of a NULL flag");
        return;
      }
      *slot(fr, op->res, 0, t) = (uint32_t)*flag;
    }
    return;
  case KIR_NONNULL:
    for (int i = 0; i < a->n; i++)
      *slot(fr, op->res, 0, a->t[i]) = *slot(fr, op->opnds[0], 0, a->t[i]) != 0;
    return;
  case KIR_PACK:
    /* The context holds each memref's two slots (address, region). */
    for (int i = 0; i < a->n; i++) {
      int t = a->t[i];
      Region *r = region_new(R_ALLOCA, malloc((size_t)op->nopnds * 16 + 1), op->nopnds * 16,
                             "pack");
      r->next = fr->allocas;
      fr->allocas = r;
      uint64_t *ctx = (uint64_t *)(void *)r->base;
      for (int k = 0; k < op->nopnds; k++) {
        ctx[2 * k] = *slot(fr, op->opnds[k], 0, t);
        ctx[2 * k + 1] = *slot(fr, op->opnds[k], 1, t);
      }
      *slot(fr, op->res, 0, t) = (uint64_t)(uintptr_t)r->base;
    }
    return;
  case KIR_UNPACK:
    for (int i = 0; i < a->n; i++) {
      int t = a->t[i];
      const uint64_t *ctx = (const uint64_t *)(uintptr_t)*slot(fr, op->opnds[0], 0, t);
      *slot(fr, op->res, 0, t) = ctx[2 * op->imm];
      *slot(fr, op->res, 1, t) = ctx[2 * op->imm + 1];
    }
    return;
  case KIR_PARALLEL_FOR: exec_parallel_for(I, fr, op, a); return;
  case KIR_HOOK:
    fail(I, fr, op, "a host's hook is not simulated (pass no profiler)");
    return;
  case KIR_THREAD_ID: case KIR_BLOCK_ID: case KIR_BLOCK_DIM: case KIR_GRID_DIM:
    if (!I->device) {
      fail(I, fr, op, "a GPU index outside a kernel");
      return;
    }
    for (int i = 0; i < a->n; i++) {
      int t = a->t[i];
      *slot(fr, op->res, 0, t) =
          (uint64_t)(op->code == KIR_THREAD_ID   ? t
                     : op->code == KIR_BLOCK_ID  ? I->block_id
                     : op->code == KIR_BLOCK_DIM ? I->block_dim
                                                 : I->grid_dim);
    }
    return;
  case KIR_SHARED: {
    if (!I->device) {
      fail(I, fr, op, "shared memory outside a kernel");
      return;
    }
    Region *s = shared_region(I, op->sym, kir_memref_of(m, rt));
    for (int i = 0; i < a->n; i++) set_memref(fr, op->res, a->t[i], s->base, s);
    return;
  }
  case KIR_BARRIER:
    if (!I->device || a->n != fr->nthr) {
      fail(I, fr, op, "a barrier that %d of the block's %d threads reach", a->n, fr->nthr);
      return;
    }
    if (!wgmma_idle(I, fr, op, "a barrier")) return;
    I->epoch++;
    I->st.barriers++;
    return;
  case KIR_SHFL_XOR:
    if (!whole_warps(I, fr, op, a, "a shuffle")) return;
    for (int i = 0; i < a->n; i++) {
      int t = a->t[i];
      if (!(t & 31)) I->st.shuffles++;
      *slot(fr, op->res, 0, t) = *slot(fr, op->opnds[0], 0, t ^ (int)op->imm);
    }
    return;
  case KIR_MMA:
    if (!whole_warps(I, fr, op, a, "an mma")) return;
    for (int i = 0; i < a->n; i++)
      if (!(a->t[i] & 31)) {
        I->st.mmas++;
        exec_mma(fr, op, a->t[i]);
      }
    return;
  case KIR_WGMMA_DESC:
    if (!I->device) {
      fail(I, fr, op, "a wgmma descriptor outside a kernel");
      return;
    }
    for (int i = 0; i < a->n; i++) {
      int t = a->t[i];
      Region *r = (Region *)(uintptr_t)*slot(fr, op->opnds[0], 1, t);
      uint8_t *p = (uint8_t *)(uintptr_t)*slot(fr, op->opnds[0], 0, t);
      if (!r || r->kind != R_SHARED) {
        fail(I, fr, op, "thread %d: a wgmma descriptor of memory that is not shared", t);
        return;
      }
      int64_t addr = r->window + (p - r->base) + (int64_t)*slot(fr, op->opnds[1], 0, t);
      if (addr % 16) {
        fail(I, fr, op, "thread %d: a wgmma descriptor at shared address %" PRId64
             ", no multiple of 16", t, addr);
        return;
      }
      *slot(fr, op->res, 0, t) = gpu_wgmma_encode(addr, (uint64_t)op->imm);
    }
    return;
  case KIR_WGMMA:
    if (!whole_groups(I, fr, op, a, "a wgmma", GPU_WARPGROUP)) return;
    if (I->smem_dirty) {
      fail(I, fr, op, "a wgmma after stores to shared memory with no async_fence since (the "
           "wgmma would not see them)");
      return;
    }
    if (!I->wg_fenced) {
      fail(I, fr, op, "a wgmma with no wgmma_fence since its accumulators were last waited for");
      return;
    }
    for (int i = 0; i < a->n && !I->err; i++)
      if (!(a->t[i] % GPU_WARPGROUP)) {
        I->st.wgmmas++;
        exec_wgmma(I, fr, op, a->t[i]);
      }
    I->wg_uncommitted++;
    return;
  case KIR_WGMMA_FENCE: case KIR_WGMMA_COMMIT: case KIR_WGMMA_WAIT:
    if (!whole_groups(I, fr, op, a, kir_opcode_name(op->code), GPU_WARPGROUP)) return;
    if (op->code == KIR_WGMMA_FENCE) {
      I->wg_fenced = true;
    } else if (op->code == KIR_WGMMA_COMMIT) {
      I->wg_pending += I->wg_uncommitted > 0;
      I->wg_uncommitted = 0;
    } else {
      if (I->wg_pending > op->imm) I->wg_pending = (int)op->imm;
      if (!I->wg_pending && !I->wg_uncommitted) I->wg_fenced = false;
    }
    return;
  case KIR_ASYNC_FENCE:
    if (!I->device) {
      fail(I, fr, op, "an async fence outside a kernel");
      return;
    }
    if (a->n == fr->nthr) I->smem_dirty = false;
    return;
  case KIR_LAUNCH: exec_launch(I, fr, op, a); return;
  case KIR_NUM_OPCODES: break;
  }
  fail(I, fr, op, "an op the interpreter does not know");
}

static void exec_block(Interp *I, Frame *fr, const KirBlock *b, const Act *a) {
  for (const KirOp *op = b->first; op && !I->err; op = op->next) exec_op(I, fr, op, a);
}

/* Runs f for the active threads of caller's call op, into its results. */
static void run_func(Interp *I, const KirFunc *f, Frame *caller, const KirOp *call, const Act *a) {
  Frame fr;
  frame_init(&fr, fn_info(I, f), caller->nthr);
  for (int i = 0; i < a->n; i++)
    for (int k = 0; k < f->nparams; k++)
      copy_val(&fr, kir_param(f, k), a->t[i], caller, call->opnds[k], a->t[i]);
  exec_block(I, &fr, f->body, a);
  const KirOp *ret = f->body->last;
  if (!I->err && call->nres && ret && ret->code == KIR_RETURN)
    for (int i = 0; i < a->n; i++)
      copy_val(caller, call->res, a->t[i], &fr, ret->opnds[0], a->t[i]);
  frame_free(&fr);
}

HloError *kir_interp_run(const KirModule *m, const char *name, int nargs,
                         const KirInterpArg *args, const KirInterpOptions *o, uint64_t *result) {
  Interp I = {.m = m, .races = !(o && o->no_race_check), .max_grid = o ? o->max_grid : 0};
  const KirFunc *f = NULL;
  for (const KirFunc *g = m->first; g; g = g->next) {
    if (!strcmp(g->name, name)) f = g;
    I.nfns++;
  }
  if (!f || !f->body) return hlo_error("kir_interp: no function @%s with a body", name);
  if (f->device) return hlo_error("kir_interp: @%s is device code: run the host's entry", name);
  if (nargs != f->nparams)
    return hlo_error("kir_interp: @%s takes %d arguments, not %d", name, f->nparams, nargs);
  I.fns = calloc((size_t)I.nfns, sizeof *I.fns);
  I.globals = calloc((size_t)(m->nglobals ? m->nglobals : 1), sizeof *I.globals);
  /* A packed global's bytes are made from its source as the program
   * would make them (KirGlobal.fill); the others are the caller's. */
  uint8_t **made = calloc((size_t)(m->nglobals ? m->nglobals : 1), sizeof *made);
  for (int i = 0; i < m->nglobals; i++) {
    const KirGlobal *g = &m->globals[i];
    const uint8_t *base = g->data;
    if (g->fill && g->bytes) {
      made[i] = calloc(g->bytes, 1);
      if (!made[i]) {
        I.err = hlo_error("kir_interp: out of memory for global @%s", g->name);
        break;
      }
      g->fill(made[i], g->data, g->how);
      base = made[i];
    }
    I.globals[i] = (Region){.base = (uint8_t *)(uintptr_t)base, .bytes = (int64_t)g->bytes,
                            .kind = R_GLOBAL, .name = g->name};
  }
  Frame fr;
  frame_init(&fr, fn_info(&I, f), 1);
  Region *argregs = NULL;
  for (int i = 0; i < nargs && !I.err; i++) {
    KirType t = f->params[i];
    KirVal v = kir_param(f, i);
    if (t.elem == KIR_MEMREF) {
      int64_t need = memref_bytes(kir_memref_of(m, t));
      if ((int64_t)args[i].bytes < need || (need && !args[i].data)) {
        I.err = hlo_error("kir_interp: @%s: argument %d holds %zu bytes, its type %" PRId64, name,
                          i, args[i].bytes, need);
        break;
      }
      Region *r = region_new(R_ARG, args[i].data, (int64_t)args[i].bytes, "argument");
      r->next = argregs;
      argregs = r;
      set_memref(&fr, v, 0, args[i].data, r);
    } else if (t.elem == KIR_PTR) {
      *slot(&fr, v, 0, 0) = (uint64_t)(uintptr_t)args[i].data;
    } else {
      *slot(&fr, v, 0, 0) = args[i].bits;
    }
  }
  if (!I.err) {
    int zero = 0;
    Act one = {1, &zero};
    exec_block(&I, &fr, f->body, &one);
    const KirOp *ret = f->body->last;
    if (!I.err && result && f->nresults && ret && ret->code == KIR_RETURN)
      *result = *slot(&fr, ret->opnds[0], 0, 0);
  }
  frame_free(&fr);
  regions_free(argregs);
  for (int i = 0; i < I.nfns; i++) free(I.fns[i].off);
  free(I.fns);
  free(I.globals);
  for (int i = 0; i < m->nglobals; i++) free(made[i]);
  free(made);
  if (o && o->stats) *o->stats = I.st;
  return I.err;
}
