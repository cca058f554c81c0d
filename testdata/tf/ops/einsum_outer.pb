
.
aPlaceholder*
dtype0*
shape:
.
bPlaceholder*
dtype0*
shape:
?
EinsumEinsumab*
N*
T0*
equation	i,j->ij
%
IdentityIdentityEinsum*
T0"ª