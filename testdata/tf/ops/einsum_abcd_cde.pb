
:
aPlaceholder*
dtype0*
shape:
6
bPlaceholder*
dtype0*
shape:
E
EinsumEinsumab*
N*
T0*
equationabcd,cde->abe
%
IdentityIdentityEinsum*
T0"ª