
2
aPlaceholder*
dtype0*
shape
:
9
EinsumEinsuma*
N*
T0*
equationii->
%
IdentityIdentityEinsum*
T0"ª