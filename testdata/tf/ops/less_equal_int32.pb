
2
xPlaceholder*
dtype0*
shape
:
2
yPlaceholder*
dtype0*
shape
:
%
	LessEqual	LessEqualxy*
T0
(
IdentityIdentity	LessEqual*
T0
"ª