
6
xPlaceholder*
dtype0*
shape:
4
unstackUnpackx*
T0*

axis*	
num
&
IdentityIdentityunstack*
T0
*

Identity_1Identity	unstack:1*
T0
*

Identity_2Identity	unstack:2*
T0"ª