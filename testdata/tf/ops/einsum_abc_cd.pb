
6
aPlaceholder*
dtype0*
shape:
2
bPlaceholder*
dtype0*
shape
:
C
EinsumEinsumab*
N*
T0*
equationabc,cd->abd
%
IdentityIdentityEinsum*
T0"ª