
1
seedPlaceholder*
dtype0	*
shape:
I
StatelessRandomNormal/shapeConst*
dtype0*
valueB:	
t
StatelessRandomNormalStatelessRandomNormalStatelessRandomNormal/shapeseed*
Tseed0	*
T0*
dtype0
4
IdentityIdentityStatelessRandomNormal*
T0"ª