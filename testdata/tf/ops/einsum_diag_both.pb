
6
aPlaceholder*
dtype0*
shape:
2
bPlaceholder*
dtype0*
shape
:
B
EinsumEinsumab*
N*
T0*
equation
iji,jj->ij
%
IdentityIdentityEinsum*
T0"ª