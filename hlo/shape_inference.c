/* shape_inference.c — being written. */
#include "hlo.h"
