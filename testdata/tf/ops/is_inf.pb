
6
xPlaceholder*
dtype0*
shape:

IsInfIsInfx*
T0
$
IdentityIdentityIsInf*
T0
"ª