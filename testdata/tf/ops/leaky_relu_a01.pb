
6
xPlaceholder*
dtype0*
shape:
2
	LeakyRelu	LeakyRelux*
T0*
alpha%млл=
(
IdentityIdentity	LeakyRelu*
T0"╙