
2
dPlaceholder*
dtype0*
shape
:
$

MatrixDiag
MatrixDiagd*
T0
)
IdentityIdentity
MatrixDiag*
T0"ª