
1
seedPlaceholder*
dtype0	*
shape:
O
StatelessRandomGetKeyCounterStatelessRandomGetKeyCounterseed*
Tseed0	
;
IdentityIdentityStatelessRandomGetKeyCounter*
T0
?

Identity_1IdentityStatelessRandomGetKeyCounter:1*
T0"ª