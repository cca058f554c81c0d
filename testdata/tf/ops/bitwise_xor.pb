
2
xPlaceholder*
dtype0*
shape
:
2
yPlaceholder*
dtype0*
shape
:
'

BitwiseXor
BitwiseXorxy*
T0
)
IdentityIdentity
BitwiseXor*
T0"ª