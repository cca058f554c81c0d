
2
yPlaceholder*
dtype0*
shape
:
2
xPlaceholder*
dtype0*
shape
:

Atan2Atan2yx*
T0
$
IdentityIdentityAtan2*
T0"ª