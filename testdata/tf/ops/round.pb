
6
xPlaceholder*
dtype0*
shape:

RoundRoundx*
T0
$
IdentityIdentityRound*
T0"ª