
.
xPlaceholder*
dtype0*
shape:
2
yPlaceholder*
dtype0*
shape
:
8
ShapeShapey*
T0*
out_type0:íÏ
3
ReshapeReshapexShape*
Tshape0*
T0
&
IdentityIdentityReshape*
T0"ª