
2
aPlaceholder*
dtype0*
shape
:
.
bPlaceholder*
dtype0*
shape:
)
	IdentityN	IdentityNab*
T
2
(
IdentityIdentity	IdentityN*
T0
,

Identity_1IdentityIdentityN:1*
T0"ª