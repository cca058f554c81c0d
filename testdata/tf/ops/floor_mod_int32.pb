
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
#
FloorModFloorModxy*
T0
'
IdentityIdentityFloorMod*
T0"ª