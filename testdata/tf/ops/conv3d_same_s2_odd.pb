
>
xPlaceholder*
dtype0*
shape:
>
wPlaceholder*
dtype0*
shape:
x
Conv3DConv3Dxw*
T0*
data_formatNDHWC*
	dilations	
*
paddingSAME*
strides	

%
IdentityIdentityConv3D*
T0"ª