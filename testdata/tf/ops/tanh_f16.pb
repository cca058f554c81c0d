
6
xPlaceholder*
dtype0*
shape:

TanhTanhx*
T0
#
IdentityIdentityTanh*
T0"ª