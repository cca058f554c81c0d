
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

BitwiseAnd
BitwiseAndxy*
T0
)
IdentityIdentity
BitwiseAnd*
T0"ª