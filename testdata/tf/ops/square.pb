
6
xPlaceholder*
dtype0*
shape:

SquareSquarex*
T0
%
IdentityIdentitySquare*
T0"ª