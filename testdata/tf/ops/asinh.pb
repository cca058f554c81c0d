
2
xPlaceholder*
dtype0*
shape
:

AsinhAsinhx*
T0
$
IdentityIdentityAsinh*
T0"ª