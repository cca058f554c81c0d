
2
cPlaceholder*
dtype0
*
shape
:
2
tPlaceholder*
dtype0*
shape
:
2
ePlaceholder*
dtype0*
shape
:
"
SelectSelectcte*
T0
%
IdentityIdentitySelect*
T0"ª