
2
xPlaceholder*
dtype0*
shape
:
2
yPlaceholder*
dtype0*
shape
:

mulMulxy*
T0
"
IdentityIdentitymul*
T0"ª