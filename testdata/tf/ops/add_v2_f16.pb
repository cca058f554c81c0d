
2
xPlaceholder*
dtype0*
shape
:
2
yPlaceholder*
dtype0*
shape
:

addAddV2xy*
T0
"
IdentityIdentityadd*
T0"ª