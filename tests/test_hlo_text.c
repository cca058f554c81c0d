/*
 * test_hlo_text.c — the HLO text printer and parser (printer.c, parser.c).
 *
 * Canonical text (what the printer writes, XLA's style) must print back
 * byte for byte; other accepted spellings must print as the canonical form;
 * every module must reach a fixed point after one parse/print round; bad
 * text must fail with the exact message.  The whole corpus under
 * testdata/hlo (XLA's own output) must parse and round-trip.  Inputs that
 * the fuzzer once crashed on are kept at the end as regression cases.
 */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"

/* Compares module texts; on mismatch reports the first differing line
 * (Check cannot carry whole modules in a message). */
static void assert_text_eq(const char *got, const char *want) {
  if (!strcmp(got, want)) return;
  int line = 1;
  const char *g = got, *w = want;
  while (*g && *g == *w) {
    if (*g == '\n') {
      line++;
      got = g + 1;
      want = w + 1;
    }
    g++;
    w++;
  }
  int gn = (int)strcspn(got, "\n"), wn = (int)strcspn(want, "\n");
  ck_abort_msg("line %d differs:\n got: %.*s\nwant: %.*s", line, gn > 1500 ? 1500 : gn, got,
               wn > 1500 ? 1500 : wn, want);
}

/* Parses text (failing the test with the parser's message) and returns
 * print(parse(text)) after checking that one more round changes nothing. */
static char *round_trip(const char *text) {
  HloModule *m = NULL;
  HloError *e = hlo_parse(text, strlen(text), "t.hlo", &m);
  ck_assert_msg(e == NULL, "parse failed: %s", hlo_error_message(e));
  char *once = hlo_module_to_string(m);
  HloModule *m2 = NULL;
  e = hlo_parse(once, strlen(once), "printed.hlo", &m2);
  ck_assert_msg(e == NULL, "printed text does not parse: %s\n%s", hlo_error_message(e), once);
  char *twice = hlo_module_to_string(m2);
  assert_text_eq(twice, once);
  free(twice);
  hlo_module_free(m2);
  hlo_module_free(m);
  return once;
}

/* Canonical text prints back unchanged. */
static void assert_canonical(const char *text) {
  char *got = round_trip(text);
  assert_text_eq(got, text);
  free(got);
}

static void assert_prints_as(const char *text, const char *want) {
  char *got = round_trip(text);
  assert_text_eq(got, want);
  free(got);
}

static void assert_error(const char *text, const char *want) {
  HloModule *m = NULL;
  HloError *e = hlo_parse(text, strlen(text), "t.hlo", &m);
  ck_assert_msg(e != NULL, "parse of bad text succeeded:\n%s", text);
  ck_assert_ptr_null(m);
  ck_assert_str_eq(hlo_error_message(e), want);
  hlo_error_free(e);
}

static HloInstr *find_instr(const HloModule *m, const char *name) {
  for (HloComputation *c = m->first; c; c = c->next)
    for (HloInstr *in = c->first; in; in = in->next)
      if (!strcmp(in->name, name)) return in;
  ck_abort_msg("no instruction %s", name);
  return NULL;
}

/* The start of a one-computation module, for short cases. */
#define MODULE_HEAD "HloModule m\nENTRY e {\n"

/* ------------------------------------------------------------------------ */
/* Round trips of canonical text, one group of opcodes at a time            */
/* ------------------------------------------------------------------------ */

START_TEST(elementwise_ops) {
  assert_canonical(
      "HloModule elementwise\n\n"
      "ENTRY %main (a: f32[2,3], b: f32[2,3], i: s32[2,3], p: pred[2,3]) -> (f32[2,3], s32[2,3], "
      "pred[2,3]) {\n"
      "  %a = f32[2,3]{1,0} parameter(0)\n"
      "  %b = f32[2,3]{1,0} parameter(1)\n"
      "  %i = s32[2,3]{1,0} parameter(2)\n"
      "  %p = pred[2,3]{1,0} parameter(3)\n"
      "  %add = f32[2,3]{1,0} add(%a, %b)\n"
      "  %subtract = f32[2,3]{1,0} subtract(%add, %b)\n"
      "  %multiply = f32[2,3]{1,0} multiply(%subtract, %b)\n"
      "  %divide = f32[2,3]{1,0} divide(%multiply, %b)\n"
      "  %remainder = f32[2,3]{1,0} remainder(%divide, %b)\n"
      "  %maximum = f32[2,3]{1,0} maximum(%remainder, %b)\n"
      "  %minimum = f32[2,3]{1,0} minimum(%maximum, %b)\n"
      "  %power = f32[2,3]{1,0} power(%minimum, %b)\n"
      "  %atan2 = f32[2,3]{1,0} atan2(%power, %b)\n"
      "  %negate = f32[2,3]{1,0} negate(%atan2)\n"
      "  %abs = f32[2,3]{1,0} abs(%negate)\n"
      "  %sign = f32[2,3]{1,0} sign(%abs)\n"
      "  %exponential = f32[2,3]{1,0} exponential(%sign)\n"
      "  %exponential-minus-one = f32[2,3]{1,0} exponential-minus-one(%exponential)\n"
      "  %log = f32[2,3]{1,0} log(%exponential-minus-one)\n"
      "  %log-plus-one = f32[2,3]{1,0} log-plus-one(%log)\n"
      "  %logistic = f32[2,3]{1,0} logistic(%log-plus-one)\n"
      "  %sqrt = f32[2,3]{1,0} sqrt(%logistic)\n"
      "  %rsqrt = f32[2,3]{1,0} rsqrt(%sqrt)\n"
      "  %cbrt = f32[2,3]{1,0} cbrt(%rsqrt)\n"
      "  %tanh = f32[2,3]{1,0} tanh(%cbrt)\n"
      "  %sine = f32[2,3]{1,0} sine(%tanh)\n"
      "  %cosine = f32[2,3]{1,0} cosine(%sine)\n"
      "  %tan = f32[2,3]{1,0} tan(%cosine)\n"
      "  %erf = f32[2,3]{1,0} erf(%tan)\n"
      "  %floor = f32[2,3]{1,0} floor(%erf)\n"
      "  %ceil = f32[2,3]{1,0} ceil(%floor)\n"
      "  %round-nearest-afz = f32[2,3]{1,0} round-nearest-afz(%ceil)\n"
      "  %round-nearest-even = f32[2,3]{1,0} round-nearest-even(%round-nearest-afz)\n"
      "  %is-finite = pred[2,3]{1,0} is-finite(%round-nearest-even)\n"
      "  %copy = f32[2,3]{1,0} copy(%round-nearest-even)\n"
      "  %and = s32[2,3]{1,0} and(%i, %i)\n"
      "  %or = s32[2,3]{1,0} or(%and, %i)\n"
      "  %xor = s32[2,3]{1,0} xor(%or, %i)\n"
      "  %shift-left = s32[2,3]{1,0} shift-left(%xor, %i)\n"
      "  %shift-right-arithmetic = s32[2,3]{1,0} shift-right-arithmetic(%shift-left, %i)\n"
      "  %shift-right-logical = s32[2,3]{1,0} shift-right-logical(%shift-right-arithmetic, %i)\n"
      "  %not = s32[2,3]{1,0} not(%shift-right-logical)\n"
      "  %popcnt = s32[2,3]{1,0} popcnt(%not)\n"
      "  %count-leading-zeros = s32[2,3]{1,0} count-leading-zeros(%popcnt)\n"
      "  %convert = s32[2,3]{1,0} convert(%copy)\n"
      "  %bitcast-convert = s32[2,3]{1,0} bitcast-convert(%copy)\n"
      "  %eq = pred[2,3]{1,0} compare(%a, %b), direction=EQ\n"
      "  %ne = pred[2,3]{1,0} compare(%a, %b), direction=NE, type=TOTALORDER\n"
      "  %lt = pred[2,3]{1,0} compare(%i, %i), direction=LT, type=UNSIGNED\n"
      "  %le = pred[2,3]{1,0} compare(%i, %i), direction=LE, type=SIGNED\n"
      "  %gt = pred[2,3]{1,0} compare(%a, %b), direction=GT, type=FLOAT\n"
      "  %ge = pred[2,3]{1,0} compare(%p, %is-finite), direction=GE\n"
      "  %select = f32[2,3]{1,0} select(%ge, %a, %b)\n"
      "  %clamp = f32[2,3]{1,0} clamp(%a, %select, %b)\n"
      "  ROOT %t = (f32[2,3]{1,0}, s32[2,3]{1,0}, pred[2,3]{1,0}) tuple(%clamp, "
      "%count-leading-zeros, %eq)\n"
      "}\n\n");
}
END_TEST

START_TEST(data_movement_ops) {
  assert_canonical(
      "HloModule data_movement\n\n"
      "ENTRY %main (x: f32[2,3], s: f32[], k: s32[], token: token[]) -> (f32[4,3], f32[2,3], "
      "f32[3,2], f32[6], f32[1,2], /*index=5*/f32[2,3], f32[4,6], f32[5,10], f32[2,3], f32[2,3], "
      "/*index=10*/s32[4,3], f32[3,2,1], f32[2,3], f32[2]) {\n"
      "  %x = f32[2,3]{1,0} parameter(0)\n"
      "  %s = f32[] parameter(1)\n"
      "  %k = s32[] parameter(2)\n"
      "  %broadcast = f32[4,3]{1,0} broadcast(%s), dimensions={}\n"
      "  %broadcast.1 = f32[2,3]{1,0} broadcast(%x), dimensions={0,1}\n"
      "  %transpose = f32[3,2]{0,1} transpose(%x), dimensions={1,0}\n"
      "  %reshape = f32[6]{0} reshape(%x)\n"
      "  %bitcast = f32[3,2]{1,0} bitcast(%transpose)\n"
      "  %slice = f32[1,2]{1,0} slice(%x), slice={[0:1:1], [0:3:2]}\n"
      "  %slice.1 = f32[2,3]{1,0} slice(%x), slice={[0:2], [0:3]}\n"
      "  %dynamic-slice = f32[1,2]{1,0} dynamic-slice(%x, %k, %k), dynamic_slice_sizes={1,2}\n"
      "  %dynamic-update-slice = f32[2,3]{1,0} dynamic-update-slice(%x, %dynamic-slice, %k, "
      "%k)\n"
      "  %concatenate = f32[4,6]{1,0} concatenate(%x, %x, %x, %x, %x, /*index=5*/%x, %x, %x), "
      "dimensions={1}\n"
      "  %pad = f32[5,10]{1,0} pad(%x, %s), padding=1_-1_2x0_2_3\n"
      "  %pad.1 = f32[2,3]{1,0} pad(%x, %s), padding=0_0x-1_1\n"
      "  %reverse = f32[2,3]{1,0} reverse(%x), dimensions={0,1}\n"
      "  %iota = s32[4,3]{1,0} iota(), iota_dimension=1\n"
      "  %reshape.1 = f32[3,2,1]{0,2,1} reshape(%transpose)\n"
      "  %tuple = (f32[2,3]{1,0}, s32[], f32[]) tuple(%x, %k, %s)\n"
      "  %get-tuple-element = f32[2,3]{1,0} get-tuple-element(%tuple), index=0\n"
      "  %token = token[] parameter(3)\n"
      "  %slice.2 = f32[2]{0} slice(%reshape), slice={[0:2]}\n"
      "  ROOT %t = (f32[4,3]{1,0}, f32[2,3]{1,0}, f32[3,2]{0,1}, f32[6]{0}, f32[1,2]{1,0}, "
      "/*index=5*/f32[2,3]{1,0}, f32[4,6]{1,0}, f32[5,10]{1,0}, f32[2,3]{1,0}, f32[2,3]{1,0}, "
      "/*index=10*/s32[4,3]{1,0}, f32[3,2,1]{0,2,1}, f32[2,3]{1,0}, f32[2]{0}) tuple(%broadcast, "
      "%broadcast.1, %transpose, %reshape, %slice, /*index=5*/%dynamic-update-slice, "
      "%concatenate, %pad, %pad.1, %reverse, /*index=10*/%iota, %reshape.1, "
      "%get-tuple-element, %slice.2)\n"
      "}\n\n");
}
END_TEST

START_TEST(reductions_gather_scatter_sort) {
  assert_canonical(
      "HloModule reductions\n\n"
      "%sum (a: f32[], b: f32[]) -> f32[] {\n"
      "  %a = f32[] parameter(0)\n"
      "  %b = f32[] parameter(1)\n"
      "  ROOT %r = f32[] add(%a, %b)\n"
      "}\n\n"
      "%less (l0: f32[], r0: f32[], l1: s32[], r1: s32[]) -> pred[] {\n"
      "  %l0 = f32[] parameter(0)\n"
      "  %r0 = f32[] parameter(1)\n"
      "  %l1 = s32[] parameter(2)\n"
      "  %r1 = s32[] parameter(3)\n"
      "  ROOT %less.1 = pred[] compare(%l0, %r0), direction=LT, type=TOTALORDER\n"
      "}\n\n"
      "ENTRY %main (x: f32[4,6], i: s32[4,6], idx: s32[3,1], upd: f32[3,6], bidx: s32[2,3,2]) "
      "-> f32[4] {\n"
      "  %x = f32[4,6]{1,0} parameter(0)\n"
      "  %i = s32[4,6]{1,0} parameter(1)\n"
      "  %idx = s32[3,1]{1,0} parameter(2)\n"
      "  %upd = f32[3,6]{1,0} parameter(3)\n"
      "  %bidx = s32[2,3,2]{2,1,0} parameter(4)\n"
      "  %zero = f32[] constant(0)\n"
      "  %reduce = f32[4]{0} reduce(%x, %zero), dimensions={1}, to_apply=%sum\n"
      "  %reduce-window = f32[2,3]{1,0} reduce-window(%x, %zero), window={size=2x3 stride=2x2 "
      "pad=0_0x0_1 lhs_dilate=2x1 rhs_dilate=1x2}, to_apply=%sum\n"
      "  %reduce-window.1 = f32[4,6]{1,0} reduce-window(%x, %zero), window={size=1x1}, "
      "to_apply=%sum\n"
      "  %sort = (f32[4,6]{1,0}, s32[4,6]{1,0}) sort(%x, %i), dimensions={1}, is_stable=true, "
      "to_apply=%less\n"
      "  %sort.1 = (f32[4,6]{1,0}, s32[4,6]{1,0}) sort(%x, %i), dimensions={0}, to_apply=%less\n"
      "  %gather = f32[3,6]{1,0} gather(%x, %idx), offset_dims={1}, collapsed_slice_dims={0}, "
      "start_index_map={0}, index_vector_dim=1, slice_sizes={1,6}\n"
      "  %gather.1 = f32[2,3]{1,0} gather(%x, %bidx), offset_dims={}, collapsed_slice_dims={1}, "
      "start_index_map={1}, operand_batching_dims={0}, start_indices_batching_dims={0}, "
      "index_vector_dim=2, slice_sizes={1,1}, indices_are_sorted=true\n"
      "  %scatter = f32[4,6]{1,0} scatter(%x, %idx, %upd), update_window_dims={1}, "
      "inserted_window_dims={0}, scatter_dims_to_operand_dims={0}, index_vector_dim=1, "
      "to_apply=%sum\n"
      "  %scatter.1 = f32[4,6]{1,0} scatter(%x, %bidx, %upd), update_window_dims={}, "
      "inserted_window_dims={1}, scatter_dims_to_operand_dims={1}, input_batching_dims={0}, "
      "scatter_indices_batching_dims={0}, index_vector_dim=2, indices_are_sorted=true, "
      "unique_indices=true, to_apply=%sum\n"
      "  ROOT %reduce.1 = f32[4]{0} reduce(%scatter, %zero), dimensions={1}, to_apply=%sum\n"
      "}\n\n");
}
END_TEST

START_TEST(contractions_and_batch_norm) {
  assert_canonical(
      "HloModule contractions\n\n"
      "ENTRY %main (a: f32[2,3,4], b: f32[2,4,5], img: f32[1,8,8,3], k: f32[3,3,3,16], v: "
      "f32[1,3,10], kv: f32[2,3,3], v3: f32[1,2,4,4,4], k3: f32[2,2,2,2,6], scale: f32[16]) -> "
      "f32[2,3,5] {\n"
      "  %a = f32[2,3,4]{2,1,0} parameter(0)\n"
      "  %b = f32[2,4,5]{2,1,0} parameter(1)\n"
      "  %img = f32[1,8,8,3]{3,2,1,0} parameter(2)\n"
      "  %k = f32[3,3,3,16]{3,2,1,0} parameter(3)\n"
      "  %v = f32[1,3,10]{2,1,0} parameter(4)\n"
      "  %kv = f32[2,3,3]{2,1,0} parameter(5)\n"
      "  %v3 = f32[1,2,4,4,4]{4,3,2,1,0} parameter(6)\n"
      "  %k3 = f32[2,2,2,2,6]{4,3,2,1,0} parameter(7)\n"
      "  %dot = f32[2,3,5]{2,1,0} dot(%a, %b), lhs_batch_dims={0}, lhs_contracting_dims={2}, "
      "rhs_batch_dims={0}, rhs_contracting_dims={1}, operand_precision={highest,highest}\n"
      "  %outer = f32[2,3,4,2,4,5]{5,4,3,2,1,0} dot(%a, %b), lhs_contracting_dims={}, "
      "rhs_contracting_dims={}\n"
      "  %conv = f32[1,4,4,16]{3,2,1,0} convolution(%img, %k), window={size=3x3 stride=2x2 "
      "pad=1_1x0_1}, dim_labels=b01f_01io->b01f\n"
      "  %conv.1 = f32[1,2,10]{2,1,0} convolution(%v, %kv), window={size=3 pad=1_1 "
      "lhs_dilate=2 rhs_dilate=3 rhs_reversal=1}, dim_labels=bf0_oi0->bf0, "
      "feature_group_count=3\n"
      "  %conv.2 = f32[1,6,3,3,3]{4,3,2,1,0} convolution(%v3, %k3), window={size=2x2x2}, "
      "dim_labels=bf012_i012o->bf012\n"
      "  %conv.3 = f32[3,16]{1,0} convolution(%a, %k), dim_labels=bf_io->bf, "
      "batch_group_count=2\n"
      "  %scale = f32[16]{0} parameter(8)\n"
      "  %bn = f32[1,4,4,16]{3,2,1,0} batch-norm-inference(%conv, %scale, %scale, %scale, "
      "%scale), epsilon=0.001, feature_index=3\n"
      "  ROOT %r = f32[2,3,5]{2,1,0} copy(%dot)\n"
      "}\n\n");
}
END_TEST

START_TEST(control_flow_ops) {
  assert_canonical(
      "HloModule control, is_scheduled=true, entry_computation_layout={(s32[], "
      "f32[4]{0})->f32[4]{0}}\n\n"
      "%cond (c: (s32[], f32[4])) -> pred[] {\n"
      "  %c = (s32[], f32[4]{0}) parameter(0)\n"
      "  %ci = s32[] get-tuple-element(%c), index=0\n"
      "  %ten = s32[] constant(10)\n"
      "  ROOT %lt = pred[] compare(%ci, %ten), direction=LT\n"
      "}\n\n"
      "%body (w: (s32[], f32[4])) -> (s32[], f32[4]) {\n"
      "  %w = (s32[], f32[4]{0}) parameter(0)\n"
      "  %wi = s32[] get-tuple-element(%w), index=0\n"
      "  %wv = f32[4]{0} get-tuple-element(%w), index=1\n"
      "  %one = s32[] constant(1)\n"
      "  %next = s32[] add(%wi, %one)\n"
      "  ROOT %wt = (s32[], f32[4]{0}) tuple(%next, %wv)\n"
      "}\n\n"
      "%fused (f0: f32[4]) -> f32[4] {\n"
      "  %f0 = f32[4]{0} parameter(0)\n"
      "  ROOT %fneg = f32[4]{0} negate(%f0)\n"
      "}\n\n"
      "%branch0 (b0: f32[4]) -> f32[4] {\n"
      "  ROOT %b0 = f32[4]{0} parameter(0)\n"
      "}\n\n"
      "%branch1 (b1: f32[4]) -> f32[4] {\n"
      "  %b1 = f32[4]{0} parameter(0)\n"
      "  ROOT %fusion.1 = f32[4]{0} fusion(%b1), kind=kInput, calls=%fused\n"
      "}\n\n"
      "ENTRY %main (n: s32[], v: f32[4]) -> f32[4] {\n"
      "  %n = s32[] parameter(0)\n"
      "  %v = f32[4]{0} parameter(1)\n"
      "  %init = (s32[], f32[4]{0}) tuple(%n, %v)\n"
      "  %while = (s32[], f32[4]{0}) while(%init), condition=%cond, body=%body, "
      "backend_config={\"known_trip_count\":{\"n\":\"10\"}}\n"
      "  %res = f32[4]{0} get-tuple-element(%while), index=1\n"
      "  %call = f32[4]{0} call(%res), to_apply=%branch1, "
      "frontend_attributes={xla_cpu_small_call=\"true\"}\n"
      "  %fusion = f32[4]{0} fusion(%call), kind=kLoop, calls=%fused, metadata={op_type=\"Neg\" "
      "op_name=\"model/neg\" source_file=\"model.py\" source_line=12}\n"
      "  %fusion.2 = f32[4]{0} fusion(%fusion), kind=kOutput, calls=%fused\n"
      "  %fusion.3 = f32[4]{0} fusion(%fusion.2), kind=kCustom, calls=%fused\n"
      "  %pred = pred[] compare(%n, %n), direction=EQ\n"
      "  %if = f32[4]{0} conditional(%pred, %v, %fusion.3), true_computation=%branch0, "
      "false_computation=%branch1\n"
      "  %switch = f32[4]{0} conditional(%n, %if, %v, %if), branch_computations={%branch0, "
      "%branch1, %branch0}\n"
      "  %cc = f32[4]{0} custom-call(%switch), custom_call_target=\"my_op\\\"quoted\\\\\", "
      "called_computations={%fused}, api_version=API_VERSION_STATUS_RETURNING, "
      "metadata={op_name=\"cc\"}, backend_config=\"opaque, with commas\"\n"
      "  ROOT %cc.1 = f32[4]{0} custom-call(%cc), custom_call_target=\"noop\", "
      "sharding={devices=[2,1]0,1}, control-predecessors={%cc}\n"
      "}\n\n");
}
END_TEST

START_TEST(constants_of_every_type) {
  assert_canonical(
      "HloModule constants\n\n"
      "ENTRY %main () -> pred[] {\n"
      "  %c0 = pred[] constant(true)\n"
      "  %c1 = pred[] constant(false)\n"
      "  %c2 = pred[3]{0} constant({1, 0, 1})\n"
      "  %c3 = s8[2]{0} constant({-128, 127})\n"
      "  %c4 = s16[2]{0} constant({-32768, 32767})\n"
      "  %c5 = s32[2]{0} constant({-2147483648, 2147483647})\n"
      "  %c6 = s64[2]{0} constant({-9223372036854775808, 9223372036854775807})\n"
      "  %c7 = u8[2]{0} constant({0, 255})\n"
      "  %c8 = u16[1]{0} constant({65535})\n"
      "  %c9 = u32[1]{0} constant({4294967295})\n"
      "  %c10 = u64[2]{0} constant({18446744073709551615, 0})\n"
      "  %c11 = f16[4]{0} constant({0.099976, 65504, 5.9605e-08, -inf})\n"
      "  %c12 = bf16[4]{0} constant({0.1001, 3.39e+38, -3.49e+10, nan})\n"
      "  %c13 = f32[8]{0} constant({0.1, 0.333333343, 1.4013e-45, 3.40282347e+38, -0, inf, -nan, "
      "nan(0x1)})\n"
      "  %c14 = f64[4]{0} constant({0.33333333333333331, 1e+300, 4.94065645841247e-324, "
      "nan(0x8000000000001)})\n"
      "  %c15 = f32[2,2]{1,0} constant({ { 1.5, 2 }, { 3, 0.1 } })\n"
      "  %c16 = s32[2,2,2]{2,1,0} constant({ { { 1, 2 }, { 3, 4 } }, { { 5, 6 }, { 7, 8 } } })\n"
      "  %c17 = f32[1,1]{1,0} constant({ {0} })\n"
      "  %c18 = f32[0]{0} constant({})\n"
      "  %c19 = f32[0,3]{1,0} constant({  })\n"
      "  %c20 = f32[2,0]{1,0} constant({ {}, {} })\n"
      "  %c21 = f32[1,1,2,2]{3,2,1,0} constant({ { /*i0=0*/ { /*i1=0*/ { 1, 2 }, { 3, 4 } } } "
      "})\n"
      "  %c22 = (s32[], (f32[2]{0}, pred[])) constant(( 1, ( {2, 3}, true ) ))\n"
      "  %c23 = () constant(( ))\n"
      "  %c24 = f32[] constant(-1.5e-10)\n"
      "  ROOT %c25 = pred[] constant(false)\n"
      "}\n\n");
}
END_TEST

/* The sub-byte integers, the f8/f4 floats and the complex types: XLA's
 * spellings, each value printed with the fewest digits that read back. */
START_TEST(constants_of_narrow_and_complex_types) {
  assert_canonical(
      "HloModule narrow\n\n"
      "ENTRY %main () -> pred[] {\n"
      "  %c0 = s2[4]{0} constant({-2, -1, 0, 1})\n"
      "  %c1 = u2[2]{0} constant({0, 3})\n"
      "  %c2 = s4[3]{0} constant({-8, 0, 7})\n"
      "  %c3 = u4[2]{0} constant({0, 15})\n"
      "  %c4 = f8e4m3fn[6]{0} constant({448, -0.001953125, 0.0625, -0, nan, -nan})\n"
      "  %c5 = f8e5m2[5]{0} constant({57344, 1.52587891e-05, -inf, inf, nan})\n"
      "  %c6 = f8e4m3fnuz[3]{0} constant({240, 0.0009765625, nan})\n"
      "  %c7 = f8e5m2fnuz[2]{0} constant({57344, 7.62939453e-06})\n"
      "  %c8 = f8e4m3b11fnuz[2]{0} constant({30, 0.000122070312})\n"
      "  %c9 = f8e4m3[3]{0} constant({240, 0.001953125, -inf})\n"
      "  %c10 = f8e3m4[3]{0} constant({15.5, 0.015625, 1.0625})\n"
      "  %c11 = f8e8m0fnu[4]{0} constant({1, 5.87747175e-39, 1.70141183e+38, nan})\n"
      "  %c12 = f4e2m1fn[8]{0} constant({0, 0.5, 1, 1.5, 2, 3, 4, -6})\n"
      "  %c13 = c64[2]{0} constant({(1, -2.5), (0.1, inf)})\n"
      "  %c14 = c128[] constant((0.33333333333333331, -0))\n"
      "  ROOT %c15 = pred[] constant(false)\n"
      "}\n\n");
  /* Decimal input rounds to nearest even, as XLA's parser. */
  char *got = round_trip(
      "HloModule r\nENTRY %e () -> f8e4m3fn[3] {\n"
      "  ROOT %c = f8e4m3fn[3]{0} constant({0.3, 17, 464})\n}\n");
  ck_assert_msg(strstr(got, "constant({0.3125, 16, 448})"), "got %s", got);
  free(got);
}
END_TEST

/* The literal values, not only their text, come out right. */
START_TEST(constant_values) {
  HloModule *m = ck_parse(
      "HloModule v\n"
      "ENTRY e {\n"
      "  h = f32[6] constant({0x1.8p1, 1e-3, -0, 16777217, 0.1, nan(0x123)})\n"
      "  u = u64[1] constant({18446744073709551615})\n"
      "  s = s64[1] constant({-9223372036854775808})\n"
      "  b = bf16[2] constant({1.00390625, -2})\n"
      "  f = f16[2] constant({1.5, 65519})\n"
      "  d = f64[1] constant({0x1p-1074})\n"
      "  ROOT p = pred[4] constant({true, 0, false, 1})\n"
      "}\n");
  HloLiteral *h = find_instr(m, "h")->literal;
  const float *hv = h->data;
  ck_assert(hv[0] == 3.0f && hv[1] == 1e-3f && hv[2] == 0.0f && signbit(hv[2]));
  ck_assert(hv[3] == 16777216.0f && hv[4] == 0.1f && isnan(hv[5]));
  uint32_t nan_bits;
  memcpy(&nan_bits, &hv[5], 4);
  ck_assert_uint_eq(nan_bits, 0x7f800123u);
  ck_assert_uint_eq(((uint64_t *)find_instr(m, "u")->literal->data)[0], UINT64_MAX);
  ck_assert(((int64_t *)find_instr(m, "s")->literal->data)[0] == INT64_MIN);
  const uint16_t *bv = find_instr(m, "b")->literal->data;
  ck_assert_uint_eq(bv[0], 0x3f80); /* 1.00390625 is a tie: rounds to even, 1.0 */
  ck_assert_uint_eq(bv[1], 0xc000);
  const uint16_t *fv = find_instr(m, "f")->literal->data;
  ck_assert_uint_eq(fv[0], 0x3e00);
  ck_assert_uint_eq(fv[1], 0x7bff);
  ck_assert(((double *)find_instr(m, "d")->literal->data)[0] == 0x1p-1074);
  const uint8_t *pv = find_instr(m, "p")->literal->data;
  ck_assert(pv[0] == 1 && pv[1] == 0 && pv[2] == 0 && pv[3] == 1);
  hlo_module_free(m);
}
END_TEST

/* Every f32 and f16 bit pattern class prints to text that reads back to the
 * same bits (the printer's digits rule), sampled across the range. */
START_TEST(float_printing_round_trips_bits) {
  HloModule *m = hlo_module_new("floats");
  HloComputation *c = hlo_computation_new(m, "main");
  int64_t n = 4096;
  HloShape s32 = hlo_shape_array(HLO_F32, 1, &n);
  HloShape s16 = hlo_shape_array(HLO_F16, 1, &n);
  HloShape s64 = hlo_shape_array(HLO_F64, 1, &n);
  HloLiteral *l32 = hlo_literal_new_in(m->arena, &s32);
  HloLiteral *l16 = hlo_literal_new_in(m->arena, &s16);
  HloLiteral *l64 = hlo_literal_new_in(m->arena, &s64);
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (int64_t i = 0; i < n; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    ((uint32_t *)l32->data)[i] = (uint32_t)x;
    ((uint16_t *)l16->data)[i] = (uint16_t)(x >> 32);
    ((uint64_t *)l64->data)[i] = x;
  }
  HloInstr *a = hlo_constant_new(c, l32, "a");
  HloInstr *b = hlo_constant_new(c, l16, "b");
  HloInstr *d = hlo_constant_new(c, l64, "d");
  HloInstr *ops[] = {a, b, d};
  HloShape ts[] = {s32, s16, s64};
  HloShape tuple = hlo_shape_tuple(m->arena, 3, ts);
  hlo_set_root(c, hlo_instr_new(c, HLO_OP_TUPLE, &tuple, ops, 3, "t"));
  hlo_module_set_entry(m, c);
  char *text = hlo_module_to_string(m);
  HloModule *back = ck_parse(text);
  ck_assert(hlo_literal_equal(find_instr(back, "a")->literal, l32));
  ck_assert(hlo_literal_equal(find_instr(back, "b")->literal, l16));
  ck_assert(hlo_literal_equal(find_instr(back, "d")->literal, l64));
  free(text);
  hlo_module_free(back);
  hlo_module_free(m);
}
END_TEST

START_TEST(attribute_fields) {
  HloModule *m = ck_parse(
      "HloModule a\n"
      "add { x = f32[] parameter(0)  y = f32[] parameter(1)  ROOT sum = f32[] add(x, y) }\n"
      "ENTRY e {\n"
      "  p = f32[1,5,5,2] parameter(0)\n"
      "  k = f32[2,3,3,4] parameter(1)\n"
      "  z = f32[] constant(0)\n"
      "  c = f32[4,1,3,2] convolution(p, k), window={size=3x3 stride=1x2 pad=-1_2x0_1 "
      "lhs_dilate=1x2 rhs_dilate=3x1 rhs_reversal=0x1}, dim_labels=f01b_i01o->01bf, "
      "feature_group_count=2\n"
      "  r = f32[1,5,5,2] reduce-window(p, z), window={size=1x3x3x1}, to_apply=add\n"
      "  s = f32[1,2,5,1] slice(p), slice={[0:1], [1:5:2], [0:5], [1:2:3]}\n"
      "  q = f32[1,5,5,2] pad(p, z), padding=0_0x-1_1_0x0_0_2x1_-1\n"
      "  ROOT d = f32[4,1,3,2] dot(c, c), lhs_batch_dims={0,1}, lhs_contracting_dims={3}, "
      "rhs_batch_dims={0,1}, rhs_contracting_dims={3}, metadata={op_type=\"MatMul\" "
      "op_name=\"dense/MatMul\" source_file=\"m.py\" source_line=7 profile_type={1} "
      "deduplicated_name=\"x\" preserve_layout=true scheduling_name=\"s\"}\n"
      "}\n");
  HloInstr *c = find_instr(m, "c");
  ck_assert_int_eq(c->window_rank, 2);
  const HloWindowDim *w = c->window;
  ck_assert(w[0].size == 3 && w[0].stride == 1 && w[0].pad_lo == -1 && w[0].pad_hi == 2 &&
            w[0].lhs_dilate == 1 && w[0].rhs_dilate == 3 && !w[0].reversal);
  ck_assert(w[1].size == 3 && w[1].stride == 2 && w[1].pad_lo == 0 && w[1].pad_hi == 1 &&
            w[1].lhs_dilate == 2 && w[1].rhs_dilate == 1 && w[1].reversal);
  const HloConvDims *cd = &c->conv;
  ck_assert_int_eq(cd->nspatial, 2);
  ck_assert(cd->in_feature == 0 && cd->in_spatial[0] == 1 && cd->in_spatial[1] == 2 &&
            cd->in_batch == 3);
  ck_assert(cd->k_in_feature == 0 && cd->k_spatial[0] == 1 && cd->k_spatial[1] == 2 &&
            cd->k_out_feature == 3);
  ck_assert(cd->out_spatial[0] == 0 && cd->out_spatial[1] == 1 && cd->out_batch == 2 &&
            cd->out_feature == 3);
  ck_assert(c->feature_group_count == 2 && c->batch_group_count == 1);
  HloInstr *r = find_instr(m, "r");
  ck_assert(r->window_rank == 4 && r->window[1].size == 3 && r->window[1].stride == 1 &&
            r->window[1].lhs_dilate == 1 && r->window[1].rhs_dilate == 1);
  ck_assert(r->ncalled == 1 && !strcmp(r->called[0]->name, "add"));
  HloInstr *s = find_instr(m, "s");
  ck_assert(s->slice[1].start == 1 && s->slice[1].limit == 5 && s->slice[1].stride == 2);
  ck_assert(s->slice[2].stride == 1 && s->slice[3].stride == 3);
  HloInstr *q = find_instr(m, "q");
  ck_assert(q->padding[1].lo == -1 && q->padding[1].hi == 1 && q->padding[1].interior == 0);
  ck_assert(q->padding[2].interior == 2 && q->padding[3].lo == 1 && q->padding[3].hi == -1);
  HloInstr *d = find_instr(m, "d");
  ck_assert(d->dot.lhs_batch.n == 2 && d->dot.lhs_batch.v[1] == 1);
  ck_assert(d->dot.rhs_contracting.n == 1 && d->dot.rhs_contracting.v[0] == 3);
  ck_assert_str_eq(d->metadata.op_type, "MatMul");
  ck_assert_str_eq(d->metadata.op_name, "dense/MatMul");
  ck_assert_str_eq(d->metadata.source_file, "m.py");
  ck_assert_int_eq(d->metadata.source_line, 7);
  ck_assert_int_eq(d->nraw, 0);
  hlo_module_free(m);
}
END_TEST

START_TEST(called_computation_slots) {
  HloModule *m = ck_parse(
      "HloModule s\n"
      "ENTRY e {\n"
      "  p = (s32[]) parameter(0)\n"
      "  b = pred[] parameter(1)\n"
      "  w = (s32[]) while(p), body=bd, condition=cd\n"
      "  c = (s32[]) conditional(b, p, p), false_computation=bd, true_computation=id\n"
      "  ROOT k = (s32[]) call(c), calls=id\n"
      "}\n"
      "cd { x = (s32[]) parameter(0)  ROOT t = pred[] constant(true) }\n"
      "bd { ROOT y = (s32[]) parameter(0) }\n"
      "id { ROOT z = (s32[]) parameter(0) }\n");
  HloInstr *w = find_instr(m, "w");
  ck_assert(w->ncalled == 2 && !strcmp(w->called[0]->name, "cd") &&
            !strcmp(w->called[1]->name, "bd"));
  HloInstr *c = find_instr(m, "c");
  ck_assert(c->ncalled == 2 && !strcmp(c->called[0]->name, "id") &&
            !strcmp(c->called[1]->name, "bd"));
  HloInstr *k = find_instr(m, "k");
  ck_assert(k->ncalled == 1 && !strcmp(k->called[0]->name, "id"));
  ck_assert_str_eq(m->entry->name, "e");
  ck_assert(m->entry->is_entry && m->first == m->entry);
  hlo_module_free(m);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Accepted spellings that print in canonical form                          */
/* ------------------------------------------------------------------------ */

START_TEST(xla_spellings) {
  /* No '%', no signatures, no ROOT (the last instruction is the root),
   * operand shapes before operands (older XLA), comments, tiled layouts,
   * forward references, ENTRY not last, "calls=" on a call. */
  assert_prints_as(
      "HloModule  m , is_scheduled=true\n"
      "// a line comment\n"
      "ENTRY main {\n"
      "  t = (f32[2]{0:T(128)}, /*index=1*/ s32[]{:T(128)}) tuple(f32[2]{0} a, /*index=1*/ "
      "s32[] %n)\n"
      "  a = f32[2]{0:T(2,128)(2,1)E(32)S(1)} call(f32[2] %x), calls=%neg\n"
      "  x = f32[2] parameter(0)\n"
      "  n = s32[] constant(7) /* trailing */\n"
      "}\n"
      "neg (q: f32[2]) -> f32[2] { q = f32[2] parameter(0) ROOT r = f32[2] negate(q) }\n",
      "HloModule m, is_scheduled=true\n\n"
      "ENTRY %main (x: f32[2]) -> s32[] {\n"
      "  %t = (f32[2]{0}, s32[]) tuple(%a, %n)\n"
      "  %a = f32[2]{0} call(%x), to_apply=%neg\n"
      "  %x = f32[2]{0} parameter(0)\n"
      "  ROOT %n = s32[] constant(7)\n"
      "}\n\n"
      "%neg (q: f32[2]) -> f32[2] {\n"
      "  %q = f32[2]{0} parameter(0)\n"
      "  ROOT %r = f32[2]{0} negate(%q)\n"
      "}\n\n");
  /* Without ENTRY the last computation is the entry. */
  assert_prints_as(
      "HloModule m\n"
      "a { ROOT p = f32[] parameter(0) }\n"
      "b { ROOT q = f32[] parameter(0) }\n",
      "HloModule m\n\n"
      "%a (p: f32[]) -> f32[] {\n"
      "  ROOT %p = f32[] parameter(0)\n"
      "}\n\n"
      "ENTRY %b (q: f32[]) -> f32[] {\n"
      "  ROOT %q = f32[] parameter(0)\n"
      "}\n\n");
}
END_TEST

/* Result shapes left out, which XLA infers from the operands and
 * attributes; a kept operand layout where XLA keeps it (elementwise
 * results, tuples); broadcast reads its dimensions as sizes in front of
 * the operand's, as XLA's InferBroadcastShape; dot takes the operands'
 * element type.  An explicit shape stays authoritative: the verifier
 * checks it. */
START_TEST(shapes_left_out) {
  assert_prints_as(
      "HloModule m\n"
      "sum { x = f32[] parameter(0) y = f32[] parameter(1) ROOT s = add(x, y) }\n"
      "ENTRY e {\n"
      "  p = f32[2,3]{0,1} parameter(0)\n"
      "  q = f32[3,4] parameter(1)\n"
      "  n = negate(p)\n"
      "  c = compare(n, p), direction=LT\n"
      "  v = select(c, n, p)\n"
      "  z = f32[] constant(0)\n"
      "  r = reduce(v, z), dimensions={1}, to_apply=sum\n"
      "  b = broadcast(r), dimensions={1}\n"
      "  d = dot(p, q), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
      "  t = tuple(v, b, d)\n"
      "  ROOT g = get-tuple-element(t), index=0\n"
      "}\n",
      "HloModule m\n\n"
      "%sum (x: f32[], y: f32[]) -> f32[] {\n"
      "  %x = f32[] parameter(0)\n"
      "  %y = f32[] parameter(1)\n"
      "  ROOT %s = f32[] add(%x, %y)\n"
      "}\n\n"
      "ENTRY %e (p: f32[2,3], q: f32[3,4]) -> f32[2,3] {\n"
      "  %p = f32[2,3]{0,1} parameter(0)\n"
      "  %q = f32[3,4]{1,0} parameter(1)\n"
      "  %n = f32[2,3]{0,1} negate(%p)\n"
      "  %c = pred[2,3]{0,1} compare(%n, %p), direction=LT\n"
      "  %v = f32[2,3]{0,1} select(%c, %n, %p)\n"
      "  %z = f32[] constant(0)\n"
      "  %r = f32[2]{0} reduce(%v, %z), dimensions={1}, to_apply=%sum\n"
      "  %b = f32[1,2]{1,0} broadcast(%r), dimensions={1}\n"
      "  %d = f32[2,4]{1,0} dot(%p, %q), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
      "  %t = (f32[2,3]{0,1}, f32[1,2]{1,0}, f32[2,4]{1,0}) tuple(%v, %b, %d)\n"
      "  ROOT %g = f32[2,3]{0,1} get-tuple-element(%t), index=0\n"
      "}\n\n");
  /* Uses before definitions, control flow through computations whose own
   * roots are inferred, tokens and ids. */
  assert_prints_as(
      "HloModule m\n"
      "ENTRY e {\n"
      "  w = while(t), condition=cond, body=body\n"
      "  t = tuple(i)\n"
      "  i = s32[] parameter(0)\n"
      "  k = call(i), to_apply=body_inner\n"
      "  a = after-all()\n"
      "  ROOT id = replica-id()\n"
      "}\n"
      "body_inner { x = s32[] parameter(0) ROOT y = negate(x) }\n"
      "cond { c = (s32[]) parameter(0) i = get-tuple-element(c), index=0 "
      "ROOT lt = compare(i, i), direction=LT }\n"
      "body { b = (s32[]) parameter(0) i = get-tuple-element(b), index=0 "
      "ROOT r = tuple(i) }\n",
      "HloModule m\n\n"
      "ENTRY %e (i: s32[]) -> u32[] {\n"
      "  %w = (s32[]) while(%t), condition=%cond, body=%body\n"
      "  %t = (s32[]) tuple(%i)\n"
      "  %i = s32[] parameter(0)\n"
      "  %k = s32[] call(%i), to_apply=%body_inner\n"
      "  %a = token[] after-all()\n"
      "  ROOT %id = u32[] replica-id()\n"
      "}\n\n"
      "%body_inner (x: s32[]) -> s32[] {\n"
      "  %x = s32[] parameter(0)\n"
      "  ROOT %y = s32[] negate(%x)\n"
      "}\n\n"
      "%cond (c: (s32[])) -> pred[] {\n"
      "  %c = (s32[]) parameter(0)\n"
      "  %i.1 = s32[] get-tuple-element(%c), index=0\n"
      "  ROOT %lt = pred[] compare(%i.1, %i.1), direction=LT\n"
      "}\n\n"
      "%body (b: (s32[])) -> (s32[]) {\n"
      "  %b = (s32[]) parameter(0)\n"
      "  %i.2 = s32[] get-tuple-element(%b), index=0\n"
      "  ROOT %r = (s32[]) tuple(%i.2)\n"
      "}\n\n");
  /* A reduce or reduce-window of one input whose computation returns a
   * tuple (of one scalar) gives a tuple, as in XLA. */
  assert_prints_as(
      "HloModule m\n"
      "sum { x = f32[] parameter(0) y = f32[] parameter(1) s = add(x, y) ROOT t = tuple(s) }\n"
      "ENTRY e {\n  p = f32[2,3] parameter(0)\n  z = f32[] constant(0)\n"
      "  r = reduce(p, z), dimensions={1}, to_apply=sum\n"
      "  ROOT w = reduce-window(p, z), window={size=1x2}, to_apply=sum\n}\n",
      "HloModule m\n\n"
      "%sum (x: f32[], y: f32[]) -> (f32[]) {\n"
      "  %x = f32[] parameter(0)\n"
      "  %y = f32[] parameter(1)\n"
      "  %s = f32[] add(%x, %y)\n"
      "  ROOT %t = (f32[]) tuple(%s)\n"
      "}\n\n"
      "ENTRY %e (p: f32[2,3]) -> (f32[2,2]) {\n"
      "  %p = f32[2,3]{1,0} parameter(0)\n"
      "  %z = f32[] constant(0)\n"
      "  %r = (f32[2]{0}) reduce(%p, %z), dimensions={1}, to_apply=%sum\n"
      "  ROOT %w = (f32[2,2]{1,0}) reduce-window(%p, %z), window={size=1x2}, to_apply=%sum\n"
      "}\n\n");
  /* An explicit shape is kept as written, and checked by the verifier. */
  HloModule *m = NULL;
  const char *text = MODULE_HEAD "  p = f32[2] parameter(0)\n  ROOT n = f32[3] negate(p)\n}\n";
  ck_assert_ptr_null(hlo_parse(text, strlen(text), "t.hlo", &m));
  HloError *e = hlo_verify(m);
  ck_assert_ptr_nonnull(e);
  hlo_error_free(e);
  hlo_module_free(m);
}
END_TEST

/* A pad written without its shape: its padding is counted against the
 * operand once that is known, not against the missing shape. */
START_TEST(pad_shape_left_out) {
  assert_prints_as(MODULE_HEAD "  p = f32[2,3] parameter(0)\n  z = f32[] constant(0)\n"
                   "  ROOT q = pad(p, z), padding=0_1x2_0_1\n}\n",
                   "HloModule m\n\n"
                   "ENTRY %e (p: f32[2,3]) -> f32[3,7] {\n"
                   "  %p = f32[2,3]{1,0} parameter(0)\n"
                   "  %z = f32[] constant(0)\n"
                   "  ROOT %q = f32[3,7]{1,0} pad(%p, %z), padding=0_1_0x2_0_1\n"
                   "}\n\n");
  assert_error(MODULE_HEAD "  p = f32[2] parameter(0)\n  z = f32[] constant(0)\n"
               "  ROOT q = pad(p, z), padding=0_1x0_1\n}\n",
               "t.hlo:5:8: cannot infer the shape of pad 'q': padding has 2 entries (one per "
               "result dim) but the operand f32[2]{0} has rank 1");
  assert_error(MODULE_HEAD "  p = f32[2] parameter(0)\n  z = f32[] constant(0)\n"
               "  ROOT q = pad(p, z), padding=0_0x0_0x0_0x0_0x0_0x0_0x0_0x0_0x0_0x0_0x0_0x0_0x0_0\n}\n",
               "t.hlo:5:31: padding has more than 12 dimensions");
}
END_TEST

/* A module of computations alone, named as XLA names it, and the header
 * of older XLA, whose name ends with a colon. */
START_TEST(module_header_optional) {
  assert_prints_as(
      "c { ROOT p = f32[] parameter(0) }\n"
      "ENTRY main { a = f32[] parameter(0) ROOT r = f32[] call(a), to_apply=c }\n",
      "HloModule module_main\n\n"
      "%c (p: f32[]) -> f32[] {\n"
      "  ROOT %p = f32[] parameter(0)\n"
      "}\n\n"
      "ENTRY %main (a: f32[]) -> f32[] {\n"
      "  %a = f32[] parameter(0)\n"
      "  ROOT %r = f32[] call(%a), to_apply=%c\n"
      "}\n\n");
  assert_prints_as("%e (p: f32[]) -> f32[] { ROOT %p = f32[] parameter(0) }\n",
                   "HloModule module_e\n\n"
                   "ENTRY %e (p: f32[]) -> f32[] {\n"
                   "  ROOT %p = f32[] parameter(0)\n"
                   "}\n\n");
  assert_prints_as("HloModule convolution.167:\n\nENTRY e { ROOT p = f32[] parameter(0) }\n",
                   "HloModule convolution.167\n\n"
                   "ENTRY %e (p: f32[]) -> f32[] {\n"
                   "  ROOT %p = f32[] parameter(0)\n"
                   "}\n\n");
}
END_TEST

/* Operands written as instructions, which XLA names "opcode.anon" and
 * creates before their user, nested, with or without shapes; without ROOT
 * the last instruction written is the root. */
START_TEST(inline_operands) {
  assert_prints_as(
      "HloModule m\n"
      "sum { x = f32[] parameter(0) y = f32[] parameter(1) ROOT s = add(x, y) }\n"
      "ENTRY e {\n"
      "  p = f32[2] parameter(0)\n"
      "  r = f32[] reduce(p, f32[] constant(0)), dimensions={0}, to_apply=sum\n"
      "  a = add(f32[] parameter(1), multiply(r, f32[] constant(2)))\n"
      "}\n",
      "HloModule m\n\n"
      "%sum (x: f32[], y: f32[]) -> f32[] {\n"
      "  %x = f32[] parameter(0)\n"
      "  %y = f32[] parameter(1)\n"
      "  ROOT %s = f32[] add(%x, %y)\n"
      "}\n\n"
      "ENTRY %e (p: f32[2], parameter.anon: f32[]) -> f32[] {\n"
      "  %p = f32[2]{0} parameter(0)\n"
      "  %constant.anon = f32[] constant(0)\n"
      "  %r = f32[] reduce(%p, %constant.anon), dimensions={0}, to_apply=%sum\n"
      "  %parameter.anon = f32[] parameter(1)\n"
      "  %constant.anon.1 = f32[] constant(2)\n"
      "  %multiply.anon = f32[] multiply(%r, %constant.anon.1)\n"
      "  ROOT %a = f32[] add(%parameter.anon, %multiply.anon)\n"
      "}\n\n");
  /* An operand named like an opcode is still a name. */
  assert_prints_as(MODULE_HEAD "  negate = f32[] parameter(0)\n  ROOT n = negate(negate)\n}\n",
                   "HloModule m\n\n"
                   "ENTRY %e (negate: f32[]) -> f32[] {\n"
                   "  %negate = f32[] parameter(0)\n"
                   "  ROOT %n = f32[] negate(%negate)\n"
                   "}\n\n");
}
END_TEST

/* execution_thread= after a computation is read and dropped: on one
 * device there is one thread. */
START_TEST(execution_thread) {
  assert_prints_as(
      "HloModule m\n"
      "c { ROOT p = f32[] parameter(0) }, execution_thread=\"host\"\n"
      "ENTRY e { ROOT p = f32[] parameter(0) }, execution_thread=\"main\" // entry\n",
      "HloModule m\n\n"
      "%c (p: f32[]) -> f32[] {\n"
      "  ROOT %p = f32[] parameter(0)\n"
      "}\n\n"
      "ENTRY %e (p.1: f32[]) -> f32[] {\n"
      "  ROOT %p.1 = f32[] parameter(0)\n"
      "}\n\n");
}
END_TEST

/* XLA's lexer skips blanks, so a layout may follow its shape after them
 * when it starts with a dimension or ':' ("-> f32[2] {" is still a
 * signature then a body), a scalar's may be empty, and a string may run
 * over several lines. */
START_TEST(layout_after_blanks_and_strings_over_lines) {
  assert_prints_as("HloModule m\nENTRY e (p: f32[2,3] {0,1}) -> f32[2,3] {\n"
                   "  p = f32[2,3] { 0,1 } parameter(0)\n"
                   "  s = s32[] {:T(128)} constant(1)\n"
                   "  ROOT n = f32[2,3]\t{0,1} negate(p), backend_config=\"{\n  \\\"x\\\": 1\n}\"\n}\n",
                   "HloModule m\n\n"
                   "ENTRY %e (p: f32[2,3]) -> f32[2,3] {\n"
                   "  %p = f32[2,3]{0,1} parameter(0)\n"
                   "  %s = s32[] constant(1)\n"
                   "  ROOT %n = f32[2,3]{0,1} negate(%p), backend_config=\"{\n  \\\"x\\\": 1\n}\"\n"
                   "}\n\n");
  assert_error(MODULE_HEAD "  p = f32[2,3] {0} parameter(0)\n}\n",
               "t.hlo:3:16: layout has 1 entries, the shape has 2 dimensions");
  assert_canonical("HloModule m\n\nENTRY %e (p: f32[6]) -> f32[2,3] {\n"
                   "  %p = f32[6]{0} parameter(0)\n"
                   "  ROOT %r = f32[2,3]{1,0} reshape(%p), inferred_dimension=1\n}\n\n");
  /* Nor does a '{' right after ']' start a layout unless a dimension or
   * ':' follows: here it opens the body, as XLA reads it. */
  assert_prints_as("HloModule m\nENTRY e (p: f32[2]) -> f32[2]{\n  ROOT p = f32[2]{0} parameter(0)\n}\n",
                   "HloModule m\n\nENTRY %e (p: f32[2]) -> f32[2] {\n"
                   "  ROOT %p = f32[2]{0} parameter(0)\n}\n\n");
  /* A scalar's empty layout, right after it (XLA's parser tests write
   * f32[]{}); an error after it is then the one reported. */
  assert_prints_as("HloModule m\nENTRY e (x: f32[]) -> f32[] {\n  x = f32[]{} parameter(0)\n"
                   "  ROOT n = f32[]{} negate(f32[]{} x)\n}\n",
                   "HloModule m\n\nENTRY %e (x: f32[]) -> f32[] {\n"
                   "  %x = f32[] parameter(0)\n  ROOT %n = f32[] negate(%x)\n}\n\n");
  assert_error("HloModule m\nENTRY e (x: f32[]) -> pred[] {\n  x = f32[]{} parameter(0)\n"
               "  ROOT l = pred[]{} le(f32[]{} x, f32[]{} x)\n}\n",
               "t.hlo:4:21: unknown opcode 'le'");
}
END_TEST

START_TEST(literal_spellings) {
  assert_prints_as(
      "HloModule m\n"
      "ENTRY e {\n"
      "  a = pred[2,2] constant({{true, false}, {0, 1}})\n"
      "  b = f32[3] constant({0x1.8p1, 1E+2, +5})\n"
      "  c = f64[] constant(-0x1p-3)\n"
      "  d = bf16[] constant(3.14159)\n"
      "  g = f16[] constant(-NaN)\n"
      "  ROOT f = s8[2,1] constant({ {-1},{ 2 } })\n"
      "}\n",
      "HloModule m\n\n"
      "ENTRY %e () -> s8[2,1] {\n"
      "  %a = pred[2,2]{1,0} constant({ { 1, 0 }, { 0, 1 } })\n"
      "  %b = f32[3]{0} constant({3, 100, 5})\n"
      "  %c = f64[] constant(-0.125)\n"
      "  %d = bf16[] constant(3.141)\n"
      "  %g = f16[] constant(-nan)\n"
      "  ROOT %f = s8[2,1]{1,0} constant({ {-1}, {2} })\n"
      "}\n\n");
}
END_TEST

START_TEST(metadata_and_stack_frames) {
  /* Newer XLA prints a stack-frame table and metadata that refers to it:
   * the frame's file and line become source_file/source_line; metadata
   * fields the IR does not keep are dropped. */
  assert_prints_as(
      "HloModule m, entry_computation_layout={()->f32[]}\n\n"
      "FileNames\n1 \"a.py\"\n2 \"lib/b.py\"\n\n"
      "FunctionNames\n1 \"<module>\"\n2 \"f\"\n\n"
      "FileLocations\n"
      "1 {file_name_id=1 function_name_id=1 line=3 end_line=3 column=4 end_column=10}\n"
      "2 {file_name_id=2 function_name_id=2 line=41 end_line=41 column=1 end_column=2}\n\n"
      "StackFrames\n1 {file_location_id=1 parent_frame_id=1}\n"
      "2 {file_location_id=2 parent_frame_id=1}\n\n"
      "ENTRY %e () -> f32[] {\n"
      "  %a = f32[] constant(1), metadata={op_name=\"jit(f)/a\" stack_frame_id=2}\n"
      "  %b = f32[] negate(%a), metadata={stack_frame_id=1 source_end_line=5 x={a {}} "
      "y=\"}\" op_type=\"T\"}\n"
      "  %c = f32[] negate(%b), metadata={op_name=\"x\" source_file=\"given.py\" "
      "source_line=9 stack_frame_id=2}\n"
      "  ROOT %d = f32[] negate(%c), metadata={stack_frame_id=99}\n"
      "}\n",
      "HloModule m, entry_computation_layout={()->f32[]}\n\n"
      "ENTRY %e () -> f32[] {\n"
      "  %a = f32[] constant(1), metadata={op_name=\"jit(f)/a\" source_file=\"lib/b.py\" "
      "source_line=41}\n"
      "  %b = f32[] negate(%a), metadata={op_type=\"T\" source_file=\"a.py\" source_line=3}\n"
      "  %c = f32[] negate(%b), metadata={op_name=\"x\" source_file=\"given.py\" "
      "source_line=9}\n"
      "  ROOT %d = f32[] negate(%c)\n"
      "}\n\n");
}
END_TEST

START_TEST(raw_attributes_kept_verbatim) {
  /* Balanced brackets and quoted commas stay inside one value;
   * backend_config moves after metadata (XLA's order); attributes the IR
   * interprets for other opcodes are raw here. */
  assert_prints_as(
      "HloModule m\n"
      "ENTRY e {\n"
      "  p = f32[2] parameter(0), sharding={{maximal device=0}, {replicated}}, "
      "parameter_replication={false}\n"
      "  ROOT c = f32[2] custom-call(p), backend_config={\"a\": [1, {\"b\": \"}\"}]}, "
      "metadata={op_name=\"n\"}, custom_call_target=\"t\", dimensions={0}, "
      "output_to_operand_aliasing={{}: (0, {})}, literal=s32[] 5,   schedule=SCHEDULE_LATEST   \n"
      "}\n",
      "HloModule m\n\n"
      "ENTRY %e (p: f32[2]) -> f32[2] {\n"
      "  %p = f32[2]{0} parameter(0), sharding={{maximal device=0}, {replicated}}, "
      "parameter_replication={false}\n"
      "  ROOT %c = f32[2]{0} custom-call(%p), custom_call_target=\"t\", dimensions={0}, "
      "output_to_operand_aliasing={{}: (0, {})}, literal=s32[] 5, schedule=SCHEDULE_LATEST, "
      "metadata={op_name=\"n\"}, backend_config={\"a\": [1, {\"b\": \"}\"}]}\n"
      "}\n\n");
}
END_TEST

START_TEST(names_made_unique) {
  /* Instruction names are scoped to their computation in the text but
   * unique in the module (the IR's rule): later duplicates are renamed and
   * references follow. */
  assert_prints_as(
      "HloModule m\n"
      "add { x = f32[] parameter(0)  y = f32[] parameter(1)  ROOT add = f32[] add(x, y) }\n"
      "ENTRY e { x = f32[4] parameter(0)  z = f32[] constant(0)\n"
      "  ROOT r = f32[] reduce(x, z), dimensions={0}, to_apply=add }\n",
      "HloModule m\n\n"
      "%add (x: f32[], y: f32[]) -> f32[] {\n"
      "  %x = f32[] parameter(0)\n"
      "  %y = f32[] parameter(1)\n"
      "  ROOT %add.1 = f32[] add(%x, %y)\n"
      "}\n\n"
      "ENTRY %e (x.2: f32[4]) -> f32[] {\n"
      "  %x.2 = f32[4]{0} parameter(0)\n"
      "  %z = f32[] constant(0)\n"
      "  ROOT %r = f32[] reduce(%x.2, %z), dimensions={0}, to_apply=%add\n"
      "}\n\n");
}
END_TEST

START_TEST(print_one_instruction) {
  HloModule *m = ck_parse(
      "HloModule m\n"
      "ENTRY e { a = f32[2,3] parameter(0)\n"
      "  ROOT b = f32[3,2]{0,1} transpose(a), dimensions={1,0}, metadata={op_name=\"t\"} }\n");
  HloStr s = {0};
  hlo_print_instr(&s, m->entry->root);
  char *got = hlo_str_take(&s);
  ck_assert_str_eq(got,
                   "%b = f32[3,2]{0,1} transpose(%a), dimensions={1,0}, metadata={op_name=\"t\"}");
  free(got);
  /* hlo_print_module appends to what the buffer holds. */
  hlo_str_printf(&s, "// before\n");
  hlo_print_module(&s, m);
  got = hlo_str_take(&s);
  char *whole = hlo_module_to_string(m);
  ck_assert_str_eq(got + strlen("// before\n"), whole);
  free(got);
  free(whole);
  hlo_module_free(m);
}
END_TEST

/* A module built with the IR functions prints in a form that parses back. */
START_TEST(built_module_round_trips) {
  HloModule *m = hlo_module_new("built");
  HloComputation *c = hlo_computation_new(m, "main");
  int64_t dims[] = {2, 3};
  HloShape s = hlo_shape_array(HLO_F32, 2, dims);
  HloInstr *p = hlo_parameter_new(c, 0, &s, "p");
  HloInstr *n = hlo_instr_new(c, HLO_OP_NEGATE, &s, &p, 1, NULL);
  n->metadata.op_type = "Neg";
  n->metadata.op_name = "line\nbreak \"quoted\" \\ \x01";
  hlo_instr_add_raw(n, "frontend_attributes", "{k=\"v\"}");
  hlo_set_root(c, n);
  hlo_module_set_entry(m, c);
  char *printed = hlo_module_to_string(m);
  char *text = round_trip(printed);
  free(printed);
  ck_assert_str_eq(text,
                   "HloModule built\n\n"
                   "ENTRY %main (p: f32[2,3]) -> f32[2,3] {\n"
                   "  %p = f32[2,3]{1,0} parameter(0)\n"
                   "  ROOT %negate = f32[2,3]{1,0} negate(%p), frontend_attributes={k=\"v\"}, "
                   "metadata={op_type=\"Neg\" op_name=\"line\\nbreak \\\"quoted\\\" \\\\ \\001\"}\n"
                   "}\n\n");
  HloModule *back = ck_parse(text);
  ck_assert_str_eq(back->entry->root->metadata.op_name, n->metadata.op_name);
  hlo_module_free(back);
  free(text);
  hlo_module_free(m);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The corpus XLA printed                                                   */
/* ------------------------------------------------------------------------ */

START_TEST(corpus_round_trips) {
  DIR *dir = opendir("testdata/hlo");
  ck_assert_msg(dir != NULL, "missing testdata/hlo (tests run from the source root)");
  int count = 0;
  for (struct dirent *d; (d = readdir(dir));) {
    size_t len = strlen(d->d_name);
    if (len < 5 || strcmp(d->d_name + len - 4, ".hlo")) continue;
    char path[512];
    snprintf(path, sizeof path, "testdata/hlo/%s", d->d_name);
    HloModule *m = NULL;
    HloError *e = hlo_parse_file(path, &m);
    ck_assert_msg(e == NULL, "%s", hlo_error_message(e));
    char *once = hlo_module_to_string(m);
    HloModule *m2 = NULL;
    e = hlo_parse(once, strlen(once), path, &m2);
    ck_assert_msg(e == NULL, "%s printed: %s", path, hlo_error_message(e));
    char *twice = hlo_module_to_string(m2);
    ck_assert_msg(!strcmp(once, twice), "%s: print is not a fixed point", path);
    free(once);
    free(twice);
    hlo_module_free(m);
    hlo_module_free(m2);
    count++;
  }
  closedir(dir);
  ck_assert_int_gt(count, 0);
}
END_TEST

START_TEST(missing_file) {
  HloModule *m = NULL;
  HloError *e = hlo_parse_file("testdata/hlo/no_such_file.hlo", &m);
  ck_assert_ptr_nonnull(e);
  ck_assert_ptr_null(m);
  ck_assert_str_eq(hlo_error_message(e),
                   "testdata/hlo/no_such_file.hlo: cannot open: No such file or directory");
  hlo_error_free(e);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

START_TEST(error_unknown_opcode) {
  assert_error(MODULE_HEAD "  p = f32[2] parameter(0)\n  ROOT q = f32[2] frobnicate(p)\n}\n",
               "t.hlo:4:19: unknown opcode 'frobnicate'");
  assert_error(MODULE_HEAD "  ROOT q = f32[2] = (p)\n}\n",
               "t.hlo:3:19: expected opcode, found '='");
  assert_error(MODULE_HEAD "  a = f32[] parameter(0)\n"
                           "  ROOT r = f32[] custom-call-start(a), custom_call_target=\"x\"\n}\n",
               "t.hlo:4:18: the shape of custom-call-start must be ((operands), result, "
               "context...)");
  /* A suffix alone does not make an opcode known. */
  assert_error(MODULE_HEAD "  p = f32[2] parameter(0)\n  ROOT q = f32[2] frob-start(p)\n}\n",
               "t.hlo:4:19: unknown opcode 'frob-start'");
}
END_TEST

START_TEST(error_truncated) {
  assert_error(MODULE_HEAD "  p = f32[2,",
               "t.hlo:3:13: unexpected end of input, expected dimension size");
  assert_error(MODULE_HEAD "  p = f32[2] parameter(0), metadata={op_name=\"x\"",
               "t.hlo:3:49: unexpected end of input, expected metadata field or '}'");
  assert_error(MODULE_HEAD "  p = f32[2] parameter(0), sharding={replicated",
               "t.hlo:3:48: unexpected end of input, expected closing bracket of the value");
  assert_error(MODULE_HEAD "  p = f32[2] parameter(0),",
               "t.hlo:3:27: unexpected end of input, expected attribute name");
  assert_error(MODULE_HEAD "  p = f32[2] parameter(0)\n",
               "t.hlo:4:1: unexpected end of input, expected instruction or '}' closing "
               "computation 'e'");
  assert_error(MODULE_HEAD "  p = f32[2] constant({1, 2",
               "t.hlo:3:28: unexpected end of input, expected ',' or '}' in literal");
  assert_error("HloModule m\n", "t.hlo:2:1: unexpected end of input, expected computation");
  assert_error("", "t.hlo:1:1: unexpected end of input, expected 'HloModule' or a computation");
  assert_error(MODULE_HEAD "  p = f32[2] parameter(0) /* open", "t.hlo:3:27: unterminated comment");
  assert_error(MODULE_HEAD "  p = f32[2] custom-call(), custom_call_target=\"abc\n}\n",
               "t.hlo:3:48: unterminated string");
}
END_TEST

START_TEST(error_bad_shapes) {
  assert_error(MODULE_HEAD "  p = f32[2,x] parameter(0)\n}\n",
               "t.hlo:3:13: expected dimension size, found 'x'");
  assert_error(MODULE_HEAD "  p = c256[2] parameter(0)\n}\n",
               "t.hlo:3:7: unknown element type 'c256'");
  /* Values a narrow type cannot hold are errors, not silently NaN. */
  assert_error(MODULE_HEAD "  c = f8e4m3fn[] constant(500)\n}\n",
               "t.hlo:3:27: value 500: f8e4m3fn cannot hold it (out of range)");
  assert_error(MODULE_HEAD "  c = f8e4m3fn[] constant(-inf)\n}\n",
               "t.hlo:3:27: value -inf: f8e4m3fn has no infinity");
  assert_error(MODULE_HEAD "  c = f4e2m1fn[] constant(nan)\n}\n",
               "t.hlo:3:27: value nan: f4e2m1fn has no NaN");
  assert_error(MODULE_HEAD "  c = s4[] constant(8)\n}\n", "t.hlo:3:21: value 8 is out of range for s4");
  assert_error(MODULE_HEAD "  c = u2[] constant(-1)\n}\n", "t.hlo:3:21: value -1 is out of range for u2");
  assert_error(MODULE_HEAD "  c = c64[] constant(1)\n}\n",
               "t.hlo:3:22: expected '(' starting a complex number, found '1'");
  assert_error(MODULE_HEAD "  p = 7 parameter(0)\n}\n", "t.hlo:3:7: expected shape or opcode, found '7'");
  assert_error(MODULE_HEAD "  p = f32[1048576,1048577] parameter(0)\n}\n",
               "t.hlo:3:7: shape is too large: its dimensions multiply to more than 2^40");
  assert_error(MODULE_HEAD "  p = f32[0,1048576,1048577] parameter(0)\n}\n",
               "t.hlo:3:7: shape is too large: its dimensions multiply to more than 2^40");
  assert_error(MODULE_HEAD "  p = f32[99999999999999999999] parameter(0)\n}\n",
               "t.hlo:3:11: integer '99999999999999999999' is out of range");
  assert_error(MODULE_HEAD "  p = f32[1,1,1,1,1,1,1,1,1,1,1,1,1] parameter(0)\n}\n",
               "t.hlo:3:35: shape has more than 12 dimensions");
  assert_error(MODULE_HEAD "  p = f32[2,3]{0,0} parameter(0)\n}\n",
               "t.hlo:3:15: layout is not a permutation of the shape's dimensions");
  assert_error(MODULE_HEAD "  p = f32[2,3]{0} parameter(0)\n}\n",
               "t.hlo:3:15: layout has 1 entries, the shape has 2 dimensions");
  assert_error(MODULE_HEAD "  p = f32[2]{0,1} parameter(0)\n}\n",
               "t.hlo:3:16: layout has more entries than the shape's 1 dimensions");
  assert_error(MODULE_HEAD "  p = token[2] parameter(0)\n}\n",
               "t.hlo:3:7: a token shape has no dimensions");
  assert_error(MODULE_HEAD "  p = b((f32[16])) parameter(0)\n}\n",
               "t.hlo:3:9: expected array shape in a buffer shape, found '('");
  assert_error(MODULE_HEAD "  p = b(token[]) parameter(0)\n}\n",
               "t.hlo:3:9: a buffer shape holds an array");
  assert_error(MODULE_HEAD "  p = b(f32[2] parameter(0)\n}\n",
               "t.hlo:3:16: expected ')' closing a buffer shape, found 'parameter'");
  assert_error(MODULE_HEAD "  p = f32[2,<5] parameter(0)\n}\n",
               "t.hlo:3:13: expected dimension size, found '<'");
}
END_TEST

START_TEST(error_literals) {
  assert_error(MODULE_HEAD "  ROOT c = f32[3] constant({1, 2})\n}\n",
               "t.hlo:3:33: expected 3 elements in dimension 0 of the literal, found 2");
  assert_error(MODULE_HEAD "  ROOT c = f32[2,2] constant({{1, 2}, {3, 4, 5}})\n}\n",
               "t.hlo:3:46: too many elements in dimension 1 of the literal: expected 2");
  assert_error(MODULE_HEAD "  ROOT c = f32[2,2] constant({1, 2, 3, 4})\n}\n",
               "t.hlo:3:31: expected '{', found '1'");
  assert_error(MODULE_HEAD "  ROOT c = f32[2,2] constant({{...}, {1, 2}})\n}\n",
               "t.hlo:3:32: '...' (values not printed) stands only for a whole array constant");
  assert_error(MODULE_HEAD "  ROOT c = f32[0] constant(1)\n}\n",
               "t.hlo:3:28: expected '{' starting the literal of an empty array");
  assert_error(MODULE_HEAD "  ROOT c = f32[20000000] constant(1)\n}\n",
               "t.hlo:3:35: expected '{' starting the literal of a constant this large");
  assert_error(MODULE_HEAD "  ROOT c = u8[2] constant({1, 256})\n}\n",
               "t.hlo:3:31: value 256 is out of range for u8");
  assert_error(MODULE_HEAD "  ROOT c = u32[1] constant({-1})\n}\n",
               "t.hlo:3:29: value -1 is out of range for u32");
  assert_error(MODULE_HEAD "  ROOT c = s8[1] constant({-129})\n}\n",
               "t.hlo:3:28: value -129 is out of range for s8");
  assert_error(MODULE_HEAD "  ROOT c = s32[] constant(1.5)\n}\n",
               "t.hlo:3:27: expected s32 integer, found '1.5'");
  assert_error(MODULE_HEAD "  ROOT c = f32[] constant(1.5.2)\n}\n",
               "t.hlo:3:27: invalid number '1.5.2'");
  assert_error(MODULE_HEAD "  ROOT c = pred[] constant(2)\n}\n",
               "t.hlo:3:28: expected true or false, found '2'");
  assert_error(MODULE_HEAD "  ROOT c = f16[] constant(nan(0x400))\n}\n",
               "t.hlo:3:31: NaN payload does not fit the 10 mantissa bits of f16");
  assert_error(MODULE_HEAD "  ROOT c = (s32[], s32[]) constant((1, 2, 3))\n}\n",
               "t.hlo:3:43: too many elements in tuple literal: expected 2");
  assert_error(MODULE_HEAD "  ROOT c = token[] constant(0)\n}\n",
               "t.hlo:3:8: constants of type token are not supported");
  /* More elements than the text could hold: rejected without allocating. */
  assert_error(
      MODULE_HEAD "  ROOT c = f32[1099511627776] constant({1})\n}\n",
      "t.hlo:3:42: expected 1099511627776 elements in dimension 0 of the literal, found 1");
}
END_TEST

START_TEST(error_names) {
  assert_error(MODULE_HEAD "  p = f32[2] parameter(0)\n  ROOT q = f32[2] negate(r)\n}\n",
               "t.hlo:4:26: instruction 'q' uses undefined operand 'r'");
  assert_error(MODULE_HEAD
               "  p = f32[2] parameter(0)\n  ROOT q = f32[2] call(p), to_apply=%nowhere\n}\n",
               "t.hlo:4:37: computation 'nowhere' is not defined");
  assert_error(MODULE_HEAD "  p = f32[2] parameter(0)\n  p = f32[2] negate(p)\n}\n",
               "t.hlo:4:3: duplicate instruction name 'p' (first defined at 3:3)");
  assert_error(
      "HloModule m\nc { ROOT a = f32[] parameter(0) }\n%c { ROOT b = f32[] parameter(0) }\n",
      "t.hlo:3:1: computation 'c' is already defined at 2:1");
  assert_error(
      "HloModule m\nENTRY a { ROOT x = f32[] parameter(0) }\nENTRY b { ROOT y = "
      "f32[] parameter(0) }\n",
      "t.hlo:3:7: second ENTRY computation 'b' (the first is 'a')");
  assert_error(MODULE_HEAD "  ROOT p = f32[2] parameter(0)\n  ROOT q = f32[2] negate(p)\n}\n",
               "t.hlo:4:8: second ROOT instruction 'q' (the first is 'p')");
  assert_error(MODULE_HEAD "  p = f32[2] parameter(0)\n  q = f32[2] parameter(2)\n}\n",
               "t.hlo:4:3: parameter number 2 of 'q' is out of range: computation 'e' has 2 "
               "parameters");
  assert_error(MODULE_HEAD "  p = f32[2] parameter(1)\n  q = f32[2] parameter(1)\n}\n",
               "t.hlo:4:3: parameter number 1 is used twice");
  assert_error(MODULE_HEAD "}\n", "t.hlo:3:1: computation 'e' has no instructions");
}
END_TEST

START_TEST(error_shapes_left_out) {
  assert_error(MODULE_HEAD "  p = f32[2] parameter(0)\n  ROOT r = reshape(p)\n}\n",
               "t.hlo:4:12: the result shape of reshape cannot be inferred: write it before "
               "the opcode");
  assert_error(MODULE_HEAD "  ROOT p = parameter(0)\n}\n",
               "t.hlo:3:12: the result shape of parameter cannot be inferred: write it before "
               "the opcode");
  assert_error(MODULE_HEAD "  p = pred[2] parameter(0)\n  ROOT n = negate(p)\n}\n",
               "t.hlo:4:8: cannot infer the shape of negate 'n': operand type pred is not an "
               "integer or floating-point type");
  assert_error(MODULE_HEAD "  a = negate(b)\n  b = negate(a)\n}\n",
               "t.hlo:3:3: cannot infer the shape of negate 'a': its operand 'b' depends on it");
  assert_error(MODULE_HEAD "  p = f32[2] parameter(0)\n  ROOT b = broadcast(p), "
               "dimensions={1048576,1048577}\n}\n",
               "t.hlo:4:8: cannot infer the shape of broadcast 'b': shape f32[1048576,1048577,2] "
               "is too large: one buffer holds at most 2^40 bytes");
}
END_TEST

START_TEST(error_inline_operands) {
  /* An inline operand has no attributes: a ',' separates operands. */
  assert_error(MODULE_HEAD "  p = f32[] parameter(0)\n  ROOT c = pred[] and(compare(p, p), p)\n}\n",
               "t.hlo:4:23: compare 'compare.anon' needs direction=");
  assert_error(MODULE_HEAD "  p = f32[] parameter(0)\n  ROOT n = negate(negate(p), "
               "metadata={})\n}\n",
               "t.hlo:4:38: expected ',' or ')', found '='");
  assert_error(MODULE_HEAD "  ROOT n = negate(f32[] frobnicate(1))\n}\n",
               "t.hlo:3:25: unknown opcode 'frobnicate'");
  /* Nesting is bounded. */
  HloStr s = {0};
  hlo_str_printf(&s, MODULE_HEAD "  p = f32[] parameter(0)\n  ROOT n = ");
  for (int i = 0; i < 70; i++) hlo_str_printf(&s, "negate(");
  hlo_str_printf(&s, "p");
  for (int i = 0; i < 70; i++) hlo_str_printf(&s, ")");
  hlo_str_printf(&s, "\n}\n");
  char *text = hlo_str_take(&s);
  assert_error(text, "t.hlo:4:467: instructions written inline nested more than 64 deep");
  free(text);
}
END_TEST

START_TEST(error_module_header) {
  assert_error("HloModule :\nENTRY e { ROOT p = f32[] parameter(0) }\n",
               "t.hlo:1:11: expected module name, found ':'");
}
END_TEST

START_TEST(error_execution_thread) {
  assert_error("HloModule m\nENTRY e { ROOT p = f32[] parameter(0) }, thread=\"x\"\n",
               "t.hlo:2:42: unknown computation attribute 'thread' (only execution_thread)");
  assert_error("HloModule m\nENTRY e { ROOT p = f32[] parameter(0) }, execution_thread=x\n",
               "t.hlo:2:59: expected a string, found 'x'");
}
END_TEST

START_TEST(error_garbage_after_module) {
  assert_error(MODULE_HEAD "  ROOT p = f32[2] parameter(0)\n}\n}\n",
               "t.hlo:5:1: expected computation, found '}'");
  assert_error(MODULE_HEAD "  ROOT p = f32[2] parameter(0)\n}\ntrailing words\n",
               "t.hlo:5:10: expected '{', found 'words'");
  assert_error(MODULE_HEAD "  ROOT p = f32[2] parameter(0)\n}\n\x01",
               "t.hlo:5:1: expected computation, found byte 0x01");
}
END_TEST

START_TEST(error_attributes) {
  assert_error(MODULE_HEAD
               "  p = f32[2] parameter(0)\n  ROOT b = f32[2] negate(p), backend_config=1, "
               "backend_config=2\n}\n",
               "t.hlo:4:48: attribute 'backend_config' is given twice");
  /* An attribute the op does not define is an error, not a silent default;
   * XLA's annotations are accepted on any op. */
  assert_error(MODULE_HEAD
               "  ROOT i = s32[2,3] iota(), iota_dimenson=1\n}\n",
               "t.hlo:3:29: unknown attribute 'iota_dimenson' for iota (did you mean "
               "'iota_dimension'?)");
  assert_error(MODULE_HEAD
               "  p = f32[2] parameter(0)\n  ROOT b = f32[2] negate(p), foo=1\n}\n",
               "t.hlo:4:30: unknown attribute 'foo' for negate");
  assert_error(MODULE_HEAD
               "  p = f32[2] parameter(0)\n  ROOT b = f32[2] negate(p), dimensions={0}\n}\n",
               "t.hlo:4:30: attribute 'dimensions' does not apply to negate");
  assert_error(MODULE_HEAD
               "  p = f32[2] parameter(0)\n  ROOT b = f32[2] broadcast(p), dimensions={0}, "
               "dimensions={0}\n}\n",
               "t.hlo:4:49: attribute 'dimensions' is given twice");
  assert_error(MODULE_HEAD
               "  p = f32[2] parameter(0)\n  ROOT b = pred[2] compare(p, p), direction=XY\n}\n",
               "t.hlo:4:45: unknown comparison direction 'XY'");
  assert_error(MODULE_HEAD "  p = f32[2] parameter(0)\n  ROOT b = pred[2] compare(p, p)\n}\n",
               "t.hlo:4:8: compare 'b' needs direction=");
  assert_error(MODULE_HEAD
               "  p = f32[2] parameter(0)\n  ROOT s = f32[1] slice(p), slice={[0:1], [0:1]}\n}\n",
               "t.hlo:4:35: slice has 2 dimensions, the shape has 1");
  assert_error(MODULE_HEAD
               "  p = f32[2] parameter(0)\n  z = f32[] constant(0)\n"
               "  ROOT s = f32[3] pad(p, z), padding=0_1x0_0\n}\n",
               "t.hlo:5:38: padding has 2 dimensions, the shape has 1");
  assert_error(MODULE_HEAD "  p = f32[2] parameter(0)\n  ROOT s = f32[1] slice(p)\n}\n",
               "t.hlo:4:8: slice 's' needs slice=");
  assert_error(MODULE_HEAD
               "  p = f32[1,4,4,1] parameter(0)\n  ROOT c = f32[1,4,4,1] convolution(p, p), "
               "window={size=3}, dim_labels=b01f_01io->b01f\n}\n",
               "t.hlo:4:8: convolution 'c' has a window of 1 dimensions but 2 spatial dimensions");
  assert_error(MODULE_HEAD
               "  p = f32[1,4,4,1] parameter(0)\n  ROOT c = f32[1,4,4,1] convolution(p, p), "
               "window={size=3x3}, dim_labels=b01f_01io->b0f\n}\n",
               "t.hlo:4:74: invalid dim_labels 'b0f': each side needs b, f and the spatial "
               "dimensions 0…N-1 once, with the same N on every side");
  assert_error(MODULE_HEAD
               "  p = f32[4] parameter(0)\n  ROOT r = f32[4] reduce-window(p, p), "
               "window={size=3 stride=1x1}, to_apply=p\n}\n",
               "t.hlo:4:55: window field 'stride' has 2 dimensions, expected 1");
  assert_error(MODULE_HEAD
               "  p = f32[4] parameter(0)\n  ROOT r = f32[4] reduce-window(p, p), "
               "window={size=3 bogus=1}\n}\n",
               "t.hlo:4:55: unknown window field 'bogus'");
  assert_error(MODULE_HEAD "  p = (s32[]) parameter(0)\n  ROOT w = (s32[]) while(p), body=b\n}\n",
               "t.hlo:4:8: while 'w' needs both condition= and body=");
  assert_error(MODULE_HEAD
               "  p = f32[2] parameter(0)\n  ROOT f = f32[2] fusion(p), kind=kFancy, calls=c\n}\n",
               "t.hlo:4:35: unknown fusion kind 'kFancy'");
  assert_error(MODULE_HEAD "  p = f32[2] parameter(0), sharding={devices=[2]0,1)\n}\n",
               "t.hlo:3:52: mismatched ')' in value");
  assert_error(MODULE_HEAD "  p = f32[2] parameter(0), sharding=\n}\n",
               "t.hlo:4:1: expected attribute value, found '}'");
  assert_error(MODULE_HEAD "  p f32[2] parameter(0)\n}\n", "t.hlo:3:5: expected '=', found 'f32'");
}
END_TEST

/* NUL bytes would cut the C strings that names and values become; the
 * text length, not a terminator, bounds the input. */
START_TEST(error_nul_bytes_and_no_file_name) {
  static const char text[] = MODULE_HEAD "  p = f32[2] parameter(0), sharding={a\0b}\n}\n";
  HloModule *m = NULL;
  HloError *e = hlo_parse(text, sizeof text - 1, NULL, &m);
  ck_assert_ptr_nonnull(e);
  ck_assert_str_eq(hlo_error_message(e), "<input>:3:39: NUL byte in attribute value");
  hlo_error_free(e);
  static const char text2[] =
      MODULE_HEAD "  p = f32[2] parameter(0), metadata={op_name=\"a\0\"}\n}\n";
  e = hlo_parse(text2, sizeof text2 - 1, "t.hlo", &m);
  ck_assert_ptr_nonnull(e);
  ck_assert_str_eq(hlo_error_message(e), "t.hlo:3:48: NUL byte in string");
  hlo_error_free(e);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Inputs found by fuzzing (tests/fuzz): each once crashed, leaked, hung or  */
/* broke the fixed point                                                    */
/* ------------------------------------------------------------------------ */

/* A name may start with a digit after '%'; signatures print names without
 * '%', so they must read such names too. */
START_TEST(fuzz_digit_name_in_signature) {
  assert_prints_as("HloModule m\nENTRY e { ROOT %7.1 = f32[] parameter(0) }\n",
                   "HloModule m\n\n"
                   "ENTRY %e (7.1: f32[]) -> f32[] {\n"
                   "  ROOT %7.1 = f32[] parameter(0)\n"
                   "}\n\n");
}
END_TEST

/* Module names are printed without '%' too (the same flaw, found by
 * reading the code after the fuzzer's case). */
START_TEST(digit_module_name) {
  assert_prints_as("HloModule %7\nENTRY e { ROOT p = f32[] parameter(0) }\n",
                   "HloModule 7\n\n"
                   "ENTRY %e (p: f32[]) -> f32[] {\n"
                   "  ROOT %p = f32[] parameter(0)\n"
                   "}\n\n");
}
END_TEST

/* The inverse and hyperbolic trigonometric functions, map and
 * reduce-precision, which XLA prints and expand_ops.c rewrites.  map's
 * dimensions are always every dimension (XLA's parser ignores them), so
 * a map without them prints them. */
START_TEST(trig_map_reduce_precision_ops) {
  assert_canonical(
      "HloModule trig\n\n"
      "%mul (a: f32[], b: s32[]) -> f32[] {\n"
      "  %a = f32[] parameter(0)\n"
      "  %b = s32[] parameter(1)\n"
      "  %c = f32[] convert(%b)\n"
      "  ROOT %m = f32[] multiply(%a, %c)\n"
      "}\n\n"
      "ENTRY %main (x: f32[2,3], i: s32[2,3]) -> f32[2,3] {\n"
      "  %x = f32[2,3]{1,0} parameter(0)\n"
      "  %i = s32[2,3]{1,0} parameter(1)\n"
      "  %acos = f32[2,3]{1,0} acos(%x)\n"
      "  %asin = f32[2,3]{1,0} asin(%acos)\n"
      "  %atan = f32[2,3]{1,0} atan(%asin)\n"
      "  %acosh = f32[2,3]{1,0} acosh(%atan)\n"
      "  %asinh = f32[2,3]{1,0} asinh(%acosh)\n"
      "  %atanh = f32[2,3]{1,0} atanh(%asinh)\n"
      "  %cosh = f32[2,3]{1,0} cosh(%atanh)\n"
      "  %sinh = f32[2,3]{1,0} sinh(%cosh)\n"
      "  %tan = f32[2,3]{1,0} tan(%sinh)\n"
      "  %rp = f32[2,3]{1,0} reduce-precision(%tan), exponent_bits=5, mantissa_bits=10\n"
      "  ROOT %map = f32[2,3]{1,0} map(%rp, %i), dimensions={0,1}, to_apply=%mul\n"
      "}\n\n");
  assert_prints_as(
      "HloModule m\n"
      "f {\n  a = f32[] parameter(0)\n  ROOT n = f32[] negate(a)\n}\n"
      "ENTRY e {\n  p = f32[4] parameter(0)\n  ROOT m = f32[4] map(p), to_apply=f\n}\n",
      "HloModule m\n\n"
      "%f (a: f32[]) -> f32[] {\n"
      "  %a = f32[] parameter(0)\n"
      "  ROOT %n = f32[] negate(%a)\n"
      "}\n\n"
      "ENTRY %e (p: f32[4]) -> f32[4] {\n"
      "  %p = f32[4]{0} parameter(0)\n"
      "  ROOT %m = f32[4]{0} map(%p), dimensions={0}, to_apply=%f\n"
      "}\n\n");
  /* Shapes left out are inferred, as XLA's parser does. */
  assert_prints_as(MODULE_HEAD "  p = bf16[2] parameter(0)\n  s = sinh(p)\n"
                   "  ROOT r = reduce-precision(s), mantissa_bits=3, exponent_bits=4\n}\n",
                   "HloModule m\n\n"
                   "ENTRY %e (p: bf16[2]) -> bf16[2] {\n"
                   "  %p = bf16[2]{0} parameter(0)\n"
                   "  %s = bf16[2]{0} sinh(%p)\n"
                   "  ROOT %r = bf16[2]{0} reduce-precision(%s), exponent_bits=4, "
                   "mantissa_bits=3\n"
                   "}\n\n");
}
END_TEST

START_TEST(error_trig_map_reduce_precision) {
  assert_error(MODULE_HEAD "  p = f32[2] parameter(0)\n  ROOT r = f32[2] acosine(p)\n}\n",
               "t.hlo:4:19: unknown opcode 'acosine'");
  assert_error(MODULE_HEAD
               "  p = f32[2] parameter(0)\n  ROOT r = f32[2] reduce-precision(p), "
               "exponent_bits=8\n}\n",
               "t.hlo:4:8: reduce-precision 'r' needs mantissa_bits=");
  assert_error(MODULE_HEAD
               "  p = f32[2] parameter(0)\n  ROOT r = f32[2] reduce-precision(p), "
               "mantissa_bits=8\n}\n",
               "t.hlo:4:8: reduce-precision 'r' needs exponent_bits=");
  assert_error(MODULE_HEAD
               "  p = f32[2] parameter(0)\n  ROOT r = f32[2] reduce-precision(p), "
               "exponent_bit=8, mantissa_bits=2\n}\n",
               "t.hlo:4:40: unknown attribute 'exponent_bit' for reduce-precision (did you "
               "mean 'exponent_bits'?)");
  assert_error(MODULE_HEAD
               "  p = f32[2] parameter(0)\n  ROOT r = f32[2] reduce-precision(p), "
               "exponent_bits=x, mantissa_bits=2\n}\n",
               "t.hlo:4:54: expected integer, found 'x'");
  assert_error(MODULE_HEAD
               "  p = f32[2] parameter(0)\n  ROOT r = f32[2] map(p), to_apply=nowhere\n}\n",
               "t.hlo:4:36: computation 'nowhere' is not defined");
  assert_error(MODULE_HEAD
               "  p = f32[2] parameter(0)\n  ROOT r = f32[2] sinh(p), exponent_bits=3\n}\n",
               "t.hlo:4:28: attribute 'exponent_bits' does not apply to sinh");
}
END_TEST

/* Collectives, tokens and async pairs with their attributes; the iota form
 * of replica groups prints as the groups it stands for. */
START_TEST(single_device_ops) {
  assert_canonical(
      "HloModule collectives\n\n"
      "%add (x: f32[], y: f32[]) -> f32[] {\n"
      "  %x = f32[] parameter(0)\n"
      "  %y = f32[] parameter(1)\n"
      "  ROOT %s = f32[] add(%x, %y)\n"
      "}\n\n"
      "%wrapped (a: f32[4]) -> f32[4] {\n"
      "  %a = f32[4]{0} parameter(0)\n"
      "  ROOT %n = f32[4]{0} negate(%a)\n"
      "}\n\n"
      "ENTRY %main (p: f32[4], q: f32[2,3]) -> (f32[4], u32[]) {\n"
      "  %p = f32[4]{0} parameter(0)\n"
      "  %q = f32[2,3]{1,0} parameter(1)\n"
      "  %ar = f32[4]{0} all-reduce(%p), replica_groups={{0}}, to_apply=%add, channel_id=1, "
      "use_global_device_ids=true\n"
      "  %ag = f32[4]{0} all-gather(%ar), replica_groups={}, dimensions={0}\n"
      "  %rs = f32[4]{0} reduce-scatter(%ag), replica_groups={{0}}, dimensions={0}, "
      "to_apply=%add\n"
      "  %a2a = (f32[4]{0}, f32[2,3]{1,0}) all-to-all(%rs, %q), replica_groups={{0}}\n"
      "  %g0 = f32[4]{0} get-tuple-element(%a2a), index=0\n"
      "  %cp = f32[4]{0} collective-permute(%g0), source_target_pairs={{0,0}}\n"
      "  %cb = f32[4]{0} collective-broadcast(%cp), replica_groups={{0}}\n"
      "  %rid = u32[] replica-id()\n"
      "  %pid = u32[] partition-id()\n"
      "  %tok = token[] after-all()\n"
      "  %obt = (f32[4]{0}, token[]) tuple(%cb, %tok)\n"
      "  %ob = (f32[4]{0}, token[]) opt-barrier(%obt)\n"
      "  %o0 = f32[4]{0} get-tuple-element(%ob), index=0\n"
      "  %dm = f32[4]{0} domain(%o0), domain={kind=\"sharding\", entry={maximal device=0}, "
      "exit={replicated}}\n"
      "  %ars = f32[4]{0} all-reduce-start(%dm), replica_groups={}, to_apply=%add\n"
      "  %ard = f32[4]{0} all-reduce-done(%ars)\n"
      "  %ags = (f32[4]{0}, f32[4]{0}) all-gather-start(%ard), replica_groups={{0}}, "
      "dimensions={0}\n"
      "  %agd = f32[4]{0} all-gather-done(%ags)\n"
      "  %cps = (f32[4]{0}, f32[4]{0}, u32[], u32[]) collective-permute-start(%agd), "
      "source_target_pairs={{0,0}}\n"
      "  %cpd = f32[4]{0} collective-permute-done(%cps)\n"
      "  %as = ((f32[4]{0}), f32[4]{0}, s32[]) async-start(%cpd), calls=%wrapped\n"
      "  %au = ((f32[4]{0}), f32[4]{0}, s32[]) async-update(%as)\n"
      "  %ad = f32[4]{0} async-done(%au), calls=%wrapped\n"
      "  %cs = (f32[4]{0}, f32[4]{0}, u32[]) copy-start(%ad), cross_program_prefetch_index=0\n"
      "  %cd = f32[4]{0} copy-done(%cs)\n"
      "  ROOT %r = (f32[4]{0}, u32[]) tuple(%cd, %rid)\n"
      "}\n\n");
  char *got = round_trip("HloModule m\nENTRY e {\n  p = f32[4] parameter(0)\n"
                         "  ROOT r = f32[4] all-to-all(p), replica_groups=[4,1]<=[2,2]T(1,0), "
                         "dimensions={0}\n}\n");
  ck_assert_msg(strstr(got, "replica_groups={{0},{2},{1},{3}}, dimensions={0}"), "%s", got);
  free(got);
  assert_error("HloModule m\nENTRY e {\n  p = f32[4] parameter(0)\n"
               "  ROOT r = f32[4] collective-permute(p), source_target_pairs={{0,1,2}}\n}\n",
               "t.hlo:4:63: a source-target pair needs 2 ids, has 3");
  assert_error("HloModule m\nENTRY e {\n  p = f32[4] parameter(0)\n"
               "  ROOT r = f32[4] all-to-all(p), replica_groups=[3,2]<=[4]\n}\n",
               "t.hlo:4:49: replica groups [3,2] do not hold the 4 ids");
  assert_error("HloModule m\nENTRY e {\n  p = f32[4] parameter(0)\n"
               "  ROOT r = f32[4] negate(p), channel_id=1\n}\n",
               "t.hlo:4:30: unknown attribute 'channel_id' for negate");
}
END_TEST

/* XLA's opcodes that hloc does not compile parse, keep every attribute
 * verbatim and print back; hlo_verify refuses each by what it needs. */
static void assert_refused(const char *text, const char *want) {
  HloModule *m = NULL;
  HloError *e = hlo_parse(text, strlen(text), "t.hlo", &m);
  ck_assert_msg(e == NULL, "parse failed: %s", hlo_error_message(e));
  e = hlo_verify(m);
  ck_assert_msg(e != NULL, "verifier accepted:\n%s", text);
  ck_assert_str_eq(hlo_error_message(e), want);
  hlo_error_free(e);
  hlo_module_free(m);
}

/* Computations written inline in an attribute (to_apply={ ... }), nested
 * too, and one in a list after a named one: XLA names them "_"; hloc
 * places each before the computation that holds it and keeps the list's
 * order. */
START_TEST(inline_computations) {
  assert_prints_as(
      "HloModule m\n"
      "b0 {\n"
      "  x = f32[] parameter(0)\n"
      "  ROOT n = f32[] negate(x)\n"
      "}\n"
      "ENTRY e {\n"
      "  i = s32[] parameter(0)\n"
      "  x = f32[] parameter(1)\n"
      "  c = f32[] conditional(i, x, x), branch_computations={b0, {\n"
      "    y = f32[] parameter(0)\n"
      "    ROOT r = f32[] call(y), to_apply={\n"
      "      z = f32[] parameter(0)\n"
      "      ROOT e = f32[] exponential(z)\n"
      "    }\n"
      "  }}\n"
      "  ROOT w = f32[] call(c), to_apply={\n"
      "    y = f32[] parameter(0)\n"
      "    ROOT a = f32[] add(y, y)\n"
      "  }\n"
      "}\n",
      "HloModule m\n"
      "\n"
      "%b0 (x: f32[]) -> f32[] {\n"
      "  %x = f32[] parameter(0)\n"
      "  ROOT %n = f32[] negate(%x)\n"
      "}\n"
      "\n"
      "%_.2 (z: f32[]) -> f32[] {\n"
      "  %z = f32[] parameter(0)\n"
      "  ROOT %e.3 = f32[] exponential(%z)\n"
      "}\n"
      "\n"
      "%_ (y: f32[]) -> f32[] {\n"
      "  %y = f32[] parameter(0)\n"
      "  ROOT %r = f32[] call(%y), to_apply=%_.2\n"
      "}\n"
      "\n"
      "%_.4 (y.5: f32[]) -> f32[] {\n"
      "  %y.5 = f32[] parameter(0)\n"
      "  ROOT %a = f32[] add(%y.5, %y.5)\n"
      "}\n"
      "\n"
      "ENTRY %e (i: s32[], x.1: f32[]) -> f32[] {\n"
      "  %i = s32[] parameter(0)\n"
      "  %x.1 = f32[] parameter(1)\n"
      "  %c = f32[] conditional(%i, %x.1, %x.1), branch_computations={%b0, %_}\n"
      "  ROOT %w = f32[] call(%c), to_apply=%_.4\n"
      "}\n"
      "\n");
  assert_error(MODULE_HEAD "  x = f32[] parameter(0)\n  ROOT c = f32[] call(x), to_apply={}\n}\n",
               "t.hlo:4:37: computation '_' has no instructions");
  assert_error(MODULE_HEAD "  x = f32[] parameter(0)\n  ROOT c = f32[] call(x), to_apply={\n"
                           "    y = f32[] parameter(0)\n",
               "t.hlo:6:1: unexpected end of input, expected instruction or '}' closing "
               "computation '_'");
  assert_error(MODULE_HEAD "  x = f32[] parameter(0)\n  ROOT c = f32[] call(x), to_apply={\n"
                           "    ROOT y = f32[] negate(x)\n  }\n}\n",
               "t.hlo:5:27: instruction 'y' uses undefined operand 'x'");
}
END_TEST

/* XLA's older spelling OP-start/-update/-done is async-start/-update/-done
 * calling a computation that holds OP, as XLA's parser builds it. */
START_TEST(async_sugar) {
  assert_prints_as(MODULE_HEAD "  a = f32[2] parameter(0)\n"
                               "  s = ((f32[2]), f32[2], u32[]) custom-call-start(a), "
                               "custom_call_target=\"foo\", async_execution_thread=\"t\"\n"
                               "  u = ((f32[2]), f32[2], u32[]) custom-call-update(s)\n"
                               "  ROOT d = f32[2] custom-call-done(u)\n}\n",
                   "HloModule m\n\n"
                   "%async_wrapped (async_param: f32[2]) -> f32[2] {\n"
                   "  %async_param = f32[2]{0} parameter(0)\n"
                   "  ROOT %async_op = f32[2]{0} custom-call(%async_param), "
                   "custom_call_target=\"foo\"\n"
                   "}\n\n"
                   "ENTRY %e (a: f32[2]) -> f32[2] {\n"
                   "  %a = f32[2]{0} parameter(0)\n"
                   "  %s = ((f32[2]{0}), f32[2]{0}, u32[]) async-start(%a), calls=%async_wrapped, "
                   "async_execution_thread=\"t\"\n"
                   "  %u = ((f32[2]{0}), f32[2]{0}, u32[]) async-update(%s)\n"
                   "  ROOT %d = f32[2]{0} async-done(%u)\n"
                   "}\n\n");
  HloModule *m = NULL;
  /* Without ENTRY the last computation written stays the entry. */
  const char *text = "HloModule m\ne {\n  a = f32[2] parameter(0)\n"
                     "  s = ((f32[2]), f32[2], s32[]) negate-start(a)\n"
                     "  ROOT d = f32[2] negate-done(s)\n}\n";
  ck_assert_ptr_null(hlo_parse(text, strlen(text), "t.hlo", &m));
  ck_assert_ptr_null(hlo_verify(m));
  ck_assert_str_eq(m->entry->name, "e");
  hlo_module_free(m);
}
END_TEST

START_TEST(refused_ops) {
  const char *text =
      "HloModule refused\n\n"
      "%ge (a: f32[], b: f32[]) -> pred[] {\n"
      "  %a = f32[] parameter(0)\n"
      "  %b = f32[] parameter(1)\n"
      "  ROOT %c = pred[] compare(%a, %b), direction=GE\n"
      "}\n\n"
      "%add (x: f32[], y: f32[]) -> f32[] {\n"
      "  %x = f32[] parameter(0)\n"
      "  %y = f32[] parameter(1)\n"
      "  ROOT %s = f32[] add(%x, %y)\n"
      "}\n\n"
      "ENTRY %e (p: f32[4], st: u64[2]) -> (f32[4], f32[2], u32[2,2]) {\n"
      "  %p = f32[4]{0} parameter(0)\n"
      "  %st = u64[2]{0} parameter(1)\n"
      "  %t = token[] after-all()\n"
      "  %rv = (f32[4]{0}, u32[], token[]) recv(%t), channel_id=1, is_host_transfer=true\n"
      "  %rd = (f32[4]{0}, token[]) recv-done(%rv), channel_id=1, is_host_transfer=true\n"
      "  %in = ((f32[2]{0}), token[]) infeed(%t), infeed_config=\"x\"\n"
      "  %of = token[] outfeed(%p, %t), outfeed_shape=f32[4]{0}\n"
      "  %z = f32[] constant(0)\n"
      "  %rn = f32[2]{0} rng(%z, %z), distribution=rng_uniform\n"
      "  %rb = (u64[2]{0}, u32[2,2]{1,0}) rng-bit-generator(%st), algorithm=rng_three_fry\n"
      "  %tk = (f32[2]{0}, s32[2]{0}) topk(%p), k=2, largest=true\n"
      "  %ss = f32[4]{0} select-and-scatter(%p, %p, %z), window={size=1}, select=%ge, "
      "scatter=%add\n"
      "  %tk0 = f32[2]{0} get-tuple-element(%tk), index=0\n"
      "  %rb1 = u32[2,2]{1,0} get-tuple-element(%rb), index=1\n"
      "  ROOT %r = (f32[4]{0}, f32[2]{0}, u32[2,2]{1,0}) tuple(%ss, %tk0, %rb1)\n"
      "}\n\n";
  assert_canonical(text);
  assert_refused(text, "verifier: computation 'e', instruction %rv = (f32[4]{0}, u32[], "
                       "token[]) recv(%t): recv receives data from another device or the "
                       "host: hloc compiles single-device programs, without host transfers");
  /* rng is read and checked: scalar bounds of the result's type, a
   * distribution that type has. */
  assert_canonical("HloModule m\n\nENTRY %e (a: s8[], b: s8[]) -> s8[2,3] {\n"
                   "  %a = s8[] parameter(0)\n  %b = s8[] parameter(1)\n"
                   "  ROOT %r = s8[2,3]{1,0} rng(%a, %b), distribution=rng_uniform\n}\n\n");
  assert_error(MODULE_HEAD "  a = f32[] parameter(0)\n  ROOT r = f32[2] rng(a, a)\n}\n",
               "t.hlo:4:8: rng 'r' needs distribution=");
  assert_error(MODULE_HEAD "  a = f32[] parameter(0)\n"
                           "  ROOT r = f32[2] rng(a, a), distribution=rng_cauchy\n}\n",
               "t.hlo:4:43: unknown distribution 'rng_cauchy'");
  assert_refused(MODULE_HEAD "  a = s32[] parameter(0)\n"
                             "  ROOT r = s32[2] rng(a, a), distribution=rng_normal\n}\n",
                 "verifier: computation 'e', instruction %r = s32[2]{0} rng(%a, %a): rng: "
                 "rng_normal of type s32 is not drawn (f16, bf16, f32 and f64 are)");
  assert_refused(MODULE_HEAD "  a = f32[2] parameter(0)\n"
                             "  ROOT r = f32[2] rng(a, a), distribution=rng_uniform\n}\n",
                 "verifier: computation 'e', instruction %r = f32[2]{0} rng(%a, %a): rng: "
                 "operand 0 f32[2]{0} is not a scalar of the result's type f32");
  /* XLA's rng(a, b, shape) (its RngExpander's tests): the rank-1 third
   * operand, of any type and size, is read and ignored. */
  assert_canonical("HloModule m\n\nENTRY %e (a: f16[], s: f16[3]) -> f16[2,2] {\n"
                   "  %a = f16[] parameter(0)\n  %s = f16[3]{0} parameter(1)\n"
                   "  ROOT %r = f16[2,2]{1,0} rng(%a, %a, %s), distribution=rng_normal\n}\n\n");
  assert_refused(MODULE_HEAD "  a = f32[] parameter(0)\n  s = u64[2,2] parameter(1)\n"
                             "  ROOT r = f32[2] rng(a, a, s), distribution=rng_uniform\n}\n",
                 "verifier: computation 'e', instruction %r = f32[2]{0} rng(%a, %a, %s): rng: "
                 "operand 2 u64[2,2]{1,0} is not a rank-1 array (XLA's shape operand, which "
                 "rng ignores: the result's shape is the declared one)");
  assert_refused(MODULE_HEAD "  a = f32[] parameter(0)\n"
                             "  ROOT r = f32[2] rng(a, a, a, a), distribution=rng_uniform\n}\n",
                 "verifier: computation 'e', instruction %r = f32[2]{0} rng(%a, %a, %a, %a): "
                 "rng: expects 2 operands (or 3, the third XLA's shape operand), has 4");
  /* add-dependency(x, token) takes a token second. */
  assert_refused(MODULE_HEAD "  a = f32[2] parameter(0)\n"
                             "  ROOT r = f32[2] add-dependency(a, a)\n}\n",
                 "verifier: computation 'e', instruction %r = f32[2]{0} add-dependency(%a, %a): "
                 "add-dependency: operand 1 f32[2]{0} is not a token");
  /* select-and-scatter is read (select= and scatter=, window= unless
   * the operand is a scalar) and checked as XLA's
   * InferSelectAndScatterShape does. */
  static const char *sas =
      "HloModule m\nge {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
      "  ROOT c = pred[] compare(a, b), direction=GE\n}\n"
      "add {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n  ROOT c = f32[] add(a, b)\n}\n"
      "ENTRY e {\n  x = f32[4] parameter(0)\n  z = f32[] constant(0)\n";
  char sas_text[1024];
  snprintf(sas_text, sizeof sas_text, "%s  s = f32[2] parameter(1)\n"
           "  ROOT r = f32[4] select-and-scatter(x, s, z), select=ge\n}\n", sas);
  assert_error(sas_text, "t.hlo:16:8: select-and-scatter 'r' needs select= and scatter=");
  snprintf(sas_text, sizeof sas_text, "%s  s = f32[3] parameter(1)\n"
           "  ROOT r = f32[4] select-and-scatter(x, s, z), window={size=2 stride=2}, "
           "select=ge, scatter=add\n}\n", sas);
  assert_refused(sas_text, "verifier: computation 'e', instruction %r = f32[4]{0} "
                           "select-and-scatter(%x, %s, %z): select-and-scatter: source f32[3]{0} "
                           "must have the dims of the windows over the operand, f32[2]{0}");
  snprintf(sas_text, sizeof sas_text, "%s  s = f32[2] parameter(1)\n"
           "  ROOT r = f32[4] select-and-scatter(x, s, z), window={size=2 stride=2}, "
           "select=add, scatter=add\n}\n", sas);
  assert_refused(sas_text, "verifier: computation 'e', instruction %r = f32[4]{0} "
                           "select-and-scatter(%x, %s, %z): select-and-scatter: select must be "
                           "(f32[], f32[]) -> pred[] (add has (f32[], f32[]) -> f32[])");
  snprintf(sas_text, sizeof sas_text, "%s  s = f32[2] parameter(1)\n"
           "  ROOT r = f32[4] select-and-scatter(x, s, x), window={size=2 stride=2}, "
           "select=ge, scatter=add\n}\n", sas);
  assert_refused(sas_text, "verifier: computation 'e', instruction %r = f32[4]{0} "
                           "select-and-scatter(%x, %s, %x): select-and-scatter: source f32[2]{0} "
                           "and init value f32[4]{0} must be of the operand's type f32 (init a "
                           "scalar)");
  /* The in-place collective-permute parses; its slices are refused. */
  assert_refused(MODULE_HEAD "  p = f32[4] parameter(0)\n  o = f32[4] parameter(1)\n"
                             "  i = s32[] constant(0)\n  t = (s32[]) tuple(i)\n"
                             "  ROOT r = f32[4] collective-permute(p, o, t, t), "
                             "source_target_pairs={{0,0}}, slice_sizes={{2}}\n}\n",
                 "verifier: computation 'e', instruction %r = f32[4]{0} collective-permute(%p, "
                 "%o, %t, %t): collective-permute: slice_sizes= (XLA's in-place form, which "
                 "writes slices into an output operand) is not implemented");
  /* With pairs of two participants, as the program for several devices
   * it is. */
  assert_refused(MODULE_HEAD "  p = f32[4] parameter(0)\n  o = f32[4] parameter(1)\n"
                             "  i = s32[] constant(0)\n  t = (s32[]) tuple(i)\n"
                             "  ROOT r = f32[4] collective-permute(p, o, t, t), "
                             "source_target_pairs={{0,1},{1,0}}, slice_sizes={{2}}\n}\n",
                 "verifier: computation 'e', instruction %r = f32[4]{0} collective-permute(%p, "
                 "%o, %t, %t): collective-permute: source_target_pairs={{0,1},{1,0}} name "
                 "participants other than 0: hloc compiles single-device programs");
  assert_error(MODULE_HEAD "  p = f32[4] parameter(0)\n"
                           "  ROOT r = f32[4] all-reduce(p), slice_sizes={{2}}\n}\n",
               "t.hlo:4:34: attribute 'slice_sizes' does not apply to all-reduce");
  /* batch-norm-training and -grad are read and checked, shapes inferred
   * or written. */
  assert_canonical("HloModule m\n\nENTRY %e (x: f32[2,3], s: f32[3], o: f32[3], dy: f32[2,3]) -> "
                   "(f32[2,3], f32[3], f32[3]) {\n"
                   "  %x = f32[2,3]{1,0} parameter(0)\n  %s = f32[3]{0} parameter(1)\n"
                   "  %o = f32[3]{0} parameter(2)\n  %dy = f32[2,3]{1,0} parameter(3)\n"
                   "  %t = (f32[2,3]{1,0}, f32[3]{0}, f32[3]{0}) batch-norm-training(%x, %s, %o), "
                   "epsilon=0.001, feature_index=1\n"
                   "  ROOT %g = (f32[2,3]{1,0}, f32[3]{0}, f32[3]{0}) batch-norm-grad(%x, %s, %o, "
                   "%o, %dy), epsilon=0.5, feature_index=1\n}\n\n");
  assert_refused(MODULE_HEAD "  x = f32[2,3] parameter(0)\n  s = f32[2] parameter(1)\n"
                             "  dy = f32[3,2] parameter(2)\n"
                             "  ROOT g = (f32[2,3], f32[2], f32[2]) batch-norm-grad(x, s, s, s, dy), "
                             "epsilon=1, feature_index=0\n}\n",
                 "verifier: computation 'e', instruction %g = (f32[2,3]{1,0}, f32[2]{0}, "
                 "f32[2]{0}) batch-norm-grad(%x, %s, %s, %s, %dy): batch-norm-grad: "
                 "grad_output f32[3,2]{1,0} must have the shape of the operand f32[2,3]{1,0}");
  assert_refused(MODULE_HEAD "  x = f32[2,3] parameter(0)\n  s = f32[3] parameter(1)\n"
                             "  ROOT t = (f32[2,3], f32[3], f32[3]) batch-norm-training(x, s, s), "
                             "epsilon=1, feature_index=0\n}\n",
                 "verifier: computation 'e', instruction %t = (f32[2,3]{1,0}, f32[3]{0}, "
                 "f32[3]{0}) batch-norm-training(%x, %s, %s): batch-norm-training: scale "
                 "f32[3]{0} must be f32[2]");
  /* topk is read and checked, not refused. */
  assert_error(MODULE_HEAD "  a = f32[4] parameter(0)\n  ROOT r = topk(a), largest=false\n}\n",
               "t.hlo:4:8: topk 'r' needs k=");
  assert_refused(MODULE_HEAD "  a = f32[4] parameter(0)\n  ROOT r = (f32[5], s32[5]) topk(a), k=5\n}\n",
                 "verifier: computation 'e', instruction %r = (f32[5]{0}, s32[5]{0}) topk(%a): "
                 "topk: k=5 is not within the last dimension of f32[4]{0}");
  assert_refused(MODULE_HEAD "  a = c64[4] parameter(0)\n"
                             "  ROOT r = (c64[1], s32[1]) topk(a), k=1\n}\n",
                 "verifier: computation 'e', instruction %r = (c64[1]{0}, s32[1]{0}) topk(%a): "
                 "topk: operand c64[4]{0} is complex, which has no order");
  /* stochastic-convert is read and checked: random bits as wide as the
   * floats, a signed integer result. */
  assert_canonical("HloModule m\n\nENTRY %e (x: bf16[4], r: u16[4]) -> s8[4] {\n"
                   "  %x = bf16[4]{0} parameter(0)\n  %r = u16[4]{0} parameter(1)\n"
                   "  ROOT %s = s8[4]{0} stochastic-convert(%x, %r)\n}\n\n");
  assert_refused(MODULE_HEAD "  x = f32[4] parameter(0)\n  r = u16[4] parameter(1)\n"
                             "  ROOT s = s32[4] stochastic-convert(x, r)\n}\n",
                 "verifier: computation 'e', instruction %s = s32[4]{0} stochastic-convert(%x, "
                 "%r): stochastic-convert: random u16[4]{0} is not unsigned integers of 32 "
                 "bits in the dims of f32[4]{0}");
  assert_refused(MODULE_HEAD "  x = f32[4] parameter(0)\n  r = u32[4] parameter(1)\n"
                             "  ROOT s = u32[4] stochastic-convert(x, r)\n}\n",
                 "verifier: computation 'e', instruction %s = u32[4]{0} stochastic-convert(%x, "
                 "%r): stochastic-convert: result u32[4]{0} is not of a signed integer type "
                 "(s8, s16, s32, s64: XLA converts to no other)");
  /* ragged-dot is read and checked: the dot's dims, the ragged one, the
   * group dim its mode needs, group_sizes of a signed type and shape. */
  assert_canonical("HloModule m\n\nENTRY %e (a: f32[2,7,3], b: f32[4,2,3,5], g: s64[2,4]) -> "
                   "f32[2,7,5] {\n  %a = f32[2,7,3]{2,1,0} parameter(0)\n"
                   "  %b = f32[4,2,3,5]{3,2,1,0} parameter(1)\n"
                   "  %g = s64[2,4]{1,0} parameter(2)\n"
                   "  ROOT %r = f32[2,7,5]{2,1,0} ragged-dot(%a, %b, %g), lhs_batch_dims={0}, "
                   "lhs_contracting_dims={2}, rhs_batch_dims={1}, rhs_contracting_dims={2}, "
                   "lhs_ragged_dims={1}, rhs_group_dims={0}\n}\n\n");
  assert_refused(MODULE_HEAD "  a = f32[11,5] parameter(0)\n  b = f32[5,7] parameter(1)\n"
                             "  g = u32[3] parameter(2)\n"
                             "  ROOT r = f32[3,11,7] ragged-dot(a, b, g), lhs_contracting_dims={1}, "
                             "rhs_contracting_dims={0}, lhs_ragged_dims={1}\n}\n",
                 "verifier: computation 'e', instruction %r = f32[3,11,7]{2,1,0} ragged-dot(%a, "
                 "%b, %g): ragged-dot: group_sizes u32[3]{0} is not of type s32 or s64");
  assert_refused(MODULE_HEAD "  a = f32[11,5] parameter(0)\n  b = f32[3,5,7] parameter(1)\n"
                             "  g = s32[3] parameter(2)\n"
                             "  ROOT r = f32[11,7] ragged-dot(a, b, g), lhs_contracting_dims={1}, "
                             "rhs_contracting_dims={1}, lhs_ragged_dims={0}\n}\n",
                 "verifier: computation 'e', instruction %r = f32[11,7]{1,0} ragged-dot(%a, %b, "
                 "%g): ragged-dot: lhs dimension 0 (ragged) is not contracting or batch, so "
                 "rhs_group_dims must name one rhs dimension");
  assert_refused(MODULE_HEAD "  a = f32[2,11,5] parameter(0)\n  b = f32[3,5,7] parameter(1)\n"
                             "  g = s32[3,3] parameter(2)\n"
                             "  ROOT r = f32[2,11,7] ragged-dot(a, b, g), lhs_contracting_dims={2}, "
                             "rhs_contracting_dims={1}, lhs_ragged_dims={1}, rhs_group_dims={0}\n}\n",
                 "verifier: computation 'e', instruction %r = f32[2,11,7]{2,1,0} ragged-dot(%a, "
                 "%b, %g): ragged-dot: group_sizes s32[3,3]{1,0} is neither [3] nor {2,3} (the "
                 "lhs dims {0}, then the groups)");
  /* The TopK custom-call is read as topk: a comparator topk can stand for. */
  assert_refused(MODULE_HEAD "  a = f32[2,2,4] parameter(0)\n"
                             "  ROOT r = (f32[2,2,1], s32[2,2,1]) custom-call(a), "
                             "custom_call_target=\"TopK\"\n}\n",
                 "verifier: computation 'e', instruction %r = (f32[2,2,1]{2,1,0}, "
                 "s32[2,2,1]{2,1,0}) custom-call(%a): custom-call: TopK: operand "
                 "f32[2,2,4]{2,1,0} is not of rank 1 or 2");
  assert_refused("HloModule m\nc {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
                 "  i = s32[] parameter(2)\n  j = s32[] parameter(3)\n"
                 "  ROOT c = pred[] compare(a, b), direction=GT\n}\n"
                 "ENTRY e {\n  x = f32[4] parameter(0)\n"
                 "  ROOT r = (f32[1], s32[1]) custom-call(x), custom_call_target=\"TopK\", "
                 "called_computations={c}\n}\n",
                 "verifier: computation 'e', instruction %r = (f32[1]{0}, s32[1]{0}) "
                 "custom-call(%x): "
                 "custom-call: TopK: comparator 'c' is not compare(lhs, rhs) GT or LT in total "
                 "order over (f32, f32, s32, s32): hloc reads TopK as topk");
  /* XLA cannot infer their shapes either. */
  assert_error(MODULE_HEAD "  a = u64[2] parameter(0)\n  ROOT r = rng-bit-generator(a)\n}\n",
               "t.hlo:4:12: the result shape of rng-bit-generator cannot be inferred: write it "
               "before the opcode");
  /* fft is read and checked with XLA's shape rules; its shape is inferred
   * as XLA's parser does. */
  assert_canonical("HloModule m\n\nENTRY %e (a: f32[3,8], c: c64[2,3,4]) -> (c64[3,5], "
                   "f32[3,8], c64[2,3,4]) {\n"
                   "  %a = f32[3,8]{1,0} parameter(0)\n"
                   "  %r = c64[3,5]{1,0} fft(%a), fft_type=RFFT, fft_length={8}\n"
                   "  %i = f32[3,8]{1,0} fft(%r), fft_type=IRFFT, fft_length={8}\n"
                   "  %c = c64[2,3,4]{2,1,0} parameter(1)\n"
                   "  %f = c64[2,3,4]{2,1,0} fft(%c), fft_type=IFFT, fft_length={3,4}\n"
                   "  ROOT %t = (c64[3,5]{1,0}, f32[3,8]{1,0}, c64[2,3,4]{2,1,0}) tuple(%r, %i, %f)\n"
                   "}\n\n");
  assert_prints_as("HloModule m\nENTRY e {\n  a = f32[3,8] parameter(0)\n"
                   "  ROOT r = fft(a), fft_type=RFFT, fft_length={8}\n}\n",
                   "HloModule m\n\nENTRY %e (a: f32[3,8]) -> c64[3,5] {\n"
                   "  %a = f32[3,8]{1,0} parameter(0)\n"
                   "  ROOT %r = c64[3,5]{1,0} fft(%a), fft_type=RFFT, fft_length={8}\n}\n\n");
  assert_refused(MODULE_HEAD "  a = c64[3,5] parameter(0)\n"
                             "  ROOT r = f32[3,10] fft(a), fft_type=IRFFT, fft_length={10}\n}\n",
                 "verifier: computation 'e', instruction %r = f32[3,10]{1,0} fft(%a): fft: IRFFT "
                 "of fft_length 10 needs dimension 1 of c64[3,5]{1,0} to be 6");
  assert_refused(MODULE_HEAD "  a = f32[8] parameter(0)\n"
                             "  ROOT r = c64[8] fft(a), fft_type=FFT, fft_length={8}\n}\n",
                 "verifier: computation 'e', instruction %r = c64[8]{0} fft(%a): fft: FFT needs "
                 "a complex operand, not f32[8]{0}");
  assert_refused(MODULE_HEAD "  a = c64[2,2,2,2] parameter(0)\n"
                             "  ROOT r = c64[2,2,2,2] fft(a), fft_length={2,2,2,2}\n}\n",
                 "verifier: computation 'e', instruction %r = c64[2,2,2,2]{3,2,1,0} fft(%a): "
                 "fft: fft_length has 4 lengths; FFT supports 1 to 3");
  assert_error(MODULE_HEAD "  a = c64[8] parameter(0)\n"
                           "  ROOT r = c64[8] fft(a), fft_type=DCT, fft_length={8}\n}\n",
               "t.hlo:4:36: unknown fft_type 'DCT'");
  /* rng-bit-generator is read and checked: a key and a counter of XLA's
   * sizes, bits of a type the evaluator generates. */
  assert_canonical("HloModule m\n\nENTRY %e (s: u64[3]) -> (u64[3], s64[2,3]) {\n"
                   "  %s = u64[3]{0} parameter(0)\n"
                   "  ROOT %r = (u64[3]{0}, s64[2,3]{1,0}) rng-bit-generator(%s), "
                   "algorithm=rng_default\n}\n\n");
  /* XLA takes a state of any length from 2 on (its expander tests give
   * u64[4] to ThreeFry and u64[6] to Philox). */
  assert_canonical("HloModule m\n\nENTRY %e (s: u64[6]) -> (u64[6], u8[]) {\n"
                   "  %s = u64[6]{0} parameter(0)\n"
                   "  ROOT %r = (u64[6]{0}, u8[]) rng-bit-generator(%s), "
                   "algorithm=rng_three_fry\n}\n\n");
  assert_refused(MODULE_HEAD "  s = u64[1] parameter(0)\n"
                             "  ROOT r = (u64[1], u32[4]) rng-bit-generator(s), "
                             "algorithm=rng_three_fry\n}\n",
                 "verifier: computation 'e', instruction %r = (u64[1]{0}, u32[4]{0}) "
                 "rng-bit-generator(%s): rng-bit-generator: state "
                 "u64[1]{0} is not u64[n], n >= 2 (a key and a counter)");
  assert_refused(MODULE_HEAD "  s = u32[4] parameter(0)\n"
                             "  ROOT r = (u32[4], u32[4]) rng-bit-generator(s), "
                             "algorithm=rng_philox\n}\n",
                 "verifier: computation 'e', instruction %r = (u32[4]{0}, u32[4]{0}) "
                 "rng-bit-generator(%s): rng-bit-generator: state "
                 "u32[4]{0} is not u64[n], n >= 2 (a key and a counter)");
  assert_refused(MODULE_HEAD "  s = u64[2] parameter(0)\n"
                             "  ROOT r = (u64[2], f32[4]) rng-bit-generator(s), "
                             "algorithm=rng_philox\n}\n",
                 "verifier: computation 'e', instruction %r = (u64[2]{0}, f32[4]{0}) "
                 "rng-bit-generator(%s): rng-bit-generator: bits of type "
                 "f32[4]{0} are not generated yet (8-, 16-, 32- and 64-bit integers are)");
  assert_error(MODULE_HEAD "  s = u64[2] parameter(0)\n"
                           "  ROOT r = (u64[2], u32[4]) rng-bit-generator(s), algorithm=rng_x\n}\n",
               "t.hlo:4:61: unknown algorithm 'rng_x'");
  /* cholesky and triangular-solve are read and checked. */
  assert_canonical("HloModule m\n\nENTRY %e (a: f32[3,3], b: f32[3,2]) -> f32[3,2] {\n"
                   "  %a = f32[3,3]{1,0} parameter(0)\n  %b = f32[3,2]{1,0} parameter(1)\n"
                   "  %c = f32[3,3]{1,0} cholesky(%a), lower=true\n"
                   "  ROOT %t = f32[3,2]{1,0} triangular-solve(%c, %b), left_side=true, "
                   "lower=true, unit_diagonal=true, transpose_a=ADJOINT\n}\n\n");
  assert_refused(MODULE_HEAD "  a = f32[3,3] parameter(0)\n  b = f32[2,3] parameter(1)\n"
                             "  ROOT t = f32[2,3] triangular-solve(a, b), left_side=true, "
                             "transpose_a=NO_TRANSPOSE\n}\n",
                 "verifier: computation 'e', instruction %t = f32[2,3]{1,0} "
                 "triangular-solve(%a, %b): triangular-solve: b f32[2,3]{1,0} does not fit a "
                 "f32[3,3]{1,0} on the left");
  assert_refused(MODULE_HEAD "  a = f32[3,3] parameter(0)\n"
                             "  ROOT t = f32[3,3] triangular-solve(a, a), left_side=true\n}\n",
                 "verifier: computation 'e', instruction %t = f32[3,3]{1,0} "
                 "triangular-solve(%a, %a): triangular-solve: needs transpose_a= "
                 "(NO_TRANSPOSE, TRANSPOSE or ADJOINT)");
  assert_refused(MODULE_HEAD "  a = s32[3,3] parameter(0)\n  ROOT c = s32[3,3] cholesky(a)\n}\n",
                 "verifier: computation 'e', instruction %c = s32[3,3]{1,0} cholesky(%a): "
                 "cholesky: operand s32[3,3]{1,0} is not of a real floating-point type");
}
END_TEST

/* Dynamic dimensions, buffer shapes and elided constants parse and print
 * back; the verifier refuses unbounded dynamic dimensions (?), ops that
 * compute on buffers and Pin, Unpin and CreateBuffer of the wrong shapes,
 * and
 * checks get-dimension-size, set-dimension-size and dynamic-reshape (one
 * s32[] size per result dim, as many elements in the bounds). */
START_TEST(dynamic_buffer_and_elided) {
  const char *text = "HloModule m\n\n"
                     "ENTRY %e (p: f32[<=4,?], q: b(s32[2,8])) -> (f32[<=4,?], b(s32[2,8])) {\n"
                     "  %p = f32[<=4,?]{0,1} parameter(0)\n"
                     "  %q = b(s32[2,8]{0,1}) parameter(1)\n"
                     "  ROOT %t = (f32[<=4,?]{0,1}, b(s32[2,8]{0,1})) tuple(%p, %q)\n"
                     "}\n\n";
  assert_canonical(text);
  assert_refused(text, "verifier: computation 'e', instruction %p = f32[<=4,?]{0,1} "
                       "parameter(): its shape has an unbounded dynamic dimension (?): hloc "
                       "runs static shapes and bounded dynamic ones (<=N)");
  assert_canonical("HloModule m\n\nENTRY %e (p: f32[5,3], n: s32[]) -> (f32[<=5,3], s32[]) {\n"
                   "  %p = f32[5,3]{1,0} parameter(0)\n  %n = s32[] parameter(1)\n"
                   "  %d = f32[<=5,3]{1,0} set-dimension-size(%p, %n), dimensions={0}\n"
                   "  %g = s32[] get-dimension-size(%d), dimensions={0}\n"
                   "  ROOT %t = (f32[<=5,3]{1,0}, s32[]) tuple(%d, %g)\n}\n\n");
  assert_refused(MODULE_HEAD "  p = f32[5] parameter(0)\n  n = s64[] parameter(1)\n"
                             "  ROOT d = f32[<=5] set-dimension-size(p, n), dimensions={0}\n}\n",
                 "verifier: computation 'e', instruction %d = f32[<=5]{0} set-dimension-size(%p, "
                 "%n): set-dimension-size: size s64[] is not an s32[]");
  assert_refused(MODULE_HEAD "  p = f32[5] parameter(0)\n"
                             "  ROOT g = s32[] get-dimension-size(p), dimensions={1}\n}\n",
                 "verifier: computation 'e', instruction %g = s32[] get-dimension-size(%p): "
                 "get-dimension-size: dimensions {1}: dimension 1 is out of range for rank 1");
  assert_canonical("HloModule m\n\nENTRY %e (p: f32[<=6,4], n: s32[]) -> f32[3,<=8] {\n"
                   "  %p = f32[<=6,4]{1,0} parameter(0)\n  %n = s32[] parameter(1)\n"
                   "  %three = s32[] constant(3)\n"
                   "  ROOT %r = f32[3,<=8]{1,0} dynamic-reshape(%p, %three, %n)\n}\n\n");
  assert_refused(MODULE_HEAD "  p = f32[6] parameter(0)\n  n = s32[] parameter(1)\n"
                             "  ROOT r = f32[2,<=3] dynamic-reshape(p, n)\n}\n",
                 "verifier: computation 'e', instruction %r = f32[2,<=3]{1,0} "
                 "dynamic-reshape(%p, %n): dynamic-reshape: takes the operand and one size per "
                 "result dimension (2), not 2 operands");
  assert_refused(MODULE_HEAD "  p = f32[6] parameter(0)\n  n = s32[] parameter(1)\n"
                             "  m = u32[] parameter(2)\n"
                             "  ROOT r = f32[2,<=3] dynamic-reshape(p, n, m)\n}\n",
                 "verifier: computation 'e', instruction %r = f32[2,<=3]{1,0} "
                 "dynamic-reshape(%p, %n, %m): dynamic-reshape: size 1 u32[] is not an s32[]");
  assert_refused(MODULE_HEAD "  p = f32[6] parameter(0)\n  n = s32[] parameter(1)\n"
                             "  ROOT r = f32[2,<=4] dynamic-reshape(p, n, n)\n}\n",
                 "verifier: computation 'e', instruction %r = f32[2,<=4]{1,0} "
                 "dynamic-reshape(%p, %n, %n): dynamic-reshape: operand f32[6]{0} has 6 "
                 "elements but the bounds of the result f32[2,<=4]{1,0} hold 8");
  assert_canonical("HloModule m\n\nENTRY %e () -> f32[4096,2] {\n"
                   "  ROOT %c = f32[4096,2]{1,0} constant({...})\n}\n\n");
  assert_refused(MODULE_HEAD "  ROOT c = f32[4096] constant({ ... })\n}\n",
                 "verifier: computation 'e', instruction %c = f32[4096]{0} constant(): the "
                 "constant's values were not printed ({...}); dump the HLO with large "
                 "constants printed");
  assert_refused(MODULE_HEAD "  p = b(f32[16]) parameter(0)\n"
                             "  ROOT n = b(f32[16]) negate(p)\n}\n",
                 "verifier: computation 'e', instruction %n = b(f32[16]{0}) negate(%p): negate "
                 "computes on a buffer (b(...)): only custom-calls (Pin, Unpin, …), "
                 "parameters, tuples and control flow carry buffers");
  assert_refused(MODULE_HEAD "  p = f32[16] parameter(0)\n"
                             "  ROOT b = b(f32[8]) custom-call(p), custom_call_target=\"Pin\"\n}\n",
                 "verifier: computation 'e', instruction %b = b(f32[8]{0}) custom-call(%p): Pin "
                 "takes an array and makes a buffer of it (T -> b(T))");
  assert_refused(MODULE_HEAD "  p = f32[16] parameter(0)\n"
                             "  ROOT u = f32[16] custom-call(p), custom_call_target=\"Unpin\"\n}\n",
                 "verifier: computation 'e', instruction %u = f32[16]{0} custom-call(%p): Unpin "
                 "takes a buffer and makes its array (b(T) -> T)");
  assert_refused(MODULE_HEAD "  p = f32[16] parameter(0)\n"
                             "  ROOT c = b(f32[16]) custom-call(p), "
                             "custom_call_target=\"CreateBuffer\"\n}\n",
                 "verifier: computation 'e', instruction %c = b(f32[16]{0}) custom-call(%p): "
                 "CreateBuffer takes no operands and makes a buffer (() -> b(T))");
}
END_TEST

/* XLA's parser reads one value for an array constant as its first
 * element, the others zero (not a splat); hloc prints the whole array. */
START_TEST(bare_scalar_array_constant) {
  assert_prints_as(MODULE_HEAD "  ROOT c = f32[2,2] constant(1.5)\n}\n",
                   "HloModule m\n\nENTRY %e () -> f32[2,2] {\n"
                   "  ROOT %c = f32[2,2]{1,0} constant({ { 1.5, 0 }, { 0, 0 } })\n}\n\n");
  assert_prints_as(MODULE_HEAD "  ROOT c = s32[3] constant(-2)\n}\n",
                   "HloModule m\n\nENTRY %e () -> s32[3] {\n"
                   "  ROOT %c = s32[3]{0} constant({-2, 0, 0})\n}\n\n");
  assert_error(MODULE_HEAD "  ROOT c = u8[3] constant(300)\n}\n",
               "t.hlo:3:27: value 300 is out of range for u8");
  /* The zeros of all of them together are bounded. */
  assert_error(MODULE_HEAD "  a = u8[4096,4096] constant(1)\n  ROOT b = u8[2] constant(1)\n}\n",
               "t.hlo:4:27: expected '{' starting the literal of a constant this large");
}
END_TEST

int main(void) {
  Suite *s = suite_create("hlo_text");
  TCase *t = tcase_create("round_trip");
  tcase_add_test(t, elementwise_ops);
  tcase_add_test(t, data_movement_ops);
  tcase_add_test(t, reductions_gather_scatter_sort);
  tcase_add_test(t, contractions_and_batch_norm);
  tcase_add_test(t, control_flow_ops);
  tcase_add_test(t, single_device_ops);
  tcase_add_test(t, refused_ops);
  tcase_add_test(t, async_sugar);
  tcase_add_test(t, inline_computations);
  tcase_add_test(t, dynamic_buffer_and_elided);
  tcase_add_test(t, bare_scalar_array_constant);
  tcase_add_test(t, trig_map_reduce_precision_ops);
  tcase_add_test(t, constants_of_every_type);
  tcase_add_test(t, constants_of_narrow_and_complex_types);
  tcase_add_test(t, constant_values);
  tcase_add_test(t, float_printing_round_trips_bits);
  tcase_add_test(t, attribute_fields);
  tcase_add_test(t, called_computation_slots);
  tcase_add_test(t, xla_spellings);
  tcase_add_test(t, shapes_left_out);
  tcase_add_test(t, pad_shape_left_out);
  tcase_add_test(t, module_header_optional);
  tcase_add_test(t, inline_operands);
  tcase_add_test(t, execution_thread);
  tcase_add_test(t, layout_after_blanks_and_strings_over_lines);
  tcase_add_test(t, literal_spellings);
  tcase_add_test(t, metadata_and_stack_frames);
  tcase_add_test(t, raw_attributes_kept_verbatim);
  tcase_add_test(t, names_made_unique);
  tcase_add_test(t, print_one_instruction);
  tcase_add_test(t, built_module_round_trips);
  tcase_add_test(t, corpus_round_trips);
  tcase_add_test(t, missing_file);
  suite_add_tcase(s, t);
  TCase *errors = tcase_create("errors");
  tcase_add_test(errors, error_unknown_opcode);
  tcase_add_test(errors, error_truncated);
  tcase_add_test(errors, error_bad_shapes);
  tcase_add_test(errors, error_literals);
  tcase_add_test(errors, error_names);
  tcase_add_test(errors, error_shapes_left_out);
  tcase_add_test(errors, error_module_header);
  tcase_add_test(errors, error_inline_operands);
  tcase_add_test(errors, error_execution_thread);
  tcase_add_test(errors, error_garbage_after_module);
  tcase_add_test(errors, error_attributes);
  tcase_add_test(errors, error_trig_map_reduce_precision);
  tcase_add_test(errors, error_nul_bytes_and_no_file_name);
  suite_add_tcase(s, errors);
  TCase *fuzz = tcase_create("fuzz_regressions");
  tcase_add_test(fuzz, fuzz_digit_name_in_signature);
  tcase_add_test(fuzz, digit_module_name);
  suite_add_tcase(s, fuzz);
  return ck_run_suite(s);
}
