/* builder.c — being written. */
#include "hlo.h"
