
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
5
SquaredDifferenceSquaredDifferencexy*
T0
0
IdentityIdentitySquaredDifference*
T0"ª