
2
cPlaceholder*
dtype0
*
shape
:
2
tPlaceholder*
dtype0*
shape
:
.
ePlaceholder*
dtype0*
shape:
&
SelectV2SelectV2cte*
T0
'
IdentityIdentitySelectV2*
T0"ª