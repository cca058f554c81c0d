/*
 * math.c — transcendental and rounding functions on f32/f64 registers: the
 * one place codegen emits them, so that replacing them is a local change.
 *
 * For now they are MLIR `math` ops, which the pipeline lowers to LLVM
 * intrinsics (convert-math-to-llvm) or libm calls (convert-math-to-libm),
 * and explicit libm calls where the math dialect's own expansion is not
 * accurate (expm1 and log1p expand to exp(x)-1 and log(1+x), which lose
 * all precision near 0).  Either way the compiled object calls the same
 * libm as the evaluator, so results match it.  DESIGN.md decision 4 asks
 * for our own vectorizable approximations; they will replace the bodies
 * here, and nothing outside this file needs to change.
 *
 * logistic and rsqrt are composed as the evaluator defines them:
 * 1 / (1 + exp(-x)) and 1 / sqrt(x).
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

bool cg_math_handles(HloOpcode op) {
  switch (op) {
  case HLO_OP_EXP: case HLO_OP_EXPM1: case HLO_OP_LOG: case HLO_OP_LOG1P:
  case HLO_OP_LOGISTIC: case HLO_OP_SQRT: case HLO_OP_RSQRT: case HLO_OP_CBRT:
  case HLO_OP_TANH: case HLO_OP_SIN: case HLO_OP_COS: case HLO_OP_TAN:
  case HLO_OP_ERF: case HLO_OP_FLOOR: case HLO_OP_CEIL: case HLO_OP_ROUND_AFZ:
  case HLO_OP_ROUND_EVEN:
    return true;
  default:
    return false;
  }
}

/* A call to the C library's `name` (float version with suffix f). */
static CgVal libm_call(CgFn *f, const char *name, const char *fty, CgVal a) {
  bool is_f32 = !strcmp(fty, "f32");
  char fn[32], sig[32];
  snprintf(fn, sizeof fn, "%s%s", name, is_f32 ? "f" : "");
  snprintf(sig, sizeof sig, "(%s) -> %s", fty, fty);
  cg_declare(f->g, fn, sig);
  return cg_def(f->e, "func.call @%s(%v) : %s", fn, a, sig);
}

static CgVal one(CgFn *f, const char *fty) {
  return cg_const(f, !strcmp(fty, "f32") ? HLO_F32 : HLO_F64, 1.0);
}

CgVal cg_math_unary(CgFn *f, HloOpcode op, const char *fty, CgVal a) {
  const char *name;
  switch (op) {
  case HLO_OP_EXP: name = "exp"; break;
  case HLO_OP_LOG: name = "log"; break;
  case HLO_OP_SQRT: name = "sqrt"; break;
  case HLO_OP_CBRT: name = "cbrt"; break;
  case HLO_OP_TANH: name = "tanh"; break;
  case HLO_OP_SIN: name = "sin"; break;
  case HLO_OP_COS: name = "cos"; break;
  case HLO_OP_TAN: name = "tan"; break;
  case HLO_OP_ERF: name = "erf"; break;
  case HLO_OP_FLOOR: name = "floor"; break;
  case HLO_OP_CEIL: name = "ceil"; break;
  case HLO_OP_ROUND_AFZ: name = "round"; break;
  case HLO_OP_ROUND_EVEN: name = "roundeven"; break;
  case HLO_OP_EXPM1: return libm_call(f, "expm1", fty, a);
  case HLO_OP_LOG1P: return libm_call(f, "log1p", fty, a);
  case HLO_OP_RSQRT: {
    CgVal s = cg_def(f->e, "math.sqrt %v : %s", a, fty);
    return cg_def(f->e, "arith.divf %v, %v : %s", one(f, fty), s, fty);
  }
  case HLO_OP_LOGISTIC: {
    CgVal n = cg_def(f->e, "arith.negf %v : %s", a, fty);
    CgVal e = cg_def(f->e, "math.exp %v : %s", n, fty);
    CgVal d = cg_def(f->e, "arith.addf %v, %v : %s", one(f, fty), e, fty);
    return cg_def(f->e, "arith.divf %v, %v : %s", one(f, fty), d, fty);
  }
  default: HLO_UNREACHABLE();
  }
  return cg_def(f->e, "math.%s %v : %s", name, a, fty);
}

CgVal cg_math_binary(CgFn *f, HloOpcode op, const char *fty, CgVal a,
                     CgVal b) {
  switch (op) {
  case HLO_OP_POWER: return cg_def(f->e, "math.powf %v, %v : %s", a, b, fty);
  case HLO_OP_ATAN2: return cg_def(f->e, "math.atan2 %v, %v : %s", a, b, fty);
  default: HLO_UNREACHABLE();
  }
}
