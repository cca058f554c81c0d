/* parser.c — being written. */
#include "hlo.h"
