
6
xPlaceholder*
dtype0*
shape:

ReluRelux*
T0
#
IdentityIdentityRelu*
T0"ª