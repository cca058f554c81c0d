
6
xPlaceholder*
dtype0*
shape:
(
SizeSizex*
T0*
out_type0
#
IdentityIdentitySize*
T0"ª