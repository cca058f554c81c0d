
2
xPlaceholder*
dtype0*
shape
:

DiagDiagx*
T0
#
IdentityIdentityDiag*
T0"ª