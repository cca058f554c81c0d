
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
)
TruncateModTruncateModxy*
T0
*
IdentityIdentityTruncateMod*
T0"ª