
2
aPlaceholder*
dtype0*
shape
:
2
bPlaceholder*
dtype0*
shape
:
2
cPlaceholder*
dtype0*
shape
:
4
stackPackabc*
N*
T0*

axis
$
IdentityIdentitystack*
T0"ª