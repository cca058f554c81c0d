
2
xPlaceholder*
dtype0*
shape
:
2
yPlaceholder*
dtype0*
shape
:
*
multiply_no_nanMulNoNanxy*
T0
.
IdentityIdentitymultiply_no_nan*
T0"ª