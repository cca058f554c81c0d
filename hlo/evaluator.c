/* evaluator.c — being written. */
#include "hlo.h"
