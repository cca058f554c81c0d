
:
aPlaceholder*
dtype0*
shape:
:
bPlaceholder*
dtype0*
shape:
G
EinsumEinsumab*
N*
T0*
equationbhqk,bhkd->bhqd
%
IdentityIdentityEinsum*
T0"ª