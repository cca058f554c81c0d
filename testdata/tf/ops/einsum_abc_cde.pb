
6
aPlaceholder*
dtype0*
shape:
6
bPlaceholder*
dtype0*
shape:
E
EinsumEinsumab*
N*
T0*
equationabc,cde->abde
%
IdentityIdentityEinsum*
T0"ª