
2
xPlaceholder*
dtype0*
shape
:
2
yPlaceholder*
dtype0*
shape
:
#
xdivy/XdivyXdivyxy*
T0
*
IdentityIdentityxdivy/Xdivy*
T0"ª