
6
xPlaceholder*
dtype0*
shape:

CosCosx*
T0
"
IdentityIdentityCos*
T0"ª