
2
aPlaceholder*
dtype0*
shape
:
6
bPlaceholder*
dtype0*
shape:
8
ShapeNShapeNab*
N*
T0*
out_type0	
%
IdentityIdentityShapeN*
T0	
)

Identity_1IdentityShapeN:1*
T0	"ª