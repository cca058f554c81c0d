
.
xPlaceholder*
dtype0*
shape:
C
TruncatedNormal/shapeConst*
dtype0*
valueB:
h
TruncatedNormalTruncatedNormalTruncatedNormal/shape*
T0*
dtype0*
seed2	*

seed
'
mulMulxTruncatedNormal*
T0
"
IdentityIdentitymul*
T0"ª