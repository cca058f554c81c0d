/*
 * cpu.c — what the running CPU can execute, so that a program compiled for
 * another CPU (`--cpu native` on a newer machine, `--cpu sapphirerapids`)
 * is refused with the features it lacks before any of its code runs,
 * instead of dying of SIGILL in the middle of a kernel.
 *
 * A compiled program records the LLVM features its code may use
 * (hloc_program.features); this file answers, for LLVM's names, whether
 * this CPU has them: on x86-64 from CPUID, and for the vector register
 * files also from XCR0 (the state the OS saves: a CPU with AVX-512 under
 * an OS that does not save its registers cannot run AVX-512 code); on
 * AArch64 from the kernel's HWCAP bits.  A name missing from the tables
 * (a tuning flag, a feature no code of hloc's needs) cannot be told and is
 * not held against the program.  Plain C, no LLVM: generated executables
 * run this at start.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hloc_runtime.h"

#if defined(__x86_64__)
#include <cpuid.h>

/* A feature's CPUID bit: leaf, subleaf, register (0 EAX … 3 EDX), bit, and
 * the XCR0 bits its registers need. */
typedef struct Feature {
  const char *name;
  unsigned leaf, subleaf, reg, bit;
  uint64_t xcr0;
} Feature;

enum { EAX, EBX, ECX, EDX };
#define YMM 0x6u          /* SSE and AVX state */
#define ZMM 0xe6u         /* … and the opmask and upper ZMM state */
#define TILE 0x600e6u     /* … and the AMX tile state */

static const Feature features[] = {
    {"sse", 1, 0, EDX, 25, 0},          {"sse2", 1, 0, EDX, 26, 0},
    {"sse3", 1, 0, ECX, 0, 0},          {"pclmul", 1, 0, ECX, 1, 0},
    {"ssse3", 1, 0, ECX, 9, 0},         {"fma", 1, 0, ECX, 12, YMM},
    {"cx16", 1, 0, ECX, 13, 0},         {"sse4.1", 1, 0, ECX, 19, 0},
    {"sse4.2", 1, 0, ECX, 20, 0},       {"movbe", 1, 0, ECX, 22, 0},
    {"popcnt", 1, 0, ECX, 23, 0},       {"aes", 1, 0, ECX, 25, 0},
    {"xsave", 1, 0, ECX, 26, 0},        {"avx", 1, 0, ECX, 28, YMM},
    {"f16c", 1, 0, ECX, 29, YMM},       {"rdrnd", 1, 0, ECX, 30, 0},
    {"fsgsbase", 7, 0, EBX, 0, 0},      {"bmi", 7, 0, EBX, 3, 0},
    {"avx2", 7, 0, EBX, 5, YMM},        {"bmi2", 7, 0, EBX, 8, 0},
    {"avx512f", 7, 0, EBX, 16, ZMM},    {"avx512dq", 7, 0, EBX, 17, ZMM},
    {"rdseed", 7, 0, EBX, 18, 0},       {"adx", 7, 0, EBX, 19, 0},
    {"avx512ifma", 7, 0, EBX, 21, ZMM}, {"clflushopt", 7, 0, EBX, 23, 0},
    {"clwb", 7, 0, EBX, 24, 0},         {"avx512cd", 7, 0, EBX, 28, ZMM},
    {"sha", 7, 0, EBX, 29, 0},          {"avx512bw", 7, 0, EBX, 30, ZMM},
    {"avx512vl", 7, 0, EBX, 31, ZMM},   {"avx512vbmi", 7, 0, ECX, 1, ZMM},
    {"avx512vbmi2", 7, 0, ECX, 6, ZMM}, {"gfni", 7, 0, ECX, 8, 0},
    {"vaes", 7, 0, ECX, 9, YMM},        {"vpclmulqdq", 7, 0, ECX, 10, YMM},
    {"avx512vnni", 7, 0, ECX, 11, ZMM}, {"avx512bitalg", 7, 0, ECX, 12, ZMM},
    {"avx512vpopcntdq", 7, 0, ECX, 14, ZMM}, {"avx512vp2intersect", 7, 0, EDX, 8, ZMM},
    {"amx-bf16", 7, 0, EDX, 22, TILE},  {"avx512fp16", 7, 0, EDX, 23, ZMM},
    {"amx-tile", 7, 0, EDX, 24, TILE},  {"amx-int8", 7, 0, EDX, 25, TILE},
    {"avxvnni", 7, 1, EAX, 4, YMM},     {"avx512bf16", 7, 1, EAX, 5, ZMM},
    {"amx-fp16", 7, 1, EAX, 21, TILE},  {"avxifma", 7, 1, EAX, 23, YMM},
    {"avxvnniint8", 7, 1, EDX, 4, YMM}, {"avxneconvert", 7, 1, EDX, 5, YMM},
    {"amx-complex", 7, 1, EDX, 8, TILE}, {"avxvnniint16", 7, 1, EDX, 10, YMM},
    {"sahf", 0x80000001u, 0, ECX, 0, 0}, {"lzcnt", 0x80000001u, 0, ECX, 5, 0},
    {"sse4a", 0x80000001u, 0, ECX, 6, 0}, {"prfchw", 0x80000001u, 0, ECX, 8, 0},
    {"xop", 0x80000001u, 0, ECX, 11, YMM}, {"fma4", 0x80000001u, 0, ECX, 16, YMM},
    {"tbm", 0x80000001u, 0, ECX, 21, 0},
};

static uint64_t xcr0(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return 0; /* no OSXSAVE */
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t)hi << 32 | lo;
}

int hloc_cpu_has(const char *name) {
  for (size_t i = 0; i < sizeof features / sizeof *features; i++) {
    const Feature *f = &features[i];
    if (strcmp(f->name, name)) continue;
    unsigned r[4] = {0};
    if (!__get_cpuid_count(f->leaf, f->subleaf, &r[EAX], &r[EBX], &r[ECX], &r[EDX])) return 0;
    if (!(r[f->reg] >> f->bit & 1)) return 0;
    return (xcr0() & f->xcr0) == f->xcr0;
  }
  return -1;
}

#elif defined(__aarch64__)
#include <sys/auxv.h>

typedef struct Feature {
  const char *name;
  int hwcap2; /* 0: AT_HWCAP, 1: AT_HWCAP2 */
  unsigned bit;
} Feature;

/* Linux's arch/arm64 HWCAP_* and HWCAP2_* bits. */
static const Feature features[] = {
    {"fp-armv8", 0, 0}, {"neon", 0, 1},     {"aes", 0, 3},       {"sha2", 0, 6},
    {"crc", 0, 7},      {"lse", 0, 8},      {"fullfp16", 0, 9},  {"rdm", 0, 12},
    {"jsconv", 0, 13},  {"complxnum", 0, 14}, {"rcpc", 0, 15},   {"sha3", 0, 17},
    {"dotprod", 0, 20}, {"sve", 0, 22},     {"fp16fml", 0, 23},  {"sve2", 1, 1},
    {"i8mm", 1, 13},    {"bf16", 1, 14},    {"sme", 1, 23},
};

int hloc_cpu_has(const char *name) {
  for (size_t i = 0; i < sizeof features / sizeof *features; i++)
    if (!strcmp(features[i].name, name))
      return (int)(getauxval(features[i].hwcap2 ? AT_HWCAP2 : AT_HWCAP) >> features[i].bit & 1);
  return -1;
}

#else
int hloc_cpu_has(const char *name) {
  (void)name;
  return -1;
}
#endif

int hloc_program_check_cpu(const hloc_program *p, char *err, size_t errlen) {
  if (!p->features || !*p->features) return 0;
  char missing[512] = "";
  size_t len = 0;
  int nmissing = 0;
  for (const char *s = p->features; *s;) {
    size_t n = strcspn(s, ",");
    char name[64];
    if (n > 0 && n < sizeof name) {
      memcpy(name, s, n);
      name[n] = '\0';
      if (hloc_cpu_has(name) == 0) {
        int k = snprintf(missing + len, sizeof missing - len, "%s%s", nmissing ? ", " : "",
                         name);
        if (k > 0 && len + (size_t)k < sizeof missing) len += (size_t)k;
        nmissing++;
      }
    }
    s += n + (s[n] == ',');
  }
  if (!nmissing) return 0;
  if (errlen)
    snprintf(err, errlen,
             "model '%s' was compiled for the CPU '%s', but this CPU lacks %s %s: running it would "
             "stop with an illegal instruction; compile it for this machine (--cpu native) or "
             "a CPU it has the features of",
             p->name, p->cpu ? p->cpu : "?", nmissing == 1 ? "the feature" : "the features",
             missing);
  return -1;
}
