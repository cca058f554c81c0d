
1
seedPlaceholder*
dtype0	*
shape:
V
StatelessRandomGetAlgStatelessRandomGetAlg*&
 _has_manual_control_dependencies(
L
NoOpNoOp^StatelessRandomGetAlg*&
 _has_manual_control_dependencies(
O
StatelessRandomGetKeyCounterStatelessRandomGetKeyCounterseed*
Tseed0	
K
StatelessRandomNormalV2/shapeConst*
dtype0*
valueB:
Á
StatelessRandomNormalV2StatelessRandomNormalV2StatelessRandomNormalV2/shapeStatelessRandomGetKeyCounterStatelessRandomGetKeyCounter:1StatelessRandomGetAlg*
Tshape0*
dtype0
=
IdentityIdentityStatelessRandomNormalV2^NoOp*
T0"ª