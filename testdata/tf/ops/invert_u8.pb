
6
xPlaceholder*
dtype0*
shape:

InvertInvertx*
T0
%
IdentityIdentityInvert*
T0"ª