/*
 * conv_pad.c — "conv-pad": a convolution's zero padding becomes a pad of
 * its input, where the backend asks for it (PassPolicy.
 * explicit_conv_padding): the contraction then reads every tap inside its
 * input, with no border checks, and the pad is one copy of the input.
 * On the CPU, where a tile of output pixels that touches the border runs a
 * checked, slower variant, small images are nearly all border: ResNet-50's
 * 3x3 convolutions at 14x14 and 7x7.
 *
 * Only where it is exact: the evaluator (and the border variant) skip a
 * tap in padding, while a padded input adds 0 × w, which is +0 or -0 for a
 * finite w and changes no sum (a sum starts at +0); so the weights must be
 * a constant with every element finite.  Input dilation (transposed
 * convolutions) and negative padding (a crop) are left alone, and so are
 * grouped (depthwise) convolutions: they read each input element a few
 * times only, and the copy costs more than the checks (MobileNetV2-224
 * 5.8 -> 6.8 ms with them padded too).  Nor where the backend's kernel
 * takes the padding as cheaply (PassPolicy.conv_keeps_padding: the CPU's
 * Winograd kernels, whose input transform selects zeros in padding; the
 * copy cost them 7% at 56x56x64).  algsimp folds such a pad back into the convolution, so this
 * runs after its fixed point, like dot-canonicalize.
 *
 * requires: a verified module.
 * keeps:    values, bit for bit (see above).
 * breaks:   nothing; algsimp would undo it.
 */
#include <string.h>

#include "internal.h"

static HloInstr *rewrite(HloInstr *in, const void *policy) {
  const PassPolicy *p = policy;
  if (in->op != HLO_OP_CONVOLUTION || in->feature_group_count != 1 ||
      in->batch_group_count != 1 || !px_is_finite_constant(in->operands[1]))
    return NULL;
  if (p->conv_keeps_padding && p->conv_keeps_padding(p, in)) return NULL;
  const HloConvDims *d = &in->conv;
  HloInstr *x = in->operands[0];
  HloPadDim pad[HLO_MAX_RANK];
  memset(pad, 0, sizeof pad);
  HloWindowDim window[HLO_MAX_RANK];
  memcpy(window, in->window, sizeof(HloWindowDim) * (size_t)d->nspatial);
  bool any = false;
  for (int s = 0; s < d->nspatial; s++) {
    HloWindowDim *w = &window[s];
    if (w->lhs_dilate != 1 || w->pad_lo < 0 || w->pad_hi < 0) return NULL;
    any |= w->pad_lo || w->pad_hi;
    pad[d->in_spatial[s]] = (HloPadDim){w->pad_lo, w->pad_hi, 0};
    w->pad_lo = w->pad_hi = 0;
  }
  if (!any) return NULL;
  HloComputation *c = in->parent;
  HloError *e = NULL;
  HloInstr *zero = px_built(hlo_build_constant_scalar(c, x->shape.type, 0.0), NULL, in);
  HloInstr *padded = hlo_build_pad(c, x, zero, pad, &e);
  if (!padded) {
    /* The padded input would be past a buffer's limit (a huge input or
     * padding whose window, strides or dilation still give a result that
     * fits): the convolution keeps its padding. */
    hlo_error_free(e);
    px_remove_if_dead(zero);
    return NULL;
  }
  hlo_instr_move_before(padded, in);
  padded->metadata = in->metadata;
  HloInstr *r = px_built(hlo_build_convolution(c, padded, in->operands[1], window, d,
                                               in->feature_group_count, in->batch_group_count,
                                               in->shape.type, &e),
                         e, in);
  r->metadata = in->metadata;
  return r;
}

bool pass_conv_pad(HloModule *m, const PassPolicy *p) {
  if (!p || !p->explicit_conv_padding) return false;
  return px_rewrite_each_with(m, false, rewrite, p);
}
