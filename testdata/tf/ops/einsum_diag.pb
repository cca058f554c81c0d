
2
aPlaceholder*
dtype0*
shape
:
:
EinsumEinsuma*
N*
T0*
equationii->i
%
IdentityIdentityEinsum*
T0"ª