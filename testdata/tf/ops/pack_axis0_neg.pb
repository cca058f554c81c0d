
.
aPlaceholder*
dtype0*
shape:
.
bPlaceholder*
dtype0*
shape:
:
stackPackab*
N*
T0*
axisÿÿÿÿÿÿÿÿÿ
$
IdentityIdentitystack*
T0"ª