
2
xPlaceholder*
dtype0*
shape
:
2
yPlaceholder*
dtype0*
shape
:

DivDivxy*
T0
"
IdentityIdentityDiv*
T0"ª