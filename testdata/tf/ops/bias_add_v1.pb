
6
xPlaceholder*
dtype0*
shape:
.
bPlaceholder*
dtype0*
shape:
%
	BiasAddV1	BiasAddV1xb*
T0
(
IdentityIdentity	BiasAddV1*
T0"ª