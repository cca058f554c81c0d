
2
xPlaceholder*
dtype0*
shape
:
2
yPlaceholder*
dtype0*
shape
:

subSubxy*
T0
"
IdentityIdentitysub*
T0"ª