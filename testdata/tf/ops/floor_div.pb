
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
#
floordivFloorDivxy*
T0
'
IdentityIdentityfloordiv*
T0"ª