
6
aPlaceholder*
dtype0*
shape:
6
bPlaceholder*
dtype0*
shape:
D
EinsumEinsumab*
N*
T0*
equationbij,bjk->bik
%
IdentityIdentityEinsum*
T0"ª