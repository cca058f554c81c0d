
6
xPlaceholder*
dtype0*
shape:
2
dPlaceholder*
dtype0*
shape
:
-
MatrixSetDiagMatrixSetDiagxd*
T0
,
IdentityIdentityMatrixSetDiag*
T0"ª