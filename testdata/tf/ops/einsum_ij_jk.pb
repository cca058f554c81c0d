
2
aPlaceholder*
dtype0*
shape
:
2
bPlaceholder*
dtype0*
shape
:
A
EinsumEinsumab*
N*
T0*
equation	ij,jk->ik
%
IdentityIdentityEinsum*
T0"ª