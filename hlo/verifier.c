/* verifier.c — being written. */
#include "hlo.h"
