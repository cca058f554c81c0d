
6
xPlaceholder*
dtype0*
shape:

SqrtSqrtx*
T0
#
IdentityIdentitySqrt*
T0"ª