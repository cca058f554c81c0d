
.
xPlaceholder*
dtype0*
shape:
H
RandomStandardNormal/shapeConst*
dtype0*
valueB:
z
RandomStandardNormalRandomStandardNormalRandomStandardNormal/shape*
T0*
dtype0*
seed2*
seed±ÿå)
,
mulMulxRandomStandardNormal*
T0
"
IdentityIdentitymul*
T0"ª