
2
xPlaceholder*
dtype0*
shape
:

AtanhAtanhx*
T0
$
IdentityIdentityAtanh*
T0"ª