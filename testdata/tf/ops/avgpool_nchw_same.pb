
:
xPlaceholder*
dtype0*
shape:
p
AvgPoolAvgPoolx*
T0*
data_formatNCHW*
ksize
*
paddingSAME*
strides

&
IdentityIdentityAvgPool*
T0"ª