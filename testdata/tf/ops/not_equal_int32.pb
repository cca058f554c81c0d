
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
C
NotEqualNotEqualxy*
T0*
incompatible_shape_error(
'
IdentityIdentityNotEqual*
T0
"ª